//! `ronron members add|remove|list|approve` (the collective's roster, its followers and relay
//! subscribers) and `ronron collective join|joins|leave` (a member host joining a collective, or
//! leaving it).

use super::{cli_error, open_state, or_see};
use crate::{
    app::collective::{self, MemberState},
    config::Config,
    federation,
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

pub(super) async fn members(config: Config, command: MembersCommand) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    match command {
        MembersCommand::Add { handle } | MembersCommand::Approve { handle } => {
            let fed = federation::build(state.clone()).await?;
            let member = collective::add_member(&state, &fed.to_request_data(), &handle).await.map_err(cli_error)?;
            println!("{} ({}) is on the roster; its public bulletins are re-shared", member.handle, member.actor_id);
        }
        MembersCommand::Remove { handle } => {
            let removed = collective::remove_member(&state, &handle).await.map_err(or_see("ronron members list"))?;
            println!(
                "{} is off the roster ({} queued re-share deliveries dropped)",
                removed.member.handle, removed.dropped_deliveries
            );
        }
        MembersCommand::List { pending } => {
            let filter = pending.then_some(MemberState::Pending);
            for m in collective::list_members(&state, filter).await.map_err(cli_error)? {
                println!("{:<9} {}  since {}  {}  {}", m.state, m.handle, date(m.since), m.joined_via, m.actor_id);
            }
        }
        MembersCommand::Followers { relays } => {
            let filter = relays.then_some(true);
            for f in collective::followers(&state, filter).await.map_err(cli_error)? {
                println!(
                    "{:<9} {}{}  delivered {}  failures {}{}",
                    f.follower.status,
                    f.follower.actor_id,
                    if f.follower.is_relay { " (relay)" } else { "" },
                    f.last_delivered.map(date).unwrap_or_else(|| "never".into()),
                    f.failures,
                    f.paused_since.map(|p| format!("  PAUSED since {}", date(p))).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

pub(super) async fn collective_command(config: Config, command: CollectiveCommand) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    match command {
        CollectiveCommand::Join { handle } => {
            let fed = federation::build(state.clone()).await?;
            let join = collective::join(&state, &fed.to_request_data(), &handle).await.map_err(cli_error)?;
            println!(
                "join request sent to {} ({}); it stays pending until its admin approves (see `ronron collective joins`)",
                join.handle, join.group_actor_id
            );
        }
        CollectiveCommand::Leave { handle } => {
            let join = collective::leave(&state, &handle).await.map_err(or_see("ronron collective joins"))?;
            println!(
                "this host left {} ({}); its bulletins are no longer re-shared there",
                join.handle, join.group_actor_id
            );
        }
        CollectiveCommand::Joins => {
            for j in collective::join_requests(&state).await.map_err(cli_error)? {
                println!("{:<9} {}  asked {}  {}", j.state, j.handle, date(j.created_at), j.group_actor_id);
            }
        }
        CollectiveCommand::Logo(super::profile::LogoArgs { remove: true, .. }) => {
            let removed = collective::remove_logo(&state).await.map_err(cli_error)?;
            println!("{}", if removed { "the collective's logo is removed" } else { "the collective had no logo" });
        }
        CollectiveCommand::Logo(super::profile::LogoArgs { file, .. }) => {
            let upload = super::profile::read_upload(&state, &file.expect("clap requires FILE without --remove"))?;
            let logo = collective::set_logo(&state, upload).await.map_err(super::profile::upload_refused)?;
            println!(
                "the collective's logo is saved: {} ({}, {} × {} pixels); its followers receive the update",
                state.urls.media(&logo.file),
                logo.media_type,
                logo.width,
                logo.height
            );
        }
    }
    Ok(())
}
