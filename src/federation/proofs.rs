//! Object integrity proofs (FEP-8b32) with the `eddsa-jcs-2022` cryptosuite, and our actors'
//! Ed25519 keys, published as FEP-521a `Multikey`s under `assertionMethod`.
//!
//! A proof lets an activity be forwarded by someone else (the collective's Group forwards a
//! member's `Update`): whoever receives it checks the author's own key, not the forwarder's HTTP
//! signature. The algorithm is the W3C vc-di-eddsa one: `proofValue` = `z` + base58btc of the
//! Ed25519 signature of SHA-256(JCS(proof options)) ‖ SHA-256(JCS(document without its proof)).
//! The proof is written as Fedify's `signObject` writes it (`created` to the second, the
//! document's `@context` repeated in the proof), so Fedify and Mastodon hash the same options.
//!
//! JCS (RFC 8785) and base58btc are written here: serializing a `serde_json::Value` canonically
//! is short, and the crates that do it switch on serde_json's `float_roundtrip`, which rebuilds
//! everything above serde_json. Numbers follow ECMAScript's `Number.prototype.toString`, built
//! from Rust's shortest round-trip digits.

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{self, Ed25519KeyPair, KeyPair, UnparsedPublicKey},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use chrono::NaiveDateTime;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
pub const PROOF_TYPE: &str = "DataIntegrityProof";
pub const PROOF_PURPOSE: &str = "assertionMethod";
/// The fragment of our actors' Ed25519 key ids: `<actor>#ed25519-key`.
pub const KEY_FRAGMENT: &str = "ed25519-key";
/// The multicodec prefix of an Ed25519 public key (0xed, as a varint).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProofError {
    #[error("the document has no `proof`")]
    NoProof,
    #[error("the proof is malformed: {0}")]
    Malformed(String),
    #[error("the proof's cryptosuite is `{0}`: only `eddsa-jcs-2022` (DataIntegrityProof) is accepted")]
    WrongCryptosuite(String),
    #[error("the proof does not match the document (altered, or signed by another key)")]
    Mismatch,
    #[error("the document cannot be canonicalised (RFC 8785): {0}")]
    NotCanonical(String),
    #[error("the Ed25519 key is invalid: {0}")]
    InvalidKey(String),
}

// ---------------------------------------------------------------- keys

/// One of our actors' Ed25519 keys: parsed once, with its stored forms.
pub struct Ed25519Key {
    pair: Ed25519KeyPair,
    pkcs8_base64: String,
    multibase: String,
}

impl Ed25519Key {
    pub fn generate() -> Result<Ed25519Key, ProofError> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| ProofError::InvalidKey("cannot generate an Ed25519 key".into()))?;
        Ed25519Key::from_pkcs8_base64(&STANDARD.encode(document.as_ref()), None)
    }

    /// Reads a stored PKCS#8 key; with `expected`, checks it is the private half of that Multikey.
    pub fn from_pkcs8_base64(pkcs8_base64: &str, expected: Option<&str>) -> Result<Ed25519Key, ProofError> {
        let der = STANDARD
            .decode(pkcs8_base64.trim())
            .map_err(|e| ProofError::InvalidKey(format!("the private key is not base64: {e}")))?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|e| ProofError::InvalidKey(format!("the private key is not an Ed25519 PKCS#8 key: {e}")))?;
        let multibase = multikey(pair.public_key().as_ref());
        if let Some(expected) = expected {
            if expected != multibase {
                return Err(ProofError::InvalidKey(format!(
                    "the private key's public half is {multibase}, not {expected}"
                )));
            }
        }
        Ok(Ed25519Key { pair, pkcs8_base64: pkcs8_base64.trim().to_string(), multibase })
    }

    #[cfg(test)]
    fn from_seed(seed: &[u8]) -> Ed25519Key {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).unwrap();
        let multibase = multikey(pair.public_key().as_ref());
        Ed25519Key { pair, pkcs8_base64: String::new(), multibase }
    }

    pub fn pkcs8_base64(&self) -> &str {
        &self.pkcs8_base64
    }

    /// The public key as FEP-521a writes it: `z6Mk…`.
    pub fn multibase(&self) -> &str {
        &self.multibase
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

/// `z` + base58btc(0xed 0x01 ‖ key): an Ed25519 public key as a Multikey.
pub fn multikey(public_key: &[u8]) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(public_key);
    format!("z{}", base58_encode(&bytes))
}

