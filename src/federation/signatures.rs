//! HTTP signatures: draft-cavage, built and parsed with http-signature-normalization, and RFC 9421
//! (`rfc9421`), chosen by the request's headers: a `Signature-Input` means RFC 9421.
//!
//! Outgoing POSTs are signed exactly as Mastodon signs them: `(request-target) host date digest
//! content-type`, `algorithm="rsa-sha256"`, keyId `<actor>#main-key`, plus a SHA-256 `Digest`.
//! Incoming requests must sign the request target, a `Date` (or `(created)`) and, for POST, the
//! `Digest`, which must match the body.

pub use super::httpsig::{host_header, SignatureError, CLOCK_SKEW};
use super::{
    httpsig::unix_seconds,
    keys::{self, SigningKey},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use http_signature_normalization::{
    verify::{Algorithm, DeprecatedAlgorithm},
    Config as SigConfig,
};
use sha2::{Digest, Sha256};
use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use url::Url;

pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(Sha256::digest(body)))
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{}", url.path(), q),
        None => url.path().to_string(),
    }
}

/// The headers to send with a signed POST of `body` to `inbox`, dated `now` (the app's clock).
pub fn sign_post(
    inbox: &Url,
    body: &[u8],
    key_id: &str,
    key: &SigningKey,
    now: SystemTime,
) -> Result<Vec<(String, String)>, keys::KeyError> {
    sign_post_with_digest(inbox, &digest_header(body), key_id, key, now)
}

/// [`sign_post`] for a body whose `Digest` header was computed once already (a fan-out sends the
/// same body to every inbox: it is hashed once, and only the signature is made per inbox).
pub fn sign_post_with_digest(
    inbox: &Url,
    digest: &str,
    key_id: &str,
    key: &SigningKey,
    now: SystemTime,
) -> Result<Vec<(String, String)>, keys::KeyError> {
    let mut headers = BTreeMap::new();
    headers.insert("host".to_string(), host_header(inbox));
    headers.insert("date".to_string(), httpdate::fmt_http_date(now));
    headers.insert("digest".to_string(), digest.to_string());
    headers.insert("content-type".to_string(), crate::federation::protocol::ACTIVITY_JSON.to_string());
    let signed = SigConfig::new()
        .mastodon_compat()
        .require_digest()
        .begin_sign("POST", &path_and_query(inbox), headers.clone())
        .map_err(|_| keys::KeyError::Sign)?
        .sign(key_id.to_string(), |signing_string| key.sign_base64(signing_string.as_bytes()))?;
    // The library labels every signature `hs2019`; we send the label Mastodon itself sends, which
    // every implementation we know accepts, for the same RSA-SHA256 signature.
    let signature = signed.signature_header().replace("algorithm=\"hs2019\"", "algorithm=\"rsa-sha256\"");
    let mut out: Vec<(String, String)> = headers.into_iter().collect();
    out.push(("signature".to_string(), signature));
    Ok(out)
}

/// A signature that parsed and is fresh, waiting for its key.
#[derive(Debug)]
pub struct PendingSignature {
    pub key_id: String,
    scheme: Pending,
}

#[derive(Debug)]
enum Pending {
    Cavage {
        /// Signing strings to try, the exact request target first (see `begin_verify`).
        signing_strings: Vec<String>,
        signature: String,
    },
    Rfc9421(super::rfc9421::Parsed),
}

/// Which HTTP signature scheme a request uses, or a delivery is signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Cavage,
    Rfc9421,
}

impl Scheme {
    /// How it is stored and logged.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Cavage => "draft-cavage",
            Scheme::Rfc9421 => "rfc9421",
        }
    }

    pub fn from_name(name: &str) -> Option<Scheme> {
        [Scheme::Cavage, Scheme::Rfc9421].into_iter().find(|s| s.name() == name)
    }

    pub fn other(self) -> Scheme {
        match self {
            Scheme::Cavage => Scheme::Rfc9421,
            Scheme::Rfc9421 => Scheme::Cavage,
        }
    }
}

impl PendingSignature {
    /// The actor URL that should own the key: the keyId without its fragment.
    pub fn key_owner_hint(&self) -> Option<Url> {
        let mut url = Url::parse(&self.key_id).ok()?;
        url.set_fragment(None);
        Some(url)
    }

    pub fn scheme(&self) -> Scheme {
        match self.scheme {
            Pending::Cavage { .. } => Scheme::Cavage,
            Pending::Rfc9421(_) => Scheme::Rfc9421,
        }
    }

