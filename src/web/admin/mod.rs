//! The web admin, behind a login: compose and manage bulletins, services, label, profile,
//! followers, peers, deliveries and API tokens. Every form posts back with the session's CSRF
//! token; every change goes through the same domain functions as the CLI.

pub mod bulletins;
pub mod manage;
pub mod session;

use super::{
    html::{page, render, Page, PageError, Section},
    state_of,
};
use crate::{
    app::admins::{self as auth, AuthError},
    db::models::{activities as queue, bulletins as bulletin_rows, followers, remote},
    federation::Federation,
    state::AppState,
};
use actix_web::{
    cookie::{Cookie, SameSite},
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use askama::Template;
use session::{Admin, AdminForm};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(crate::urls::routes::ADMIN)
            .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
            .route("", web::get().to(dashboard))
            .route("/login", web::get().to(login_form))
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/compose", web::get().to(bulletins::compose_form))
            .route("/compose", web::post().to(bulletins::compose))
            .route("/preview", web::post().to(bulletins::preview_fragment))
            .route("/bulletins", web::get().to(bulletins::list))
            .route("/bulletins/{id}", web::get().to(bulletins::manage))
            .route("/bulletins/{id}/{action}", web::post().to(bulletins::act))
            .route("/services", web::get().to(manage::services))
            .route("/services", web::post().to(manage::add_service))
            .route("/services/{slug}/{action}", web::post().to(manage::change_service))
            .route("/label", web::get().to(manage::label))
            .route("/label/{criterion}", web::post().to(manage::set_grade))
            .route("/profile", web::get().to(manage::profile))
            .route("/profile", web::post().to(manage::save_profile))
            .route("/followers", web::get().to(manage::followers))
            .route("/followers/{id}/{action}", web::post().to(manage::follower_action))
            .route("/peers", web::get().to(manage::peers))
            .route("/peers/{action}", web::post().to(manage::peer_action))
            .route("/deliveries", web::get().to(manage::deliveries))
            .route("/deliveries/retry", web::post().to(manage::retry_deliveries))
            .route("/tokens", web::get().to(manage::tokens))
            .route("/tokens", web::post().to(manage::create_token))
            .route("/tokens/{id}/revoke", web::post().to(manage::revoke_token)),
    );
}

/// Admin forms are short; a bulletin's body is at most 20,000 characters.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A submitted form: `application/x-www-form-urlencoded`, with repeated names kept (the
/// services a change is about).
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }
    /// The value, trimmed; None when absent or empty.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty())
    }
    /// The value as typed (a body keeps its line breaks), empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.replace("\r\n", "\n")).unwrap_or_default()
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// After a change, back to a page with a message (`?done=` names it; the page translates it).
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.into())).finish()
}

/// The translated message for a `?done=` after a redirect.
pub fn done_message(req: &HttpRequest, t: &super::i18n::Texts) -> Option<String> {
    let done = url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == "done")?.1.into_owned();
    let message = match done.as_str() {
        "published" => t.get("done_published"),
        "scheduled" => t.get("done_scheduled"),
        "edited" => t.get("done_edited"),
        "deleted" => t.get("done_deleted"),
        "follow_up" => t.get("done_follow_up"),
        "rescheduled" => t.get("done_rescheduled"),
        "cancelled" => t.get("done_cancelled"),
        "saved" => t.get("done_saved"),
        "removed" => t.get("done_removed"),
        "followed" => t.get("done_followed"),
        "unfollowed" => t.get("done_unfollowed"),
        "blocked" => t.get("done_blocked"),
        "unblocked" => t.get("done_unblocked"),
        "approved" => t.get("done_approved"),
        "retried" => t.get("done_retried"),
        "revoked" => t.get("done_revoked"),
        _ => return None,
    };
    Some(message.to_string())
}

/// An admin page's frame.
pub async fn admin_page<'a>(
    state: &'a AppState,
    req: &HttpRequest,
    title: fn(&super::i18n::Texts) -> &str,
) -> Result<Page<'a>, PageError> {
    let mut page = page(state, req, Section::Admin, String::new()).await?;
    page.title = title(page.t).to_string();
    Ok(page)
}

// ---------------------------------------------------------------- login

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
    // Only our own admin pages: never an open redirect.
    next.filter(|n| n.starts_with("/admin") && !n.starts_with("//")).unwrap_or_else(|| "/admin".into())
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
        .secure(state.config.scheme() == "https")
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
    let t = state.texts.texts(super::i18n::choose(&req, state.config.default_language()));
    let ip = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    match auth::login(state, &username, &form.text("password"), &ip).await {
        Ok(new) => {
            let mut response = see_other(next);
            response
                .add_cookie(&session::session_cookie(state, new.cookie))
                .map_err(|e| PageError::Internal(e.to_string()))?;
            Ok(response)
        }
        Err(AuthError::BadCredentials) => {
            login_page(state, &req, StatusCode::UNAUTHORIZED, Some(t.get("login_failed").into()), next, username).await
        }
        Err(AuthError::Throttled { minutes }) => {
            let message = t.plural("login_throttled", minutes.unsigned_abs(), &[("minutes", &minutes.to_string())]);
            let mut response =
                login_page(state, &req, StatusCode::TOO_MANY_REQUESTS, Some(message), next, username).await?;
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(minutes * 60));
            Ok(response)
        }
        Err(e) => Err(PageError::Internal(e.to_string())),
    }
}

pub async fn logout(
    fed: web::Data<Federation>,
    req: HttpRequest,
    _csrf_checked: AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    if let Some(cookie) = req.cookie(session::SESSION_COOKIE) {
        auth::logout(state, cookie.value()).await.map_err(|e| PageError::Internal(e.to_string()))?;
    }
    let mut response = see_other(state.urls.base().to_string());
    response.add_cookie(&session::expired_session_cookie(state)).map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(response)
}

// ---------------------------------------------------------------- dashboard

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage<'a> {
    page: Page<'a>,
    published: i64,
    followers: i64,
    pending_followers: usize,
    following: usize,
    queued: i64,
    failing_inboxes: usize,
    paused_inboxes: usize,
    open_changes: Vec<(String, String, String)>,
    compose_links: Vec<(String, String)>,
}

pub async fn dashboard(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let page = admin_page(state, &req, |t| t.get("admin_dashboard")).await?;
    let t = page.t;
    let (published, followers, pending, following, queued, health, open) = state
        .db
        .read(|c| {
            Ok((
                bulletin_rows::count_published(c)?,
                followers::count_accepted(c)?,
                followers::list(c, Some(followers::PENDING))?.len(),
                remote::list_following(c)?.len(),
                queue::count_by_status(c, "pending")?,
                queue::health(c)?,
                bulletin_rows::open_changes(c)?,
            ))
        })
        .await?;
    let template = DashboardPage {
        published,
        followers,
        pending_followers: pending,
        following,
        queued,
        failing_inboxes: health.iter().filter(|h| h.consecutive_failures > 0).count(),
        paused_inboxes: health.iter().filter(|h| h.paused_at.is_some()).count(),
        open_changes: open
            .iter()
            .map(|b| {
                let state_label = b.meta().state.map(|s| crate::bulletin::vocab::Choice::label(s, t)).unwrap_or("");
                (state.urls.admin(&format!("bulletins/{}", b.id)).to_string(), b.title.clone(), state_label.to_string())
            })
            .collect(),
        compose_links: bulletins::COMPOSE_KINDS
            .iter()
            .map(|k| (format!("{}?kind={k}", state.urls.admin("compose")), bulletins::kind_title(t, k)))
            .collect(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}
