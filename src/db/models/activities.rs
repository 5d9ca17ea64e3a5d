//! Published activities and the durable delivery queue.
//!
//! A delivery is claimable when it is due, not leased, and the oldest pending one of its inbox:
//! each inbox receives our activities one at a time and in order (so a Create always arrives
//! before the Update and Delete of the same object), and several workers — in one process or in
//! several `ronron serve` sharing PostgreSQL — never send the same job at once.
//!
//! A lease names the process that holds it (`locked_by`, a fresh id at every start) and is short;
//! the holder renews it while it sends. Each process that leases is a row of
//! `delivery_processes` under a name stable across its restarts, so a process started again after
//! a crash releases at once what its previous life held (see [`register_process`]).

use crate::db::{
    schema::{activities, deliveries, delivery_processes, inbox_health},
    DbConnection, DbResult,
};
use chrono::{Duration, NaiveDateTime};
use diesel::{connection::SimpleConnection, prelude::*, sql_types};

pub use super::states::DeliveryState;

pub const PENDING: DeliveryState = DeliveryState::Pending;
pub const DELIVERED: DeliveryState = DeliveryState::Delivered;
pub const FAILED: DeliveryState = DeliveryState::Failed;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = activities)]
pub struct StoredActivity {
    pub id: String,
    pub kind: String,
    pub object_id: String,
    pub json: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct Delivery {
    pub id: i64,
    pub activity_id: String,
    pub inbox: String,
    pub status: DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    /// The process holding the lease (`delivery_processes.id`).
    pub locked_by: Option<String>,
}

/// A process that leases deliveries.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = delivery_processes)]
pub struct QueueProcess {
    /// New at every start.
    pub id: String,
    /// Stable across restarts of the same process (host name and listen address).
    pub name: String,
    pub started_at: NaiveDateTime,
    /// Its last heartbeat.
    pub seen_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = deliveries)]
struct NewDelivery<'a> {
    activity_id: &'a str,
    inbox: &'a str,
    status: DeliveryState,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inbox_health)]
pub struct InboxHealth {
    pub inbox: String,
    pub consecutive_failures: i32,
    pub last_success_at: Option<NaiveDateTime>,
    pub last_failure_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub failing_since: Option<NaiveDateTime>,
    pub paused_at: Option<NaiveDateTime>,
}

/// Rows per INSERT of the queue on PostgreSQL: 6 values each, far under its 65,535 parameters.
const ENQUEUE_CHUNK: usize = 1000;

/// Stores the activity and one pending delivery per inbox, due at `now`. Call inside the
/// transaction that changes what the activity is about, so the change and its delivery commit
/// together. On PostgreSQL the deliveries go in multi-row INSERTs (one per [`ENQUEUE_CHUNK`]
/// inboxes, not one per inbox: a round trip each), and the commit notifies every process listening for new jobs.
pub fn store_and_enqueue(
    conn: &mut DbConnection,
    activity: &StoredActivity,
    inboxes: &[String],
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(activities::table).values(activity).execute(conn)?;
    let queued_at = now;
    for chunk in inboxes.chunks(ENQUEUE_CHUNK) {
        let rows: Vec<NewDelivery> = chunk
            .iter()
            .map(|inbox| NewDelivery {
                activity_id: &activity.id,
                inbox,
                status: PENDING,
                attempts: 0,
                next_attempt_at: queued_at,
                created_at: queued_at,
            })
            .collect();
        match conn {
            // In-process, a cached prepared statement per row costs microseconds (and diesel's
            // SQLite batch insert opens a transaction of its own, which ours forbids).
            DbConnection::Sqlite(c) => {
                for row in &rows {
                    diesel::insert_into(deliveries::table).values(row).execute(c)?;
                }
            }
            // One round trip per chunk instead of one per row.
            DbConnection::Postgres(c) => {
                diesel::insert_into(deliveries::table).values(&rows).execute(c)?;
            }
        }
    }
    if !inboxes.is_empty() {
        notify_queue(conn)?;
    }
    Ok(())
}

