use crate::db::{schema::local_keys, DbConnection, DbResult};
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
