//! `ronron token`: bearer tokens for the JSON admin API.

use super::{cli_error, or_see};
use crate::{
    app::tokens,
    i18n::{Message, Texts},
    state::AppState,
};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once (only its hash is stored).
    Create {
        /// What the token is for, e.g. "status page".
        name: String,
    },
    /// List tokens, newest first: id, name, created, last used, revoked.
    List,
    /// Revoke a token: requests bearing it are refused from now on.
    Revoke { id: i64 },
}

pub(super) async fn token_command(state: AppState, command: TokenCommand, t: &Texts) -> anyhow::Result<()> {
    let when = |at: Option<chrono::NaiveDateTime>| at.map(|at| at.format("%Y-%m-%d %H:%M").to_string());
    match command {
        TokenCommand::Create { name } => {
            let (token, secret) = tokens::create(&state, &name).await.map_err(cli_error)?;
            println!("{}", t.fill("cli.token_created", &[("id", &token.id.to_string()), ("name", &token.name)]));
            println!("{secret}");
        }
        TokenCommand::List => {
            for token in tokens::list(&state).await.map_err(cli_error)? {
                let used = when(token.last_used_at).unwrap_or_else(|| t.get("cli.never").to_string());
                let mut line = format!(
                    "{:>4}  {}  {}  {}",
                    token.id,
                    token.created_at.format("%Y-%m-%d %H:%M"),
                    t.fill("cli.last_used", &[("when", &format!("{used:<16}"))]),
                    token.name
                );
                if let Some(revoked) = when(token.revoked_at) {
                    line += &t.fill("cli.revoked_at", &[("when", &revoked)]);
                }
                println!("{line}");
            }
        }
        TokenCommand::Revoke { id } => {
            if !tokens::revoke(&state, id).await.map_err(or_see("ronron token list"))? {
                return Err(Message::new("cli.no_live_token", &[("id", &id.to_string())]).into());
            }
            println!("{}", t.fill("cli.token_revoked", &[("id", &id.to_string())]));
        }
    }
    Ok(())
}
