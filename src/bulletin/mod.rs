//! Bulletin domain rules, free of HTTP: what a valid bulletin is and how its text is rendered.

pub mod content;
pub mod criteria;
pub mod forms;
pub mod render;
pub mod vocab;

use crate::{
    config::Config,
    refusal::{Kind, Refusal, Refusals},
};

pub const KIND_NEWS: &str = "news";
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BulletinError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// Every field of a form that is refused, each with its typed reason.
    #[error("{}", crate::refusal::joined(.0))]
    Fields(Vec<Refusal>),
    /// The bulletin acted on (`id`) is in a state that refuses the action (not an incident,
    /// already resolved, a maintenance already over…).
    #[error("{0}")]
    Conflict(Refusal),
    #[error("no bulletin has the id `{0}`")]
    NotFound(String),
    #[error("bulletin `{0}` was deleted and cannot be changed")]
    Deleted(String),
}

/// One field refused.
pub fn refuse(field: &'static str, kind: Kind, values: &[(&'static str, &str)]) -> BulletinError {
    BulletinError::Fields(vec![Refusal::new(field, kind, values)])
}

/// The refusals of a form, as its error when there is one.
pub fn refused(refusals: Refusals) -> Result<(), BulletinError> {
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(BulletinError::Fields(refusals.into_vec()))
    }
}

/// The value of a check, or None with its refusals added to the form's (so that the form goes on
/// to check its other fields).
pub fn collect<T>(refusals: &mut Refusals, result: Result<T, BulletinError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(BulletinError::Fields(more)) => {
            refusals.extend(more);
            None
        }
        Err(BulletinError::Invalid { field, reason }) => {
            refusals.push(Refusal { field: field.into(), reason: crate::refusal::Reason::Text(reason) });
            None
        }
        Err(BulletinError::Conflict(refusal)) => {
            refusals.push(refusal);
            None
        }
        Err(other) => {
            refusals.push(Refusal { field: "id".into(), reason: crate::refusal::Reason::Text(other.to_string()) });
            None
        }
    }
}

/// Refuses a text a person typed (form, API, command line) when it holds a character no feed can
/// carry: a C0 control other than tab, line feed and carriage return, or U+FFFE/U+FFFF (XML 1.0
/// forbids them, and PostgreSQL refuses U+0000). The one check every door's texts go through.
pub fn check_text(field: &'static str, value: &str) -> Result<(), BulletinError> {
    match value.chars().find(|&c| render::is_forbidden(c)) {
        None => Ok(()),
        Some(c) => Err(refuse(field, Kind::ControlChar, &[("code", &format!("U+{:04X}", u32::from(c)))])),
    }
}

/// [`check_text`] for an optional text.
pub fn check_optional_text(field: &'static str, value: Option<&str>) -> Result<(), BulletinError> {
    value.map_or(Ok(()), |v| check_text(field, v))
}

/// A title: one line, not empty, not too long.
fn check_title(refusals: &mut Refusals, field: &'static str, title: &str) {
    if title.is_empty() {
        refusals.refuse(field, Kind::Required, &[]);
    } else if title.contains(['\n', '\r']) {
        refusals.refuse(field, Kind::OneLine, &[]);
    } else if title.chars().count() > MAX_TITLE_CHARS {
        refusals.refuse(field, Kind::TooLong, &[("max", &MAX_TITLE_CHARS.to_string())]);
    }
}

/// A body: not too long, and not empty when `required`.
fn check_body(refusals: &mut Refusals, field: &'static str, body: &str, required: bool) {
    if required && body.is_empty() {
        refusals.refuse(field, Kind::Required, &[]);
    } else if body.chars().count() > MAX_BODY_CHARS {
        refusals.refuse(field, Kind::TooLong, &[("max", &MAX_BODY_CHARS.to_string())]);
    }
}

