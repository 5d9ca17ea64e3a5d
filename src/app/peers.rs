//! The accounts this host follows: follow (with the backfill and the first directory fetch),
//! unfollow.

use super::write_and_wake;
use crate::{
    db::models::remote::{self, Following},
    federation::{
        activities::{direct_activity, enqueue, follow_object, new_activity_id},
        protocol::ActivityDoc,
        FedData, FederationError,
    },
    state::AppState,
};
use serde_json::Value;
use url::Url;

/// Follows a remote actor from our host account: stored as pending until its Accept arrives.
pub async fn follow(state: &AppState, data: &FedData, target: &Url) -> Result<Following, FederationError> {
    if let Some(block) = crate::app::blocks::blocked(state, vec![target.to_string()]).await? {
        return Err(FederationError::Forbidden(format!("{} is blocked (see `ronron blocks`)", block.domain)));
    }
    let actor = crate::federation::actors::fetch_actor(data, target, false).await?;
    let urls = state.urls.clone();
    let follow_id = new_activity_id(&urls);
    let now = state.clock.now();
    let row = Following {
        actor_id: actor.id.clone(),
        inbox: actor.inbox.clone(),
        follow_activity_id: follow_id.to_string(),
        status: "pending".into(),
        created_at: now,
        updated_at: now,
    };
    let stored = row.clone();
    write_and_wake(state, move |c| {
        remote::upsert_following(c, &stored)?;
        let doc = ActivityDoc {
            id: follow_id.clone(),
            ..direct_activity(
                &urls,
                urls.host_actor(),
                "Follow",
                Value::String(stored.actor_id.clone()),
                &stored.actor_id,
            )
        };
        enqueue(c, &doc, &stored.actor_id, std::slice::from_ref(&stored.inbox), now)
    })
    .await?;
    // Best effort: a peer whose outbox cannot be read is still followed.
    match crate::federation::backfill::backfill(data, &actor).await {
        Ok(n) => tracing::info!(actor = %actor.id, posts = n, "backfilled"),
        Err(e) => tracing::warn!(actor = %actor.id, error = %e, "backfill failed"),
    }
    if let Err(e) = crate::app::directory::refresh(data, target).await {
        tracing::warn!(actor = %actor.id, error = %e, "directory entry not fetched yet; the directory loop retries");
        let entry = crate::app::directory::placeholder(&actor.id);
        state.db.write(move |c| crate::db::models::directory::upsert(c, &entry)).await?;
    }
    Ok(row)
}

/// Stops following: `Undo{Follow}` to the actor, and the row is gone.
pub async fn unfollow(state: &AppState, target: &str) -> Result<bool, FederationError> {
    let urls = state.urls.clone();
    let target = target.to_string();
    let now = state.clock.now();
    let removed = write_and_wake(state, move |c| {
        let Some(row) = remote::find_following(c, &target)? else { return Ok(false) };
        remote::delete_following(c, &target)?;
        crate::db::models::directory::delete(c, &target)?;
        let follow = follow_object(&row.follow_activity_id, urls.host_actor().as_str(), &row.actor_id);
        let doc = direct_activity(&urls, urls.host_actor(), "Undo", follow, &row.actor_id);
        enqueue(c, &doc, &row.actor_id, std::slice::from_ref(&row.inbox), now)?;
        Ok(true)
    })
    .await?;
    Ok(removed)
}
