//! Which language a visitor gets: one of the catalogues (`crate::i18n`), chosen from the request.

use actix_web::{http::header, HttpRequest};

pub use crate::i18n::{Catalog, Texts, LANGS};
pub const LANG_COOKIE: &str = "lang";

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
    known(default).unwrap_or(crate::i18n::REFERENCE)
}

/// The `?lang=` of a switch link, when it names a language we speak.
pub fn query_lang(req: &HttpRequest) -> Option<&'static str> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| LANGS.into_iter().find(|l| v.eq_ignore_ascii_case(l)))
}

/// The language of a program's request (the JSON API): its `Accept-Language`, else English.
pub fn api_language(req: &HttpRequest) -> &'static str {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(from_accept)
        .unwrap_or(crate::i18n::FALLBACK)
}

/// The best language we speak in an `Accept-Language` header (`fr-CH, en;q=0.8, *;q=0.1`).
pub fn from_accept(header: &str) -> Option<&'static str> {
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

    #[test]
    fn accept_language_picks_the_preferred_language_we_speak() {
        assert_eq!(from_accept("fr-CH, fr;q=0.9, en;q=0.8"), Some("fr"));
        assert_eq!(from_accept("de-DE, en-GB;q=0.7, fr;q=0.5"), Some("en"));
        assert_eq!(from_accept("en;q=0.2, fr;q=0.9"), Some("fr"));
        assert_eq!(from_accept("de, es"), None);
        assert_eq!(from_accept("fr;q=0, en;q=0.1"), Some("en"));
    }
}
