//! Delivery workers: claim due jobs from the database, sign, send, record the outcome.
//!
//! Like Mastodon: any 2xx is success; a 4xx other than 401, 408 and 429 means the receiver refuses
//! the activity for good; anything else (5xx, timeouts, refused connections) is retried with
//! growing delays, for about 2.1 days with the default 16 attempts; then an activity the server
//! keeps refusing is given up. Unlike Mastodon, a delivery is never dropped for a server that does
//! not answer at all: its inbox is paused (after its attempts, or after three days of failures)
//! and everything waiting for it resumes when it speaks again.
//!
//! A claimed job is leased for [`lease`] (30 s) to this process ([`Owner`]), and the lease is
//! renewed every [`HEARTBEAT`] while the job is being sent. A process that dies stops renewing:
//! its leases pass within 30 s and any process takes the jobs over; and when it starts again
//! under the same name (host name and listen address) it releases them at once
//! ([`register`]). Each outcome is recorded as soon as it comes, so few jobs are ever sent and
//! not yet recorded (those are sent again after a crash; receivers deduplicate by id).

use crate::{
    db::{
        models::activities::{self as queue, Delivery, StoredActivity},
        DbError,
    },
    federation::{check_outgoing_url, signatures},
    state::{ActorKeys, AppState},
};
use chrono::Duration;
use rand::Rng;
use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration as StdDuration,
};
use tokio::{sync::watch, task::JoinHandle};
use url::Url;

/// How long a claimed job is reserved for the process that claimed it, from the claim or the
/// last renewal. The holder renews it every [`HEARTBEAT`] while it sends, so a request may last
/// longer; if the process dies, any process takes the job over once the lease has passed.
pub fn lease() -> Duration {
    Duration::seconds(30)
}
/// How often a process renews the leases of the jobs it is sending, and says it is alive.
pub const HEARTBEAT: StdDuration = StdDuration::from_secs(10);
const BATCH: i64 = 16;
/// Other processes sharing the database (and `ronron post` from the CLI) are noticed by polling.
const POLL: StdDuration = StdDuration::from_secs(1);

#[derive(Debug, PartialEq)]
pub enum SendOutcome {
    Delivered(u16),
    Rejected(u16, String),
    Retry(Option<u16>, String),
}

/// Delay before attempt `n + 1` after `n` failures: n⁴ + 15 s + jitter, as Sidekiq (Mastodon) does.
pub fn retry_delay(failures: i32) -> Duration {
    let n = failures.max(1) as i64;
    let jitter = rand::thread_rng().gen_range(0..10) * (n + 1);
    Duration::seconds(n.pow(4) + 15 + jitter)
}

pub fn classify(status: u16) -> SendOutcome {
    match status {
        200..=299 => SendOutcome::Delivered(status),
        401 | 408 | 429 => SendOutcome::Retry(Some(status), format!("HTTP {status}")),
        400..=499 => SendOutcome::Rejected(status, format!("HTTP {status}")),
        _ => SendOutcome::Retry(Some(status), format!("HTTP {status}")),
    }
}

/// A process's identity in the delivery queue (a row of `delivery_processes`), and the jobs it
/// is sending right now, whose leases its heartbeat renews. Clones share the same identity.
#[derive(Clone, Debug)]
pub struct Owner {
    id: Arc<str>,
    name: Arc<str>,
    in_flight: Arc<Mutex<HashSet<i64>>>,
}

impl Owner {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn in_flight(&self) -> Vec<i64> {
        self.in_flight.lock().map(|set| set.iter().copied().collect()).unwrap_or_default()
    }

    fn sending(&self, id: i64) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.insert(id);
        }
    }

    fn done(&self, id: i64) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.remove(&id);
        }
    }
}

/// The name of a `ronron serve` process in the queue: stable across its restarts, and held by
/// one live process at a time (no two processes bind the same address on the same host).
pub fn process_name(listen: SocketAddr) -> String {
    format!("{}/{listen}", host_name())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Registers this process under `name` with a fresh id. Leases held by an earlier life under the
/// same name (it crashed: a clean stop unregisters) are released, so their jobs are due now.
pub async fn register(state: &AppState, name: String) -> Result<Owner, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now();
    let (row_id, row_name) = (id.clone(), name.clone());
    let reclaimed = state.db.write(move |c| queue::register_process(c, &row_id, &row_name, now, now - lease())).await?;
    if reclaimed.previous_lives > 0 {
        tracing::warn!(
            process = %name,
            released = reclaimed.released,
            "this process did not stop cleanly last time: the deliveries it was sending are due again now"
        );
    }
    Ok(Owner { id: id.into(), name: name.into(), in_flight: Arc::default() })
}

