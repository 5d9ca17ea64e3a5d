//! Email subscriptions, the public side: the form on the host and status pages posts here; the
//! double opt-in link and the unsubscribe link (also RFC 8058's one-click POST) land here. Each
//! link's secret is the only credential: no session, no CSRF token (a mail client posting
//! `List-Unsubscribe=One-Click` has neither).

use super::{
    client::ClientInfo,
    html::{page, render, PageError, Section},
    state_of,
};
use crate::{
    app::{
        catalogue::Service,
        notify::{self, SubscribeRequest},
        AppError,
    },
    federation::Federation,
    state::AppState,
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

/// The subscription form of the host and status pages (None: email is off on this host).
pub struct SubscribeForm {
    pub action: String,
    /// (slug, name) of the services one may choose.
    pub services: Vec<(String, String)>,
}

pub fn form<'a>(state: &AppState, services: impl Iterator<Item = &'a Service>) -> Option<SubscribeForm> {
    state.config.smtp.enabled().then(|| SubscribeForm {
        action: state.urls.subscriptions().to_string(),
        services: services.map(|s| (s.slug.clone(), s.name.clone())).collect(),
    })
}

#[derive(Template)]
#[template(path = "subscription.html")]
struct SubscriptionPage<'a> {
    page: super::html::Page<'a>,
    message: String,
    error: bool,
    action: Option<String>,
    button: String,
}

async fn answer(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    title: &str,
    message: String,
    form: Option<(String, &str)>,
) -> Result<HttpResponse, PageError> {
    let mut page = page(state, req, Section::None, title.to_string()).await?;
    page.noindex = true;
    let (action, button) = match form {
        Some((action, button)) => (Some(action), button.to_string()),
        None => (None, String::new()),
    };
    let template = SubscriptionPage { error: !status.is_success(), message, action, button, page };
    render(req, status, &template)
}

/// POST /subscriptions — the form: `email`, `lang`, `scope` (`all` or `changes`), `services`
/// (repeated). The answer is the same whether a confirmation was sent or not.
pub async fn subscribe(
    fed: web::Data<Federation>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let mut request =
        SubscribeRequest { client: ClientInfo::from_request(&req, &state.config).ip, ..Default::default() };
    for (key, value) in url::form_urlencoded::parse(&body) {
        match key.as_ref() {
            "email" => request.email = value.into_owned(),
            "lang" => request.lang = value.into_owned(),
            "scope" => request.changes_only = value == notify::SCOPE_CHANGES,
            "services" => request.services.push(value.into_owned()),
            _ => {}
        }
    }
    let t = state.texts.texts(super::i18n::choose(&req, state.config.default_language()));
    match notify::subscribe(state, request).await {
        Ok(_) => {
            answer(state, &req, StatusCode::OK, t.get("notify.check_title"), t.get("notify.check_inbox").into(), None)
                .await
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Fields(_))) if e.field() == Some("email") => {
            answer(
                state,
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                t.get("notify.form_title"),
                t.get("notify.bad_email").into(),
                None,
            )
            .await
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Fields(_))) if e.field() == Some("services") => {
            let message = t.get("notify.bad_service").into();
            answer(state, &req, StatusCode::UNPROCESSABLE_ENTITY, t.get("notify.form_title"), message, None).await
        }
        Err(AppError::Conflict { .. }) if !state.config.smtp.enabled() => Err(PageError::NotFound),
        Err(AppError::Conflict { .. }) => {
            answer(
                state,
                &req,
                StatusCode::TOO_MANY_REQUESTS,
                t.get("notify.form_title"),
                t.get("notify.too_many").into(),
                None,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// GET /subscriptions/{token}/confirm — a button that confirms (a link scanner's GET confirms nothing).
pub async fn confirm_page(
    fed: web::Data<Federation>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let s = notify::by_token(state, &token).await?;
    let t = state.texts.texts(super::i18n::choose(&req, state.config.default_language()));
    let message = t.fill("notify.confirm_question", &[("email", &s.email)]);
    let action = state.urls.subscription_confirm(&token).to_string();
    answer(
        state,
        &req,
        StatusCode::OK,
        t.get("notify.confirm_title"),
        message,
        Some((action, t.get("notify.confirm_button"))),
    )
    .await
}

/// POST /subscriptions/{token}/confirm
pub async fn confirm(
    fed: web::Data<Federation>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let s = notify::confirm(state, &token).await?;
    let t = state.texts.texts(super::i18n::choose(&req, state.config.default_language()));
    let message = t.fill("notify.confirmed", &[("email", &s.email)]);
    let action = state.urls.subscription_unsubscribe(&token).to_string();
    answer(
        state,
        &req,
        StatusCode::OK,
        t.get("notify.confirm_title"),
        message,
        Some((action, t.get("notify.unsubscribe_button"))),
    )
    .await
}

/// GET /subscriptions/{token}/unsubscribe — a button that unsubscribes.
pub async fn unsubscribe_page(
    fed: web::Data<Federation>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let s = notify::by_token(state, &token).await?;
    let t = state.texts.texts(super::i18n::choose(&req, state.config.default_language()));
    let message = t.fill("notify.unsubscribe_question", &[("email", &s.email)]);
    let action = state.urls.subscription_unsubscribe(&token).to_string();
    answer(
        state,
        &req,
        StatusCode::OK,
        t.get("notify.unsubscribe_title"),
        message,
        Some((action, t.get("notify.unsubscribe_button"))),
    )
    .await
}

/// POST /subscriptions/{token}/unsubscribe — the button, or a mail client's one-click POST
/// (`List-Unsubscribe=One-Click`, RFC 8058). The address is deleted at once.
pub async fn unsubscribe(
    fed: web::Data<Federation>,
    req: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    notify::unsubscribe(state, &token).await?;
    let t = state.texts.texts(super::i18n::choose(&req, state.config.default_language()));
    answer(state, &req, StatusCode::OK, t.get("notify.unsubscribe_title"), t.get("notify.unsubscribed").into(), None)
        .await
}
