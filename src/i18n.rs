//! Every word a person reads, in each language we have a catalogue for.
//!
//! The catalogues are `assets/i18n/<code>.toml`, one per language, embedded in the binary: build.rs
//! lists the folder, so a new language is one new file. Code asks for a string by key
//! (`t.get("nav_status")`); TOML tables give dotted keys (`[impact] major = …` is `impact.major`).
//! Besides the pages' words a catalogue holds the posts' words (`[post]`), the vocabulary's
//! labels, the date patterns (`[dates]`, `[weekday]`, `[month]`) and, under `[locale]`, its own
//! name and its plural rules. Tests check every catalogue holds exactly the reference's keys and
//! every key the code uses.
//!
//! Plurals work as in ICU MessageFormat: `[locale.plural]` gives the language's CLDR plural
//! rules (`one = "i = 0,1"`; a count no rule takes is `other`), and a count-dependent string is a
//! table with one form per category (`one`, `other`, and `few`, `many`… for a language that has
//! them), plus exact forms when a count deserves its own words (`"=0" = "Aucun envoi"`).

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

/// The languages each catalogue names in its own words (`[language_name]`: "anglais", "German"):
/// ours and those of `ENDONYMS`.
pub const NAMED_LANGUAGES: [&str; 9] = ["fr", "en", "de", "es", "it", "br", "oc", "eu", "ca"];

/// The countries each catalogue names (`[country_name]`: "Belgique", "Switzerland"), by their
/// ISO 3166-1 code: those of the French-speaking hosts and their neighbours.
pub const NAMED_COUNTRIES: [&str; 16] =
    ["FR", "BE", "CH", "LU", "MC", "CA", "DE", "ES", "IT", "PT", "NL", "GB", "IE", "AT", "US", "MA"];

/// A country's name in `t`'s language (`FR` → "France"); a code no catalogue names shows as itself.
pub fn country_name(code: &str, t: &Texts) -> String {
    t.lookup(&format!("country_name.{code}")).unwrap_or(code).to_string()
}

/// One language's strings.
#[derive(Debug)]
pub struct Texts {
    pub lang: &'static str,
    strings: HashMap<String, String>,
    /// The language's plural categories other than `other`, with their rule (`[locale.plural]`).
    plural_rules: Vec<(String, plural::Condition)>,
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

    /// A count-dependent string: its exact form for `count` (`key.=0`) if it has one, else the form
    /// of the plural category this language puts `count` in (French puts 0 and 1 in `one`,
    /// English only 1), placeholders filled in.
    pub fn plural(&self, key: &str, count: u64, values: &[(&str, &str)]) -> String {
        let text = match self.strings.get(&format!("{key}.={count}")) {
            Some(exact) => exact.as_str(),
            None => self.get_or_other(key, self.category(count)),
        };
        fill_in(text, values)
    }

    /// `key.category`, else `key.other` (a catalogue test makes sure every form is there).
    fn get_or_other<'a>(&'a self, key: &'a str, category: &str) -> &'a str {
        let form = |category: &str| self.strings.get(&format!("{key}.{category}")).map(String::as_str);
        form(category).or_else(|| form("other")).unwrap_or(key)
    }

    /// The CLDR plural category of `count` in this language (`one`, `few`…, else `other`).
    pub fn category(&self, count: u64) -> &str {
        let operands = plural::Operands::integer(count);
        self.plural_rules.iter().find(|(_, rule)| rule.holds(&operands)).map_or("other", |(name, _)| name.as_str())
    }