/// The PostgreSQL channel on which a commit that makes deliveries due wakes every process's
/// workers (`jobs::delivery::listen`).
pub const QUEUE_CHANNEL: &str = "ronron_deliveries";

/// Tells the processes listening on [`QUEUE_CHANNEL`] that jobs are due (sent at commit, once
/// per transaction whatever the number of calls). Nothing on SQLite: see `jobs::delivery::ping`.
pub fn notify_queue(conn: &mut DbConnection) -> DbResult<()> {
    if let DbConnection::Postgres(c) = conn {
        diesel::sql_query(format!("NOTIFY {QUEUE_CHANNEL}")).execute(c)?;
    }
    Ok(())
}

pub fn find_activity(conn: &mut DbConnection, id: &str) -> DbResult<Option<StoredActivity>> {
    Ok(activities::table.find(id).select(StoredActivity::as_select()).first(conn).optional()?)
}

/// The latest activity of `kind` about `object_id` (e.g. the Create of a bulletin).
pub fn latest_for_object(conn: &mut DbConnection, object_id: &str, kind: &str) -> DbResult<Option<StoredActivity>> {
    Ok(activities::table
        .filter(activities::object_id.eq(object_id))
        .filter(activities::kind.eq(kind))
        .order(activities::created_at.desc())
        .select(StoredActivity::as_select())
        .first(conn)
        .optional()?)
}

#[derive(QueryableByName)]
struct ClaimedId {
    #[diesel(sql_type = sql_types::BigInt)]
    id: i64,
}

// Both walk the partial index `deliveries_due (next_attempt_at, id) WHERE status = 'pending'` in
// order and stop after `limit` rows; each candidate costs two index probes (an older pending job
// of its inbox, a pause), so a claim costs the same whatever the depth of the queue.
const CLAIM_SQL_POSTGRES: &str = "SELECT d.id FROM deliveries d \
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
      AND (d.locked_until IS NULL OR d.locked_until < $1) \
      AND NOT EXISTS (SELECT 1 FROM deliveries h WHERE h.status = 'pending' AND h.inbox = d.inbox AND h.id < d.id) \
      AND NOT EXISTS (SELECT 1 FROM inbox_health p WHERE p.inbox = d.inbox AND p.paused_at IS NOT NULL) \
    ORDER BY d.next_attempt_at, d.id LIMIT $2 FOR UPDATE OF d SKIP LOCKED";

/// Makes the next statement walk an index in order rather than sort what a bitmap or sequential
/// scan found (PostgreSQL has no per-statement hints; `SET LOCAL` lasts until the transaction
/// ends, so [`CLAIM_PLAN_RESET_POSTGRES`] follows the claim).
const CLAIM_PLAN_POSTGRES: &str =
    "SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off";
const CLAIM_PLAN_RESET_POSTGRES: &str = "RESET enable_bitmapscan; RESET enable_seqscan; RESET enable_sort";

// SQLite has no row locks; the write transaction (BEGIN IMMEDIATE) serialises claimers instead.
const CLAIM_SQL_SQLITE: &str = "SELECT d.id FROM deliveries d INDEXED BY deliveries_due \
    WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 \
      AND (d.locked_until IS NULL OR d.locked_until < ?1) \
      AND NOT EXISTS (SELECT 1 FROM deliveries h WHERE h.status = 'pending' AND h.inbox = d.inbox AND h.id < d.id) \
      AND NOT EXISTS (SELECT 1 FROM inbox_health p WHERE p.inbox = d.inbox AND p.paused_at IS NOT NULL) \
    ORDER BY d.next_attempt_at, d.id LIMIT ?2";

