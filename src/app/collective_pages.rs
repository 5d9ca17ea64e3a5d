//! What the collective's pages and feeds show when the collective role is on: every member's
//! status at a glance (per member and per service), their label grades side by side, the roster,
//! and their maintenance windows. It reads the roster (`app::collective` owns it), the members'
//! posts as received and their directory entries (services and label as they publish them).

use super::{
    directory::{DirectoryEntry, DirectoryQuery},
    AppError, AppResult,
};
use crate::{
    bulletin::{
        render,
        vocab::{ChangeState, ChangeType, Grade, Impact, Registration, ServiceStatus},
    },
    db::models::{directory as entries, remote},
    refusal::{Kind, Reason},
    state::AppState,
    urls::domain_of,
};
use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Root service changes read per page at most (newest first): plenty for a collective's open
/// incidents and maintenance, bounded for one with hundreds of members.
const MAX_CHANGES: i64 = 1000;

/// A member of the roster as the collective's pages name it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberHost {
    /// Its host account's actor URL.
    pub actor: String,
    /// `@name@domain`.
    pub handle: String,
    /// Its display name as its directory entry says it, else its handle.
    pub name: String,
    pub domain: String,
    /// When it joined the roster.
    #[serde(serialize_with = "seconds")]
    pub since: NaiveDateTime,
}

fn seconds<S: serde::Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The collective role's pages exist only when the role is on.
fn role_off() -> AppError {
    AppError::NotFound(Reason::new(Kind::CollectiveOff, &[]))
}

pub fn role_on(state: &AppState) -> bool {
    super::collective::enabled(state)
}

/// The approved members, in the roster's order (oldest first); NotFound when the role is off.
pub async fn members(state: &AppState) -> AppResult<Vec<MemberHost>> {
    if !role_on(state) {
        return Err(role_off());
    }
    let roster = super::collective::list_members(state, Some(super::collective::MemberState::Approved)).await?;
    let names = state
        .db
        .read(|c| Ok(entries::list(c)?.into_iter().map(|e| (e.actor_id, e.name)).collect::<HashMap<_, _>>()))
        .await?;
    Ok(roster
        .into_iter()
        .map(|m| {
            let name = names.get(&m.actor_id).cloned().flatten().filter(|n| !n.trim().is_empty());
            MemberHost {
                domain: domain_of(&m.actor_id),
                name: name.unwrap_or_else(|| m.handle.clone()),
                handle: m.handle,
                actor: m.actor_id,
                // On the roster since it was approved (added by the admin: since it was added).
                since: m.approved_at.unwrap_or(m.since),
            }
        })
        .collect())
}

/// The actor URLs of the approved members, for the timeline's and directory's `members` filter.
pub async fn member_actors(state: &AppState) -> AppResult<Vec<String>> {
    Ok(members(state).await?.into_iter().map(|m| m.actor).collect())
}

/// A directory search; of the members only when `q.members_only` (NotFound when the role is off).
/// Here rather than in `directory`, which the roster's module depends on.
pub async fn directory(data: &crate::federation::FedData, mut q: DirectoryQuery) -> AppResult<Vec<DirectoryEntry>> {
    if q.members_only {
        q.actors = Some(member_actors(data.app_data()).await?);
    }
    super::directory::search(data, q).await
}

// ---------------------------------------------------------------- status of all members

/// A member's incident or maintenance, as its Note (the root of the thread) says it now.
#[derive(Debug, Clone)]
pub struct MemberChange {
    /// The member's actor URL.
    pub member: String,
    pub member_name: String,
    /// The Note's id.
    pub id: String,
    /// Where a person reads it (http(s) only).
    pub url: Option<String>,
    pub title: String,
    pub change_type: ChangeType,
    pub state: Option<ChangeState>,
    pub impact: Option<Impact>,
    pub service_status: Option<ServiceStatus>,
    /// The names of the services it is about.
    pub services: Vec<String>,
    service_ids: Vec<String>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub published: NaiveDateTime,
    pub updated: NaiveDateTime,
    /// Its text, plain (for a calendar's description).
    pub text: String,
}

impl MemberChange {
    pub fn is_open(&self) -> bool {
        self.state.is_some_and(ChangeState::is_open)
    }
}

/// A service of a member, its status and what is going on with it.
#[derive(Debug, Clone)]
pub struct MemberService {
    pub name: String,
    pub software: String,
    pub url: Option<String>,
    pub status: ServiceStatus,
    pub registration: Registration,
    /// Titles of its open incidents and maintenance.
    pub open: Vec<String>,
}

/// One member on the status page.
#[derive(Debug, Clone)]
pub struct MemberStatus {
    pub member: MemberHost,
    /// Its services (from its catalogue as last fetched), with their status.
    pub services: Vec<MemberService>,
    /// The worst status among its services not closed; None when it lists none.
    pub worst: Option<ServiceStatus>,
    /// Its open incidents, newest first.
    pub incidents: Vec<MemberChange>,
    /// Its maintenance scheduled or in progress, soonest first.
    pub maintenance: Vec<MemberChange>,
}

