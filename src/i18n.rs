//! Every word a person reads, in each language we have a catalogue for.
//!
//! The catalogues are `assets/i18n/<code>.toml`, one per language, embedded in the binary: build.rs
//! lists the folder, so a new language is one new file. Code asks for a string by key
//! (`t.get("nav_status")`); TOML tables give dotted keys (`[impact] major = …` is `impact.major`).
//! Besides the pages' words a catalogue holds the posts' words (`[post]`), the vocabulary's
//! labels, the date patterns (`[dates]`, `[weekday]`, `[month]`) and, under `[language]`, its own
//! name and which counts take the singular. Tests check every catalogue holds exactly the
//! reference's keys and every key the code uses.

use std::collections::HashMap;

include!(concat!(env!("OUT_DIR"), "/catalogues.rs"));

/// The words for a language without a catalogue (a bulletin in `de`), and the text of a charter
/// criterion that lacks the reader's language.
pub const FALLBACK: &str = "en";

/// Languages' own names for those without a catalogue (bulletins may be in any language the host
/// lists); a catalogue names its own language (`locale.name`).
const ENDONYMS: &[(&str, &str)] = &[
    ("de", "Deutsch"),
    ("es", "Español"),
    ("it", "Italiano"),
    ("br", "Brezhoneg"),
    ("oc", "Occitan"),
    ("eu", "Euskara"),
    ("ca", "Català"),
];

/// One language's strings.
#[derive(Debug)]
pub struct Texts {
    pub lang: &'static str,
    strings: HashMap<String, String>,
    /// The counts that take the `.one` form of a count-dependent string (`locale.singular`).
    singular: Vec<u64>,
}

impl Texts {
    /// The string for `key`; a missing key shows as itself (and fails the catalogue test).
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The string for `key`, if this catalogue has one.
    pub fn lookup(&self, key: &str) -> Option<&str> {
        self.strings.get(key).map(String::as_str)
    }

    /// A string with `{name}` placeholders filled in.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        fill_in(self.get(key), values)
    }

    /// A count-dependent string: `key.one` or `key.other` as this language agrees with `count`
    /// (French puts 0 in the singular, English does not), placeholders filled in.
    pub fn plural(&self, key: &str, count: u64, values: &[(&str, &str)]) -> String {
        let form = if self.singular.contains(&count) { "one" } else { "other" };
        fill_in(self.get(&format!("{key}.{form}")), values)
    }

    /// `plural` with the count as `{count}` ("3 boîtes en échec").
    pub fn count(&self, key: &str, count: usize) -> String {
        self.plural(key, count as u64, &[("count", &count.to_string())])
    }
}

/// `text` with each `{name}` replaced by its value.
pub fn fill_in(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_string(), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
}

/// Every catalogue, parsed once at start-up (`AppState.texts`).
#[derive(Debug)]
pub struct Catalog {
    /// In the order of `LANGS`.
    texts: Vec<Texts>,
}

/// A catalogue's tables flattened into dotted keys.
fn flatten(prefix: &str, table: toml::Table, into: &mut HashMap<String, String>) -> Result<(), String> {
    for (key, value) in table {
        let key = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::String(text) => {
                into.insert(key, text);
            }
            toml::Value::Table(table) => flatten(&key, table, into)?,
            _ => return Err(format!("`{key}` must be a string or a table")),
        }
    }
    Ok(())
}

fn parse(lang: &'static str, text: &str) -> Result<Texts, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut strings = HashMap::new();
    flatten("", table, &mut strings)?;
    let singular = strings
        .get("locale.singular")
        .ok_or("`locale.singular` is missing")?
        .split(',')
        .map(|n| n.trim().parse::<u64>().map_err(|_| format!("`locale.singular`: `{n}` is not a count")))
        .collect::<Result<_, _>>()?;
    Ok(Texts { lang, strings, singular })
}

impl Catalog {
    pub fn embedded() -> Catalog {
        let texts = SOURCES
            .iter()
            .map(|(lang, text)| parse(lang, text).unwrap_or_else(|e| panic!("assets/i18n/{lang}.toml is invalid: {e}")))
            .collect();
        Catalog { texts }
    }

    /// The strings of `lang`, or of the fallback language when we have no catalogue for it.
    pub fn texts(&self, lang: &str) -> &Texts {
        let find = |code: &str| self.texts.iter().find(|t| t.lang == code);
        find(lang).or_else(|| find(FALLBACK)).unwrap_or(&self.texts[0])
    }

