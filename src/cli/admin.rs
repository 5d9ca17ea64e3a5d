//! `ronron admin`: web admin accounts.

use super::{cli_error, or_see};
use crate::{app::admins, state::AppState};
use anyhow::Context;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an account for the web admin (/admin). Without --password-stdin a strong password
    /// is generated and printed once.
    Create {
        username: String,
        /// Read the password from the first line of standard input (at least 10 characters).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (generated and printed, or read with --password-stdin); every open
    /// session of that account ends.
    Password {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete an admin account and end its sessions (the last admin cannot be deleted).
    Delete { username: String },
    /// List the admin accounts.
    List,
}

/// The password typed on standard input, or a generated one (then printed once).
fn new_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
        Ok((line.trim_end_matches(['\r', '\n']).to_string(), false))
    } else {
        Ok((admins::random_token()[..20].to_string(), true))
    }
}

pub(super) async fn admin_command(state: AppState, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create { username, password_stdin } => {
            let (password, generated) = new_password(password_stdin)?;
            let admin = admins::create_admin(&state, &username, &password).await.map_err(cli_error)?;
            println!("admin `{}` created; log in at {}", admin.username, state.urls.admin("login"));
            if generated {
                println!(
                    "password: {password}\n(shown once; change it with `ronron admin password {}`)",
                    admin.username
                );
            }
        }
        AdminCommand::Password { username, password_stdin } => {
            let (password, generated) = new_password(password_stdin)?;
            admins::set_password(&state, &username, &password).await.map_err(or_see("ronron admin list"))?;
            println!("password of `{username}` changed; its open sessions are closed");
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::Delete { username } => {
            admins::delete_admin(&state, &username).await.map_err(or_see("ronron admin list"))?;
            println!("admin `{username}` deleted; its open sessions are closed");
        }
        AdminCommand::List => {
            for admin in admins::list_admins(&state).await.map_err(cli_error)? {
                println!("{}  created {}", admin.username, admin.created_at.format("%Y-%m-%d"));
            }
        }
    }
    Ok(())
}
