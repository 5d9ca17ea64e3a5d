//! Remote HTML through `render::sanitize_html` (what a peer's post becomes before it is stored),
//! and `render::plain_text` on the result (what feeds and previews show).
//!
//! Asserts: the output contains no `<script`, no tag outside the allowed list, no `javascript:`
//! link (the word as text is fine), no character `is_forbidden` names; sanitising it again
//! changes nothing; its plain text has no forbidden character either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ronron::bulletin::render::{is_forbidden, plain_text, sanitize_html, sanitize_own_html};

#[path = "../shared/html.rs"]
mod html;
use html::{name, script_link, tags, ALLOWED};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    for (which, clean) in [("remote", sanitize_html(input)), ("own", sanitize_own_html(input))] {
        let lower = clean.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{which}: {clean}");
        for tag in tags(&lower) {
            assert!(!script_link(tag), "{which}: a script link in {clean}");
            let name = name(tag);
            assert!(ALLOWED.contains(&name.as_str()), "{which}: <{name}> kept in {clean}");
        }
        assert!(!clean.chars().any(is_forbidden), "{which}: {clean:?}");
        let again = if which == "remote" { sanitize_html(&clean) } else { sanitize_own_html(&clean) };
        assert_eq!(again, clean, "{which}: sanitising twice changed the output");
        let text = plain_text(&clean);
        assert!(!text.chars().any(is_forbidden), "{which}: plain text {text:?}");
    }
});
