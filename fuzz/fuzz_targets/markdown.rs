//! The admin's Markdown through `render::markdown_to_html` (a bulletin's body, the profile's
//! summary), then `render::plain_text`.
//!
//! Asserts: raw HTML typed in the Markdown never comes out as a tag (only the tags Mastodon
//! keeps), no `javascript:` link; the output is already sanitised (sanitising it again changes
//! nothing); no character `is_forbidden` names; the plain text has none either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::bulletin::render::{is_forbidden, markdown_to_html, plain_text, sanitize_own_html};

/// The tags Mastodon keeps (render.rs `ALLOWED_TAGS`): nothing else may come out.
const ALLOWED: &[&str] =
    &["p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li"];

/// The tags of serialised HTML, each from after its `<` to its `>` (outside quoted values).
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let mut quote = false;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quote = !quote;
                }
                c == '>' && !quote
            })
            .map_or(rest.len(), |(i, _)| i);
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

/// An `href` in a tag that runs a script.
fn script_link(tag: &str) -> bool {
    tag.split(" href=\"").skip(1).filter_map(|rest| rest.split('"').next()).any(|v| v.trim().starts_with("javascript:"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(markdown) = std::str::from_utf8(data) else { return };
    let html = markdown_to_html(markdown);
    let lower = html.to_ascii_lowercase();
    for tag in tags(&lower) {
        let name: String = tag.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
        assert!(ALLOWED.contains(&name.as_str()), "<{name}> in {html}");
        assert!(!script_link(tag), "a script link in {html}");
    }
    assert!(!html.chars().any(is_forbidden), "{html:?}");
    assert_eq!(sanitize_own_html(&html).trim(), html, "the rendered HTML was not already clean");
    assert!(!plain_text(&html).chars().any(is_forbidden));
});
