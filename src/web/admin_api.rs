//! The JSON admin API under `/api/v1/admin/` (docs/API.md, "Admin API"): what the `ronron`
//! command does, over HTTP, for a client holding a bearer token (`ronron token create`).
//!
//! Every route is behind [`guard`], which counts the request against its token's rate limit (429
//! with `Retry-After` past it), then checks the token before anything else (so an unknown path or
//! a malformed body never tells an anonymous client more than 401) and strips CORS headers: the
//! admin API is for programs and scripts, never for another site's pages.
//! Handlers call the same domain functions as the command line; input goes through
//! `bulletin::forms`, so the CLI, the web forms and this API accept the same values.

mod bulletins;
mod collective;
mod host;
mod notify;
mod peers;
mod tokens;

use super::{error::ApiError, state_of};
use crate::{
    app::tokens::ApiToken,
    federation::Federation,
    state::AppState,
    urls::routes::{self, admin as r},
};
use actix_web::{
    body::BoxBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{header, StatusCode},
    middleware::{from_fn, Next},
    web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError,
};
use chrono::NaiveDateTime;
use futures::{future::LocalBoxFuture, StreamExt};
use serde::{de::DeserializeOwned, Serialize};

/// Request bodies are small: a bulletin's body is at most 20,000 characters.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(routes::ADMIN_API)
            .wrap(from_fn(guard))
            .service(api_at(r::BULLETINS).get(bulletins::list).post(bulletins::create))
            .service(api_at(r::BULLETIN).get(bulletins::show).patch(bulletins::edit).delete(bulletins::delete))
            .service(api_at(r::BULLETIN_FOLLOW_UPS).post(bulletins::follow_up))
            .service(api_at(r::BULLETIN_RESCHEDULE).post(bulletins::reschedule))
            .service(api_at(r::BULLETIN_CANCEL).post(bulletins::cancel))
            .service(api_at(r::SERVICES).get(host::services).post(host::add_service))
            .service(api_at(r::SERVICE).patch(host::edit_service).delete(host::remove_service))
            .service(api_at(r::LABEL).get(host::label).patch(host::set_grades))
            .service(api_at(r::LABEL_CRITERION).put(host::set_grade))
            .service(api_at(r::PROFILE).get(host::profile).patch(host::edit_profile))
            .service(api_at(r::PROFILE_LOGO).put(host::put_logo).delete(host::delete_logo))
            .service(api_at(r::FOLLOWERS).get(peers::followers))
            .service(api_at(r::FOLLOWER_APPROVE).post(peers::approve_follower))
            .service(api_at(r::FOLLOWER).delete(peers::remove_follower))
            .service(api_at(r::FOLLOWING).get(peers::following).post(peers::follow).delete(peers::unfollow))
            .service(api_at(r::BLOCKS).get(peers::blocks).post(peers::block))
            .service(api_at(r::BLOCK).delete(peers::unblock))
            .service(api_at(r::DELIVERIES).get(peers::deliveries))
            .service(api_at(r::DELIVERIES_RETRY).post(peers::retry_deliveries))
            .service(api_at(r::TOKENS).get(tokens::list_tokens).post(tokens::create_token))
            .service(api_at(r::TOKEN).delete(tokens::revoke_token))
            .service(api_at(r::SUBSCRIBERS).get(notify::subscribers))
            .service(api_at(r::SUBSCRIBER).delete(notify::remove_subscriber))
            .service(api_at(r::WEBHOOKS).get(notify::webhooks).post(notify::add_webhook))
            .service(api_at(r::WEBHOOK).delete(notify::remove_webhook))
            .service(api_at(r::WEBHOOK_DELIVERIES).get(notify::webhook_deliveries))
            .service(
                api_at(r::MEMBERS)
                    .get(collective::members)
                    .post(collective::add_member)
                    .delete(collective::remove_member),
            )
            .service(api_at(r::COLLECTIVE_FOLLOWERS).get(collective::followers))
            .service(api_at(r::COLLECTIVE_LOGO).put(collective::put_logo).delete(collective::delete_logo))
            .service(
                api_at(r::COLLECTIVE_JOINS).get(collective::joins).post(collective::join).delete(collective::leave),
            )
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::new(StatusCode::NOT_FOUND, "no such admin endpoint (see docs/API.md)"))
            })),
    );
}

/// An admin API path: a method it does not answer is a JSON 405 naming those it does.
fn api_at(path: &str) -> super::Methods {
    super::at(path).refuse_with(|allow| {
        let message = format!("this endpoint answers {allow} (see docs/API.md)");
        let mut response = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, message).error_response();
        if let Ok(value) = header::HeaderValue::from_str(&allow) {
            response.headers_mut().insert(header::ALLOW, value);
        }
        response
    })
}

// ---------------------------------------------------------------- authentication

/// The token a request was made with: taking it as a handler argument makes the handler require
/// `Authorization: Bearer <secret>` of a live token (401 otherwise).
pub struct AdminToken(pub ApiToken);

impl FromRequest for AdminToken {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Already checked by `guard` for this request.
        if let Some(token) = req.extensions().get::<ApiToken>() {
            let token = token.clone();
            return Box::pin(async move { Ok(AdminToken(token)) });
        }
        let secret = bearer_secret(req);
        let state = req.app_data::<web::Data<Federation>>().map(|fed| state_of(fed).clone());
        Box::pin(async move {
            let secret = secret?;
            let state =
                state.ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "no application state"))?;
            match crate::app::tokens::authenticate(&state, &secret).await? {
                Some(token) => Ok(AdminToken(token)),
                None => Err(ApiError::bearer_required("unknown or revoked token", Some("invalid_token"))),
            }
        })
    }
}