/// A language the host lists.
fn check_lang(refusals: &mut Refusals, config: &Config, field: &'static str, lang: &str) {
    if !config.account.languages.iter().any(|l| l == lang) {
        refusals.refuse(
            field,
            Kind::NotHostLanguage,
            &[("value", lang), ("languages", &config.account.languages.join(", "))],
        );
    }
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
        let mut refusals = Refusals::new();
        collect(&mut refusals, check_text("title", &self.title));
        collect(&mut refusals, check_text("body", &self.body_markdown));
        let title = self.title.trim();
        if !refusals.has("title") {
            check_title(&mut refusals, "title", title);
        }
        let body = self.body_markdown.trim();
        if !refusals.has("body") {
            check_body(&mut refusals, "body", body, true);
        }
        let lang = self.lang.clone().unwrap_or_else(|| config.default_language().to_string());
        check_lang(&mut refusals, config, "lang", &lang);
        refused(refusals)?;
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

    /// The fields refused, in order, and the English words of each.
    fn refusals(e: BulletinError) -> Vec<String> {
        match e {
            BulletinError::Fields(refusals) => refusals.iter().map(Refusal::to_string).collect(),
            other => panic!("not a form's refusals: {other:?}"),
        }
    }

    #[test]
    fn validation_names_the_field() {
        let config = Config::default();
        let draft = NewsDraft { title: " ".into(), body_markdown: "x".into(), lang: None };
        assert_eq!(refusals(draft.validate(&config).unwrap_err()), ["title: must not be empty"]);
        let draft = NewsDraft { title: "T".into(), body_markdown: "x".into(), lang: Some("de".into()) };
        assert_eq!(
            refusals(draft.validate(&config).unwrap_err()),
            ["lang: `de` is not one of the host's languages (fr, en)"]
        );
        let ok = NewsDraft { title: "Hello <b>".into(), body_markdown: "*Body*".into(), lang: None }
            .validate(&config)
            .unwrap();
        assert_eq!(ok.lang, "fr");
        assert_eq!(ok.content_html, "<p><strong>Hello &lt;b&gt;</strong></p><p><em>Body</em></p>");
    }

    #[test]
    fn every_refused_field_is_named_at_once() {
        let config = Config::default();
        let draft = NewsDraft { title: "".into(), body_markdown: " ".into(), lang: Some("de".into()) };
        assert_eq!(
            refusals(draft.validate(&config).unwrap_err()),
            [
                "title: must not be empty",
                "body: must not be empty",
                "lang: `de` is not one of the host's languages (fr, en)"
            ]
        );
        let service = ServiceDraft {
            slug: "Video".into(),
            url: "ftp://video.example".into(),
            registration: "open".into(),
            ..Default::default()
        };
        let fields: Vec<String> = refusals(service.validate().unwrap_err())
            .iter()
            .map(|r| r.split(':').next().unwrap().to_string())
            .collect();
        assert_eq!(fields, ["slug", "name", "software", "url"]);
        let at = |h| chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(h, 0, 0).unwrap();
        let change = ChangeDraft {
            change_type: ChangeType::Maintenance,
            services: vec![],
            impact: None,
            status: None,
            registration: None,
            new_url: None,
            starts_at: Some(at(21)),
            ends_at: Some(at(20)),
        };
        assert_eq!(
            refusals(change.validate(&[], at(8)).unwrap_err()),
            ["service: choose at least one service", "end: the window ends before it starts"]
        );
    }

    #[test]
    fn control_characters_are_refused_with_the_field_named() {
        let config = Config::default();
        let draft = NewsDraft { title: "T\u{0}".into(), body_markdown: "x".into(), lang: None };
        assert_eq!(refusals(draft.validate(&config).unwrap_err()), ["title: contains a control character (U+0000)"]);
        let text = TextDraft { lang: None, title: "T".into(), body_markdown: "a\tb\r\nc\u{b}".into() };
        assert_eq!(
            refusals(validate_texts(&config, &text, None, true).unwrap_err()),
            ["body: contains a control character (U+000B)"]
        );
        let translation = TextDraft { lang: Some("en".into()), title: "\u{ffff}".into(), body_markdown: "x".into() };
        let ok = TextDraft { lang: None, title: "T".into(), body_markdown: "a\tb\r\nc".into() };
        assert!(validate_texts(&config, &ok, None, true).is_ok(), "tab and line breaks are text");
        assert_eq!(
            refusals(validate_texts(&config, &ok, Some(&translation), true).unwrap_err()),
            ["translation-title: contains a control character (U+FFFF)"]
        );
        let service = ServiceDraft {
            slug: "s".into(),
            name: "n".into(),
            software: "s".into(),
            url: "https://s.example".into(),
            description: "\u{8}".into(),
            registration: "open".into(),
            ..Default::default()
        };
        assert_eq!(refusals(service.validate().unwrap_err()), ["description: contains a control character (U+0008)"]);
    }
}

// ---------------------------------------------------------------- typed bulletins

