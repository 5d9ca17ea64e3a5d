//! The collective role on the wire (docs/FEDERATION.md, "The collective role"): the Group's
//! documents (its Announces, their Undo, its roster collection), what it receives (Follow of the
//! Group, a relay's `Follow{as:Public}`, a host's `Join`) and, on the member side, the answer to a
//! `Join`. Re-sharing follows FEP-1b12: each public bulletin of an approved member, received live,
//! is announced once to the Group's followers and relay subscribers.

use super::{
    activities::{direct_activity, enqueue, follow_object, new_activity_id, rfc3339},
    protocol::*,
};
use crate::{
    db::{
        models::{
            collective::{self as roster, GroupFollower, Join, JoinState, JoinedVia, Member, MemberState, Reshare},
            remote::{self, FollowState, Following, RemoteActor},
        },
        DbConnection, DbResult,
    },
    state::AppState,
    urls::Urls,
};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

/// What the Group made of an activity it received (`inbox` turns it into its `Outcome`).
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    Applied(&'static str),
    Ignored(String),
}

use Handled as Outcome;

/// Actor types a relay subscription may come from: a server's instance actor.
const RELAY_ACTOR_TYPES: &[&str] = &["Application", "Service"];

fn enabled(state: &AppState) -> bool {
    state.config.collective.is_some() && state.keys.group.is_some()
}

/// Every inbox the Group's posts go to: its followers and its relay subscribers, one per server.
pub fn group_inboxes(c: &mut DbConnection) -> DbResult<Vec<String>> {
    roster::delivery_inboxes(c, None)
}

/// The Group's `Announce` of a member's bulletin (FEP-1b12): to the public, cc its followers.
pub fn announce_doc(urls: &Urls, object_id: &str, at: NaiveDateTime) -> ActivityDoc {
    ActivityDoc {
        context: context(),
        id: new_activity_id(urls),
        kind: "Announce",
        actor: urls.group_actor(),
        object: Value::String(object_id.to_string()),
        to: vec![PUBLIC.to_string()],
        cc: vec![urls.group_followers().to_string()],
        published: Some(rfc3339(at)),
    }
}

/// `Undo{Announce}`: the announce embedded, as Mastodon matches it by id.
pub fn undo_announce_doc(urls: &Urls, reshare: &Reshare, at: NaiveDateTime) -> ActivityDoc {
    ActivityDoc {
        context: context(),
        id: new_activity_id(urls),
        kind: "Undo",
        actor: urls.group_actor(),
        object: json!({
            "id": reshare.announce_id,
            "type": "Announce",
            "actor": urls.group_actor(),
            "object": reshare.object_id,
        }),
        to: vec![PUBLIC.to_string()],
        cc: vec![urls.group_followers().to_string()],
        published: Some(rfc3339(at)),
    }
}

/// `Update` of the Group's actor document (its logo changed), to its followers and relay
/// subscribers, inside the caller's transaction.
pub fn enqueue_group_update(c: &mut DbConnection, state: &AppState, actor: Value, now: NaiveDateTime) -> DbResult<()> {
    let urls = &state.urls;
    let doc = ActivityDoc {
        context: context(),
        id: new_activity_id(urls),
        kind: "Update",
        actor: urls.group_actor(),
        object: actor,
        to: vec![PUBLIC.to_string()],
        cc: vec![urls.group_followers().to_string()],
        published: Some(rfc3339(now)),
    };
    let inboxes = group_inboxes(c)?;
    enqueue_group_activity(c, state, &doc, urls.group_actor().as_str(), &inboxes, now)
}

