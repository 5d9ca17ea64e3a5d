//! `ronron follow`, `unfollow`, `following`, `peers`, `export` and `import`: the accounts this host follows.

use super::{cli_error, open_state};
use crate::{
    app::peers,
    config::Config,
    federation,
    i18n::{Message, Texts},
};
use std::path::PathBuf;

pub(super) async fn follow(config: Config, handle: String, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let fed = federation::build(state.clone()).await?;
    let row = peers::follow_handle(&state, &fed.to_request_data(), &handle).await.map_err(cli_error)?;
    println!("{}", t.fill("cli.follow_queued", &[("handle", &handle), ("actor", &row.actor_id)]));
    Ok(())
}

pub(super) async fn unfollow(config: Config, actor: String, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    if peers::unfollow(&state, &actor).await.map_err(cli_error)? {
        println!("{}", t.fill("cli.unfollowed", &[("actor", &actor)]));
        Ok(())
    } else {
        Err(Message::new("cli.not_following", &[("actor", &actor)]).into())
    }
}

pub(super) async fn following(config: Config, _t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    for peer in peers::list(&state).await.map_err(cli_error)? {
        println!("{:<9} {}", peer.following.status, peer.following.actor_id);
    }
    Ok(())
}

pub(super) async fn peers(config: Config, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let when = |at: Option<chrono::NaiveDateTime>| {
        at.map(|at| at.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| t.get("cli.never").to_string())
    };
    for peer in peers::list(&state).await.map_err(cli_error)? {
        let values = [
            ("status", format!("{:<9}", peer.following.status)),
            ("actor", peer.following.actor_id.clone()),
            ("received", when(peer.last_received)),
            ("last_delivery", when(peer.last_delivered)),
            ("failures", peer.failures.to_string()),
        ];
        let mut line = t.fill("cli.peer_line", &values.each_ref().map(|(k, v)| (*k, v.as_str())));
        if let Some(paused) = peer.paused_since {
            line += &t.fill("cli.peer_paused", &[("since", &paused.format("%Y-%m-%d %H:%M").to_string())]);
        }
        println!("{line}");
    }
    Ok(())
}

pub(super) async fn export(config: Config, format: String, _t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let peers = peers::export(&state).await.map_err(cli_error)?;
    if format == "opml" {
        print!("{}", peers::opml(&state, &peers));
        return Ok(());
    }
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "following": peers }))?);
    Ok(())
}

pub(super) async fn import(config: Config, file: PathBuf, t: &Texts) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        text
    } else {
        super::read_file(&file)?
    };
    let state = open_state(config).await?;
    let fed = federation::build(state.clone()).await?;
    let outcomes = peers::import(&state, &fed.to_request_data(), &text).await.map_err(cli_error)?;
    let mut failed = 0;
    for (target, outcome) in &outcomes {
        match outcome {
            Ok(row) => println!("{}", t.fill("cli.now_following", &[("handle", target), ("actor", &row.actor_id)])),
            Err(e) => {
                failed += 1;
                let why = super::error_words(t, e, None);
                eprintln!("{}", t.fill("cli.refused", &[("option", target), ("reason", &why)]));
            }
        }
    }
    if failed > 0 {
        let total = outcomes.len().to_string();
        return Err(Message::counted("cli.follows_failed", failed, &[("total", &total)]).into());
    }
    Ok(())
}
