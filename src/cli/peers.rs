//! `ronron follow`, `unfollow`, `following`, `peers`, `export` and `import`: the accounts this host follows.

use super::{cli_error, open_state};
use crate::{
    config::Config,
    db::models::{activities as queue, remote},
    federation::{self, actors, FederationError},
};
use anyhow::{bail, Context};
use std::path::PathBuf;

pub(super) async fn follow(config: Config, handle: String) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let fed = federation::build(state.clone()).await?;
    let data = fed.to_request_data();
    let actor = actors::resolve(&data, &handle).await.map_err(cli_error)?;
    let url = url::Url::parse(&actor.id)?;
    let row = crate::app::peers::follow(&state, &data, &url).await.map_err(cli_error)?;
    println!("follow request queued for {} ({}); it stays pending until they accept", handle, row.actor_id);
    Ok(())
}

pub(super) async fn unfollow(config: Config, actor: String) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    if crate::app::peers::unfollow(&state, &actor).await.map_err(cli_error)? {
        println!("unfollowed {actor}");
        Ok(())
    } else {
        bail!("this host does not follow `{actor}` (see `ronron following`)")
    }
}

pub(super) async fn following(config: Config) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    for row in state.db.read(remote::list_following).await? {
        println!("{:<9} {}", row.status, row.actor_id);
    }
    Ok(())
}

pub(super) async fn peers(config: Config) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let peers = state
        .db
        .read(|c| {
            let health = queue::health(c)?;
            let mut rows = Vec::new();
            for f in remote::list_following(c)? {
                let actor = remote::find_actor(c, &f.actor_id)?;
                let inboxes: Vec<String> =
                    [Some(f.inbox.clone()), actor.and_then(|a| a.shared_inbox)].into_iter().flatten().collect();
                let h: Vec<_> = health.iter().filter(|h| inboxes.contains(&h.inbox)).cloned().collect();
                let received = remote::last_received(c, &f.actor_id)?;
                rows.push((f, h, received));
            }
            Ok(rows)
        })
        .await?;
    let when = |t: Option<chrono::NaiveDateTime>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into())
    };
    for (f, health, received) in peers {
        let sent = health.iter().filter_map(|h| h.last_success_at).max();
        let failures = health.iter().map(|h| h.consecutive_failures).max().unwrap_or(0);
        let paused = health.iter().filter_map(|h| h.paused_at).min();
        println!(
            "{:<9} {}  received {}  delivered {}  failures {}{}",
            f.status,
            f.actor_id,
            when(received),
            when(sent),
            failures,
            paused
                .map(|p| format!(
                    "  PAUSED since {} (resumes when it sends something signed)",
                    p.format("%Y-%m-%d %H:%M")
                ))
                .unwrap_or_default()
        );
    }
    Ok(())
}

pub(super) async fn export(config: Config, format: String) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let peers = state.db.read(crate::web::feeds::followed_peers).await?;
    if format == "opml" {
        print!("{}", crate::web::feeds::peers_opml(&state, &peers));
        return Ok(());
    }
    let list: Vec<serde_json::Value> = peers
        .iter()
        .map(|p| {
            let handle = p
                .actor
                .as_ref()
                .map(|a| format!("@{}@{}", a.preferred_username, crate::app::timeline::domain_of(&a.id)));
            serde_json::json!({"actor": p.following.actor_id, "handle": handle, "status": p.following.status, "feed": p.feed})
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({"following": list}))?);
    Ok(())
}

pub(super) async fn import(config: Config, file: PathBuf) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        text
    } else {
        std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let targets = import_targets(&text)?;
    let state = open_state(config).await?;
    let fed = federation::build(state.clone()).await?;
    let mut failed = 0;
    for target in &targets {
        let data = fed.to_request_data();
        let result = async {
            let actor = actors::resolve(&data, target).await?;
            let url = url::Url::parse(&actor.id).map_err(|e| FederationError::Internal(e.to_string()))?;
            crate::app::peers::follow(&state, &data, &url).await
        }
        .await;
        match result {
            Ok(row) => println!("following {target} ({})", row.actor_id),
            Err(e) => {
                failed += 1;
                eprintln!("{target}: {e}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} accounts could not be followed", targets.len());
    }
    Ok(())
}

/// The accounts listed by an import file: a JSON export, or one handle or URL per line.
fn import_targets(text: &str) -> anyhow::Result<Vec<String>> {
    if text.trim_start().starts_with('{') {
        let export: serde_json::Value =
            serde_json::from_str(text).context("the file looks like JSON but does not parse")?;
        let list = export["following"].as_array().context("a JSON import needs a `following` list")?;
        return Ok(list.iter().filter_map(|f| f["actor"].as_str().map(str::to_string)).collect());
    }
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect())
}
