//! The one mapping from every layer's errors to HTTP: a status and a message written for the
//! client, while the cause goes to the log.

use crate::{
    app::AppError,
    bulletin::BulletinError,
    db::{DbError, Outage},
    federation::FederationError,
    i18n::Texts,
    refusal::{self, Reason, Refusal},
};
use actix_web::{
    http::{header, StatusCode},
    HttpResponse, ResponseError,
};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// The request field at fault, by its JSON name, sent as `field` so a client can point at it.
    pub field: Option<String>,
    /// The `WWW-Authenticate` challenge sent with a 401 that asks for a bearer token.
    pub challenge: Option<Box<str>>,
    /// Seconds sent as `Retry-After` with a 429.
    pub retry_after: Option<u64>,
    /// Every field refused (422), by its JSON name, sent as `errors`: worded in English here,
    /// in the request's `Accept-Language` by the admin API's guard ([`ApiError::body`]).
    pub refusals: Vec<Refusal>,
    /// The reason of a refusal that is not a field's 422 (a 409), worded in the request's
    /// language like `refusals`.
    pub reason: Option<Box<Reason>>,
}

/// A domain field name (`publish-at`, as the command line spells it) as the JSON field
/// (`publish_at`).
pub fn json_field(field: &str) -> String {
    field.replace('-', "_")
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            field: None,
            challenge: None,
            retry_after: None,
            refusals: vec![],
            reason: None,
        }
    }
    /// A value the server understood but refuses (422), naming its field.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::refused(vec![Refusal { field: field.to_string().into(), reason: Reason::Text(reason.to_string()) }])
    }
    /// Every field refused (422), each by its JSON name; `field` is the first.
    pub fn refused(refusals: Vec<Refusal>) -> Self {
        let refusals: Vec<Refusal> =
            refusals.into_iter().map(|r| Refusal { field: json_field(&r.field).into(), reason: r.reason }).collect();
        ApiError {
            field: refusals.first().map(|r| r.field.to_string()),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, refusal::joined(&refusals))
        }
        .with_refusals(refusals)
    }
    fn with_refusals(mut self, refusals: Vec<Refusal>) -> Self {
        self.refusals = refusals;
        self
    }
    /// The refused fields renamed where `rename` gives a name (a nested field: `change.start`).
    pub fn rename_fields(self, rename: impl Fn(&str) -> Option<String>) -> Self {
        if self.refusals.is_empty() {
            return match self.field.as_deref().and_then(&rename) {
                Some(field) => self.with_field(field),
                None => self,
            };
        }
        let status = self.status;
        let renamed = self
            .refusals
            .into_iter()
            .map(|r| Refusal { field: rename(&r.field).map_or(r.field, Into::into), reason: r.reason })
            .collect();
        ApiError { status, ..Self::refused(renamed) }
    }
    /// The JSON answer, its refusals worded in `t`'s language.
    pub fn body(&self, t: &Texts) -> serde_json::Value {
        if self.refusals.is_empty() {
            let message = match (&self.reason, &self.field) {
                (Some(reason), Some(field)) => format!("{field}: {}", reason.words(t)),
                (Some(reason), None) => reason.words(t),
                (None, _) => self.message.clone(),
            };
            return match &self.field {
                Some(field) => json!({"error": message, "field": field}),
                None => json!({"error": message}),
            };
        }
        let errors: Vec<serde_json::Value> =
            self.refusals.iter().map(|r| json!({"field": r.field, "message": r.reason.words(t)})).collect();
        let error =
            self.refusals.iter().map(|r| format!("{}: {}", r.field, r.reason.words(t))).collect::<Vec<_>>().join("; ");
        json!({"error": error, "field": self.field, "errors": errors})
    }
    /// A query parameter that cannot be used (400), naming it.
    pub fn bad_parameter(name: &str, reason: impl std::fmt::Display) -> Self {
        ApiError { field: Some(name.to_string()), ..Self::bad_request(format!("{name}: {reason}")) }
    }
    /// The same error, blamed on another field (e.g. a nested one: `change.type`).
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
        if !self.refusals.is_empty() {
            let status = self.status;
            let renamed =
                self.refusals.into_iter().map(|r| Refusal { field: field.clone().into(), reason: r.reason }).collect();
            return ApiError { status, ..Self::refused(renamed) };
        }
        if let Some(old) = &self.field {
            if let Some(reason) = self.message.strip_prefix(&format!("{old}: ")) {
                self.message = format!("{field}: {reason}");
            }
        }
        self.field = Some(field);
        self
    }
    /// A 401 asking for a bearer token (RFC 6750); `error` is set when a token was sent but refused.
    pub fn bearer_required(message: impl Into<String>, error: Option<&str>) -> Self {
        let challenge = match error {
            Some(error) => format!("Bearer realm=\"ronron\", error=\"{error}\""),
            None => "Bearer realm=\"ronron\"".to_string(),
        };
        ApiError { challenge: Some(challenge.into()), ..Self::new(StatusCode::UNAUTHORIZED, message) }
    }
    /// Over a rate limit (429): `Retry-After` says in how many seconds to try again.
    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError { retry_after: Some(retry_after_secs), ..Self::new(StatusCode::TOO_MANY_REQUESTS, message) }
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error; the server's log has the details")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header(("Access-Control-Allow-Origin", "*"));
        if let Some(challenge) = &self.challenge {
            response.insert_header((header::WWW_AUTHENTICATE, &**challenge));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(self.body(refusal::english()))
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e.outage() {
            Some(Outage::DiskFull) => {
                tracing::error!(error = %e, "the database's disk is full");
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "the server's disk is full: nothing was stored; try again once space is freed",
                )
            }
            Some(Outage::Unavailable) => {
                tracing::warn!(error = %e, "the database is unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is unavailable: nothing was stored; try again in a moment",
                )
            }
            None => ApiError::internal(&e),
        }
    }
}

