//! `ronron token`: bearer tokens for the JSON admin API.

use super::{cli_error, or_see};
use crate::{app::tokens, state::AppState};
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

pub(super) async fn token_command(state: AppState, command: TokenCommand) -> anyhow::Result<()> {
    let when = |t: Option<chrono::NaiveDateTime>| t.map(|t| t.format("%Y-%m-%d %H:%M").to_string());
    match command {
        TokenCommand::Create { name } => {
            let (token, secret) = tokens::create(&state, &name).await.map_err(cli_error)?;
            println!("created token {} ({}); its secret, shown only now:", token.id, token.name);
            println!("{secret}");
        }
        TokenCommand::List => {
            for t in tokens::list(&state).await.map_err(cli_error)? {
                println!(
                    "{:>4}  {}  last used {:<16}  {}{}",
                    t.id,
                    t.created_at.format("%Y-%m-%d %H:%M"),
                    when(t.last_used_at).unwrap_or_else(|| "never".into()),
                    t.name,
                    when(t.revoked_at).map(|r| format!("  REVOKED {r}")).unwrap_or_default()
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if !tokens::revoke(&state, id).await.map_err(or_see("ronron token list"))? {
                anyhow::bail!("no live token has the id {id} (see `ronron token list`)");
            }
            println!("revoked token {id}");
        }
    }
    Ok(())
}
