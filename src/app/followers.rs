//! The accounts that follow this host: approve, remove.

use super::write_and_wake;
use crate::{
    db::models::followers::{self, Follower},
    federation::{activities::answer_follow, FederationError},
    state::AppState,
};

/// Approves a pending follower (manual approval mode).
pub async fn approve_follower(state: &AppState, id: i64) -> Result<Follower, FederationError> {
    let urls = state.urls.clone();
    let now = state.clock.now();
    let follower = write_and_wake(state, move |c| {
        let follower = followers::find(c, id)?.ok_or(crate::db::DbError::Query(diesel::result::Error::NotFound))?;
        if follower.status != followers::ACCEPTED {
            followers::set_status(c, id, followers::ACCEPTED, now)?;
            answer_follow(c, &urls, &follower, true, now)?;
        }
        Ok(follower)
    })
    .await
    .map_err(not_found_follower(id))?;
    Ok(follower)
}

/// Removes a follower (or refuses a pending one): they get a `Reject` and nothing more from us.
pub async fn remove_follower(state: &AppState, id: i64) -> Result<Follower, FederationError> {
    let urls = state.urls.clone();
    let now = state.clock.now();
    let follower = write_and_wake(state, move |c| {
        let follower = followers::find(c, id)?.ok_or(crate::db::DbError::Query(diesel::result::Error::NotFound))?;
        followers::delete(c, id)?;
        answer_follow(c, &urls, &follower, false, now)?;
        Ok(follower)
    })
    .await
    .map_err(not_found_follower(id))?;
    Ok(follower)
}

fn not_found_follower(id: i64) -> impl Fn(FederationError) -> FederationError {
    move |e| match e {
        FederationError::Db(crate::db::DbError::Query(diesel::result::Error::NotFound)) => {
            FederationError::BadRequest(format!("no follower has the id {id} (see `ronron followers list`)"))
        }
        other => other,
    }
}
