//! What peers publish about themselves, as last fetched.

use crate::db::{schema::peer_directory, DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = peer_directory, treat_none_as_null = true)]
pub struct PeerEntry {
    pub actor_id: String,
    pub domain: String,
    pub name: Option<String>,
    pub host_profile: Option<String>,
    pub services: Option<String>,
    pub label: Option<String>,
    pub fetched_at: NaiveDateTime,
}

pub fn upsert(conn: &mut DbConnection, entry: &PeerEntry) -> DbResult<()> {
    if peer_directory::table.find(&entry.actor_id).count().get_result::<i64>(conn)? > 0 {
        diesel::update(peer_directory::table.find(&entry.actor_id)).set(entry).execute(conn)?;
    } else {
        diesel::insert_into(peer_directory::table).values(entry).execute(conn)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConnection, actor_id: &str) -> DbResult<Option<PeerEntry>> {
    Ok(peer_directory::table.find(actor_id).select(PeerEntry::as_select()).first(conn).optional()?)
}

pub fn list(conn: &mut DbConnection) -> DbResult<Vec<PeerEntry>> {
    Ok(peer_directory::table.order(peer_directory::domain).select(PeerEntry::as_select()).load(conn)?)
}

/// Entries fetched before `before`, oldest first.
pub fn stale(conn: &mut DbConnection, before: NaiveDateTime, limit: i64) -> DbResult<Vec<PeerEntry>> {
    Ok(peer_directory::table
        .filter(peer_directory::fetched_at.lt(before))
        .order(peer_directory::fetched_at)
        .limit(limit)
        .select(PeerEntry::as_select())
        .load(conn)?)
}

/// Makes an entry due for refresh (its peer announced a change).
pub fn mark_stale(conn: &mut DbConnection, actor_id: &str) -> DbResult<()> {
    diesel::update(peer_directory::table.find(actor_id))
        .set(peer_directory::fetched_at.eq(NaiveDateTime::default()))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, actor_id: &str) -> DbResult<()> {
    diesel::delete(peer_directory::table.find(actor_id)).execute(conn)?;
    Ok(())
}
