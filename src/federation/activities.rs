//! What we send, shared pieces (activity ids, queueing, transactions) and the Follow dance.
//! Bulletins themselves are in `publish`.
//!
//! Every action stores its change, the activity and one delivery per inbox in one transaction, so
//! a crash or a restart can never leave a bulletin changed but unannounced.

use super::{protocol::*, FederationError};
use crate::{
    bulletin::BulletinError,
    db::{
        models::{
            activities::{self as queue, StoredActivity},
            bulletins::{self, Bulletin},
            followers::{self, Follower},
            now,
            remote::{self, Following},
        },
        DbConnection, DbResult,
    },
    state::AppState,
    urls::Urls,
};
use chrono::NaiveDateTime;
use serde_json::{json, Value};
use url::Url;

/// Times keep their fraction of a second (omitted when zero), so posts from several servers sort
/// in the order they were written.
pub(super) fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

pub(super) fn new_activity_id(urls: &Urls) -> Url {
    urls.activity(&uuid::Uuid::new_v4().simple().to_string())
}

/// An activity from the host account to the public and its followers.
pub(super) fn public_activity(urls: &Urls, kind: &'static str, object: Value, at: NaiveDateTime) -> ActivityDoc {
    ActivityDoc {
        context: context(),
        id: new_activity_id(urls),
        kind,
        actor: urls.host_actor(),
        object,
        to: vec![PUBLIC.to_string()],
        cc: vec![urls.host_followers().to_string()],
        published: Some(rfc3339(at)),
    }
}

/// Stores `doc` and queues it for each inbox, inside the caller's transaction.
pub(super) fn enqueue(
    conn: &mut DbConnection,
    doc: &ActivityDoc,
    object_id: &str,
    inboxes: &[String],
    at: NaiveDateTime,
) -> DbResult<()> {
    let stored = StoredActivity {
        id: doc.id.to_string(),
        kind: doc.kind.to_string(),
        object_id: object_id.to_string(),
        json: serde_json::to_string(doc).expect("activities serialise"),
        created_at: at,
    };
    queue::store_and_enqueue(conn, &stored, inboxes)
}

/// Runs `f` in one write transaction, then wakes the delivery workers for what it queued.
pub(super) async fn write_and_wake<T, F>(state: &AppState, f: F) -> Result<T, FederationError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> DbResult<T> + Send + 'static,
{
    let value = state.db.write(f).await.map_err(unwrap_bulletin_error)?;
    state.delivery_wakeup.notify_waiters();
    Ok(value)
}

/// The bulletin `id`, which must exist and not be deleted.
pub(super) fn live_bulletin(c: &mut DbConnection, id: &str) -> DbResult<Bulletin> {
    let current = bulletins::find(c, id)?.ok_or_else(|| not_found(id))?;
    if current.is_deleted() {
        return Err(bulletin_error(BulletinError::Deleted(id.to_string())));
    }
    Ok(current)
}

// Domain errors raised inside a database closure travel as DbError and are unwrapped after.
pub(super) fn bulletin_error(e: BulletinError) -> crate::db::DbError {
    crate::db::DbError::Query(diesel::result::Error::QueryBuilderError(Box::new(e)))
}

pub(super) fn not_found(id: &str) -> crate::db::DbError {
    bulletin_error(BulletinError::NotFound(id.to_string()))
}

fn unwrap_bulletin_error(e: crate::db::DbError) -> FederationError {
    if let crate::db::DbError::Query(diesel::result::Error::QueryBuilderError(inner)) = &e {
        if let Some(b) = inner.downcast_ref::<BulletinError>() {
            return FederationError::Bulletin(b.clone());
        }
    }
    FederationError::Db(e)
}

// ---------------------------------------------------------------- follows

/// The Follow as we embed it in Accept, Reject and Undo.
fn follow_object(follow_id: &str, actor: &str, object: &str) -> Value {
    json!({"id": follow_id, "type": "Follow", "actor": actor, "object": object})
}

fn direct_activity(urls: &Urls, actor: Url, kind: &'static str, object: Value, to: &str) -> ActivityDoc {
    ActivityDoc {
        context: context(),
        id: new_activity_id(urls),
        kind,
        actor,
        object,
        to: vec![to.to_string()],
        cc: vec![],
        published: None,
    }
}

/// Queues `Accept{Follow}` (or `Reject`) to the follower's own inbox, in the caller's transaction.
pub fn answer_follow(conn: &mut DbConnection, urls: &Urls, follower: &Follower, accept: bool) -> DbResult<()> {
    let follow = follow_object(&follower.follow_activity_id, &follower.actor_id, urls.host_actor().as_str());
    let kind = if accept { "Accept" } else { "Reject" };
    let doc = direct_activity(urls, urls.host_actor(), kind, follow, &follower.actor_id);
    enqueue(conn, &doc, &follower.follow_activity_id, std::slice::from_ref(&follower.inbox), now())
}

