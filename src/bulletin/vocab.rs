//! The machine-readable part of a bulletin: the terms of Ronron's extension vocabulary.
//!
//! On the wire values are camelCase (`partialOutage`); on the command line snake_case
//! (`partial_outage`). A value a newer peer sends that we do not know is kept as `Unknown`
//! instead of rejecting its whole bulletin.

use crate::i18n::Texts;
use serde::{Deserialize, Serialize};

/// Namespace of the extension terms (declared inline in every `@context`).
pub const NAMESPACE: &str = "https://w3id.org/ronron/ns#";

/// A closed list of values with their command-line names; their labels for people are in the
/// catalogues, under `KEY` (`vocab.impact.major`).
pub trait Choice: Sized + Copy + PartialEq + 'static {
    /// The catalogue table of this list's labels.
    const KEY: &'static str;
    /// (command-line name, value)
    const ALL: &'static [(&'static str, Self)];

    fn cli_name(self) -> &'static str {
        Self::ALL.iter().find(|(_, v)| *v == self).map(|(n, _)| *n).unwrap_or("unknown")
    }

    /// The catalogue key of this value's label.
    fn label_key(self) -> String {
        format!("{}.{}", Self::KEY, self.cli_name())
    }

    /// The value as people read it, in `t`'s language.
    fn label(self, t: &Texts) -> &str {
        t.lookup(&self.label_key()).unwrap_or_else(|| t.get("unknown"))
    }

    /// Parses a command-line value, or says which values `field` accepts.
    fn parse(field: &'static str, value: &str) -> Result<Self, super::BulletinError> {
        let wanted = value.trim().to_lowercase().replace('-', "_");
        Self::ALL.iter().find(|(n, _)| *n == wanted).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
            super::refuse(field, crate::refusal::Kind::NotOneOf, &[("value", value), ("values", &names.join(", "))])
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BulletinKind {
    News,
    ServiceChange,
    LabelUpdate,
    #[serde(other)]
    Unknown,
}

impl Choice for BulletinKind {
    const KEY: &'static str = "vocab.kind";
    const ALL: &'static [(&'static str, Self)] =
        &[("news", Self::News), ("service_change", Self::ServiceChange), ("label_update", Self::LabelUpdate)];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeType {
    Incident,
    Maintenance,
    Launch,
    Closure,
    Registration,
    Migration,
    #[serde(other)]
    Unknown,
}

impl Choice for ChangeType {
    const KEY: &'static str = "vocab.change";
    const ALL: &'static [(&'static str, Self)] = &[
        ("incident", Self::Incident),
        ("maintenance", Self::Maintenance),
        ("launch", Self::Launch),
        ("closure", Self::Closure),
        ("registration", Self::Registration),
        ("migration", Self::Migration),
    ];
}

/// Incident states (investigating → identified → monitoring → resolved) and maintenance states
/// (scheduled → in progress → completed, or cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeState {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Scheduled,
    InProgress,
    Completed,
    Cancelled,
    #[serde(other)]
    Unknown,
}

impl Choice for ChangeState {
    const KEY: &'static str = "vocab.state";
    const ALL: &'static [(&'static str, Self)] = &[
        ("investigating", Self::Investigating),
        ("identified", Self::Identified),
        ("monitoring", Self::Monitoring),
        ("resolved", Self::Resolved),
        ("scheduled", Self::Scheduled),
        ("in_progress", Self::InProgress),
        ("completed", Self::Completed),
        ("cancelled", Self::Cancelled),
    ];
}

impl ChangeState {
    pub fn is_incident_state(self) -> bool {
        matches!(self, Self::Investigating | Self::Identified | Self::Monitoring | Self::Resolved)
    }

    /// Parses the state a follow-up moves an incident to; a refusal lists only the incident states.
    pub fn parse_incident(field: &'static str, value: &str) -> Result<Self, super::BulletinError> {
        let wanted = value.trim().to_lowercase().replace('-', "_");
        Self::ALL.iter().find(|(n, v)| *n == wanted && v.is_incident_state()).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().filter(|(_, v)| v.is_incident_state()).map(|(n, _)| *n).collect();
            super::refuse(field, crate::refusal::Kind::NotOneOf, &[("value", value), ("values", &names.join(", "))])
        })
    }
    /// Still worth showing at the top of the profile (`featured`).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Investigating | Self::Identified | Self::Monitoring | Self::Scheduled | Self::InProgress)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
    #[serde(other)]
    Unknown,
}

impl Choice for Impact {
    const KEY: &'static str = "vocab.impact";
    const ALL: &'static [(&'static str, Self)] =
        &[("none", Self::None), ("minor", Self::Minor), ("major", Self::Major), ("critical", Self::Critical)];
}

/// A service's status; ordered from best to worst so the worst of several can be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ServiceStatus {
    Operational,
    UnderMaintenance,
    Degraded,
    PartialOutage,
    MajorOutage,
    Closed,
    #[serde(other)]
    Unknown,
}

impl Choice for ServiceStatus {
    const KEY: &'static str = "vocab.status";
    const ALL: &'static [(&'static str, Self)] = &[
        ("operational", Self::Operational),
        ("under_maintenance", Self::UnderMaintenance),
        ("degraded", Self::Degraded),
        ("partial_outage", Self::PartialOutage),
        ("major_outage", Self::MajorOutage),
        ("closed", Self::Closed),
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Registration {
    Open,
    OnRequest,
    Closed,
    #[serde(other)]
    Unknown,
}

impl Choice for Registration {
    const KEY: &'static str = "vocab.registration";
    const ALL: &'static [(&'static str, Self)] =
        &[("open", Self::Open), ("on_request", Self::OnRequest), ("closed", Self::Closed)];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Grade {
    Met,
    Partial,
    NotMet,
    NotApplicable,
    #[serde(other)]
    Unknown,
}

