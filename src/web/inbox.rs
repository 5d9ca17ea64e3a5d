//! Inbox endpoints: read the body (capped), hand it to the federation layer, answer 202; count
//! each activity by type and outcome in the metrics. A sender over its quota is refused first.

use super::error::ApiError;
use super::state_of;
use crate::{
    federation::{
        inbox::{receive, Outcome, SignedRequest},
        limits::InboxKey,
        Federation, FederationError,
    },
    metrics::InboxOutcome,
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use futures::StreamExt;
use std::collections::BTreeMap;

/// Reads the body, refusing more than `limit` bytes without buffering the rest.
async fn read_body(req: &HttpRequest, mut payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than {limit} bytes"));
    let declared =
        req.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The activity's `type` as sent, when the body is a JSON object with a string `type`.
fn activity_type(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        kind: Option<serde_json::Value>,
    }
    let typed: Typed = serde_json::from_slice(body).ok()?;
    typed.kind.and_then(|k| k.as_str().map(str::to_string))
}

/// The metrics' outcome of an activity refused with `error`.
fn refusal(error: &FederationError) -> InboxOutcome {
    match error {
        FederationError::Signature(_) | FederationError::Unauthorized(_) => InboxOutcome::RefusedSignature,
        FederationError::Forbidden(_) => InboxOutcome::RefusedBlocked,
        FederationError::BadRequest(_) | FederationError::NotFound | FederationError::Bulletin(_) => {
            InboxOutcome::BadRequest
        }
        FederationError::Fetch { .. } => InboxOutcome::FetchFailed,
        FederationError::Throttled { .. } => InboxOutcome::Throttled,
        FederationError::Db(_) | FederationError::Library(_) | FederationError::Internal(_) => InboxOutcome::Error,
    }
}

async fn handle(fed: &Federation, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let state = state_of(fed);
    let mut headers = BTreeMap::new();
    for (name, value) in req.headers() {
        if let Ok(value) = value.to_str() {
            // Repeated headers are joined as HTTP signatures specify.
            headers
                .entry(name.as_str().to_lowercase())
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(value)
                })
                .or_insert_with(|| value.to_string());
        }
    }
    // Before the body is read and before anything is fetched or looked up.
    let sender = InboxKey::of_request(&headers, req.peer_addr().map(|a| a.ip()));
    if let Err(throttled) = state.limits.check_inbox(&sender) {
        tracing::info!(sender = %sender, retry_after = throttled.retry_after_secs, "inbox rate limit reached");
        state.metrics.inbox_activity(None, InboxOutcome::Throttled);
        return Err(ApiError::too_many_requests(
            format!(
                "too many requests from {sender}: this inbox accepts {} a minute from one server ({} at once); \
                 try again in {} s",
                throttled.per_minute, throttled.burst, throttled.retry_after_secs
            ),
            throttled.retry_after_secs,
        ));
    }
    let body = match read_body(&req, payload, state.config.server.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => {
            state.metrics.inbox_activity(None, InboxOutcome::BadRequest);
            return Err(e);
        }
    };
    let kind = activity_type(&body);
    let request = SignedRequest {
        method: req.method().as_str(),
        path: req.path(),
        query: Some(req.query_string()).filter(|q| !q.is_empty()),
        headers,
        body: &body,
    };
    let data = fed.to_request_data();
    match receive(&data, request).await {
        Ok(outcome) => {
            let counted = match &outcome {
                Outcome::Applied(what) => {
                    tracing::info!(what, "activity applied");
                    InboxOutcome::Accepted
                }
                Outcome::Duplicate => {
                    tracing::debug!("activity already received");
                    InboxOutcome::Duplicate
                }
                Outcome::Ignored(why) => {
                    tracing::info!(why, "activity ignored");
                    InboxOutcome::Ignored
                }
            };
            state.metrics.inbox_activity(kind.as_deref(), counted);
            Ok(HttpResponse::Accepted().finish())
        }
        Err(e) => {
            state.metrics.inbox_activity(kind.as_deref(), refusal(&e));
            let error = ApiError::from(e);
            tracing::info!(status = error.status.as_u16(), reason = %error.message, "activity refused");
            Err(error)
        }
    }
}

pub async fn shared_inbox(
    fed: web::Data<Federation>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    handle(&fed, req, payload).await
}

pub async fn account_inbox(
    fed: web::Data<Federation>,
    req: HttpRequest,
    payload: web::Payload,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let config = &state_of(&fed).config;
    if *name != config.account.name && config.collective_account() != Some(name.as_str()) {
        return Err(ApiError::not_found(&format!("account `{name}`")));
    }
    handle(&fed, req, payload).await
}