    /// A language's own name for a select (`fr` → Français); unknown codes show as themselves.
    pub fn language_name(&self, code: &str) -> String {
        match self.texts.iter().find(|t| t.lang == code) {
            Some(t) => t.get("locale.name").to_string(),
            None => ENDONYMS.iter().find(|(c, _)| *c == code).map(|(_, name)| name.to_string()).unwrap_or(code.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletin::{content, vocab};
    use std::collections::BTreeSet;

    fn keys(t: &Texts) -> BTreeSet<String> {
        t.strings.keys().cloned().collect()
    }

    /// Whatever files assets/i18n/ holds, each is one of the languages offered and loads.
    #[test]
    fn every_catalogue_in_the_folder_is_offered_and_loads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/i18n");
        let mut found: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        found.sort();
        let mut offered: Vec<String> = LANGS.iter().map(|l| l.to_string()).collect();
        offered.sort();
        assert_eq!(found, offered, "build.rs lists every catalogue");
        assert_eq!(LANGS[0], REFERENCE);
        let catalog = Catalog::embedded();
        for lang in LANGS {
            let t = catalog.texts(lang);
            assert_eq!(t.lang, lang);
            assert!(!t.get("locale.name").is_empty());
        }
        assert_eq!(catalog.texts("de").lang, FALLBACK, "a language without a catalogue gets the fallback's words");
    }

    /// The keys `t` lacks and the keys it has that the reference lacks.
    fn differences(reference: &Texts, t: &Texts) -> (Vec<String>, Vec<String>) {
        let (reference, own) = (keys(reference), keys(t));
        (reference.difference(&own).cloned().collect(), own.difference(&reference).cloned().collect())
    }

    #[test]
    fn a_catalogue_with_a_missing_or_unknown_key_is_caught() {
        let reference = parse("fr", SOURCES[0].1).unwrap();
        let renamed = parse("xx", &SOURCES[0].1.replacen("\nsave = ", "\nsave_it = ", 1)).unwrap();
        assert_eq!(differences(&reference, &renamed), (vec!["save".to_string()], vec!["save_it".to_string()]));
        assert!(parse("xx", "[locale]\nname = \"X\"\n").unwrap_err().contains("locale.singular"));
        assert!(parse("xx", "n = 3\n").is_err(), "values are strings");
    }

    /// A catalogue missing a key of the reference, or holding one the reference lacks, fails.
    #[test]
    fn every_catalogue_holds_exactly_the_reference_keys() {
        let catalog = Catalog::embedded();
        let reference = keys(catalog.texts(REFERENCE));
        for t in &catalog.texts {
            let (missing, unknown) = differences(catalog.texts(REFERENCE), t);
            assert!(missing.is_empty(), "assets/i18n/{}.toml lacks {missing:?}", t.lang);
            assert!(unknown.is_empty(), "assets/i18n/{}.toml has keys {REFERENCE}.toml lacks: {unknown:?}", t.lang);
            for (key, value) in &t.strings {
                assert!(!value.trim().is_empty(), "{}.{key} is empty", t.lang);
            }
        }
        for key in &reference {
            if let Some(stem) = key.strip_suffix(".one") {
                assert!(reference.contains(&format!("{stem}.other")), "{key} without {stem}.other");
            }
        }
    }

    #[test]
    fn plurals_follow_each_language() {
        let catalog = Catalog::embedded();
        let (fr, en) = (catalog.texts("fr"), catalog.texts("en"));
        let n = |t: &Texts, count: u64| t.plural("login_throttled", count, &[("minutes", &count.to_string())]);
        assert_eq!(n(fr, 1), "Trop d’échecs de connexion. Réessayez dans 1 minute.");
        assert_eq!(n(fr, 0), "Trop d’échecs de connexion. Réessayez dans 0 minute.");
        assert_eq!(n(fr, 15), "Trop d’échecs de connexion. Réessayez dans 15 minutes.");
        assert_eq!(n(en, 1), "Too many failed logins. Try again in 1 minute.");
        assert_eq!(n(en, 0), "Too many failed logins. Try again in 0 minutes.");
    }

    /// Every key used in a template or in the code, in the reference catalogue; nothing else in it.
    #[test]
    fn the_catalogues_hold_every_key_used_and_only_those() {
        let catalog = Catalog::embedded();
        let reference = keys(catalog.texts(REFERENCE));
        // Keys the code builds: the vocabulary's labels and the date's names.
        let mut used: BTreeSet<String> = vocab::label_keys().into_iter().collect();
        used.extend(content::DATE_KEYS.iter().map(|k| k.to_string()));
        used.insert("locale.singular".into());
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("templates"), root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for marker in ["t.get(", "t.fill(", "t.plural(", "t.count(", "t.lookup("] {
                    let pieces: Vec<&str> = text.split(marker).collect();
                    for (before, piece) in pieces.iter().zip(pieces.iter().skip(1)) {
                        // `t` itself, not the end of another name (`element.get(`).
                        let own = before.chars().last().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                        if let Some(key) = piece.trim_start().strip_prefix('"').filter(|_| own) {
                            let key = key.split('"').next().unwrap();
                            // Only identifiers: this test's own source mentions the markers too.
                            if !key.is_empty()
                                && key
                                    .chars()
                                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
                            {
                                if marker == "t.plural(" || marker == "t.count(" {
                                    used.insert(format!("{key}.one"));
                                    used.insert(format!("{key}.other"));
                                } else {
                                    used.insert(key.to_string());
                                }
                            }
                        }
                    }
                }
            }
        }
        let missing: Vec<_> = used.difference(&reference).collect();
        assert!(missing.is_empty(), "keys used but not translated: {missing:?}");
        let unused: Vec<_> = reference.difference(&used).collect();
        assert!(unused.is_empty(), "keys translated but never used: {unused:?}");
    }
}
