//! RFC 9421 HTTP Message Signatures, with RFC 9530 `Content-Digest`: verified on every inbox next
//! to draft-cavage (see `signatures`), and signed on a delivery's second knock (`jobs::delivery`).
//!
//! Only what the fediverse uses is read: a `Signature-Input` dictionary member (an inner list of
//! component names, with `created`, `expires`, `keyid` and `alg`), the `Signature` member of the
//! same label, and a `Content-Digest` dictionary. These are RFC 8941 structured fields, parsed
//! here by a strict subset parser (a component with parameters, such as `"@query-param";name=`,
//! is refused by name rather than misread). The crypto is aws-lc-rs, as for draft-cavage.

use super::{
    httpsig::{host_header, unix_seconds, SignatureError, CLOCK_SKEW},
    keys::{self, SigningKey},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha256, Sha512};
use std::{collections::BTreeMap, time::SystemTime};
use url::Url;

/// The label of the signature we send (the one Fedify and Mastodon send).
pub const LABEL: &str = "sig1";

/// What our RFC 9421 signatures cover (Mastodon requires the first two and `created`).
const SIGNED_COMPONENTS: &[&str] = &["@method", "@target-uri", "content-digest", "content-type", "date"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    RsaV15Sha256,
    Ed25519,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RsaV15Sha256 => "rsa-v1_5-sha256",
            Algorithm::Ed25519 => "ed25519",
        }
    }
}

/// A parsed, fresh RFC 9421 signature, waiting for its key.
#[derive(Debug)]
pub struct Parsed {
    pub key_id: String,
    /// `None` when the signature names no `alg`: the key decides.
    pub alg: Option<Algorithm>,
    /// The signature base (RFC 9421 §2.5), what the signature covers.
    pub base: String,
    pub signature: Vec<u8>,
}

/// The request as the verifier sees it; `base` is our public URL (scheme and authority of
/// `@target-uri`, which a proxy in front of us does not change).
pub struct Request<'a> {
    pub base: &'a Url,
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Header names in lower case.
    pub headers: &'a BTreeMap<String, String>,
    pub body: Option<&'a [u8]>,
}

/// The keyid a request claims, read as [`begin_verify`] reads it, without verifying anything
/// (what the inbox rate limit charges).
pub fn claimed_key_id(headers: &BTreeMap<String, String>) -> Option<String> {
    let (_, input) = chosen_signature(headers).ok()?;
    input.params.iter().find(|(k, _)| k == "keyid").and_then(|(_, v)| v.as_str().map(str::to_string))
}

