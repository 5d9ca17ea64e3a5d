//! The inbox's first step: `protocol::parse_activity` on any body, then the embedded object read
//! as a post and its HTML sanitised, as `federation::inbox` does.
//!
//! Asserts: an accepted activity had `id`, `type` and `actor`; a post's texts never keep a
//! character `is_forbidden` names; its `html_url` is http(s); the sanitised body has no script.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::{
    bulletin::render::{is_forbidden, sanitize_html},
    federation::protocol::{parse_activity, IncomingNote},
};

fuzz_target!(|data: &[u8]| {
    let Ok(activity) = parse_activity(data) else { return };
    let value: serde_json::Value = serde_json::from_slice(data).expect("an accepted body is JSON");
    for field in ["id", "type", "actor"] {
        assert!(value.get(field).is_some(), "accepted without `{field}`");
    }
    let Ok(note) = serde_json::from_value::<IncomingNote>(activity.object.clone()) else { return };
    for text in [&note.content, &note.name, &note.summary].into_iter().flatten() {
        assert!(!text.chars().any(is_forbidden), "a forbidden character kept in {text:?}");
    }
    let _ = (note.author(), note.language());
    if let Some(link) = note.html_url() {
        let scheme = url::Url::parse(&link).expect("html_url parses").scheme().to_string();
        assert!(scheme == "http" || scheme == "https", "{link}");
    }
    let html = sanitize_html(&note.html());
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(!html.chars().any(is_forbidden), "{html:?}");
});
