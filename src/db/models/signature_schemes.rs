//! Which HTTP signature scheme each server accepted last (the delivery's double-knock memory).
//! Not host data: it is learned again from the first delivery after a move.

use crate::db::{schema::signature_schemes, DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The scheme remembered for `domain` (`urls::domain_of` of its inbox), as stored.
pub fn find(conn: &mut DbConnection, domain: &str) -> DbResult<Option<String>> {
    Ok(signature_schemes::table.find(domain).select(signature_schemes::scheme).first(conn).optional()?)
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
