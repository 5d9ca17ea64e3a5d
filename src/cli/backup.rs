//! `ronron backup FILE` and `ronron restore FILE`.

use super::{cli_error, open_state};
use crate::{app::backup, config::Config};
use std::path::PathBuf;

pub(super) async fn backup(config: Config, file: PathBuf) -> anyhow::Result<()> {
    // Refused before the database is even opened (PostgreSQL: pg_dump).
    if crate::db::Backend::from_url(&config.database.url) == Ok(crate::db::Backend::Postgres) {
        return Err(cli_error(backup::backup_unsupported()));
    }
    let state = open_state(config).await?;
    let report = backup::backup(&state, &file).await.map_err(cli_error)?;
    println!(
        "backup written to {} ({} bytes, {} bulletins, integrity check ok)",
        report.path.display(),
        report.bytes,
        report.bulletins
    );
    if let Some(media) = report.media {
        println!("the logos are files in {}, not in the database: back that folder up with it", media.display());
    }
    Ok(())
}

pub(super) async fn restore(config: Config, file: PathBuf) -> anyhow::Result<()> {
    let report = tokio::task::spawn_blocking(move || backup::restore(&config, &file)).await?.map_err(cli_error)?;
    println!(
        "restored {} ({} bytes, {} bulletins); start the server to use it",
        report.database.display(),
        report.bytes,
        report.bulletins
    );
    if let Some(previous) = report.previous {
        println!("the database it replaced is kept as {}", previous.display());
    }
    Ok(())
}
