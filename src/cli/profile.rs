//! `ronron profile`: the host's public profile.

use super::cli_error;
use crate::{
    app::{media, profile, AppError},
    i18n::{Message, Texts},
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
    let cannot_read = |e: std::io::Error| {
        Message::new("cli.cannot_read_file", &[("file", &path.display().to_string()), ("error", &e.to_string())])
    };
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::new();
    file.take(state.config.media.max_logo_bytes as u64 + 1).read_to_end(&mut bytes).map_err(cannot_read)?;
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

/// What a saved logo's message names: its URL, type and size.
pub(super) fn logo_values(state: &AppState, logo: &media::Logo) -> [(&'static str, String); 4] {
    [
        ("url", state.urls.media(&logo.file).to_string()),
        ("type", logo.media_type.clone()),
        ("width", logo.width.to_string()),
        ("height", logo.height.to_string()),
    ]
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

pub(super) async fn profile_command(state: AppState, command: ProfileCommand, t: &Texts) -> anyhow::Result<()> {
    match command {
        ProfileCommand::Show => {
            let a = profile::effective(&state).await?;
            let none = String::new();
            for (label, value) in [
                (t.get("account"), &state.config.handle()),
                (t.get("display_name"), &a.display_name),
                (t.get("summary"), &a.summary),
                (t.get("structure"), a.structure_type.as_ref().unwrap_or(&none)),
                (t.get("country"), a.country.as_ref().unwrap_or(&none)),
                (t.get("region"), a.region.as_ref().unwrap_or(&none)),
                (t.get("website"), a.website.as_ref().unwrap_or(&none)),
                (t.get("contact"), a.contact.as_ref().unwrap_or(&none)),
                (t.get("logo"), a.logo.as_ref().unwrap_or(&none)),
                (t.get("languages"), &a.languages.join(", ")),
            ] {
                let label = t.fill("cli.profile_label", &[("label", label)]);
                println!("{}", format!("{label:<16} {value}").trim_end());
            }
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
            println!("{}", if sent { t.get("cli.profile_saved_sent") } else { t.get("cli.profile_saved") });
        }
        ProfileCommand::Logo(LogoArgs { remove: true, .. }) => {
            let removed = profile::remove_logo(&state).await.map_err(cli_error)?;
            println!("{}", if removed { t.get("cli.logo_removed") } else { t.get("cli.had_no_logo") });
        }
        ProfileCommand::Logo(LogoArgs { file, .. }) => {
            let upload = read_upload(&state, &file.expect("clap requires FILE without --remove"))?;
            let logo = profile::set_logo(&state, upload).await.map_err(upload_refused)?;
            let values = logo_values(&state, &logo);
            println!("{}", t.fill("cli.logo_saved", &values.each_ref().map(|(k, v)| (*k, v.as_str()))));
        }
    }
    Ok(())
}
