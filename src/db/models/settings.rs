//! Small named values kept in the database (the profile as edited, the last profile federated).

use crate::db::{schema::settings, DbConnection, DbResult};
use diesel::prelude::*;

pub fn get(conn: &mut DbConnection, key: &str) -> DbResult<Option<String>> {
    Ok(settings::table.find(key).select(settings::value).first(conn).optional()?)
}

pub fn put(conn: &mut DbConnection, key: &str, value: &str) -> DbResult<()> {
    if get(conn, key)?.is_some() {
        diesel::update(settings::table.find(key)).set(settings::value.eq(value)).execute(conn)?;
    } else {
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(value)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn delete(conn: &mut DbConnection, key: &str) -> DbResult<bool> {
    Ok(diesel::delete(settings::table.find(key)).execute(conn)? > 0)
}
