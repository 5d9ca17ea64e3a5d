//! Subscribers outside the fediverse: email subscribers (double opt-in), webhooks, and the durable
//! queue of what is sent to them (`notifications`, whose rows are also the webhooks' delivery log).

use crate::db::{
    schema::{email_subscribers, notifications, webhooks},
    DbConnection, DbResult,
};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

pub const EMAIL: &str = "email";
pub const WEBHOOK: &str = "webhook";
pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
/// The event of a confirmation email (the double opt-in link).
pub const CONFIRM: &str = "confirm";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = email_subscribers, treat_none_as_null = true)]
pub struct Subscriber {
    pub id: String,
    pub email: String,
    pub lang: String,
    pub scope: String,
    pub services: String,
    pub token: String,
    pub requested_from: Option<String>,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
}

impl Subscriber {
    pub fn service_slugs(&self) -> Vec<&str> {
        self.services.split_whitespace().collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub events: String,
    pub kinds: String,
    pub services: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: i64,
    pub channel: String,
    pub target: String,
    pub event: String,
    pub bulletin_id: Option<String>,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

// ---------------------------------------------------------------- subscribers

pub fn find_subscriber_by_email(c: &mut DbConnection, email: &str) -> DbResult<Option<Subscriber>> {
    Ok(email_subscribers::table
        .filter(email_subscribers::email.eq(email))
        .select(Subscriber::as_select())
        .first(c)
        .optional()?)
}

pub fn find_subscriber_by_token(c: &mut DbConnection, token: &str) -> DbResult<Option<Subscriber>> {
    Ok(email_subscribers::table
        .filter(email_subscribers::token.eq(token))
        .select(Subscriber::as_select())
        .first(c)
        .optional()?)
}

pub fn find_subscriber(c: &mut DbConnection, id: &str) -> DbResult<Option<Subscriber>> {
    Ok(email_subscribers::table.find(id).select(Subscriber::as_select()).first(c).optional()?)
}

pub fn insert_subscriber(c: &mut DbConnection, s: &Subscriber) -> DbResult<()> {
    diesel::insert_into(email_subscribers::table).values(s).execute(c)?;
    Ok(())
}

pub fn update_subscriber(c: &mut DbConnection, s: &Subscriber) -> DbResult<()> {
    diesel::update(email_subscribers::table.find(&s.id)).set(s).execute(c)?;
    Ok(())
}

/// Removes a subscriber and what was still waiting to be sent to it.
pub fn delete_subscriber(c: &mut DbConnection, id: &str) -> DbResult<bool> {
    diesel::delete(
        notifications::table
            .filter(notifications::channel.eq(EMAIL))
            .filter(notifications::target.eq(id))
            .filter(notifications::status.eq(PENDING)),
    )
    .execute(c)?;
    Ok(diesel::delete(email_subscribers::table.find(id)).execute(c)? > 0)
}

/// Unconfirmed requests from `requester` (a hashed client address) since `since`.
pub fn requests_from(c: &mut DbConnection, requester: &str, since: NaiveDateTime) -> DbResult<i64> {
    Ok(email_subscribers::table
        .filter(email_subscribers::requested_from.eq(requester))
        .filter(email_subscribers::created_at.gt(since))
        .count()
        .get_result(c)?)
}

/// Every subscriber, oldest first.
pub fn subscribers(c: &mut DbConnection) -> DbResult<Vec<Subscriber>> {
    Ok(email_subscribers::table
        .order((email_subscribers::created_at, email_subscribers::id))
        .select(Subscriber::as_select())
        .load(c)?)
}

/// Confirmed subscribers.
pub fn confirmed_subscribers(c: &mut DbConnection) -> DbResult<Vec<Subscriber>> {
    Ok(email_subscribers::table
        .filter(email_subscribers::confirmed_at.is_not_null())
        .order((email_subscribers::created_at, email_subscribers::id))
        .select(Subscriber::as_select())
        .load(c)?)
}

// ---------------------------------------------------------------- webhooks

pub fn insert_webhook(c: &mut DbConnection, w: &Webhook) -> DbResult<()> {
    diesel::insert_into(webhooks::table).values(w).execute(c)?;
    Ok(())
}

pub fn find_webhook(c: &mut DbConnection, id: &str) -> DbResult<Option<Webhook>> {
    Ok(webhooks::table.find(id).select(Webhook::as_select()).first(c).optional()?)
}

pub fn webhooks(c: &mut DbConnection) -> DbResult<Vec<Webhook>> {
    Ok(webhooks::table.order((webhooks::created_at, webhooks::id)).select(Webhook::as_select()).load(c)?)
}

/// Removes a webhook and what was still waiting to be sent to it (its log goes with it).
pub fn delete_webhook(c: &mut DbConnection, id: &str) -> DbResult<bool> {
    diesel::delete(
        notifications::table.filter(notifications::channel.eq(WEBHOOK)).filter(notifications::target.eq(id)),
    )
    .execute(c)?;
    Ok(diesel::delete(webhooks::table.find(id)).execute(c)? > 0)
}

// ---------------------------------------------------------------- the queue

/// Queues one notification, due now.
pub fn enqueue(
    c: &mut DbConnection,
    channel: &str,
    target: &str,
    event: &str,
    bulletin_id: Option<&str>,
    payload: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::channel.eq(channel),
            notifications::target.eq(target),
            notifications::event.eq(event),
            notifications::bulletin_id.eq(bulletin_id),
            notifications::payload.eq(payload),
            notifications::status.eq(PENDING),
            notifications::attempts.eq(0),
            notifications::next_attempt_at.eq(now),
            notifications::created_at.eq(now),
        ))
        .execute(c)?;
    Ok(())
}

