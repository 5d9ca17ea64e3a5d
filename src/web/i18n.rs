//! The interface's strings in French and English, and which language a visitor gets.
//!
//! The catalogues are `assets/i18n/{fr,en}.toml`, embedded in the binary. Pages ask for a string
//! by key (`t.get("nav_status")`); a test checks that both catalogues hold exactly the same keys
//! and every key the templates and handlers use.

use actix_web::{http::header, HttpRequest};
use std::collections::HashMap;

pub const LANGS: [&str; 2] = ["fr", "en"];
pub const LANG_COOKIE: &str = "lang";

/// One language's strings.
#[derive(Debug)]
pub struct Texts {
    pub lang: &'static str,
    strings: HashMap<String, String>,
}

impl Texts {
    /// The string for `key`; a missing key shows as itself (and fails the catalogue test).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map(String::as_str).unwrap_or(key)
    }

    /// A string with `{name}` placeholders filled in.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        values.iter().fold(self.get(key).to_string(), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
    }
}

/// Both catalogues, parsed once at start-up.
#[derive(Debug)]
pub struct Catalog {
    fr: Texts,
    en: Texts,
}

fn parse(lang: &'static str, text: &str) -> Texts {
    let strings: HashMap<String, String> =
        toml::from_str(text).unwrap_or_else(|e| panic!("assets/i18n/{lang}.toml is invalid: {e}"));
    Texts { lang, strings }
}

impl Catalog {
    pub fn embedded() -> Catalog {
        Catalog {
            fr: parse("fr", include_str!("../../assets/i18n/fr.toml")),
            en: parse("en", include_str!("../../assets/i18n/en.toml")),
        }
    }

    pub fn texts(&self, lang: &str) -> &Texts {
        if lang == "fr" {
            &self.fr
        } else {
            &self.en
        }
    }
}

/// The language of the interface: `?lang=` (a switch link), then the `lang` cookie the switch
/// set, then `Accept-Language` in order of preference, then the host's first language.
pub fn choose(req: &HttpRequest, default: &str) -> &'static str {
    let known = |code: &str| LANGS.into_iter().find(|l| code.eq_ignore_ascii_case(l));
    if let Some(lang) = query_lang(req) {
        return lang;
    }
    if let Some(lang) = req.cookie(LANG_COOKIE).and_then(|c| known(c.value())) {
        return lang;
    }
    if let Some(lang) = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(from_accept) {
        return lang;
    }
    known(default).unwrap_or("fr")
}

/// The `?lang=` of a switch link, when it names a language we speak.
pub fn query_lang(req: &HttpRequest) -> Option<&'static str> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| LANGS.into_iter().find(|l| v.eq_ignore_ascii_case(l)))
}

/// The best language we speak in an `Accept-Language` header (`fr-CH, en;q=0.8, *;q=0.1`).
fn from_accept(header: &str) -> Option<&'static str> {
    let mut ranked: Vec<(f32, &'static str)> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let primary = tag.split('-').next()?;
            LANGS.into_iter().find(|l| primary.eq_ignore_ascii_case(l)).filter(|_| q > 0.0).map(|l| (q, l))
        })
        .collect();
    // Stable sort keeps the header's order among equal weights.
    ranked.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    ranked.first().map(|(_, l)| *l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn accept_language_picks_the_preferred_language_we_speak() {
        assert_eq!(from_accept("fr-CH, fr;q=0.9, en;q=0.8"), Some("fr"));
        assert_eq!(from_accept("de-DE, en-GB;q=0.7, fr;q=0.5"), Some("en"));
        assert_eq!(from_accept("en;q=0.2, fr;q=0.9"), Some("fr"));
        assert_eq!(from_accept("de, es"), None);
        assert_eq!(from_accept("fr;q=0, en;q=0.1"), Some("en"));
    }

    /// Every key used in a template or a handler, in both catalogues; nothing else in them.
    #[test]
    fn both_catalogues_hold_every_key_used_and_only_those() {
        let catalog = Catalog::embedded();
        let keys = |t: &Texts| t.strings.keys().cloned().collect::<BTreeSet<_>>();
        let (fr, en) = (keys(&catalog.fr), keys(&catalog.en));
        assert_eq!(fr.symmetric_difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "fr and en differ");
        let mut used = BTreeSet::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("templates"), root.join("src/web")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for marker in ["t.get(", "t.fill("] {
                    let pieces: Vec<&str> = text.split(marker).collect();
                    for (before, piece) in pieces.iter().zip(pieces.iter().skip(1)) {
                        // `t` itself, not the end of another name (`element.get(`).
                        let own = before.chars().last().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                        if let Some(key) = piece.trim_start().strip_prefix('"').filter(|_| own) {
                            let key = key.split('"').next().unwrap();
                            // Only identifiers: this test's own source mentions the markers too.
                            if key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                                used.insert(key.to_string());
                            }
                        }
                    }
                }
            }
        }
        let missing: Vec<_> = used.difference(&en).collect();
        assert!(missing.is_empty(), "keys used but not translated: {missing:?}");
        let unused: Vec<_> = en.difference(&used).filter(|k| !k.starts_with("dyn_")).collect();
        assert!(unused.is_empty(), "keys translated but never used: {unused:?}");
        for (key, value) in &catalog.fr.strings {
            assert!(!value.trim().is_empty(), "fr.{key} is empty");
        }
    }
}
