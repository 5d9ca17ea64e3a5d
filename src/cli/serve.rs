//! `ronron serve`, `init` and `migrate`.

use super::open_state;
use crate::{
    config::{self, Config},
    db,
    startup::Application,
};
use anyhow::{bail, Context};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Public domain of this instance, e.g. bulletin.chaton.example (add :port only for tests).
    #[arg(long, default_value = "localhost:8080")]
    pub domain: String,
    /// Database URL: sqlite://path/to/file.db or postgres://user@host/db.
    #[arg(long, default_value = "sqlite://data/ronron.db")]
    pub database_url: String,
    /// Overwrite the configuration file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Turn the collective role on: a second account, @collectif@domain (an ActivityPub Group),
    /// re-shares the bulletins of the member hosts of its roster (`ronron members add`).
    #[arg(long)]
    pub collective: bool,
}

pub(super) async fn init(path: PathBuf, args: &InitArgs) -> anyhow::Result<()> {
    if path.exists() && !args.force {
        bail!("{} already exists; pass --force to overwrite it", path.display());
    }
    let text = match args.collective {
        true => config::initial_file_collective(&args.domain, &args.database_url),
        false => config::initial_file(&args.domain, &args.database_url),
    };
    let config = Config::from_toml_and_env(&text, &[]).context("--domain or --database-url")?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    open_state(config.clone()).await?;
    println!("wrote {}; database ready with signing keys", path.display());
    println!("account: {}   start with: ronron --config {} serve", config.handle(), path.display());
    if let Some(group) = config.collective_account() {
        println!(
            "collective: @{group}@{}   add members with: ronron --config {} members add @bulletin@member.example",
            config.instance.domain,
            path.display()
        );
    }
    Ok(())
}

pub(super) async fn serve(config: Config) -> anyhow::Result<()> {
    // Held until the server stops, so that `ronron restore` refuses to replace the database.
    let _lock = crate::app::backup::lock_for_server(&config).map_err(super::cli_error)?;
    let app = Application::build(config).await?;
    let state = app.state().clone();
    println!("Ronron listening on http://{} (public address {})", state.config.server.listen, state.urls.base());
    println!("Follow it from Mastodon: {}", state.config.handle());
    println!("Publish: ronron post news --title \"Hello\" --body \"First bulletin\"");
    println!("Web admin: {} (accounts: ronron admin create NAME)", state.urls.admin("login"));
    if state.config.dev_mode() {
        println!("Dev mode: http and loopback peers are allowed. Set instance.domain for production.");
    }
    app.run_until_stopped().await?;
    Ok(())
}

pub(super) async fn migrate(config: Config) -> anyhow::Result<()> {
    let url = config.database.url.clone();
    tokio::task::spawn_blocking(move || db::Db::connect(&url, 1)).await??;
    println!("database {} is up to date", config.database.url);
    Ok(())
}
