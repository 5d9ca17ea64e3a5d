//! `ronron export --all` and `ronron import --all`: the whole host as one JSON document.

use super::{cli_error, open_state};
use crate::{
    app::archive,
    config::Config,
    i18n::{Message, Texts},
};
use std::{io::Write, path::PathBuf};

pub(super) async fn export_all(
    config: Config,
    include_key: bool,
    output: Option<PathBuf>,
    t: &Texts,
) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    let export = archive::export_all(&state, include_key).await.map_err(cli_error)?;
    let text = serde_json::to_string_pretty(&export)? + "\n";
    match output {
        Some(path) => {
            let mut options = std::fs::File::options();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).map_err(|e| {
                let file = path.display().to_string();
                Message::new("cli.cannot_create_output", &[("file", &file), ("error", &e.to_string())])
            })?;
            file.write_all(text.as_bytes()).and_then(|_| file.sync_all())?;
            let values: &[(&str, &str)] = &[
                ("file", &path.display().to_string()),
                ("bulletins", &t.count("cli.count.bulletins", export.tables.bulletins.len())),
                ("followers", &t.count("cli.count.followers", export.tables.followers.len())),
            ];
            eprintln!("{}", t.fill("cli.export_written", values));
            if include_key {
                eprintln!("{}", t.get("cli.export_holds_key"));
            }
        }
        None => {
            if include_key {
                eprintln!("{}", t.get("cli.export_holds_key"));
            }
            std::io::stdout().write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

pub(super) async fn import_all(config: Config, file: PathBuf, t: &Texts) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        text
    } else {
        super::read_file(&file)?
    };
    let export = archive::parse(&text).map_err(cli_error)?;
    let state = open_state(config).await?;
    let report = archive::import_all(&state, export).await.map_err(cli_error)?;
    let values: &[(&str, &str)] = &[
        ("bulletins", &t.count("cli.count.bulletins", report.bulletins)),
        ("services", &t.count("cli.count.services", report.services)),
        ("followers", &t.count("cli.count.followers", report.followers)),
        ("follows", &t.count("cli.count.follows", report.following)),
        ("activities", &t.count("cli.count.activities", report.activities)),
    ];
    println!("{}", t.fill("cli.imported", values));
    if report.key_kept {
        println!("{}", t.get("cli.import_key_kept"));
    } else if report.update_queued {
        println!("{}", t.get("cli.import_new_key"));
    }
    Ok(())
}
