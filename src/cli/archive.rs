//! `ronron export --all` and `ronron import --all`: the whole host as one JSON document.

use super::{cli_error, open_state};
use crate::{app::archive, config::Config};
use anyhow::Context;
use std::{io::Write, path::PathBuf};

pub(super) async fn export_all(config: Config, include_key: bool, output: Option<PathBuf>) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let export = archive::export_all(&state, include_key).await.map_err(cli_error)?;
    let text = serde_json::to_string_pretty(&export)? + "\n";
    match output {
        Some(path) => {
            let mut options = std::fs::File::options();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(&path)
                .with_context(|| format!("--output: cannot create {} (it must not exist)", path.display()))?;
            file.write_all(text.as_bytes()).and_then(|_| file.sync_all())?;
            eprintln!(
                "wrote {} ({} bulletins, {} followers){}",
                path.display(),
                export.tables.bulletins.len(),
                export.tables.followers.len(),
                if include_key { "; it holds the private key: keep it secret" } else { "" }
            );
        }
        None => {
            if include_key {
                eprintln!("warning: this export holds the account's private key: keep it secret");
            }
            std::io::stdout().write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

pub(super) async fn import_all(config: Config, file: PathBuf) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        text
    } else {
        std::fs::read_to_string(&file).with_context(|| format!("file: cannot read {}", file.display()))?
    };
    let export = archive::parse(&text).map_err(cli_error)?;
    let state = open_state(config).await?;
    let report = archive::import_all(&state, export).await.map_err(cli_error)?;
    println!(
        "imported {} bulletins, {} services, {} followers, {} follows, {} activities",
        report.bulletins, report.services, report.followers, report.following, report.activities
    );
    if report.key_kept {
        println!("the account keeps its key: its signatures verify as before");
    } else if report.update_queued {
        println!("the account has a new key: its Update is queued for the followers (a running server sends it)");
    }
    Ok(())
}
