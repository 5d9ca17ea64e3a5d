//! `ronron post`: publish, edit, delete and list bulletins.

use super::{cli_error, or_see, print_bulletin};
use crate::{
    app::bulletins::{self, Publication},
    bulletin::{
        self,
        forms::{self, ChangeFields, PostFields},
        vocab::*,
        TextDraft,
    },
    i18n::{Message, Texts},
    state::AppState,
};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum PostCommand {
    /// Publish a news bulletin (now, or at --publish-at); it is delivered to every follower.
    News(NewsArgs),
    /// Publish a service change: maintenance, incident, registration, launch, migration, closure.
    Change(ChangeArgs),
    /// Post a follow-up to an incident (a reply in its thread; the incident's state is updated).
    FollowUp(FollowUpArgs),
    /// Move a maintenance window.
    Reschedule {
        /// The maintenance bulletin's id.
        id: String,
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
    },
    /// Cancel a maintenance that is scheduled or in progress.
    Cancel { id: String },
    /// Edit a bulletin's text; followers receive the edit (an ActivityPub Update).
    Edit(EditArgs),
    /// Delete a bulletin; followers are told to remove it (an ActivityPub Delete).
    Delete { id: String },
    /// List bulletins, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

/// The text of a bulletin, in the main language and optionally one translation.
#[derive(Args, Debug, Default)]
pub struct TextArgs {
    /// Title, shown in bold at the top of the post.
    #[arg(long)]
    pub title: Option<String>,
    /// Body in Markdown.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Read the Markdown body from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// Language of the text (one of `account.languages`; default: the first of them).
    #[arg(long)]
    pub lang: Option<String>,
    /// Language of a translation carried in the same post (e.g. `en`).
    #[arg(long)]
    pub translation_lang: Option<String>,
    /// Title of the translation (a follow-up without one gets a generated title, as without --title).
    #[arg(long, requires = "translation_lang")]
    pub translation_title: Option<String>,
    /// Markdown body of the translation.
    #[arg(long, requires = "translation_lang")]
    pub translation_body: Option<String>,
}

#[derive(Args, Debug)]
pub struct NewsArgs {
    #[command(flatten)]
    pub text: TextArgs,
    /// Publish later: `2030-03-12 09:00` in `instance.timezone`, or RFC 3339.
    #[arg(long)]
    pub publish_at: Option<String>,
}

#[derive(Args, Debug)]
pub struct ChangeArgs {
    /// incident, maintenance, registration, launch, migration or closure.
    #[arg(value_name = "TYPE")]
    pub change_type: String,
    /// Slug of a service concerned (repeat for several; see `ronron service list`).
    #[arg(long = "service", required = true)]
    pub services: Vec<String>,
    /// none, minor, major or critical.
    #[arg(long)]
    pub impact: Option<String>,
    /// Resulting status: operational, degraded, partial_outage, major_outage, under_maintenance, closed.
    #[arg(long)]
    pub status: Option<String>,
    /// For a registration change: open, on_request or closed.
    #[arg(long)]
    pub registration: Option<String>,
    /// For a migration: the service's new address.
    #[arg(long)]
    pub new_url: Option<String>,
    /// Start of a maintenance window: `2030-03-12 21:00` in `instance.timezone`, or RFC 3339.
    #[arg(long)]
    pub start: Option<String>,
    /// End of a maintenance window.
    #[arg(long)]
    pub end: Option<String>,
    #[command(flatten)]
    pub text: TextArgs,
    /// Publish later (same format as --start).
    #[arg(long)]
    pub publish_at: Option<String>,
}

#[derive(Args, Debug)]
pub struct FollowUpArgs {
    /// The incident's first bulletin.
    pub id: String,
    /// investigating, identified, monitoring or resolved.
    #[arg(long)]
    pub state: String,
    /// The services' status from now on (default: operational once resolved, else unchanged).
    #[arg(long)]
    pub status: Option<String>,
    #[command(flatten)]
    pub text: TextArgs,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// The bulletin's id (see `ronron post list`).
    pub id: String,
    #[command(flatten)]
    pub text: TextArgs,
}

fn read_body(body: Option<String>, file: Option<PathBuf>) -> anyhow::Result<Option<String>> {
    match (body, file) {
        (Some(body), _) => Ok(Some(body)),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| Message::new("cli.cannot_read_stdin", &[("error", &e.to_string())]))?;
            Ok(Some(text))
        }
        (None, Some(path)) => Ok(Some(std::fs::read_to_string(&path).map_err(|e| {
            let file = path.display().to_string();
            Message::new("cli.cannot_read_body_file", &[("file", &file), ("error", &e.to_string())])
        })?)),
        (None, None) => Ok(None),
    }
}