    /// Checks the signature with the key `key_id` of an actor: its RSA `publicKey`
    /// (`public_key_id`, `public_key_pem`) or, for RFC 9421, an Ed25519 `assertionMethod` Multikey
    /// of its document (`actor_json`). `None` when the actor has no key of that id.
    pub fn verify_with_actor(
        &self,
        public_key_id: &str,
        public_key_pem: &str,
        actor_json: &str,
    ) -> Option<Result<(), SignatureError>> {
        if public_key_id == self.key_id {
            return Some(self.verify_with(public_key_pem));
        }
        match &self.scheme {
            Pending::Rfc9421(parsed) => {
                super::rfc9421::ed25519_key_of(actor_json, &self.key_id).map(|key| parsed.verify_ed25519(&key))
            }
            Pending::Cavage { .. } => None,
        }
    }

    pub fn verify_with(&self, public_key_pem: &str) -> Result<(), SignatureError> {
        let (signing_strings, signature) = match &self.scheme {
            Pending::Cavage { signing_strings, signature } => (signing_strings, signature),
            Pending::Rfc9421(parsed) => return parsed.verify_rsa(public_key_pem),
        };
        for signing_string in signing_strings {
            match keys::verify_base64(public_key_pem, signing_string.as_bytes(), signature) {
                Ok(true) => return Ok(()),
                Ok(false) => continue,
                Err(keys::KeyError::PublicKeyTooShort) => return Err(SignatureError::KeyTooShort(self.key_id.clone())),
                Err(_) => return Err(SignatureError::Invalid(self.key_id.clone())),
            }
        }
        Err(SignatureError::Invalid(self.key_id.clone()))
    }
}

