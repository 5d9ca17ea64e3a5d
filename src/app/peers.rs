//! The accounts this host follows: follow by handle or URL (with the backfill and the first
//! directory fetch), unfollow, import and export, and each peer's state and health.

use super::{write_and_wake, AppError, AppResult};
use crate::refusal::Kind;

// The stored follow and its state are what the use-cases hand out.
pub use crate::db::models::remote::{FollowState, Following};
use crate::{
    db::models::{
        activities as queue, directory as directory_rows,
        remote::{self, RemoteActor},
    },
    federation::{
        activities::{direct_activity, enqueue, new_activity_id},
        actors,
        protocol::ActivityDoc,
        FedData, FederationError,
    },
    state::AppState,
};
use chrono::NaiveDateTime;
use serde_json::Value;
use url::Url;

/// What went wrong with a peer we were asked to follow, blamed on the handle typed.
fn about_handle(e: FederationError) -> AppError {
    match e {
        FederationError::BadRequest(reason) => AppError::invalid("handle", reason),
        other => AppError::from(other).about("handle"),
    }
}

/// Follows `@name@domain`, `name@domain` or an actor URL: resolves it (WebFinger, or the URL
/// itself), then [`follow`]s the actor. Every door's "follow" is this.
pub async fn follow_handle(state: &AppState, data: &FedData, handle: &str) -> AppResult<Following> {
    crate::bulletin::check_text("handle", handle)?;
    // A blocked server is refused before it is asked anything (its WebFinger included).
    let input = handle.trim();
    let target = match input.trim_start_matches('@').split_once('@') {
        Some((_, domain)) if !input.contains("://") => format!("https://{domain}/"),
        _ => input.to_string(),
    };
    if let Some(block) = crate::federation::blocked(state, vec![target]).await? {
        return Err(AppError::conflicting("handle", Kind::Blocked, &[("value", &block.domain)]));
    }
    let actor = actors::resolve(data, handle).await.map_err(about_handle)?;
    let url = Url::parse(&actor.id).map_err(|e| AppError::invalid("handle", format!("`{}`: {e}", actor.id)))?;
    follow(state, data, &url).await.map_err(|e| e.about("handle"))
}

/// Follows a remote actor from our host account: stored as pending until its Accept arrives.
pub async fn follow(state: &AppState, data: &FedData, target: &Url) -> AppResult<Following> {
    if let Some(block) = crate::federation::blocked(state, vec![target.to_string()]).await? {
        return Err(AppError::state_refuses(Kind::Blocked, &[("value", &block.domain)]));
    }
    let actor = actors::fetch_actor(data, target, false).await.map_err(|e| match e {
        // The actor document is not one we can follow (not an actor, its inbox elsewhere…).
        FederationError::BadRequest(reason) => AppError::invalid("handle", reason),
        other => AppError::from(other),
    })?;
    let urls = state.urls.clone();
    let follow_id = new_activity_id(&urls);
    let now = state.clock.now();
    let row = Following {
        actor_id: actor.id.clone(),
        inbox: actor.inbox.clone(),
        follow_activity_id: follow_id.to_string(),
        status: FollowState::Pending,
        created_at: now,
        updated_at: now,
    };
    let stored = row.clone();
    write_and_wake(state, move |c| {
        remote::upsert_following(c, &stored)?;
        let doc = ActivityDoc {
            id: follow_id.clone(),
            ..direct_activity(
                &urls,
                urls.host_actor(),
                "Follow",
                Value::String(stored.actor_id.clone()),
                &stored.actor_id,
            )
        };
        Ok(enqueue(c, &doc, &stored.actor_id, std::slice::from_ref(&stored.inbox), now)?)
    })
    .await?;
    // Best effort: a peer whose outbox cannot be read is still followed.
    match crate::federation::backfill::backfill(data, &actor).await {
        Ok(report) => tracing::info!(
            actor = %actor.id,
            posts = report.stored,
            fetched = report.fetched,
            skipped = ?report.skipped,
            timed_out = report.timed_out,
            "backfilled"
        ),
        Err(e) => tracing::warn!(actor = %actor.id, error = %e, "backfill failed"),
    }
    if let Err(e) = crate::app::directory::refresh(data, target).await {
        tracing::warn!(actor = %actor.id, error = %e, "directory entry not fetched yet; the directory loop retries");
        let entry = crate::app::directory::placeholder(&actor.id);
        state.db.write(move |c| directory_rows::upsert(c, &entry)).await?;
    }
    Ok(row)
}

/// Stops following: `Undo{Follow}` to the actor, and the row is gone.
pub async fn unfollow(state: &AppState, target: &str) -> AppResult<bool> {
    let urls = state.urls.clone();
    let target = target.to_string();
    let now = state.clock.now();
    let removed =
        write_and_wake(state, move |c| Ok(crate::federation::activities::unfollow(c, &urls, &target, now)?)).await?;
    Ok(removed)
}

/// A peer we follow or asked to follow, with the health of the link both ways.
#[derive(Debug, Clone)]
pub struct PeerStatus {
    pub following: Following,
    /// The last signed activity received from it.
    pub last_received: Option<NaiveDateTime>,
    /// The last delivery of ours it accepted (to its inbox or shared inbox).
    pub last_delivered: Option<NaiveDateTime>,
    /// Consecutive failed deliveries to it.
    pub failures: i32,
    /// Since when deliveries to it wait (it has been failing for days).
    pub paused_since: Option<NaiveDateTime>,
}