use crate::db::models::{bulletins::Bulletin, services::Service};
use chrono::{NaiveDateTime, TimeZone};
use vocab::*;

/// A text in one language, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct TextDraft {
    pub lang: Option<String>,
    pub title: String,
    pub body_markdown: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidText {
    pub lang: String,
    pub title: String,
    pub body_markdown: String,
}

fn validate_text(
    config: &Config,
    text: &TextDraft,
    prefix: &'static str,
    body_required: bool,
    refusals: &mut Refusals,
) -> Option<ValidText> {
    let field = |name: &'static str| -> &'static str {
        match (prefix, name) {
            ("", n) => n,
            (_, "title") => "translation-title",
            (_, "body") => "translation-body",
            _ => "translation-lang",
        }
    };
    let before = refusals.len();
    let title = text.title.trim();
    if collect(refusals, check_text(field("title"), &text.title)).is_some() {
        check_title(refusals, field("title"), title);
    }
    let body = text.body_markdown.trim();
    if collect(refusals, check_text(field("body"), &text.body_markdown)).is_some() {
        check_body(refusals, field("body"), body, body_required);
    }
    let lang = text.lang.clone().unwrap_or_else(|| config.default_language().to_string());
    if collect(refusals, check_optional_text(field("lang"), text.lang.as_deref())).is_some() {
        check_lang(refusals, config, field("lang"), &lang);
    }
    (refusals.len() == before).then(|| ValidText { lang, title: title.to_string(), body_markdown: body.to_string() })
}

/// Checks the main text and an optional translation (which must be in another declared language).
pub fn validate_texts(
    config: &Config,
    main: &TextDraft,
    translation: Option<&TextDraft>,
    body_required: bool,
) -> Result<(ValidText, Option<ValidText>), BulletinError> {
    let mut refusals = Refusals::new();
    let (main, translation) = check_texts(&mut refusals, config, main, translation, body_required);
    refused(refusals)?;
    Ok((main.expect("no refusal"), translation))
}

/// [`validate_texts`] inside a larger form: the refusals join the form's.
pub fn check_texts(
    refusals: &mut Refusals,
    config: &Config,
    main: &TextDraft,
    translation: Option<&TextDraft>,
    body_required: bool,
) -> (Option<ValidText>, Option<ValidText>) {
    let main = validate_text(config, main, "", body_required, refusals);
    let translation = translation.and_then(|t| {
        let no_lang = t.lang.is_none();
        if no_lang {
            refusals.refuse("translation-lang", Kind::TranslationLangRequired, &[]);
        }
        let t = validate_text(config, t, "translation", body_required, refusals).filter(|_| !no_lang)?;
        if main.as_ref().is_some_and(|m| m.lang == t.lang) {
            refusals.refuse("translation-lang", Kind::SameLanguage, &[("value", &t.lang)]);
            return None;
        }
        Some(t)
    });
    (main, translation)
}

/// A post as the admin writes it: main text, optional translation, optional publication time.
#[derive(Debug, Clone, Default)]
pub struct PostDraft {
    pub main: TextDraft,
    pub translation: Option<TextDraft>,
    pub publish_at: Option<NaiveDateTime>,
}

/// Reads a time typed by the admin: `2030-03-12 21:00` (in the host's time zone) or RFC 3339.
pub fn parse_local_time(field: &'static str, value: &str, tz: chrono_tz::Tz) -> Result<NaiveDateTime, BulletinError> {
    let value = value.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(at.naive_utc());
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(value, format) {
            return match tz.from_local_datetime(&local) {
                chrono::LocalResult::Single(at) => Ok(at.naive_utc()),
                chrono::LocalResult::Ambiguous(first, _) => Ok(first.naive_utc()),
                chrono::LocalResult::None => {
                    Err(refuse(field, Kind::NoSuchTime, &[("value", value), ("zone", tz.name())]))
                }
            };
        }
    }
    Err(refuse(field, Kind::NotATime, &[("value", value), ("zone", tz.name())]))
}

/// A service change as the admin asks for it.
#[derive(Debug, Clone)]
pub struct ChangeDraft {
    pub change_type: ChangeType,
    pub services: Vec<String>,
    pub impact: Option<Impact>,
    pub status: Option<ServiceStatus>,
    pub registration: Option<Registration>,
    pub new_url: Option<String>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
}

/// The checked machine-readable part of a new service change.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidChange {
    pub meta: BulletinMeta,
    pub services: Vec<Service>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
}

