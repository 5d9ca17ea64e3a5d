//! The use-cases: each takes typed input and returns typed output or one domain error. The CLI,
//! the web admin and the JSON admin API call these and only parse and render.

pub mod admins;
pub mod blocks;
pub mod bulletins;
pub mod catalogue;
pub mod directory;
pub mod followers;
pub mod label;
pub mod peers;
pub mod profile;
pub mod timeline;

use crate::{
    bulletin::BulletinError,
    db::{
        models::bulletins::{find as find_bulletin, Bulletin},
        DbConnection, DbResult,
    },
    federation::FederationError,
    state::AppState,
};

/// Runs `f` in one write transaction, then wakes the delivery workers for what it queued.
pub(super) async fn write_and_wake<T, F>(state: &AppState, f: F) -> Result<T, FederationError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> DbResult<T> + Send + 'static,
{
    let value = state.db.write(f).await.map_err(unwrap_bulletin_error)?;
    state.delivery_wakeup.notify_waiters();
    Ok(value)
}

/// The bulletin `id`, which must exist and not be deleted.
pub(super) fn live_bulletin(c: &mut DbConnection, id: &str) -> DbResult<Bulletin> {
    let current = find_bulletin(c, id)?.ok_or_else(|| not_found(id))?;
    if current.is_deleted() {
        return Err(bulletin_error(BulletinError::Deleted(id.to_string())));
    }
    Ok(current)
}

// Domain errors raised inside a database closure travel as DbError and are unwrapped after.
pub(super) fn bulletin_error(e: BulletinError) -> crate::db::DbError {
    crate::db::DbError::Query(diesel::result::Error::QueryBuilderError(Box::new(e)))
}

pub(super) fn not_found(id: &str) -> crate::db::DbError {
    bulletin_error(BulletinError::NotFound(id.to_string()))
}

fn unwrap_bulletin_error(e: crate::db::DbError) -> FederationError {
    if let crate::db::DbError::Query(diesel::result::Error::QueryBuilderError(inner)) = &e {
        if let Some(b) = inner.downcast_ref::<BulletinError>() {
            return FederationError::Bulletin(b.clone());
        }
    }
    FederationError::Db(e)
}
