//! The scheduler: publishes scheduled bulletins at their time and moves maintenance windows from
//! scheduled to in progress to completed, federating each step. Everything it needs is in the
//! database, so a restart loses nothing; several processes may run it at once (each step claims
//! its row before acting).

use crate::federation::Federation;
use std::time::Duration;
use tokio::sync::watch;

const TICK: Duration = Duration::from_secs(1);

pub async fn run(federation: Federation, mut shutdown: watch::Receiver<bool>) {
    let state = federation.to_request_data().app_data().clone();
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(e) = crate::app::bulletins::run_scheduled(&state).await {
            tracing::error!(error = %e, "scheduler step failed");
        }

        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
}