/// Parses and checks a request's signature, RFC 9421 when it has a `Signature-Input`, else
/// draft-cavage ([`begin_verify`]). `base` is our public URL, whose scheme and authority RFC
/// 9421's `@target-uri` covers.
pub fn begin_verify_any(
    base: &Url,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &BTreeMap<String, String>,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<PendingSignature, SignatureError> {
    let lower: BTreeMap<String, String> = headers.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect();
    if !lower.contains_key("signature-input") {
        return begin_verify(method, path, query, &lower, body, now);
    }
    let request = super::rfc9421::Request { base, method, path, query, headers: &lower, body };
    let parsed = super::rfc9421::begin_verify(&request, now)?;
    Ok(PendingSignature { key_id: parsed.key_id.clone(), scheme: Pending::Rfc9421(parsed) })
}

/// Parses and checks everything about a request's draft-cavage signature that does not need the
/// key; its freshness is judged against `now` (the app's clock).
///
/// `headers` are the request's headers (names in any case). Some servers sign the request target
/// without its query string: when the request has one, both forms are tried, the exact one first.
pub fn begin_verify(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &BTreeMap<String, String>,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<PendingSignature, SignatureError> {
    let headers: BTreeMap<String, String> = headers.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect();
    if !headers.contains_key("signature") && !headers.contains_key("authorization") {
        return Err(SignatureError::Missing);
    }
    // The header the library reads, and its parameters as the library splits them: the checks
    // below must judge exactly what it will use.
    let params = signature_params(
        headers.get("authorization").or_else(|| headers.get("signature")).map(String::as_str).unwrap_or(""),
    );
    check_timestamps(&params, now)?;
    if let Some(body) = body {
        let digest = headers.get("digest").ok_or(SignatureError::MissingDigest)?;
        let expected = STANDARD.encode(Sha256::digest(body));
        let matches = digest.split(',').any(|part| {
            let (alg, value) = part.trim().split_once('=').unwrap_or(("", ""));
            alg.eq_ignore_ascii_case("sha-256") && value == expected
        });
        if !matches {
            return Err(SignatureError::DigestMismatch);
        }
    }
    if let Some(date) = headers.get("date") {
        if let Ok(date) = httpdate::parse_http_date(date) {
            if date > now + CLOCK_SKEW {
                return Err(SignatureError::FromTheFuture);
            }
        }
    }
    // The library would judge expiry by the wall clock: it is told to accept any age, and
    // `check_expiry` judges it by our clock once the header has parsed.
    let mut config = SigConfig::new().set_expiration(NO_EXPIRY);
    if body.is_some() {
        config = config.require_digest();
    }
    let mut targets = vec![match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    }];
    if query.is_some() {
        targets.push(path.to_string());
    }
    let mut signing_strings = Vec::new();
    let mut parsed = None;
    for target in &targets {
        let unverified = config.begin_verify(method, target, headers.clone()).map_err(map_prepare_error)?;
        signing_strings.push(unverified.signing_string().to_string());
        parsed = Some(unverified);
    }
    let unverified = parsed.expect("at least one request target");
    check_expiry(&params, headers.get("date").map(String::as_str), now)?;
    if unverified.key_id().is_empty() {
        return Err(SignatureError::Malformed("the keyId is empty".into()));
    }
    // The signature must cover a Date or (created): otherwise it could be replayed forever with a
    // fresh, unsigned Date next to it.
    let signed_lines: Vec<&str> = unverified.signing_string().lines().collect();
    let covers = |name: &str| signed_lines.iter().any(|l| l.starts_with(&format!("{name}: ")));
    if !covers("date") && !covers("(created)") {
        return Err(SignatureError::MissingHeaders("date".into()));
    }
    if covers("date") && headers.get("date").and_then(|d| httpdate::parse_http_date(d).ok()).is_none() {
        return Err(SignatureError::Malformed("the Date header is not an HTTP date".into()));
    }
    if !unverified.signing_string().starts_with("(request-target)")
        && !unverified.signing_string().contains("\n(request-target)")
    {
        return Err(SignatureError::MissingHeaders("(request-target)".into()));
    }
    match unverified.algorithm() {
        None | Some(Algorithm::Hs2019) | Some(Algorithm::Deprecated(DeprecatedAlgorithm::RsaSha256)) => {}
        Some(Algorithm::Deprecated(other)) => {
            return Err(SignatureError::UnsupportedAlgorithm(format!("{other:?}").to_lowercase()))
        }
        Some(Algorithm::Unknown(other)) => return Err(SignatureError::UnsupportedAlgorithm(other.clone())),
    }
    Ok(PendingSignature {
        key_id: unverified.key_id().to_string(),
        scheme: Pending::Cavage { signing_strings, signature: unverified.signature().to_string() },
    })
}

/// The parameters of a Signature or Authorization header, split exactly as
/// http-signature-normalization splits them (an optional `Signature` prefix, `,` between
/// parameters, names as written, quotes trimmed, the last of a repeated name wins), so that what
/// we check is what it uses.
fn signature_params(header: &str) -> HashMap<&str, &str> {
    header
        .trim_start_matches("Signature")
        .trim()
        .split(',')
        .filter_map(|part| part.split_once('='))
        .map(|(name, value)| (name, value.trim_matches('"')))
        .collect()
}

/// The keyId a request claims, read as the verifier will read it (the header the library uses,
/// the last of a repeated parameter), without verifying anything. Header names in lower case.
/// What the rate limits charge before verification, so that a second header or a repeated
/// `keyId` cannot put a request in another bucket than the one it will be verified under.
pub fn claimed_key_id(headers: &BTreeMap<String, String>) -> Option<String> {
    if headers.contains_key("signature-input") {
        return super::rfc9421::claimed_key_id(headers).filter(|k| !k.is_empty());
    }
    let header = headers.get("authorization").or_else(|| headers.get("signature"))?;
    signature_params(header).get("keyId").filter(|k| !k.is_empty()).map(|k| k.to_string())
}

/// `created` and `expires` must be plain Unix times, and `created` not in the future: checked
/// here because the library would overflow (and panic) on a huge value.
fn check_timestamps(params: &HashMap<&str, &str>, now: SystemTime) -> Result<(), SignatureError> {
    let now = unix_seconds(now);
    for key in ["created", "expires"] {
        let Some(value) = params.get(key) else { continue };
        let value: u64 = value
            .parse()
            .ok()
            .filter(|v| *v < 1 << 40)
            .ok_or_else(|| SignatureError::Malformed(format!("`{key}` is not a Unix time")))?;
        if key == "created" && value > now + CLOCK_SKEW.as_secs() {
            return Err(SignatureError::FromTheFuture);
        }
    }
    Ok(())
}

/// An age the library never reaches (a century), so that only `check_expiry` decides.
const NO_EXPIRY: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The library's expiry rules, judged at `now`: `(expires)` passed, or `(created)` or `Date`
/// more than [`CLOCK_SKEW`] ago. `check_timestamps` has already refused malformed values.
fn check_expiry(params: &HashMap<&str, &str>, date: Option<&str>, now: SystemTime) -> Result<(), SignatureError> {
    let field = |name: &str| -> Option<SystemTime> {
        let seconds: u64 = params.get(name)?.parse().ok()?;
        Some(UNIX_EPOCH + Duration::from_secs(seconds))
    };
    if let Some(expires) = field("expires").filter(|expires| *expires < now) {
        let ago = now.duration_since(expires).unwrap_or_default();
        // A passed `(expires)` is refused to the second, not after an hour: say how long ago.
        return Err(SignatureError::ExpiresPassed(ago.as_secs().max(1)));
    }
    if field("created").is_some_and(|created| created + CLOCK_SKEW < now) {
        return Err(SignatureError::Expired("(created)"));
    }
    if let Some(date) = date.and_then(|d| httpdate::parse_http_date(d).ok()) {
        if date + CLOCK_SKEW < now {
            return Err(SignatureError::Expired("Date"));
        }
    }
    Ok(())
}

fn map_prepare_error(e: http_signature_normalization::PrepareVerifyError) -> SignatureError {
    use http_signature_normalization::{
        verify::{ExpiredField, ValidateError},
        PrepareVerifyError,
    };
    match e {
        PrepareVerifyError::Validate(ValidateError::Missing) => SignatureError::Missing,
        PrepareVerifyError::Validate(ValidateError::Expired { field, expires, checked }) => match field {
            ExpiredField::Date => SignatureError::Expired("Date"),
            ExpiredField::Created => SignatureError::Expired("(created)"),
            ExpiredField::Expires => {
                SignatureError::ExpiresPassed(checked.duration_since(expires).unwrap_or_default().as_secs().max(1))
            }
        },
        PrepareVerifyError::Parse(e) => SignatureError::Malformed(format!("missing field {}", e.missing_field())),
        PrepareVerifyError::Required(e) => {
            let mut names: Vec<String> = e.headers().iter().cloned().collect();
            names.sort();
            if names.iter().any(|n| n == "digest") {
                SignatureError::MissingDigest
            } else {
                SignatureError::MissingHeaders(names.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system_time() -> SystemTime {
        crate::clock::Clock::system().system_time()
    }

    fn signed_request(body: &[u8]) -> (Url, BTreeMap<String, String>, keys::GeneratedKeys) {
        let keys = keys::generate().unwrap();
        let signer = SigningKey::from_pem(&keys.private_key_pem).unwrap();
        let inbox = Url::parse("http://localhost:3000/inbox").unwrap();
        let headers = sign_post(&inbox, body, "http://a.example/u/x#main-key", &signer, system_time()).unwrap();
        (inbox, headers.into_iter().collect(), keys)
    }

    #[test]
    fn our_signature_verifies_and_looks_like_mastodons() {
        let body = br#"{"type":"Follow"}"#;
        let (inbox, headers, keys) = signed_request(body);
        let sig = &headers["signature"];
        assert!(sig.contains("algorithm=\"rsa-sha256\""), "{sig}");
        assert!(sig.contains("headers=\"(request-target) content-type date digest host\""), "{sig}");
        let pending = begin_verify("POST", inbox.path(), None, &headers, Some(body), system_time()).unwrap();
        assert_eq!(pending.key_owner_hint().unwrap().as_str(), "http://a.example/u/x");
        pending.verify_with(&keys.public_key_pem).unwrap();
        let other = keys::generate().unwrap();
        assert!(matches!(pending.verify_with(&other.public_key_pem), Err(SignatureError::Invalid(_))));
    }

    #[test]
    fn freshness_is_judged_by_the_given_time_not_the_wall_clock() {
        let keys = keys::generate().unwrap();
        let signer = SigningKey::from_pem(&keys.private_key_pem).unwrap();
        let inbox = Url::parse("http://localhost:3000/inbox").unwrap();
        let body = br#"{"type":"Follow"}"#;
        // Years away from the wall clock, as a test's manual clock is.
        let signed_at = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        let headers: BTreeMap<String, String> =
            sign_post(&inbox, body, "http://a.example/u/x#main-key", &signer, signed_at).unwrap().into_iter().collect();
        let verify = |at: SystemTime| begin_verify("POST", inbox.path(), None, &headers, Some(body), at).map(|_| ());
        assert_eq!(verify(signed_at), Ok(()));
        assert_eq!(verify(signed_at + Duration::from_secs(3000)), Ok(()), "within the hour");
        assert_eq!(verify(signed_at + Duration::from_secs(7200)), Err(SignatureError::Expired("Date")));
        assert_eq!(verify(signed_at - Duration::from_secs(7200)), Err(SignatureError::FromTheFuture));
    }

    #[test]
    fn a_passed_expires_says_how_long_ago_not_an_hour() {
        let now = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        let header = "keyId=\"https://x.example/a#k\",signature=\"AA==\",created=1899999990,expires=1899999995";
        let err = check_expiry(&signature_params(header), None, now).unwrap_err();
        assert_eq!(err, SignatureError::ExpiresPassed(5));
        assert_eq!(err.to_string(), "the signature has expired: its (expires) passed 5 seconds ago");
        assert!(!err.to_string().contains("hour"));
    }

    #[test]
    fn huge_or_future_created_values_are_refused_not_panicking() {
        let mut headers = BTreeMap::new();
        headers.insert(
            "signature".into(),
            "keyId=\"https://x.example/a#k\",signature=\"AA==\",created=18446744073709551615".into(),
        );
        let err = begin_verify("POST", "/inbox", None, &headers, None, system_time()).unwrap_err();
        assert!(matches!(err, SignatureError::Malformed(_)), "{err}");
        headers
            .insert("signature".into(), "keyId=\"https://x.example/a#k\",signature=\"AA==\",created=9999999999".into());
        assert_eq!(
            begin_verify("POST", "/inbox", None, &headers, None, system_time()).unwrap_err(),
            SignatureError::FromTheFuture
        );
    }

    /// Found while writing the `signature_header` fuzz target: the checks read the Signature
    /// header first and split it their own way, while the library reads Authorization first, keeps
    /// the last of a repeated parameter and strips `Signature` without its space. Each case below
    /// panicked on an overflow in the library or let an old `created` through.
    #[test]
    fn the_checks_read_the_header_the_library_reads() {
        let now = UNIX_EPOCH + Duration::from_secs(1_773_748_800);
        let fresh = 1_773_748_790u64;
        let verify = |headers: &[(&str, String)]| {
            let headers: BTreeMap<String, String> = headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            begin_verify("GET", "/users/bulletin", None, &headers, None, now).map(|p| p.key_id)
        };
        let signed = |created: &str| {
            format!(r#"keyId="https://x.example/a#k",headers="(request-target) (created)",signature="AA==",{created}"#)
        };
        // Both headers: Authorization is the one the library uses.
        let err = verify(&[
            ("signature", signed(&format!("created={fresh}"))),
            ("authorization", format!("Signature {}", signed("created=18446744073709551615"))),
        ])
        .unwrap_err();
        assert!(matches!(err, SignatureError::Malformed(_)), "{err}");
        let err = verify(&[
            ("signature", signed(&format!("created={fresh}"))),
            ("authorization", format!("Signature {}", signed("created=1000"))),
        ])
        .unwrap_err();
        assert_eq!(err, SignatureError::Expired("(created)"));
        // `Signature` glued to the first parameter.
        let err =
            verify(&[("signature", format!("Signaturecreated=18446744073709551615,{}", signed("")))]).unwrap_err();
        assert!(matches!(err, SignatureError::Malformed(_)), "{err}");
        // A repeated `created`: the library keeps the last one.
        let err = verify(&[("signature", format!("created={fresh},{}", signed("created=1000")))]).unwrap_err();
        assert_eq!(err, SignatureError::Expired("(created)"));
        // An empty keyId names no key.
        let err = verify(&[("signature", signed(&format!("created={fresh}")).replace("https://x.example/a#k", ""))])
            .unwrap_err();
        assert!(matches!(err, SignatureError::Malformed(_)), "{err}");
        // The same header, well formed, is accepted.
        assert_eq!(verify(&[("signature", signed(&format!("created={fresh}")))]).unwrap(), "https://x.example/a#k");
    }

    #[test]
    fn tampered_body_and_missing_signature_are_refused() {
        let body = br#"{"type":"Follow"}"#;
        let (inbox, mut headers, _) = signed_request(body);
        let err = begin_verify("POST", inbox.path(), None, &headers, Some(b"{}"), system_time()).unwrap_err();
        assert_eq!(err, SignatureError::DigestMismatch);
        headers.remove("signature");
        let err = begin_verify("POST", inbox.path(), None, &headers, Some(body), system_time()).unwrap_err();
        assert_eq!(err, SignatureError::Missing);
    }
}