/// The status an incident of this impact gives its services unless the admin says otherwise.
pub fn status_for_impact(impact: Impact) -> ServiceStatus {
    match impact {
        Impact::None => ServiceStatus::Operational,
        Impact::Minor => ServiceStatus::Degraded,
        Impact::Major => ServiceStatus::PartialOutage,
        Impact::Critical | Impact::Unknown => ServiceStatus::MajorOutage,
    }
}

/// Maintenance state and service status for a window at `now`.
pub fn maintenance_state(
    starts: NaiveDateTime,
    ends: NaiveDateTime,
    now: NaiveDateTime,
) -> (ChangeState, ServiceStatus) {
    if now < starts {
        (ChangeState::Scheduled, ServiceStatus::Operational)
    } else if now < ends {
        (ChangeState::InProgress, ServiceStatus::UnderMaintenance)
    } else {
        (ChangeState::Completed, ServiceStatus::Operational)
    }
}

impl ChangeDraft {
    /// Checks the change against the catalogue (`known`) at `now` (the publication time).
    pub fn validate(&self, known: &[Service], now: NaiveDateTime) -> Result<ValidChange, BulletinError> {
        let mut refusals = Refusals::new();
        let valid = self.check(&mut refusals, known, now);
        refused(refusals)?;
        Ok(valid.expect("no refusal"))
    }

    /// [`ChangeDraft::validate`] inside a larger form: every refusal joins the form's.
    pub fn check(&self, refusals: &mut Refusals, known: &[Service], now: NaiveDateTime) -> Option<ValidChange> {
        let before = refusals.len();
        collect(refusals, check_optional_text("new-url", self.new_url.as_deref()));
        if self.services.is_empty() {
            refusals.refuse("service", Kind::ServiceRequired, &[]);
        }
        let mut services = Vec::new();
        for slug in &self.services {
            match known.iter().find(|s| &s.slug == slug && s.removed_at.is_none()) {
                Some(service) => services.push(service.clone()),
                None => refusals.refuse("service", Kind::UnknownService, &[("value", slug)]),
            }
        }
        let single = matches!(self.change_type, ChangeType::Launch | ChangeType::Closure | ChangeType::Migration);
        if single && self.services.len() > 1 {
            refusals.refuse("service", Kind::OneService, &[]);
        }
        if self.change_type != ChangeType::Maintenance && (self.starts_at.is_some() || self.ends_at.is_some()) {
            refusals.refuse("start", Kind::WindowOnlyMaintenance, &[]);
        }
        let mut meta = BulletinMeta::news();
        meta.bulletin_kind = BulletinKind::ServiceChange;
        meta.change_type = Some(self.change_type);
        meta.impact = self.impact;
        match self.change_type {
            ChangeType::Maintenance => {
                if self.starts_at.is_none() {
                    refusals.refuse("start", Kind::StartRequired, &[]);
                }
                match (self.starts_at, self.ends_at) {
                    (_, None) => refusals.refuse("end", Kind::EndRequired, &[]),
                    (Some(starts), Some(ends)) if ends <= starts => {
                        refusals.refuse("end", Kind::EndBeforeStart, &[]);
                    }
                    (_, Some(ends)) if ends <= now => refusals.refuse("end", Kind::WindowOver, &[]),
                    _ => {}
                }
                if self.status.is_some() {
                    refusals.refuse("status", Kind::MaintenanceStatus, &[]);
                }
                if let (Some(starts), Some(ends)) = (self.starts_at, self.ends_at) {
                    let (state, status) = maintenance_state(starts, ends, now);
                    meta.state = Some(state);
                    meta.service_status = Some(status);
                }
                meta.impact = Some(self.impact.unwrap_or(Impact::Minor));
            }
            ChangeType::Incident => {
                let impact = self.impact.unwrap_or(Impact::Major);
                meta.impact = Some(impact);
                meta.state = Some(ChangeState::Investigating);
                meta.service_status = Some(self.status.unwrap_or_else(|| status_for_impact(impact)));
            }
            ChangeType::Registration => match self.registration {
                Some(registration) => meta.registration = Some(registration),
                None => refusals.refuse("registration", Kind::RegistrationRequired, &[]),
            },
            ChangeType::Migration => {
                match self.new_url.as_deref() {
                    None => refusals.refuse("new-url", Kind::NewUrlRequired, &[]),
                    Some(new_url) => match url::Url::parse(new_url) {
                        Ok(u) if matches!(u.scheme(), "http" | "https") => meta.new_url = Some(new_url.to_string()),
                        _ if refusals.has("new-url") => {}
                        _ => refusals.refuse("new-url", Kind::NotWebUrl, &[("value", new_url)]),
                    },
                }
                meta.service_status = Some(ServiceStatus::Operational);
            }
            ChangeType::Launch => meta.service_status = Some(ServiceStatus::Operational),
            ChangeType::Closure => meta.service_status = Some(ServiceStatus::Closed),
            ChangeType::Unknown => refusals.refuse("type", Kind::UnknownChangeType, &[]),
        }
        if self.registration.is_some() && self.change_type != ChangeType::Registration {
            refusals.refuse("registration", Kind::OnlyRegistration, &[]);
        }
        if self.new_url.is_some() && self.change_type != ChangeType::Migration {
            refusals.refuse("new-url", Kind::OnlyMigration, &[]);
        }
        (refusals.len() == before).then_some(ValidChange {
            meta,
            services,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        })
    }
}

