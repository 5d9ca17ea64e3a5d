//! The backfill: a peer's latest posts read from its outbox when we follow it.

use super::{fetch, inbox, protocol::id_of, FedData, FederationError};
use serde_json::Value;
use std::collections::BTreeMap;
use url::Url;

/// How many of a peer's latest posts are fetched when we follow it, so its timeline does not
/// start empty (Mastodon's "empty profile after following").
pub const BACKFILL_LIMIT: usize = 50;
const BACKFILL_PAGES: usize = 5;

/// What one backfill did: posts stored, posts fetched one by one, and items skipped by reason.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BackfillReport {
    pub stored: usize,
    pub fetched: usize,
    pub skipped: BTreeMap<&'static str, usize>,
    /// The time budget (`outgoing.backfill_budget_secs`) ran out before the outbox was read.
    pub timed_out: bool,
}

impl BackfillReport {
    fn skip(&mut self, reason: &'static str, actor: &str, item: &str, detail: &str) {
        tracing::info!(%actor, %item, reason, detail, "backfill: item skipped");
        *self.skipped.entry(reason).or_default() += 1;
    }
}

/// Fetches up to [`BACKFILL_LIMIT`] posts from the actor's outbox and stores those we lack.
/// Posts must be the actor's own, on its host; anything else is skipped. A `Create` whose object
/// is only a URL (GoToSocial's outbox) is fetched, signed, from the actor's own server only, at
/// most `outgoing.backfill_max_fetches` of them; the whole backfill stops after
/// `outgoing.backfill_budget_secs`.
pub async fn backfill(
    data: &FedData,
    actor: &crate::db::models::remote::RemoteActor,
) -> Result<BackfillReport, FederationError> {
    let mut report = BackfillReport::default();
    let budget = std::time::Duration::from_secs(data.app_data().config.outgoing.backfill_budget_secs);
    let outcome = tokio::time::timeout(budget, read_outbox(data, actor, &mut report)).await;
    match outcome {
        Ok(result) => result?,
        Err(_) => {
            tracing::info!(actor = %actor.id, budget_secs = budget.as_secs(), "backfill: time budget spent, stopped");
            report.timed_out = true;
        }
    }
    Ok(report)
}

async fn read_outbox(
    data: &FedData,
    actor: &crate::db::models::remote::RemoteActor,
    report: &mut BackfillReport,
) -> Result<(), FederationError> {
    let Some(outbox) = actor.outbox.as_deref().and_then(|u| Url::parse(u).ok()) else { return Ok(()) };
    let Ok(actor_url) = Url::parse(&actor.id) else { return Ok(()) };
    if !fetch::same_server(&outbox, &actor_url) {
        report.skip("outbox on another server", &actor.id, outbox.as_str(), "");
        return Ok(());
    }
    let max_fetches = data.app_data().config.outgoing.backfill_max_fetches;
    let page_at = |url: Url| async move { fetch::document(data, &url).await.map(|r| r.object) };
    let collection = page_at(outbox).await?;
    let mut page = match collection.get("first") {
        Some(Value::String(first)) => {
            page_at(Url::parse(first).map_err(|e| FederationError::BadRequest(e.to_string()))?).await?
        }
        Some(embedded @ Value::Object(_)) => embedded.clone(),
        _ => collection,
    };
    let mut seen = 0;
    for _ in 0..BACKFILL_PAGES {
        let items = page
            .get("orderedItems")
            .or_else(|| page.get("items"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for item in items {
            if seen >= BACKFILL_LIMIT {
                return Ok(());
            }
            seen += 1;
            let label = id_of(&item).unwrap_or_default();
            let object = match item.get("type").and_then(Value::as_str) {
                Some("Create") => item.get("object").cloned().unwrap_or(Value::Null),
                Some("Announce") => {
                    report.skip("not a post of the actor (Announce)", &actor.id, &label, "");
                    continue;
                }
                _ => item,
            };
            let object = match object {
                Value::String(url) => match fetch_post(data, &actor_url, &url, max_fetches, report).await? {
                    Some(object) => object,
                    None => continue,
                },
                object => object,
            };
            let note = match inbox::verify_post(&actor.id, &object) {
                Ok(note) => note,
                Err(reason) => {
                    report.skip("not a post we keep", &actor.id, &label, &reason);
                    continue;
                }
            };
            let author = actor.id.clone();
            let now = data.app_data().clock.now();
            let outcome =
                data.app_data().db.write(move |c| inbox::store_new_post(c, &author, note, &object, now)).await?;
            match outcome {
                inbox::Outcome::Applied(_) => report.stored += 1,
                _ => report.skip("already stored or deleted", &actor.id, &label, ""),
            }
        }
        // The next page, from the actor's server only; one that cannot be read ends the backfill
        // with what the earlier pages gave.
        match page.get("next").and_then(Value::as_str).and_then(|u| Url::parse(u).ok()) {
            Some(next) if seen < BACKFILL_LIMIT && fetch::same_server(&next, &actor_url) => match page_at(next).await {
                Ok(next) => page = next,
                Err(e) => {
                    tracing::info!(actor = %actor.id, error = %e, "backfill: next outbox page not read");
                    break;
                }
            },
            _ => break,
        }
    }
    Ok(())
}

/// The post at `url`, fetched when it is on the actor's own server, new to us and within the
/// number of fetches allowed; `None` (counted as skipped) otherwise.
async fn fetch_post(
    data: &FedData,
    actor: &Url,
    url: &str,
    max_fetches: usize,
    report: &mut BackfillReport,
) -> Result<Option<Value>, FederationError> {
    let Ok(parsed) = Url::parse(url) else {
        report.skip("object is not a URL", actor.as_str(), url, "");
        return Ok(None);
    };
    if !fetch::same_server(&parsed, actor) {
        report.skip("object on another server", actor.as_str(), url, "");
        return Ok(None);
    }
    let key = url.to_string();
    let known = data
        .app_data()
        .db
        .read(move |c| {
            use crate::db::models::remote;
            Ok(remote::find_post(c, &key)?.is_some() || remote::is_tombstoned(c, &key)?)
        })
        .await?;
    if known {
        report.skip("already stored or deleted", actor.as_str(), url, "");
        return Ok(None);
    }
    if report.fetched >= max_fetches {
        report.skip("over outgoing.backfill_max_fetches", actor.as_str(), url, "");
        return Ok(None);
    }
    report.fetched += 1;
    match fetch::object(data, &parsed).await {
        Ok(fetched) => Ok(Some(fetched.object)),
        Err(FederationError::Db(e)) => Err(FederationError::Db(e)),
        Err(e) => {
            report.skip("object could not be fetched", actor.as_str(), url, &e.to_string());
            Ok(None)
        }
    }
}