/// The 32 bytes of an Ed25519 Multikey (`z6Mk…`), or why it is not one.
pub fn ed25519_from_multikey(multibase: &str) -> Result<Vec<u8>, ProofError> {
    let body = multibase
        .strip_prefix('z')
        .ok_or_else(|| ProofError::InvalidKey("publicKeyMultibase must start with `z` (base58btc)".into()))?;
    let bytes =
        base58_decode(body).ok_or_else(|| ProofError::InvalidKey("publicKeyMultibase is not base58btc".into()))?;
    match bytes.strip_prefix(&ED25519_PUB[..]) {
        Some(key) if key.len() == 32 => Ok(key.to_vec()),
        Some(_) => Err(ProofError::InvalidKey("the Ed25519 key is not 32 bytes long".into())),
        None => Err(ProofError::InvalidKey("publicKeyMultibase is not an Ed25519 key (multicodec 0xed)".into())),
    }
}

/// The id of an actor's Ed25519 key.
pub fn key_id(actor: &url::Url) -> String {
    format!("{actor}#{KEY_FRAGMENT}")
}

// ---------------------------------------------------------------- proofs

/// `document` (an object without `proof`) with an `eddsa-jcs-2022` proof by `key`.
pub fn sign(
    document: &Value,
    key: &Ed25519Key,
    verification_method: &str,
    created: NaiveDateTime,
) -> Result<Value, ProofError> {
    let Value::Object(map) = document else {
        return Err(ProofError::Malformed("only an object can carry a proof".into()));
    };
    if map.contains_key("proof") {
        return Err(ProofError::Malformed("the document already has a proof".into()));
    }
    let mut options = Map::new();
    options.insert("type".into(), PROOF_TYPE.into());
    options.insert("cryptosuite".into(), CRYPTOSUITE.into());
    options.insert("created".into(), created.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into());
    options.insert("verificationMethod".into(), verification_method.into());
    options.insert("proofPurpose".into(), PROOF_PURPOSE.into());
    if let Some(context) = map.get("@context") {
        options.insert("@context".into(), context.clone());
    }
    let options = Value::Object(options);
    let signature = key.sign(&hash_data(&options, document)?);
    let mut proof = options;
    proof["proofValue"] = format!("z{}", base58_encode(&signature)).into();
    let mut signed = map.clone();
    signed.insert("proof".into(), proof);
    Ok(Value::Object(signed))
}

