//! Which HTTP signature scheme each server accepted last (the delivery's double-knock memory).
//! Not host data: it is learned again from the first delivery after a move.

use crate::db::{schema::signature_schemes, DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The scheme remembered for `domain` (`urls::domain_of` of its inbox), as stored.
pub fn find(conn: &mut DbConnection, domain: &str) -> DbResult<Option<String>> {
    Ok(signature_schemes::table.find(domain).select(signature_schemes::scheme).first(conn).optional()?)
}

/// The schemes remembered for each of `domains` that has one, in one query per 500 domains.
pub fn find_many(conn: &mut DbConnection, domains: &[String]) -> DbResult<std::collections::HashMap<String, String>> {
    let mut found = std::collections::HashMap::new();
    for chunk in domains.chunks(500) {
        let rows: Vec<(String, String)> = signature_schemes::table
            .filter(signature_schemes::domain.eq_any(chunk))
            .select((signature_schemes::domain, signature_schemes::scheme))
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// Remembers that `domain` accepted `scheme` at `at`.
pub fn remember(conn: &mut DbConnection, domain: &str, scheme: &str, at: NaiveDateTime) -> DbResult<()> {
    // One upsert: two workers learning the same server at once must not collide on the key.
    let row = (
        signature_schemes::domain.eq(domain),
        signature_schemes::scheme.eq(scheme),
        signature_schemes::learned_at.eq(at),
    );
    let update = (signature_schemes::scheme.eq(scheme), signature_schemes::learned_at.eq(at));
    match conn {
        DbConnection::Sqlite(c) => diesel::insert_into(signature_schemes::table)
            .values(row)
            .on_conflict(signature_schemes::domain)
            .do_update()
            .set(update)
            .execute(c)?,
        DbConnection::Postgres(c) => diesel::insert_into(signature_schemes::table)
            .values(row)
            .on_conflict(signature_schemes::domain)
            .do_update()
            .set(update)
            .execute(c)?,
    };
    Ok(())
}