/// Claims up to `limit` due notifications for `lease`: each is taken with a conditional update, so
/// two processes never both take one. A lease that passed (its process died) is taken over.
pub fn claim_due(c: &mut DbConnection, now: NaiveDateTime, lease: Duration, limit: i64) -> DbResult<Vec<Notification>> {
    let free = notifications::locked_until.is_null().or(notifications::locked_until.lt(now));
    let due: Vec<i64> = notifications::table
        .filter(notifications::status.eq(PENDING))
        .filter(notifications::next_attempt_at.le(now))
        .filter(free)
        .order(notifications::id)
        .limit(limit)
        .select(notifications::id)
        .load(c)?;
    let mut claimed = Vec::new();
    for id in due {
        let free = notifications::locked_until.is_null().or(notifications::locked_until.lt(now));
        let taken =
            diesel::update(notifications::table.find(id).filter(notifications::status.eq(PENDING)).filter(free))
                .set(notifications::locked_until.eq(now + lease))
                .execute(c)?;
        if taken == 1 {
            claimed.push(notifications::table.find(id).select(Notification::as_select()).first(c)?);
        }
    }
    Ok(claimed)
}

pub fn mark_sent(c: &mut DbConnection, id: i64, status: Option<i32>, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(notifications::table.find(id))
        .set((
            notifications::status.eq(SENT),
            notifications::attempts.eq(notifications::attempts + 1),
            notifications::locked_until.eq(None::<NaiveDateTime>),
            notifications::last_status.eq(status),
            notifications::last_error.eq(None::<String>),
            notifications::sent_at.eq(Some(now)),
        ))
        .execute(c)?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or given up when None.
pub fn mark_failed(
    c: &mut DbConnection,
    id: i64,
    status: Option<i32>,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> DbResult<()> {
    diesel::update(notifications::table.find(id))
        .set((
            notifications::status.eq(if retry_at.is_some() { PENDING } else { FAILED }),
            notifications::attempts.eq(notifications::attempts + 1),
            notifications::locked_until.eq(None::<NaiveDateTime>),
            notifications::last_status.eq(status),
            notifications::last_error.eq(Some(error)),
        ))
        .execute(c)?;
    if let Some(at) = retry_at {
        diesel::update(notifications::table.find(id)).set(notifications::next_attempt_at.eq(at)).execute(c)?;
    }
    Ok(())
}

/// The latest notifications sent (or tried) to `target`, newest first: a webhook's delivery log.
pub fn log_of(c: &mut DbConnection, target: &str, limit: i64) -> DbResult<Vec<Notification>> {
    Ok(notifications::table
        .filter(notifications::target.eq(target))
        .order(notifications::id.desc())
        .limit(limit)
        .select(Notification::as_select())
        .load(c)?)
}

/// Notifications of `channel` in `status`.
pub fn count(c: &mut DbConnection, channel: &str, status: &str) -> DbResult<i64> {
    Ok(notifications::table
        .filter(notifications::channel.eq(channel))
        .filter(notifications::status.eq(status))
        .count()
        .get_result(c)?)
}

/// Makes every pending notification due now (`ronron deliveries --retry-now` style).
pub fn retry_now(c: &mut DbConnection, now: NaiveDateTime) -> DbResult<usize> {
    Ok(diesel::update(notifications::table.filter(notifications::status.eq(PENDING)))
        .set(notifications::next_attempt_at.eq(now))
        .execute(c)?)
}
