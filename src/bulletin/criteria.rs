//! Charter criteria, shipped as data (`assets/criteria/chatons.toml`) or supplied by a collective.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Criterion {
    pub id: String,
    pub fr: String,
    pub en: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Section {
    pub id: String,
    pub fr: String,
    pub en: String,
    pub criteria: Vec<Criterion>,
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
    pub fn built_in() -> CriteriaSet {
        Self::parse(BUILT_IN).expect("the built-in criteria file is valid")
    }

    /// Parses a criteria file, checking that ids are unique and the set has a URL.
    pub fn parse(text: &str) -> Result<CriteriaSet, String> {
        let set: CriteriaSet = toml::from_str(text).map_err(|e| e.to_string())?;
        if url::Url::parse(&set.id).is_err() {
            return Err(format!("`id` must be the URL of the charter, not `{}`", set.id));
        }
        let mut seen = std::collections::HashSet::new();
        for criterion in set.criteria() {
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
        match self.find(id) {
            Some(c) if lang == "fr" => c.fr.clone(),
            Some(c) => c.en.clone(),
            None => id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_criteria_cover_the_six_sections_in_both_languages() {
        let set = CriteriaSet::built_in();
        let sections: Vec<&str> = set.sections.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(sections, ["hoster", "alternative", "transparent", "open", "neutral", "solidary"]);
        assert!(set.criteria().all(|c| !c.fr.is_empty() && !c.en.is_empty()));
        assert!(CriteriaSet::parse("id = \"x\"\nname_fr=\"a\"\nname_en=\"b\"\nsections=[]").is_err());
    }
}
