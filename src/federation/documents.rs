//! The documents we publish: a bulletin's Note and Tombstone, its hashtags, the `@context`
//! wrapper. Built from stored rows; nothing here decides what a bulletin is.

use super::{activities::rfc3339, protocol::*};
use crate::{
    bulletin::{content::hashtag_name, vocab::*},
    db::models::{
        bulletins::{Bulletin, Translation},
        services::Service,
    },
    state::AppState,
};
use serde_json::Value;

/// Hashtags of a bulletin written in `langs` (its text and its translations): its kind of change
/// in each of those languages, its services, the host's own tags. No other language's: Mastodon
/// shows every tag missing from the content in a bar under the post.
pub fn hashtags<'a>(
    state: &AppState,
    meta: &BulletinMeta,
    langs: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, String)> {
    let names = langs.into_iter().filter_map(|lang| kind_hashtag(meta, state.texts.texts(lang))).collect();
    with_names(state, meta, names)
}

/// Every hashtag a bulletin could carry in any catalogue language: what a tag page matches, so
/// `/tags/inscriptions` and `/tags/registration` both find a registration change.
pub fn hashtags_in_any_language(state: &AppState, meta: &BulletinMeta) -> Vec<(String, String)> {
    hashtags(state, meta, crate::i18n::LANGS.iter().copied())
}

/// The hashtag of a bulletin's kind in `t`'s language.
fn kind_hashtag(meta: &BulletinMeta, t: &crate::i18n::Texts) -> Option<String> {
    let word = match meta.bulletin_kind {
        BulletinKind::ServiceChange => match meta.change_type? {
            ChangeType::Incident => t.get("hashtag.incident"),
            ChangeType::Maintenance => t.get("hashtag.maintenance"),
            ChangeType::Launch => t.get("hashtag.launch"),
            ChangeType::Closure => t.get("hashtag.closure"),
            ChangeType::Registration => t.get("hashtag.registration"),
            ChangeType::Migration => t.get("hashtag.migration"),
            ChangeType::Unknown => return None,
        },
        BulletinKind::LabelUpdate => t.get("hashtag.label"),
        _ => return None,
    };
    Some(hashtag_name(word))
}

/// `names`, then the services' and the account's hashtags, each once, with their URLs.
fn with_names(state: &AppState, meta: &BulletinMeta, mut names: Vec<String>) -> Vec<(String, String)> {
    names.extend(meta.service.iter().map(|s| hashtag_name(&s.name)));
    names.extend(state.config.account.hashtags.iter().map(|t| t.to_lowercase()));
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .filter(|n| !n.is_empty() && seen.insert(n.clone()))
        .map(|n| {
            let href = state.urls.tag(&n).to_string();
            (n, href)
        })
        .collect()
}

/// The Note for a bulletin, as served at its URL and embedded in Create/Update.
pub fn note_doc(state: &AppState, b: &Bulletin, translations: &[Translation]) -> NoteDoc {
    let urls = &state.urls;
    let meta = b.meta();
    let mut content_map = serde_json::Map::new();
    content_map.insert(b.lang.clone(), Value::String(b.content_html.clone()));
    for t in translations {
        content_map.insert(t.lang.clone(), Value::String(t.content_html.clone()));
    }
    let langs = std::iter::once(b.lang.as_str()).chain(translations.iter().map(|t| t.lang.as_str()));
    let tag = hashtags(state, &meta, langs)
        .into_iter()
        .map(|(name, href)| HashtagDoc {
            kind: "Hashtag",
            name: format!("#{name}"),
            href: href.parse().expect("our URLs parse"),
        })
        .collect();
    NoteDoc {
        id: urls.bulletin(&b.id),
        kind: "Note",
        attributed_to: urls.host_actor(),
        to: vec![PUBLIC.to_string()],
        cc: vec![urls.host_followers().to_string()],
        published: rfc3339(b.published_at),
        updated: b.updated_at.map(rfc3339),
        url: urls.bulletin(&b.id),
        content: b.content_html.clone(),
        content_map,
        in_reply_to: b.in_reply_to.clone(),
        sensitive: false,
        tag,
        start_time: b.starts_at.map(rfc3339),
        end_time: b.ends_at.map(rfc3339),
        meta,
    }
}

pub fn note_json_ld(state: &AppState, b: &Bulletin, translations: &[Translation]) -> Value {
    with_context(serde_json::to_value(note_doc(state, b, translations)).expect("a Note serialises"))
}

/// The document with `@context` as its first key.
pub fn with_context(doc: Value) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("@context".into(), context());
    if let Value::Object(fields) = doc {
        out.extend(fields);
    }
    Value::Object(out)
}

pub fn tombstone_doc(state: &AppState, b: &Bulletin, with_context: bool) -> TombstoneDoc {
    TombstoneDoc {
        context: with_context.then(context),
        id: state.urls.bulletin(&b.id),
        kind: "Tombstone",
        former_type: "Note",
        deleted: b.deleted_at.map(rfc3339),
    }
}

/// What a bulletin says about a service, as its Note carries it.
pub fn service_ref(state: &AppState, s: &Service) -> ServiceRef {
    ServiceRef {
        id: state.urls.service(&s.slug).to_string(),
        name: s.name.clone(),
        software: s.software.clone(),
        url: s.url.clone(),
    }
}
