//! What the readiness check and the metrics read of the delivery queue: a few COUNTs and one
//! MIN, the same SQL on both backends.

use crate::db::{
    models::activities::PENDING,
    schema::{deliveries, inbox_health},
    DbConnection, DbResult,
};
use chrono::NaiveDateTime;
use diesel::{dsl::exists, prelude::*, sql_types};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFigures {
    /// Pending deliveries to inboxes that are not paused.
    pub depth: i64,
    /// Pending deliveries held for paused inboxes.
    pub held_for_paused: i64,
    /// Inboxes paused until their server speaks again.
    pub paused_inboxes: i64,
    /// When the oldest delivery a worker could take (the first pending one of an inbox that is
    /// not paused) was due; it may be in the future (a retry).
    pub oldest_head_due_at: Option<NaiveDateTime>,
}

#[derive(QueryableByName)]
struct OldestHead {
    #[diesel(sql_type = sql_types::Nullable<sql_types::Timestamp>)]
    due_at: Option<NaiveDateTime>,
}

/// The first pending delivery of each inbox that is not paused, as the workers' claim sees it
/// (deliveries behind it wait their turn and are not counted as late).
const OLDEST_HEAD_SQL: &str = "SELECT MIN(d.next_attempt_at) AS due_at FROM deliveries d \
    WHERE d.status = 'pending' \
      AND d.id = (SELECT MIN(h.id) FROM deliveries h WHERE h.inbox = d.inbox AND h.status = 'pending') \
      AND NOT EXISTS (SELECT 1 FROM inbox_health p WHERE p.inbox = d.inbox AND p.paused_at IS NOT NULL)";

pub fn read(conn: &mut DbConnection) -> DbResult<QueueFigures> {
    let paused_inbox = inbox_health::table
        .filter(inbox_health::inbox.eq(deliveries::inbox))
        .filter(inbox_health::paused_at.is_not_null());
    let pending = deliveries::table.filter(deliveries::status.eq(PENDING));
    let depth: i64 = pending.filter(diesel::dsl::not(exists(paused_inbox))).count().get_result(conn)?;
    let held_for_paused: i64 = pending.filter(exists(paused_inbox)).count().get_result(conn)?;
    let paused_inboxes: i64 =
        inbox_health::table.filter(inbox_health::paused_at.is_not_null()).count().get_result(conn)?;
    let oldest: OldestHead = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(OLDEST_HEAD_SQL).get_result(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(OLDEST_HEAD_SQL).get_result(c)?,
    };
    Ok(QueueFigures { depth, held_for_paused, paused_inboxes, oldest_head_due_at: oldest.due_at })
}
