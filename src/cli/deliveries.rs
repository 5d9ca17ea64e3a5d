//! `ronron deliveries`: the delivery queue and the health of each receiving inbox.

use super::open_state;
use crate::{app::deliveries, config::Config, federation, i18n::Texts, jobs, state::AppState};

pub(super) async fn deliveries(config: Config, retry_now: bool, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    if retry_now {
        let n = deliveries::retry_now(&state).await?;
        println!("{}", t.count("cli.deliveries_due_now", n as usize));
    }
    let queue = deliveries::status(&state).await?;
    let values: &[(&str, &str)] = &[
        ("pending", &queue.pending.to_string()),
        ("sent", &queue.delivered.to_string()),
        ("given_up", &queue.failed.to_string()),
    ];
    println!("{}", t.fill("cli.queue", values));
    for h in queue.inboxes {
        let values: &[(&str, &str)] = &[
            ("inbox", h.inbox.as_str()),
            ("failures", &h.consecutive_failures.to_string()),
            ("success", &h.last_success_at.map(|at| at.to_string()).unwrap_or_else(|| t.get("cli.never").to_string())),
            ("error", h.last_error.as_deref().unwrap_or("-")),
        ];
        let mut line = t.fill("cli.inbox_line", values);
        if let Some(paused) = h.paused_at {
            line += &t.fill("cli.inbox_paused", &[("since", &paused.to_string())]);
        }
        println!("{line}");
    }
    Ok(())
}

/// Sends every due delivery once from this process (used by tests and by `ronron deliveries`).
pub async fn drain_deliveries(state: &AppState) -> anyhow::Result<usize> {
    let client = federation::http_client(state);
    Ok(jobs::delivery::drain(state, &client).await?)
}
