//! What both HTTP signature schemes (`signatures`: draft-cavage, `rfc9421`) share: the clock skew
//! allowed, the refusals, the `Host` of a URL, Unix seconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// How far a signature's `Date` may be from our clock (Mastodon allows about an hour).
pub const CLOCK_SKEW: Duration = Duration::from_secs(3600);

pub fn host_header(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => String::new(),
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request is not signed: a Signature header is required")]
    Missing,
    #[error("the Signature header cannot be parsed: {0}")]
    Malformed(String),
    #[error("the signature must cover these headers: {0}")]
    MissingHeaders(String),
    #[error("the signature is too old: its {0} is more than an hour ago")]
    Expired(&'static str),
    #[error("the signature has expired: its (expires) passed {0} seconds ago")]
    ExpiresPassed(u64),
    #[error("the signature's Date or (created) is more than an hour in the future")]
    FromTheFuture,
    #[error("the signature algorithm `{0}` is not supported (use rsa-sha256 or hs2019)")]
    UnsupportedAlgorithm(String),
    #[error("the Digest header is missing; POST requests must send and sign a SHA-256 Digest")]
    MissingDigest,
    #[error("the Digest header does not match the body")]
    DigestMismatch,
    #[error("the signature does not match the key {0}")]
    Invalid(String),
    #[error("the RFC 9421 signature must cover the component {0}")]
    MissingComponent(String),
    #[error("the RFC 9421 signature has no `created` parameter; it is required")]
    MissingCreated,
    #[error("the signature algorithm `{0}` is not supported (use rsa-v1_5-sha256 or ed25519)")]
    UnsupportedRfc9421Algorithm(String),
    #[error(
        "the Content-Digest header is missing; POST requests signed with RFC 9421 must send and sign a \
         sha-256 or sha-512 Content-Digest"
    )]
    MissingContentDigest,
    #[error("the Content-Digest header does not match the body")]
    ContentDigestMismatch,
    #[error("the Content-Digest header has no sha-256 or sha-512 digest (it has: {0})")]
    UnsupportedContentDigest(String),
    #[error("the key {0} is not a key for the signature's alg `{1}`")]
    AlgorithmMismatch(String, &'static str),
    #[error("the key {0} is too short: RSA keys must have at least 2048 bits")]
    KeyTooShort(String),
}

pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
