//! Charter criteria, shipped as data (`assets/criteria/chatons.toml`) or supplied by a collective.

use super::vocab::Grade;
use crate::i18n::FALLBACK;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A text in several languages, keyed by language code (`fr = "…"`, `en = "…"` in the file; a
/// collective's file may add others).
pub type Translated = BTreeMap<String, String>;

/// The text in `lang`, else in the fallback language (a file must have that one).
fn pick<'a>(text: &'a Translated, lang: &str) -> &'a str {
    text.get(lang).or_else(|| text.get(FALLBACK)).map(String::as_str).unwrap_or_default()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Criterion {
    pub id: String,
    #[serde(flatten)]
    pub text: Translated,
}

impl Criterion {
    /// What the criterion asks, in `lang`.
    pub fn label(&self, lang: &str) -> &str {
        pick(&self.text, lang)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Section {
    pub id: String,
    pub criteria: Vec<Criterion>,
    #[serde(flatten)]
    pub text: Translated,
}

impl Section {
    /// The section's title in `lang`.
    pub fn title(&self, lang: &str) -> &str {
        pick(&self.text, lang)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CriteriaSet {
    /// URL naming the charter version graded (`criteriaSet` on the wire).
    pub id: String,
    pub name_fr: String,
    pub name_en: String,
    pub sections: Vec<Section>,
}

pub const BUILT_IN: &str = include_str!("../../assets/criteria/chatons.toml");

impl CriteriaSet {
    /// The charter's name in `lang`: French for French, English for any other.
    pub fn name(&self, lang: &str) -> &str {
        if lang == "fr" {
            &self.name_fr
        } else {
            &self.name_en
        }
    }

    pub fn built_in() -> CriteriaSet {
        Self::parse(BUILT_IN).expect("the built-in criteria file is valid")
    }

    /// Parses a criteria file, checking that ids are unique and the set has a URL.
    pub fn parse(text: &str) -> Result<CriteriaSet, String> {
        let set: CriteriaSet = toml::from_str(text).map_err(|e| e.to_string())?;
        if url::Url::parse(&set.id).is_err() {
            return Err(format!("`id` must be the URL of the charter, not `{}`", set.id));
        }
        for section in &set.sections {
            if !section.text.contains_key(FALLBACK) {
                return Err(format!("section `{}` has no `{FALLBACK}` title", section.id));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for criterion in set.criteria() {
            if !criterion.text.contains_key(FALLBACK) {
                return Err(format!("criterion `{}` has no `{FALLBACK}` text", criterion.id));
            }
            if !seen.insert(criterion.id.clone()) {
                return Err(format!("criterion `{}` appears twice", criterion.id));
            }
        }
        if seen.is_empty() {
            return Err("the file lists no criteria".into());
        }
        Ok(set)
    }

    /// Loads the configured file, or the built-in CHATONS criteria.
    pub fn load(path: Option<&str>) -> Result<CriteriaSet, String> {
        match path {
            None => Ok(Self::built_in()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("account.criteria_file: cannot read {path}: {e}"))?;
                Self::parse(&text).map_err(|e| format!("account.criteria_file {path}: {e}"))
            }
        }
    }

    pub fn criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.sections.iter().flat_map(|s| s.criteria.iter())
    }

    pub fn find(&self, id: &str) -> Option<&Criterion> {
        self.criteria().find(|c| c.id == id)
    }

    /// The criterion's text in `lang` (its id when unknown: a peer may grade other criteria).
    pub fn label(&self, id: &str, lang: &str) -> String {
        self.find(id).map(|c| c.label(lang)).unwrap_or(id).to_string()
    }
}

/// A label's score, one rule wherever it shows (host page, directory, collective labels page):
/// the criteria met out of the criteria that apply. A criterion graded not applicable is left
/// out; one not graded counts as not met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelScore {
    pub met: usize,
    pub applicable: usize,
}

impl LabelScore {
    /// The score of these grades, one per criterion scored against (`None`: not graded).
    pub fn of(grades: impl IntoIterator<Item = Option<Grade>>) -> LabelScore {
        grades.into_iter().fold(LabelScore::default(), |score, grade| match grade {
            Some(Grade::NotApplicable) => score,
            Some(Grade::Met) => LabelScore { met: score.met + 1, applicable: score.applicable + 1 },
            _ => LabelScore { applicable: score.applicable + 1, ..score },
        })
    }

    /// The score of a label document (`criteriaSet` and `grades`, as a peer publishes it):
    /// against every criterion of `charter` when it grades that charter, else against the
    /// criteria it grades (we cannot know what else another charter holds).
    pub fn of_document(label: &serde_json::Value, charter: &CriteriaSet) -> LabelScore {
        let grades: BTreeMap<&str, Grade> = label
            .get("grades")
            .and_then(serde_json::Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|g| {
                let criterion = g.get("criterion")?.as_str()?;
                let grade = serde_json::from_value(g.get("grade")?.clone()).unwrap_or(Grade::Unknown);
                Some((criterion, grade))
            })
            .collect();
        if label.get("criteriaSet").and_then(serde_json::Value::as_str) == Some(charter.id.as_str()) {
            LabelScore::of(charter.criteria().map(|c| grades.get(c.id.as_str()).copied()))
        } else {
            LabelScore::of(grades.values().copied().map(Some))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Met out of what applies: not applicable left out, not graded counted as not met; a peer
    /// on our charter is scored against all of it, one on another charter against what it grades.
    #[test]
    fn one_label_score_rule() {
        use Grade::*;
        let score = LabelScore::of([Some(Met), Some(Partial), Some(NotApplicable), None, Some(NotMet), Some(Met)]);
        assert_eq!(score, LabelScore { met: 2, applicable: 5 });
        let set = CriteriaSet::built_in();
        let total = set.criteria().count();
        let ours = serde_json::json!({"criteriaSet": set.id, "grades": [
            {"criterion": "hoster.backups", "grade": "met"},
            {"criterion": "alternative.free-software", "grade": "notApplicable"},
        ]});
        assert_eq!(LabelScore::of_document(&ours, &set), LabelScore { met: 1, applicable: total - 1 });
        let theirs = serde_json::json!({"criteriaSet": "https://elsewhere.example/charter", "grades": [
            {"criterion": "x.a", "grade": "met"},
            {"criterion": "x.b", "grade": "partial"},
            {"criterion": "x.c", "grade": "notApplicable"},
        ]});
        assert_eq!(LabelScore::of_document(&theirs, &set), LabelScore { met: 1, applicable: 2 });
        assert_eq!(LabelScore::of_document(&serde_json::Value::Null, &set), LabelScore::default());
    }

    #[test]
    fn built_in_criteria_cover_the_six_sections_in_both_languages() {
        let set = CriteriaSet::built_in();
        let sections: Vec<&str> = set.sections.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(sections, ["hoster", "alternative", "transparent", "open", "neutral", "solidary"]);
        assert!(set.criteria().all(|c| !c.label("fr").is_empty() && !c.label("en").is_empty()));
        assert!(CriteriaSet::parse("id = \"x\"\nname_fr=\"a\"\nname_en=\"b\"\nsections=[]").is_err());
        assert_eq!(set.sections[0].title("fr"), "Hébergeur");
        assert_eq!(set.sections[0].title("en"), "Hoster");
        assert_eq!(set.sections[0].title("de"), "Hoster", "the fallback language");
        assert_eq!(
            set.label("hoster.backups", "fr"),
            "Les données sont sauvegardées régulièrement et les sauvegardes sont testées"
        );
        assert_eq!(set.label("elsewhere.x", "fr"), "elsewhere.x", "a criterion we do not know shows its id");
    }

    #[test]
    fn a_collective_file_may_name_criteria_in_other_languages() {
        let file = "id = \"https://example.org/c\"\nname_fr = \"C\"\nname_en = \"C\"\n\n[[sections]]\nid = \"s\"\nen = \"Section\"\nde = \"Abschnitt\"\ncriteria = [{ id = \"s.a\", en = \"Open\", de = \"Offen\" }]\n";
        let set = CriteriaSet::parse(file).unwrap();
        assert_eq!(set.sections[0].title("de"), "Abschnitt");
        assert_eq!(set.label("s.a", "de"), "Offen");
        assert_eq!(set.label("s.a", "fr"), "Open", "French falls back to the fallback language");
        let without_fallback = file.replace("en = \"Open\", ", "");
        assert!(CriteriaSet::parse(&without_fallback).unwrap_err().contains("s.a"));
    }
}
