//! The directory of peers: each followed host's profile, service catalogue (with statuses and
//! registration states) and label, read from the documents it publishes, refreshed when older
//! than a day or when the peer announces a change.

use crate::{
    bulletin::{
        criteria::{CriteriaSet, LabelScore},
        vocab::{Registration, ServiceStatus},
    },
    db::{
        models::directory::{self as rows, PeerEntry},
        DbError,
    },
    federation::{actors::fetch_actor, FedData, FederationError},
    urls::domain_of,
};
use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::Value;
use url::Url;

/// Refetched when older than this (as Mastodon does for profiles).
pub fn max_age() -> chrono::Duration {
    chrono::Duration::days(1)
}
/// Services read from one peer's catalogue at most.
const MAX_SERVICES: usize = 200;

async fn fetch_document(data: &FedData, actor: &Url, url: Option<&str>) -> Option<Value> {
    let url = Url::parse(url?).ok()?;
    // A peer describes itself only from its own host.
    let server = crate::urls::Authority::of_url;
    if server(&url).is_none() || server(&url) != server(actor) {
        return None;
    }
    match crate::federation::fetch::object(data, &url).await {
        Ok(response) => Some(response.object),
        Err(e) => {
            tracing::info!(%url, error = %e, "cannot fetch a peer's document");
            None
        }
    }
}

/// Fetches a peer's actor, catalogue and label, and stores what it says.
pub async fn refresh(data: &FedData, actor_url: &Url) -> Result<PeerEntry, FederationError> {
    let actor = fetch_actor(data, actor_url, true).await?;
    let raw: Value = serde_json::from_str(&actor.raw)?;
    let services = fetch_document(data, actor_url, raw.get("services").and_then(Value::as_str)).await.map(|doc| {
        let items =
            doc.get("orderedItems").or_else(|| doc.get("items")).and_then(Value::as_array).cloned().unwrap_or_default();
        Value::Array(items.into_iter().filter(Value::is_object).take(MAX_SERVICES).collect())
    });
    let label = fetch_document(data, actor_url, raw.get("label").and_then(Value::as_str)).await;
    // A document that cannot be fetched this time keeps its last copy.
    let key = actor.id.clone();
    let previous = data.app_data().db.read(move |c| rows::find(c, &key)).await?;
    let entry = PeerEntry {
        actor_id: actor.id.clone(),
        domain: domain_of(&actor.id),
        name: actor.name.clone(),
        host_profile: raw.get("hostProfile").map(Value::to_string),
        services: services.map(|s| s.to_string()).or_else(|| previous.as_ref().and_then(|p| p.services.clone())),
        label: label.map(|l| l.to_string()).or_else(|| previous.as_ref().and_then(|p| p.label.clone())),
        fetched_at: data.app_data().clock.now(),
    };
    let stored = entry.clone();
    data.app_data().db.write(move |c| rows::upsert(c, &stored)).await?;
    Ok(entry)
}

/// Makes sure every followed actor has an entry (new ones are due at once).
async fn add_missing(data: &FedData) -> Result<(), DbError> {
    data.app_data()
        .db
        .write(|c| {
            let known: Vec<String> = rows::list(c)?.into_iter().map(|e| e.actor_id).collect();
            for f in crate::db::models::remote::list_following(c)? {
                if f.status != crate::db::models::states::FollowState::Rejected && !known.contains(&f.actor_id) {
                    rows::upsert(c, &placeholder(&f.actor_id))?;
                }
            }
            Ok(())
        })
        .await
}

/// An entry with nothing fetched yet, due for a refresh.
pub fn placeholder(actor_id: &str) -> PeerEntry {
    PeerEntry {
        actor_id: actor_id.to_string(),
        domain: domain_of(actor_id),
        name: None,
        host_profile: None,
        services: None,
        label: None,
        fetched_at: chrono::NaiveDateTime::default(),
    }
}

/// Refreshes a few entries that are too old. A peer that cannot be reached keeps its last copy
/// and is tried again a day later, so a dead peer does not hold up the others.
pub async fn refresh_stale(data: &FedData) -> Result<usize, DbError> {
    add_missing(data).await?;
    let before = data.app_data().clock.now() - max_age();
    let stale = data.app_data().db.read(move |c| rows::stale(c, before, 5)).await?;
    let mut done = 0;
    for entry in stale {
        let result = match Url::parse(&entry.actor_id) {
            Ok(url) => refresh(data, &url).await.map(|_| ()),
            Err(e) => Err(FederationError::BadRequest(e.to_string())),
        };
        match result {
            Ok(()) => done += 1,
            Err(e) => {
                tracing::info!(actor = %entry.actor_id, error = %e, "directory refresh failed; next try in a day");
                let mut tried = entry.clone();
                tried.fetched_at = data.app_data().clock.now();
                data.app_data().db.write(move |c| rows::upsert(c, &tried)).await?;
            }
        }
    }
    Ok(done)
}

/// What a directory search asks for; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    /// Matches a service's software or name, case-insensitively.
    pub software: Option<String>,
    /// `open`, `onRequest` or `closed` (wire values).
    pub registration: Option<String>,
    /// `operational`, `degraded`… (wire values).
    pub status: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub lang: Option<String>,
    /// A criterion id, with `grade` (wire value) it must have.
    pub criterion: Option<String>,
    pub grade: Option<String>,
    /// Only the approved members of the collective (the role must be on, else NotFound); see
    /// `collective_pages::directory`, which fills `actors` from the roster.
    pub members_only: bool,
    /// Only these actors.
    pub actors: Option<Vec<String>>,
}

