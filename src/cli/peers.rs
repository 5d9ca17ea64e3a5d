//! `ronron follow`, `unfollow`, `following`, `peers`, `export` and `import`: the accounts this host follows.

use super::{cli_error, open_state};
use crate::{app::peers, config::Config, federation};
use anyhow::{bail, Context};
use std::path::PathBuf;

pub(super) async fn follow(config: Config, handle: String) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let fed = federation::build(state.clone()).await?;
    let row = peers::follow_handle(&state, &fed.to_request_data(), &handle).await.map_err(cli_error)?;
    println!("follow request queued for {} ({}); it stays pending until they accept", handle, row.actor_id);
    Ok(())
}

pub(super) async fn unfollow(config: Config, actor: String) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    if peers::unfollow(&state, &actor).await.map_err(cli_error)? {
        println!("unfollowed {actor}");
        Ok(())
    } else {
        bail!("this host does not follow `{actor}` (see `ronron following`)")
    }
}

pub(super) async fn following(config: Config) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    for peer in peers::list(&state).await.map_err(cli_error)? {
        println!("{:<9} {}", peer.following.status, peer.following.actor_id);
    }
    Ok(())
}

pub(super) async fn peers(config: Config) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let when = |t: Option<chrono::NaiveDateTime>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into())
    };
    for peer in peers::list(&state).await.map_err(cli_error)? {
        println!(
            "{:<9} {}  received {}  delivered {}  failures {}{}",
            peer.following.status,
            peer.following.actor_id,
            when(peer.last_received),
            when(peer.last_delivered),
            peer.failures,
            peer.paused_since
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
    let peers = peers::export(&state).await.map_err(cli_error)?;
    if format == "opml" {
        print!("{}", peers::opml(&state, &peers));
        return Ok(());
    }
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "following": peers }))?);
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
    let state = open_state(config).await?;
    let fed = federation::build(state.clone()).await?;
    let outcomes = peers::import(&state, &fed.to_request_data(), &text).await.map_err(cli_error)?;
    let mut failed = 0;
    for (target, outcome) in &outcomes {
        match outcome {
            Ok(row) => println!("following {target} ({})", row.actor_id),
            Err(e) => {
                failed += 1;
                eprintln!("{target}: {e}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} accounts could not be followed", outcomes.len());
    }
    Ok(())
}
