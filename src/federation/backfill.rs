//! The backfill: a peer's latest posts read from its outbox when we follow it.

use super::{inbox, FedData, FederationError};
use serde_json::Value;
use url::Url;

/// How many of a peer's latest posts are fetched when we follow it, so its timeline does not
/// start empty (Mastodon's "empty profile after following").
pub const BACKFILL_LIMIT: usize = 50;
const BACKFILL_PAGES: usize = 5;

/// Fetches up to [`BACKFILL_LIMIT`] posts from the actor's outbox and stores those we lack.
/// Posts must be the actor's own, on its host; anything else is skipped.
pub async fn backfill(
    data: &FedData,
    actor: &crate::db::models::remote::RemoteActor,
) -> Result<usize, FederationError> {
    use activitypub_federation::fetch::fetch_object_http;
    let Some(outbox) = actor.outbox.as_deref().and_then(|u| Url::parse(u).ok()) else { return Ok(0) };
    let fetch = |url: Url| async move { fetch_object_http::<_, Value>(&url, data).await.map(|r| r.object) };
    let collection = fetch(outbox).await?;
    let mut page = match collection.get("first") {
        Some(Value::String(first)) => {
            fetch(Url::parse(first).map_err(|e| FederationError::BadRequest(e.to_string()))?).await?
        }
        Some(embedded @ Value::Object(_)) => embedded.clone(),
        _ => collection,
    };
    let mut stored = 0;
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
                return Ok(stored);
            }
            seen += 1;
            let object = match item.get("type").and_then(Value::as_str) {
                Some("Create") => item.get("object").cloned().unwrap_or(Value::Null),
                _ => item,
            };
            let Ok(note) = inbox::verify_post(&actor.id, &object) else { continue };
            let author = actor.id.clone();
            let now = data.app_data().clock.now();
            let outcome =
                data.app_data().db.write(move |c| inbox::store_new_post(c, &author, &note, &object, now)).await?;
            stored += matches!(outcome, inbox::Outcome::Applied(_)) as usize;
        }
        match page.get("next").and_then(Value::as_str).and_then(|u| Url::parse(u).ok()) {
            Some(next) if seen < BACKFILL_LIMIT => page = fetch(next).await?,
            _ => break,
        }
    }
    Ok(stored)
}
