//! What we send, shared pieces (activity ids, queueing, transactions) and the Follow dance.
//! What is sent about bulletins is decided in `app::bulletins`.
//!
//! Every action stores its change, the activity and one delivery per inbox in one transaction, so
//! a crash or a restart can never leave a bulletin changed but unannounced.

use super::protocol::*;
use crate::{
    db::{
        models::{
            activities::{self as queue, StoredActivity},
            followers::Follower,
        },
        DbConnection, DbResult,
    },
    urls::Urls,
};
use chrono::NaiveDateTime;
use serde_json::{json, Value};
use url::Url;

/// Times keep their fraction of a second (omitted when zero), so posts from several servers sort
/// in the order they were written.
pub fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

pub fn new_activity_id(urls: &Urls) -> Url {
    urls.activity(&uuid::Uuid::new_v4().simple().to_string())
}

/// An activity from the host account to the public and its followers.
pub fn public_activity(urls: &Urls, kind: &'static str, object: Value, at: NaiveDateTime) -> ActivityDoc {
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

/// Stores `doc` and queues it for each inbox (due at `at`), inside the caller's transaction.
pub fn enqueue(
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
    queue::store_and_enqueue(conn, &stored, inboxes, at)
}

/// [`enqueue`], with an object integrity proof (FEP-8b32, `eddsa-jcs-2022`) by the actor's
/// Ed25519 key, made once here: so the activity can be forwarded (by the collective) and checked
/// against its author's key. `created` is `at`.
pub fn enqueue_with_proof(
    conn: &mut DbConnection,
    doc: &ActivityDoc,
    key: &super::proofs::Ed25519Key,
    object_id: &str,
    inboxes: &[String],
    at: NaiveDateTime,
) -> DbResult<()> {
    let unsigned = serde_json::to_value(doc).expect("activities serialise");
    let vm = super::proofs::key_id(&doc.actor);
    // Our activities are objects of strings, integers and booleans, without a proof.
    let signed = super::proofs::sign(&unsigned, key, &vm, at).expect("our activities can carry a proof");
    let stored = StoredActivity {
        id: doc.id.to_string(),
        kind: doc.kind.to_string(),
        object_id: object_id.to_string(),
        json: signed.to_string(),
        created_at: at,
    };
    queue::store_and_enqueue(conn, &stored, inboxes, at)
}

// ---------------------------------------------------------------- follows

/// The Follow as we embed it in Accept, Reject and Undo.
pub fn follow_object(follow_id: &str, actor: &str, object: &str) -> Value {
    json!({"id": follow_id, "type": "Follow", "actor": actor, "object": object})
}

pub fn direct_activity(urls: &Urls, actor: Url, kind: &'static str, object: Value, to: &str) -> ActivityDoc {
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

/// The host account stops following `target`: its follow and its directory entry are removed and
/// `Undo{Follow}` (the Follow embedded) is queued to its inbox, in the caller's transaction. False
/// when it did not follow it.
pub fn unfollow(conn: &mut DbConnection, urls: &Urls, target: &str, now: NaiveDateTime) -> DbResult<bool> {
    use crate::db::models::{directory, remote};
    let Some(row) = remote::find_following(conn, target)? else { return Ok(false) };
    remote::delete_following(conn, target)?;
    directory::delete(conn, target)?;
    let follow = follow_object(&row.follow_activity_id, urls.host_actor().as_str(), &row.actor_id);
    let doc = direct_activity(urls, urls.host_actor(), "Undo", follow, &row.actor_id);
    enqueue(conn, &doc, &row.actor_id, std::slice::from_ref(&row.inbox), now)?;
    Ok(true)
}

/// Queues `Accept{Follow}` (or `Reject`) to the follower's own inbox at `now`, in the caller's
/// transaction.
pub fn answer_follow(
    conn: &mut DbConnection,
    urls: &Urls,
    follower: &Follower,
    accept: bool,
    now: NaiveDateTime,
) -> DbResult<()> {
    let follow = follow_object(&follower.follow_activity_id, &follower.actor_id, urls.host_actor().as_str());
    let kind = if accept { "Accept" } else { "Reject" };
    let doc = direct_activity(urls, urls.host_actor(), kind, follow, &follower.actor_id);
    enqueue(conn, &doc, &follower.follow_activity_id, std::slice::from_ref(&follower.inbox), now)
}