/// Checks an incident follow-up against the incident's first bulletin; returns the new state
/// and the resulting service status.
pub fn validate_follow_up(
    root: &Bulletin,
    state: ChangeState,
    status: Option<ServiceStatus>,
) -> Result<(ChangeState, ServiceStatus), BulletinError> {
    let meta = root.meta();
    if meta.change_type != Some(ChangeType::Incident) || root.in_reply_to.is_some() {
        return Err(BulletinError::Conflict(Refusal::new("id", Kind::NotAnIncident, &[("value", &root.id)])));
    }
    if meta.state == Some(ChangeState::Resolved) {
        return Err(BulletinError::Conflict(Refusal::new("id", Kind::AlreadyResolved, &[("value", &root.id)])));
    }
    if !state.is_incident_state() {
        return Err(refuse("state", Kind::IncidentState, &[]));
    }
    let status = match (state, status) {
        (_, Some(status)) => status,
        (ChangeState::Resolved, None) => ServiceStatus::Operational,
        (_, None) => meta.service_status.unwrap_or(ServiceStatus::Degraded),
    };
    Ok((state, status))
}

/// The status of a service from its service changes (first bulletins of each thread, oldest
/// first): closed after a closure (until a launch), otherwise the worst of its open incidents and
/// maintenance in progress, otherwise operational.
pub fn derive_status(changes: &[Bulletin]) -> ServiceStatus {
    let mut closed = false;
    let mut worst = ServiceStatus::Operational;
    for change in changes {
        let meta = change.meta();
        match (meta.change_type, meta.state) {
            (Some(ChangeType::Closure), _) => closed = true,
            (Some(ChangeType::Launch), _) => closed = false,
            (Some(ChangeType::Incident), Some(state)) if state != ChangeState::Resolved => {
                worst = worst.max(meta.service_status.unwrap_or(ServiceStatus::Degraded));
            }
            (Some(ChangeType::Maintenance), Some(ChangeState::InProgress)) => {
                worst = worst.max(meta.service_status.unwrap_or(ServiceStatus::UnderMaintenance));
            }
            _ => {}
        }
    }
    if closed {
        ServiceStatus::Closed
    } else {
        worst
    }
}

/// A service as the admin describes it.
#[derive(Debug, Clone, Default)]
pub struct ServiceDraft {
    pub slug: String,
    pub name: String,
    pub software: String,
    pub url: String,
    pub description: String,
    pub audience: String,
    pub registration: String,
}

impl ServiceDraft {
    pub fn validate(&self) -> Result<(), BulletinError> {
        let mut refusals = Refusals::new();
        for (field, value) in [
            ("slug", &self.slug),
            ("name", &self.name),
            ("software", &self.software),
            ("url", &self.url),
            ("description", &self.description),
            ("audience", &self.audience),
            ("registration", &self.registration),
        ] {
            collect(&mut refusals, check_text(field, value));
        }
        let slug_ok = self.slug.len() <= 64
            && self.slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if self.slug.is_empty() {
            refusals.refuse("slug", Kind::Required, &[]);
        } else if !slug_ok && !refusals.has("slug") {
            refusals.refuse("slug", Kind::Slug, &[("value", &self.slug)]);
        }
        if self.name.trim().is_empty() {
            refusals.refuse("name", Kind::Required, &[]);
        }
        if self.software.trim().is_empty() {
            refusals.refuse("software", Kind::Required, &[]);
        }
        if self.url.trim().is_empty() {
            refusals.refuse("url", Kind::Required, &[]);
        } else if !refusals.has("url") {
            match url::Url::parse(&self.url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => refusals.refuse("url", Kind::NotWebUrl, &[("value", &self.url)]),
            }
        }
        if !refusals.has("registration") {
            collect(&mut refusals, Registration::parse("registration", &self.registration));
        }
        refused(refusals)
    }
}

