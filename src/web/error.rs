//! The one mapping from every layer's errors to HTTP: a status and a message written for the
//! client, while the cause goes to the log.

use crate::{bulletin::BulletinError, db::DbError, federation::FederationError};
use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into() }
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
        HttpResponse::build(self.status)
            .insert_header(("Access-Control-Allow-Origin", "*"))
            .json(json!({"error": self.message}))
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(&e)
    }
}

impl From<BulletinError> for ApiError {
    fn from(e: BulletinError) -> Self {
        let status = match e {
            BulletinError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            BulletinError::NotFound(_) => StatusCode::NOT_FOUND,
            BulletinError::Deleted(_) => StatusCode::GONE,
        };
        ApiError::new(status, e.to_string())
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
            other => ApiError::internal(&other),
        }
    }
}
