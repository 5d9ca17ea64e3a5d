//! `ronron serve` and `migrate` (`init` is in `init.rs`).

use crate::{config::Config, db, i18n::Texts, startup::Application};

pub(super) async fn serve(config: Config, t: &Texts) -> anyhow::Result<()> {
    // Held until the server stops, so that `ronron restore` refuses to replace the database.
    let _lock = crate::app::backup::lock_for_server(&config).map_err(super::cli_error)?;
    let app = Application::build(config).await?;
    let state = app.state().clone();
    let listen = &state.config.server.listen;
    println!("{}", t.fill("cli.listening", &[("listen", listen), ("url", state.urls.base().as_str())]));
    println!("{}", t.fill("cli.follow_it", &[("handle", &state.config.handle())]));
    println!("{}", t.get("cli.publish_hint"));
    println!("{}", t.fill("cli.web_admin", &[("login", state.urls.admin("login").as_str())]));
    if state.config.dev_mode() {
        println!("{}", t.get("cli.dev_mode"));
    }
    app.run_until_stopped().await?;
    Ok(())
}

pub(super) async fn migrate(config: Config, t: &Texts) -> anyhow::Result<()> {
    let url = config.database.url.clone();
    tokio::task::spawn_blocking(move || db::Db::connect(&url, 1)).await??;
    println!("{}", t.fill("cli.migrated", &[("url", &config.database.url)]));
    Ok(())
}
