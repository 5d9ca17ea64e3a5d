//! Bulletin domain rules, free of HTTP: what a valid bulletin is and how its text is rendered.

pub mod render;

use crate::config::Config;

pub const KIND_NEWS: &str = "news";
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BulletinError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no bulletin has the id `{0}`")]
    NotFound(String),
    #[error("bulletin `{0}` was deleted and cannot be changed")]
    Deleted(String),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> BulletinError {
    BulletinError::Invalid { field, reason: reason.into() }
}

/// A news bulletin as the admin writes it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct NewsDraft {
    pub title: String,
    pub body_markdown: String,
    pub lang: Option<String>,
}

/// A checked bulletin text, ready to store and federate.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidNews {
    pub title: String,
    pub body_markdown: String,
    pub lang: String,
    pub content_html: String,
}

impl NewsDraft {
    pub fn validate(&self, config: &Config) -> Result<ValidNews, BulletinError> {
        let title = self.title.trim();
        if title.is_empty() {
            return Err(invalid("title", "must not be empty"));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(invalid("title", format!("must be at most {MAX_TITLE_CHARS} characters")));
        }
        if title.contains(['\n', '\r']) {
            return Err(invalid("title", "must be a single line"));
        }
        let body = self.body_markdown.trim();
        if body.is_empty() {
            return Err(invalid("body", "must not be empty"));
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(invalid("body", format!("must be at most {MAX_BODY_CHARS} characters")));
        }
        let lang = self.lang.clone().unwrap_or_else(|| config.default_language().to_string());
        if !config.account.languages.contains(&lang) {
            return Err(invalid(
                "lang",
                format!("`{lang}` is not one of the host's languages ({})", config.account.languages.join(", ")),
            ));
        }
        Ok(ValidNews {
            title: title.to_string(),
            body_markdown: body.to_string(),
            content_html: content_html(title, body),
            lang,
        })
    }
}

/// The Note's `content`: the title in bold, then the body — readable in Mastodon on its own.
pub fn content_html(title: &str, body_markdown: &str) -> String {
    format!("<p><strong>{}</strong></p>{}", render::escape(title), render::markdown_to_html(body_markdown))
}

/// A short random id for a new bulletin's URL.
pub fn new_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..12).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let config = Config::default();
        let draft = NewsDraft { title: " ".into(), body_markdown: "x".into(), lang: None };
        assert_eq!(draft.validate(&config).unwrap_err(), invalid("title", "must not be empty"));
        let draft = NewsDraft { title: "T".into(), body_markdown: "x".into(), lang: Some("de".into()) };
        assert!(matches!(draft.validate(&config).unwrap_err(), BulletinError::Invalid { field: "lang", .. }));
        let ok = NewsDraft { title: "Hello <b>".into(), body_markdown: "*Body*".into(), lang: None }
            .validate(&config)
            .unwrap();
        assert_eq!(ok.lang, "fr");
        assert_eq!(ok.content_html, "<p><strong>Hello &lt;b&gt;</strong></p><p><em>Body</em></p>");
    }
}
