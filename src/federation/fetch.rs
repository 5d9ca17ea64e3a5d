//! Our signed GETs of peers' documents, and WebFinger.
//!
//! The federation library's fetcher refuses hosts that are IP literals ("Url must have a
//! domain", in its `verify_url_valid`, even in debug mode), and its debug flag makes WebFinger use
//! http for every peer. Dev mode only needs loopback and private addresses allowed: so fetching is
//! done here, with `check_outgoing_url` deciding what may be fetched (dev mode: http or https,
//! names or IP literals; otherwise https with a host name), the client's resolver refusing
//! internal addresses outside dev mode, and every GET signed by the instance actor.

use super::{check_outgoing_url, FedData, FederationError};
use serde_json::Value;
use url::Url;

/// The largest document read from a peer (as the library's fetcher did).
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

const ACTIVITY_JSON: &str =
    r#"application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams""#;
const JRD_JSON: &str = "application/jrd+json, application/json";

/// A document fetched from a peer and the URL it came from (after a redirect, or from its `id`).
#[derive(Debug)]
pub struct Fetched {
    pub url: Url,
    pub object: Value,
}

/// Why a GET failed; `connect` says no HTTP answer came at all (refused, TLS, timeout).
struct Failure {
    reason: String,
    connect: bool,
}

impl Failure {
    fn into_error(self, url: &Url) -> FederationError {
        FederationError::Fetch { url: url.to_string(), reason: self.reason }
    }
}

/// Fetches an ActivityPub document: its `id` must be the URL it was fetched from; when it is
/// another URL on the same server, that one is fetched instead (once).
pub async fn object(data: &FedData, url: &Url) -> Result<Fetched, FederationError> {
    let fetched = document(data, url).await?;
    match fetched.object.get("id").and_then(Value::as_str).and_then(|id| Url::parse(id).ok()) {
        Some(id) if id == fetched.url => Ok(fetched),
        Some(id) if same_server(&id, &fetched.url) => {
            let again = document(data, &id).await?;
            if again.object.get("id").and_then(Value::as_str) != Some(again.url.as_str()) {
                return Err(FederationError::Fetch {
                    url: id.to_string(),
                    reason: "the document's id is not the URL it was fetched from".into(),
                });
            }
            Ok(again)
        }
        _ => Err(FederationError::Fetch {
            url: url.to_string(),
            reason: "the document's id is missing or on another server than its URL".into(),
        }),
    }
}

/// Fetches an ActivityPub document without checking its `id` (a key document, which some servers
/// serve as their actor's minimal profile).
pub async fn document(data: &FedData, url: &Url) -> Result<Fetched, FederationError> {
    let (final_url, content_type, body) = get(data, url, ACTIVITY_JSON).await.map_err(|f| f.into_error(url))?;
    let content_type = content_type.unwrap_or_default().to_ascii_lowercase();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence != "application/activity+json" && essence != "application/ld+json" {
        return Err(FederationError::Fetch {
            url: url.to_string(),
            reason: format!("the answer is `{content_type}`, not application/activity+json"),
        });
    }
    let object = serde_json::from_slice(&body)
        .map_err(|e| FederationError::Fetch { url: url.to_string(), reason: format!("not JSON: {e}") })?;
    if data.app_data().urls.is_local(&final_url) {
        return Err(FederationError::NotFound);
    }
    Ok(Fetched { url: final_url, object })
}

/// Two URLs on the same server (host and port).
pub fn same_server(a: &Url, b: &Url) -> bool {
    let server = crate::urls::Authority::of_url;
    server(a).is_some() && server(a) == server(b)
}

