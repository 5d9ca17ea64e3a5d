//! `ronron backup FILE` and `ronron restore FILE`.

use super::{cli_error, open_state};
use crate::{app::backup, config::Config, i18n::Texts};
use std::path::PathBuf;

pub(super) async fn backup(config: Config, file: PathBuf, t: &Texts) -> anyhow::Result<()> {
    // Refused before the database is even opened (PostgreSQL: pg_dump).
    if crate::db::Backend::from_url(&config.database.url) == Ok(crate::db::Backend::Postgres) {
        return Err(cli_error(backup::backup_unsupported()));
    }
    let state = open_state(config).await?;
    let report = backup::backup(&state, &file).await.map_err(cli_error)?;
    let values: &[(&str, &str)] = &[
        ("file", &report.path.display().to_string()),
        ("bytes", &t.count("cli.count.bytes", report.bytes as usize)),
        ("bulletins", &t.count("cli.count.bulletins", report.bulletins as usize)),
    ];
    println!("{}", t.fill("cli.backup_written", values));
    if let Some(media) = report.media {
        println!("{}", t.fill("cli.backup_media_apart", &[("folder", &media.display().to_string())]));
    }
    Ok(())
}

pub(super) async fn restore(config: Config, file: PathBuf, t: &Texts) -> anyhow::Result<()> {
    let report = tokio::task::spawn_blocking(move || backup::restore(&config, &file)).await?.map_err(cli_error)?;
    let values: &[(&str, &str)] = &[
        ("file", &report.database.display().to_string()),
        ("bytes", &t.count("cli.count.bytes", report.bytes as usize)),
        ("bulletins", &t.count("cli.count.bulletins", report.bulletins as usize)),
    ];
    println!("{}", t.fill("cli.restored", values));
    if let Some(previous) = report.previous {
        println!("{}", t.fill("cli.restore_kept_previous", &[("file", &previous.display().to_string())]));
    }
    Ok(())
}
