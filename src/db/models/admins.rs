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

/// Failed logins since `since` for this username and from this address.
pub fn recent_failures(
    conn: &mut DbConnection,
    username: &str,
    ip: &str,
    since: NaiveDateTime,
) -> DbResult<(i64, i64)> {
    let by_user = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::at.ge(since))
        .count()
        .get_result(conn)?;
    let by_ip = login_failures::table
        .filter(login_failures::ip.eq(ip))
        .filter(login_failures::at.ge(since))
        .count()
        .get_result(conn)?;
    Ok((by_user, by_ip))
}

/// The oldest failure still counted for this username or address (tells when the block lifts).
pub fn oldest_failure_since(
    conn: &mut DbConnection,
    username: &str,
    ip: &str,
    since: NaiveDateTime,
) -> DbResult<Option<NaiveDateTime>> {
    Ok(login_failures::table
        .filter(login_failures::username.eq(username).or(login_failures::ip.eq(ip)))
        .filter(login_failures::at.ge(since))
        .select(diesel::dsl::min(login_failures::at))
        .first(conn)?)
}

/// Forgets failures older than `before` (they no longer count).
pub fn prune_failures(conn: &mut DbConnection, before: NaiveDateTime) -> DbResult<usize> {
    Ok(diesel::delete(login_failures::table.filter(login_failures::at.lt(before))).execute(conn)?)
}
