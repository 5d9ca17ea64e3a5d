//! Log in and out.

use super::{
    common::{admin_page, see_other, FormData},
    session::{self, AdminForm},
};
use crate::{
    app::{admins as auth, AppError},
    federation::Federation,
    state::AppState,
    web::{
        client::ClientInfo,
        html::{render, Page, PageError, Section, SESSION_COOKIE},
        state_of,
    },
};
use actix_web::{
    cookie::{Cookie, SameSite},
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use askama::Template;

const LOGIN_CSRF_COOKIE: &str = "ronron_login_csrf";

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage<'a> {
    page: Page<'a>,
    error: Option<String>,
    next: String,
    csrf: String,
    username: String,
}

fn safe_next(next: Option<String>) -> String {
    // Only our own admin pages: never an open redirect, and nothing a `Location` header cannot
    // carry (a CR or LF would be a refused header, so a 500, or a split one).
    next.filter(|n| n.starts_with("/admin") && !n.starts_with("//") && !n.chars().any(char::is_control))
        .unwrap_or_else(|| "/admin".into())
}

async fn login_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    next: String,
    username: String,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("login_title")).await?;
    // Login forms get their CSRF token from a cookie they echo (there is no session yet).
    let csrf = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_else(auth::random_token);
    let mut response = render(req, status, &LoginPage { page, error, next, csrf: csrf.clone(), username })?;
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, csrf)
        .path("/admin")
        .http_only(true)
        .secure(ClientInfo::from_request(req, &state.config).https)
        .same_site(SameSite::Strict)
        .finish();
    response.add_cookie(&cookie).map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(response)
}

pub async fn login_form(fed: web::Data<Federation>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let next = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned());
    login_page(state, &req, StatusCode::OK, None, safe_next(next), String::new()).await
}

pub async fn login(fed: web::Data<Federation>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let form = FormData::parse(&body);
    let next = safe_next(form.get("next"));
    let username = form.get("username").unwrap_or_default();
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if expected.is_empty() || !auth::same_token(&form.get("csrf").unwrap_or_default(), &expected) {
        return Err(PageError::Csrf);
    }
    let t = state.texts.texts(crate::web::i18n::choose(&req, state.config.default_language()));
    let client = ClientInfo::from_request(&req, &state.config);
    let ip = client.ip.map(|ip| ip.to_string()).unwrap_or_default();
    if ClientInfo::forwarding_ignored(&req, &state.config) {
        tracing::warn!(peer = %ip, "X-Forwarded-For ignored: the peer is not in server.trusted_proxies");
    }
    match auth::login(state, &username, &form.text("password"), &ip).await {
        Ok(new) => {
            let mut response = see_other(next);
            response
                .add_cookie(&session::session_cookie(&client, new.cookie))
                .map_err(|e| PageError::Internal(e.to_string()))?;
            Ok(response)
        }
        Err(AppError::BadCredentials) => {
            login_page(state, &req, StatusCode::UNAUTHORIZED, Some(t.get("login_failed").into()), next, username).await
        }
        Err(AppError::Throttled { minutes }) => {
            let message = t.plural("login_throttled", minutes.unsigned_abs(), &[("minutes", &minutes.to_string())]);
            let mut response =
                login_page(state, &req, StatusCode::TOO_MANY_REQUESTS, Some(message), next, username).await?;
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(minutes * 60));
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(
    fed: web::Data<Federation>,
    req: HttpRequest,
    _csrf_checked: AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        auth::logout(state, cookie.value()).await.map_err(|e| PageError::Internal(e.to_string()))?;
    }
    let mut response = see_other(state.urls.base().to_string());
    let client = ClientInfo::from_request(&req, &state.config);
    response.add_cookie(&session::expired_session_cookie(&client)).map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(response)
}