/// Leases up to `limit` due deliveries to the process `owner` for `lease`; call inside a write
/// transaction.
pub fn claim_due(
    conn: &mut DbConnection,
    owner: &str,
    at: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> DbResult<Vec<(Delivery, StoredActivity)>> {
    let ids: Vec<ClaimedId> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(CLAIM_SQL_SQLITE)
            .bind::<sql_types::Timestamp, _>(at)
            .bind::<sql_types::BigInt, _>(limit)
            .load(c)?,
        DbConnection::Postgres(c) => {
            // The planner's estimate of due rows comes from statistics taken before the fan-out
            // queued them (none at all on a fresh table, or a queue seen empty): it then reads
            // every due row by a bitmap scan and sorts them all for the first `limit` (O(depth),
            // 44 ms at 10,000 pending). Walking `deliveries_due` in order is right at any depth,
            // so the claim asks for that walk whatever the statistics say (for this statement
            // only: the settings are put back before anything else runs).
            c.batch_execute(CLAIM_PLAN_POSTGRES)?;
            // On an error the transaction rolls back, and the settings with it.
            let ids = diesel::sql_query(CLAIM_SQL_POSTGRES)
                .bind::<sql_types::Timestamp, _>(at)
                .bind::<sql_types::BigInt, _>(limit)
                .load(c)?;
            c.batch_execute(CLAIM_PLAN_RESET_POSTGRES)?;
            ids
        }
    };
    let ids: Vec<i64> = ids.into_iter().map(|c| c.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(deliveries::table.filter(deliveries::id.eq_any(&ids)))
        .set((deliveries::locked_until.eq(Some(at + lease)), deliveries::locked_by.eq(Some(owner))))
        .execute(conn)?;
    Ok(deliveries::table
        .inner_join(activities::table)
        .filter(deliveries::id.eq_any(&ids))
        .order(deliveries::id)
        .select((Delivery::as_select(), StoredActivity::as_select()))
        .load(conn)?)
}

/// What [`register_process`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reclaimed {
    /// Earlier lives of this process (same name) that never unregistered: they crashed.
    pub previous_lives: usize,
    /// Deliveries they held, released now.
    pub released: usize,
    /// Rows of other processes silent for longer than a lease, removed (their leases are left
    /// to expire by themselves).
    pub stale: usize,
}

