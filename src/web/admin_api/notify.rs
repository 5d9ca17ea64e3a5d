//! Subscribers outside the fediverse: email subscribers (list, export, remove) and webhooks
//! (register, list, remove, delivery log).

use super::{json, no_content, opt_time, state, time, AdminToken, Body};
use crate::{
    app::notify::{self, ExportFormat, NewWebhook, NotificationRow, Webhook},
    federation::Federation,
    web::error::ApiError,
};
use actix_web::{http::header, http::StatusCode, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// GET /api/v1/admin/subscribers — counts and every subscriber (`?format=csv` for CSV).
pub async fn subscribers(
    _: AdminToken,
    fed: web::Data<Federation>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let format = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| "json".into());
    let format: ExportFormat = format.parse()?;
    if format == ExportFormat::Csv {
        let body = notify::export_subscribers(state, format).await?;
        return Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(body));
    }
    let all = notify::subscribers(state).await?;
    let list: Vec<serde_json::Value> = all
        .list
        .iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id,
                "email": s.email,
                "lang": s.lang,
                "scope": s.scope,
                "services": s.service_slugs(),
                "created_at": time(s.created_at),
                "confirmed_at": opt_time(s.confirmed_at),
            })
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "confirmed": all.confirmed,
            "pending": all.pending,
            "emails": { "queued": all.queued, "sent": all.sent, "failed": all.failed },
            "subscribers": list,
        }),
    ))
}

/// DELETE /api/v1/admin/subscribers/{id} — by id or address.
pub async fn remove_subscriber(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    notify::remove_subscriber(state(&fed), &id).await?;
    Ok(no_content())
}

#[derive(Serialize)]
struct WebhookJson {
    id: String,
    url: String,
    events: Vec<String>,
    kinds: Vec<String>,
    services: Vec<String>,
    created_at: String,
    /// Only in the answer that registers the webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn webhook_json(h: Webhook, with_secret: bool) -> WebhookJson {
    WebhookJson {
        id: h.id,
        url: h.url,
        events: words(&h.events),
        kinds: words(&h.kinds),
        services: words(&h.services),
        created_at: time(h.created_at),
        secret: with_secret.then_some(h.secret),
    }
}

/// GET /api/v1/admin/webhooks
pub async fn webhooks(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let list: Vec<WebhookJson> =
        notify::webhooks(state(&fed)).await?.into_iter().map(|h| webhook_json(h, false)).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "webhooks": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookJson {
    url: String,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    services: Vec<String>,
}

/// POST /api/v1/admin/webhooks — its secret is in this answer and nowhere else.
pub async fn add_webhook(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<NewWebhookJson>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let new = NewWebhook { url: body.url, events: body.events, kinds: body.kinds, services: body.services };
    let hook = notify::add_webhook(state, new).await?;
    let location = state.urls.admin_webhook(&hook.id).to_string();
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(webhook_json(hook, true)))
}

/// DELETE /api/v1/admin/webhooks/{id}
pub async fn remove_webhook(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    notify::remove_webhook(state(&fed), &id).await?;
    Ok(no_content())
}

fn call_json(n: NotificationRow) -> serde_json::Value {
    serde_json::json!({
        "id": n.id,
        "event": n.event,
        "bulletin": n.bulletin_id,
        "status": n.status,
        "attempts": n.attempts,
        "last_status": n.last_status,
        "last_error": n.last_error,
        "queued_at": time(n.created_at),
        "next_attempt_at": time(n.next_attempt_at),
        "sent_at": opt_time(n.sent_at),
    })
}

/// GET /api/v1/admin/webhooks/{id}/deliveries — its latest calls, newest first.
pub async fn webhook_deliveries(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (hook, log) = notify::webhook_log(state(&fed), &id).await?;
    let calls: Vec<serde_json::Value> = log.into_iter().map(call_json).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "webhook": webhook_json(hook, false), "deliveries": calls })))
}
