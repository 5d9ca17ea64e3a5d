//! The delivery queue as the admin sees it: how many deliveries wait, went through or were given
//! up, the health of each receiving inbox, and "retry now".

use crate::{
    db::{
        models::activities::{self as queue, DeliveryState, InboxHealth},
        DbResult,
    },
    state::AppState,
};
use std::collections::BTreeMap;

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

/// Where a bulletin's latest activity (its Create, Update or Delete) went, server by server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulletinDelivery {
    /// Servers it is addressed to (one inbox each, or several for a server without a shared one).
    pub servers: usize,
    pub delivered: usize,
    pub waiting: usize,
    /// Given up, each with the server's name and why.
    pub failed: Vec<(String, String)>,
}

/// A server's deliveries: given up if one was, waiting if one waits, else delivered.
fn server_state(states: &[(DeliveryState, Option<String>)]) -> (DeliveryState, Option<String>) {
    if let Some((_, why)) = states.iter().find(|(s, _)| *s == DeliveryState::Failed) {
        return (DeliveryState::Failed, why.clone());
    }
    if states.iter().any(|(s, _)| *s == DeliveryState::Pending) {
        return (DeliveryState::Pending, None);
    }
    (DeliveryState::Delivered, None)
}

pub async fn of_bulletin(state: &AppState, id: &str) -> DbResult<BulletinDelivery> {
    let object = state.urls.bulletin(id).to_string();
    let rows = state.db.read(move |c| queue::deliveries_of_latest(c, &object)).await?;
    Ok(summary_of(rows))
}

/// [`of_bulletin`] for a page of bulletins, in two queries for the whole page: each bulletin id
/// with its summary (none for a bulletin never sent, a scheduled one).
pub async fn of_bulletins(state: &AppState, ids: &[String]) -> DbResult<BTreeMap<String, BulletinDelivery>> {
    let objects: Vec<String> = ids.iter().map(|id| state.urls.bulletin(id).to_string()).collect();
    let rows = state.db.read(move |c| queue::deliveries_of_latest_each(c, &objects)).await?;
    let by_object: BTreeMap<String, BulletinDelivery> =
        rows.into_iter().map(|(object, deliveries)| (object, summary_of(deliveries))).collect();
    Ok(ids
        .iter()
        .filter_map(|id| {
            let summary = by_object.get(state.urls.bulletin(id).as_str())?;
            Some((id.clone(), summary.clone()))
        })
        .collect())
}

fn summary_of(rows: Vec<queue::Delivery>) -> BulletinDelivery {
    let mut by_server: BTreeMap<String, Vec<(DeliveryState, Option<String>)>> = BTreeMap::new();
    for d in rows {
        let server = url::Url::parse(&d.inbox)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| d.inbox.clone());
        let why = d.last_error.clone().or_else(|| d.last_status.map(|s| format!("HTTP {s}")));
        by_server.entry(server).or_default().push((d.status, why));
    }
    let mut summary = BulletinDelivery { servers: by_server.len(), ..Default::default() };
    for (server, states) in by_server {
        match server_state(&states) {
            (DeliveryState::Failed, why) => summary.failed.push((server, why.unwrap_or_default())),
            (DeliveryState::Pending, _) => summary.waiting += 1,
            _ => summary.delivered += 1,
        }
    }
    summary
}