/// Registers a new process `id` under `name` at `now`. Earlier lives under the same `name`
/// are dead (a name holds a host name and a bound listen address, which a live process keeps
/// to itself): their leases are released, so what they were sending is due again at once.
/// Leases of other processes are never touched, however old their heartbeat; their rows are
/// forgotten once silent since before `stale_before`. Call inside a write transaction.
pub fn register_process(
    conn: &mut DbConnection,
    id: &str,
    name: &str,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> DbResult<Reclaimed> {
    let previous: Vec<String> = delivery_processes::table
        .filter(delivery_processes::name.eq(name))
        .select(delivery_processes::id)
        .load(conn)?;
    let released = release_leases(conn, &previous)?;
    diesel::delete(delivery_processes::table.filter(delivery_processes::id.eq_any(&previous))).execute(conn)?;
    let stale =
        diesel::delete(delivery_processes::table.filter(delivery_processes::seen_at.lt(stale_before))).execute(conn)?;
    diesel::insert_into(delivery_processes::table)
        .values(QueueProcess { id: id.to_string(), name: name.to_string(), started_at: now, seen_at: now })
        .execute(conn)?;
    Ok(Reclaimed { previous_lives: previous.len(), released, stale })
}

fn release_leases(conn: &mut DbConnection, owners: &[String]) -> DbResult<usize> {
    if owners.is_empty() {
        return Ok(0);
    }
    Ok(diesel::update(
        deliveries::table.filter(deliveries::locked_by.eq_any(owners)).filter(deliveries::status.eq(PENDING)),
    )
    .set((deliveries::locked_until.eq(None::<NaiveDateTime>), deliveries::locked_by.eq(None::<String>)))
    .execute(conn)?)
}

/// The heartbeat of process `id` at `now`: its row is seen, and the leases it still holds on
/// `in_flight` (the deliveries it is sending) run until `now + lease`. A row removed meanwhile
/// (silent too long) is written again under `name`. Returns how many leases were renewed. Call
/// inside a write transaction.
pub fn renew_leases(
    conn: &mut DbConnection,
    id: &str,
    name: &str,
    in_flight: &[i64],
    now: NaiveDateTime,
    lease: Duration,
) -> DbResult<usize> {
    let seen =
        diesel::update(delivery_processes::table.find(id)).set(delivery_processes::seen_at.eq(now)).execute(conn)?;
    if seen == 0 {
        diesel::insert_into(delivery_processes::table)
            .values(QueueProcess { id: id.to_string(), name: name.to_string(), started_at: now, seen_at: now })
            .execute(conn)?;
    }
    let mut renewed = 0;
    for chunk in in_flight.chunks(500) {
        renewed += diesel::update(
            deliveries::table
                .filter(deliveries::id.eq_any(chunk))
                .filter(deliveries::locked_by.eq(id))
                .filter(deliveries::status.eq(PENDING)),
        )
        .set(deliveries::locked_until.eq(Some(now + lease)))
        .execute(conn)?;
    }
    Ok(renewed)
}

/// A process stopping cleanly: its leases are released and its row removed. Returns how many
/// leases were released. Call inside a write transaction.
pub fn unregister_process(conn: &mut DbConnection, id: &str) -> DbResult<usize> {
    let released = release_leases(conn, &[id.to_string()])?;
    diesel::delete(delivery_processes::table.find(id)).execute(conn)?;
    Ok(released)
}

pub fn list_processes(conn: &mut DbConnection) -> DbResult<Vec<QueueProcess>> {
    Ok(delivery_processes::table
        .select(QueueProcess::as_select())
        .order((delivery_processes::name, delivery_processes::started_at))
        .load(conn)?)
}

pub fn mark_delivered(conn: &mut DbConnection, delivery: &Delivery, status: u16, at: NaiveDateTime) -> DbResult<()> {
    diesel::update(deliveries::table.find(delivery.id))
        .set((
            deliveries::status.eq(DELIVERED),
            deliveries::attempts.eq(delivery.attempts + 1),
            deliveries::last_status.eq(Some(status as i32)),
            deliveries::last_error.eq(None::<String>),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::locked_by.eq(None::<String>),
            deliveries::finished_at.eq(Some(at)),
        ))
        .execute(conn)?;
    record_success(conn, &delivery.inbox, at)
}

/// Records, in a few statements, deliveries that all succeeded at `at`: `(delivery, HTTP status)`.
/// The same rows as [`mark_delivered`] one by one. Call inside a write transaction.
pub fn mark_delivered_many(conn: &mut DbConnection, delivered: &[(&Delivery, u16)], at: NaiveDateTime) -> DbResult<()> {
    let mut by_status: std::collections::BTreeMap<u16, Vec<i64>> = Default::default();
    for (delivery, status) in delivered {
        by_status.entry(*status).or_default().push(delivery.id);
    }
    for (status, ids) in by_status {
        for chunk in ids.chunks(500) {
            diesel::update(deliveries::table.filter(deliveries::id.eq_any(chunk)))
                .set((
                    deliveries::status.eq(DELIVERED),
                    deliveries::attempts.eq(deliveries::attempts + 1),
                    deliveries::last_status.eq(Some(status as i32)),
                    deliveries::last_error.eq(None::<String>),
                    deliveries::locked_until.eq(None::<NaiveDateTime>),
                    deliveries::locked_by.eq(None::<String>),
                    deliveries::finished_at.eq(Some(at)),
                ))
                .execute(conn)?;
        }
    }
    let mut inboxes: Vec<&str> = delivered.iter().map(|(d, _)| d.inbox.as_str()).collect();
    inboxes.sort_unstable();
    inboxes.dedup();
    for chunk in inboxes.chunks(500) {
        let known: std::collections::HashSet<String> = inbox_health::table
            .filter(inbox_health::inbox.eq_any(chunk))
            .select(inbox_health::inbox)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        if !known.is_empty() {
            diesel::update(inbox_health::table.filter(inbox_health::inbox.eq_any(&known)))
                .set((
                    inbox_health::consecutive_failures.eq(0),
                    inbox_health::last_success_at.eq(Some(at)),
                    inbox_health::failing_since.eq(None::<NaiveDateTime>),
                    inbox_health::paused_at.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
        }
        let new: Vec<_> = chunk
            .iter()
            .filter(|inbox| !known.contains(**inbox))
            .map(|inbox| {
                (
                    inbox_health::inbox.eq(*inbox),
                    inbox_health::consecutive_failures.eq(0),
                    inbox_health::last_success_at.eq(Some(at)),
                )
            })
            .collect();
        if !new.is_empty() {
            match conn {
                DbConnection::Sqlite(c) => {
                    for row in &new {
                        diesel::insert_into(inbox_health::table).values(*row).execute(c)?;
                    }
                }
                DbConnection::Postgres(c) => {
                    diesel::insert_into(inbox_health::table).values(&new).execute(c)?;
                }
            }
        }
    }
    Ok(())
}

/// Gives up the claimed deliveries `ids` without sending them (the collective role turned off
/// under the Group's queued activities): failed with `reason`, their lease released, their
/// attempts and their inboxes' health untouched, as the receiver was never asked.
pub fn give_up_unsent(conn: &mut DbConnection, ids: &[i64], reason: &str, at: NaiveDateTime) -> DbResult<usize> {
    let mut given_up = 0;
    for chunk in ids.chunks(ENQUEUE_CHUNK) {
        given_up += diesel::update(
            deliveries::table.filter(deliveries::id.eq_any(chunk)).filter(deliveries::status.eq(PENDING)),
        )
        .set((
            deliveries::status.eq(FAILED),
            deliveries::last_error.eq(Some(reason)),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::locked_by.eq(None::<String>),
            deliveries::finished_at.eq(Some(at)),
        ))
        .execute(conn)?;
    }
    Ok(given_up)
}

/// Records a failed attempt made at `at`: retried at `retry_at`, or given up when `retry_at` is
/// None.
pub fn mark_failed(
    conn: &mut DbConnection,
    delivery: &Delivery,
    status: Option<u16>,
    error: &str,
    retry_at: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> DbResult<()> {
    let (state, next, finished) = match retry_at {
        Some(next) => (PENDING, next, None),
        None => (FAILED, delivery.next_attempt_at, Some(at)),
    };
    // Only a job still pending: one given up meanwhile (its member removed from a collective's
    // roster, its domain blocked) must not come back to life as a retry.
    diesel::update(deliveries::table.find(delivery.id).filter(deliveries::status.eq(PENDING)))
        .set((
            deliveries::status.eq(state),
            deliveries::attempts.eq(delivery.attempts + 1),
            deliveries::next_attempt_at.eq(next),
            deliveries::last_status.eq(status.map(|s| s as i32)),
            deliveries::last_error.eq(Some(error)),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::locked_by.eq(None::<String>),
            deliveries::finished_at.eq(finished),
        ))
        .execute(conn)?;
    record_failure(conn, &delivery.inbox, at, error)
}

fn find_health(conn: &mut DbConnection, inbox: &str) -> DbResult<Option<InboxHealth>> {
    Ok(inbox_health::table.find(inbox).select(InboxHealth::as_select()).first(conn).optional()?)
}

fn record_success(conn: &mut DbConnection, inbox: &str, at: NaiveDateTime) -> DbResult<()> {
    if find_health(conn, inbox)?.is_some() {
        diesel::update(inbox_health::table.find(inbox))
            .set((
                inbox_health::consecutive_failures.eq(0),
                inbox_health::last_success_at.eq(Some(at)),
                inbox_health::failing_since.eq(None::<NaiveDateTime>),
                inbox_health::paused_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(inbox_health::table)
            .values((
                inbox_health::inbox.eq(inbox),
                inbox_health::consecutive_failures.eq(0),
                inbox_health::last_success_at.eq(Some(at)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// How long an inbox may fail without a single success before it is paused.
pub fn pause_after() -> Duration {
    Duration::days(3)
}

fn record_failure(conn: &mut DbConnection, inbox: &str, at: NaiveDateTime, error: &str) -> DbResult<()> {
    match find_health(conn, inbox)? {
        Some(health) => {
            let failing_since = health.failing_since.unwrap_or(at);
            // Failing for days: pause it; its deliveries wait until its server speaks again.
            let paused_at = health.paused_at.or((at - failing_since >= pause_after()).then_some(at));
            if health.paused_at.is_none() && paused_at.is_some() {
                tracing::warn!(inbox, since = %failing_since, "inbox failing for days: deliveries paused until it sends something signed");
            }
            diesel::update(inbox_health::table.find(inbox))
                .set((
                    inbox_health::consecutive_failures.eq(health.consecutive_failures + 1),
                    inbox_health::last_failure_at.eq(Some(at)),
                    inbox_health::last_error.eq(Some(error)),
                    inbox_health::failing_since.eq(Some(failing_since)),
                    inbox_health::paused_at.eq(paused_at),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(inbox_health::table)
                .values((
                    inbox_health::inbox.eq(inbox),
                    inbox_health::consecutive_failures.eq(1),
                    inbox_health::last_failure_at.eq(Some(at)),
                    inbox_health::last_error.eq(Some(error)),
                    inbox_health::failing_since.eq(Some(at)),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

pub fn health(conn: &mut DbConnection) -> DbResult<Vec<InboxHealth>> {
    Ok(inbox_health::table.select(InboxHealth::as_select()).order(inbox_health::inbox).load(conn)?)
}

/// Makes every pending delivery due at `now` (the admin's "retry now"; also used by tests).
/// Also lifts every pause: the admin asks to try again now.
pub fn retry_now(conn: &mut DbConnection, now: NaiveDateTime) -> DbResult<usize> {
    diesel::update(inbox_health::table.filter(inbox_health::paused_at.is_not_null()))
        .set((inbox_health::paused_at.eq(None::<NaiveDateTime>), inbox_health::failing_since.eq(None::<NaiveDateTime>)))
        .execute(conn)?;
    let due = diesel::update(deliveries::table.filter(deliveries::status.eq(PENDING)))
        .set(deliveries::next_attempt_at.eq(now))
        .execute(conn)?;
    notify_queue(conn)?;
    Ok(due)
}

/// Pauses an inbox at `now` (its attempts ran out).
pub fn pause_inbox(conn: &mut DbConnection, inbox: &str, now: NaiveDateTime) -> DbResult<()> {
    if find_health(conn, inbox)?.is_some_and(|h| h.paused_at.is_none()) {
        tracing::warn!(inbox, "deliveries out of attempts: inbox paused until its server sends something signed");
        diesel::update(inbox_health::table.find(inbox)).set(inbox_health::paused_at.eq(Some(now))).execute(conn)?;
    }
    Ok(())
}

pub fn count_by_status(conn: &mut DbConnection, status: DeliveryState) -> DbResult<i64> {
    Ok(deliveries::table.filter(deliveries::status.eq(status)).count().get_result(conn)?)
}

pub fn list_deliveries(conn: &mut DbConnection) -> DbResult<Vec<Delivery>> {
    Ok(deliveries::table.select(Delivery::as_select()).order(deliveries::id).load(conn)?)
}

/// Gives up, at `now`, the pending deliveries whose inbox `matches` selects (used by domain
/// blocks).
pub fn give_up_pending_where(
    conn: &mut DbConnection,
    matches: impl Fn(&str) -> bool,
    reason: &str,
    now: NaiveDateTime,
) -> DbResult<usize> {
    let ids: Vec<i64> = deliveries::table
        .filter(deliveries::status.eq(PENDING))
        .select((deliveries::id, deliveries::inbox))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .filter(|(_, inbox)| matches(inbox))
        .map(|(id, _)| id)
        .collect();
    for chunk in ids.chunks(500) {
        diesel::update(deliveries::table.filter(deliveries::id.eq_any(chunk)))
            .set((
                deliveries::status.eq(FAILED),
                deliveries::last_error.eq(Some(reason)),
                deliveries::finished_at.eq(Some(now)),
            ))
            .execute(conn)?;
    }
    Ok(ids.len())
}

/// A server we paused sent us something signed: resume its inboxes and make their waiting
/// deliveries due at `now`. Returns how many inboxes were resumed.
pub fn resume_domain(conn: &mut DbConnection, covers: impl Fn(&str) -> bool, now: NaiveDateTime) -> DbResult<usize> {
    let paused: Vec<String> = inbox_health::table
        .filter(inbox_health::paused_at.is_not_null())
        .select(inbox_health::inbox)
        .load::<String>(conn)?
        .into_iter()
        .filter(|inbox| covers(inbox))
        .collect();
    for inbox in &paused {
        diesel::update(inbox_health::table.find(inbox))
            .set((
                inbox_health::paused_at.eq(None::<NaiveDateTime>),
                inbox_health::failing_since.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        diesel::update(deliveries::table.filter(deliveries::inbox.eq(inbox)).filter(deliveries::status.eq(PENDING)))
            .set(deliveries::next_attempt_at.eq(now))
            .execute(conn)?;
    }
    if !paused.is_empty() {
        notify_queue(conn)?;
    }
    Ok(paused.len())
}

/// How many activities of `kind` were published about `object_id` (e.g. a bulletin's Updates).
pub fn count_for_object(conn: &mut DbConnection, object_id: &str, kind: &str) -> DbResult<i64> {
    Ok(activities::table
        .filter(activities::object_id.eq(object_id))
        .filter(activities::kind.eq(kind))
        .count()
        .get_result(conn)?)
}

/// Like [`deliveries_of_latest`] for several objects at once, in two queries whatever their
/// number: their activities (the latest of each kept), then those activities' deliveries. Each
/// object that has an activity is in the answer, with no delivery when it went to nobody.
pub fn deliveries_of_latest_each(
    conn: &mut DbConnection,
    object_ids: &[String],
) -> DbResult<Vec<(String, Vec<Delivery>)>> {
    if object_ids.is_empty() {
        return Ok(vec![]);
    }
    let rows: Vec<(String, String, NaiveDateTime)> = activities::table
        .filter(activities::object_id.eq_any(object_ids))
        .select((activities::object_id, activities::id, activities::created_at))
        .load(conn)?;
    let mut latest: std::collections::BTreeMap<String, (NaiveDateTime, String)> = std::collections::BTreeMap::new();
    for (object, id, at) in rows {
        let newer = latest.get(&object).is_none_or(|(seen_at, seen_id)| (at, &id) > (*seen_at, seen_id));
        if newer {
            latest.insert(object, (at, id));
        }
    }
    let activity_ids: Vec<String> = latest.values().map(|(_, id)| id.clone()).collect();
    let deliveries: Vec<Delivery> = deliveries::table
        .filter(deliveries::activity_id.eq_any(activity_ids))
        .order(deliveries::inbox)
        .select(Delivery::as_select())
        .load(conn)?;
    Ok(latest
        .into_iter()
        .map(|(object, (_, activity))| {
            let own = deliveries.iter().filter(|d| d.activity_id == activity).cloned().collect();
            (object, own)
        })
        .collect())
}

/// The deliveries of the latest activity about `object_id` (a bulletin's Create, Update or
/// Delete): what a bulletin's admin page reports.
pub fn deliveries_of_latest(conn: &mut DbConnection, object_id: &str) -> DbResult<Vec<Delivery>> {
    let latest: Option<String> = activities::table
        .filter(activities::object_id.eq(object_id))
        .order((activities::created_at.desc(), activities::id.desc()))
        .select(activities::id)
        .first(conn)
        .optional()?;
    let Some(latest) = latest else { return Ok(vec![]) };
    Ok(deliveries::table
        .filter(deliveries::activity_id.eq(latest))
        .order(deliveries::inbox)
        .select(Delivery::as_select())
        .load(conn)?)
}