impl Choice for Grade {
    const KEY: &'static str = "vocab.grade";
    const ALL: &'static [(&'static str, Self)] = &[
        ("met", Self::Met),
        ("partial", Self::Partial),
        ("not_met", Self::NotMet),
        ("not_applicable", Self::NotApplicable),
    ];
}

/// The catalogue keys of every value's label, for the test that keeps the catalogues complete.
pub fn label_keys() -> Vec<String> {
    fn of<T: Choice>() -> impl Iterator<Item = String> {
        T::ALL.iter().map(|(_, v)| v.label_key())
    }
    of::<BulletinKind>()
        .chain(of::<ChangeType>())
        .chain(of::<ChangeState>())
        .chain(of::<Impact>())
        .chain(of::<ServiceStatus>())
        .chain(of::<Registration>())
        .chain(of::<Grade>())
        .chain(["unknown".to_string()])
        .collect()
}

/// A service as a bulletin refers to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub software: String,
    #[serde(default)]
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GradeChange {
    pub criterion: String,
    // Not `from`/`to`: `to` is AS2's addressing term and would be misread by JSON-LD tools.
    #[serde(default, rename = "previousGrade", skip_serializing_if = "Option::is_none")]
    pub from: Option<Grade>,
    #[serde(rename = "grade")]
    pub to: Grade,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// The extension properties of a bulletin's Note, flattened into it on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulletinMeta {
    pub bulletin_kind: BulletinKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "one_or_many_services")]
    pub service: Vec<ServiceRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_type: Option<ChangeType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ChangeState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_status: Option<ServiceStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria_set: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grade_changes: Vec<GradeChange>,
}

impl BulletinMeta {
    pub fn news() -> Self {
        BulletinMeta {
            bulletin_kind: BulletinKind::News,
            service: vec![],
            change_type: None,
            state: None,
            impact: None,
            service_status: None,
            registration: None,
            new_url: None,
            criteria_set: None,
            grade_changes: vec![],
        }
    }
}

/// `service` is one object when a change concerns one service, an array when several.
mod one_or_many_services {
    use super::ServiceRef;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(services: &[ServiceRef], s: S) -> Result<S::Ok, S::Error> {
        match services {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ServiceRef>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(ServiceRef),
            Many(Vec<ServiceRef>),
        }
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        })
    }
}

/// The `@context` entries that declare the extension terms inline.
pub fn context_terms() -> serde_json::Value {
    serde_json::json!({
        "rr": NAMESPACE,
        "HostedService": "rr:HostedService",
        "Label": "rr:Label",
        "bulletinKind": "rr:bulletinKind",
        "service": "rr:service",
        "services": {"@id": "rr:services", "@type": "@id"},
        "changeType": "rr:changeType",
        "state": "rr:state",
        "impact": "rr:impact",
        "serviceStatus": "rr:serviceStatus",
        "registration": "rr:registration",
        "newUrl": {"@id": "rr:newUrl", "@type": "@id"},
        "criteriaSet": {"@id": "rr:criteriaSet", "@type": "@id"},
        "gradeChanges": "rr:gradeChanges",
        "criterion": "rr:criterion",
        "grade": "rr:grade",
        "grades": "rr:grades",
        "previousGrade": "rr:previousGrade",
        "comment": "rr:comment",
        "evidence": {"@id": "rr:evidence", "@type": "@id"},
        "hostProfile": "rr:hostProfile",
        "label": {"@id": "rr:label", "@type": "@id"},
        "structureType": "rr:structureType",
        "country": "rr:country",
        "region": "rr:region",
        "languages": "rr:languages",
        "website": {"@id": "rr:website", "@type": "@id"},
        "contact": "rr:contact",
        "feed": {"@id": "rr:feed", "@type": "@id"},
        "chatonsInfos": {"@id": "rr:chatonsInfos", "@type": "@id"},
        "software": "rr:software",
        "intendedAudience": "rr:intendedAudience"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_and_cli_names() {
        assert_eq!(serde_json::to_string(&ServiceStatus::PartialOutage).unwrap(), "\"partialOutage\"");
        assert_eq!(ServiceStatus::parse("status", "partial-outage").unwrap(), ServiceStatus::PartialOutage);
        let err = Impact::parse("impact", "huge").unwrap_err();
        assert_eq!(err.to_string(), "impact: `huge` is not one of: none, minor, major, critical");
        let unknown: ServiceStatus = serde_json::from_str("\"onFire\"").unwrap();
        assert_eq!(unknown, ServiceStatus::Unknown);
    }

    #[test]
    fn service_is_one_object_or_an_array() {
        let one =
            ServiceRef { id: "https://h/s/a".into(), name: "A".into(), software: "X".into(), url: "https://a".into() };
        let mut meta = BulletinMeta::news();
        meta.service = vec![one.clone()];
        let json = serde_json::to_value(&meta).unwrap();
        assert!(json["service"].is_object());
        let back: BulletinMeta = serde_json::from_value(json).unwrap();
        assert_eq!(back, meta);
        meta.service = vec![one.clone(), one];
        let json = serde_json::to_value(&meta).unwrap();
        assert!(json["service"].is_array());
        assert_eq!(serde_json::from_value::<BulletinMeta>(json).unwrap(), meta);
    }
}
