//! The machine-readable part of a bulletin: the terms of Ronron's extension vocabulary.
//!
//! On the wire values are camelCase (`partialOutage`); on the command line snake_case
//! (`partial_outage`). A value a newer peer sends that we do not know is kept as `Unknown`
//! instead of rejecting its whole bulletin.

use serde::{Deserialize, Serialize};

/// Namespace of the extension terms (declared inline in every `@context`).
pub const NAMESPACE: &str = "https://w3id.org/ronron/ns#";

/// A closed list of values with their command-line names and labels in French and English.
pub trait Choice: Sized + Copy + PartialEq + 'static {
    /// (command-line name, value, French label, English label)
    const ALL: &'static [(&'static str, Self, &'static str, &'static str)];

    fn cli_name(self) -> &'static str {
        Self::ALL.iter().find(|(_, v, _, _)| *v == self).map(|(n, _, _, _)| *n).unwrap_or("unknown")
    }

    fn label(self, lang: &str) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, v, _, _)| *v == self)
            .map(|(_, _, fr, en)| if lang == "fr" { *fr } else { *en })
            .unwrap_or(if lang == "fr" { "inconnu" } else { "unknown" })
    }

    /// Parses a command-line value, or says which values `field` accepts.
    fn parse(field: &'static str, value: &str) -> Result<Self, super::BulletinError> {
        let wanted = value.trim().to_lowercase().replace('-', "_");
        Self::ALL.iter().find(|(n, _, _, _)| *n == wanted).map(|(_, v, _, _)| *v).ok_or_else(|| {
            super::BulletinError::Invalid {
                field,
                reason: format!(
                    "`{value}` is not one of: {}",
                    Self::ALL.iter().map(|(n, _, _, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            }
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
    const ALL: &'static [(&'static str, Self, &'static str, &'static str)] = &[
        ("news", Self::News, "actualité", "news"),
        ("service_change", Self::ServiceChange, "changement de service", "service change"),
        ("label_update", Self::LabelUpdate, "mise à jour du label", "label update"),
    ];
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
    const ALL: &'static [(&'static str, Self, &'static str, &'static str)] = &[
        ("incident", Self::Incident, "incident", "incident"),
        ("maintenance", Self::Maintenance, "maintenance", "maintenance"),
        ("launch", Self::Launch, "lancement", "launch"),
        ("closure", Self::Closure, "fermeture", "closure"),
        ("registration", Self::Registration, "inscriptions", "registration"),
        ("migration", Self::Migration, "migration", "migration"),
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
    const ALL: &'static [(&'static str, Self, &'static str, &'static str)] = &[
        ("investigating", Self::Investigating, "en cours d’analyse", "investigating"),
        ("identified", Self::Identified, "cause identifiée", "identified"),
        ("monitoring", Self::Monitoring, "sous surveillance", "monitoring"),
        ("resolved", Self::Resolved, "résolu", "resolved"),
        ("scheduled", Self::Scheduled, "planifiée", "scheduled"),
        ("in_progress", Self::InProgress, "en cours", "in progress"),
        ("completed", Self::Completed, "terminée", "completed"),
        ("cancelled", Self::Cancelled, "annulée", "cancelled"),
    ];
}

impl ChangeState {
    pub fn is_incident_state(self) -> bool {
        matches!(self, Self::Investigating | Self::Identified | Self::Monitoring | Self::Resolved)
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
    const ALL: &'static [(&'static str, Self, &'static str, &'static str)] = &[
        ("none", Self::None, "aucun impact", "no impact"),
        ("minor", Self::Minor, "impact mineur", "minor impact"),
        ("major", Self::Major, "impact majeur", "major impact"),
        ("critical", Self::Critical, "impact critique", "critical impact"),
    ];
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
    const ALL: &'static [(&'static str, Self, &'static str, &'static str)] = &[
        ("operational", Self::Operational, "opérationnel", "operational"),
        ("under_maintenance", Self::UnderMaintenance, "en maintenance", "under maintenance"),
        ("degraded", Self::Degraded, "dégradé", "degraded"),
        ("partial_outage", Self::PartialOutage, "panne partielle", "partial outage"),
        ("major_outage", Self::MajorOutage, "panne majeure", "major outage"),
        ("closed", Self::Closed, "fermé", "closed"),
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
    const ALL: &'static [(&'static str, Self, &'static str, &'static str)] = &[
        ("open", Self::Open, "inscriptions ouvertes", "registrations open"),
        ("on_request", Self::OnRequest, "inscriptions sur demande", "registrations on request"),
        ("closed", Self::Closed, "inscriptions fermées", "registrations closed"),
    ];
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
    const ALL: &'static [(&'static str, Self, &'static str, &'static str)] = &[
        ("met", Self::Met, "respecté", "met"),
        ("partial", Self::Partial, "partiellement respecté", "partially met"),
        ("not_met", Self::NotMet, "non respecté", "not met"),
        ("not_applicable", Self::NotApplicable, "non applicable", "not applicable"),
    ];
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