/// The `eddsa-jcs-2022` proof of `document`, checked enough to know which key to ask for: its
/// `verificationMethod`. The proof may be alone or in a set; the first of our cryptosuite is used.
pub fn proof_of(document: &Value) -> Result<&Map<String, Value>, ProofError> {
    let proof = document.get("proof").ok_or(ProofError::NoProof)?;
    let candidates: Vec<&Value> = match proof {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut other_suite = None;
    for candidate in candidates {
        let Value::Object(p) = candidate else {
            return Err(ProofError::Malformed("a proof must be an object".into()));
        };
        let suite = p.get("cryptosuite").and_then(Value::as_str).unwrap_or("");
        let kind = p.get("type").and_then(Value::as_str).unwrap_or("");
        if suite == CRYPTOSUITE && kind == PROOF_TYPE {
            return Ok(p);
        }
        other_suite.get_or_insert(if suite.is_empty() { kind.to_string() } else { suite.to_string() });
    }
    Err(ProofError::WrongCryptosuite(other_suite.unwrap_or_default()))
}

/// The `verificationMethod` of the document's proof.
pub fn verification_method(document: &Value) -> Result<String, ProofError> {
    proof_of(document)?
        .get("verificationMethod")
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(m) => m.get("id").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .ok_or_else(|| ProofError::Malformed("the proof has no `verificationMethod`".into()))
}

/// A 64-byte Ed25519 signature is at most 88 base58 characters; anything longer is refused before
/// it is decoded (the decoding is quadratic in its length).
const MAX_PROOF_VALUE_CHARS: usize = 90;

/// The cheap checks of a proof, before anything is fetched to verify it: its purpose, and a
/// `proofValue` of a signature's length.
pub fn precheck(document: &Value) -> Result<(), ProofError> {
    let proof = proof_of(document)?;
    if proof.get("proofPurpose").and_then(Value::as_str) != Some(PROOF_PURPOSE) {
        return Err(ProofError::Malformed("the proofPurpose must be `assertionMethod`".into()));
    }
    let value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .ok_or_else(|| ProofError::Malformed("the proof has no `proofValue`".into()))?;
    if !value.starts_with('z') || value.len() > MAX_PROOF_VALUE_CHARS {
        return Err(ProofError::Malformed("the proofValue is not `z` + a base58btc Ed25519 signature".into()));
    }
    Ok(())
}

/// When the document's proof says it was made, if it says so in RFC 3339.
pub fn created(document: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = proof_of(document).ok()?.get("created")?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&chrono::Utc))
}

/// Checks the document's `eddsa-jcs-2022` proof against an Ed25519 public key (32 bytes).
pub fn verify(document: &Value, public_key: &[u8]) -> Result<(), ProofError> {
    precheck(document)?;
    let proof = proof_of(document)?;
    let value = proof.get("proofValue").and_then(Value::as_str).unwrap_or_default();
    let signature = value
        .strip_prefix('z')
        .and_then(base58_decode)
        .filter(|s| s.len() == 64)
        .ok_or_else(|| ProofError::Malformed("the proofValue is not `z` + a base58btc Ed25519 signature".into()))?;
    let mut options = proof.clone();
    options.remove("proofValue");
    let mut unsecured = document.as_object().cloned().unwrap_or_default();
    unsecured.remove("proof");
    if let Some(context) = options.get("@context") {
        // The document's context must start with the proof's (vc-di-eddsa, "Verify Proof").
        let as_list = |v: &Value| match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        let (doc_context, proof_context) =
            (as_list(unsecured.get("@context").unwrap_or(&Value::Null)), as_list(context));
        if !doc_context.starts_with(&proof_context) {
            return Err(ProofError::Mismatch);
        }
    }
    let data = hash_data(&Value::Object(options), &Value::Object(unsecured))?;
    UnparsedPublicKey::new(&signature::ED25519, public_key).verify(&data, &signature).map_err(|_| ProofError::Mismatch)
}

/// SHA-256(JCS(options)) ‖ SHA-256(JCS(document)).
fn hash_data(options: &Value, document: &Value) -> Result<Vec<u8>, ProofError> {
    let mut data = Sha256::digest(jcs(options)?.as_bytes()).to_vec();
    data.extend_from_slice(&Sha256::digest(jcs(document)?.as_bytes()));
    Ok(data)
}

// ---------------------------------------------------------------- JCS (RFC 8785)

/// The JSON Canonicalization Scheme text of `value`.
pub fn jcs(value: &Value) -> Result<String, ProofError> {
    let mut out = String::new();
    write_jcs(value, &mut out)?;
    Ok(out)
}

