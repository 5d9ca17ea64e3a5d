//! `ronron admin`: web admin accounts.

use super::{cli_error, or_see};
use crate::{app::admins, i18n::Message, i18n::Texts, state::AppState};
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
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Message::new("cli.cannot_read_stdin", &[("error", &e.to_string())]))?;
        Ok((line.trim_end_matches(['\r', '\n']).to_string(), false))
    } else {
        Ok((admins::random_token()[..20].to_string(), true))
    }
}

pub(super) async fn admin_command(state: AppState, command: AdminCommand, t: &Texts) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create { username, password_stdin } => {
            let (password, generated) = new_password(password_stdin)?;
            let admin = admins::create_admin(&state, &username, &password).await.map_err(cli_error)?;
            super::print_admin_created(
                t,
                &admin.username,
                state.urls.admin("login").as_str(),
                generated.then_some(&password),
            );
        }
        AdminCommand::Password { username, password_stdin } => {
            let (password, generated) = new_password(password_stdin)?;
            admins::set_password(&state, &username, &password).await.map_err(or_see("ronron admin list"))?;
            println!("{}", t.fill("cli.password_changed", &[("username", &username)]));
            if generated {
                println!("{}", t.fill("cli.password", &[("password", &password)]));
            }
        }
        AdminCommand::Delete { username } => {
            admins::delete_admin(&state, &username).await.map_err(or_see("ronron admin list"))?;
            println!("{}", t.fill("cli.admin_deleted", &[("username", &username)]));
        }
        AdminCommand::List => {
            for admin in admins::list_admins(&state).await.map_err(cli_error)? {
                let created = admin.created_at.format("%Y-%m-%d").to_string();
                println!("{}", t.fill("cli.admin_line", &[("username", &admin.username), ("created", &created)]));
            }
        }
    }
    Ok(())
}
