//! Inbox endpoints: count the request against its sender's quota, read the body (capped), hand it
//! to the federation layer, answer 202.

use super::error::ApiError;
use super::state_of;
use crate::federation::{
    inbox::{receive, Outcome, SignedRequest},
    limits::InboxKey,
    Federation,
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
        return Err(ApiError::too_many_requests(
            format!(
                "too many requests from {sender}: this inbox accepts {} a minute from one server ({} at once); \
                 try again in {} s",
                throttled.per_minute, throttled.burst, throttled.retry_after_secs
            ),
            throttled.retry_after_secs,
        ));
    }
    let body = read_body(&req, payload, state.config.server.max_body_bytes).await?;
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
            match &outcome {
                Outcome::Applied(what) => tracing::info!(what, "activity applied"),
                Outcome::Duplicate => tracing::debug!("activity already received"),
                Outcome::Ignored(why) => tracing::info!(why, "activity ignored"),
            }
            Ok(HttpResponse::Accepted().finish())
        }
        Err(e) => {
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
    if *name != state_of(&fed).config.account.name {
        return Err(ApiError::not_found(&format!("account `{name}`")));
    }
    handle(&fed, req, payload).await
}
