//! `ronron block`, `unblock` and `blocks`: servers this host refuses.

use super::{cli_error, open_state};
use crate::{app::blocks, config::Config};
use anyhow::bail;

pub(super) async fn block(config: Config, domain: String, reason: Option<String>) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let blocked = blocks::block(&state, &domain, reason).await.map_err(cli_error)?;
    let purged = blocked.purged;
    println!(
        "blocked {domain}: removed {} followers, {} follows, {} posts; gave up {} deliveries",
        purged.followers, purged.following, purged.posts, purged.deliveries
    );
    Ok(())
}

pub(super) async fn unblock(config: Config, domain: String) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    if blocks::unblock(&state, &domain).await.map_err(cli_error)? {
        println!("unblocked {domain}");
        Ok(())
    } else {
        bail!("`{domain}` is not blocked (see `ronron blocks`)")
    }
}

pub(super) async fn blocks(config: Config) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    for b in blocks::list(&state).await.map_err(cli_error)? {
        println!("{:<32} {}  {}", b.domain, b.created_at.format("%Y-%m-%d"), b.reason.unwrap_or_default());
    }
    Ok(())
}
