//! Checks of serialised HTML shared by the `sanitize` and `markdown` targets.

/// The tags Mastodon keeps (render.rs `ALLOWED_TAGS`): nothing else may come out.
pub const ALLOWED: &[&str] =
    &["p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li"];

/// The tags of serialised HTML, each from after its `<` to its `>` (outside quoted values).
pub fn tags(html: &str) -> Vec<&str> {
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
pub fn script_link(tag: &str) -> bool {
    tag.split(" href=\"").skip(1).filter_map(|rest| rest.split('"').next()).any(|v| v.trim().starts_with("javascript:"))
}

/// A tag's name, lower case as given, without a leading `/`.
pub fn name(tag: &str) -> String {
    tag.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect()
}
