//! `ronron subscribers` and `ronron webhooks`: subscribers outside the fediverse.

use super::{cli_error, or_see};
use crate::{
    app::notify::{self, ExportFormat, NewWebhook},
    i18n::Texts,
    state::AppState,
};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum SubscribersCommand {
    /// How many email subscribers, confirmed and waiting, and the emails queued, sent, given up.
    Count,
    /// Every subscriber: id, address, language, what they get, confirmed or not.
    List,
    /// Remove a subscriber (by id or address): nothing more is sent to it.
    Remove { id_or_email: String },
    /// Write every subscriber on standard output, as CSV or JSON.
    Export {
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum WebhooksCommand {
    /// Register a webhook; its HMAC secret is printed once.
    Add {
        url: String,
        /// Events to send (bulletin.published, bulletin.updated, bulletin.deleted); default: all.
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// Bulletin kinds or change types (news, incident, maintenance…); default: all.
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
        /// Service slugs; default: every bulletin.
        #[arg(long, value_delimiter = ',')]
        services: Vec<String>,
    },
    /// Every webhook, with its filters.
    List,
    /// Remove a webhook (and its log).
    Remove { id: String },
    /// A webhook's latest calls, newest first.
    Log { id: String },
    /// Make every waiting email and webhook call due now (a running server sends them within a second).
    RetryNow,
}

pub(super) async fn subscribers_command(state: AppState, command: SubscribersCommand, t: &Texts) -> anyhow::Result<()> {
    match command {
        SubscribersCommand::Count => {
            let s = notify::subscribers(&state).await.map_err(cli_error)?;
            let values = [("confirmed", s.confirmed.to_string()), ("pending", s.pending.to_string())];
            println!("{}", t.fill("cli.subscribers", &values.each_ref().map(|(k, v)| (*k, v.as_str()))));
            let values =
                [("queued", s.queued.to_string()), ("sent", s.sent.to_string()), ("given_up", s.failed.to_string())];
            println!("{}", t.fill("cli.emails", &values.each_ref().map(|(k, v)| (*k, v.as_str()))));
        }
        SubscribersCommand::List => {
            for s in notify::subscribers(&state).await.map_err(cli_error)?.list {
                println!(
                    "{}  {}  {}  {}{}  {}",
                    s.id,
                    s.email,
                    s.lang,
                    s.scope,
                    if s.services.is_empty() { String::new() } else { format!(" ({})", s.services) },
                    if s.confirmed_at.is_some() { t.get("cli.confirmed") } else { t.get("cli.unconfirmed") }
                );
            }
        }
        SubscribersCommand::Remove { id_or_email } => {
            let s = notify::remove_subscriber(&state, &id_or_email).await.map_err(or_see("ronron subscribers list"))?;
            println!("{}", t.fill("cli.subscriber_removed", &[("email", &s.email)]));
        }
        SubscribersCommand::Export { format } => {
            let format: ExportFormat = format.parse().map_err(cli_error)?;
            print!("{}", notify::export_subscribers(&state, format).await.map_err(cli_error)?);
        }
    }
    Ok(())
}

pub(super) async fn webhooks_command(state: AppState, command: WebhooksCommand, t: &Texts) -> anyhow::Result<()> {
    match command {
        WebhooksCommand::Add { url, events, kinds, services } => {
            let hook =
                notify::add_webhook(&state, NewWebhook { url, events, kinds, services }).await.map_err(cli_error)?;
            println!("{}", t.fill("cli.webhook_added", &[("id", &hook.id), ("url", &hook.url)]));
            println!("{}", hook.secret);
        }
        WebhooksCommand::List => {
            let or_all = |s: &str| if s.is_empty() { t.get("cli.all").to_string() } else { s.replace(' ', ",") };
            for h in notify::webhooks(&state).await.map_err(cli_error)? {
                println!(
                    "{}  {}  events={} kinds={} services={}",
                    h.id,
                    h.url,
                    or_all(&h.events),
                    or_all(&h.kinds),
                    or_all(&h.services)
                );
            }
        }
        WebhooksCommand::Remove { id } => {
            notify::remove_webhook(&state, &id).await.map_err(or_see("ronron webhooks list"))?;
            println!("{}", t.fill("cli.webhook_removed", &[("id", &id)]));
        }
        WebhooksCommand::Log { id } => {
            let (_, log) = notify::webhook_log(&state, &id).await.map_err(or_see("ronron webhooks list"))?;
            for n in log {
                let attempts = t.fill("cli.attempts", &[("attempts", &n.attempts.to_string())]);
                println!(
                    "{}  {}  {}  {}  {attempts}  {}",
                    n.created_at.format("%Y-%m-%d %H:%M:%S"),
                    n.event,
                    n.bulletin_id.unwrap_or_default(),
                    n.status,
                    n.last_error.or(n.last_status.map(|s| format!("HTTP {s}"))).unwrap_or_default()
                );
            }
        }
        WebhooksCommand::RetryNow => {
            let n = notify::retry_now(&state).await.map_err(cli_error)?;
            println!("{}", t.count("cli.notifications_due_now", n as usize));
        }
    }
    Ok(())
}
