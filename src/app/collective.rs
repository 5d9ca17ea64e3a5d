//! The collective role: the roster of member hosts, the Group's followers, joining, re-sharing.
//! Everything here answers "not on" (a conflict naming `collective`) when the configuration has no
//! `[collective]` section, except the member side (`join`), which any host may use.

use super::{AppError, AppResult};
use crate::{db::models::collective as roster, state::AppState};

// The stored rows are what the use-cases hand out.
pub use crate::db::models::collective::{GroupFollower, Join, JoinedVia, Member, MemberState, Reshare};

/// True when this instance has the collective role.
pub fn enabled(state: &AppState) -> bool {
    state.config.collective.is_some()
}

/// Refuses when the role is off, with the way to turn it on.
pub fn require_enabled(state: &AppState) -> AppResult<()> {
    match enabled(state) {
        true => Ok(()),
        false => Err(AppError::conflict(
            "collective",
            "this instance is not a collective: add a [collective] section to its configuration",
        )),
    }
}

/// The roster: members in `state` (every one when None), oldest first.
pub async fn list_members(state: &AppState, member_state: Option<MemberState>) -> AppResult<Vec<Member>> {
    Ok(state.db.read(move |c| roster::list_members(c, member_state)).await?)
}

/// The approved members' actor URLs, oldest first (what the collective's pages filter on).
pub async fn member_actor_ids(state: &AppState) -> AppResult<Vec<String>> {
    Ok(list_members(state, Some(MemberState::Approved)).await?.into_iter().map(|m| m.actor_id).collect())
}

/// True when `actor_id` (a host account's actor URL) is an approved member.
pub async fn is_member(state: &AppState, actor_id: &str) -> AppResult<bool> {
    let actor_id = actor_id.to_string();
    Ok(state.db.read(move |c| roster::is_member(c, &actor_id)).await?)
}

/// The roster entry of `actor_id`, whatever its state.
pub async fn find_member(state: &AppState, actor_id: &str) -> AppResult<Option<Member>> {
    let actor_id = actor_id.to_string();
    Ok(state.db.read(move |c| roster::find_member(c, &actor_id)).await?)
}