/// Announces `object_id` (a bulletin of `member`) unless it was announced already; false then.
/// A member past `max_reshares_per_hour` is paused: nothing is announced, false.
pub fn reshare(
    c: &mut DbConnection,
    state: &AppState,
    member: &str,
    object_id: &str,
    now: NaiveDateTime,
) -> DbResult<bool> {
    if roster::find_reshare(c, object_id)?.is_some() {
        return Ok(false);
    }
    let per_hour = state.config.collective.as_ref().map_or(60, |c| c.max_reshares_per_hour);
    let recent = roster::count_reshares_since(c, member, now - chrono::Duration::hours(1))?;
    if recent >= i64::from(per_hour) {
        tracing::warn!(member, recent, per_hour, "member over its re-share quota: paused, not announced");
        return Ok(false);
    }
    let doc = announce_doc(&state.urls, object_id, now);
    let reshare = Reshare {
        object_id: object_id.to_string(),
        member_actor_id: member.to_string(),
        announce_id: doc.id.to_string(),
        created_at: now,
        undone_at: None,
    };
    if !roster::insert_reshare(c, &reshare)? {
        return Ok(false);
    }
    let inboxes = group_inboxes(c)?;
    enqueue_group_activity(c, state, &doc, object_id, &inboxes, now)?;
    Ok(true)
}

/// Sends `Undo{Announce}` for the re-share of `object_id`, if there is one not undone yet.
pub fn undo_reshare(c: &mut DbConnection, state: &AppState, object_id: &str, now: NaiveDateTime) -> DbResult<bool> {
    let Some(reshare) = roster::find_reshare(c, object_id)? else { return Ok(false) };
    if reshare.undone_at.is_some() || !roster::mark_reshare_undone(c, object_id, now)? {
        return Ok(false);
    }
    let doc = undo_announce_doc(&state.urls, &reshare, now);
    let inboxes = group_inboxes(c)?;
    enqueue_group_activity(c, state, &doc, &reshare.announce_id, &inboxes, now)?;
    Ok(true)
}

/// The Group's Announce and Undo{Announce} carry a proof by its Ed25519 key (when it has one:
/// always while the role is on).
fn enqueue_group_activity(
    c: &mut DbConnection,
    state: &AppState,
    doc: &ActivityDoc,
    object_id: &str,
    inboxes: &[String],
    now: NaiveDateTime,
) -> DbResult<()> {
    match &state.keys.ed25519.group {
        Some(key) => super::activities::enqueue_with_proof(c, doc, key, object_id, inboxes, now),
        None => enqueue(c, doc, object_id, inboxes, now),
    }
}

/// After a post was stored from a live delivery (a Create, or an Announce by someone we follow):
/// re-shared when the collective role is on, its author an approved member, and it is public
/// (`Public` in `to`: unlisted posts are not re-shared).
pub(crate) fn after_post_stored(
    c: &mut DbConnection,
    state: &AppState,
    author_id: &str,
    note: &IncomingNote,
    now: NaiveDateTime,
) -> DbResult<()> {
    if !enabled(state) || !note.to.iter().any(|a| is_public(a)) {
        return Ok(());
    }
    if !roster::is_member(c, author_id)? {
        return Ok(());
    }
    if reshare(c, state, author_id, note.id.as_str(), now)? {
        tracing::info!(member = author_id, object = %note.id, "bulletin re-shared");
    }
    Ok(())
}

/// After a member's post was deleted: its Announce is undone.
pub(crate) fn after_post_deleted(
    c: &mut DbConnection,
    state: &AppState,
    object_id: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    if enabled(state) && undo_reshare(c, state, object_id, now)? {
        tracing::info!(object = object_id, "re-share undone");
    }
    Ok(())
}

/// After a member's post was edited: Mastodon and Fedify apply an `Update` only from the author
/// itself, and a repeated Announce of a post they have changes nothing; so the Group forwards the
/// member's own `Update`, verbatim, to its followers, when the bulletin was re-shared and the
/// Update carries a FEP-8b32 proof that verifies with the member's key (`author_doc`, the
/// member's actor document as we hold it): its followers check that proof (Fedify does, Mastodon
/// from 4.7), not the Group's HTTP signature.
pub(crate) fn after_post_updated(
    c: &mut DbConnection,
    state: &AppState,
    object_id: &str,
    raw_activity: &Value,
    author_doc: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    if !enabled(state) {
        return Ok(());
    }
    let Some(reshare) = roster::find_reshare(c, object_id)? else { return Ok(()) };
    if reshare.undone_at.is_some() {
        return Ok(());
    }
    // Only the member's own edit, and only while it is on the roster: a removed host's edits are
    // not the collective's to carry. Checked before the proof, which costs more.
    let by_member = raw_activity.get("actor").and_then(Value::as_str) == Some(reshare.member_actor_id.as_str());
    if !by_member || !roster::is_member(c, &reshare.member_actor_id)? {
        return Ok(());
    }
    if let Err(reason) = own_proof_verifies(raw_activity, author_doc) {
        tracing::info!(object = object_id, %reason, "member's Update not forwarded: no valid proof of its own");
        return Ok(());
    }
    forward(c, raw_activity, object_id, now)?;
    tracing::info!(object = object_id, "member's Update forwarded to the Group's followers");
    Ok(())
}

