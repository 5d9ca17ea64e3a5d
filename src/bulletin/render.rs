//! Text to HTML: our Markdown rendered and sanitised, and remote HTML sanitised, both down to the
//! tags Mastodon keeps, so what we store is what a Mastodon user sees.

use ammonia::Builder;
use pulldown_cmark::{html, Options, Parser};
use std::{collections::HashSet, sync::LazyLock};

/// Tags Mastodon keeps in posts (app/lib/sanitize_config.rb), headings folded in by us as `strong`.
const ALLOWED_TAGS: &[&str] =
    &["p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li"];

/// The two policies, each built once: they are constants (nothing changes them once built), and
/// building one, a few hundred hashed set entries, at every clean was a tenth of an inbox
/// request's instructions (callgrind, ingestion benchmark).
static REMOTE_POLICY: LazyLock<Builder<'static>> = LazyLock::new(|| sanitizer(true));
static OWN_POLICY: LazyLock<Builder<'static>> = LazyLock::new(|| sanitizer(false));

fn sanitizer(remote: bool) -> Builder<'static> {
    let mut builder = Builder::empty();
    let link_attributes: &[&str] = if remote { &["href", "class"] } else { &["href", "class", "rel"] };
    builder
        .tags(ALLOWED_TAGS.iter().copied().collect::<HashSet<_>>())
        .tag_attributes(
            [
                ("a", link_attributes.iter().copied().collect::<HashSet<_>>()),
                ("span", ["class"].into_iter().collect()),
                ("ol", ["start", "reversed"].into_iter().collect()),
                ("li", ["value"].into_iter().collect()),
            ]
            .into_iter()
            .collect(),
        )
        .url_schemes(["http", "https", "mailto", "xmpp", "matrix", "gemini"].into_iter().collect())
        // Links in remote HTML get rel=nofollow; ours keep their own (rel="tag" on hashtags).
        .link_rel(if remote { Some("nofollow noopener noreferrer") } else { None })
        .clean_content_tags(["script", "style"].into_iter().collect());
    builder
}

