//! `ronron block`, `unblock` and `blocks`: servers this host refuses.

use super::open_state;
use crate::{app::blocks as moderation, config::Config};
use anyhow::bail;

pub(super) async fn block(config: Config, domain: String, reason: Option<String>) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let purged = moderation::block(&state, &domain, reason).await?;
    println!(
        "blocked {domain}: removed {} followers, {} follows, {} posts; gave up {} deliveries",
        purged.followers, purged.following, purged.posts, purged.deliveries
    );
    Ok(())
}

pub(super) async fn unblock(config: Config, domain: String) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    if moderation::unblock(&state, &domain).await? {
        println!("unblocked {domain}");
        Ok(())
    } else {
        bail!("`{domain}` is not blocked (see `ronron blocks`)")
    }
}

pub(super) async fn blocks(config: Config) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    for b in moderation::list(&state).await? {
        println!("{:<32} {}  {}", b.domain, b.created_at.format("%Y-%m-%d"), b.reason.unwrap_or_default());
    }
    Ok(())
}