/// The collective's status page: every member, and every open incident and maintenance.
#[derive(Debug, Clone)]
pub struct CollectiveStatus {
    pub members: Vec<MemberStatus>,
    pub worst: Option<ServiceStatus>,
    /// Open incidents of all members, newest first.
    pub incidents: Vec<MemberChange>,
    /// Maintenance scheduled or in progress of all members, soonest first.
    pub maintenance: Vec<MemberChange>,
}

fn http_url(value: Option<&str>) -> Option<String> {
    value.filter(|u| u.starts_with("https://") || u.starts_with("http://")).map(str::to_string)
}

fn time_of(raw: &Value, key: &str) -> Option<NaiveDateTime> {
    let text = raw.get(key)?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.naive_utc())
}

/// A member's service change as received, or None when it is not an incident or maintenance.
fn change_of(post: &remote::RemotePost, names: &HashMap<String, String>) -> Option<MemberChange> {
    let meta: crate::bulletin::vocab::BulletinMeta = serde_json::from_str(post.meta.as_deref()?).ok()?;
    let change_type = meta.change_type.filter(|c| matches!(c, ChangeType::Incident | ChangeType::Maintenance))?;
    let raw: Value = serde_json::from_str(&post.raw).unwrap_or(Value::Null);
    let text = render::plain_text(&post.content_html);
    // A bulletin's first paragraph is its title (see `bulletin::content`); a name when it has one.
    let title = raw
        .get("name")
        .and_then(Value::as_str)
        .map(|n| render::plain_text(&render::sanitize_html(&render::strip_forbidden(n))))
        .or_else(|| post.summary.as_deref().map(render::plain_text))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_string());
    Some(MemberChange {
        member: post.actor_id.clone(),
        member_name: names.get(&post.actor_id).cloned().unwrap_or_else(|| domain_of(&post.actor_id)),
        id: post.id.clone(),
        url: http_url(post.url.as_deref()).or_else(|| http_url(Some(&post.id))),
        title: title.trim().to_string(),
        change_type,
        state: meta.state,
        impact: meta.impact,
        service_status: meta.service_status,
        services: meta.service.iter().map(|s| render::strip_forbidden(&s.name)).collect(),
        service_ids: meta.service.iter().map(|s| s.id.clone()).collect(),
        starts_at: time_of(&raw, "startTime"),
        ends_at: time_of(&raw, "endTime"),
        published: post.published_at,
        updated: post.updated_at.unwrap_or(post.published_at).max(post.published_at),
        text,
    })
}

/// The members' incidents and maintenance (roots of threads), newest first.
async fn member_changes(state: &AppState, members: &[MemberHost]) -> AppResult<Vec<MemberChange>> {
    let actors: Vec<String> = members.iter().map(|m| m.actor.clone()).collect();
    let names: HashMap<String, String> = members.iter().map(|m| (m.actor.clone(), m.name.clone())).collect();
    let posts = state.db.read(move |c| remote::service_changes_of(c, &actors, MAX_CHANGES)).await?;
    Ok(posts.iter().filter_map(|p| change_of(p, &names)).collect())
}

fn parse<T: serde::de::DeserializeOwned>(text: Option<&str>) -> Option<T> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

fn entry_of(e: entries::PeerEntry) -> DirectoryEntry {
    DirectoryEntry {
        profile: parse(e.host_profile.as_deref()).unwrap_or(Value::Null),
        services: parse(e.services.as_deref()).unwrap_or_default(),
        label: parse(e.label.as_deref()).unwrap_or(Value::Null),
        actor: e.actor_id,
        domain: e.domain,
        name: e.name,
        fetched: e.fetched_at,
    }
}

/// The members' directory entries, by actor URL.
async fn member_entries(state: &AppState) -> AppResult<HashMap<String, DirectoryEntry>> {
    Ok(state.db.read(entries::list).await?.into_iter().map(|e| (e.actor_id.clone(), entry_of(e))).collect())
}

