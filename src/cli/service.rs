//! `ronron service`: the service catalogue.

use super::{cli_error, or_see};
use crate::{
    app::catalogue,
    bulletin::{vocab::Choice, ServiceDraft},
    i18n::Texts,
    state::AppState,
};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum ServiceCommand {
    /// Add a service to the catalogue.
    Add(ServiceArgs),
    /// Change some fields of a service.
    Edit(ServiceArgs),
    /// Take a service out of the catalogue.
    Remove { slug: String },
    /// List services with their current status and registration state.
    List,
}

#[derive(Args, Debug)]
pub struct ServiceArgs {
    /// Short identifier used in URLs and commands, e.g. `nextcloud`.
    pub slug: String,
    #[arg(long)]
    pub name: Option<String>,
    /// The software it runs, e.g. Nextcloud.
    #[arg(long)]
    pub software: Option<String>,
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Who may use it, e.g. "members", "everyone".
    #[arg(long)]
    pub audience: Option<String>,
    /// open, on_request or closed.
    #[arg(long)]
    pub registration: Option<String>,
}

pub(super) async fn service_command(state: AppState, command: ServiceCommand, t: &Texts) -> anyhow::Result<()> {
    let draft = |a: ServiceArgs, registration_default: &str| ServiceDraft {
        slug: a.slug,
        name: a.name.unwrap_or_default(),
        software: a.software.unwrap_or_default(),
        url: a.url.unwrap_or_default(),
        description: a.description.unwrap_or_default(),
        audience: a.audience.unwrap_or_default(),
        registration: a.registration.unwrap_or_else(|| registration_default.to_string()),
    };
    match command {
        ServiceCommand::Add(args) => {
            let s = catalogue::add(&state, draft(args, "open")).await.map_err(cli_error)?;
            println!(
                "{}",
                t.fill("cli.service_added", &[("slug", &s.slug), ("url", state.urls.service(&s.slug).as_str())])
            );
        }
        ServiceCommand::Edit(args) => {
            let slug = args.slug.clone();
            let s = catalogue::edit(&state, &slug, draft(args, "")).await.map_err(or_see("ronron service list"))?;
            println!("{}", t.fill("cli.service_edited", &[("slug", &s.slug)]));
        }
        ServiceCommand::Remove { slug } => {
            catalogue::remove(&state, &slug).await.map_err(or_see("ronron service list"))?;
            println!("{}", t.fill("cli.service_removed", &[("slug", &slug)]));
        }
        ServiceCommand::List => {
            for (s, status) in catalogue::list_with_status(&state).await? {
                println!("{:<16} {:<18} {:<11} {:<24} {}", s.slug, status.cli_name(), s.registration, s.name, s.url);
            }
        }
    }
    Ok(())
}
