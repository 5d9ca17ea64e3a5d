//! Subscribers outside the fediverse: email subscribers (count, remove, export) and webhooks
//! (register with the secret shown once, remove, each one's delivery log).

use super::{
    common::{admin_page, done_message, refusal, see_other},
    session::{Admin, AdminForm},
};
use crate::{
    app::notify::{self, ExportFormat, NewWebhook},
    federation::Federation,
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        state_of, views,
    },
};
use actix_web::{http::header, http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

pub struct SubscriberRow {
    pub email: String,
    pub lang: String,
    pub what: String,
    pub confirmed: bool,
    pub created: views::When,
    pub remove_url: String,
}

pub struct WebhookRow {
    pub url: String,
    pub filters: String,
    pub log_url: String,
    pub remove_url: String,
}

#[derive(Template)]
#[template(path = "admin/notify.html")]
struct NotifyPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    email_on: bool,
    confirmed: usize,
    pending: usize,
    queued: i64,
    sent: i64,
    failed: i64,
    subscribers: Vec<SubscriberRow>,
    export_csv: String,
    export_json: String,
    /// A webhook just registered: its URL and secret, shown this once.
    secret: Option<(String, String)>,
    webhooks: Vec<WebhookRow>,
    add_url: String,
    events: Vec<&'static str>,
}

fn filters(t: &crate::i18n::Texts, events: &str, kinds: &str, services: &str) -> String {
    let all = t.get("notify.all");
    let or_all = |s: &str| if s.is_empty() { all.to_string() } else { s.replace(' ', ", ") };
    format!(
        "{} {} · {} {} · {} {}",
        t.get("notify.events"),
        or_all(events),
        t.get("notify.kinds"),
        or_all(kinds),
        t.get("notify.services"),
        or_all(services)
    )
}

async fn notify_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    secret: Option<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("notify.admin_title")).await?;
    let (t, lang) = (page.t, page.t.lang);
    let subscribers = notify::subscribers(state).await?;
    let hooks = notify::webhooks(state).await?;
    let template = NotifyPage {
        done: done_message(req, t),
        error,
        email_on: state.config.smtp.enabled(),
        confirmed: subscribers.confirmed,
        pending: subscribers.pending,
        queued: subscribers.queued,
        sent: subscribers.sent,
        failed: subscribers.failed,
        subscribers: subscribers
            .list
            .iter()
            .map(|s| SubscriberRow {
                email: s.email.clone(),
                lang: s.lang.clone(),
                what: format!(
                    "{}{}",
                    if s.scope == notify::SCOPE_CHANGES {
                        t.get("notify.scope_changes")
                    } else {
                        t.get("notify.scope_all")
                    },
                    if s.services.is_empty() { String::new() } else { format!(" ({})", s.services.replace(' ', ", ")) }
                ),
                confirmed: s.confirmed_at.is_some(),
                created: views::when(state, s.created_at, lang),
                remove_url: state.urls.admin(&format!("subscribers/{}/remove", s.id)).to_string(),
            })
            .collect(),
        export_csv: format!("{}?format=csv", state.urls.admin("subscribers/export")),
        export_json: format!("{}?format=json", state.urls.admin("subscribers/export")),
        secret,
        webhooks: hooks
            .iter()
            .map(|h| WebhookRow {
                url: h.url.clone(),
                filters: filters(t, &h.events, &h.kinds, &h.services),
                log_url: state.urls.admin(&format!("webhooks/{}", h.id)).to_string(),
                remove_url: state.urls.admin(&format!("webhooks/{}/remove", h.id)).to_string(),
            })
            .collect(),
        add_url: state.urls.admin("webhooks").to_string(),
        events: notify::Event::ALL.iter().map(|e| e.name()).collect(),
        page,
    };
    let mut response = render(req, status, &template)?;
    // Addresses and secrets must not linger in any cache.
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// GET /admin/subscribers
pub async fn subscribers(
    fed: web::Data<Federation>,
    req: HttpRequest,
    _admin: Admin,
) -> Result<HttpResponse, PageError> {
    notify_page(state_of(&fed), &req, StatusCode::OK, None, None).await
}

/// POST /admin/subscribers/{id}/remove
pub async fn remove_subscriber(
    fed: web::Data<Federation>,
    id: web::Path<String>,
    _csrf_checked: AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    notify::remove_subscriber(state, &id).await?;
    Ok(see_other(format!("{}?done=removed", state.urls.admin("subscribers"))))
}

/// GET /admin/subscribers/export?format=csv|json — a download.
pub async fn export_subscribers(
    fed: web::Data<Federation>,
    req: HttpRequest,
    _admin: Admin,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let format = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| "csv".into());
    let format: ExportFormat = format.parse().map_err(|_| PageError::NotFound)?;
    let body = notify::export_subscribers(state, format).await?;
    let (mime, name) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "subscribers.csv"),
        ExportFormat::Json => ("application/json", "subscribers.json"),
    };
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// POST /admin/webhooks — registers one; its secret is shown on the answer itself, never again.
pub async fn add_webhook(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let words = |name: &str| -> Vec<String> {
        form.text(name).split([',', ' ']).filter(|w| !w.is_empty()).map(str::to_string).collect()
    };
    let new = NewWebhook {
        url: form.text("url"),
        events: form.all("events"),
        kinds: words("kinds"),
        services: words("services"),
    };
    match notify::add_webhook(state, new).await {
        Ok(hook) => notify_page(state, &req, StatusCode::OK, None, Some((hook.url, hook.secret))).await,
        Err(e) => notify_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(state, &req, e)?, None).await,
    }
}

/// POST /admin/webhooks/{id}/remove
pub async fn remove_webhook(
    fed: web::Data<Federation>,
    id: web::Path<String>,
    _csrf_checked: AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    notify::remove_webhook(state, &id).await?;
    Ok(see_other(format!("{}?done=removed", state.urls.admin("subscribers"))))
}

pub struct CallRow {
    pub event: String,
    pub bulletin: String,
    pub status: String,
    pub attempts: i32,
    pub answer: String,
    pub when: views::When,
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct WebhookPage<'a> {
    page: Page<'a>,
    url: String,
    filters: String,
    calls: Vec<CallRow>,
    back_url: String,
}

/// GET /admin/webhooks/{id} — the latest calls and their outcome.
pub async fn webhook_log(
    fed: web::Data<Federation>,
    req: HttpRequest,
    id: web::Path<String>,
    _admin: Admin,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let (hook, log) = notify::webhook_log(state, &id).await?;
    let page = admin_page(state, &req, |t| t.get("notify.webhook_log")).await?;
    let (t, lang) = (page.t, page.t.lang);
    let template = WebhookPage {
        filters: filters(t, &hook.events, &hook.kinds, &hook.services),
        url: hook.url,
        calls: log
            .iter()
            .map(|n| CallRow {
                event: n.event.clone(),
                bulletin: n.bulletin_id.clone().unwrap_or_default(),
                status: match n.status.as_str() {
                    "sent" => t.get("notify.status_sent"),
                    "failed" => t.get("notify.status_failed"),
                    _ => t.get("notify.status_pending"),
                }
                .to_string(),
                attempts: n.attempts,
                answer: match (n.last_status, &n.last_error) {
                    (_, Some(error)) => error.clone(),
                    (Some(code), None) => format!("HTTP {code}"),
                    (None, None) => String::new(),
                },
                when: views::when(state, n.sent_at.unwrap_or(n.next_attempt_at), lang),
            })
            .collect(),
        back_url: state.urls.admin("subscribers").to_string(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}