/// Every member's services and open incidents and maintenance.
pub async fn status(state: &AppState) -> AppResult<CollectiveStatus> {
    let members = members(state).await?;
    let changes = member_changes(state, &members).await?;
    let mut directory = member_entries(state).await?;
    let mut out = Vec::new();
    for member in members {
        let mine: Vec<&MemberChange> = changes.iter().filter(|c| c.member == member.actor && c.is_open()).collect();
        let entry = directory.remove(&member.actor);
        let fetched = entry.as_ref().map(|e| e.fetched).unwrap_or_default();
        let services: Vec<MemberService> = entry
            .as_ref()
            .map(|e| (e.services.clone(), e.service_list()))
            .map(|(docs, list)| {
                docs.iter()
                    .zip(list)
                    .map(|(doc, s)| {
                        let id = doc.get("id").and_then(Value::as_str).unwrap_or_default();
                        let about: Vec<&&MemberChange> = mine
                            .iter()
                            .filter(|c| c.service_ids.iter().any(|i| i == id) || c.services.contains(&s.name))
                            .collect();
                        // A change newer than the catalogue we fetched says the status better.
                        let status = about
                            .iter()
                            .filter(|c| c.updated > fetched)
                            .max_by_key(|c| c.updated)
                            .and_then(|c| c.service_status)
                            .unwrap_or(s.status);
                        MemberService {
                            open: about.iter().map(|c| c.title.clone()).collect(),
                            name: s.name,
                            software: s.software,
                            url: s.url,
                            status,
                            registration: s.registration,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let worst = services.iter().map(|s| s.status).filter(|s| *s != ServiceStatus::Closed).max();
        let incidents = mine.iter().filter(|c| c.change_type == ChangeType::Incident).map(|c| (*c).clone()).collect();
        let mut maintenance: Vec<MemberChange> =
            mine.iter().filter(|c| c.change_type == ChangeType::Maintenance).map(|c| (*c).clone()).collect();
        maintenance.sort_by_key(|c| (c.starts_at, c.published));
        out.push(MemberStatus { member, services, worst, incidents, maintenance });
    }
    let worst = out.iter().filter_map(|m| m.worst).max();
    let incidents: Vec<MemberChange> = out.iter().flat_map(|m| m.incidents.iter().cloned()).collect();
    let mut incidents = incidents;
    incidents.sort_by_key(|b| std::cmp::Reverse(b.published));
    let mut maintenance: Vec<MemberChange> = out.iter().flat_map(|m| m.maintenance.iter().cloned()).collect();
    maintenance.sort_by_key(|c| (c.starts_at, c.published));
    Ok(CollectiveStatus { members: out, worst, incidents, maintenance })
}

// ---------------------------------------------------------------- maintenance calendar

/// The members' maintenance windows that end after `ends_after` (cancelled ones included, so
/// calendars drop them), soonest first.
pub async fn maintenance_windows(state: &AppState, ends_after: NaiveDateTime) -> AppResult<Vec<MemberChange>> {
    let members = members(state).await?;
    let mut windows: Vec<MemberChange> = member_changes(state, &members)
        .await?
        .into_iter()
        .filter(|c| c.change_type == ChangeType::Maintenance)
        .filter(|c| c.starts_at.is_some() && c.ends_at.is_some_and(|e| e > ends_after))
        .collect();
    windows.sort_by_key(|c| (c.starts_at, c.published));
    Ok(windows)
}

// ---------------------------------------------------------------- labels side by side

/// A member's grade for one criterion, as its label document says it.
#[derive(Debug, Clone)]
pub struct MemberGrade {
    pub grade: Grade,
    pub comment: Option<String>,
    pub evidence: Option<String>,
}

/// One criterion and every member's grade for it (None: not graded), in `members`' order.
#[derive(Debug, Clone)]
pub struct CriterionRow {
    pub criterion: String,
    /// The section of our charter it belongs to; None for a criterion only members use.
    pub section: Option<String>,
    pub grades: Vec<Option<MemberGrade>>,
}

#[derive(Debug, Clone)]
pub struct LabelComparison {
    pub members: Vec<MemberHost>,
    /// Whether each member grades the charter this instance uses (its `criteriaSet`).
    pub same_charter: Vec<bool>,
    /// Our charter's criteria in its order, then criteria only members grade.
    pub rows: Vec<CriterionRow>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(render::strip_forbidden).filter(|t| !t.trim().is_empty())
}

/// Every member's grades, criterion by criterion.
pub async fn labels(state: &AppState) -> AppResult<LabelComparison> {
    let members = members(state).await?;
    let directory = member_entries(state).await?;
    let mut graded: Vec<HashMap<String, MemberGrade>> = Vec::new();
    let mut same_charter = Vec::new();
    let mut extra: Vec<String> = Vec::new();
    for m in &members {
        let label = directory.get(&m.actor).map(|e| e.label.clone()).unwrap_or(Value::Null);
        same_charter.push(label.get("criteriaSet").and_then(Value::as_str) == Some(state.criteria.id.as_str()));
        let mut grades = HashMap::new();
        for g in label.get("grades").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
            let Some(criterion) = text(g, "criterion") else { continue };
            let grade =
                serde_json::from_value(g.get("grade").cloned().unwrap_or(Value::Null)).unwrap_or(Grade::Unknown);
            if state.criteria.find(&criterion).is_none() && !extra.contains(&criterion) {
                extra.push(criterion.clone());
            }
            let evidence = http_url(text(g, "evidence").as_deref());
            grades.insert(criterion, MemberGrade { grade, comment: text(g, "comment"), evidence });
        }
        graded.push(grades);
    }
    let row = |criterion: &str, section: Option<String>| CriterionRow {
        criterion: criterion.to_string(),
        section,
        grades: graded.iter().map(|g| g.get(criterion).cloned()).collect(),
    };
    let mut rows: Vec<CriterionRow> = state
        .criteria
        .sections
        .iter()
        .flat_map(|s| s.criteria.iter().map(move |c| (c.id.clone(), s.id.clone())))
        .map(|(c, s)| row(&c, Some(s)))
        .collect();
    rows.extend(extra.iter().map(|c| row(c, None)));
    Ok(LabelComparison { members, same_charter, rows })
}