/// A character XML 1.0 forbids even as a reference (and PostgreSQL refuses U+0000): a C0 control
/// other than tab, line feed and carriage return, or U+FFFE/U+FFFF. Lone surrogates cannot occur in
/// a Rust string.
pub fn is_forbidden(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// The text without the characters [`is_forbidden`] names: how a text from a peer is cleaned before
/// it is stored, and how a feed is made sure to be XML whatever it holds.
pub fn strip_forbidden(text: &str) -> String {
    text.chars().filter(|&c| !is_forbidden(c)).collect()
}

/// Sanitises HTML that came from another server; forbidden characters are dropped, typed or as
/// references (`&#1;`).
pub fn sanitize_html(html: &str) -> String {
    settled(html, true)
}

/// Sanitises HTML we render ourselves: the same tags, links keep the `rel` we give them.
pub fn sanitize_own_html(html: &str) -> String {
    settled(html, false)
}

/// Cleans until the output cleans to itself. One pass can leave a tree the HTML parser rebuilds
/// differently (`<li><dt><li>` gives `<li><li></li></li>`, which parses as two siblings), so
/// stored HTML would change each time it is cleaned again. Found by the `sanitize` fuzz target.
/// Every pass is safe on its own; three are plenty in practice, and the last is kept if not.
fn settled(html: &str, remote: bool) -> String {
    let policy: &Builder<'static> = if remote { &REMOTE_POLICY } else { &OWN_POLICY };
    let clean = |text: &str| strip_forbidden(&policy.clean(text).to_string());
    let mut out = clean(&strip_forbidden(html));
    for _ in 0..3 {
        let again = clean(&out);
        if again == out {
            break;
        }
        out = again;
    }
    out
}

/// Renders the admin's Markdown (raw HTML in it is escaped, not interpreted) to Mastodon-safe HTML.
pub fn markdown_to_html(markdown: &str) -> String {
    if markdown.trim().is_empty() {
        return String::new();
    }
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH).map(|event| match event {
        // Raw HTML in Markdown is shown as text: the admin writes Markdown, not markup.
        pulldown_cmark::Event::Html(text) | pulldown_cmark::Event::InlineHtml(text) => {
            pulldown_cmark::Event::Text(text)
        }
        // Headings would be dropped by Mastodon: render them as bold paragraphs instead.
        pulldown_cmark::Event::Start(pulldown_cmark::Tag::Heading { .. }) => {
            pulldown_cmark::Event::Html("<p><strong>".into())
        }
        pulldown_cmark::Event::End(pulldown_cmark::TagEnd::Heading(_)) => {
            pulldown_cmark::Event::Html("</strong></p>".into())
        }
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    sanitize_own_html(&out).trim().to_string()
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A link shown as its address, for profile fields.
pub fn link_html(url: &str) -> String {
    let shown = url.trim_start_matches("https://").trim_start_matches("http://").trim_start_matches("mailto:");
    format!("<a href=\"{}\" rel=\"me nofollow noopener noreferrer\">{}</a>", escape(url), escape(shown))
}

/// The text of sanitised HTML: tags dropped, block ends as line breaks, entities decoded.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&decode_entities(&rest[..open]));
        // The tag ends at the first `>` outside a quoted attribute value.
        let mut quote = None;
        let mut end = rest.len();
        for (i, c) in rest[open..].char_indices() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => {
                    end = open + i;
                    break;
                }
                _ => {}
            }
        }
        let tag = &rest[open + 1..end];
        let closing = tag.starts_with('/');
        let name = tag.trim_start_matches('/').chars().take_while(char::is_ascii_alphanumeric).collect::<String>();
        // Paragraphs apart by a blank line, list items and line breaks on their own lines.
        match (name.to_lowercase().as_str(), closing) {
            ("p" | "blockquote" | "pre" | "ul" | "ol", true) => text.push_str("\n\n"),
            ("br", _) | ("li", true) | ("ul" | "ol", false) => text.push('\n'),
            _ => {}
        }
        rest = rest.get(end + 1..).unwrap_or("");
    }
    text.push_str(&decode_entities(rest));
    // Lines trimmed, runs of blank lines down to one.
    let mut out = String::new();
    let mut blank = true;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    out.trim().to_string()
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let c = match &rest[1..semi] {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => '\u{a0}',
                entity => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code).filter(|&c| !is_forbidden(c))?
                }
            };
            Some((c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sanitising_is_idempotent_even_where_one_pass_leaves_a_tree_the_parser_rebuilds() {
        // Found by `fuzz/fuzz_targets/sanitize.rs` (fuzz/findings/sanitize-twice-differs.html).
        for input in ["<li><dt><li>", "<ul><li><dt><li>x</li></dt></li></ul>", "<p><li><p>a"] {
            let once = super::sanitize_html(input);
            assert_eq!(super::sanitize_html(&once), once, "{input}");
            let own = super::sanitize_own_html(input);
            assert_eq!(super::sanitize_own_html(&own), own, "{input}");
        }
    }

    use super::*;

    #[test]
    fn markdown_keeps_mastodon_tags_and_escapes_html() {
        let html = markdown_to_html("# Hello\n\n**bold** <script>alert(1)</script> [x](https://a.example)");
        assert!(html.starts_with("<p><strong>Hello</strong></p>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("href=\"https://a.example\""));
    }

    #[test]
    fn remote_html_loses_scripts_and_handlers() {
        let html = sanitize_html(
            "<p onclick=\"x()\">hi<script>bad()</script><img src=x onerror=y><a href=\"javascript:z\">l</a></p>",
        );
        assert_eq!(html, "<p>hi<a rel=\"nofollow noopener noreferrer\">l</a></p>");
    }

    #[test]
    fn plain_text_drops_tags_keeps_lines_and_decodes_entities() {
        let html = "<p><strong>Panne &amp; reprise</strong></p><p>Ligne 1<br>L&#39;autre <a href=\"https://x.example/?a>b\">lien</a></p><ul><li>un</li><li>deux &lt;3</li></ul>";
        assert_eq!(plain_text(html), "Panne & reprise\n\nLigne 1\nL'autre lien\n\nun\ndeux <3");
        assert_eq!(plain_text("a &unknown; b & c"), "a &unknown; b & c");
    }
}
