use crate::db::{schema::bulletins, DbConnection, DbResult};
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
}

impl Bulletin {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

pub fn insert(conn: &mut DbConnection, bulletin: &Bulletin) -> DbResult<()> {
    diesel::insert_into(bulletins::table).values(bulletin).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> DbResult<Option<Bulletin>> {
    Ok(bulletins::table.find(id).select(Bulletin::as_select()).first(conn).optional()?)
}

pub fn update_text(
    conn: &mut DbConnection,
    id: &str,
    title: &str,
    body_markdown: &str,
    content_html: &str,
    lang: &str,
    at: NaiveDateTime,
) -> DbResult<()> {
    diesel::update(bulletins::table.find(id))
        .set((
            bulletins::title.eq(title),
            bulletins::body_markdown.eq(body_markdown),
            bulletins::content_html.eq(content_html),
            bulletins::lang.eq(lang),
            bulletins::updated_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
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
        .select(Bulletin::as_select())
        .order((bulletins::published_at.desc(), bulletins::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = before {
        query =
            query.filter(bulletins::published_at.lt(at).or(bulletins::published_at.eq(at).and(bulletins::id.lt(id))));
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
    Ok(bulletins::table.filter(bulletins::deleted_at.is_null()).count().get_result(conn)?)
}