/// Approves a pending follower (manual approval mode).
pub async fn approve_follower(state: &AppState, id: i64) -> Result<Follower, FederationError> {
    let urls = state.urls.clone();
    let follower = write_and_wake(state, move |c| {
        let follower = followers::find(c, id)?.ok_or(crate::db::DbError::Query(diesel::result::Error::NotFound))?;
        if follower.status != followers::ACCEPTED {
            followers::set_status(c, id, followers::ACCEPTED, now())?;
            answer_follow(c, &urls, &follower, true)?;
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
    let follower = write_and_wake(state, move |c| {
        let follower = followers::find(c, id)?.ok_or(crate::db::DbError::Query(diesel::result::Error::NotFound))?;
        followers::delete(c, id)?;
        answer_follow(c, &urls, &follower, false)?;
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

/// Follows a remote actor from our host account: stored as pending until its Accept arrives.
pub async fn follow(state: &AppState, data: &super::FedData, target: &Url) -> Result<Following, FederationError> {
    if let Some(block) = crate::moderation::blocked(state, vec![target.to_string()]).await? {
        return Err(FederationError::Forbidden(format!("{} is blocked (see `ronron blocks`)", block.domain)));
    }
    let actor = super::actors::fetch_actor(data, target, false).await?;
    let urls = state.urls.clone();
    let follow_id = new_activity_id(&urls);
    let row = Following {
        actor_id: actor.id.clone(),
        inbox: actor.inbox.clone(),
        follow_activity_id: follow_id.to_string(),
        status: "pending".into(),
        created_at: now(),
        updated_at: now(),
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
        enqueue(c, &doc, &stored.actor_id, std::slice::from_ref(&stored.inbox), now())
    })
    .await?;
    // Best effort: a peer whose outbox cannot be read is still followed.
    match backfill(data, &actor).await {
        Ok(n) => tracing::info!(actor = %actor.id, posts = n, "backfilled"),
        Err(e) => tracing::warn!(actor = %actor.id, error = %e, "backfill failed"),
    }
    if let Err(e) = crate::directory::refresh(data, target).await {
        tracing::warn!(actor = %actor.id, error = %e, "directory entry not fetched yet; the directory loop retries");
        let entry = crate::directory::placeholder(&actor.id);
        state.db.write(move |c| crate::db::models::directory::upsert(c, &entry)).await?;
    }
    Ok(row)
}

/// How many of a peer's latest posts are fetched when we follow it, so its timeline does not
/// start empty (Mastodon's "empty profile after following").
pub const BACKFILL_LIMIT: usize = 50;
const BACKFILL_PAGES: usize = 5;

/// Fetches up to [`BACKFILL_LIMIT`] posts from the actor's outbox and stores those we lack.
/// Posts must be the actor's own, on its host; anything else is skipped.
pub async fn backfill(
    data: &super::FedData,
    actor: &crate::db::models::remote::RemoteActor,
) -> Result<usize, FederationError> {
    use activitypub_federation::fetch::fetch_object_http;
    let Some(outbox) = actor.outbox.as_deref().and_then(|u| Url::parse(u).ok()) else { return Ok(0) };
    let fetch = |url: Url| async move { fetch_object_http::<_, Value>(&url, data).await.map(|r| r.object) };
    let collection = fetch(outbox).await?;
    let mut page = match collection.get("first") {
        Some(Value::String(first)) => {
            fetch(Url::parse(first).map_err(|e| FederationError::BadRequest(e.to_string()))?).await?
        }
        Some(embedded @ Value::Object(_)) => embedded.clone(),
        _ => collection,
    };
    let mut stored = 0;
    let mut seen = 0;
    for _ in 0..BACKFILL_PAGES {
        let items = page
            .get("orderedItems")
            .or_else(|| page.get("items"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for item in items {
            if seen >= BACKFILL_LIMIT {
                return Ok(stored);
            }
            seen += 1;
            let object = match item.get("type").and_then(Value::as_str) {
                Some("Create") => item.get("object").cloned().unwrap_or(Value::Null),
                _ => item,
            };
            let Ok(note) = super::inbox::verify_post(&actor.id, &object) else { continue };
            let author = actor.id.clone();
            let outcome =
                data.app_data().db.write(move |c| super::inbox::store_new_post(c, &author, &note, &object)).await?;
            stored += matches!(outcome, super::inbox::Outcome::Applied(_)) as usize;
        }
        match page.get("next").and_then(Value::as_str).and_then(|u| Url::parse(u).ok()) {
            Some(next) if seen < BACKFILL_LIMIT => page = fetch(next).await?,
            _ => break,
        }
    }
    Ok(stored)
}

/// Stops following: `Undo{Follow}` to the actor, and the row is gone.
pub async fn unfollow(state: &AppState, target: &str) -> Result<bool, FederationError> {
    let urls = state.urls.clone();
    let target = target.to_string();
    let removed = write_and_wake(state, move |c| {
        let Some(row) = remote::find_following(c, &target)? else { return Ok(false) };
        remote::delete_following(c, &target)?;
        crate::db::models::directory::delete(c, &target)?;
        let follow = follow_object(&row.follow_activity_id, urls.host_actor().as_str(), &row.actor_id);
        let doc = direct_activity(&urls, urls.host_actor(), "Undo", follow, &row.actor_id);
        enqueue(c, &doc, &row.actor_id, std::slice::from_ref(&row.inbox), now())?;
        Ok(true)
    })
    .await?;
    Ok(removed)
}