/// One signed GET, following at most one redirect; the body read up to [`MAX_DOCUMENT_BYTES`].
async fn get(data: &FedData, url: &Url, accept: &str) -> Result<(Url, Option<String>, Vec<u8>), Failure> {
    let state = data.app_data();
    let mut url = url.clone();
    for redirects in 0..2 {
        check_outgoing_url(&url, state.config.dev_mode()).map_err(|reason| Failure { reason, connect: false })?;
        let client = reqwest_middleware::ClientWithMiddleware::from(state.http.clone());
        let request = client.get(url.as_str()).header("accept", accept);
        let request = data
            .sign_request(request, bytes::Bytes::new())
            .await
            .map_err(|e| Failure { reason: format!("cannot sign the request: {e}"), connect: false })?;
        let response = state.http.execute(request).await.map_err(|e| {
            let reason = error_chain(&e);
            // A certificate refused means a TLS server is there: never a reason to try http.
            let connect = (e.is_connect() || e.is_timeout()) && !reason.contains("certificate");
            Failure { reason, connect }
        })?;
        let status = response.status();
        if status.is_redirection() && redirects == 0 {
            let location = response.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default();
            url = url
                .join(location)
                .map_err(|e| Failure { reason: format!("redirected to `{location}`: {e}"), connect: false })?;
            continue;
        }
        if !status.is_success() {
            return Err(Failure { reason: format!("the server answered {status}"), connect: false });
        }
        let content_type = response.headers().get("content-type").and_then(|c| c.to_str().ok()).map(str::to_string);
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) =
            response.chunk().await.map_err(|e| Failure { reason: error_chain(&e), connect: false })?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(Failure {
                    reason: format!("the document is larger than {} KiB", MAX_DOCUMENT_BYTES / 1024),
                    connect: false,
                });
            }
            body.extend_from_slice(&chunk);
        }
        return Ok((url, content_type, body));
    }
    Err(Failure { reason: "redirected more than once".into(), connect: false })
}

/// An error with its causes (reqwest's own message says little: "error sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What a WebFinger answer says: the actor it names (its `self` link), and the handle it gives
/// as the account's (`subject`, without `acct:`), when it gives one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finger {
    pub actor: Url,
    pub subject: Option<String>,
}

/// Resolves `name@domain` to the actor URL its server's WebFinger names.
///
/// Over https always, as peers serve it; in dev mode only, a server that does not answer over
/// https at all (refused, not TLS) is asked again over http, which is what test and staging peers
/// on loopback serve. An https peer is never downgraded when it answers, whatever it answers.
pub async fn webfinger(data: &FedData, handle: &str) -> Result<Finger, FederationError> {
    let bad = |reason: &str| FederationError::BadRequest(format!("`{handle}`: {reason}"));
    let Some((name, domain)) = handle.split_once('@') else { return Err(bad("not name@domain")) };
    if name.is_empty() || domain.is_empty() || domain.contains(['/', '?', '#', '@', '\\']) {
        return Err(bad("not name@domain"));
    }
    let at = |scheme: &str| -> Result<Url, FederationError> {
        let mut url = Url::parse(&format!("{scheme}://{domain}/.well-known/webfinger"))
            .map_err(|e| bad(&format!("the domain is not a host name: {e}")))?;
        url.query_pairs_mut().append_pair("resource", &format!("acct:{handle}"));
        Ok(url)
    };
    // Errors name the handle typed, and the WebFinger URL asked.
    let failed = |url: &Url, failure: Failure| FederationError::Fetch {
        url: format!("acct:{handle}"),
        reason: format!("WebFinger at {url}: {}", failure.reason),
    };
    let https = at("https")?;
    let (found_at, body) = match get(data, &https, JRD_JSON).await {
        Ok((url, _, body)) => (url, body),
        Err(failure) if failure.connect && data.app_data().config.dev_mode() => {
            let http = at("http")?;
            tracing::debug!(%handle, reason = %failure.reason, "no WebFinger over https; dev mode asks over http");
            get(data, &http, JRD_JSON).await.map(|(url, _, body)| (url, body)).map_err(|f| failed(&http, f))?
        }
        Err(failure) => return Err(failed(&https, failure)),
    };
    let jrd: Value = serde_json::from_slice(&body)
        .map_err(|e| FederationError::Fetch { url: found_at.to_string(), reason: format!("not JSON: {e}") })?;
    let links = jrd.get("links").and_then(Value::as_array).cloned().unwrap_or_default();
    let actor = links
        .iter()
        .filter(|link| link.get("rel").and_then(Value::as_str) == Some("self"))
        .filter(|link| link.get("type").and_then(Value::as_str).is_some_and(|t| t.starts_with("application/")))
        .find_map(|link| link.get("href").and_then(Value::as_str).and_then(|href| Url::parse(href).ok()))
        .ok_or_else(|| FederationError::Fetch {
            url: found_at.to_string(),
            reason: "the WebFinger answer names no ActivityPub actor (a `self` link)".into(),
        })?;
    let subject = jrd.get("subject").and_then(Value::as_str).map(|s| s.trim_start_matches("acct:").to_string());
    Ok(Finger { actor, subject })
}
