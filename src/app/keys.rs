//! Key rotation: a new key pair for the host account, its `Update` to every follower, and from then
//! on every delivery signed with it — also by a server running in another process, which rereads
//! the stored key once per delivery batch and serves it in the actor document.

use super::{profile, AppError, AppResult};
use crate::{
    db::models::{followers, keys as key_rows},
    federation::keys,
    state::{AppState, HOST_KEY},
};

#[derive(Debug, Clone)]
pub struct Rotated {
    /// The new public key (PEM), as the actor document now shows it.
    pub public_key_pem: String,
    /// Whether an `Update` of the actor was queued for the followers.
    pub update_queued: bool,
    /// How many inboxes it goes to (shared inboxes counted once).
    pub inboxes: usize,
}

/// Replaces the host account's key and queues the actor's `Update` to every follower. Peers that
/// refetch the actor on a failed signature check (Mastodon, GoToSocial, Ronron) keep accepting us;
/// the `Update` itself is signed with the new key, so it is also what makes them refetch.
pub async fn rotate(state: &AppState) -> AppResult<Rotated> {
    let generated = tokio::task::spawn_blocking(keys::generate)
        .await
        .map_err(|e| AppError::Internal(format!("key generation failed: {e}")))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let (private, public) = (generated.private_key_pem.clone(), generated.public_key_pem.clone());
    let row = state
        .db
        .write(move |c| {
            if !key_rows::replace(c, HOST_KEY, &private, &public)? {
                return Err(AppError::Internal("the host account has no key to rotate".into()));
            }
            key_rows::find(c, HOST_KEY)?.ok_or_else(|| AppError::Internal("the rotated key vanished".into()))
        })
        .await?;
    state.keys.adopt_host(row).map_err(|e| AppError::Internal(e.to_string()))?;
    // The actor document changed (its key): the same path as a profile edit sends its Update. Should
    // this process stop right here, the next `ronron serve` sends it at start-up.
    let update_queued = profile::federate_profile_if_changed(state).await?;
    let inboxes = state.db.read(followers::delivery_inboxes).await?.len();
    Ok(Rotated { public_key_pem: generated.public_key_pem, update_queued, inboxes })
}
