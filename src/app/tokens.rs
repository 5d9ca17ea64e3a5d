//! Bearer tokens for the JSON admin API: created with a secret shown once (only its hash is
//! stored), listed, revoked.

use super::{AppError, AppResult};
use crate::refusal::Kind;
use crate::{db::models::tokens as rows, state::AppState};

// The stored token (never its secret) is what the use-cases hand out.
pub use crate::db::models::tokens::ApiToken;

/// Creates a token named `name` (what it is for); returns it with its secret, which is never
/// shown again.
pub async fn create(state: &AppState, name: &str) -> AppResult<(ApiToken, String)> {
    let name = rows::validate_name(name)?;
    let now = state.clock.now();
    Ok(state.db.write(move |c| rows::create(c, &name, now)).await?)
}

/// Every token, newest first.
pub async fn list(state: &AppState) -> AppResult<Vec<ApiToken>> {
    Ok(state.db.read(rows::list).await?)
}

/// Revokes a token: requests bearing it are refused from now on. False when it already was.
pub async fn revoke(state: &AppState, id: i64) -> AppResult<bool> {
    let now = state.clock.now();
    state
        .db
        .write(move |c| match rows::find(c, id)? {
            Some(_) => Ok(rows::revoke(c, id, now)?),
            None => Err(AppError::no_such(Kind::NoToken, id)),
        })
        .await
}

/// The live token a bearer secret names, marked as used now.
pub async fn authenticate(state: &AppState, secret: &str) -> AppResult<Option<ApiToken>> {
    let now = state.clock.now();
    let secret = secret.to_string();
    Ok(state.db.write(move |c| rows::authenticate(c, &secret, now)).await?)
}
