//! `ronron keys rotate`.

use super::{cli_error, open_state};
use crate::{app::keys, config::Config};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Make a new signing key for the host account, send the actor's Update to every follower,
    /// and sign with the new key from then on (a running server picks it up within a second).
    Rotate,
}

pub(super) async fn keys_command(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    match command {
        KeysCommand::Rotate => {
            let rotated = keys::rotate(&state).await.map_err(cli_error)?;
            println!("new signing key for {}", state.urls.host_actor());
            if rotated.update_queued && rotated.inboxes > 0 {
                let inboxes =
                    if rotated.inboxes == 1 { "1 inbox".to_string() } else { format!("{} inboxes", rotated.inboxes) };
                println!("actor Update queued for {inboxes} (a running server sends it)");
            } else {
                println!("no follower to tell");
            }
            print!("{}", rotated.public_key_pem);
        }
    }
    Ok(())
}
