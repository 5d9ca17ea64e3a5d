//! Wire structs: what crosses the network, apart from what we do with it (`activities`).
//!
//! Outgoing documents are built as typed structs; incoming ones are parsed leniently (a string or
//! an object or an array where servers differ) and a missing required field is named in the error.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use url::Url;

pub const ACTIVITY_JSON: &str = "application/activity+json";
pub const LD_JSON_PROFILE: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
pub const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";
/// `DataIntegrityProof` and its terms (FEP-8b32), preloaded by Fedify.
pub const DATA_INTEGRITY_CONTEXT: &str = "https://w3id.org/security/data-integrity/v1";
/// `Multikey` and `publicKeyMultibase` (FEP-521a), preloaded by Fedify.
pub const MULTIKEY_CONTEXT: &str = "https://w3id.org/security/multikey/v1";
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// The `@context` of every document we serve: AS2, security, data integrity and Multikey, and the
/// extension terms declared inline (peers such as Fedify cannot fetch unknown context documents).
/// `assertionMethod` is defined here: Fedify takes it from `did/v1`, whose protected `service`
/// term our `rr:service` would redefine.
pub fn context() -> Value {
    let mut terms = json!({
        "assertionMethod": {"@id": "https://w3id.org/security#assertionMethod", "@type": "@id", "@container": "@set"},
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": "http://joinmastodon.org/ns#",
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value"
    });
    let extension = crate::bulletin::vocab::context_terms();
    let map = terms.as_object_mut().expect("an object");
    for (key, value) in extension.as_object().expect("an object") {
        map.insert(key.clone(), value.clone());
    }
    json!([AS_CONTEXT, SECURITY_CONTEXT, DATA_INTEGRITY_CONTEXT, MULTIKEY_CONTEXT, terms])
}

/// True for the three spellings of the public collection seen in the wild.
pub fn is_public(iri: &str) -> bool {
    iri == PUBLIC || iri == "as:Public" || iri == "Public"
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyDoc {
    pub id: String,
    pub owner: Url,
    pub public_key_pem: String,
}

/// An Ed25519 key as FEP-521a publishes it, under `assertionMethod`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MultikeyDoc {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub controller: Url,
    pub public_key_multibase: String,
}

impl MultikeyDoc {
    /// The `#ed25519-key` of `actor`.
    pub fn of(actor: &Url, multibase: &str) -> MultikeyDoc {
        MultikeyDoc {
            id: super::proofs::key_id(actor),
            kind: "Multikey",
            controller: actor.clone(),
            public_key_multibase: multibase.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Endpoints {
    #[serde(rename = "sharedInbox")]
    pub shared_inbox: Url,
}

#[derive(Debug, Clone, Serialize)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorDoc {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub preferred_username: String,
    pub name: String,
    pub summary: String,
    pub url: Url,
    pub inbox: Url,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<Url>,
    pub endpoints: Endpoints,
    pub public_key: PublicKeyDoc,
    /// The Ed25519 key that signs our object integrity proofs (FEP-521a).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub assertion_method: Vec<MultikeyDoc>,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub published: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachment: Vec<PropertyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_profile: Option<Value>,
    /// The service catalogue (a collection of service documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Url>,
    /// The label document (grades against the charter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Url>,
    /// The collective's Group: its roster, a public collection of the member hosts' actors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Url>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HashtagDoc {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub href: Url,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteDoc {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributed_to: Url,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    pub url: Url,
    pub content: String,
    pub content_map: serde_json::Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    pub sensitive: bool,
    pub tag: Vec<HashtagDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Ronron's extension properties (`bulletinKind`, `changeType`, `state`…).
    #[serde(flatten)]
    pub meta: crate::bulletin::vocab::BulletinMeta,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TombstoneDoc {
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub former_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
}

/// Any activity we send; `object` is an id or an embedded document.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityDoc {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub actor: Url,
    pub object: Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedCollectionDoc {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub total_items: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordered_items: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedCollectionPageDoc {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub part_of: Url,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Url>,
    pub ordered_items: Vec<Value>,
}

// ---------------------------------------------------------------- incoming

/// A reference that may be a bare id or an embedded object carrying an `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdRef(pub String);

impl<'de> Deserialize<'de> for IdRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        id_of(&value)
            .map(IdRef)
            .ok_or_else(|| serde::de::Error::custom("expected an id string or an object with an `id`"))
    }
}

pub fn id_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => map.get("id").and_then(Value::as_str).map(str::to_string),
        Value::Array(items) if items.len() == 1 => id_of(&items[0]),
        _ => None,
    }
}

/// `to`/`cc`: absent, a string, or an array of strings (or of objects with ids).
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(match value {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items.iter().filter_map(id_of).collect(),
        Some(other) => id_of(&other).into_iter().collect(),
    })
}

/// The envelope of any incoming activity: enough to check who sent it and dispatch on `type`.
#[derive(Debug, Clone, Deserialize)]
pub struct IncomingActivity {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: IdRef,
    #[serde(default)]
    pub object: Value,
    #[serde(default, deserialize_with = "one_or_many")]
    pub to: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub cc: Vec<String>,
}

