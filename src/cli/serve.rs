//! `ronron serve` and `migrate` (`init` is in `init.rs`).

use crate::{config::Config, db, startup::Application};

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
