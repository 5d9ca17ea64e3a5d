//! The host's grades against the charter criteria, and their history.

use crate::db::{
    schema::{label_grades, label_history},
    DbConnection, DbResult,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = label_grades, treat_none_as_null = true)]
pub struct GradeRow {
    pub criterion: String,
    pub grade: String,
    pub comment: Option<String>,
    pub evidence: Option<String>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = label_history)]
pub struct HistoryRow {
    pub id: i64,
    pub criterion: String,
    pub old_grade: Option<String>,
    pub new_grade: String,
    pub comment: Option<String>,
    pub evidence: Option<String>,
    pub bulletin_id: Option<String>,
    pub changed_at: NaiveDateTime,
}

pub fn grades(conn: &mut DbConnection) -> DbResult<Vec<GradeRow>> {
    Ok(label_grades::table.order(label_grades::criterion).select(GradeRow::as_select()).load(conn)?)
}

pub fn find(conn: &mut DbConnection, criterion: &str) -> DbResult<Option<GradeRow>> {
    Ok(label_grades::table.find(criterion).select(GradeRow::as_select()).first(conn).optional()?)
}

/// Stores a grade and records the change in the history, with the bulletin that announced it.
pub fn set(conn: &mut DbConnection, row: &GradeRow, bulletin_id: Option<&str>) -> DbResult<()> {
    let old = find(conn, &row.criterion)?;
    match &old {
        Some(_) => diesel::update(label_grades::table.find(&row.criterion)).set(row).execute(conn)?,
        None => diesel::insert_into(label_grades::table).values(row).execute(conn)?,
    };
    diesel::insert_into(label_history::table)
        .values((
            label_history::criterion.eq(&row.criterion),
            label_history::old_grade.eq(old.map(|o| o.grade)),
            label_history::new_grade.eq(&row.grade),
            label_history::comment.eq(&row.comment),
            label_history::evidence.eq(&row.evidence),
            label_history::bulletin_id.eq(bulletin_id),
            label_history::changed_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn history(conn: &mut DbConnection) -> DbResult<Vec<HistoryRow>> {
    Ok(label_history::table.order(label_history::id).select(HistoryRow::as_select()).load(conn)?)
}
