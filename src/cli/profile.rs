//! `ronron profile`: the host's public profile.

use super::cli_error;
use crate::{app::profile, state::AppState};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Show the profile as published.
    Show,
    /// Change profile fields (an empty value clears an optional one); followers get the update.
    Set(ProfileArgs),
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
    }
    Ok(())
}
