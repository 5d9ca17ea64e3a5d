//! What we know of other servers: actors, the actors we follow, activities received, their posts.

pub use super::states::FollowState;
use crate::db::{
    schema::{following, received_activities, remote_actors, remote_posts, tombstones},
    DbConnection, DbResult,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = remote_actors, treat_none_as_null = true)]
pub struct RemoteActor {
    pub id: String,
    pub actor_type: String,
    pub preferred_username: String,
    pub name: Option<String>,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub outbox: Option<String>,
    pub public_key_id: String,
    pub public_key_pem: String,
    pub raw: String,
    pub fetched_at: NaiveDateTime,
}

pub fn find_actor(conn: &mut DbConnection, id: &str) -> DbResult<Option<RemoteActor>> {
    Ok(remote_actors::table.find(id).select(RemoteActor::as_select()).first(conn).optional()?)
}

/// The actors whose current key is `key_id` (newest copy first; a key named by actors of other
/// servers is the caller's to refuse).
pub fn find_actors_by_key(conn: &mut DbConnection, key_id: &str) -> DbResult<Vec<RemoteActor>> {
    Ok(remote_actors::table
        .filter(remote_actors::public_key_id.eq(key_id))
        .order(remote_actors::fetched_at.desc())
        .select(RemoteActor::as_select())
        .load(conn)?)
}

pub fn upsert_actor(conn: &mut DbConnection, actor: &RemoteActor) -> DbResult<()> {
    if find_actor(conn, &actor.id)?.is_some() {
        diesel::update(remote_actors::table.find(&actor.id)).set(actor).execute(conn)?;
    } else {
        diesel::insert_into(remote_actors::table).values(actor).execute(conn)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = following)]
pub struct Following {
    pub actor_id: String,
    pub inbox: String,
    pub follow_activity_id: String,
    pub status: FollowState,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn find_following(conn: &mut DbConnection, actor_id: &str) -> DbResult<Option<Following>> {
    Ok(following::table.find(actor_id).select(Following::as_select()).first(conn).optional()?)
}

pub fn upsert_following(conn: &mut DbConnection, row: &Following) -> DbResult<()> {
    diesel::delete(following::table.find(&row.actor_id)).execute(conn)?;
    diesel::insert_into(following::table).values(row).execute(conn)?;
    Ok(())
}

pub fn set_following_status(
    conn: &mut DbConnection,
    actor_id: &str,
    status: FollowState,
    at: NaiveDateTime,
) -> DbResult<bool> {
    Ok(diesel::update(following::table.find(actor_id))
        .set((following::status.eq(status), following::updated_at.eq(at)))
        .execute(conn)?
        > 0)
}

pub fn delete_following(conn: &mut DbConnection, actor_id: &str) -> DbResult<bool> {
    Ok(diesel::delete(following::table.find(actor_id)).execute(conn)? > 0)
}

pub fn list_following(conn: &mut DbConnection) -> DbResult<Vec<Following>> {
    Ok(following::table.select(Following::as_select()).order(following::created_at).load(conn)?)
}

/// Records an incoming activity id; false when it was already seen (a redelivery). One
/// statement: a delivery racing with another of the same activity waits for it, then sees it.
pub fn record_received(
    conn: &mut DbConnection,
    id: &str,
    actor_id: &str,
    kind: &str,
    at: NaiveDateTime,
) -> DbResult<bool> {
    let row = (
        received_activities::id.eq(id),
        received_activities::actor_id.eq(actor_id),
        received_activities::kind.eq(kind),
        received_activities::received_at.eq(at),
    );
    let inserted = match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(received_activities::table)
            .values(row)
            .on_conflict(received_activities::id)
            .do_nothing()
            .execute(c)?,
        DbConnection::Postgres(c) => diesel::insert_into(received_activities::table)
            .values(row)
            .on_conflict(received_activities::id)
            .do_nothing()
            .execute(c)?,
    };
    Ok(inserted > 0)
}

