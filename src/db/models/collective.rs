//! The collective role's tables: the roster, the Group's followers and relay subscribers, the
//! re-shares (one per bulletin), and on the member side the collectives this host asked to join.

use crate::db::{
    schema::{collective_followers, collective_joins, collective_members, collective_reshares},
    DbConnection, DbResult,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use super::states::{FollowState, JoinState, JoinedVia, MemberState};

/// A host on the roster (approved) or asking to be (pending).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = collective_members)]
pub struct Member {
    /// The host account's actor URL.
    pub actor_id: String,
    /// `@name@domain`, as typed or as the actor says.
    pub handle: String,
    pub state: MemberState,
    pub joined_via: JoinedVia,
    /// The host's `Join`, when it asked.
    pub join_activity_id: Option<String>,
    /// When it was added or asked.
    pub since: NaiveDateTime,
    pub approved_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// The members in `state` (all when None), oldest first.
pub fn list_members(conn: &mut DbConnection, state: Option<MemberState>) -> DbResult<Vec<Member>> {
    let mut query = collective_members::table
        .select(Member::as_select())
        .order((collective_members::since, collective_members::actor_id))
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(collective_members::state.eq(state));
    }
    Ok(query.load(conn)?)
}

pub fn find_member(conn: &mut DbConnection, actor_id: &str) -> DbResult<Option<Member>> {
    Ok(collective_members::table.find(actor_id).select(Member::as_select()).first(conn).optional()?)
}

/// True when `actor_id` is an approved member.
pub fn is_member(conn: &mut DbConnection, actor_id: &str) -> DbResult<bool> {
    Ok(collective_members::table
        .filter(collective_members::actor_id.eq(actor_id))
        .filter(collective_members::state.eq(MemberState::Approved))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Inserts the member, or replaces the row of the same actor (a pending request approved by an
/// `add` keeps its first date).
pub fn upsert_member(conn: &mut DbConnection, member: &Member) -> DbResult<Member> {
    match find_member(conn, &member.actor_id)? {
        Some(existing) => {
            diesel::update(collective_members::table.find(&member.actor_id))
                .set((
                    collective_members::handle.eq(&member.handle),
                    collective_members::state.eq(member.state),
                    collective_members::join_activity_id
                        .eq(member.join_activity_id.clone().or(existing.join_activity_id.clone())),
                    collective_members::approved_at.eq(member.approved_at.or(existing.approved_at)),
                    collective_members::updated_at.eq(member.updated_at),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(collective_members::table).values(member).execute(conn)?;
        }
    }
    find_member(conn, &member.actor_id)?.ok_or(diesel::result::Error::NotFound.into())
}

pub fn approve_member(conn: &mut DbConnection, actor_id: &str, at: NaiveDateTime) -> DbResult<bool> {
    Ok(diesel::update(collective_members::table.find(actor_id))
        .set((
            collective_members::state.eq(MemberState::Approved),
            collective_members::approved_at.eq(Some(at)),
            collective_members::updated_at.eq(at),
        ))
        .execute(conn)?
        > 0)
}

pub fn delete_member(conn: &mut DbConnection, actor_id: &str) -> DbResult<bool> {
    Ok(diesel::delete(collective_members::table.find(actor_id)).execute(conn)? > 0)
}

/// A follower of the Group, or a relay subscriber.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = collective_followers)]
pub struct GroupFollower {
    pub actor_id: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub status: FollowState,
    pub follow_activity_id: String,
    /// A server's instance actor that subscribed with `Follow{as:Public}`.
    pub is_relay: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl GroupFollower {
    pub fn delivery_inbox(&self) -> &str {
        self.shared_inbox.as_deref().unwrap_or(&self.inbox)
    }
}

/// The Group's followers (`relay`: Some(true) only relay subscribers, Some(false) only followers).
pub fn list_followers(conn: &mut DbConnection, relay: Option<bool>) -> DbResult<Vec<GroupFollower>> {
    let mut query = collective_followers::table
        .select(GroupFollower::as_select())
        .order((collective_followers::created_at, collective_followers::actor_id))
        .into_boxed();
    if let Some(relay) = relay {
        query = query.filter(collective_followers::is_relay.eq(relay));
    }
    Ok(query.load(conn)?)
}

pub fn find_follower(conn: &mut DbConnection, actor_id: &str) -> DbResult<Option<GroupFollower>> {
    Ok(collective_followers::table.find(actor_id).select(GroupFollower::as_select()).first(conn).optional()?)
}

/// Records a Follow of the Group; a repeat refreshes the row (an accepted follower stays accepted).
pub fn upsert_follower(conn: &mut DbConnection, new: &GroupFollower) -> DbResult<GroupFollower> {
    match find_follower(conn, &new.actor_id)? {
        Some(existing) => {
            let status = if existing.status == FollowState::Accepted { FollowState::Accepted } else { new.status };
            diesel::update(collective_followers::table.find(&new.actor_id))
                .set((
                    collective_followers::inbox.eq(&new.inbox),
                    collective_followers::shared_inbox.eq(&new.shared_inbox),
                    collective_followers::status.eq(status),
                    collective_followers::follow_activity_id.eq(&new.follow_activity_id),
                    collective_followers::is_relay.eq(new.is_relay),
                    collective_followers::updated_at.eq(new.updated_at),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(collective_followers::table).values(new).execute(conn)?;
        }
    }
    find_follower(conn, &new.actor_id)?.ok_or(diesel::result::Error::NotFound.into())
}

pub fn delete_follower(conn: &mut DbConnection, actor_id: &str) -> DbResult<bool> {
    Ok(diesel::delete(collective_followers::table.find(actor_id)).execute(conn)? > 0)
}

pub fn count_followers(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(collective_followers::table
        .filter(collective_followers::status.eq(FollowState::Accepted))
        .filter(collective_followers::is_relay.eq(false))
        .count()
        .get_result(conn)?)
}

/// One inbox per server among the accepted followers and relay subscribers (`relay` as in
/// [`list_followers`]), blocked domains left out.
pub fn delivery_inboxes(conn: &mut DbConnection, relay: Option<bool>) -> DbResult<Vec<String>> {
    let blocks = super::blocks::list(conn)?;
    let mut inboxes: Vec<String> = list_followers(conn, relay)?
        .iter()
        .filter(|f| f.status == FollowState::Accepted)
        .map(|f| f.delivery_inbox().to_string())
        .filter(|inbox| !blocks.iter().any(|b| b.covers(inbox)))
        .collect();
    inboxes.sort();
    inboxes.dedup();
    Ok(inboxes)
}

/// A bulletin the Group re-shared.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = collective_reshares)]
pub struct Reshare {
    /// The member's Note id.
    pub object_id: String,
    pub member_actor_id: String,
    /// Our `Announce`'s id.
    pub announce_id: String,
    pub created_at: NaiveDateTime,
    pub undone_at: Option<NaiveDateTime>,
}

/// Records a re-share; false (and nothing written) when this bulletin was re-shared already.
pub fn insert_reshare(conn: &mut DbConnection, reshare: &Reshare) -> DbResult<bool> {
    if find_reshare(conn, &reshare.object_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(collective_reshares::table).values(reshare).execute(conn)?;
    Ok(true)
}

pub fn find_reshare(conn: &mut DbConnection, object_id: &str) -> DbResult<Option<Reshare>> {
    Ok(collective_reshares::table.find(object_id).select(Reshare::as_select()).first(conn).optional()?)
}

/// The re-share whose `Announce` has the id `announce_id`.
pub fn find_reshare_by_announce(conn: &mut DbConnection, announce_id: &str) -> DbResult<Option<Reshare>> {
    Ok(collective_reshares::table
        .filter(collective_reshares::announce_id.eq(announce_id))
        .select(Reshare::as_select())
        .first(conn)
        .optional()?)
}

pub fn mark_reshare_undone(conn: &mut DbConnection, object_id: &str, at: NaiveDateTime) -> DbResult<bool> {
    Ok(diesel::update(collective_reshares::table.find(object_id))
        .filter(collective_reshares::undone_at.is_null())
        .set(collective_reshares::undone_at.eq(Some(at)))
        .execute(conn)?
        > 0)
}

/// The re-shares of one member, newest first.
pub fn list_reshares(conn: &mut DbConnection, member_actor_id: &str) -> DbResult<Vec<Reshare>> {
    Ok(collective_reshares::table
        .filter(collective_reshares::member_actor_id.eq(member_actor_id))
        .order((collective_reshares::created_at.desc(), collective_reshares::object_id))
        .select(Reshare::as_select())
        .load(conn)?)
}

/// How many bulletins of `member_actor_id` were re-shared since `since` (the flood check).
pub fn count_reshares_since(conn: &mut DbConnection, member_actor_id: &str, since: NaiveDateTime) -> DbResult<i64> {
    Ok(collective_reshares::table
        .filter(collective_reshares::member_actor_id.eq(member_actor_id))
        .filter(collective_reshares::created_at.ge(since))
        .count()
        .get_result(conn)?)
}

/// On the member side: a collective this host asked to join.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = collective_joins)]
pub struct Join {
    pub group_actor_id: String,
    pub handle: String,
    pub join_activity_id: String,
    /// Pending until the collective answers: accepted (on its roster) or rejected; then removed
    /// (by the collective) or left (by this host).
    pub state: JoinState,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn list_joins(conn: &mut DbConnection) -> DbResult<Vec<Join>> {
    Ok(collective_joins::table
        .order((collective_joins::created_at, collective_joins::group_actor_id))
        .select(Join::as_select())
        .load(conn)?)
}

pub fn find_join(conn: &mut DbConnection, group_actor_id: &str) -> DbResult<Option<Join>> {
    Ok(collective_joins::table.find(group_actor_id).select(Join::as_select()).first(conn).optional()?)
}

pub fn upsert_join(conn: &mut DbConnection, join: &Join) -> DbResult<()> {
    diesel::delete(collective_joins::table.find(&join.group_actor_id)).execute(conn)?;
    diesel::insert_into(collective_joins::table).values(join).execute(conn)?;
    Ok(())
}

pub fn set_join_state(
    conn: &mut DbConnection,
    group_actor_id: &str,
    state: JoinState,
    at: NaiveDateTime,
) -> DbResult<bool> {
    Ok(diesel::update(collective_joins::table.find(group_actor_id))
        .set((collective_joins::state.eq(state), collective_joins::updated_at.eq(at)))
        .execute(conn)?
        > 0)
}

/// Gives up the pending deliveries of the activities `activity_ids` (a member removed mid-way:
/// its re-shares still queued are not sent). Returns how many.
pub fn give_up_pending_of(
    conn: &mut DbConnection,
    activity_ids: &[String],
    reason: &str,
    now: NaiveDateTime,
) -> DbResult<usize> {
    use super::states::DeliveryState;
    use crate::db::schema::deliveries;
    let mut given_up = 0;
    for chunk in activity_ids.chunks(500) {
        given_up += diesel::update(
            deliveries::table
                .filter(deliveries::activity_id.eq_any(chunk))
                .filter(deliveries::status.eq(DeliveryState::Pending)),
        )
        .set((
            deliveries::status.eq(DeliveryState::Failed),
            deliveries::last_error.eq(Some(reason)),
            deliveries::finished_at.eq(Some(now)),
        ))
        .execute(conn)?;
    }
    Ok(given_up)
}

/// The Group's latest Announces (its outbox), newest first, as stored JSON.
pub fn latest_announces(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<String>> {
    use crate::db::schema::activities;
    let announce_ids: Vec<String> = collective_reshares::table
        .filter(collective_reshares::undone_at.is_null())
        .order((collective_reshares::created_at.desc(), collective_reshares::object_id))
        .limit(limit)
        .select(collective_reshares::announce_id)
        .load(conn)?;
    let mut out = Vec::new();
    for id in announce_ids {
        if let Some(json) = activities::table.find(&id).select(activities::json).first::<String>(conn).optional()? {
            out.push(json);
        }
    }
    Ok(out)
}

pub fn count_active_reshares(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(collective_reshares::table.filter(collective_reshares::undone_at.is_null()).count().get_result(conn)?)
}
