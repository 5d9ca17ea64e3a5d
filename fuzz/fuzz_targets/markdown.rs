//! The admin's Markdown through `render::markdown_to_html` (a bulletin's body, the profile's
//! summary), then `render::plain_text`.
//!
//! Asserts: raw HTML typed in the Markdown never comes out as a tag (only the tags Mastodon
//! keeps), no `javascript:` link; the output is already sanitised (sanitising it again changes
//! nothing); no character `is_forbidden` names; the plain text has none either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::bulletin::render::{is_forbidden, markdown_to_html, plain_text, sanitize_own_html};

#[path = "../shared/html.rs"]
mod html;
use html::{name, script_link, tags, ALLOWED};

fuzz_target!(|data: &[u8]| {
    let Ok(markdown) = std::str::from_utf8(data) else { return };
    let html = markdown_to_html(markdown);
    let lower = html.to_ascii_lowercase();
    for tag in tags(&lower) {
        let name = name(tag);
        assert!(ALLOWED.contains(&name.as_str()), "<{name}> in {html}");
        assert!(!script_link(tag), "a script link in {html}");
    }
    assert!(!html.chars().any(is_forbidden), "{html:?}");
    assert_eq!(sanitize_own_html(&html).trim(), html, "the rendered HTML was not already clean");
    assert!(!plain_text(&html).chars().any(is_forbidden));
});
