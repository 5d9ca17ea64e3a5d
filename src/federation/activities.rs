//! What we send: bulletins as Create/Update/Delete of a Note, and the Follow dance.
//!
//! Every action stores its change, the activity and one delivery per inbox in one transaction, so
//! a crash or a restart can never leave a bulletin changed but unannounced.

use super::{protocol::*, FederationError};
use crate::{
    bulletin::{self, BulletinError, NewsDraft},
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

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn new_activity_id(urls: &Urls) -> Url {
    urls.activity(&uuid::Uuid::new_v4().simple().to_string())
}

/// The Note for a bulletin, as served at its URL and embedded in Create/Update.
pub fn note_doc(urls: &Urls, bulletin: &Bulletin) -> NoteDoc {
    let mut content_map = serde_json::Map::new();
    content_map.insert(bulletin.lang.clone(), Value::String(bulletin.content_html.clone()));
    NoteDoc {
        id: urls.bulletin(&bulletin.id),
        kind: "Note",
        attributed_to: urls.host_actor(),
        to: vec![PUBLIC.to_string()],
        cc: vec![urls.host_followers().to_string()],
        published: rfc3339(bulletin.published_at),
        updated: bulletin.updated_at.map(rfc3339),
        url: urls.bulletin(&bulletin.id),
        content: bulletin.content_html.clone(),
        content_map,
        in_reply_to: bulletin.in_reply_to.clone(),
        sensitive: false,
        tag: vec![],
    }
}

pub fn note_json_ld(urls: &Urls, bulletin: &Bulletin) -> Value {
    let mut value = serde_json::to_value(note_doc(urls, bulletin)).expect("a Note serialises");
    value.as_object_mut().expect("a Note is an object").insert("@context".into(), context());
    value
}

pub fn tombstone_doc(urls: &Urls, bulletin: &Bulletin, with_context: bool) -> TombstoneDoc {
    TombstoneDoc {
        context: with_context.then(context),
        id: urls.bulletin(&bulletin.id),
        kind: "Tombstone",
        former_type: "Note",
        deleted: bulletin.deleted_at.map(rfc3339),
    }
}

fn public_activity(urls: &Urls, kind: &'static str, object: Value, at: NaiveDateTime) -> ActivityDoc {
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
fn enqueue(
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

/// Publishes a news bulletin now: stored and queued to every follower's server, together.
pub async fn publish_news(state: &AppState, draft: NewsDraft) -> Result<Bulletin, FederationError> {
    let valid = draft.validate(&state.config)?;
    let urls = state.urls.clone();
    let at = now();
    let bulletin = Bulletin {
        id: bulletin::new_id(),
        kind: bulletin::KIND_NEWS.to_string(),
        lang: valid.lang,
        title: valid.title,
        body_markdown: valid.body_markdown,
        content_html: valid.content_html,
        in_reply_to: None,
        extra: None,
        created_at: at,
        published_at: at,
        updated_at: None,
        deleted_at: None,
    };
    let stored = bulletin.clone();
    write_and_wake(state, move |c| {
        bulletins::insert(c, &stored)?;
        let note = serde_json::to_value(note_doc(&urls, &stored)).expect("a Note serialises");
        let doc = public_activity(&urls, "Create", note, at);
        let inboxes = followers::delivery_inboxes(c)?;
        enqueue(c, &doc, urls.bulletin(&stored.id).as_str(), &inboxes, at)
    })
    .await?;
    Ok(bulletin)
}

/// What an edit changes; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct NewsEdit {
    pub title: Option<String>,
    pub body_markdown: Option<String>,
    pub lang: Option<String>,
}

/// Edits a bulletin and federates an `Update` whose `updated` is newer than any before.
pub async fn edit_news(state: &AppState, id: &str, edit: NewsEdit) -> Result<Bulletin, FederationError> {
    let urls = state.urls.clone();
    let config = state.config.clone();
    let id = id.to_string();
    let bulletin = write_and_wake(state, move |c| {
        let current = live_bulletin(c, &id)?;
        let draft = NewsDraft {
            title: edit.title.unwrap_or(current.title.clone()),
            body_markdown: edit.body_markdown.unwrap_or(current.body_markdown.clone()),
            lang: Some(edit.lang.unwrap_or(current.lang.clone())),
        };
        let valid = draft.validate(&config).map_err(bulletin_error)?;
        // `updated` must grow strictly, or Mastodon ignores the Update.
        let mut at = now();
        if let Some(previous) = current.updated_at {
            if at <= previous {
                at = previous + chrono::Duration::seconds(1);
            }
        }
        bulletins::update_text(c, &id, &valid.title, &valid.body_markdown, &valid.content_html, &valid.lang, at)?;
        let updated = bulletins::find(c, &id)?.ok_or_else(|| not_found(&id))?;
        let note = serde_json::to_value(note_doc(&urls, &updated)).expect("a Note serialises");
        let doc = public_activity(&urls, "Update", note, at);
        let inboxes = followers::delivery_inboxes(c)?;
        enqueue(c, &doc, urls.bulletin(&id).as_str(), &inboxes, at)?;
        Ok(updated)
    })
    .await?;
    Ok(bulletin)
}

/// Deletes a bulletin: its URL answers 410 from now on, and a `Delete` reaches every follower.
pub async fn delete_bulletin(state: &AppState, id: &str) -> Result<Bulletin, FederationError> {
    let urls = state.urls.clone();
    let id = id.to_string();
    let bulletin = write_and_wake(state, move |c| {
        live_bulletin(c, &id)?;
        let at = now();
        bulletins::mark_deleted(c, &id, at)?;
        let deleted = bulletins::find(c, &id)?.ok_or_else(|| not_found(&id))?;
        let tombstone = serde_json::to_value(tombstone_doc(&urls, &deleted, false)).expect("a Tombstone serialises");
        let doc = public_activity(&urls, "Delete", tombstone, at);
        let inboxes = followers::delivery_inboxes(c)?;
        enqueue(c, &doc, urls.bulletin(&id).as_str(), &inboxes, at)?;
        Ok(deleted)
    })
    .await?;
    Ok(bulletin)
}

/// Runs `f` in one write transaction, then wakes the delivery workers for what it queued.
async fn write_and_wake<T, F>(state: &AppState, f: F) -> Result<T, FederationError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> DbResult<T> + Send + 'static,
{
    let value = state.db.write(f).await.map_err(unwrap_bulletin_error)?;
    state.delivery_wakeup.notify_waiters();
    Ok(value)
}

/// The bulletin `id`, which must exist and not be deleted.
fn live_bulletin(c: &mut DbConnection, id: &str) -> DbResult<Bulletin> {
    let current = bulletins::find(c, id)?.ok_or_else(|| not_found(id))?;
    if current.is_deleted() {
        return Err(bulletin_error(BulletinError::Deleted(id.to_string())));
    }
    Ok(current)
}

// Domain errors raised inside a database closure travel as DbError and are unwrapped after.
fn bulletin_error(e: BulletinError) -> crate::db::DbError {
    crate::db::DbError::Query(diesel::result::Error::QueryBuilderError(Box::new(e)))
}

fn not_found(id: &str) -> crate::db::DbError {
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
    Ok(row)
}

/// Stops following: `Undo{Follow}` to the actor, and the row is gone.
pub async fn unfollow(state: &AppState, target: &str) -> Result<bool, FederationError> {
    let urls = state.urls.clone();
    let target = target.to_string();
    let removed = write_and_wake(state, move |c| {
        let Some(row) = remote::find_following(c, &target)? else { return Ok(false) };
        remote::delete_following(c, &target)?;
        let follow = follow_object(&row.follow_activity_id, urls.host_actor().as_str(), &row.actor_id);
        let doc = direct_activity(&urls, urls.host_actor(), "Undo", follow, &row.actor_id);
        enqueue(c, &doc, &row.actor_id, std::slice::from_ref(&row.inbox), now())?;
        Ok(true)
    })
    .await?;
    Ok(removed)
}