/// The post's texts as the form-fields shared with the web and the API (`--body-file` read here).
fn post_fields(args: TextArgs, publish_at: Option<String>) -> anyhow::Result<PostFields> {
    Ok(PostFields {
        lang: args.lang,
        title: args.title.unwrap_or_default(),
        body: read_body(args.body, args.body_file)?.unwrap_or_default(),
        translation_lang: args.translation_lang,
        translation_title: args.translation_title,
        translation_body: args.translation_body,
        publish_at,
    })
}

fn local_time(state: &AppState, field: &'static str, value: String) -> anyhow::Result<chrono::NaiveDateTime> {
    bulletin::parse_local_time(field, &value, state.config.timezone()).map_err(|e| cli_error(e.into()))
}

pub(super) async fn post(state: AppState, command: PostCommand, t: &Texts) -> anyhow::Result<()> {
    let tz = state.config.timezone();
    match command {
        PostCommand::News(args) => {
            let draft = post_fields(args.text, args.publish_at)?.draft(tz).map_err(|e| cli_error(e.into()))?;
            let b = bulletins::publish_post(&state, draft).await.map_err(cli_error)?;
            print_bulletin(&state, t, t.get("cli.published"), &b);
        }
        PostCommand::Change(args) => {
            let change = ChangeFields {
                change_type: args.change_type,
                services: args.services,
                impact: args.impact,
                status: args.status,
                registration: args.registration,
                new_url: args.new_url,
                start: args.start,
                end: args.end,
            };
            let change = change.draft(tz).map_err(|e| cli_error(e.into()))?;
            let draft = post_fields(args.text, args.publish_at)?.draft(tz).map_err(|e| cli_error(e.into()))?;
            let b = bulletins::publish_change(&state, draft, change).await.map_err(cli_error)?;
            print_bulletin(&state, t, t.get("cli.published"), &b);
        }
        PostCommand::FollowUp(args) => {
            let new_state = ChangeState::parse_incident("state", &args.state).map_err(|e| cli_error(e.into()))?;
            let status = forms::choice_field("status", &args.status).map_err(|e| cli_error(e.into()))?;
            let draft = post_fields(args.text, None)?.draft(tz).map_err(|e| cli_error(e.into()))?;
            let b = bulletins::post_follow_up(&state, &args.id, draft, new_state, status)
                .await
                .map_err(or_see("ronron post list"))?;
            print_bulletin(&state, t, t.get("cli.published_follow_up"), &b);
        }
        PostCommand::Reschedule { id, start, end } => {
            let start = local_time(&state, "start", start)?;
            let end = local_time(&state, "end", end)?;
            let b = bulletins::reschedule(&state, &id, start, end).await.map_err(or_see("ronron post list"))?;
            print_bulletin(&state, t, t.get("cli.rescheduled"), &b);
        }
        PostCommand::Cancel { id } => {
            let b = bulletins::cancel(&state, &id).await.map_err(or_see("ronron post list"))?;
            print_bulletin(&state, t, t.get("cli.cancelled"), &b);
        }
        PostCommand::Edit(args) => {
            let body = read_body(args.text.body, args.text.body_file)?;
            let translation = args.text.translation_lang.map(|lang| TextDraft {
                lang: Some(lang),
                title: args.text.translation_title.unwrap_or_default(),
                body_markdown: args.text.translation_body.unwrap_or_default(),
            });
            let edit =
                bulletins::NewsEdit { title: args.text.title, body_markdown: body, lang: args.text.lang, translation };
            let b = bulletins::edit_news(&state, &args.id, edit).await.map_err(or_see("ronron post list"))?;
            print_bulletin(&state, t, t.get("cli.edited"), &b);
        }
        PostCommand::Delete { id } => {
            let b = bulletins::delete_bulletin(&state, &id).await.map_err(or_see("ronron post list"))?;
            println!("{}", t.fill("cli.deleted", &[("id", &b.id)]));
        }
        PostCommand::List { limit } => {
            // Each time carries its zone's abbreviation (CET, CEST…): the host's zone, not UTC.
            for b in bulletins::list(&state, limit).await.map_err(cli_error)? {
                let status = match Publication::of(&b) {
                    Publication::Deleted => t.get("cli.status_deleted"),
                    Publication::Scheduled => t.get("cli.status_scheduled"),
                    Publication::Edited => t.get("cli.status_edited"),
                    Publication::Published => t.get("cli.status_published"),
                };
                let kind = b.change_type.clone().unwrap_or(b.kind.clone());
                let state_text = b.state.clone().map(|s| format!(" [{s}]")).unwrap_or_default();
                println!(
                    "{}  {}  {:<9} {:<12} {}  {}{}",
                    b.id,
                    b.published_at.and_utc().with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
                    status,
                    kind,
                    b.lang,
                    b.title,
                    state_text
                );
            }
        }
    }
    Ok(())
}
