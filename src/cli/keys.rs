//! `ronron keys rotate`.

use super::{cli_error, open_state};
use crate::{app::keys, config::Config, i18n::Texts};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Make a new signing key for the host account, send the actor's Update to every follower,
    /// and sign with the new key from then on (a running server picks it up within a second).
    Rotate,
}

pub(super) async fn keys_command(config: Config, command: KeysCommand, t: &Texts) -> anyhow::Result<()> {
    let state = open_state(config).await?;
    match command {
        KeysCommand::Rotate => {
            let rotated = keys::rotate(&state).await.map_err(cli_error)?;
            println!("{}", t.fill("cli.new_key", &[("actor", state.urls.host_actor().as_str())]));
            if rotated.update_queued && rotated.inboxes > 0 {
                println!("{}", t.count("cli.key_update_queued", rotated.inboxes as usize));
            } else {
                println!("{}", t.get("cli.no_follower_to_tell"));
            }
            print!("{}", rotated.public_key_pem);
        }
    }
    Ok(())
}
