//! `ronron followers`: the accounts that follow this host.

use super::{cli_error, or_see};
use crate::{
    app::followers::{self, FollowState},
    state::AppState,
};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum FollowersCommand {
    /// List followers (id, state, account).
    List {
        /// Only those waiting for approval.
        #[arg(long)]
        pending: bool,
    },
    /// Accept a pending follower (when `account.manually_approves_followers` is on).
    Approve { id: i64 },
    /// Remove a follower, or refuse a pending one.
    Remove { id: i64 },
}

pub(super) async fn followers_command(state: AppState, command: FollowersCommand) -> anyhow::Result<()> {
    match command {
        FollowersCommand::List { pending } => {
            for f in followers::list(&state, pending.then_some(FollowState::Pending)).await.map_err(cli_error)? {
                println!("{:>5}  {:<8}  {}", f.id, f.status, f.actor_id);
            }
        }
        FollowersCommand::Approve { id } => {
            let f = followers::approve_follower(&state, id).await.map_err(or_see("ronron followers list"))?;
            println!("approved {}", f.actor_id);
        }
        FollowersCommand::Remove { id } => {
            let f = followers::remove_follower(&state, id).await.map_err(or_see("ronron followers list"))?;
            println!("removed {}", f.actor_id);
        }
    }
    Ok(())
}