fn write_jcs(value: &Value, out: &mut String) -> Result<(), ProofError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&jcs_number(n)?),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // Names sort by their UTF-16 code units (RFC 8785 §3.2.3).
            entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (name, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_jcs(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// RFC 8785 §3.2.2.2: only `"`, `\` and the controls are escaped, with the short forms first.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A number as ECMAScript's `Number.prototype.toString` writes the IEEE-754 double it denotes.
fn jcs_number(n: &serde_json::Number) -> Result<String, ProofError> {
    const EXACT: u64 = 1 << 53;
    if let Some(i) = n.as_u64().filter(|i| *i <= EXACT) {
        return Ok(i.to_string());
    }
    if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT) {
        return Ok(i.to_string());
    }
    let f = n.as_f64().ok_or_else(|| ProofError::NotCanonical(format!("{n} is not a number")))?;
    es_number(f)
}

fn es_number(f: f64) -> Result<String, ProofError> {
    if !f.is_finite() {
        return Err(ProofError::NotCanonical(format!("{f} has no JSON form")));
    }
    if f == 0.0 {
        return Ok("0".into());
    }
    if f < 0.0 {
        return Ok(format!("-{}", es_number(-f)?));
    }
    // Rust's `{:e}` gives the shortest digits that round-trip: `d.ddde±x`.
    let formatted = format!("{f:e}");
    let (mantissa, exponent) = formatted.split_once('e').expect("`{:e}` writes an exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().expect("`{:e}` writes an integer exponent");
    let (k, n) = (digits.len() as i32, exponent + 1);
    Ok(if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let e = (n - 1).abs();
        if k == 1 {
            format!("{digits}e{sign}{e}")
        } else {
            format!("{}.{}e{sign}{e}", &digits[..1], &digits[1..])
        }
    })
}

// ---------------------------------------------------------------- base58btc

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

pub fn base58_encode(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    // Base-58 digits, least significant first.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &byte in &bytes[zeros..] {
        let mut carry = u32::from(byte);
        for digit in &mut digits {
            carry += u32::from(*digit) << 8;
            *digit = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = "1".repeat(zeros);
    out.extend(digits.iter().rev().map(|d| ALPHABET[*d as usize] as char));
    out
}

/// Decodes base58btc; None for a character outside the alphabet, or for a text longer than any
/// key or signature we read (the decoding is quadratic in its length).
pub fn base58_decode(text: &str) -> Option<Vec<u8>> {
    if text.len() > 2 * MAX_PROOF_VALUE_CHARS {
        return None;
    }
    let zeros = text.bytes().take_while(|b| *b == b'1').count();
    // Bytes, least significant first.
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.bytes().skip(zeros) {
        let mut carry = ALPHABET.iter().position(|a| *a == c)? as u32;
        for byte in &mut bytes {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_overlong_proof_value_is_refused_before_it_is_decoded() {
        let long = format!("z{}", "2".repeat(1 << 20));
        let document = serde_json::json!({"proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "proofPurpose": "assertionMethod",
            "verificationMethod": "https://a.example/u/a#ed25519-key", "proofValue": long}});
        assert!(matches!(precheck(&document), Err(ProofError::Malformed(_))));
        assert!(matches!(verify(&document, &[0; 32]), Err(ProofError::Malformed(_))));
        assert_eq!(base58_decode(&"2".repeat(1 << 20)), None);
    }

    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/proofs/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn w3c_key() -> Ed25519Key {
        let pair = fixture("w3c-key-pair.json");
        let private = base58_decode(pair["privateKeyMultibase"].as_str().unwrap().strip_prefix('z').unwrap()).unwrap();
        // Multicodec ed25519-priv (0x1300, varint 0x80 0x26), then the 32-byte seed.
        assert_eq!(&private[..2], &[0x80, 0x26]);
        let key = Ed25519Key::from_seed(&private[2..]);
        assert_eq!(key.multibase(), pair["publicKeyMultibase"].as_str().unwrap());
        key
    }

    #[test]
    fn the_w3c_eddsa_jcs_2022_vector_verifies_and_is_signed_again_identically() {
        let signed = fixture("w3c-eddsa-jcs-2022.json");
        let key = w3c_key();
        let public = ed25519_from_multikey(key.multibase()).unwrap();
        assert_eq!(verify(&signed, &public), Ok(()));
        let vm = verification_method(&signed).unwrap();
        assert!(vm.starts_with("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#"));
        let mut unsigned = signed.clone();
        unsigned.as_object_mut().unwrap().remove("proof");
        let created = chrono::NaiveDate::from_ymd_opt(2023, 2, 24).unwrap().and_hms_opt(23, 36, 38).unwrap();
        let again = sign(&unsigned, &key, &vm, created).unwrap();
        assert_eq!(again["proof"], signed["proof"]);
        // The W3C's canonical document (canonDocJCS.txt).
        assert_eq!(
            jcs(&unsigned).unwrap(),
            r#"{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],"credentialSubject":{"alumniOf":"The School of Examples","id":"did:example:abcdefgh"},"description":"A minimum viable example of an Alumni Credential.","id":"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33","issuer":"https://vc.example/issuers/5678","name":"Alumni Credential","type":["VerifiableCredential","AlumniCredential"],"validFrom":"2023-01-01T00:00:00Z"}"#
        );
    }

    /// Made by Fedify 1.5.9's `signObject` with the W3C key (`tests/interop/proof.mjs sign`,
    /// see tests/interop/README.md): a proof another implementation wrote verifies here.
    #[test]
    fn a_proof_signed_by_fedify_verifies_and_is_signed_again_identically() {
        let signed = fixture("fedify.json");
        let key = w3c_key();
        let public = ed25519_from_multikey(key.multibase()).unwrap();
        assert_eq!(verify(&signed, &public), Ok(()));
        let mut tampered = signed.clone();
        tampered["object"]["content"] = "<p>Édité : « vendredi »</p>".into();
        assert_eq!(verify(&tampered, &public), Err(ProofError::Mismatch));
        let mut unsigned = signed.clone();
        unsigned.as_object_mut().unwrap().remove("proof");
        let created = chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(8, 0, 0).unwrap();
        let vm = verification_method(&signed).unwrap();
        let ours = sign(&unsigned, &key, &vm, created).unwrap();
        // The same fields (in another order, which JCS ignores), hence the same proofValue.
        let mut theirs = signed["proof"].as_object().unwrap().clone();
        theirs.sort_keys();
        let mut mine = ours["proof"].as_object().unwrap().clone();
        mine.sort_keys();
        assert_eq!(mine, theirs);
    }

    #[test]
    fn hostile_variants_are_refused_with_their_reason() {
        let signed = fixture("w3c-eddsa-jcs-2022.json");
        let public = ed25519_from_multikey(w3c_key().multibase()).unwrap();
        let mut tampered = signed.clone();
        tampered["credentialSubject"]["alumniOf"] = "The School of Forgeries".into();
        assert_eq!(verify(&tampered, &public), Err(ProofError::Mismatch));
        let mut later = signed.clone();
        later["proof"]["created"] = "2024-02-24T23:36:38Z".into();
        assert_eq!(verify(&later, &public), Err(ProofError::Mismatch));
        let mut other_context = signed.clone();
        other_context["proof"]["@context"] = json!(["https://www.w3.org/ns/activitystreams"]);
        assert_eq!(verify(&other_context, &public), Err(ProofError::Mismatch));
        let mut suite = signed.clone();
        suite["proof"]["cryptosuite"] = "eddsa-rdfc-2022".into();
        assert_eq!(verify(&suite, &public), Err(ProofError::WrongCryptosuite("eddsa-rdfc-2022".into())));
        let mut none = signed.clone();
        none.as_object_mut().unwrap().remove("proof");
        assert_eq!(verify(&none, &public), Err(ProofError::NoProof));
        let mut garbled = signed.clone();
        garbled["proof"]["proofValue"] = "z0OIl".into();
        assert!(matches!(verify(&garbled, &public), Err(ProofError::Malformed(_))));
        let mut purpose = signed.clone();
        purpose["proof"]["proofPurpose"] = "authentication".into();
        assert!(matches!(verify(&purpose, &public), Err(ProofError::Malformed(_))));
        let other = Ed25519Key::generate().unwrap();
        let other_public = ed25519_from_multikey(other.multibase()).unwrap();
        assert_eq!(verify(&signed, &other_public), Err(ProofError::Mismatch));
        // A proof set: the eddsa-jcs-2022 one is used.
        let mut set = signed.clone();
        set["proof"] = json!([{"type": "RsaSignature2017"}, signed["proof"].clone()]);
        assert_eq!(verify(&set, &public), Ok(()));
    }

    #[test]
    fn our_keys_sign_what_they_verify_and_survive_storage() {
        let key = Ed25519Key::generate().unwrap();
        assert!(key.multibase().starts_with("z6Mk"), "{}", key.multibase());
        let stored = Ed25519Key::from_pkcs8_base64(key.pkcs8_base64(), Some(key.multibase())).unwrap();
        assert_eq!(stored.multibase(), key.multibase());
        let other = Ed25519Key::generate().unwrap();
        assert!(Ed25519Key::from_pkcs8_base64(key.pkcs8_base64(), Some(other.multibase())).is_err());
        assert!(Ed25519Key::from_pkcs8_base64("not base64!", None).is_err());
        let doc = json!({"@context": ["https://www.w3.org/ns/activitystreams"], "type": "Update", "n": 1.5});
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 123_000_000).unwrap().naive_utc();
        let signed = sign(&doc, &key, "https://h.example/actor#ed25519-key", at).unwrap();
        assert_eq!(signed["proof"]["created"], "2023-11-14T22:13:20Z");
        assert_eq!(signed["proof"]["@context"], doc["@context"]);
        assert_eq!(verify(&signed, &ed25519_from_multikey(key.multibase()).unwrap()), Ok(()));
        assert!(sign(&signed, &key, "x", at).is_err(), "a second proof is not added");
        assert!(ed25519_from_multikey("zQ3s").is_err());
        assert!(ed25519_from_multikey("u7QE").is_err());
    }

    #[test]
    fn jcs_follows_rfc_8785() {
        // §3.2.2.3 number examples (as doubles), and §3.2.3's UTF-16 order of names.
        let numbers = [
            (0.0, "0"),
            (-0.0, "0"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (4.5, "4.5"),
            (2e-3, "0.002"),
            (0.000_000_123, "1.23e-7"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (9007199254740994.0, "9007199254740994"),
            (295147905179352830000.0, "295147905179352830000"),
            (333333333.3333333, "333333333.3333333"),
            (-1.5e-9, "-1.5e-9"),
        ];
        for (value, expected) in numbers {
            assert_eq!(es_number(value).unwrap(), expected, "{value:e}");
        }
        assert!(es_number(f64::NAN).is_err());
        let big: Value = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(jcs(&big).unwrap(), "18446744073709552000");
        let value = json!({
            "\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{0080}": "Control", "\u{00f6}": "Latin Small Letter O With Diaeresis"
        });
        assert_eq!(
            jcs(&value).unwrap(),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        );
        let strings = json!({"literals": [null, true, false], "string": "\u{20ac}$\u{000f}\nA'B\"\\\\\"/"});
        assert_eq!(
            jcs(&strings).unwrap(),
            "{\"literals\":[null,true,false],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
    }

    #[test]
    fn base58btc_round_trips_with_leading_zeros() {
        for bytes in [&b""[..], &[0, 0, 1, 2], &[255; 40], b"hello world"] {
            assert_eq!(base58_decode(&base58_encode(bytes)).unwrap(), bytes);
        }
        assert_eq!(base58_encode(b"hello world"), "StV1DL6CwTryKyV");
        assert_eq!(base58_decode("0OIl"), None);
    }
}
