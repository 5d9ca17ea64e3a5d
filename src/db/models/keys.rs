use crate::db::{
    schema::{local_ed25519_keys, local_keys},
    DbConnection, DbResult,
};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = local_keys)]
pub struct LocalKey {
    pub kind: String,
    pub private_key_pem: String,
    pub public_key_pem: String,
    pub created_at: chrono::NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, kind: &str) -> DbResult<Option<LocalKey>> {
    Ok(local_keys::table.find(kind).select(LocalKey::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, key: &LocalKey) -> DbResult<()> {
    diesel::insert_into(local_keys::table).values(key).execute(conn)?;
    Ok(())
}

/// Replaces the key pair of `kind`, keeping its `created_at` (the actor's `published` date).
/// Returns whether a row was replaced.
pub fn replace(conn: &mut DbConnection, kind: &str, private_key_pem: &str, public_key_pem: &str) -> DbResult<bool> {
    let n = diesel::update(local_keys::table.find(kind))
        .set((local_keys::private_key_pem.eq(private_key_pem), local_keys::public_key_pem.eq(public_key_pem)))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn all(conn: &mut DbConnection) -> DbResult<Vec<LocalKey>> {
    Ok(local_keys::table.order(local_keys::kind).select(LocalKey::as_select()).load(conn)?)
}

/// One of our actors' Ed25519 keys (`local_ed25519_keys`); also a field of `export --all`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, Queryable, Selectable, Insertable)]
#[serde(deny_unknown_fields)]
#[diesel(table_name = local_ed25519_keys)]
pub struct Ed25519Row {
    pub kind: String,
    pub private_key_pkcs8: String,
    pub public_key_multibase: String,
    pub created_at: chrono::NaiveDateTime,
}

pub fn find_ed25519(conn: &mut DbConnection, kind: &str) -> DbResult<Option<Ed25519Row>> {
    Ok(local_ed25519_keys::table.find(kind).select(Ed25519Row::as_select()).first(conn).optional()?)
}

pub fn insert_ed25519(conn: &mut DbConnection, key: &Ed25519Row) -> DbResult<()> {
    diesel::insert_into(local_ed25519_keys::table).values(key).execute(conn)?;
    Ok(())
}

/// Stores the key unless one of its kind is already there (two processes starting at once after
/// the upgrade both try; on PostgreSQL a check-then-insert would fail the second on the key).
pub fn insert_ed25519_if_absent(conn: &mut DbConnection, key: &Ed25519Row) -> DbResult<()> {
    match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(local_ed25519_keys::table)
            .values(key)
            .on_conflict(local_ed25519_keys::kind)
            .do_nothing()
            .execute(c)?,
        DbConnection::Postgres(c) => diesel::insert_into(local_ed25519_keys::table)
            .values(key)
            .on_conflict(local_ed25519_keys::kind)
            .do_nothing()
            .execute(c)?,
    };
    Ok(())
}

/// Puts back an exported key (import): replaces the row of its kind.
pub fn restore_ed25519(conn: &mut DbConnection, key: &Ed25519Row) -> DbResult<()> {
    diesel::delete(local_ed25519_keys::table.find(&key.kind)).execute(conn)?;
    insert_ed25519(conn, key)
}
