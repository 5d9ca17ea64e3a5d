//! The use-cases: each takes typed input and returns typed output or one domain error. The CLI,
//! the web admin and the JSON admin API call these and only parse and render.

pub mod admins;
pub mod archive;
pub mod backup;
pub mod blocks;
pub mod bulletins;
pub mod catalogue;
pub mod chatonsinfos;
pub mod check;
pub mod collective;
pub mod collective_pages;
pub mod dashboard;
pub mod deliveries;
pub mod directory;
pub mod error;
pub mod followers;
pub mod health;
pub mod keys;
pub mod label;
pub mod media;
pub mod notify;
pub mod peers;
pub mod profile;
pub mod status;
pub mod timeline;
pub mod tokens;

pub use error::{AppError, AppResult};

use crate::{
    bulletin::BulletinError,
    db::{
        models::bulletins::{find as find_bulletin, Bulletin},
        DbConnection,
    },
    state::AppState,
};

/// Runs `f` in one write transaction, then wakes the delivery workers for what it queued.
pub(crate) async fn write_and_wake<T, F>(state: &AppState, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
{
    let value = state.db.write(f).await?;
    state.wake_deliveries();
    Ok(value)
}

/// The bulletin `id`, which must exist and not be deleted.
pub(crate) fn live_bulletin(c: &mut DbConnection, id: &str) -> AppResult<Bulletin> {
    let current = find_bulletin(c, id)?.ok_or_else(|| AppError::from(BulletinError::NotFound(id.to_string())))?;
    if current.is_deleted() {
        return Err(BulletinError::Deleted(id.to_string()).into());
    }
    Ok(current)
}