fn bearer_secret(req: &HttpRequest) -> Result<String, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::bearer_required(
            "this endpoint needs `Authorization: Bearer <token>` (create one with `ronron token create NAME`)",
            None,
        ));
    };
    let value = value.to_str().unwrap_or("");
    match value.split_once(' ') {
        Some((scheme, secret)) if scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty() => {
            Ok(secret.trim().to_string())
        }
        _ => {
            Err(ApiError::bearer_required("the Authorization header must be `Bearer <token>`", Some("invalid_request")))
        }
    }
}

/// Counts the request against its token's quota (`limits.admin_api_*`), before the token is even
/// looked up: a token over its quota costs no database work.
fn throttle(req: &HttpRequest) -> Result<(), ApiError> {
    let (Ok(secret), Some(fed)) = (bearer_secret(req), req.app_data::<web::Data<Federation>>()) else {
        return Ok(());
    };
    state_of(fed).limits.check_admin_api(&secret).map_err(|throttled| {
        ApiError::too_many_requests(
            format!(
                "too many requests with this token: the admin API accepts {} a minute per token ({} at once); \
                 try again in {} s",
                throttled.per_minute, throttled.burst, throttled.retry_after_secs
            ),
            throttled.retry_after_secs,
        )
    })
}

/// Checks the token before routing, and keeps CORS headers off every admin answer.
async fn guard(req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // The request is borrowed, not cloned: routing needs it unshared.
    let fed = req.app_data::<web::Data<Federation>>().cloned();
    let lang = super::i18n::api_language(req.request());
    let checked = match throttle(req.request()) {
        Ok(()) => AdminToken::extract(req.request()).await,
        Err(e) => Err(e),
    };
    let mut response = match checked {
        Err(e) => req.error_response(e),
        Ok(AdminToken(token)) => {
            req.extensions_mut().insert(token);
            // Handlers' errors arrive as responses; an `Err` here would come from actix itself.
            next.call(req).await?
        }
    };
    for name in [
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::ACCESS_CONTROL_ALLOW_METHODS,
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
    ] {
        response.headers_mut().remove(name);
    }
    // Refused fields are worded in the request's language.
    let worded = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .filter(|e| !e.refusals.is_empty() || e.reason.is_some())
        .zip(fed.as_ref())
        .map(|(e, fed)| e.body(state_of(fed).texts.texts(lang)).to_string());
    if let Some(body) = worded {
        return Ok(response.map_body(|_, _| BoxBody::new(body)));
    }
    Ok(response.map_into_boxed_body())
}

// ---------------------------------------------------------------- JSON in and out

/// A JSON request body of at most [`MAX_BODY_BYTES`], read into `T`. Errors name the field:
/// 400 for a body that is not JSON, 422 for a field of the wrong type, missing or unknown.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(_: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let mut payload = payload.take();
        Box::pin(async move {
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?;
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("the body is larger than {} KiB", MAX_BODY_BYTES / 1024),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            parse_body(&bytes).map(Body)
        })
    }
}

/// serde's message without its " at line 1 column 9" (the field is named instead).
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the body is empty: send a JSON object"));
    }
    // serde would read a struct from an array too (its fields in order): a body is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(body_error)?;
    de.end().map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn body_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if !inner.is_data() {
        return ApiError::bad_request(format!("malformed JSON: {inner}"));
    }
    let message = without_position(&inner);
    // serde's path stops at the object that misses a field: the field is named in the message.
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    let field = match (missing, path.as_str()) {
        (Some(name), ".") => name.to_string(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => return ApiError::bad_request("the body must be a JSON object"),
        (None, path) => path.to_string(),
    };
    ApiError::invalid(&field, message)
}

// ---------------------------------------------------------------- uploads

/// An image sent as the request's body, its type as `Content-Type`, read capped at
/// `media.max_logo_bytes`: over it, the refusal is a 413.
pub async fn upload_body(
    state: &AppState,
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<crate::app::media::Upload, ApiError> {
    let declared = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let max = state.config.media.max_logo_bytes;
    match super::media::read_capped(&mut payload, max, &mut { super::media::DRAIN_LIMIT })
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?
    {
        Some(bytes) => Ok(crate::app::media::Upload { bytes, declared_type: declared }),
        None => Err(upload_error(crate::app::media::too_big(state))),
    }
}

/// A use-case's refusal of an upload: 413 when it is too big, as any refusal otherwise.
pub fn upload_error(e: crate::app::AppError) -> ApiError {
    let too_big = crate::app::media::is_too_big(&e);
    let mut error = ApiError::from(e);
    if too_big {
        error.status = StatusCode::PAYLOAD_TOO_LARGE;
    }
    error
}

/// A stored logo as the admin API shows it.
#[derive(Serialize)]
pub struct LogoJson {
    url: String,
    media_type: String,
    width: u32,
    height: u32,
    bytes: u64,
}

pub fn logo_json(state: &AppState, logo: crate::app::media::Logo) -> LogoJson {
    LogoJson {
        url: state.urls.media(&logo.file).to_string(),
        media_type: logo.media_type,
        width: logo.width,
        height: logo.height,
        bytes: logo.bytes,
    }
}

/// A time as the admin API writes it: RFC 3339, UTC, to the second.
pub fn time(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn opt_time(at: Option<NaiveDateTime>) -> Option<String> {
    at.map(time)
}

/// Answers with the JSON admin API's content type.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

/// The answer to a successful DELETE.
pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// A path segment that must be a number (a follower's or a token's id): anything else is unknown.
pub fn numeric_id(what: &str, raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::new(StatusCode::NOT_FOUND, format!("no {what} has the id `{raw}`")))
}

pub fn state(fed: &web::Data<Federation>) -> &AppState {
    state_of(fed)
}
