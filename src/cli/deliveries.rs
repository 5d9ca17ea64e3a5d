//! `ronron deliveries`: the delivery queue and the health of each receiving inbox.

use super::open_state;
use crate::{app::deliveries, config::Config, federation, jobs, state::AppState};

pub(super) async fn deliveries(config: Config, retry_now: bool) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    if retry_now {
        let n = deliveries::retry_now(&state).await?;
        match n {
            0 => println!("no waiting delivery to retry"),
            1 => println!("1 waiting delivery is due now"),
            n => println!("{n} waiting deliveries are due now"),
        }
    }
    let queue = deliveries::status(&state).await?;
    println!("pending {}, delivered {}, given up {}", queue.pending, queue.delivered, queue.failed);
    for h in queue.inboxes {
        println!(
            "{}  consecutive failures: {}  last success: {}  last error: {}{}",
            h.inbox,
            h.consecutive_failures,
            h.last_success_at.map(|t| t.to_string()).unwrap_or_else(|| "never".into()),
            h.last_error.unwrap_or_else(|| "-".into()),
            h.paused_at.map(|p| format!("  PAUSED since {p} (--retry-now lifts it)")).unwrap_or_default()
        );
    }
    Ok(())
}

/// Sends every due delivery once from this process (used by tests and by `ronron deliveries`).
pub async fn drain_deliveries(state: &AppState) -> anyhow::Result<usize> {
    let client = federation::http_client(state);
    Ok(jobs::delivery::drain(state, &client).await?)
}