    /// The forms a count-dependent string must have in this language: its categories and `other`.
    pub fn plural_forms(&self) -> Vec<&str> {
        let mut forms: Vec<&str> = self.plural_rules.iter().map(|(name, _)| name.as_str()).collect();
        forms.push("other");
        forms
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

/// The words shown without a reader (a log line, `Display`): English, from the embedded
/// catalogue (parsed once; it is compile-time data).
pub fn english() -> &'static Texts {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(Catalog::embedded).texts(FALLBACK)
}

/// Words to be said later, in a reader's language not known yet: a catalogue key and the values
/// it names (`ronron check`'s findings, the command line's own errors). Shown without a reader,
/// as in a log, it is English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    key: &'static str,
    values: Vec<(&'static str, String)>,
    /// Set for a count-dependent string (a table of plural forms), as `{count}`.
    count: Option<u64>,
}

impl Message {
    pub fn new(key: &'static str, values: &[(&'static str, &str)]) -> Message {
        Message { key, values: values.iter().map(|(name, value)| (*name, value.to_string())).collect(), count: None }
    }

    /// A count-dependent string: its form for `count`, which it shows as `{count}`.
    pub fn counted(key: &'static str, count: u64, values: &[(&'static str, &str)]) -> Message {
        let mut message = Message::new(key, values);
        message.values.push(("count", count.to_string()));
        message.count = Some(count);
        message
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The message in `t`'s language.
    pub fn words(&self, t: &Texts) -> String {
        let values: Vec<(&str, &str)> = self.values.iter().map(|(name, value)| (*name, value.as_str())).collect();
        match self.count {
            Some(count) => t.plural(self.key, count, &values),
            None => t.fill(self.key, &values),
        }
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words(english()))
    }
}

impl std::error::Error for Message {}

/// The language of a locale (`fr_FR.UTF-8` → fr) when a catalogue has it; English for any other
/// (`C`, `POSIX`, `de_DE`…).
pub fn locale_language(locale: &str) -> &'static str {
    let code = locale.split(['_', '.', '@', '-']).next().unwrap_or_default().to_ascii_lowercase();
    LANGS.iter().copied().find(|lang| *lang == code).unwrap_or(FALLBACK)
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
    let mut plural_rules = Vec::new();
    for (key, rule) in &strings {
        if let Some(category) = key.strip_prefix("locale.plural.") {
            if !plural::CATEGORIES.contains(&category) || category == "other" {
                return Err(format!(
                    "`{key}`: a plural category is one of zero, one, two, few, many (other is implied)"
                ));
            }
            let condition = plural::Condition::parse(rule).map_err(|e| format!("`{key}`: {e}"))?;
            plural_rules.push((category.to_string(), condition));
        }
    }
    if !strings.contains_key("locale.name") {
        return Err("`locale.name` is missing".into());
    }
    // CLDR's order (zero, one, two, few, many), whatever order the file lists them in.
    plural_rules.sort_by_key(|(name, _)| plural::CATEGORIES.iter().position(|c| c == name));
    Ok(Texts { lang, strings, plural_rules })
}

/// CLDR plural rules (Unicode TR 35, "Language Plural Rules"): the operands of a number and the
/// conditions of `[locale.plural]`, such as Polish's
/// `few = "v = 0 and i % 10 = 2..4 and i % 100 != 12..14"`.
pub mod plural {
    /// The categories in CLDR's order; a count that no rule takes is `other`.
    pub const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

