//! The one mapping from every layer's errors to HTTP: a status and a message written for the
//! client, while the cause goes to the log.

use crate::{
    app::{blocks::BlockError, catalogue::CatalogueError, profile::ProfileError},
    bulletin::BulletinError,
    db::DbError,
    federation::FederationError,
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
    pub challenge: Option<String>,
}

/// A domain field name (`publish-at`, as the command line spells it) as the JSON field
/// (`publish_at`).
pub fn json_field(field: &str) -> String {
    field.replace('-', "_")
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), field: None, challenge: None }
    }
    /// A value the server understood but refuses (422), naming its field.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        let field = json_field(field);
        ApiError {
            field: Some(field.clone()),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, format!("{field}: {reason}"))
        }
    }
    /// A query parameter that cannot be used (400), naming it.
    pub fn bad_parameter(name: &str, reason: impl std::fmt::Display) -> Self {
        ApiError { field: Some(name.to_string()), ..Self::bad_request(format!("{name}: {reason}")) }
    }
    /// The same error, blamed on another field (e.g. a nested one: `change.type`).
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
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
        ApiError { challenge: Some(challenge), ..Self::new(StatusCode::UNAUTHORIZED, message) }
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
            response.insert_header((header::WWW_AUTHENTICATE, challenge.as_str()));
        }
        match &self.field {
            Some(field) => response.json(json!({"error": self.message, "field": field})),
            None => response.json(json!({"error": self.message})),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::internal(&e)
    }
}

impl From<BulletinError> for ApiError {
    fn from(e: BulletinError) -> Self {
        match e {
            // `id` names the bulletin acted on: the domain refuses because of its state (not an
            // incident, already resolved, a maintenance already over…), not because of the input.
            BulletinError::Invalid { field: "id", reason } => {
                ApiError { field: Some("id".into()), ..ApiError::new(StatusCode::CONFLICT, format!("id: {reason}")) }
            }
            BulletinError::Invalid { field, reason } => ApiError::invalid(field, reason),
            BulletinError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
            BulletinError::Deleted(_) => ApiError::new(StatusCode::CONFLICT, e.to_string()),
        }
    }
}

impl From<CatalogueError> for ApiError {
    fn from(e: CatalogueError) -> Self {
        match e {
            CatalogueError::Invalid(b) => b.into(),
            CatalogueError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
            CatalogueError::Exists(_) => {
                ApiError { field: Some("slug".into()), ..ApiError::new(StatusCode::CONFLICT, e.to_string()) }
            }
            CatalogueError::Db(db) => db.into(),
        }
    }
}

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::Invalid { field, reason } => ApiError::invalid(&field, reason),
            ProfileError::Db(db) => db.into(),
        }
    }
}

impl From<BlockError> for ApiError {
    fn from(e: BlockError) -> Self {
        match e {
            BlockError::Db(db) => db.into(),
            // The messages name the command-line option (`--domain: …`).
            other => ApiError::invalid("domain", other.to_string().trim_start_matches("--domain: ")),
        }
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
            FederationError::Catalogue(c) => c.into(),
            FederationError::Profile(p) => p.into(),
            FederationError::Fetch { url, reason } => {
                ApiError::new(StatusCode::BAD_GATEWAY, format!("cannot fetch {url}: {reason}"))
            }
            other => ApiError::internal(&other),
        }
    }
}
