use crate::db::{
    schema::{bulletin_services, bulletin_translations, bulletins},
    DbConnection, DbResult,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = bulletins)]
pub struct Bulletin {
    pub id: String,
    pub kind: String,
    pub lang: String,
    pub title: String,
    pub body_markdown: String,
    pub content_html: String,
    pub in_reply_to: Option<String>,
    pub extra: Option<String>,
    pub created_at: NaiveDateTime,
    pub published_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub change_type: Option<String>,
    pub state: Option<String>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    /// None while a scheduled bulletin waits for its publication time.
    pub federated_at: Option<NaiveDateTime>,
}

impl Bulletin {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
    pub fn is_public(&self) -> bool {
        self.federated_at.is_some() && self.deleted_at.is_none()
    }
    /// The machine-readable part; a bulletin stored without one is plain news.
    pub fn meta(&self) -> crate::bulletin::vocab::BulletinMeta {
        self.extra
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_else(crate::bulletin::vocab::BulletinMeta::news)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = bulletin_translations)]
pub struct Translation {
    pub bulletin_id: String,
    pub lang: String,
    pub title: String,
    pub body_markdown: String,
    pub content_html: String,
}

pub fn translations(conn: &mut DbConnection, id: &str) -> DbResult<Vec<Translation>> {
    Ok(bulletin_translations::table
        .filter(bulletin_translations::bulletin_id.eq(id))
        .order(bulletin_translations::lang)
        .select(Translation::as_select())
        .load(conn)?)
}

/// The translations of several bulletins at once (a thread on a page: one query, not one each).
pub fn translations_of(conn: &mut DbConnection, ids: &[&str]) -> DbResult<Vec<Translation>> {
    Ok(bulletin_translations::table
        .filter(bulletin_translations::bulletin_id.eq_any(ids))
        .order((bulletin_translations::bulletin_id, bulletin_translations::lang))
        .select(Translation::as_select())
        .load(conn)?)
}

pub fn replace_translations(conn: &mut DbConnection, id: &str, rows: &[Translation]) -> DbResult<()> {
    diesel::delete(bulletin_translations::table.filter(bulletin_translations::bulletin_id.eq(id))).execute(conn)?;
    for row in rows {
        diesel::insert_into(bulletin_translations::table).values(row).execute(conn)?;
    }
    Ok(())
}