/// Everything about a request's RFC 9421 signature that does not need the key, judged at `now`.
pub fn begin_verify(request: &Request<'_>, now: SystemTime) -> Result<Parsed, SignatureError> {
    let (signature, input) = chosen_signature(request.headers)?;
    let param = |name: &str| input.params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
    let now_secs = unix_seconds(now);
    let time_param = |name: &str| -> Result<Option<u64>, SignatureError> {
        match param(name) {
            None => Ok(None),
            Some(Bare::Integer(v)) if (0..1 << 40).contains(v) => Ok(Some(*v as u64)),
            Some(_) => Err(SignatureError::Malformed(format!("`{name}` is not a Unix time"))),
        }
    };
    let created = time_param("created")?.ok_or(SignatureError::MissingCreated)?;
    if created > now_secs + CLOCK_SKEW.as_secs() {
        return Err(SignatureError::FromTheFuture);
    }
    if let Some(expires) = time_param("expires")? {
        if expires < now_secs {
            return Err(SignatureError::ExpiresPassed((now_secs - expires).max(1)));
        }
    }
    if created + CLOCK_SKEW.as_secs() < now_secs {
        return Err(SignatureError::Expired("created"));
    }
    let key_id = match param("keyid") {
        Some(Bare::String(k)) if !k.is_empty() => k.clone(),
        Some(_) => return Err(SignatureError::Malformed("the keyid is empty or not a string".into())),
        None => return Err(SignatureError::Malformed("the signature has no keyid parameter".into())),
    };
    let alg = match param("alg") {
        None => None,
        Some(Bare::String(a)) if a == "rsa-v1_5-sha256" => Some(Algorithm::RsaV15Sha256),
        Some(Bare::String(a)) if a == "ed25519" => Some(Algorithm::Ed25519),
        Some(Bare::String(a)) => return Err(SignatureError::UnsupportedRfc9421Algorithm(a.clone())),
        Some(_) => return Err(SignatureError::Malformed("`alg` is not a string".into())),
    };
    let covers = |name: &str| input.components.iter().any(|c| c == name);
    for required in ["@method", "@target-uri"] {
        if !covers(required) {
            return Err(SignatureError::MissingComponent(required.into()));
        }
    }
    if let Some(body) = request.body {
        let header = request.headers.get("content-digest").ok_or(SignatureError::MissingContentDigest)?;
        if !covers("content-digest") {
            return Err(SignatureError::MissingComponent("content-digest".into()));
        }
        check_content_digest(header, body)?;
    }
    let mut base = String::new();
    for component in &input.components {
        let value = component_value(request, component)?;
        base.push_str(&format!("\"{component}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {}", input.raw));
    Ok(Parsed { key_id, alg, base, signature })
}

impl Parsed {
    /// Checks the signature with the actor's RSA key (`publicKeyPem`).
    pub fn verify_rsa(&self, public_key_pem: &str) -> Result<(), SignatureError> {
        if self.alg == Some(Algorithm::Ed25519) {
            return Err(SignatureError::AlgorithmMismatch(self.key_id.clone(), "ed25519"));
        }
        match keys::verify_base64(public_key_pem, self.base.as_bytes(), &STANDARD.encode(&self.signature)) {
            Ok(true) => Ok(()),
            Ok(false) => Err(SignatureError::Invalid(self.key_id.clone())),
            Err(keys::KeyError::PublicKeyTooShort) => Err(SignatureError::KeyTooShort(self.key_id.clone())),
            Err(_) => Err(SignatureError::Invalid(self.key_id.clone())),
        }
    }

    /// Checks the signature with a raw 32-byte Ed25519 key (an actor's `Multikey`).
    pub fn verify_ed25519(&self, public_key: &[u8]) -> Result<(), SignatureError> {
        if self.alg == Some(Algorithm::RsaV15Sha256) {
            return Err(SignatureError::AlgorithmMismatch(self.key_id.clone(), "rsa-v1_5-sha256"));
        }
        use aws_lc_rs::signature::{UnparsedPublicKey, ED25519};
        UnparsedPublicKey::new(&ED25519, public_key)
            .verify(self.base.as_bytes(), &self.signature)
            .map_err(|_| SignatureError::Invalid(self.key_id.clone()))
    }
}

/// The Ed25519 key `key_id` of an actor document (`assertionMethod` Multikeys, FEP-521a), as 32
/// raw bytes; `None` when the actor publishes no such key. Its controller must be the actor.
pub fn ed25519_key_of(actor_json: &str, key_id: &str) -> Option<Vec<u8>> {
    let actor: serde_json::Value = serde_json::from_str(actor_json).ok()?;
    let id = actor.get("id")?.as_str()?;
    let methods = match actor.get("assertionMethod")? {
        serde_json::Value::Array(list) => list.clone(),
        single => vec![single.clone()],
    };
    let method = methods.iter().find(|m| m.get("id").and_then(|v| v.as_str()) == Some(key_id))?;
    if method.get("type").and_then(|v| v.as_str()) != Some("Multikey")
        || method.get("controller").and_then(|v| v.as_str()) != Some(id)
    {
        return None;
    }
    let multibase = method.get("publicKeyMultibase")?.as_str()?;
    let bytes = super::proofs::base58_decode(multibase.strip_prefix('z')?)?;
    // The multicodec prefix of an Ed25519 public key (0xed, as a varint).
    match bytes.as_slice() {
        [0xed, 0x01, key @ ..] if key.len() == 32 => Some(key.to_vec()),
        _ => None,
    }
}

/// The headers of a POST of `body` to `inbox` signed with RFC 9421 (`rsa-v1_5-sha256`), at `now`.
pub fn sign_post(
    inbox: &Url,
    body: &[u8],
    key_id: &str,
    key: &SigningKey,
    now: SystemTime,
) -> Result<Vec<(String, String)>, keys::KeyError> {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    headers.insert("host".into(), host_header(inbox));
    headers.insert("date".into(), httpdate::fmt_http_date(now));
    headers.insert("content-type".into(), super::protocol::ACTIVITY_JSON.to_string());
    headers.insert("content-digest".into(), format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body))));
    let components: Vec<String> = SIGNED_COMPONENTS.iter().map(|c| format!("\"{c}\"")).collect();
    let params = format!(
        "({});created={};keyid={};alg=\"{}\"",
        components.join(" "),
        unix_seconds(now),
        sf_string(key_id),
        Algorithm::RsaV15Sha256.name()
    );
    let mut base = String::new();
    for component in SIGNED_COMPONENTS {
        let value = match *component {
            "@method" => "POST".to_string(),
            "@target-uri" => inbox.to_string(),
            header => headers[header].clone(),
        };
        base.push_str(&format!("\"{component}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    let signature = key.sign_base64(base.as_bytes())?;
    headers.insert("signature-input".into(), format!("{LABEL}={params}"));
    headers.insert("signature".into(), format!("{LABEL}=:{signature}:"));
    Ok(headers.into_iter().collect())
}

fn sf_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The value of a covered component in this request (RFC 9421 §2.1, §2.2).
fn component_value(request: &Request<'_>, component: &str) -> Result<String, SignatureError> {
    let authority = host_header(request.base);
    let query = request.query.map(|q| format!("?{q}")).unwrap_or_default();
    Ok(match component {
        "@method" => request.method.to_string(),
        "@target-uri" => format!("{}://{authority}{}{query}", request.base.scheme(), request.path),
        "@authority" => authority.to_lowercase(),
        "@scheme" => request.base.scheme().to_string(),
        "@path" => request.path.to_string(),
        "@query" => {
            if query.is_empty() {
                "?".to_string()
            } else {
                query
            }
        }
        "@request-target" => format!("{}{query}", request.path),
        derived if derived.starts_with('@') => {
            return Err(SignatureError::Malformed(format!("the derived component `{derived}` is not supported")))
        }
        header => {
            request.headers.get(header).map(|v| v.trim().to_string()).ok_or_else(|| {
                SignatureError::Malformed(format!("the signature covers `{header}`, which is not sent"))
            })?
        }
    })
}

/// A `Content-Digest` must hold a sha-256 or sha-512 digest, and each of those it holds must
/// match the body; other algorithms are ignored.
fn check_content_digest(header: &str, body: &[u8]) -> Result<(), SignatureError> {
    let members = parse_dictionary(header).map_err(|e| SignatureError::Malformed(format!("Content-Digest: {e}")))?;
    let mut checked = false;
    for (alg, value) in &members {
        let expected: Vec<u8> = match alg.as_str() {
            "sha-256" => Sha256::digest(body).to_vec(),
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        match parse_item(value) {
            Ok((Bare::Bytes(sent), _)) if sent == expected => checked = true,
            Ok((Bare::Bytes(_), _)) => return Err(SignatureError::ContentDigestMismatch),
            _ => return Err(SignatureError::Malformed(format!("Content-Digest: `{alg}` is not a byte sequence"))),
        }
    }
    if !checked {
        let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        return Err(SignatureError::UnsupportedContentDigest(names.join(", ")));
    }
    Ok(())
}

/// One signature's parameters from `Signature-Input`.
struct Input {
    components: Vec<String>,
    params: Vec<(String, Bare)>,
    /// The member's value as sent: the `@signature-params` line of the signature base.
    raw: String,
}

/// The signature to verify: the first `Signature-Input` member that has a `Signature` of the
/// same label (what Fedify and Mastodon do).
fn chosen_signature(headers: &BTreeMap<String, String>) -> Result<(Vec<u8>, Input), SignatureError> {
    let malformed = |what: &str, e: String| SignatureError::Malformed(format!("{what}: {e}"));
    let inputs = headers.get("signature-input").ok_or(SignatureError::Missing)?;
    let inputs = parse_dictionary(inputs).map_err(|e| malformed("Signature-Input", e))?;
    let signatures = headers.get("signature").ok_or(SignatureError::Missing)?;
    let signatures = parse_dictionary(signatures).map_err(|e| malformed("Signature", e))?;
    for (label, raw) in &inputs {
        let Some((_, signature)) = signatures.iter().find(|(l, _)| l == label) else { continue };
        let signature = match parse_item(signature).map_err(|e| malformed("Signature", e))? {
            (Bare::Bytes(bytes), _) => bytes,
            _ => return Err(malformed("Signature", format!("`{label}` is not a byte sequence"))),
        };
        let (components, params) = parse_inner_list(raw).map_err(|e| malformed("Signature-Input", e))?;
        return Ok((signature, Input { components, params, raw: raw.trim().to_string() }));
    }
    Err(SignatureError::Malformed("no label of Signature-Input has a Signature".into()))
}

/// The parameters of an item, in the order sent (the last of a repeated name wins).
type Params = Vec<(String, Bare)>;

/// A bare item of a structured field (RFC 8941 §3.3), the kinds signatures use. Tokens and
/// booleans are parsed (a parameter we do not read may hold one) but never read.
#[derive(Debug, Clone, PartialEq)]
#[allow(dead_code)]
enum Bare {
    Integer(i64),
    String(String),
    Token(String),
    Bytes(Vec<u8>),
    Boolean(bool),
}

impl Bare {
    fn as_str(&self) -> Option<&str> {
        match self {
            Bare::String(s) => Some(s),
            _ => None,
        }
    }
}

/// The members of a dictionary: each key and its value's text (not yet parsed). A bare key
/// (a `true` boolean) has the value `?1`.
fn parse_dictionary(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut members = Vec::new();
    for member in split_top_level(text)? {
        let member = member.trim();
        if member.is_empty() {
            return Err("an empty member".into());
        }
        let (key, value) = match member.split_once('=') {
            Some((key, value)) if !key.contains(['(', '"', ';']) => (key, value.to_string()),
            _ => (member.split(';').next().unwrap_or(member), "?1".to_string()),
        };
        if !is_key(key) {
            return Err(format!("`{key}` is not a valid key"));
        }
        members.push((key.to_string(), value));
    }
    Ok(members)
}

fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('a'..='z' | '*'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-' | '.' | '*'))
}

/// Splits at the commas outside strings and inner lists.
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let (mut parts, mut start, mut depth, mut in_string, mut escaped) = (Vec::new(), 0, 0, false, false);
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' => depth += 1,
            ')' if depth == 0 => return Err("an unbalanced `)`".into()),
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_string || depth != 0 {
        return Err("an unterminated string or inner list".into());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// An inner list of strings (component names, without parameters of their own) and its
/// parameters.
fn parse_inner_list(text: &str) -> Result<(Vec<String>, Params), String> {
    let text = text.trim();
    let rest = text.strip_prefix('(').ok_or("the value is not an inner list of component names")?;
    let mut items = Vec::new();
    let mut rest = rest.trim_start_matches(' ');
    loop {
        if let Some(after) = rest.strip_prefix(')') {
            rest = after;
            break;
        }
        let (item, after) = take_bare(rest)?;
        let Bare::String(name) = item else { return Err("a component name is not a string".into()) };
        if after.starts_with(';') {
            return Err(format!("the component `{name}` has parameters, which are not supported"));
        }
        if name.is_empty() || name != name.to_lowercase() {
            return Err(format!("the component name `{name}` must be lower case"));
        }
        items.push(name);
        rest = after.trim_start_matches(' ');
        if !rest.starts_with(')') && !after.starts_with(' ') {
            return Err("component names must be separated by spaces".into());
        }
    }
    let (params, rest) = take_params(rest)?;
    if !rest.trim().is_empty() {
        return Err(format!("unexpected text after the parameters: `{}`", rest.trim()));
    }
    Ok((items, params))
}

/// A bare item with its parameters, the whole of `text`.
fn parse_item(text: &str) -> Result<(Bare, Params), String> {
    let (item, rest) = take_bare(text.trim())?;
    let (params, rest) = take_params(rest)?;
    if !rest.trim().is_empty() {
        return Err(format!("unexpected text `{}`", rest.trim()));
    }
    Ok((item, params))
}

fn take_params(mut text: &str) -> Result<(Params, &str), String> {
    let mut params = Vec::new();
    while let Some(rest) = text.strip_prefix(';') {
        let rest = rest.trim_start_matches(' ');
        let end = rest.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.*".contains(c)));
        let (key, after) = rest.split_at(end.unwrap_or(rest.len()));
        if !is_key(key) {
            return Err(format!("`{key}` is not a valid parameter name"));
        }
        let (value, after) = match after.strip_prefix('=') {
            Some(value) => take_bare(value)?,
            None => (Bare::Boolean(true), after),
        };
        params.push((key.to_string(), value));
        text = after;
    }
    Ok((params, text))
}

/// The bare item at the start of `text`, and what follows it.
fn take_bare(text: &str) -> Result<(Bare, &str), String> {
    let mut chars = text.char_indices();
    match chars.next() {
        Some((_, '"')) => {
            let mut value = String::new();
            let mut escaped = false;
            for (i, c) in chars {
                match (escaped, c) {
                    (true, '"' | '\\') => {
                        value.push(c);
                        escaped = false;
                    }
                    (true, _) => return Err("a bad escape in a string".into()),
                    (false, '\\') => escaped = true,
                    (false, '"') => return Ok((Bare::String(value), &text[i + 1..])),
                    (false, c) if (' '..='~').contains(&c) => value.push(c),
                    _ => return Err("a string holds a character that is not printable ASCII".into()),
                }
            }
            Err("an unterminated string".into())
        }
        Some((_, ':')) => {
            let end = text[1..].find(':').ok_or("an unterminated byte sequence")? + 1;
            let bytes = STANDARD.decode(&text[1..end]).map_err(|_| "a byte sequence is not base64".to_string())?;
            Ok((Bare::Bytes(bytes), &text[end + 1..]))
        }
        Some((_, '?')) => match text.get(1..2) {
            Some("1") => Ok((Bare::Boolean(true), &text[2..])),
            Some("0") => Ok((Bare::Boolean(false), &text[2..])),
            _ => Err("a bad boolean".into()),
        },
        Some((_, c)) if c == '-' || c.is_ascii_digit() => {
            let end = text[1..].find(|c: char| !c.is_ascii_digit()).map_or(text.len(), |e| e + 1);
            if text[1..].starts_with('.') || text[end..].starts_with('.') {
                return Err("decimals are not supported here".into());
            }
            let digits = &text[..end];
            if digits.trim_start_matches('-').len() > 15 {
                return Err("an integer has more than 15 digits".into());
            }
            Ok((Bare::Integer(digits.parse().map_err(|_| format!("`{digits}` is not an integer"))?), &text[end..]))
        }
        Some((_, c)) if c.is_ascii_alphabetic() || c == '*' => {
            let end = text
                .find(|c: char| !(c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~:/".contains(c)))
                .unwrap_or(text.len());
            Ok((Bare::Token(text[..end].to_string()), &text[end..]))
        }
        _ => Err(format!("`{}` is not a structured value", text.chars().take(20).collect::<String>())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn verify(
        base: &Url,
        headers: &BTreeMap<String, String>,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Parsed, SignatureError> {
        let request = Request { base, method: "POST", path: "/inbox", query: None, headers, body: Some(body) };
        begin_verify(&request, now)
    }

    #[test]
    fn our_signature_verifies_and_a_tampered_one_does_not() {
        let generated = keys::generate().unwrap();
        let signer = SigningKey::from_pem(&generated.private_key_pem).unwrap();
        let base = Url::parse("https://bulletins.example/").unwrap();
        let inbox = base.join("/inbox").unwrap();
        let body = br#"{"type":"Create"}"#;
        let now = at(1_900_000_000);
        let headers: BTreeMap<String, String> =
            sign_post(&inbox, body, "https://a.example/u/x#main-key", &signer, now).unwrap().into_iter().collect();
        assert!(headers["signature-input"].starts_with(
            "sig1=(\"@method\" \"@target-uri\" \"content-digest\" \"content-type\" \"date\");created=1900000000;"
        ));
        assert_eq!(claimed_key_id(&headers).as_deref(), Some("https://a.example/u/x#main-key"));
        let parsed = verify(&base, &headers, body, now).unwrap();
        assert_eq!(parsed.alg, Some(Algorithm::RsaV15Sha256));
        parsed.verify_rsa(&generated.public_key_pem).unwrap();
        let other = keys::generate().unwrap();
        assert_eq!(parsed.verify_rsa(&other.public_key_pem), Err(SignatureError::Invalid(parsed.key_id.clone())));
        // Another body: the digest no longer matches.
        assert_eq!(verify(&base, &headers, b"{}", now).unwrap_err(), SignatureError::ContentDigestMismatch);
        // Signed for another host: the target URI differs, so the signature does not match.
        let elsewhere = Url::parse("https://other.example/").unwrap();
        let parsed = verify(&elsewhere, &headers, body, now).unwrap();
        assert!(parsed.verify_rsa(&generated.public_key_pem).is_err());
        // Freshness, by the given clock.
        assert_eq!(verify(&base, &headers, body, at(1_900_007_200)).unwrap_err(), SignatureError::Expired("created"));
        assert_eq!(verify(&base, &headers, body, at(1_899_990_000)).unwrap_err(), SignatureError::FromTheFuture);
    }

    #[test]
    fn ed25519_keys_are_read_from_assertion_method_multikeys() {
        use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
        let pair = Ed25519KeyPair::generate().unwrap();
        let public = pair.public_key().as_ref().to_vec();
        // base58btc of 0xed 0x01 + key, as Fedify and Mastodon publish it.
        let mut prefixed = vec![0xed, 0x01];
        prefixed.extend(&public);
        let multibase = format!("z{}", crate::federation::proofs::base58_encode(&prefixed));
        assert!(multibase.starts_with("z6Mk"), "{multibase}");
        let actor = serde_json::json!({
            "id": "https://a.example/users/x",
            "assertionMethod": [{
                "id": "https://a.example/users/x#ed25519-key",
                "type": "Multikey",
                "controller": "https://a.example/users/x",
                "publicKeyMultibase": multibase,
            }],
        })
        .to_string();
        assert_eq!(ed25519_key_of(&actor, "https://a.example/users/x#ed25519-key"), Some(public.clone()));
        assert_eq!(ed25519_key_of(&actor, "https://a.example/users/x#main-key"), None);
        let stolen =
            actor.replace("\"controller\":\"https://a.example/users/x\"", "\"controller\":\"https://b.example/y\"");
        assert_eq!(ed25519_key_of(&stolen, "https://a.example/users/x#ed25519-key"), None);

        let base = Url::parse("https://bulletins.example/").unwrap();
        let body = b"{}";
        let now = at(1_900_000_000);
        let params = "(\"@method\" \"@target-uri\" \"content-digest\");created=1900000000;\
                      keyid=\"https://a.example/users/x#ed25519-key\";alg=\"ed25519\"";
        let digest = format!("sha-512=:{}:", STANDARD.encode(Sha512::digest(body)));
        let signature_base = format!(
            "\"@method\": POST\n\"@target-uri\": https://bulletins.example/inbox\n\"content-digest\": {digest}\n\
             \"@signature-params\": {params}"
        );
        let signature = STANDARD.encode(pair.sign(signature_base.as_bytes()).as_ref());
        let headers = BTreeMap::from([
            ("content-digest".to_string(), digest),
            ("signature-input".to_string(), format!("sig1={params}")),
            ("signature".to_string(), format!("sig1=:{signature}:")),
        ]);
        let parsed = verify(&base, &headers, body, now).unwrap();
        parsed.verify_ed25519(&public).unwrap();
        let other = Ed25519KeyPair::generate().unwrap();
        assert!(parsed.verify_ed25519(other.public_key().as_ref()).is_err());
        let rsa = keys::generate().unwrap();
        assert!(matches!(parsed.verify_rsa(&rsa.public_key_pem), Err(SignatureError::AlgorithmMismatch(..))));
    }

    #[test]
    fn the_inbox_rate_limit_is_charged_to_the_rfc9421_keyid_host() {
        use crate::federation::limits::InboxKey;
        let input = r#"sig1=("@method" "@target-uri");created=1;keyid="https://Fedify.Example./users/a#main-key""#;
        let headers = BTreeMap::from([
            ("signature-input".to_string(), input.to_string()),
            ("signature".to_string(), "sig1=:AAAA:".to_string()),
        ]);
        assert_eq!(InboxKey::of_request(&headers, None), InboxKey::Host("fedify.example".into()));
        // A label without a signature is not the one verified, so not the one charged.
        let mut other = headers.clone();
        other.insert("signature".into(), "sig2=:AAAA:".into());
        assert_eq!(InboxKey::of_request(&other, None), InboxKey::Address(None));
    }

    #[test]
    fn structured_fields_are_parsed_strictly() {
        let (components, params) =
            parse_inner_list(r#"("@method" "@target-uri");created=1;keyid="a\"b";alg="ed25519";x;y=?0"#).unwrap();
        assert_eq!(components, ["@method", "@target-uri"]);
        assert_eq!(params[0], ("created".to_string(), Bare::Integer(1)));
        assert_eq!(params[1], ("keyid".to_string(), Bare::String("a\"b".into())));
        assert_eq!(params[3], ("x".to_string(), Bare::Boolean(true)));
        assert!(parse_inner_list(r#"("@query-param";name="a")"#).unwrap_err().contains("parameters"));
        assert!(parse_inner_list(r#"("@method""date")"#).is_err());
        assert!(parse_inner_list(r#"("@method" "#).is_err());
        assert!(parse_inner_list("@method").is_err());
        let dict = parse_dictionary("sig1=(\"@method\");created=1, sig2=:AAAA:").unwrap();
        assert_eq!(dict[0].0, "sig1");
        assert_eq!(dict[1], ("sig2".to_string(), ":AAAA:".to_string()));
        assert!(parse_dictionary("Sig=:AA==:").is_err());
        assert!(parse_item("99999999999999999999").is_err());
        assert!(matches!(check_content_digest("md5=:AAAA:", b""), Err(SignatureError::UnsupportedContentDigest(_))));
    }

    #[test]
    fn required_components_and_parameters_are_named_when_missing() {
        let base = Url::parse("https://bulletins.example/").unwrap();
        let now = at(1_900_000_000);
        let body = b"{}";
        let digest = format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)));
        let with = |input: &str| {
            BTreeMap::from([
                ("content-digest".to_string(), digest.clone()),
                ("signature-input".to_string(), format!("sig1={input}")),
                ("signature".to_string(), "sig1=:AAAA:".to_string()),
            ])
        };
        let cases = [
            (
                r#"("@target-uri" "content-digest");created=1900000000;keyid="k""#,
                SignatureError::MissingComponent("@method".into()),
            ),
            (
                r#"("@method" "content-digest");created=1900000000;keyid="k""#,
                SignatureError::MissingComponent("@target-uri".into()),
            ),
            (
                r#"("@method" "@target-uri");created=1900000000;keyid="k""#,
                SignatureError::MissingComponent("content-digest".into()),
            ),
            (r#"("@method" "@target-uri" "content-digest");keyid="k""#, SignatureError::MissingCreated),
            (
                r#"("@method" "@target-uri" "content-digest");created=1900000000;keyid="k";alg="hmac-sha256""#,
                SignatureError::UnsupportedRfc9421Algorithm("hmac-sha256".into()),
            ),
            (
                r#"("@method" "@target-uri" "content-digest");created=1899990000;keyid="k""#,
                SignatureError::Expired("created"),
            ),
            (
                r#"("@method" "@target-uri" "content-digest");created=1899999990;expires=1899999995;keyid="k""#,
                SignatureError::ExpiresPassed(5),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(verify(&base, &with(input), body, now).unwrap_err(), expected, "{input}");
        }
        let ok = r#"("@method" "@target-uri" "content-digest");created=1900000000;keyid="k""#;
        let mut headers = with(ok);
        headers.remove("content-digest");
        assert_eq!(verify(&base, &headers, body, now).unwrap_err(), SignatureError::MissingContentDigest);
        assert!(verify(&base, &with(ok), body, now).is_ok());
    }
}
