//! Remote HTML through `render::sanitize_html` (what a peer's post becomes before it is stored),
//! and `render::plain_text` on the result (what feeds and previews show).
//!
//! Asserts: the output contains no `<script`, no tag outside the allowed list, no `javascript:`
//! link (the word as text is fine), no character `is_forbidden` names; sanitising it again
//! changes nothing; its plain text has no forbidden character either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::bulletin::render::{is_forbidden, plain_text, sanitize_html, sanitize_own_html};

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
    let Ok(input) = std::str::from_utf8(data) else { return };
    for (which, clean) in [("remote", sanitize_html(input)), ("own", sanitize_own_html(input))] {
        let lower = clean.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{which}: {clean}");
        for tag in tags(&lower) {
            assert!(!script_link(tag), "{which}: a script link in {clean}");
            let name: String = tag.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect();
            assert!(ALLOWED.contains(&name.as_str()), "{which}: <{name}> kept in {clean}");
        }
        assert!(!clean.chars().any(is_forbidden), "{which}: {clean:?}");
        let again = if which == "remote" { sanitize_html(&clean) } else { sanitize_own_html(&clean) };
        assert_eq!(again, clean, "{which}: sanitising twice changed the output");
        let text = plain_text(&clean);
        assert!(!text.chars().any(is_forbidden), "{which}: plain text {text:?}");
    }
});
