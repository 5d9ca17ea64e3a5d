//! The accounts that follow this host: approve, remove, list them as people (handle, name, server).

use super::{write_and_wake, AppError, AppResult};
use crate::refusal::Kind;

// The stored follower and its state are what the use-cases hand out.
pub use crate::db::models::followers::{FollowState, Follower};
use crate::{db::models::followers, federation::activities::answer_follow, state::AppState};

/// Approves a pending follower (manual approval mode).
pub async fn approve_follower(state: &AppState, id: i64) -> AppResult<Follower> {
    let urls = state.urls.clone();
    let now = state.clock.now();
    let follower = write_and_wake(state, move |c| {
        let follower = followers::find(c, id)?.ok_or_else(|| AppError::no_such(Kind::NoFollower, id))?;
        if follower.status != followers::ACCEPTED {
            followers::set_status(c, id, followers::ACCEPTED, now)?;
            answer_follow(c, &urls, &follower, true, now)?;
        }
        Ok(follower)
    })
    .await?;
    Ok(follower)
}

/// Removes a follower (or refuses a pending one): they get a `Reject` and nothing more from us.
pub async fn remove_follower(state: &AppState, id: i64) -> AppResult<Follower> {
    let urls = state.urls.clone();
    let now = state.clock.now();
    let follower = write_and_wake(state, move |c| {
        let follower = followers::find(c, id)?.ok_or_else(|| AppError::no_such(Kind::NoFollower, id))?;
        followers::delete(c, id)?;
        answer_follow(c, &urls, &follower, false, now)?;
        Ok(follower)
    })
    .await?;
    Ok(follower)
}

/// The followers, oldest first; only those in `status` when given.
pub async fn list(state: &AppState, status: Option<FollowState>) -> AppResult<Vec<Follower>> {
    Ok(state.db.read(move |c| followers::list(c, status)).await?)
}

/// A follower as a person reads it: its handle (`@user@server`, or its actor URL when we never
/// stored its actor), its display name and its server.
#[derive(Debug, Clone)]
pub struct FollowerEntry {
    pub follower: Follower,
    pub handle: String,
    pub name: Option<String>,
    pub server: String,
}

impl FollowerEntry {
    fn new(follower: Follower, actor: Option<(String, Option<String>)>) -> Self {
        let server = url::Url::parse(&follower.actor_id)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(port) => format!("{h}:{port}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_default();
        let (handle, name) = match actor {
            Some((username, name)) if !username.is_empty() && !server.is_empty() => {
                (format!("@{username}@{server}"), name.filter(|n| !n.trim().is_empty()))
            }
            Some((_, name)) => (follower.actor_id.clone(), name.filter(|n| !n.trim().is_empty())),
            None => (follower.actor_id.clone(), None),
        };
        FollowerEntry { follower, handle, name, server }
    }

    /// Whether `needle` (already lowercased) is in the handle, the name, the server or the URL.
    fn matches(&self, needle: &str) -> bool {
        [Some(self.handle.as_str()), self.name.as_deref(), Some(self.server.as_str()), Some(&self.follower.actor_id)]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(needle))
    }
}

/// The followers as people, oldest first: only those in `status` when given, and only those whose
/// handle, name or server contains `q` (any case) when it is not blank.
pub async fn directory(
    state: &AppState,
    status: Option<FollowState>,
    q: Option<&str>,
) -> AppResult<Vec<FollowerEntry>> {
    let needle = q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    let rows = state.db.read(move |c| followers::list_with_actors(c, status)).await?;
    Ok(rows
        .into_iter()
        .map(|(follower, actor)| FollowerEntry::new(follower, actor))
        .filter(|entry| needle.as_deref().is_none_or(|n| entry.matches(n)))
        .collect())
}

/// The follower `id`.
pub async fn find(state: &AppState, id: i64) -> AppResult<Follower> {
    state.db.read(move |c| followers::find(c, id)).await?.ok_or_else(|| AppError::no_such(Kind::NoFollower, id))
}