/// The one mapping of the use-cases' error to the JSON API.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let with_field = |status: StatusCode, field: Option<&str>, message: String| ApiError {
            field: field.map(json_field),
            ..ApiError::new(status, message)
        };
        match e {
            AppError::Invalid { ref field, ref reason } => ApiError::invalid(field, reason),
            AppError::Fields(refusals) => ApiError::refused(refusals),
            AppError::Conflict { ref reason, .. } => {
                let message = e.to_string();
                ApiError {
                    reason: Some(Box::new(reason.clone())),
                    ..with_field(StatusCode::CONFLICT, e.field(), json_message(&e, message))
                }
            }
            AppError::NotFound(reason) => ApiError {
                reason: Some(Box::new(reason.clone())),
                ..ApiError::new(StatusCode::NOT_FOUND, reason.to_string())
            },
            AppError::Unreachable { .. } => {
                let message = e.to_string();
                with_field(StatusCode::BAD_GATEWAY, e.field(), json_message(&e, message))
            }
            AppError::BadCredentials | AppError::Throttled { .. } => {
                ApiError::new(StatusCode::UNAUTHORIZED, e.to_string())
            }
            AppError::Db(db) => db.into(),
            AppError::Internal(cause) => ApiError::internal(&cause),
        }
    }
}

/// The message with the field as JSON names it (`new_url: …`, not `new-url: …`).
fn json_message(e: &AppError, message: String) -> String {
    match e.field() {
        Some(field) => format!("{}: {}", json_field(field), e.reason()),
        None => message,
    }
}

impl From<BulletinError> for ApiError {
    fn from(e: BulletinError) -> Self {
        AppError::from(e).into()
    }
}

impl From<FederationError> for ApiError {
    fn from(e: FederationError) -> Self {
        match e {
            FederationError::BadRequest(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            FederationError::Signature(s) => ApiError::new(StatusCode::UNAUTHORIZED, s.to_string()),
            FederationError::Unauthorized(m) => ApiError::new(StatusCode::UNAUTHORIZED, m),
            FederationError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m),
            FederationError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not found"),
            FederationError::Bulletin(b) => b.into(),
            FederationError::Fetch { url, reason } => {
                ApiError::new(StatusCode::BAD_GATEWAY, format!("cannot fetch {url}: {reason}"))
            }
            FederationError::Db(e) => e.into(),
            FederationError::Throttled { message, retry_after_secs } => {
                ApiError::too_many_requests(message, retry_after_secs)
            }
            other => ApiError::internal(&other),
        }
    }
}