/// The activity's FEP-8b32 proof is by one of the actor's Ed25519 `assertionMethod` keys, and holds.
fn own_proof_verifies(raw_activity: &Value, author_doc: &str) -> Result<(), String> {
    let method = super::proofs::verification_method(raw_activity).map_err(|e| e.to_string())?;
    let key = super::rfc9421::ed25519_key_of(author_doc, &method)
        .ok_or_else(|| format!("{method} is not an Ed25519 assertionMethod Multikey of the actor"))?;
    super::proofs::verify(raw_activity, &key).map_err(|e| e.to_string())
}

/// Queues a member's activity, as it was received, to the Group's followers, signed (HTTP) by
/// the Group. Stored under a local id so the queue can hold it; the body sent is the original.
fn forward(c: &mut DbConnection, raw: &Value, object_id: &str, now: NaiveDateTime) -> DbResult<()> {
    use crate::db::models::activities::{self as queue, StoredActivity};
    let Some(id) = raw.get("id").and_then(Value::as_str) else { return Ok(()) };
    let stored = StoredActivity {
        id: format!("{id}#forwarded"),
        kind: "Forward".into(),
        object_id: object_id.to_string(),
        json: raw.to_string(),
        created_at: now,
    };
    if queue::find_activity(c, &stored.id)?.is_some() {
        return Ok(());
    }
    let inboxes = group_inboxes(c)?;
    queue::store_and_enqueue(c, &stored, &inboxes, now)
}

// ---------------------------------------------------------------- what the Group receives

/// A Follow of the Group, or a relay subscription (`Follow{as:Public}` from an instance actor).
/// None when the Follow is not addressed to either (the host account's own follows).
pub(crate) fn on_follow(
    c: &mut DbConnection,
    state: &AppState,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    now: NaiveDateTime,
) -> DbResult<Option<Outcome>> {
    let urls = &state.urls;
    let object = id_of(&activity.object).unwrap_or_default();
    let to_group = object == urls.group_actor().as_str();
    let to_public = is_public(&object);
    if !(to_group || to_public) {
        return Ok(None);
    }
    if !enabled(state) {
        return Ok(Some(Outcome::Ignored("this instance is not a collective".into())));
    }
    let relay = state.config.collective.as_ref().is_some_and(|c| c.relay);
    if to_public && !RELAY_ACTOR_TYPES.contains(&signer.actor_type.as_str()) {
        return Ok(Some(Outcome::Ignored(format!(
            "relay Follow from a {}, not a server's instance actor",
            signer.actor_type
        ))));
    }
    let follower = GroupFollower {
        actor_id: signer.id.clone(),
        inbox: signer.inbox.clone(),
        shared_inbox: signer.shared_inbox.clone(),
        status: if to_public && !relay { FollowState::Rejected } else { FollowState::Accepted },
        follow_activity_id: activity.id.to_string(),
        is_relay: to_public,
        created_at: now,
        updated_at: now,
    };
    if follower.status == FollowState::Rejected {
        // Relay mode is off: say so, so the other admin sees "rejected" rather than "pending".
        answer_group_follow(c, urls, &follower, &object, false, now)?;
        return Ok(Some(Outcome::Applied("relay subscription refused (relay mode is off)")));
    }
    let stored = roster::upsert_follower(c, &follower)?;
    answer_group_follow(c, urls, &stored, &object, true, now)?;
    Ok(Some(Outcome::Applied(if to_public { "relay subscription accepted" } else { "Group follow accepted" })))
}

