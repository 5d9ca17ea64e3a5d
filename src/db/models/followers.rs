use crate::db::{schema::followers, DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use super::states::FollowState;

pub const PENDING: FollowState = FollowState::Pending;
pub const ACCEPTED: FollowState = FollowState::Accepted;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = followers)]
pub struct Follower {
    pub id: i64,
    pub actor_id: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub status: FollowState,
    pub follow_activity_id: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Follower {
    /// Where posts go: the shared inbox when the follower's server declares one.
    pub fn delivery_inbox(&self) -> &str {
        self.shared_inbox.as_deref().unwrap_or(&self.inbox)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = followers)]
pub struct NewFollower<'a> {
    pub actor_id: &'a str,
    pub inbox: &'a str,
    pub shared_inbox: Option<&'a str>,
    pub status: FollowState,
    pub follow_activity_id: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn find_by_actor(conn: &mut DbConnection, actor_id: &str) -> DbResult<Option<Follower>> {
    Ok(followers::table
        .filter(followers::actor_id.eq(actor_id))
        .select(Follower::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Option<Follower>> {
    Ok(followers::table.find(id).select(Follower::as_select()).first(conn).optional()?)
}

/// Records a Follow; a repeated Follow from the same actor refreshes the row (new activity id).
pub fn upsert(conn: &mut DbConnection, new: NewFollower<'_>) -> DbResult<Follower> {
    match find_by_actor(conn, new.actor_id)? {
        Some(existing) => {
            // A follower already accepted stays accepted when it follows again.
            let status = if existing.status == ACCEPTED { ACCEPTED } else { new.status };
            diesel::update(followers::table.find(existing.id))
                .set((
                    followers::inbox.eq(new.inbox),
                    followers::shared_inbox.eq(new.shared_inbox),
                    followers::status.eq(status),
                    followers::follow_activity_id.eq(new.follow_activity_id),
                    followers::updated_at.eq(new.updated_at),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(followers::table).values(&new).execute(conn)?;
        }
    }
    find_by_actor(conn, new.actor_id)?.ok_or(diesel::result::Error::NotFound.into())
}

pub fn set_status(conn: &mut DbConnection, id: i64, status: FollowState, at: NaiveDateTime) -> DbResult<()> {
    diesel::update(followers::table.find(id))
        .set((followers::status.eq(status), followers::updated_at.eq(at)))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, id: i64) -> DbResult<bool> {
    Ok(diesel::delete(followers::table.find(id)).execute(conn)? > 0)
}

pub fn list(conn: &mut DbConnection, status: Option<FollowState>) -> DbResult<Vec<Follower>> {
    let mut query = followers::table.select(Follower::as_select()).order(followers::id).into_boxed();
    if let Some(status) = status {
        query = query.filter(followers::status.eq(status));
    }
    Ok(query.load(conn)?)
}

/// A stored remote actor's username and display name.
pub type ActorNames = (String, Option<String>);

/// The followers, oldest first, each with the username and display name of its stored remote
/// actor (none when the actor was never fetched).
pub fn list_with_actors(
    conn: &mut DbConnection,
    status: Option<FollowState>,
) -> DbResult<Vec<(Follower, Option<ActorNames>)>> {
    use crate::db::schema::remote_actors;
    let mut query = followers::table
        .left_join(remote_actors::table.on(remote_actors::id.eq(followers::actor_id)))
        .select((Follower::as_select(), (remote_actors::preferred_username, remote_actors::name).nullable()))
        .order(followers::id)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(followers::status.eq(status));
    }
    Ok(query.load(conn)?)
}

pub fn count_accepted(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(followers::table.filter(followers::status.eq(ACCEPTED)).count().get_result(conn)?)
}

/// One inbox per server: shared inboxes deduplicated, personal inboxes otherwise.
/// Followers on blocked domains are left out (a block also removes them; this covers races).
pub fn delivery_inboxes(conn: &mut DbConnection) -> DbResult<Vec<String>> {
    let blocks = super::blocks::list(conn)?;
    let mut inboxes: Vec<String> = list(conn, Some(ACCEPTED))?
        .iter()
        .map(|f| f.delivery_inbox().to_string())
        .filter(|inbox| !blocks.iter().any(|b| b.covers(inbox)))
        .collect();
    inboxes.sort();
    inboxes.dedup();
    Ok(inboxes)
}
