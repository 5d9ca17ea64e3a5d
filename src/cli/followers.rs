//! `ronron followers`: the accounts that follow this host.

use super::{cli_error, or_see};
use crate::{
    app::followers::{self, FollowState},
    i18n::Texts,
    state::AppState,
};
use chrono::TimeZone;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum FollowersCommand {
    /// List followers (id, state, since, handle, display name).
    List {
        /// Only those waiting for approval.
        #[arg(long)]
        pending: bool,
        /// Only those whose handle, name or server contains this text (any case).
        #[arg(long)]
        search: Option<String>,
    },
    /// Accept a pending follower (when `account.manually_approves_followers` is on).
    Approve { id: i64 },
    /// Remove a follower, or refuse a pending one.
    Remove { id: i64 },
}

pub(super) async fn followers_command(state: AppState, command: FollowersCommand, t: &Texts) -> anyhow::Result<()> {
    match command {
        FollowersCommand::List { pending, search } => {
            let status = pending.then_some(FollowState::Pending);
            let tz = state.config.timezone();
            for entry in followers::directory(&state, status, search.as_deref()).await.map_err(cli_error)? {
                let f = &entry.follower;
                let since = tz.from_utc_datetime(&f.created_at).format("%Y-%m-%d");
                let name = entry.name.as_deref().unwrap_or("");
                println!("{:>5}  {:<8}  {since}  {}  {name}", f.id, f.status, entry.handle);
            }
        }
        FollowersCommand::Approve { id } => {
            let f = followers::approve_follower(&state, id).await.map_err(or_see("ronron followers list"))?;
            println!("{}", t.fill("cli.follower_approved", &[("actor", &f.actor_id)]));
        }
        FollowersCommand::Remove { id } => {
            let f = followers::remove_follower(&state, id).await.map_err(or_see("ronron followers list"))?;
            println!("{}", t.fill("cli.follower_removed", &[("actor", &f.actor_id)]));
        }
    }
    Ok(())
}
