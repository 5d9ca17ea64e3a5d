//! The admin's Markdown through `render::markdown_to_html` (a bulletin's body, the profile's
//! summary), then `render::plain_text`.
//!
//! Asserts: raw HTML typed in the Markdown never comes out as a tag (only the tags Mastodon
//! keeps); the output is already sanitised (sanitising it again changes nothing); no
//! character `is_forbidden` names; the plain text has none either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::bulletin::render::{is_forbidden, markdown_to_html, plain_text, sanitize_own_html};

/// The tags Mastodon keeps (render.rs `ALLOWED_TAGS`): nothing else may come out.
const ALLOWED: &[&str] =
    &["p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li"];

fuzz_target!(|data: &[u8]| {
    let Ok(markdown) = std::str::from_utf8(data) else { return };
    let html = markdown_to_html(markdown);
    let lower = html.to_ascii_lowercase();
    for tag in lower.split('<').skip(1) {
        let name: String = tag.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
        assert!(ALLOWED.contains(&name.as_str()), "<{name}> in {html}");
    }
    assert!(!lower.contains("javascript:"), "{html}");
    assert!(!html.chars().any(is_forbidden), "{html:?}");
    assert_eq!(sanitize_own_html(&html).trim(), html, "the rendered HTML was not already clean");
    assert!(!plain_text(&html).chars().any(is_forbidden));
});