    /// A number as CLDR sees it: `n` absolute value, `i` integer digits, `v` visible fraction
    /// digits (with trailing zeros) and `w` (without), `f` and `t` those fraction digits as an
    /// integer, `c`/`e` the compact exponent (always 0 here).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Operands {
        pub n: f64,
        pub i: u64,
        pub v: u64,
        pub w: u64,
        pub f: u64,
        pub t: u64,
    }

    impl Operands {
        pub fn integer(count: u64) -> Operands {
            Operands { n: count as f64, i: count, v: 0, w: 0, f: 0, t: 0 }
        }

        /// A number as written (`"1.50"`: i 1, v 2, f 50, w 1, t 5); `None` if it is not one.
        pub fn decimal(text: &str) -> Option<Operands> {
            let text = text.trim().trim_start_matches('-');
            let (int, frac) = text.split_once('.').unwrap_or((text, ""));
            if int.is_empty() || !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let trimmed = frac.trim_end_matches('0');
            let number = |digits: &str| if digits.is_empty() { Some(0) } else { digits.parse::<u64>().ok() };
            Some(Operands {
                n: text.parse().ok()?,
                i: int.parse().ok()?,
                v: frac.len() as u64,
                w: trimmed.len() as u64,
                f: number(frac)?,
                t: number(trimmed)?,
            })
        }
    }

    /// `relation ('and' relation)* ('or' …)*`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Condition(Vec<Vec<Relation>>);

    #[derive(Debug, Clone, PartialEq)]
    struct Relation {
        operand: char,
        modulo: Option<u64>,
        equal: bool,
        ranges: Vec<(u64, u64)>,
    }

    impl Condition {
        /// A rule as CLDR writes it; its samples (`@integer 0, 1`) are ignored.
        pub fn parse(rule: &str) -> Result<Condition, String> {
            let rule = rule.split('@').next().unwrap_or_default().trim();
            if rule.is_empty() {
                return Err("the rule is empty".into());
            }
            let ors = rule
                .split(" or ")
                .map(|and| and.split(" and ").map(Relation::parse).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Condition(ors))
        }

        pub fn holds(&self, number: &Operands) -> bool {
            self.0.iter().any(|and| and.iter().all(|relation| relation.holds(number)))
        }
    }

    impl Relation {
        fn parse(text: &str) -> Result<Relation, String> {
            let bad = || format!("`{}` is not a relation such as `i % 10 = 2..4`", text.trim());
            let (left, equal, right) = if let Some((l, r)) = text.split_once("!=") {
                (l, false, r)
            } else if let Some((l, r)) = text.split_once('=') {
                (l, true, r)
            } else {
                return Err(bad());
            };
            let (operand, modulo) = match left.split_once('%') {
                Some((o, m)) => (o.trim(), Some(m.trim().parse::<u64>().ok().filter(|m| *m > 0).ok_or_else(bad)?)),
                None => (left.trim(), None),
            };
            let operand = match operand {
                "n" | "i" | "v" | "w" | "f" | "t" | "c" | "e" => operand.chars().next().unwrap_or('n'),
                _ => return Err(bad()),
            };
            let ranges = right
                .split(',')
                .map(|item| {
                    let value = |v: &str| v.trim().parse::<u64>().map_err(|_| bad());
                    match item.split_once("..") {
                        Some((low, high)) => Ok((value(low)?, value(high)?)),
                        None => value(item).map(|v| (v, v)),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Relation { operand, modulo, equal, ranges })
        }

        fn holds(&self, number: &Operands) -> bool {
            let value = match self.operand {
                'n' => number.n,
                'i' => number.i as f64,
                'v' => number.v as f64,
                'w' => number.w as f64,
                'f' => number.f as f64,
                't' => number.t as f64,
                _ => 0.0,
            };
            let value = match self.modulo {
                Some(m) => value % m as f64,
                None => value,
            };
            // A range holds integers only: `n = 2..4` is false for 2.5.
            let inside = self
                .ranges
                .iter()
                .any(|(low, high)| value.fract() == 0.0 && value >= *low as f64 && value <= *high as f64);
            inside == self.equal
        }
    }
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

    /// A language's name in the reader's words (`en` → "anglais" for a French reader), else its
    /// own name.
    pub fn language_name_in(&self, code: &str, t: &Texts) -> String {
        t.lookup(&format!("language_name.{code}")).map(str::to_string).unwrap_or_else(|| self.language_name(code))
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

    /// The keys of `t` with each count-dependent string's forms folded into one key (`failing_inboxes`
    /// for `failing_inboxes.one` and `.other`), and the plural rules into `locale.plural`: languages
    /// with other plural categories than the reference's still hold the same strings.
    fn stems(t: &Texts) -> BTreeSet<String> {
        t.strings.keys().map(|key| plural_stem(t, key).unwrap_or(key).to_string()).collect()
    }

    /// The count-dependent string `key` is a form of (`login_throttled` for `login_throttled.=0`).
    fn plural_stem<'a>(t: &Texts, key: &'a str) -> Option<&'a str> {
        let (stem, form) = key.rsplit_once('.')?;
        if stem == "locale.plural" {
            return Some(stem);
        }
        let is_form =
            plural::CATEGORIES.contains(&form) || form.strip_prefix('=').is_some_and(|n| n.parse::<u64>().is_ok());
        (is_form && t.strings.contains_key(&format!("{stem}.other"))).then_some(stem)
    }

    /// The placeholders that hold a count: they belong in count-dependent strings only.
    const COUNT_PLACEHOLDERS: [&str; 11] = [
        "count",
        "days",
        "minutes",
        "met",
        "total",
        "partial",
        "servers",
        "delivered",
        "waiting",
        "failed",
        "applicable",
    ];

    /// What is wrong with the count-dependent strings of `t`: a form its language lacks or a
    /// missing one, a `.one` with no `.other`, a count placeholder in a string that is not
    /// count-dependent.
    fn plural_faults(t: &Texts) -> Vec<String> {
        let forms: BTreeSet<&str> = t.plural_forms().into_iter().collect();
        let mut faults = Vec::new();
        let mut found: std::collections::BTreeMap<&str, BTreeSet<&str>> = Default::default();
        for (key, value) in &t.strings {
            match plural_stem(t, key) {
                Some("locale.plural") => {}
                Some(stem) => {
                    let form = &key[stem.len() + 1..];
                    if !form.starts_with('=') {
                        found.entry(stem).or_default().insert(form);
                    }
                }
                None => {
                    if let Some(stem) = key.strip_suffix(".one") {
                        faults.push(format!("{key} without {stem}.other"));
                    }
                    for name in COUNT_PLACEHOLDERS {
                        if value.contains(&format!("{{{name}}}")) {
                            faults.push(format!("{key} holds the count {{{name}}} but has no plural forms"));
                        }
                    }
                }
            }
        }
        for (stem, own) in found {
            if own != forms {
                faults.push(format!("{stem} has the forms {own:?}; {} needs exactly {forms:?}", t.lang));
            }
        }
        faults
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

    /// The keys `t` lacks and the keys it has that the reference lacks, plural forms folded.
    fn differences(reference: &Texts, t: &Texts) -> (Vec<String>, Vec<String>) {
        let (reference, own) = (stems(reference), stems(t));
        (reference.difference(&own).cloned().collect(), own.difference(&reference).cloned().collect())
    }

    #[test]
    fn a_catalogue_with_a_missing_or_unknown_key_is_caught() {
        let reference = parse("fr", SOURCES[0].1).unwrap();
        let renamed = parse("xx", &SOURCES[0].1.replacen("\nsave = ", "\nsave_it = ", 1)).unwrap();
        assert_eq!(differences(&reference, &renamed), (vec!["save".to_string()], vec!["save_it".to_string()]));
        assert!(parse("xx", "[locale.plural]\none = \"i = 1\"\n").unwrap_err().contains("locale.name"));
        assert!(parse("xx", "[locale]\nname = \"X\"\n[locale.plural]\none = \"i = \"\n")
            .unwrap_err()
            .contains("locale.plural.one"));
        assert!(parse("xx", "[locale]\nname = \"X\"\n[locale.plural]\nsome = \"i = 1\"\n").is_err());
        assert!(parse("xx", "n = 3\n").is_err(), "values are strings");
    }

    /// A catalogue missing a key of the reference, or holding one the reference lacks, fails;
    /// so does a count-dependent string without exactly its language's forms.
    #[test]
    fn every_catalogue_holds_exactly_the_reference_keys() {
        let catalog = Catalog::embedded();
        for t in &catalog.texts {
            let (missing, unknown) = differences(catalog.texts(REFERENCE), t);
            assert!(missing.is_empty(), "assets/i18n/{}.toml lacks {missing:?}", t.lang);
            assert!(unknown.is_empty(), "assets/i18n/{}.toml has keys {REFERENCE}.toml lacks: {unknown:?}", t.lang);
            for (key, value) in &t.strings {
                assert!(!value.trim().is_empty(), "{}.{key} is empty", t.lang);
            }
            let faults = plural_faults(t);
            assert!(faults.is_empty(), "assets/i18n/{}.toml: {faults:?}", t.lang);
        }
    }

    /// The catalogue test sees a missing form, a form the language does not have, and a count
    /// outside a count-dependent string.
    #[test]
    fn plural_faults_are_caught() {
        let head = "[locale]\nname = \"X\"\n[locale.plural]\none = \"i = 1 and v = 0\"\n";
        let faults = |body: &str| plural_faults(&parse("xx", &format!("{body}{head}")).unwrap());
        assert!(faults("[a]\none = \"{count} file\"\nother = \"{count} files\"\n\"=0\" = \"No file\"\n").is_empty());
        assert_eq!(faults("[a]\nother = \"{count} files\"\n").len(), 1, "one is missing");
        assert_eq!(faults("[a]\none = \"x\"\nfew = \"y\"\nother = \"z\"\n").len(), 1, "this language has no few");
        assert_eq!(faults("b = \"Les {days} derniers jours\"\n").len(), 1, "a count outside a plural");
        assert_eq!(faults("[c]\none = \"x\"\n").len(), 1, "one without other");
        // A language with few and many needs them in every count-dependent string.
        let polish = "[locale]\nname = \"P\"\n[locale.plural]\none = \"i = 1 and v = 0\"\nfew = \"v = 0 and i % 10 = 2..4 and i % 100 != 12..14\"\nmany = \"v = 0 and i != 1 and i % 10 = 0..1 or v = 0 and i % 10 = 5..9 or v = 0 and i % 100 = 12..14\"\n";
        let t = parse("pl", &format!("{polish}[a]\none = \"{{count}} plik\"\nfew = \"{{count}} pliki\"\nmany = \"{{count}} plików\"\nother = \"{{count}} pliku\"\n")).unwrap();
        assert!(plural_faults(&t).is_empty());
        assert_eq!(stems(&t), ["a", "locale.name", "locale.plural"].map(String::from).into_iter().collect());
        let t = parse("pl", &format!("{polish}[a]\none = \"x\"\nother = \"y\"\n")).unwrap();
        assert_eq!(plural_faults(&t).len(), 1);
    }

    #[test]
    fn a_locale_names_its_language_when_a_catalogue_has_it() {
        for (locale, lang) in [
            ("fr_FR.UTF-8", "fr"),
            ("fr_BE", "fr"),
            ("fr", "fr"),
            ("FR_ca.utf8", "fr"),
            ("en_GB.UTF-8", "en"),
            ("C", "en"),
            ("C.UTF-8", "en"),
            ("POSIX", "en"),
            ("de_DE.UTF-8", "en"),
            ("fur_IT", "en"),
            ("", "en"),
        ] {
            assert_eq!(locale_language(locale), lang, "{locale}");
        }
    }

    #[test]
    fn a_message_is_worded_in_each_readers_language_and_counted() {
        let catalog = Catalog::embedded();
        let (fr, en) = (catalog.texts("fr"), catalog.texts("en"));
        let failed = |count: u64| Message::counted("check.checks_failed", count, &[("total", "7")]);
        assert_eq!(failed(1).words(fr), "1 vérification sur 7 a échoué");
        assert_eq!(failed(2).words(fr), "2 vérifications sur 7 ont échoué");
        assert_eq!(failed(2).words(en), "2 of 7 checks failed");
        assert_eq!(failed(2).to_string(), "2 of 7 checks failed", "shown without a reader, it is English");
        let unblocked = Message::new("cli.unblocked", &[("domain", "spam.example")]);
        assert_eq!((unblocked.words(fr), unblocked.key()), ("spam.example débloqué".to_string(), "cli.unblocked"));
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
        // An exact form wins over the category.
        assert_eq!(fr.count("deliveries_given_up", 0), "Aucun envoi abandonné");
        assert_eq!(fr.count("deliveries_given_up", 1), "1 envoi abandonné");
        assert_eq!(fr.count("deliveries_given_up", 2), "2 envois abandonnés");
        assert_eq!(en.count("deliveries_given_up", 0), "No deliveries given up");
        assert_eq!(en.count("deliveries_given_up", 1), "1 delivery given up");
        assert_eq!((fr.category(0), fr.category(1), fr.category(2)), ("one", "one", "other"));
        assert_eq!((en.category(0), en.category(1), en.category(2)), ("other", "one", "other"));
    }

    /// fr.toml follows French typography: U+00A0 before `:` and inside « », U+202F before ; ? !,
    /// and ’ for the apostrophe.
    #[test]
    fn french_strings_follow_french_typography() {
        let catalog = Catalog::embedded();
        let mut faults = Vec::new();
        for (key, value) in &catalog.texts("fr").strings {
            for (bad, rule) in [
                (" :", "U+00A0 before :"),
                (" ;", "U+202F before ;"),
                (" ?", "U+202F before ?"),
                (" !", "U+202F before !"),
                ("« ", "U+00A0 after «"),
                (" »", "U+00A0 before »"),
                ("'", "’ for the apostrophe"),
            ] {
                if value.contains(bad) {
                    faults.push(format!("{key}: {rule}"));
                }
            }
            let glued = value.char_indices().any(|(i, c)| {
                c == ':' && value[..i].ends_with(char::is_alphanumeric) && value[i + 1..].starts_with(' ')
            });
            if glued {
                faults.push(format!("{key}: a space (U+00A0) before :"));
            }
        }
        faults.sort();
        assert!(faults.is_empty(), "assets/i18n/fr.toml: {faults:?}");
    }

    /// CLDR's Polish rules and their samples (cldr-json plurals.json): a language with few and many.
    #[test]
    fn cldr_rules_with_few_and_many() {
        let rule = |r: &str| plural::Condition::parse(r).unwrap();
        let one = rule("i = 1 and v = 0 @integer 1");
        let few = rule("v = 0 and i % 10 = 2..4 and i % 100 != 12..14 @integer 2~4, 22~24, 32~34");
        let many = rule("v = 0 and i != 1 and i % 10 = 0..1 or v = 0 and i % 10 = 5..9 or v = 0 and i % 100 = 12..14");
        let category = |text: &str| {
            let n = plural::Operands::decimal(text).unwrap();
            [("one", &one), ("few", &few), ("many", &many)]
                .into_iter()
                .find(|(_, r)| r.holds(&n))
                .map_or("other", |(c, _)| c)
        };
        for (numbers, expected) in [
            ("1", "one"),
            ("2 3 4 22 23 24 32 102 1004", "few"),
            ("0 5 6 11 12 13 14 15 20 21 25 100 111 112 1000", "many"),
            ("0.0 1.5 2.5 10.0 100.1", "other"),
        ] {
            for n in numbers.split(' ') {
                assert_eq!(category(n), expected, "{n}");
            }
        }
        // The other operands, on French's and Latvian's rules.
        let fr_many = rule("e = 0 and i != 0 and i % 1000000 = 0 and v = 0 or e != 0..5");
        assert!(fr_many.holds(&plural::Operands::integer(2_000_000)));
        assert!(!fr_many.holds(&plural::Operands::integer(2_000_001)));
        let lv_one =
            rule("n % 10 = 1 and n % 100 != 11 or v = 2 and f % 10 = 1 and f % 100 != 11 or v != 2 and f % 10 = 1");
        for (n, holds) in
            [("1", true), ("21", true), ("11", false), ("0.1", true), ("0.21", true), ("0.11", false), ("1.5", false)]
        {
            assert_eq!(lv_one.holds(&plural::Operands::decimal(n).unwrap()), holds, "{n}");
        }
        let t = plural::Operands::decimal("1.50").unwrap();
        assert_eq!((t.i, t.v, t.w, t.f, t.t), (1, 2, 1, 50, 5));
        assert!(rule("t = 5 and w = 1").holds(&t));
        assert!(!rule("n = 1..2").holds(&t), "a range holds integers only");
        assert!(
            rule("n = 1").holds(&plural::Operands::decimal("1.0").unwrap()),
            "n = 1 holds for 1.0, i = 1 and v = 0 does not"
        );
        for bad in ["", "i", "x = 1", "i % 0 = 1", "i = a", "i = 1..", "i = 1 and"] {
            assert!(plural::Condition::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// Every key used in a template or in the code, in the reference catalogue; nothing else in it.
    #[test]
    fn the_catalogues_hold_every_key_used_and_only_those() {
        let catalog = Catalog::embedded();
        let reference = stems(catalog.texts(REFERENCE));
        // Keys the code builds: the vocabulary's labels and the date's names.
        let mut used: BTreeSet<String> = vocab::label_keys().into_iter().collect();
        used.extend(content::DATE_KEYS.iter().map(|k| k.to_string()));
        used.insert("locale.plural".into());
        used.extend(crate::refusal::Kind::ALL.iter().map(|k| k.key().to_string()));
        used.extend(NAMED_COUNTRIES.iter().map(|code| format!("country_name.{code}")));
        used.extend(NAMED_LANGUAGES.iter().map(|code| format!("language_name.{code}")));
        used.extend(content::NAMED_CITIES.iter().map(|city| format!("city.{city}")));
        for code in LANGS.iter().chain(ENDONYMS.iter().map(|(code, _)| code)) {
            assert!(NAMED_LANGUAGES.contains(code), "{code} has a name in every catalogue");
        }
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
                for marker in
                    ["t.get(", "t.fill(", "t.plural(", "t.count(", "t.lookup(", "Message::new(", "Message::counted("]
                {
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
                                used.insert(key.to_string());
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