/// Renews, every [`HEARTBEAT`], the leases of the jobs `owner` is sending; runs until aborted.
pub fn spawn_heartbeat(state: AppState, owner: Owner) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            if let Err(e) = renew(&state, &owner).await {
                tracing::error!(error = %e, "cannot renew the delivery leases");
            }
        }
    })
}

/// One heartbeat: the process is seen, the leases of its jobs in flight run for another [`lease`].
pub async fn renew(state: &AppState, owner: &Owner) -> Result<usize, DbError> {
    let (owner, in_flight, now) = (owner.clone(), owner.in_flight(), state.clock.now());
    state.db.write(move |c| queue::renew_leases(c, owner.id(), owner.name(), &in_flight, now, lease())).await
}

/// A clean stop: the leases still held are released and the process's row removed.
pub async fn unregister(state: &AppState, owner: &Owner) -> Result<usize, DbError> {
    let owner = owner.clone();
    state.db.write(move |c| queue::unregister_process(c, owner.id())).await
}

/// Signs and POSTs one activity to one inbox; `host_key` is the host account's key as stored when
/// the batch was claimed (it may have been rotated by another process).
pub async fn send(
    state: &AppState,
    client: &reqwest::Client,
    host_key: &ActorKeys,
    delivery: &Delivery,
    activity: &StoredActivity,
) -> SendOutcome {
    let inbox = match Url::parse(&delivery.inbox) {
        Ok(url) => url,
        Err(e) => return SendOutcome::Rejected(0, format!("invalid inbox URL: {e}")),
    };
    if let Err(reason) = check_outgoing_url(&inbox, state.config.dev_mode()) {
        return SendOutcome::Rejected(0, reason);
    }
    match crate::federation::blocked(state, vec![inbox.to_string()]).await {
        Ok(Some(block)) => return SendOutcome::Rejected(0, format!("domain {} is blocked", block.domain)),
        Ok(None) => {}
        Err(e) => return SendOutcome::Retry(None, format!("cannot read the blocks: {e}")),
    }
    let actor = serde_json::from_str::<serde_json::Value>(&activity.json)
        .ok()
        .and_then(|v| v.get("actor").and_then(|a| a.as_str()).map(str::to_string))
        .unwrap_or_default();
    // The Group signs its own activities and the members' activities it forwards.
    let group =
        state.keys.group.as_ref().filter(|_| actor == state.urls.group_actor().as_str() || activity.kind == "Forward");
    let (key_id, key) = if actor == state.urls.instance_actor().as_str() {
        (state.urls.instance_key_id(), &state.keys.instance.signer)
    } else if let Some(group) = group {
        (state.urls.group_key_id(), &group.signer)
    } else {
        (state.urls.host_key_id(), &host_key.signer)
    };
    let body = activity.json.as_bytes().to_vec();
    let headers = match signatures::sign_post(&inbox, &body, &key_id, key, state.clock.system_time()) {
        Ok(headers) => headers,
        Err(e) => return SendOutcome::Retry(None, format!("signing failed: {e}")),
    };
    let mut request = client.post(inbox.clone()).body(body);
    for (name, value) in headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(response) => classify(response.status().as_u16()),
        Err(e) => SendOutcome::Retry(None, describe_error(&e)),
    }
}

fn metric_outcome(outcome: &SendOutcome) -> crate::metrics::DeliveryOutcome {
    use crate::metrics::DeliveryOutcome;
    match outcome {
        SendOutcome::Delivered(_) => DeliveryOutcome::Delivered,
        SendOutcome::Rejected(..) => DeliveryOutcome::Rejected,
        SendOutcome::Retry(..) => DeliveryOutcome::Retry,
    }
}

fn describe_error(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Claims one batch of due deliveries for `owner`, sends them (concurrently across inboxes) and
/// records each outcome as soon as it comes. Returns how many were attempted.
pub async fn run_batch(state: &AppState, client: &reqwest::Client, owner: &Owner) -> Result<usize, DbError> {
    let now = state.clock.now();
    let id = owner.id.clone();
    let claimed = state.db.write(move |c| queue::claim_due(c, &id, now, lease(), BATCH)).await?;
    let count = claimed.len();
    if count == 0 {
        return Ok(0);
    }
    // Read once per batch, so a key rotated by `ronron keys rotate` signs from the next batch on.
    let host_key = match state.keys.current_host(&state.db).await {
        Ok(key) => key,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the host account's key; using the one loaded before");
            state.keys.host()
        }
    };
    let host_key = &host_key;
    for (delivery, _) in &claimed {
        owner.sending(delivery.id);
    }
    let sends = claimed.into_iter().map(|(delivery, activity)| async move {
        let stopwatch = state.clock.stopwatch();
        let outcome = send(state, client, host_key, &delivery, &activity).await;
        state.metrics.delivery(metric_outcome(&outcome), stopwatch.seconds());
        let recorded = record(state, &delivery, &activity, outcome).await;
        // Recorded, or left to its lease, which passes without renewal.
        owner.done(delivery.id);
        recorded
    });
    for result in futures::future::join_all(sends).await {
        result?;
    }
    Ok(count)
}

