//! The host's service catalogue.

use crate::db::{schema::services, DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, PartialEq)]
#[diesel(table_name = services, treat_none_as_null = true)]
pub struct Service {
    pub slug: String,
    pub name: String,
    pub software: String,
    pub url: String,
    pub description: String,
    pub audience: String,
    /// `open`, `on_request` or `closed`.
    pub registration: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

pub fn find(conn: &mut DbConnection, slug: &str) -> DbResult<Option<Service>> {
    Ok(services::table.find(slug).select(Service::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, service: &Service) -> DbResult<()> {
    diesel::insert_into(services::table).values(service).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, service: &Service) -> DbResult<()> {
    diesel::update(services::table.find(&service.slug)).set(service).execute(conn)?;
    Ok(())
}

/// Services in the catalogue (removed ones left out), by name.
pub fn list(conn: &mut DbConnection) -> DbResult<Vec<Service>> {
    Ok(services::table
        .filter(services::removed_at.is_null())
        .order((services::name, services::slug))
        .select(Service::as_select())
        .load(conn)?)
}