/// `Accept` (or `Reject`) of a Follow of the Group (or of the public collection), from the Group.
fn answer_group_follow(
    c: &mut DbConnection,
    urls: &Urls,
    follower: &GroupFollower,
    object: &str,
    accept: bool,
    now: NaiveDateTime,
) -> DbResult<()> {
    let follow = follow_object(&follower.follow_activity_id, &follower.actor_id, object);
    let doc =
        direct_activity(urls, urls.group_actor(), if accept { "Accept" } else { "Reject" }, follow, &follower.actor_id);
    enqueue(c, &doc, &follower.follow_activity_id, std::slice::from_ref(&follower.inbox), now)
}

/// `Undo{Follow}` of the Group or of a relay subscription, or a member's `Undo{Join}` (it leaves
/// the roster). None when the signer follows neither and undoes no Join.
pub(crate) fn on_undo(
    c: &mut DbConnection,
    state: &AppState,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    now: NaiveDateTime,
) -> DbResult<Option<Outcome>> {
    if let Some(outcome) = on_leave(c, state, signer, activity, now)? {
        return Ok(Some(outcome));
    }
    let Some(follower) = roster::find_follower(c, &signer.id)? else { return Ok(None) };
    let object_id = id_of(&activity.object).unwrap_or_default();
    let inner = activity.object.get("object").and_then(id_of).unwrap_or_default();
    let is_their_follow = follower.follow_activity_id == object_id
        || (activity.object.get("type").and_then(Value::as_str) == Some("Follow")
            && (inner == state.urls.group_actor().as_str() || is_public(&inner)));
    if !is_their_follow {
        return Ok(None);
    }
    roster::delete_follower(c, &signer.id)?;
    Ok(Some(Outcome::Applied(if follower.is_relay { "relay subscription ended" } else { "Group unfollowed" })))
}

/// A member's `Undo{Join}`: it leaves the roster, dropped as a removal drops it (no `Reject` sent:
/// it asked). None when the Undo is not of a Join of our Group by a host on the roster.
fn on_leave(
    c: &mut DbConnection,
    state: &AppState,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    now: NaiveDateTime,
) -> DbResult<Option<Outcome>> {
    let Some(member) = roster::find_member(c, &signer.id)? else { return Ok(None) };
    let object_id = id_of(&activity.object).unwrap_or_default();
    let embedded_join = activity.object.get("type").and_then(Value::as_str) == Some("Join")
        && activity.object.get("object").and_then(id_of).as_deref() == Some(state.urls.group_actor().as_str());
    let is_their_join = member.join_activity_id.as_deref() == Some(object_id.as_str()) || embedded_join;
    if !is_their_join {
        return Ok(None);
    }
    if !enabled(state) {
        return Ok(Some(Outcome::Ignored("this instance is not a collective".into())));
    }
    let dropped = drop_member(c, &state.urls, &member.actor_id, now)?;
    tracing::info!(member = %member.actor_id, dropped, "member left the roster");
    Ok(Some(Outcome::Applied("member left the roster")))
}

/// Takes `member_actor_id` off the roster, the same whether the collective's admin removed it or
/// it left: its re-shares still queued are given up, and the host account unfollows it. Returns
/// how many queued deliveries were given up.
pub fn drop_member(c: &mut DbConnection, urls: &Urls, member_actor_id: &str, now: NaiveDateTime) -> DbResult<usize> {
    roster::delete_member(c, member_actor_id)?;
    let announces: Vec<String> =
        roster::list_reshares(c, member_actor_id)?.into_iter().map(|r| r.announce_id).collect();
    let dropped = roster::give_up_pending_of(c, &announces, MEMBER_GONE, now)?;
    super::activities::unfollow(c, urls, member_actor_id, now)?;
    Ok(dropped)
}

/// Why a re-share still queued when its member left or was removed is given up.
pub const MEMBER_GONE: &str = "member off the roster";

