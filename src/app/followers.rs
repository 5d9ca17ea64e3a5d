//! The accounts that follow this host: approve, remove.

use super::{write_and_wake, AppError, AppResult};

// The stored follower and its state are what the use-cases hand out.
pub use crate::db::models::followers::{FollowState, Follower};
use crate::{db::models::followers, federation::activities::answer_follow, state::AppState};

/// Approves a pending follower (manual approval mode).
pub async fn approve_follower(state: &AppState, id: i64) -> AppResult<Follower> {
    let urls = state.urls.clone();
    let now = state.clock.now();
    let follower = write_and_wake(state, move |c| {
        let follower = followers::find(c, id)?.ok_or_else(|| AppError::no_such("follower", id))?;
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
        let follower = followers::find(c, id)?.ok_or_else(|| AppError::no_such("follower", id))?;
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

/// The follower `id`.
pub async fn find(state: &AppState, id: i64) -> AppResult<Follower> {
    state.db.read(move |c| followers::find(c, id)).await?.ok_or_else(|| AppError::no_such("follower", id))
}
