//! ActivityPub: wire structs (`protocol`), what we do with activities (`activities`), actors,
//! keys and HTTP signatures. activitypub_federation provides fetching (SSRF-checked, size-capped,
//! signed with the instance actor), WebFinger resolution and the actor cache plumbing.

pub mod activities;
pub mod actors;
pub mod backfill;
pub mod client;
pub mod collections;
pub mod collective;
pub mod documents;
pub mod fetch;
pub mod httpsig;
pub mod inbox;
pub mod keys;
pub mod limits;
pub mod proofs;
pub mod protocol;
pub mod rfc9421;
pub mod signatures;

use crate::{db::DbError, state::AppState};
use activitypub_federation::config::{Data, FederationConfig};
use std::time::Duration;

pub type Federation = FederationConfig<AppState>;
pub type FedData = Data<AppState>;

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Signature(#[from] signatures::SignatureError),
    #[error("cannot fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Bulletin(#[from] crate::bulletin::BulletinError),
    #[error("{0}")]
    Library(#[from] activitypub_federation::error::Error),
    #[error("{0}")]
    Internal(String),
    /// Over a rate limit: the message says which; answered 429 with `Retry-After`.
    #[error("{message}")]
    Throttled { message: String, retry_after_secs: u64 },
}

impl From<serde_json::Error> for FederationError {
    fn from(e: serde_json::Error) -> Self {
        FederationError::Internal(format!("JSON: {e}"))
    }
}

/// The HTTP client for every outgoing request (built once, in `AppState`). Outside dev mode its
/// resolver refuses names that resolve to loopback, private, link-local or other internal
/// addresses (checked at connect time).
pub fn http_client(state: &AppState) -> reqwest::Client {
    state.http.clone()
}

pub use client::client_for;

pub async fn build(state: AppState) -> Result<Federation, FederationError> {
    let dev = state.config.dev_mode();
    let client = http_client(&state);
    let signer = actors::LocalSigner::instance_actor(&state);
    FederationConfig::builder()
        .domain(state.config.instance.domain.clone())
        .request_timeout(Duration::from_secs(state.config.delivery.request_timeout_secs))
        .client(client.into())
        .debug(dev)
        .allow_http_urls(dev)
        .http_signature_compat(true)
        .signed_fetch_actor(&signer)
        .app_data(state)
        .build()
        .await
        .map_err(|e| FederationError::Internal(e.to_string()))
}

/// The domain block covering any of `urls`, if one does: checked before anything is fetched
/// from, or sent to, a server.
pub async fn blocked(
    state: &AppState,
    urls: Vec<String>,
) -> Result<Option<crate::db::models::blocks::DomainBlock>, DbError> {
    state.db.read(move |c| crate::db::models::blocks::covering(c, &urls)).await
}

/// Outside dev mode, a URL we send to must be https with a host name (not an IP literal, which
/// would skip the resolver's address check).
pub fn check_outgoing_url(url: &url::Url, dev_mode: bool) -> Result<(), String> {
    if dev_mode {
        return match url.scheme() {
            "http" | "https" => Ok(()),
            other => Err(format!("unsupported scheme {other}")),
        };
    }
    if url.scheme() != "https" {
        return Err("only https URLs are allowed outside dev mode".into());
    }
    match url.host() {
        Some(url::Host::Domain(_)) => Ok(()),
        _ => Err("the URL must use a host name, not an IP address".into()),
    }
}