/// A host asks to join (`Join{object: Group}`): pending until the admin approves, or approved at
/// once (and followed) when `collective.auto_accept`.
pub(crate) fn on_join(
    c: &mut DbConnection,
    state: &AppState,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    now: NaiveDateTime,
) -> DbResult<Outcome> {
    let urls = &state.urls;
    if id_of(&activity.object).as_deref() != Some(urls.group_actor().as_str()) {
        return Ok(Outcome::Ignored("Join of something other than our Group".into()));
    }
    if !enabled(state) {
        return Ok(Outcome::Ignored("this instance is not a collective".into()));
    }
    let auto = state.config.collective.as_ref().is_some_and(|c| c.auto_accept);
    let existing = roster::find_member(c, &signer.id)?;
    let member = Member {
        actor_id: signer.id.clone(),
        handle: format!("@{}@{}", signer.preferred_username, crate::urls::domain_of(&signer.id)),
        state: if auto || existing.as_ref().is_some_and(|m| m.state == MemberState::Approved) {
            MemberState::Approved
        } else {
            MemberState::Pending
        },
        joined_via: existing.as_ref().map_or(JoinedVia::Request, |m| m.joined_via),
        join_activity_id: Some(activity.id.to_string()),
        since: existing.as_ref().map_or(now, |m| m.since),
        approved_at: if auto { Some(now) } else { None },
        updated_at: now,
    };
    let member = roster::upsert_member(c, &member)?;
    if member.state == MemberState::Approved {
        follow_member(c, urls, signer, now)?;
        answer_join(c, urls, &member, &signer.inbox, true, now)?;
        return Ok(Outcome::Applied("join request accepted"));
    }
    Ok(Outcome::Applied("join request pending approval"))
}

/// The host account follows a member host (no fetch: its actor is known), unless it does already.
pub fn follow_member(c: &mut DbConnection, urls: &Urls, actor: &RemoteActor, now: NaiveDateTime) -> DbResult<()> {
    if remote::find_following(c, &actor.id)?.is_some_and(|f| f.status != FollowState::Rejected) {
        return Ok(());
    }
    let follow_id = new_activity_id(urls);
    let row = Following {
        actor_id: actor.id.clone(),
        inbox: actor.inbox.clone(),
        follow_activity_id: follow_id.to_string(),
        status: FollowState::Pending,
        created_at: now,
        updated_at: now,
    };
    remote::upsert_following(c, &row)?;
    let doc = ActivityDoc {
        id: follow_id,
        ..direct_activity(urls, urls.host_actor(), "Follow", Value::String(actor.id.clone()), &actor.id)
    };
    enqueue(c, &doc, &actor.id, std::slice::from_ref(&actor.inbox), now)
}

/// `Accept{Join}` (or `Reject{Join}`) from the Group to a host that asked; nothing when it did not.
pub fn answer_join(
    c: &mut DbConnection,
    urls: &Urls,
    member: &Member,
    inbox: &str,
    accept: bool,
    now: NaiveDateTime,
) -> DbResult<()> {
    let Some(join_id) = &member.join_activity_id else { return Ok(()) };
    let join = json!({"id": join_id, "type": "Join", "actor": member.actor_id, "object": urls.group_actor()});
    let doc =
        direct_activity(urls, urls.group_actor(), if accept { "Accept" } else { "Reject" }, join, &member.actor_id);
    enqueue(c, &doc, join_id, &[inbox.to_string()], now)
}

/// The roster as a public collection on the Group: the member hosts' actors, oldest first.
pub async fn members_collection(state: &AppState) -> DbResult<OrderedCollectionDoc> {
    let members = state.db.read(|c| roster::list_members(c, Some(MemberState::Approved))).await?;
    let items: Vec<Value> = members.iter().map(|m| Value::String(m.actor_id.clone())).collect();
    Ok(OrderedCollectionDoc {
        context: super::actors::group_context(),
        id: state.urls.group_members(),
        kind: "OrderedCollection",
        total_items: items.len() as i64,
        first: None,
        ordered_items: Some(items),
    })
}

/// The Group's outbox: how many bulletins it re-shares, and the latest 20 Announces.
pub async fn group_outbox(state: &AppState) -> DbResult<OrderedCollectionDoc> {
    let (total, items) =
        state.db.read(|c| Ok((roster::count_active_reshares(c)?, roster::latest_announces(c, 20)?))).await?;
    let items = items.iter().filter_map(|json| serde_json::from_str::<Value>(json).ok()).map(|mut v| {
        if let Some(map) = v.as_object_mut() {
            map.remove("@context");
        }
        v
    });
    Ok(OrderedCollectionDoc {
        context: context(),
        id: state.urls.group_outbox(),
        kind: "OrderedCollection",
        total_items: total,
        first: None,
        ordered_items: Some(items.collect()),
    })
}

