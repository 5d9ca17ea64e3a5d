//! The delivery queue as the admin sees it: how many deliveries wait, went through or were given
//! up, the health of each receiving inbox, and "retry now".

use crate::{
    db::{
        models::activities::{self as queue, DeliveryState, InboxHealth},
        DbResult,
    },
    state::AppState,
};

/// The queue's counts and every receiving inbox's health.
#[derive(Debug, Clone)]
pub struct QueueStatus {
    pub pending: i64,
    pub delivered: i64,
    /// Given up: refused for good, or the server was blocked.
    pub failed: i64,
    pub inboxes: Vec<InboxHealth>,
}

pub async fn status(state: &AppState) -> DbResult<QueueStatus> {
    state
        .db
        .read(|c| {
            Ok(QueueStatus {
                pending: queue::count_by_status(c, DeliveryState::Pending)?,
                delivered: queue::count_by_status(c, DeliveryState::Delivered)?,
                failed: queue::count_by_status(c, DeliveryState::Failed)?,
                inboxes: queue::health(c)?,
            })
        })
        .await
}

/// Makes every waiting delivery due now and lifts every pause; wakes this process's workers (a
/// running server started elsewhere finds them by polling). Returns how many are due now.
pub async fn retry_now(state: &AppState) -> DbResult<usize> {
    let now = state.clock.now();
    let due = state.db.write(move |c| queue::retry_now(c, now)).await?;
    state.wake_deliveries();
    Ok(due)
}
