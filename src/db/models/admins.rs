//! Web admin accounts, their sessions and the failed logins kept for throttling.

use crate::db::{
    schema::{admin_sessions, admins, login_failures},
    DbConnection, DbResult,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admins)]
pub struct Admin {
    pub username: String,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_sessions)]
pub struct Session {
    pub token_hash: String,
    pub username: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, username: &str) -> DbResult<Option<Admin>> {
    Ok(admins::table.find(username).select(Admin::as_select()).first(conn).optional()?)
}

pub fn list(conn: &mut DbConnection) -> DbResult<Vec<Admin>> {
    Ok(admins::table.order(admins::username).select(Admin::as_select()).load(conn)?)
}

pub fn insert(conn: &mut DbConnection, admin: &Admin) -> DbResult<()> {
    diesel::insert_into(admins::table).values(admin).execute(conn)?;
    Ok(())
}

/// Sets a new password hash and ends every session of that admin.
pub fn set_password(conn: &mut DbConnection, username: &str, hash: &str, now: NaiveDateTime) -> DbResult<bool> {
    let changed = diesel::update(admins::table.find(username))
        .set((admins::password_hash.eq(hash), admins::updated_at.eq(now)))
        .execute(conn)?;
    diesel::delete(admin_sessions::table.filter(admin_sessions::username.eq(username))).execute(conn)?;
    Ok(changed > 0)
}

/// Deletes an admin and its sessions unless it is the last one: `None` when no admin has that
/// name, `Some(false)` when it is the last (the web admin would be locked), `Some(true)` when done.
pub fn delete_unless_last(conn: &mut DbConnection, username: &str) -> DbResult<Option<bool>> {
    // PostgreSQL's READ COMMITTED would let two deletions of the last two admins both see two;
    // the lock serialises them (SQLite's BEGIN IMMEDIATE already does).
    if let DbConnection::Postgres(c) = conn {
        diesel::sql_query("LOCK TABLE admins IN SHARE ROW EXCLUSIVE MODE").execute(c)?;
    }
    if find(conn, username)?.is_none() {
        return Ok(None);
    }
    let count: i64 = admins::table.count().get_result(conn)?;
    if count <= 1 {
        return Ok(Some(false));
    }
    diesel::delete(admin_sessions::table.filter(admin_sessions::username.eq(username))).execute(conn)?;
    diesel::delete(admins::table.find(username)).execute(conn)?;
    Ok(Some(true))
}

pub fn insert_session(conn: &mut DbConnection, session: &Session) -> DbResult<()> {
    diesel::insert_into(admin_sessions::table).values(session).execute(conn)?;
    Ok(())
}

/// The session with this cookie hash, if it has not expired.
pub fn live_session(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> DbResult<Option<Session>> {
    Ok(admin_sessions::table
        .find(token_hash)
        .filter(admin_sessions::expires_at.gt(now))
        .select(Session::as_select())
        .first(conn)
        .optional()?)
}

pub fn delete_session(conn: &mut DbConnection, token_hash: &str) -> DbResult<()> {
    diesel::delete(admin_sessions::table.find(token_hash)).execute(conn)?;
    Ok(())
}

pub fn delete_expired_sessions(conn: &mut DbConnection, now: NaiveDateTime) -> DbResult<usize> {
    Ok(diesel::delete(admin_sessions::table.filter(admin_sessions::expires_at.le(now))).execute(conn)?)
}

pub fn record_failure(conn: &mut DbConnection, username: &str, ip: &str, at: NaiveDateTime) -> DbResult<()> {
    diesel::insert_into(login_failures::table)
        .values((login_failures::username.eq(username), login_failures::ip.eq(ip), login_failures::at.eq(at)))
        .execute(conn)?;
    Ok(())
}

/// The failed logins still counted (after `since`) that the throttle looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentFailures {
    /// For this name from this address, oldest first.
    pub for_name_from_address: Vec<NaiveDateTime>,
    /// From this address, for any name, oldest first.
    pub from_address: Vec<NaiveDateTime>,
    /// For this name, from any address.
    pub for_name: i64,
}

/// Failed logins after `since` for this username and from this address. The two lists stay
/// short (a locked pair or address records no more failures); the per-name count may not.
pub fn recent_failures(
    conn: &mut DbConnection,
    username: &str,
    ip: &str,
    since: NaiveDateTime,
) -> DbResult<RecentFailures> {
    let from_address: Vec<(String, NaiveDateTime)> = login_failures::table
        .filter(login_failures::ip.eq(ip))
        .filter(login_failures::at.gt(since))
        .order((login_failures::at, login_failures::id))
        .select((login_failures::username, login_failures::at))
        .load(conn)?;
    let for_name = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)?;
    Ok(RecentFailures {
        for_name_from_address: from_address.iter().filter(|(name, _)| name == username).map(|(_, at)| *at).collect(),
        from_address: from_address.into_iter().map(|(_, at)| at).collect(),
        for_name,
    })
}

/// Forgets this name's failures from this address (after it logged in there).
pub fn forget_failures(conn: &mut DbConnection, username: &str, ip: &str) -> DbResult<usize> {
    Ok(diesel::delete(
        login_failures::table.filter(login_failures::username.eq(username)).filter(login_failures::ip.eq(ip)),
    )
    .execute(conn)?)
}

/// Forgets failures at or before `before` (they no longer count).
pub fn prune_failures(conn: &mut DbConnection, before: NaiveDateTime) -> DbResult<usize> {
    Ok(diesel::delete(login_failures::table.filter(login_failures::at.le(before))).execute(conn)?)
}