pub fn set_services(conn: &mut DbConnection, id: &str, slugs: &[String]) -> DbResult<()> {
    diesel::delete(bulletin_services::table.filter(bulletin_services::bulletin_id.eq(id))).execute(conn)?;
    for slug in slugs {
        diesel::insert_into(bulletin_services::table)
            .values((bulletin_services::bulletin_id.eq(id), bulletin_services::service_slug.eq(slug)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn service_slugs(conn: &mut DbConnection, id: &str) -> DbResult<Vec<String>> {
    Ok(bulletin_services::table
        .filter(bulletin_services::bulletin_id.eq(id))
        .order(bulletin_services::service_slug)
        .select(bulletin_services::service_slug)
        .load(conn)?)
}

/// Replaces everything about a bulletin that an edit or a state change can touch.
pub fn update(conn: &mut DbConnection, b: &Bulletin) -> DbResult<()> {
    diesel::update(bulletins::table.find(&b.id))
        .set((
            bulletins::lang.eq(&b.lang),
            bulletins::title.eq(&b.title),
            bulletins::body_markdown.eq(&b.body_markdown),
            bulletins::content_html.eq(&b.content_html),
            bulletins::extra.eq(&b.extra),
            bulletins::state.eq(&b.state),
            bulletins::starts_at.eq(b.starts_at),
            bulletins::ends_at.eq(b.ends_at),
            bulletins::published_at.eq(b.published_at),
            bulletins::updated_at.eq(b.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Scheduled bulletins whose time has come.
pub fn due_for_publication(conn: &mut DbConnection, now: NaiveDateTime) -> DbResult<Vec<Bulletin>> {
    Ok(bulletins::table
        .filter(bulletins::federated_at.is_null())
        .filter(bulletins::deleted_at.is_null())
        .filter(bulletins::published_at.le(now))
        .order((bulletins::published_at, bulletins::id))
        .select(Bulletin::as_select())
        .load(conn)?)
}

/// Marks a scheduled bulletin federated; false if another process already did.
pub fn claim_publication(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> DbResult<bool> {
    Ok(diesel::update(
        bulletins::table.find(id).filter(bulletins::federated_at.is_null()).filter(bulletins::deleted_at.is_null()),
    )
    .set(bulletins::federated_at.eq(Some(at)))
    .execute(conn)?
        == 1)
}

/// Moves a bulletin from `from` to `to` state; false if it was no longer in `from`.
pub fn claim_state(conn: &mut DbConnection, id: &str, from: &str, to: &str) -> DbResult<bool> {
    Ok(diesel::update(bulletins::table.find(id).filter(bulletins::state.eq(from)))
        .set(bulletins::state.eq(to))
        .execute(conn)?
        == 1)
}

/// Maintenance windows that must start or end by `now`.
pub fn maintenance_due(conn: &mut DbConnection, now: NaiveDateTime) -> DbResult<Vec<Bulletin>> {
    Ok(bulletins::table
        .filter(bulletins::change_type.eq("maintenance"))
        .filter(bulletins::deleted_at.is_null())
        .filter(bulletins::federated_at.is_not_null())
        .filter(
            bulletins::state
                .eq("scheduled")
                .and(bulletins::starts_at.le(now))
                .or(bulletins::state.eq("in_progress").and(bulletins::ends_at.le(now))),
        )
        .order(bulletins::starts_at)
        .select(Bulletin::as_select())
        .load(conn)?)
}

/// Incidents and maintenance windows still open (first bulletins of their threads).
pub fn open_changes(conn: &mut DbConnection) -> DbResult<Vec<Bulletin>> {
    Ok(bulletins::table
        .filter(bulletins::in_reply_to.is_null())
        .filter(bulletins::deleted_at.is_null())
        .filter(bulletins::federated_at.is_not_null())
        .filter(bulletins::state.eq_any(["investigating", "identified", "monitoring", "scheduled", "in_progress"]))
        .order((bulletins::published_at.desc(), bulletins::id.desc()))
        .select(Bulletin::as_select())
        .load(conn)?)
}

/// Public first bulletins of service changes published since `since`, or still open, or whose
/// window ends after `since` (the status page's history and calendar), newest first.
pub fn changes_since(conn: &mut DbConnection, since: NaiveDateTime, limit: i64) -> DbResult<Vec<Bulletin>> {
    Ok(bulletins::table
        .filter(bulletins::in_reply_to.is_null())
        .filter(bulletins::deleted_at.is_null())
        .filter(bulletins::federated_at.is_not_null())
        .filter(bulletins::change_type.is_not_null())
        .filter(bulletins::published_at.ge(since).or(bulletins::ends_at.ge(since)).or(bulletins::state.eq_any([
            "investigating",
            "identified",
            "monitoring",
            "scheduled",
            "in_progress",
        ])))
        .order((bulletins::published_at.desc(), bulletins::id.desc()))
        .limit(limit)
        .select(Bulletin::as_select())
        .load(conn)?)
}

/// Public service changes about `slug`, oldest first (for deriving its status).
pub fn changes_for_service(conn: &mut DbConnection, slug: &str) -> DbResult<Vec<Bulletin>> {
    Ok(bulletins::table
        .inner_join(bulletin_services::table)
        .filter(bulletin_services::service_slug.eq(slug))
        .filter(bulletins::in_reply_to.is_null())
        .filter(bulletins::deleted_at.is_null())
        .filter(bulletins::federated_at.is_not_null())
        .order((bulletins::published_at, bulletins::id))
        .select(Bulletin::as_select())
        .load(conn)?)
}

/// Follow-ups of a bulletin, oldest first.
pub fn replies(conn: &mut DbConnection, in_reply_to: &str) -> DbResult<Vec<Bulletin>> {
    Ok(bulletins::table
        .filter(bulletins::in_reply_to.eq(in_reply_to))
        .filter(bulletins::deleted_at.is_null())
        .order((bulletins::published_at, bulletins::id))
        .select(Bulletin::as_select())
        .load(conn)?)
}

pub fn insert(conn: &mut DbConnection, bulletin: &Bulletin) -> DbResult<()> {
    diesel::insert_into(bulletins::table).values(bulletin).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> DbResult<Option<Bulletin>> {
    Ok(bulletins::table.find(id).select(Bulletin::as_select()).first(conn).optional()?)
}

pub fn mark_deleted(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> DbResult<()> {
    diesel::update(bulletins::table.find(id)).set(bulletins::deleted_at.eq(Some(at))).execute(conn)?;
    Ok(())
}

/// Published, not deleted, newest first; `before` is a (published_at, id) keyset cursor.
pub fn list_published(
    conn: &mut DbConnection,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> DbResult<Vec<Bulletin>> {
    let mut query = bulletins::table
        .filter(bulletins::deleted_at.is_null())
        .filter(bulletins::federated_at.is_not_null())
        .select(Bulletin::as_select())
        .order((bulletins::published_at.desc(), bulletins::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = before {
        // `<= t AND (< t OR id < i)`: the first half is an index range (see timeline::query).
        query = query
            .filter(bulletins::published_at.le(at))
            .filter(bulletins::published_at.lt(at).or(bulletins::id.lt(id)));
    }
    Ok(query.load(conn)?)
}

/// Every bulletin, deleted ones included, newest first (for `ronron post list`).
pub fn list_all(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<Bulletin>> {
    Ok(bulletins::table
        .select(Bulletin::as_select())
        .order((bulletins::published_at.desc(), bulletins::id.desc()))
        .limit(limit)
        .load(conn)?)
}

pub fn count_published(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(bulletins::table
        .filter(bulletins::deleted_at.is_null())
        .filter(bulletins::federated_at.is_not_null())
        .count()
        .get_result(conn)?)
}

/// Public maintenance windows (first bulletins of their threads) that end at or after
/// `ends_after`, whatever their state, soonest first (for the maintenance calendar).
pub fn maintenance_windows(conn: &mut DbConnection, ends_after: NaiveDateTime) -> DbResult<Vec<Bulletin>> {
    Ok(bulletins::table
        .filter(bulletins::change_type.eq("maintenance"))
        .filter(bulletins::in_reply_to.is_null())
        .filter(bulletins::deleted_at.is_null())
        .filter(bulletins::federated_at.is_not_null())
        .filter(bulletins::starts_at.is_not_null())
        .filter(bulletins::ends_at.ge(ends_after))
        .order((bulletins::starts_at, bulletins::id))
        .select(Bulletin::as_select())
        .load(conn)?)
}
