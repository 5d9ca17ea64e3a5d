//! The demo's sample data, `assets/demo/sample.toml`, read into typed structs. Values are written
//! as the command line takes them and checked by the same functions when the demo seeds them.

use crate::bulletin::forms::{ChangeFields, PostFields};
use anyhow::{ensure, Context};
use chrono::{Duration, DurationRound, NaiveDateTime};
use serde::Deserialize;

const SAMPLE: &str = include_str!("../../assets/demo/sample.toml");

/// A member host publishes; the collective (the aggregator) follows the members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Aggregator,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// The two members, then the collective.
    pub instances: Vec<Instance>,
}

/// One instance: its database file, its profile and what it publishes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub file: String,
    pub name: String,
    pub role: Role,
    pub languages: Vec<String>,
    pub summary: String,
    pub structure_type: String,
    pub country: String,
    pub region: String,
    pub website: String,
    /// Its logo: a file of `assets/demo/logos/`, uploaded as an admin would (and, for the
    /// collective, the Group's too).
    pub logo: String,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub grades: Vec<Grade>,
    /// Published in this order before the instances follow each other (peers get them by backfill).
    #[serde(default)]
    pub changes: Vec<Change>,
    /// Published once everyone is followed, so it travels as a delivery.
    pub news: Bilingual,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub slug: String,
    pub name: String,
    pub software: String,
    /// The service's address is `https://{host}`.
    pub host: String,
    pub description: String,
    pub audience: String,
    pub registration: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub criterion: String,
    pub grade: String,
    pub comment: String,
    /// A path on the instance's website.
    pub evidence: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    #[serde(rename = "type")]
    pub change_type: String,
    pub services: Vec<String>,
    pub impact: Option<String>,
    pub status: Option<String>,
    pub window: Option<Window>,
    pub fr: Text,
    pub en: Text,
    #[serde(default)]
    pub follow_ups: Vec<FollowUp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub state: String,
    pub status: Option<String>,
    pub fr: Text,
    pub en: Text,
}

/// A maintenance window, in minutes from `from`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub from: Anchor,
    pub starts_in_minutes: i64,
    pub ends_in_minutes: i64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    Now,
    /// A round hour about three hours from now: an upcoming window as an admin would plan it.
    LaterToday,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    pub fr: Text,
    pub en: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub title: String,
    pub body: String,
}

impl Sample {
    /// The sample shipped in the binary.
    pub fn embedded() -> anyhow::Result<Sample> {
        let sample: Sample = toml::from_str(SAMPLE).context("assets/demo/sample.toml is invalid")?;
        let roles: Vec<Role> = sample.instances.iter().map(|i| i.role).collect();
        // The runner relies on this shape: it splits members from the collective.
        ensure!(
            roles == [Role::Member, Role::Member, Role::Aggregator],
            "assets/demo/sample.toml must list two members, then the collective"
        );
        Ok(sample)
    }
}

impl Window {
    pub fn times(&self, now: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
        let anchor = match self.from {
            Anchor::Now => now,
            Anchor::LaterToday => later_today(now),
        };
        (anchor + Duration::minutes(self.starts_in_minutes), anchor + Duration::minutes(self.ends_in_minutes))
    }
}

/// A round time a bit later today (or just after midnight late in the evening), for an upcoming
/// window as an admin would plan it.
fn later_today(now: NaiveDateTime) -> NaiveDateTime {
    (now + Duration::hours(3)).duration_trunc(Duration::hours(1)).unwrap_or(now + Duration::hours(3))
}

impl Change {
    /// The change as the compose form would send it, its window given in RFC 3339.
    pub fn fields(&self, now: NaiveDateTime) -> ChangeFields {
        let at = |t: NaiveDateTime| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let window = self.window.map(|w| w.times(now));
        ChangeFields {
            change_type: self.change_type.clone(),
            services: self.services.clone(),
            impact: self.impact.clone(),
            status: self.status.clone(),
            start: window.map(|(start, _)| at(start)),
            end: window.map(|(_, end)| at(end)),
            ..Default::default()
        }
    }
}

/// A post in French and English; `main_lang` (the host's first language) is the main text.
pub fn bilingual(main_lang: &str, fr: &Text, en: &Text) -> PostFields {
    let texts = [("fr", fr), ("en", en)];
    // The host's first language leads; the other text is its translation.
    let (main_lang, main) = texts.iter().find(|(lang, _)| *lang == main_lang).copied().unwrap_or(texts[1]);
    let (other_lang, other) = texts.iter().find(|(lang, _)| *lang != main_lang).copied().unwrap_or(texts[0]);
    PostFields {
        lang: Some(main_lang.into()),
        title: main.title.clone(),
        body: main.body.clone(),
        translation_lang: Some(other_lang.into()),
        translation_title: Some(other.title.clone()),
        translation_body: Some(other.body.clone()),
        publish_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulletin::{
        forms,
        vocab::{ChangeState, Choice, ServiceStatus},
    };

    #[test]
    fn the_sample_parses_and_every_value_is_one_the_commands_accept() {
        let sample = Sample::embedded().unwrap();
        let now = chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(21, 40, 0).unwrap();
        let tz = chrono_tz::Europe::Paris;
        for instance in &sample.instances {
            bilingual("fr", &instance.news.fr, &instance.news.en).draft(tz).unwrap();
            for change in &instance.changes {
                change.fields(now).draft(tz).unwrap_or_else(|e| panic!("{}: {e}", change.en.title));
                bilingual("en", &change.fr, &change.en).draft(tz).unwrap();
                for follow_up in &change.follow_ups {
                    ChangeState::parse("state", &follow_up.state).unwrap();
                    forms::choice_field::<ServiceStatus>("status", &follow_up.status).unwrap();
                    bilingual("fr", &follow_up.fr, &follow_up.en).draft(tz).unwrap();
                }
            }
        }
    }

    #[test]
    fn windows_start_from_now_or_from_a_round_hour_later_today() {
        let now = chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(21, 40, 0).unwrap();
        let at = |h, m| chrono::NaiveDate::from_ymd_opt(2030, 3, 13).unwrap().and_hms_opt(h, m, 0).unwrap();
        let under_way = Window { from: Anchor::Now, starts_in_minutes: -20, ends_in_minutes: 70 };
        assert_eq!(under_way.times(now), (now - Duration::minutes(20), now + Duration::minutes(70)));
        let planned = Window { from: Anchor::LaterToday, starts_in_minutes: 60, ends_in_minutes: 90 };
        assert_eq!(planned.times(now), (at(1, 0), at(1, 30)));
    }
}