/// Every peer we follow, with its state and health.
pub async fn list(state: &AppState) -> AppResult<Vec<PeerStatus>> {
    Ok(state
        .db
        .read(|c| {
            let health = queue::health(c)?;
            let mut rows = Vec::new();
            for following in remote::list_following(c)? {
                let actor = remote::find_actor(c, &following.actor_id)?;
                let inboxes: Vec<String> =
                    [Some(following.inbox.clone()), actor.and_then(|a| a.shared_inbox)].into_iter().flatten().collect();
                let health: Vec<_> = health.iter().filter(|h| inboxes.contains(&h.inbox)).collect();
                rows.push(PeerStatus {
                    last_received: remote::last_received(c, &following.actor_id)?,
                    last_delivered: health.iter().filter_map(|h| h.last_success_at).max(),
                    failures: health.iter().map(|h| h.consecutive_failures).max().unwrap_or(0),
                    paused_since: health.iter().filter_map(|h| h.paused_at).min(),
                    following,
                });
            }
            Ok(rows)
        })
        .await?)
}

/// A peer as an export lists it (and an import reads it back).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportedPeer {
    pub actor: String,
    /// `@name@domain`, when its actor document is cached.
    pub handle: Option<String>,
    pub status: FollowState,
    /// Its Atom feed, when its directory entry names one (Ronron peers do, in `hostProfile.feed`).
    pub feed: Option<String>,
    #[serde(skip)]
    pub name: Option<String>,
}

/// Every peer we follow or asked to follow, oldest first, as an export lists them.
pub async fn export(state: &AppState) -> AppResult<Vec<ExportedPeer>> {
    Ok(state.db.read(exported).await?)
}

fn exported(c: &mut crate::db::DbConnection) -> crate::db::DbResult<Vec<ExportedPeer>> {
    let entries = directory_rows::list(c)?;
    let mut out = Vec::new();
    for following in remote::list_following(c)? {
        let actor: Option<RemoteActor> = remote::find_actor(c, &following.actor_id)?;
        let feed = entries
            .iter()
            .find(|e| e.actor_id == following.actor_id)
            .and_then(|e| e.host_profile.as_deref())
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .and_then(|p| p.get("feed").and_then(Value::as_str).map(str::to_string));
        out.push(ExportedPeer {
            handle: actor.as_ref().map(|a| format!("@{}@{}", a.preferred_username, crate::urls::domain_of(&a.id))),
            name: actor.as_ref().and_then(|a| a.name.clone()).filter(|n| !n.trim().is_empty()),
            actor: following.actor_id,
            status: following.status,
            feed,
        });
    }
    Ok(out)
}

/// OPML of peers: their feed when they publish one, else a link to their profile.
pub fn opml(state: &AppState, peers: &[ExportedPeer]) -> String {
    use crate::bulletin::render::escape;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    let t = state.texts.texts(state.config.default_language());
    let title = t.fill("feed.peers_title", &[("handle", &state.config.handle())]);
    out.push_str(&format!("  <head><title>{}</title></head>\n  <body>\n", escape(&title)));
    for peer in peers {
        let id = &peer.actor;
        let name = peer.name.clone().or_else(|| peer.handle.clone()).unwrap_or_else(|| id.clone());
        match &peer.feed {
            Some(feed) => out.push_str(&format!(
                "    <outline type=\"rss\" text=\"{0}\" title=\"{0}\" xmlUrl=\"{1}\" htmlUrl=\"{2}\"/>\n",
                escape(&name),
                escape(feed),
                escape(id)
            )),
            None => out.push_str(&format!(
                "    <outline type=\"link\" text=\"{}\" url=\"{}\"/>\n",
                escape(&name),
                escape(id)
            )),
        }
    }
    out.push_str("  </body>\n</opml>\n");
    // A peer's name is its own: whatever it holds, the document stays XML.
    crate::bulletin::render::strip_forbidden(&out)
}

/// The accounts an import file lists: a JSON export (`{"following": [{"actor": …}]}`), or one
/// handle or actor URL per line (`#` starts a comment line).
fn import_targets(text: &str) -> AppResult<Vec<String>> {
    if text.trim_start().starts_with('{') {
        let export: Value = serde_json::from_str(text)
            .map_err(|e| AppError::invalid("file", format!("it looks like JSON but does not parse: {e}")))?;
        let list = export["following"]
            .as_array()
            .ok_or_else(|| AppError::invalid("file", "a JSON import needs a `following` list"))?;
        return Ok(list.iter().filter_map(|f| f["actor"].as_str().map(str::to_string)).collect());
    }
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect())
}

/// Follows every account an import file lists; one that fails does not stop the others.
pub async fn import(state: &AppState, data: &FedData, text: &str) -> AppResult<Vec<(String, AppResult<Following>)>> {
    let mut outcomes = Vec::new();
    for target in import_targets(text)? {
        let outcome = follow_handle(state, data, &target).await;
        outcomes.push((target, outcome));
    }
    Ok(outcomes)
}