fn eq_ci(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// A peer in the directory: its documents as it published them (copied from its own host), and
/// what the pages read from them.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryEntry {
    pub actor: String,
    pub domain: String,
    pub name: Option<String>,
    /// Its `hostProfile`, as received.
    pub profile: Value,
    /// The items of its service catalogue that match the query, as received.
    pub services: Vec<Value>,
    /// Its label document, as received.
    pub label: Value,
    #[serde(serialize_with = "seconds")]
    pub fetched: NaiveDateTime,
}

fn seconds<S: serde::Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A service of a peer's catalogue, as the directory page lists it.
#[derive(Debug, Clone)]
pub struct PeerService {
    pub name: String,
    pub software: String,
    pub url: Option<String>,
    pub status: ServiceStatus,
    pub registration: Registration,
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|t| !t.is_empty())
}

/// Only http(s) URLs are links.
fn http_url(value: Option<&str>) -> Option<String> {
    value.filter(|u| u.starts_with("https://") || u.starts_with("http://")).map(str::to_string)
}

impl DirectoryEntry {
    /// Its name, else its domain.
    pub fn display_name(&self) -> String {
        self.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| self.domain.clone())
    }
    /// Its home page: the profile's `url`, else its actor URL (when either is http(s)).
    pub fn home(&self) -> Option<String> {
        http_url(text(&self.profile, "url")).or_else(|| http_url(Some(&self.actor)))
    }
    /// Its summary as it wrote it (HTML from a peer: sanitise before showing).
    pub fn summary_html(&self) -> &str {
        text(&self.profile, "summary").unwrap_or_default()
    }
    pub fn country(&self) -> Option<&str> {
        text(&self.profile, "country")
    }
    pub fn languages(&self) -> Vec<&str> {
        self.profile
            .get("languages")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
    pub fn service_list(&self) -> Vec<PeerService> {
        self.services
            .iter()
            .map(|s| PeerService {
                name: text(s, "name").unwrap_or_default().to_string(),
                software: text(s, "software").unwrap_or_default().to_string(),
                url: http_url(text(s, "url")),
                status: serde_json::from_value(s.get("serviceStatus").cloned().unwrap_or(Value::Null))
                    .unwrap_or(ServiceStatus::Unknown),
                registration: serde_json::from_value(s.get("registration").cloned().unwrap_or(Value::Null))
                    .unwrap_or(Registration::Unknown),
            })
            .collect()
    }
    /// Its label's score (`LabelScore`: met out of what applies), against `charter` when it grades it.
    pub fn label_score(&self, charter: &CriteriaSet) -> LabelScore {
        LabelScore::of_document(&self.label, charter)
    }
}

/// Peers matching the query, each with the services that match (`members_only` is read by
/// `collective_pages::directory`, not here).
pub async fn search(data: &FedData, q: DirectoryQuery) -> super::AppResult<Vec<DirectoryEntry>> {
    let entries = data.app_data().db.read(rows::list).await?;
    let mut out = Vec::new();
    for e in entries {
        if q.actors.as_ref().is_some_and(|m| !m.contains(&e.actor_id)) {
            continue;
        }
        let profile: Value =
            e.host_profile.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or(Value::Null);
        let services: Vec<Value> = e.services.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
        let label: Value = e.label.as_deref().and_then(|l| serde_json::from_str(l).ok()).unwrap_or(Value::Null);
        if let Some(country) = &q.country {
            if !eq_ci(profile.get("country").and_then(Value::as_str), country) {
                continue;
            }
        }
        if let Some(region) = &q.region {
            if !eq_ci(profile.get("region").and_then(Value::as_str), region) {
                continue;
            }
        }
        if let Some(lang) = &q.lang {
            let speaks = profile
                .get("languages")
                .and_then(Value::as_array)
                .is_some_and(|l| l.iter().any(|x| eq_ci(x.as_str(), lang)));
            if !speaks {
                continue;
            }
        }
        if let Some(criterion) = &q.criterion {
            let graded = label.get("grades").and_then(Value::as_array).is_some_and(|grades| {
                grades.iter().any(|g| {
                    g.get("criterion").and_then(Value::as_str) == Some(criterion.as_str())
                        && q.grade.as_deref().is_none_or(|want| g.get("grade").and_then(Value::as_str) == Some(want))
                })
            });
            if !graded {
                continue;
            }
        }
        let service_filter = q.software.is_some() || q.registration.is_some() || q.status.is_some();
        let matching: Vec<Value> = services
            .into_iter()
            .filter(|s| {
                q.software.as_deref().is_none_or(|want| {
                    eq_ci(s.get("software").and_then(Value::as_str), want)
                        || eq_ci(s.get("name").and_then(Value::as_str), want)
                }) && q
                    .registration
                    .as_deref()
                    .is_none_or(|want| s.get("registration").and_then(Value::as_str) == Some(want))
                    && q.status
                        .as_deref()
                        .is_none_or(|want| s.get("serviceStatus").and_then(Value::as_str) == Some(want))
            })
            .collect();
        if service_filter && matching.is_empty() {
            continue;
        }
        out.push(DirectoryEntry {
            actor: e.actor_id,
            domain: e.domain,
            name: e.name,
            profile,
            services: matching,
            label,
            fetched: e.fetched_at,
        });
    }
    Ok(out)
}