/// The Group's followers: the count (relay subscribers not counted), the list not published.
pub async fn group_followers(state: &AppState) -> DbResult<OrderedCollectionDoc> {
    let total = state.db.read(roster::count_followers).await?;
    Ok(OrderedCollectionDoc {
        context: context(),
        id: state.urls.group_followers(),
        kind: "OrderedCollection",
        total_items: total,
        first: None,
        ordered_items: None,
    })
}

/// The Group follows no one (its members are followed by the host account).
pub fn group_following(state: &AppState) -> OrderedCollectionDoc {
    OrderedCollectionDoc {
        context: context(),
        id: state.urls.group_following(),
        kind: "OrderedCollection",
        total_items: 0,
        first: None,
        ordered_items: None,
    }
}

// ---------------------------------------------------------------- the member side

/// Queues the member side of joining: a `Join{object: Group}` from the host account to the
/// Group's inbox (the Follow is sent by `app::peers::follow`). Recorded pending.
pub fn send_join(c: &mut DbConnection, urls: &Urls, group: &RemoteActor, now: NaiveDateTime) -> DbResult<Join> {
    let doc = direct_activity(urls, urls.host_actor(), "Join", Value::String(group.id.clone()), &group.id);
    let join = Join {
        group_actor_id: group.id.clone(),
        handle: format!("@{}@{}", group.preferred_username, crate::urls::domain_of(&group.id)),
        join_activity_id: doc.id.to_string(),
        state: JoinState::Pending,
        created_at: now,
        updated_at: now,
    };
    roster::upsert_join(c, &join)?;
    enqueue(c, &doc, &group.id, std::slice::from_ref(&group.inbox), now)?;
    Ok(join)
}

/// On the member side, `Accept{Join}` or `Reject{Join}` from a collective we asked to join. None
/// when it answers something else (a Follow).
pub(crate) fn on_join_answer(
    c: &mut DbConnection,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    now: NaiveDateTime,
) -> DbResult<Option<Outcome>> {
    let Some(join) = roster::find_join(c, &signer.id)? else { return Ok(None) };
    let object_id = id_of(&activity.object).unwrap_or_default();
    let is_join =
        object_id == join.join_activity_id || activity.object.get("type").and_then(Value::as_str) == Some("Join");
    if !is_join {
        return Ok(None);
    }
    let state = match (activity.kind.as_str(), join.state) {
        (_, JoinState::Left) => return Ok(Some(Outcome::Ignored("answer to a join this host has left".into()))),
        ("Accept", _) => JoinState::Accepted,
        (_, JoinState::Accepted | JoinState::Removed) => JoinState::Removed,
        _ => JoinState::Rejected,
    };
    roster::set_join_state(c, &signer.id, state, now)?;
    Ok(Some(Outcome::Applied(match state {
        JoinState::Accepted => "join accepted by the collective",
        JoinState::Removed => "removed from the collective's roster",
        _ => "join refused by the collective",
    })))
}

/// The member side of leaving: `Undo{Join}` (the Join embedded) to the Group's inbox, and the host
/// account's `Undo{Follow}` of the Group. The request is then recorded as left.
pub fn send_leave(
    c: &mut DbConnection,
    urls: &Urls,
    join: &Join,
    group_inbox: &str,
    now: NaiveDateTime,
) -> DbResult<Join> {
    let embedded = json!({
        "id": join.join_activity_id,
        "type": "Join",
        "actor": urls.host_actor(),
        "object": join.group_actor_id,
    });
    let doc = direct_activity(urls, urls.host_actor(), "Undo", embedded, &join.group_actor_id);
    enqueue(c, &doc, &join.join_activity_id, &[group_inbox.to_string()], now)?;
    super::activities::unfollow(c, urls, &join.group_actor_id, now)?;
    roster::set_join_state(c, &join.group_actor_id, JoinState::Left, now)?;
    Ok(Join { state: JoinState::Left, updated_at: now, ..join.clone() })
}
