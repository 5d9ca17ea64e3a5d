//! The collective role: the roster of member hosts, the Group's followers, joining, re-sharing.
//! Everything here answers "not on" (a conflict naming `collective`) when the configuration has no
//! `[collective]` section, except the member side (`join`), which any host may use.

use super::{AppError, AppResult};
use crate::refusal::Kind;
use crate::{db::models::collective as roster, state::AppState};

// The stored rows are what the use-cases hand out.
pub use crate::db::models::collective::{
    FollowState, GroupFollower, Join, JoinState, JoinedVia, Member, MemberState, Reshare,
};

/// True when this instance has the collective role.
pub fn enabled(state: &AppState) -> bool {
    state.config.collective.is_some()
}

/// Refuses when the role is off, with the way to turn it on.
pub fn require_enabled(state: &AppState) -> AppResult<()> {
    match enabled(state) {
        true => Ok(()),
        false => Err(AppError::conflicting("collective", Kind::NotACollective, &[])),
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

use super::write_and_wake;
use crate::{
    db::models::{activities as queue, remote},
    federation::{actors, collective as wire, FedData, FederationError},
};
use chrono::NaiveDateTime;

/// The roster entry typed as an actor URL or a handle (`@name@domain`, `name@domain`).
fn find_typed(members: Vec<Member>, typed: &str) -> Option<Member> {
    let typed = typed.trim();
    let handle = format!("@{}", typed.trim_start_matches('@')).to_lowercase();
    members.into_iter().find(|m| m.actor_id == typed || m.handle.to_lowercase() == handle)
}

/// Resolves what was typed to a remote actor, blamed on `handle`.
async fn resolve(data: &FedData, handle: &str) -> AppResult<remote::RemoteActor> {
    crate::bulletin::check_text("handle", handle)?;
    actors::resolve(data, handle).await.map_err(|e| match e {
        FederationError::BadRequest(reason) => AppError::invalid("handle", reason),
        other => AppError::from(other).about("handle"),
    })
}

/// Puts a member host on the roster (or approves one that asked): the host account follows it and
/// backfills it, and a host that asked with a Join gets `Accept{Join}`. Typed as a handle or an
/// actor URL.
pub async fn add_member(state: &AppState, data: &FedData, handle: &str) -> AppResult<Member> {
    require_enabled(state)?;
    // A pending request is approved by its handle without asking WebFinger again.
    let pending = find_typed(list_members(state, None).await?, handle);
    let actor = match &pending {
        Some(member) => {
            let url = url::Url::parse(&member.actor_id).map_err(|e| AppError::invalid("handle", e.to_string()))?;
            actors::fetch_actor(data, &url, false).await.map_err(|e| AppError::from(e).about("handle"))?
        }
        None => resolve(data, handle).await?,
    };
    if state.urls.is_local(&url::Url::parse(&actor.id).map_err(|e| AppError::invalid("handle", e.to_string()))?) {
        return Err(AppError::refused("handle", Kind::OwnAccount, &[]));
    }
    if let Some(block) = crate::federation::blocked(state, vec![actor.id.clone()]).await? {
        return Err(AppError::conflicting("handle", Kind::Blocked, &[("value", &block.domain)]));
    }
    let urls = state.urls.clone();
    let now = state.clock.now();
    let typed_actor = actor.clone();
    let member = write_and_wake(state, move |c| {
        let existing = roster::find_member(c, &typed_actor.id)?;
        let member = Member {
            actor_id: typed_actor.id.clone(),
            handle: format!("@{}@{}", typed_actor.preferred_username, crate::urls::domain_of(&typed_actor.id)),
            state: MemberState::Approved,
            joined_via: existing.as_ref().map_or(JoinedVia::Added, |m| m.joined_via),
            join_activity_id: existing.as_ref().and_then(|m| m.join_activity_id.clone()),
            since: existing.as_ref().map_or(now, |m| m.since),
            approved_at: Some(existing.as_ref().and_then(|m| m.approved_at).unwrap_or(now)),
            updated_at: now,
        };
        let stored = roster::upsert_member(c, &member)?;
        if existing.is_none_or(|m| m.state != MemberState::Approved) {
            wire::answer_join(c, &urls, &stored, &typed_actor.inbox, true, now)?;
        }
        Ok(stored)
    })
    .await?;
    let following = state.db.read({
        let id = actor.id.clone();
        move |c| remote::find_following(c, &id)
    });
    let following = following.await?;
    if following.is_none_or(|f| f.status == remote::FollowState::Rejected) {
        let url = url::Url::parse(&actor.id).map_err(|e| AppError::invalid("handle", e.to_string()))?;
        super::peers::follow(state, data, &url).await.map_err(|e| e.about("handle"))?;
    }
    Ok(member)
}

/// What removing a member did.
#[derive(Debug, Clone)]
pub struct Removed {
    pub member: Member,
    /// Its re-shares still queued, given up.
    pub dropped_deliveries: usize,
}

/// Takes a host off the roster: its bulletins are no longer re-shared, its re-shares still queued
/// are dropped, the host account unfollows it, and a host that had asked gets `Reject{Join}`.
pub async fn remove_member(state: &AppState, typed: &str) -> AppResult<Removed> {
    require_enabled(state)?;
    let member = find_typed(list_members(state, None).await?, typed)
        .ok_or_else(|| AppError::no_such(Kind::NotOnRoster, typed.trim()))?;
    let urls = state.urls.clone();
    let now = state.clock.now();
    let target = member.clone();
    let dropped = write_and_wake(state, move |c| {
        if let Some(actor) = remote::find_actor(c, &target.actor_id)? {
            wire::answer_join(c, &urls, &target, &actor.inbox, false, now)?;
        }
        Ok(wire::drop_member(c, &urls, &target.actor_id, now)?)
    })
    .await?;
    Ok(Removed { member, dropped_deliveries: dropped })
}

/// The member side: this host leaves the collective `typed` (its Group's handle or actor URL, as
/// `join_requests` lists it). Its host account sends `Undo{Join}` and unfollows the Group; the
/// collective then takes it off its roster. The request is kept, as left.
pub async fn leave(state: &AppState, typed: &str) -> AppResult<Join> {
    crate::bulletin::check_text("collective", typed)?;
    let wanted = typed.trim();
    let handle = format!("@{}", wanted.trim_start_matches('@')).to_lowercase();
    let join = join_requests(state)
        .await?
        .into_iter()
        .find(|j| j.group_actor_id == wanted || j.handle.to_lowercase() == handle)
        .ok_or_else(|| AppError::no_such(Kind::NeverAskedToJoin, wanted))?;
    if join.state == JoinState::Left {
        return Err(AppError::conflicting("collective", Kind::AlreadyLeft, &[("value", &join.handle)]));
    }
    let urls = state.urls.clone();
    let now = state.clock.now();
    write_and_wake(state, move |c| {
        let Some(group) = remote::find_actor(c, &join.group_actor_id)? else {
            return Err(AppError::conflicting("collective", Kind::GroupUnknown, &[("value", &join.handle)]));
        };
        Ok(wire::send_leave(c, &urls, &join, &group.inbox, now)?)
    })
    .await
}

/// The member side: asks the collective `handle` (its Group) to put this host on its roster. The
/// host account follows the Group and sends it a `Join`; the request is pending until the
/// collective answers (`join_requests` shows it).
pub async fn join(state: &AppState, data: &FedData, handle: &str) -> AppResult<Join> {
    let group = resolve(data, handle).await?;
    if group.actor_type != "Group" {
        return Err(AppError::refused(
            "handle",
            Kind::NotAGroup,
            &[("value", handle.trim()), ("type", &group.actor_type)],
        ));
    }
    let url = url::Url::parse(&group.id).map_err(|e| AppError::invalid("handle", e.to_string()))?;
    if state.urls.is_local(&url) {
        return Err(AppError::refused("handle", Kind::OwnCollective, &[]));
    }
    super::peers::follow(state, data, &url).await.map_err(|e| e.about("handle"))?;
    let urls = state.urls.clone();
    let now = state.clock.now();
    write_and_wake(state, move |c| Ok(wire::send_join(c, &urls, &group, now)?)).await
}

/// The collectives this host asked to join, and their answers.
pub async fn join_requests(state: &AppState) -> AppResult<Vec<Join>> {
    Ok(state.db.read(roster::list_joins).await?)
}

/// A follower of the Group or a relay subscriber, with the health of deliveries to it.
#[derive(Debug, Clone)]
pub struct FollowerStatus {
    pub follower: GroupFollower,
    pub last_delivered: Option<NaiveDateTime>,
    pub failures: i32,
    pub paused_since: Option<NaiveDateTime>,
}

/// The Group's followers (`relay`: Some(true) only relay subscribers), with their health.
pub async fn followers(state: &AppState, relay: Option<bool>) -> AppResult<Vec<FollowerStatus>> {
    require_enabled(state)?;
    Ok(state
        .db
        .read(move |c| {
            let health = queue::health(c)?;
            Ok(roster::list_followers(c, relay)?
                .into_iter()
                .map(|follower| {
                    let inboxes = [follower.inbox.as_str(), follower.delivery_inbox()];
                    let health: Vec<_> = health.iter().filter(|h| inboxes.contains(&h.inbox.as_str())).collect();
                    FollowerStatus {
                        last_delivered: health.iter().filter_map(|h| h.last_success_at).max(),
                        failures: health.iter().map(|h| h.consecutive_failures).max().unwrap_or(0),
                        paused_since: health.iter().filter_map(|h| h.paused_at).min(),
                        follower,
                    }
                })
                .collect())
        })
        .await?)
}

// ---------------------------------------------------------------- the collective's logo

/// Uploads the collective's logo (checked and stored by `media::set_logo`): the Group's `icon`;
/// its followers and relay subscribers receive the Group's `Update`.
pub async fn set_logo(state: &AppState, upload: super::media::Upload) -> AppResult<super::media::Logo> {
    require_enabled(state)?;
    let logo = super::media::set_logo(state, super::media::Owner::Group, upload).await?;
    federate_group(state).await?;
    Ok(logo)
}

/// Removes the collective's logo; false when it had none (nothing is sent then).
pub async fn remove_logo(state: &AppState) -> AppResult<bool> {
    require_enabled(state)?;
    let removed = super::media::remove_logo(state, super::media::Owner::Group).await?;
    if removed {
        federate_group(state).await?;
    }
    Ok(removed)
}

/// The collective's logo, if one was uploaded.
pub async fn logo(state: &AppState) -> AppResult<Option<super::media::Logo>> {
    Ok(super::media::logo(state, super::media::Owner::Group).await?)
}

/// Sends the Group's actor document as it is now.
async fn federate_group(state: &AppState) -> AppResult<()> {
    let Some(doc) = actors::group_actor_doc(state).await? else { return Ok(()) };
    let actor =
        serde_json::to_value(doc).map_err(|e| AppError::Internal(format!("the Group does not serialise: {e}")))?;
    let (st, now) = (state.clone(), state.clock.now());
    write_and_wake(state, move |c| Ok(wire::enqueue_group_update(c, &st, actor, now)?)).await
}
