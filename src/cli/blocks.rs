//! `ronron block`, `unblock` and `blocks`: servers this host refuses.

use super::{cli_error, open_state};
use crate::{
    app::blocks,
    config::Config,
    i18n::{Message, Texts},
};

pub(super) async fn block(config: Config, domain: String, reason: Option<String>, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let blocked = blocks::block(&state, &domain, reason).await.map_err(cli_error)?;
    let purged = blocked.purged;
    let values: &[(&str, &str)] = &[
        ("domain", domain.as_str()),
        ("followers", &t.count("cli.count.followers", purged.followers)),
        ("follows", &t.count("cli.count.follows", purged.following)),
        ("posts", &t.count("cli.count.posts", purged.posts)),
        ("deliveries", &t.count("cli.count.deliveries", purged.deliveries)),
    ];
    println!("{}", t.fill("cli.blocked", values));
    Ok(())
}

pub(super) async fn unblock(config: Config, domain: String, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    if blocks::unblock(&state, &domain).await.map_err(cli_error)? {
        println!("{}", t.fill("cli.unblocked", &[("domain", &domain)]));
        Ok(())
    } else {
        Err(Message::new("cli.not_blocked", &[("domain", &domain)]).into())
    }
}

pub(super) async fn blocks(config: Config, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    for b in blocks::list(&state).await.map_err(cli_error)? {
        let since = b.created_at.format("%Y-%m-%d").to_string();
        let values: &[(&str, &str)] =
            &[("domain", &format!("{:<32}", b.domain)), ("since", &since), ("reason", &b.reason.unwrap_or_default())];
        println!("{}", t.fill("cli.block_line", values).trim_end());
    }
    Ok(())
}