async fn record(
    state: &AppState,
    delivery: &Delivery,
    activity: &StoredActivity,
    outcome: SendOutcome,
) -> Result<(), DbError> {
    let max_attempts = state.config.delivery.max_attempts;
    let delivery = delivery.clone();
    // When the attempt ended, not when the batch was claimed.
    let now = state.clock.now();
    match &outcome {
        SendOutcome::Delivered(_) => tracing::debug!(activity = %activity.id, inbox = %delivery.inbox, "delivered"),
        SendOutcome::Rejected(status, reason) => {
            tracing::warn!(activity = %activity.id, inbox = %delivery.inbox, status, %reason, "delivery refused, giving up")
        }
        SendOutcome::Retry(status, reason) => {
            tracing::info!(activity = %activity.id, inbox = %delivery.inbox, ?status, %reason, attempt = delivery.attempts + 1, "delivery failed")
        }
    }
    state
        .db
        .write(move |c| match outcome {
            SendOutcome::Delivered(status) => queue::mark_delivered(c, &delivery, status, now),
            SendOutcome::Rejected(status, reason) => {
                queue::mark_failed(c, &delivery, Some(status).filter(|s| *s > 0), &reason, None, now)
            }
            SendOutcome::Retry(status, reason) => {
                let failures = delivery.attempts + 1;
                if failures >= max_attempts && status.is_some() {
                    // The server is up but keeps refusing this one activity (5xx, 401, 429): give
                    // it up so the activities queued behind it for that inbox go on.
                    return queue::mark_failed(c, &delivery, status, &reason, None, now);
                }
                let retry_at = now + retry_delay(failures.min(max_attempts));
                queue::mark_failed(c, &delivery, status, &reason, Some(retry_at), now)?;
                // The server does not answer at all: nothing is given up; the inbox is paused and
                // its deliveries wait until its server sends us something signed.
                if failures >= max_attempts {
                    queue::pause_inbox(c, &delivery.inbox, now)?;
                }
                Ok(())
            }
        })
        .await
}

/// Sends everything that is due now, until nothing is left (used by `ronron` tests and tools),
/// as a process of its own in the queue for the time it takes.
pub async fn drain(state: &AppState, client: &reqwest::Client) -> Result<usize, DbError> {
    let name = format!("{}/drain/{}", host_name(), uuid::Uuid::new_v4().simple());
    let owner = register(state, name).await?;
    let heartbeat = spawn_heartbeat(state.clone(), owner.clone());
    let mut total = 0;
    let result = loop {
        match run_batch(state, client, &owner).await {
            Ok(0) => break Ok(total),
            Ok(n) => total += n,
            Err(e) => break Err(e),
        }
    };
    heartbeat.abort();
    unregister(state, &owner).await?;
    result
}

/// A worker loop: runs batches for `owner`, sleeps until woken or the poll interval, stops on
/// `shutdown`.
pub async fn worker(state: AppState, owner: Owner, mut shutdown: watch::Receiver<bool>) {
    let client = crate::federation::http_client(&state);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let worked = match run_batch(&state, &client, &owner).await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::error!(error = %e, "delivery queue unavailable");
                false
            }
        };
        if worked {
            continue;
        }
        tokio::select! {
            _ = state.delivery_wakeup.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_like_mastodon() {
        assert_eq!(classify(202), SendOutcome::Delivered(202));
        assert!(matches!(classify(410), SendOutcome::Rejected(410, _)));
        assert!(matches!(classify(401), SendOutcome::Retry(Some(401), _)));
        assert!(matches!(classify(429), SendOutcome::Retry(Some(429), _)));
        assert!(matches!(classify(503), SendOutcome::Retry(Some(503), _)));
    }

    #[test]
    fn retries_span_about_two_to_three_days() {
        let total: i64 = (1..16).map(|n| retry_delay(n).num_seconds()).sum();
        assert!((2 * 86_400..3 * 86_400 + 43_200).contains(&total), "{total}");
    }
}
