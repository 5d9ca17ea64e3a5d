//! The machines' endpoints: `GET /healthz` (the process answers), `GET /readyz` (it can serve:
//! database, migrations, delivery queue; 503 when not) and `GET /metrics` (Prometheus).
//!
//! `/metrics` is not served on the main listener unless `metrics.token` is set, and then only to a
//! request bearing it; on the separate `metrics.listen` listener it is served to anyone who can
//! reach that address, or to a request bearing the token when one is set.

use super::{error::ApiError, state_of};
use crate::{app::health, federation::Federation, metrics, state::AppState};
use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use serde_json::json;
use sha2::{Digest, Sha256};

fn machine_json(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

/// Liveness: the process runs and answers; nothing else is checked.
pub async fn healthz() -> HttpResponse {
    machine_json(StatusCode::OK, json!({"status": "ok"}))
}

/// Readiness: 200 when every check passes, 503 otherwise; the body says which failed.
pub async fn readyz(fed: web::Data<Federation>) -> HttpResponse {
    let readiness = health::readiness(state_of(&fed)).await;
    let ready = readiness.ready();
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {
            "database": match &readiness.database {
                Ok(()) => json!({"ok": true}),
                Err(reason) => json!({"ok": false, "error": reason}),
            },
            "migrations": match &readiness.migrations {
                Some(m) => json!({"ok": readiness.migrations_current(), "pending": m.pending, "unknown": m.unknown}),
                None => json!({"ok": false}),
            },
            "queue_depth": json!({
                "ok": readiness.queue_depth_ok(),
                "value": readiness.queue.map(|q| q.figures.depth),
                "max": readiness.max_queue_depth,
            }),
            "oldest_due_age_secs": json!({
                "ok": readiness.due_age_ok(),
                "value": readiness.queue.map(|q| q.oldest_due_age_secs),
                "max": readiness.max_due_age_secs,
            }),
        },
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    machine_json(status, body)
}

/// `/metrics` on the main listener: only with `metrics.token` set, and only to a request bearing it.
pub async fn metrics_on_main(fed: web::Data<Federation>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed);
    match &state.config.metrics.token {
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "metrics are not served here (see metrics.token and metrics.listen in docs/CONFIG.md)",
        )),
        Some(token) => {
            check_bearer(&req, token)?;
            scrape(state).await
        }
    }
}

/// `/metrics` on the `metrics.listen` listener: the token is asked for when one is set.
pub async fn metrics_on_own_listener(fed: web::Data<Federation>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed);
    if let Some(token) = &state.config.metrics.token {
        check_bearer(&req, token)?;
    }
    scrape(state).await
}

async fn scrape(state: &AppState) -> Result<HttpResponse, ApiError> {
    let readings = health::readings(state).await?;
    state.metrics.set_readings(&readings);
    Ok(HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(state.metrics.encode()))
}

/// `Authorization: Bearer <token>`, compared in constant time (as digests of equal length).
fn check_bearer(req: &HttpRequest, token: &str) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::bearer_required("this endpoint needs `Authorization: Bearer <metrics.token>`", None));
    };
    let sent = value.to_str().ok().and_then(|v| v.split_once(' ')).filter(|(s, _)| s.eq_ignore_ascii_case("bearer"));
    let Some((_, secret)) = sent else {
        return Err(ApiError::bearer_required(
            "the Authorization header must be `Bearer <token>`",
            Some("invalid_request"),
        ));
    };
    let (expected, given) = (Sha256::digest(token.as_bytes()), Sha256::digest(secret.trim().as_bytes()));
    let difference = expected.iter().zip(given.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if difference != 0 {
        return Err(ApiError::bearer_required("wrong metrics token", Some("invalid_token")));
    }
    Ok(())
}