pub fn count_received(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(received_activities::table.count().get_result(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = remote_posts, treat_none_as_null = true)]
pub struct RemotePost {
    pub id: String,
    pub actor_id: String,
    pub object_type: String,
    pub content_html: String,
    pub summary: Option<String>,
    pub url: Option<String>,
    pub lang: Option<String>,
    pub in_reply_to: Option<String>,
    pub published_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
    pub raw: String,
    pub received_at: NaiveDateTime,
    /// `news`, `serviceChange`, `labelUpdate` for bulletins from Ronron peers; None for plain posts.
    pub kind: Option<String>,
    /// The extension properties, parsed and stored as JSON.
    pub meta: Option<String>,
}

pub fn find_post(conn: &mut DbConnection, id: &str) -> DbResult<Option<RemotePost>> {
    Ok(remote_posts::table.find(id).select(RemotePost::as_select()).first(conn).optional()?)
}

pub fn insert_post(conn: &mut DbConnection, post: &RemotePost) -> DbResult<()> {
    each_backend!(conn, |c| diesel::insert_into(remote_posts::table).values(post).execute(c))?;
    Ok(())
}

/// Whether a post with this id is stored (its id read, not its row).
pub fn post_exists(conn: &mut DbConnection, id: &str) -> DbResult<bool> {
    let found =
        each_backend!(conn, |c| remote_posts::table.find(id).select(remote_posts::id).first::<String>(c).optional())?;
    Ok(found.is_some())
}

pub fn update_post(conn: &mut DbConnection, post: &RemotePost) -> DbResult<()> {
    diesel::update(remote_posts::table.find(&post.id)).set(post).execute(conn)?;
    Ok(())
}

pub fn list_posts(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<RemotePost>> {
    Ok(remote_posts::table
        .select(RemotePost::as_select())
        .order((remote_posts::published_at.desc(), remote_posts::id.desc()))
        .limit(limit)
        .load(conn)?)
}

/// Deletes the post and leaves a tombstone so a late Create cannot bring it back.
pub fn tombstone_post(conn: &mut DbConnection, object_id: &str, actor_id: &str, at: NaiveDateTime) -> DbResult<()> {
    diesel::delete(remote_posts::table.find(object_id)).execute(conn)?;
    super::timeline::remove(conn, object_id)?;
    if !is_tombstoned(conn, object_id)? {
        diesel::insert_into(tombstones::table)
            .values((
                tombstones::object_id.eq(object_id),
                tombstones::actor_id.eq(actor_id),
                tombstones::deleted_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn is_tombstoned(conn: &mut DbConnection, object_id: &str) -> DbResult<bool> {
    let n: i64 = tombstones::table.filter(tombstones::object_id.eq(object_id)).count().get_result(conn)?;
    Ok(n > 0)
}

/// Deletes the stored posts `matches` selects (used by domain blocks); returns how many.
pub fn delete_posts_where(conn: &mut DbConnection, matches: impl Fn(&RemotePost) -> bool) -> DbResult<usize> {
    let ids: Vec<String> = remote_posts::table
        .select(RemotePost::as_select())
        .load(conn)?
        .into_iter()
        .filter(|p| matches(p))
        .map(|p| p.id)
        .collect();
    for chunk in ids.chunks(500) {
        diesel::delete(remote_posts::table.filter(remote_posts::id.eq_any(chunk))).execute(conn)?;
    }
    for id in &ids {
        super::timeline::remove(conn, id)?;
    }
    Ok(ids.len())
}

/// When we last received a signed activity from `actor_id`.
pub fn last_received(conn: &mut DbConnection, actor_id: &str) -> DbResult<Option<NaiveDateTime>> {
    Ok(received_activities::table
        .filter(received_activities::actor_id.eq(actor_id))
        .select(diesel::dsl::max(received_activities::received_at))
        .first(conn)?)
}

/// The service changes of `actors` that start a thread (not follow-ups), newest first: what the
/// collective's status page and calendar read (through the `remote_posts_actor` index).
pub fn service_changes_of(conn: &mut DbConnection, actors: &[String], limit: i64) -> DbResult<Vec<RemotePost>> {
    let mut out = Vec::new();
    // Bound the parameters of one statement (SQLite's limit), whatever the roster's size.
    for chunk in actors.chunks(500) {
        out.extend(
            remote_posts::table
                .filter(remote_posts::actor_id.eq_any(chunk))
                .filter(remote_posts::kind.eq("serviceChange"))
                .filter(remote_posts::in_reply_to.is_null())
                .order((remote_posts::published_at.desc(), remote_posts::id.desc()))
                .limit(limit)
                .select(RemotePost::as_select())
                .load(conn)?,
        );
    }
    out.sort_by(|a, b| (b.published_at, &b.id).cmp(&(a.published_at, &a.id)));
    out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(out)
}
