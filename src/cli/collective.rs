//! `ronron members add|remove|list|approve` (the collective's roster, its followers and relay
//! subscribers) and `ronron collective join|joins|leave` (a member host joining a collective, or
//! leaving it).

use super::{cli_error, open_state, or_see};
use crate::{
    app::collective::{self, MemberState},
    config::Config,
    federation,
    i18n::Texts,
};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum MembersCommand {
    /// Put a member host on the roster (its host account: @name@domain or actor URL): this host
    /// follows it and backfills it, and the Group re-shares its public bulletins from then on.
    /// Also approves a host that asked to join.
    Add { handle: String },
    /// Approve a host that asked to join (as `ronron members list --pending` shows it).
    Approve { handle: String },
    /// Take a host off the roster: nothing more of it is re-shared, its re-shares still queued
    /// are dropped, and this host unfollows it.
    Remove { handle: String },
    /// The roster, oldest first: state, since when, how it joined.
    List {
        /// Only the hosts waiting for approval.
        #[arg(long)]
        pending: bool,
    },
    /// The Group's followers and relay subscribers, with the health of deliveries to each.
    Followers {
        /// Only relay subscribers.
        #[arg(long)]
        relays: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum CollectiveCommand {
    /// Ask the collective HANDLE (its Group, e.g. @collectif@collective.example) to put this host
    /// on its roster: this host follows it and sends a Join, pending until its admin approves.
    Join { handle: String },
    /// The collectives this host asked to join, and their answers.
    Joins,
    /// Leave the collective HANDLE (as `ronron collective joins` lists it): this host sends it an
    /// Undo of its Join and unfollows its Group; the collective takes it off its roster.
    Leave { handle: String },
    /// Upload the collective's logo FILE (the Group's avatar; PNG, JPEG, GIF or WebP), or remove
    /// it with --remove. Its followers receive the Group's update.
    Logo(super::profile::LogoArgs),
}

fn date(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

pub(super) async fn members(config: Config, command: MembersCommand, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    match command {
        MembersCommand::Add { handle } | MembersCommand::Approve { handle } => {
            let fed = federation::build(state.clone()).await?;
            let member = collective::add_member(&state, &fed.to_request_data(), &handle).await.map_err(cli_error)?;
            let values = [("handle", member.handle.as_str()), ("actor", &member.actor_id)];
            println!("{}", t.fill("cli.member_added", &values));
        }
        MembersCommand::Remove { handle } => {
            let removed = collective::remove_member(&state, &handle).await.map_err(or_see("ronron members list"))?;
            let dropped = t.count("cli.count.reshares_dropped", removed.dropped_deliveries);
            println!("{}", t.fill("cli.member_removed", &[("handle", &removed.member.handle), ("dropped", &dropped)]));
        }
        MembersCommand::List { pending } => {
            let filter = pending.then_some(MemberState::Pending);
            for m in collective::list_members(&state, filter).await.map_err(cli_error)? {
                let values = [
                    ("state", format!("{:<9}", m.state)),
                    ("handle", m.handle),
                    ("since", date(m.since)),
                    ("via", m.joined_via.to_string()),
                    ("actor", m.actor_id),
                ];
                println!("{}", t.fill("cli.member_line", &values.each_ref().map(|(k, v)| (*k, v.as_str()))));
            }
        }
        MembersCommand::Followers { relays } => {
            let filter = relays.then_some(true);
            for f in collective::followers(&state, filter).await.map_err(cli_error)? {
                let mut line = format!("{:<9} {}", f.follower.status, f.follower.actor_id);
                if f.follower.is_relay {
                    line += t.get("cli.relay");
                }
                let delivered = f.last_delivered.map(date).unwrap_or_else(|| t.get("cli.never").to_string());
                let values = [("last_delivery", delivered.as_str()), ("failures", &f.failures.to_string())];
                line += &t.fill("cli.delivered_failures", &values);
                if let Some(paused) = f.paused_since {
                    line += &t.fill("cli.paused_since", &[("since", &date(paused))]);
                }
                println!("{line}");
            }
        }
    }
    Ok(())
}

pub(super) async fn collective_command(config: Config, command: CollectiveCommand, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    match command {
        CollectiveCommand::Join { handle } => {
            let fed = federation::build(state.clone()).await?;
            let join = collective::join(&state, &fed.to_request_data(), &handle).await.map_err(cli_error)?;
            let values = [("handle", join.handle.as_str()), ("actor", &join.group_actor_id)];
            println!("{}", t.fill("cli.join_sent", &values));
        }
        CollectiveCommand::Leave { handle } => {
            let join = collective::leave(&state, &handle).await.map_err(or_see("ronron collective joins"))?;
            let values = [("handle", join.handle.as_str()), ("actor", &join.group_actor_id)];
            println!("{}", t.fill("cli.left", &values));
        }
        CollectiveCommand::Joins => {
            for j in collective::join_requests(&state).await.map_err(cli_error)? {
                let values = [
                    ("state", format!("{:<9}", j.state)),
                    ("handle", j.handle),
                    ("asked", date(j.created_at)),
                    ("actor", j.group_actor_id),
                ];
                println!("{}", t.fill("cli.join_line", &values.each_ref().map(|(k, v)| (*k, v.as_str()))));
            }
        }
        CollectiveCommand::Logo(super::profile::LogoArgs { remove: true, .. }) => {
            let removed = collective::remove_logo(&state).await.map_err(cli_error)?;
            println!(
                "{}",
                if removed { t.get("cli.collective_logo_removed") } else { t.get("cli.collective_had_no_logo") }
            );
        }
        CollectiveCommand::Logo(super::profile::LogoArgs { file, .. }) => {
            let upload = super::profile::read_upload(&state, &file.expect("clap requires FILE without --remove"))?;
            let logo = collective::set_logo(&state, upload).await.map_err(super::profile::upload_refused)?;
            let values = super::profile::logo_values(&state, &logo);
            println!("{}", t.fill("cli.collective_logo_saved", &values.each_ref().map(|(k, v)| (*k, v.as_str()))));
        }
    }
    Ok(())
}
