//! `ronron profile`: the host's public profile.

use super::cli_error;
use crate::{
    app::{media, profile, AppError},
    state::AppState,
};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Show the profile as published.
    Show,
    /// Change profile fields (an empty value clears an optional one); followers get the update.
    Set(ProfileArgs),
    /// Upload the logo FILE (PNG, JPEG, GIF or WebP, at most media.max_logo_bytes), served by
    /// this host as the account's avatar; or remove it with --remove.
    Logo(LogoArgs),
}

#[derive(Args, Debug)]
pub struct LogoArgs {
    /// The image file.
    #[arg(required_unless_present = "remove", conflicts_with = "remove")]
    pub file: Option<std::path::PathBuf>,
    /// Remove the logo (an uploaded one, or a logo URL).
    #[arg(long)]
    pub remove: bool,
}

/// Reads an image file for an upload, at most `media.max_logo_bytes` (and one more byte, for the
/// refusal to say it is too big); its type is declared by its extension, when it has one of an
/// image.
pub(super) fn read_upload(state: &AppState, path: &std::path::Path) -> anyhow::Result<media::Upload> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("file: cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(state.config.media.max_logo_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("file: cannot read {}: {e}", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let declared_type = match ext.as_deref() {
        Some("png") => Some("image/png"),
        Some("jpg" | "jpeg") => Some("image/jpeg"),
        Some("gif") => Some("image/gif"),
        Some("webp") => Some("image/webp"),
        Some("svg") => Some("image/svg+xml"),
        _ => None,
    };
    Ok(media::Upload { bytes, declared_type: declared_type.map(str::to_string) })
}

/// A refusal of the upload, blamed on the FILE argument.
pub(super) fn upload_refused(e: AppError) -> anyhow::Error {
    match e.field() {
        Some("logo") => cli_error(e.about("file")),
        _ => cli_error(e),
    }
}

#[derive(Args, Debug, Default)]
pub struct ProfileArgs {
    #[arg(long)]
    pub display_name: Option<String>,
    /// Markdown.
    #[arg(long)]
    pub summary: Option<String>,
    /// association, cooperative, company, individual, collective…
    #[arg(long)]
    pub structure_type: Option<String>,
    /// Two-letter country code, e.g. FR.
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub website: Option<String>,
    #[arg(long)]
    pub contact: Option<String>,
    #[arg(long)]
    pub logo: Option<String>,
}

pub(super) async fn profile_command(state: AppState, command: ProfileCommand) -> anyhow::Result<()> {
    match command {
        ProfileCommand::Show => {
            let a = profile::effective(&state).await?;
            println!("handle:         {}", state.config.handle());
            println!("display name:   {}", a.display_name);
            println!("summary:        {}", a.summary);
            for (name, value) in [
                ("structure type", &a.structure_type),
                ("country", &a.country),
                ("region", &a.region),
                ("website", &a.website),
                ("contact", &a.contact),
                ("logo", &a.logo),
            ] {
                println!("{:<15} {}", format!("{name}:"), value.clone().unwrap_or_default());
            }
            println!("languages:      {}", a.languages.join(", "));
        }
        ProfileCommand::Set(args) => {
            let edit = profile::ProfileEdit {
                display_name: args.display_name,
                summary: args.summary,
                structure_type: args.structure_type,
                country: args.country,
                region: args.region,
                website: args.website,
                contact: args.contact,
                logo: args.logo,
            };
            profile::set(&state, edit).await.map_err(cli_error)?;
            let sent = profile::federate_profile_if_changed(&state).await.map_err(cli_error)?;
            println!("profile saved{}", if sent { "; followers receive the update" } else { "" });
        }
        ProfileCommand::Logo(LogoArgs { remove: true, .. }) => {
            let removed = profile::remove_logo(&state).await.map_err(cli_error)?;
            println!("{}", if removed { "logo removed; followers receive the update" } else { "there was no logo" });
        }
        ProfileCommand::Logo(LogoArgs { file, .. }) => {
            let upload = read_upload(&state, &file.expect("clap requires FILE without --remove"))?;
            let logo = profile::set_logo(&state, upload).await.map_err(upload_refused)?;
            println!(
                "logo saved: {} ({}, {} × {} pixels); followers receive the update",
                state.urls.media(&logo.file),
                logo.media_type,
                logo.width,
                logo.height
            );
        }
    }
    Ok(())
}
