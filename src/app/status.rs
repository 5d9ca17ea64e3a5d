//! What the public pages show: the host's overview, its recent service changes, a bulletin's
//! thread, a service's history and the bulletins of a hashtag. Each is read in one call, so the
//! pages only render.

use super::{
    bulletins::{Bulletin, Translation},
    catalogue::{self, Service},
    label::{self, GradedSection},
    profile, AppResult,
};
use crate::{
    bulletin::{phase_of, vocab::*, Phase},
    config::AccountConfig,
    db::{
        models::{bulletins, services},
        DbConnection, DbResult,
    },
    state::AppState,
    urls::Urls,
};

/// A service change with its follow-ups (its thread), oldest follow-up first.
pub struct ChangeThread {
    pub root: Bulletin,
    pub follow_ups: Vec<Bulletin>,
    /// The translations of the root and of its follow-ups, so each is shown in the reader's language.
    pub translations: Vec<Translation>,
}

/// A published bulletin with the translations it carries.
pub struct Published {
    pub bulletin: Bulletin,
    pub translations: Vec<Translation>,
}

/// Each service change with its follow-ups, for the pages that list changes.
fn with_follow_ups(
    c: &mut DbConnection,
    urls: &Urls,
    roots: impl IntoIterator<Item = Bulletin>,
) -> DbResult<Vec<ChangeThread>> {
    roots
        .into_iter()
        .map(|root| {
            let follow_ups = bulletins::replies(c, urls.bulletin(&root.id).as_str())?;
            let ids: Vec<&str> =
                std::iter::once(root.id.as_str()).chain(follow_ups.iter().map(|f| f.id.as_str())).collect();
            let translations = bulletins::translations_of(c, &ids)?;
            Ok(ChangeThread { root, follow_ups, translations })
        })
        .collect()
}

// ---------------------------------------------------------------- host

/// The host's page: who it is, what is going on, its services, its label and its latest news.
pub struct HostOverview {
    pub profile: AccountConfig,
    /// Incidents and maintenance still open.
    pub open: Vec<ChangeThread>,
    pub services: Vec<(Service, ServiceStatus)>,
    pub label: Vec<GradedSection>,
    /// The 10 latest published bulletins, newest first.
    pub latest: Vec<Published>,
}

pub async fn host_overview(state: &AppState) -> DbResult<HostOverview> {
    let profile = profile::effective(state).await?;
    let urls = state.urls.clone();
    let now = state.clock.now();
    let (open, latest) = state
        .db
        .read(move |c| {
            let open = bulletins::open_changes(c)?;
            // A window already over is no alert, whether or not the scheduler has closed it yet.
            let open: Vec<Bulletin> = open.into_iter().filter(|b| phase_of(b, now) != Phase::Over).collect();
            let open = with_follow_ups(c, &urls, open)?;
            let mut latest = Vec::new();
            for bulletin in bulletins::list_published(c, None, 10)? {
                let translations = bulletins::translations(c, &bulletin.id)?;
                latest.push(Published { bulletin, translations });
            }
            Ok((open, latest))
        })
        .await?;
    let services = catalogue::list_with_status(state).await?;
    let label = label::sheet(state).await?;
    Ok(HostOverview { profile, open, services, label, latest })
}

// ---------------------------------------------------------------- status

/// The status page: every service's status and the service changes of the last days.
pub struct StatusHistory {
    pub services: Vec<(Service, ServiceStatus)>,
    /// The worst status among services not closed; None when there is none.
    pub worst: Option<ServiceStatus>,
    /// Incidents, newest first.
    pub incidents: Vec<ChangeThread>,
    /// Maintenance inside its window at the clock's now.
    pub ongoing_maintenance: Vec<ChangeThread>,
    /// Maintenance whose window has not opened, soonest first.
    pub upcoming: Vec<ChangeThread>,
    /// Maintenance over (or cancelled), newest first.
    pub past_maintenance: Vec<ChangeThread>,
}