/// Parses an activity body, naming the field that is missing or wrong.
pub fn parse_activity(body: &[u8]) -> Result<IncomingActivity, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        // serde_json stops at 128 levels and names no error code for it: its message does.
        if e.to_string().starts_with("recursion limit exceeded") {
            format!(
                "the body is nested too deeply (more than 128 levels of arrays or objects, line {} column {}): \
                 an activity is a JSON object with a few levels",
                e.line(),
                e.column()
            )
        } else {
            format!("the body is not valid JSON: {e}")
        }
    })?;
    if !value.is_object() {
        let kind = match value {
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            _ => "null",
        };
        return Err(format!("the body must be a JSON object (an activity), not {kind}"));
    }
    for field in ["id", "type", "actor"] {
        if value.get(field).is_none() {
            return Err(format!("the activity has no `{field}`"));
        }
        // A URL parser drops tabs and newlines and escapes other controls: refused instead, so
        // an id is never stored as another string than the one its server sent.
        if let Some(c) = value[field].as_str().and_then(|text| text.chars().find(|c| c.is_control())) {
            return Err(format!("the activity's `{field}` holds a control character (U+{:04X})", c as u32));
        }
    }
    serde_json::from_value(value).map_err(|e| format!("the activity is malformed: {e}"))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingPublicKey {
    pub id: String,
    pub owner: Option<String>,
    pub public_key_pem: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct IncomingEndpoints {
    pub shared_inbox: Option<Url>,
}

/// A remote actor as Mastodon, GoToSocial, Fedify, Lemmy or Ronron publish it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingActor {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "clean_text")]
    pub preferred_username: Option<String>,
    #[serde(default, deserialize_with = "clean_text")]
    pub name: Option<String>,
    pub inbox: Url,
    #[serde(default)]
    pub outbox: Option<Url>,
    #[serde(default)]
    pub endpoints: Option<IncomingEndpoints>,
    #[serde(deserialize_with = "first_key")]
    pub public_key: IncomingPublicKey,
}

/// A peer's text without the characters no feed can carry (controls, U+FFFE/U+FFFF): cleaned as
/// it is read, so that nothing stored from a peer holds them.
fn clean_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| crate::bulletin::render::strip_forbidden(&s)))
}

/// Some servers publish `publicKey` as an array; we use the first RSA key.
fn first_key<'de, D: Deserializer<'de>>(d: D) -> Result<IncomingPublicKey, D::Error> {
    let value = Value::deserialize(d)?;
    let first = match value {
        Value::Array(mut items) if !items.is_empty() => items.remove(0),
        other => other,
    };
    serde_json::from_value(first).map_err(serde::de::Error::custom)
}

/// A post (Note, Article, Page, Question…) as received.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingNote {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    pub attributed_to: Value,
    #[serde(default, deserialize_with = "clean_text")]
    pub content: Option<String>,
    #[serde(default)]
    pub content_map: Option<serde_json::Map<String, Value>>,
    #[serde(default, deserialize_with = "clean_text")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "clean_text")]
    pub summary: Option<String>,
    #[serde(default)]
    pub url: Option<Value>,
    #[serde(default)]
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub updated: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub in_reply_to: Option<Value>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub to: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub cc: Vec<String>,
}

impl IncomingNote {
    /// The author: `attributedTo` may be a string, an object or a list of them (first actor wins).
    pub fn author(&self) -> Option<String> {
        match &self.attributed_to {
            Value::Array(items) => items.iter().find_map(id_of),
            other => id_of(other),
        }
    }

    /// The first `url` whose value is an http(s) link.
    pub fn html_url(&self) -> Option<String> {
        let candidates = match &self.url {
            Some(Value::Array(items)) => items.clone(),
            Some(other) => vec![other.clone()],
            None => vec![],
        };
        candidates
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Object(m) => m.get("href").and_then(Value::as_str).map(str::to_string),
                _ => None,
            })
            .find(|u| Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
    }

    /// The language: the first key of `contentMap`, as Mastodon reads it.
    pub fn language(&self) -> Option<String> {
        self.content_map.as_ref().and_then(|m| m.keys().next().cloned())
    }

    /// The HTML body: `content`, else the first `contentMap` value.
    pub fn html(&self) -> String {
        self.content
            .clone()
            .or_else(|| self.content_map.as_ref().and_then(|m| m.values().find_map(Value::as_str).map(str::to_string)))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebfingerLink {
    pub rel: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebfingerDoc {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub links: Vec<WebfingerLink>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lenient_addressing_and_names_missing_fields() {
        let a = parse_activity(br#"{"id":"https://m.example/1","type":"Create","actor":{"id":"https://m.example/u/a"},"to":"as:Public","object":"https://m.example/n/1"}"#).unwrap();
        assert_eq!(a.actor.0, "https://m.example/u/a");
        assert_eq!(a.to, vec!["as:Public"]);
        assert!(is_public(&a.to[0]));
        let err = parse_activity(br#"{"type":"Create","actor":"x"}"#).unwrap_err();
        assert!(err.contains("`id`"), "{err}");
        let err = parse_activity(b"{not json").unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