/// Checks a grade for a criterion of `set`.
pub fn validate_grade(
    set: &criteria::CriteriaSet,
    criterion: &str,
    grade: &str,
    evidence: Option<&str>,
) -> Result<Grade, BulletinError> {
    if set.find(criterion).is_none() {
        return Err(refuse("criterion", Kind::NotACriterion, &[("value", criterion), ("set", &set.id)]));
    }
    let grade = Grade::parse("grade", grade)?;
    check_optional_text("evidence", evidence)?;
    if let Some(evidence) = evidence {
        match url::Url::parse(evidence) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => return Err(refuse("evidence", Kind::NotWebUrl, &[("value", evidence)])),
        }
    }
    Ok(grade)
}

/// Where a service change stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A maintenance whose window has not opened.
    Upcoming,
    /// An incident not resolved, a maintenance inside its window.
    Ongoing,
    /// Resolved, completed, cancelled, or a window already closed.
    Over,
}

/// The state of a change at `now`. A maintenance's stored state follows its window only when the
/// scheduler's next tick comes; what is shown follows the window at once (scheduled → in
/// progress at `startTime`, → completed at `endTime`). Other changes keep their stored state.
pub fn state_at(
    meta: &BulletinMeta,
    starts: Option<NaiveDateTime>,
    ends: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Option<ChangeState> {
    let state = meta.state?;
    if meta.change_type != Some(ChangeType::Maintenance) {
        return Some(state);
    }
    Some(match (state, starts, ends) {
        (ChangeState::Scheduled | ChangeState::InProgress, _, Some(end)) if end <= now => ChangeState::Completed,
        (ChangeState::Scheduled, Some(start), _) if start <= now => ChangeState::InProgress,
        _ => state,
    })
}

/// Where a change stands at `now` (`state_at`): what puts it under "en cours", "à venir" or
/// "passées".
pub fn phase_at(
    meta: &BulletinMeta,
    starts: Option<NaiveDateTime>,
    ends: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Phase {
    match state_at(meta, starts, ends, now) {
        Some(ChangeState::Scheduled) => Phase::Upcoming,
        Some(state) if state.is_open() => Phase::Ongoing,
        _ => Phase::Over,
    }
}

/// `phase_at` of a stored bulletin.
pub fn phase_of(b: &Bulletin, now: NaiveDateTime) -> Phase {
    phase_at(&b.meta(), b.starts_at, b.ends_at, now)
}

#[cfg(test)]
mod phase_tests {
    use super::*;

    #[test]
    fn a_maintenance_is_placed_by_its_window_at_now() {
        let at = |h: u32| chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(h, 0, 0).unwrap();
        let mut meta = BulletinMeta::news();
        meta.change_type = Some(ChangeType::Maintenance);
        meta.state = Some(ChangeState::Scheduled);
        let (starts, ends) = (Some(at(20)), Some(at(21)));
        let phase = |meta: &BulletinMeta, h| phase_at(meta, starts, ends, at(h));
        assert_eq!(
            (phase(&meta, 19), phase(&meta, 20), phase(&meta, 21)),
            (Phase::Upcoming, Phase::Ongoing, Phase::Over)
        );
        assert_eq!(
            state_at(&meta, starts, ends, at(20)),
            Some(ChangeState::InProgress),
            "between the scheduler's ticks"
        );
        assert_eq!(state_at(&meta, starts, ends, at(22)), Some(ChangeState::Completed));
        meta.state = Some(ChangeState::Cancelled);
        assert_eq!(phase(&meta, 19), Phase::Over);
        meta.change_type = Some(ChangeType::Incident);
        meta.state = Some(ChangeState::Monitoring);
        assert_eq!(phase_at(&meta, None, None, at(23)), Phase::Ongoing);
        meta.state = Some(ChangeState::Resolved);
        assert_eq!(phase_at(&meta, None, None, at(1)), Phase::Over);
    }
}