/// The services and the changes published in the last `days` days (at most 200).
pub async fn status_history(state: &AppState, days: i64) -> DbResult<StatusHistory> {
    let now = state.clock.now();
    let since = now - chrono::Duration::days(days);
    let urls = state.urls.clone();
    let changes = state
        .db
        .read(move |c| {
            let changes = bulletins::changes_since(c, since, 200)?;
            with_follow_ups(c, &urls, changes)
        })
        .await?;
    let services = catalogue::list_with_status(state).await?;
    let worst = services.iter().map(|(_, s)| *s).filter(|s| *s != ServiceStatus::Closed).max();
    let (mut incidents, mut ongoing_maintenance, mut upcoming, mut past_maintenance) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for change in changes {
        let meta = change.root.meta();
        match (meta.change_type, phase_of(&change.root, now)) {
            (Some(ChangeType::Incident), _) => incidents.push(change),
            (Some(ChangeType::Maintenance), Phase::Ongoing) => ongoing_maintenance.push(change),
            (Some(ChangeType::Maintenance), Phase::Upcoming) => upcoming.push(change),
            (Some(ChangeType::Maintenance), Phase::Over) => past_maintenance.push(change),
            _ => {}
        }
    }
    upcoming.sort_by_key(|c| c.root.starts_at); // soonest first
    Ok(StatusHistory { services, worst, incidents, ongoing_maintenance, upcoming, past_maintenance })
}

// ---------------------------------------------------------------- bulletin

/// The thread a bulletin belongs to: its root when it is a public follow-up, and every
/// follow-up of that root (or of the bulletin itself when it is the root).
pub struct BulletinThread {
    pub root: Option<Bulletin>,
    pub replies: Vec<Bulletin>,
}

pub async fn thread_of(state: &AppState, bulletin: &Bulletin) -> DbResult<BulletinThread> {
    let root_url = bulletin.in_reply_to.clone();
    let own_url = state.urls.bulletin(&bulletin.id).to_string();
    let urls = state.urls.clone();
    state
        .db
        .read(move |c| {
            let root = match root_url.as_deref().and_then(|u| urls.bulletin_id_of(u)) {
                Some(id) => bulletins::find(c, &id)?.filter(|b| b.is_public()),
                None => None,
            };
            let thread_of = root.as_ref().map(|r| urls.bulletin(&r.id).to_string()).unwrap_or(own_url);
            Ok(BulletinThread { root, replies: bulletins::replies(c, &thread_of)? })
        })
        .await
}

// ---------------------------------------------------------------- service

/// A service of the catalogue, its status and its latest changes.
pub struct ServiceHistory {
    pub service: Service,
    pub status: ServiceStatus,
    /// The 20 latest changes, newest first, each with its follow-ups.
    pub changes: Vec<ChangeThread>,
}

/// The service `slug`, which must be in the catalogue (not removed).
pub async fn service_history(state: &AppState, slug: &str) -> AppResult<ServiceHistory> {
    let key = slug.to_string();
    let urls = state.urls.clone();
    let found = state
        .db
        .read(move |c| {
            let Some(service) = services::find(c, &key)?.filter(|s| s.removed_at.is_none()) else { return Ok(None) };
            let changes = bulletins::changes_for_service(c, &key)?;
            let status = crate::bulletin::derive_status(&changes);
            let changes = with_follow_ups(c, &urls, changes.into_iter().rev().take(20))?;
            Ok(Some(ServiceHistory { service, status, changes }))
        })
        .await?;
    found.ok_or_else(|| catalogue::no_service(slug))
}

// ---------------------------------------------------------------- hashtag

/// Published bulletins carrying the hashtag `tag` (lowercase), newest first. Scans the latest
/// bulletins, which is plenty for one host's volume.
pub async fn tagged(state: &AppState, tag: &str) -> DbResult<Vec<Bulletin>> {
    Ok(state
        .db
        .read(move |c| bulletins::list_published(c, None, 500))
        .await?
        .into_iter()
        .filter(|b| {
            crate::federation::documents::hashtags_in_any_language(state, &b.meta()).iter().any(|(n, _)| *n == tag)
        })
        .collect())
}
