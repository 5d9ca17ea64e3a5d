//! A post as it arrives from a person: every value a string, from the command line, a web form or
//! the JSON admin API. One place turns those strings into the checked drafts the domain takes, so
//! the three front doors accept the same values and give the same errors, naming the field.

use super::{collect, parse_local_time, refused, vocab::*, BulletinError, ChangeDraft, PostDraft, TextDraft};
use crate::refusal::Refusals;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use serde::Deserialize;

/// Empty form fields mean "not given".
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A time typed in the host's time zone (or RFC 3339), if given.
pub fn time_field(field: &'static str, value: &Option<String>, tz: Tz) -> Result<Option<NaiveDateTime>, BulletinError> {
    given(value).map(|v| parse_local_time(field, v, tz)).transpose()
}

/// One of a closed list of values, if given.
pub fn choice_field<T: Choice>(field: &'static str, value: &Option<String>) -> Result<Option<T>, BulletinError> {
    given(value).map(|v| T::parse(field, v)).transpose()
}

/// The texts of a post and when to publish it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PostFields {
    pub lang: Option<String>,
    pub title: String,
    pub body: String,
    pub translation_lang: Option<String>,
    pub translation_title: Option<String>,
    pub translation_body: Option<String>,
    pub publish_at: Option<String>,
}

impl PostFields {
    pub fn main(&self) -> TextDraft {
        TextDraft {
            lang: given(&self.lang).map(str::to_string),
            title: self.title.clone(),
            body_markdown: self.body.clone(),
        }
    }

    /// The translation, when a language or a title for it was given.
    pub fn translation(&self) -> Option<TextDraft> {
        if given(&self.translation_lang).is_none() && given(&self.translation_title).is_none() {
            return None;
        }
        Some(TextDraft {
            lang: given(&self.translation_lang).map(str::to_string),
            title: self.translation_title.clone().unwrap_or_default(),
            body_markdown: self.translation_body.clone().unwrap_or_default(),
        })
    }

    pub fn draft(&self, tz: Tz) -> Result<PostDraft, BulletinError> {
        Ok(PostDraft {
            main: self.main(),
            translation: self.translation(),
            publish_at: time_field("publish-at", &self.publish_at, tz)?,
        })
    }
}

/// The machine-readable part of a service change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChangeFields {
    /// incident, maintenance, registration, launch, migration or closure.
    #[serde(rename = "type")]
    pub change_type: String,
    pub services: Vec<String>,
    pub impact: Option<String>,
    pub status: Option<String>,
    pub registration: Option<String>,
    pub new_url: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
}

impl ChangeFields {
    /// The draft, or every field that does not parse.
    pub fn draft(&self, tz: Tz) -> Result<ChangeDraft, BulletinError> {
        let mut refusals = Refusals::new();
        let change_type = collect(&mut refusals, ChangeType::parse("type", &self.change_type));
        let impact = collect(&mut refusals, choice_field("impact", &self.impact));
        let status = collect(&mut refusals, choice_field("status", &self.status));
        let registration = collect(&mut refusals, choice_field("registration", &self.registration));
        let starts_at = collect(&mut refusals, time_field("start", &self.start, tz));
        let ends_at = collect(&mut refusals, time_field("end", &self.end, tz));
        refused(refusals)?;
        Ok(ChangeDraft {
            change_type: change_type.expect("no refusal"),
            services: self.services.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            impact: impact.flatten(),
            status: status.flatten(),
            registration: registration.flatten(),
            new_url: given(&self.new_url).map(str::to_string),
            starts_at: starts_at.flatten(),
            ends_at: ends_at.flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_not_given_and_bad_values_name_their_field() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let post = PostFields {
            title: "T".into(),
            body: "B".into(),
            lang: Some(" ".into()),
            translation_lang: Some(String::new()),
            publish_at: Some(String::new()),
            ..Default::default()
        };
        let draft = post.draft(tz).unwrap();
        assert_eq!(draft.main.lang, None);
        assert!(draft.translation.is_none() && draft.publish_at.is_none());
        let change =
            ChangeFields { change_type: "maintenance".into(), impact: Some("huge".into()), ..Default::default() };
        let Err(BulletinError::Fields(refusals)) = change.draft(tz) else { panic!("refused") };
        assert_eq!(refusals.iter().map(|r| r.field.as_ref()).collect::<Vec<_>>(), ["impact"]);
        let both = ChangeFields {
            change_type: "maintenance".into(),
            impact: Some("huge".into()),
            end: Some("tomorrow".into()),
            ..Default::default()
        };
        let Err(BulletinError::Fields(refusals)) = both.draft(tz) else { panic!("refused") };
        assert_eq!(refusals.iter().map(|r| r.field.as_ref()).collect::<Vec<_>>(), ["impact", "end"], "all at once");
        let change = ChangeFields {
            change_type: "maintenance".into(),
            services: vec!["cloud".into(), " ".into()],
            start: Some("2030-03-12 21:00".into()),
            ..Default::default()
        };
        let draft = change.draft(tz).unwrap();
        assert_eq!(draft.services, vec!["cloud".to_string()]);
        assert_eq!(draft.starts_at.unwrap().to_string(), "2030-03-12 20:00:00");
    }
}
