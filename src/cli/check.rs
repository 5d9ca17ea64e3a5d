//! `ronron check`: prints each check of `app::check` as ok or FAILED; exits non-zero on a failure.

use crate::{
    app::check,
    i18n::{Message, Texts},
};
use std::path::Path;

pub(super) async fn check(path: Option<&Path>, t: &Texts) -> anyhow::Result<()> {
    let path = path.map(Path::to_path_buf);
    let checks = tokio::task::spawn_blocking(move || check::run(path.as_deref())).await?;
    let mut failed = 0;
    for c in &checks {
        let name = format!("{:<19}", c.name.words(t));
        match &c.outcome {
            Ok(seen) => println!("{:<7} {name} {}", t.get("check.ok"), seen.words(t)),
            Err(why) => {
                failed += 1;
                println!("{:<7} {name} {}", t.get("check.failed"), why.words(t));
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => {
            let total = checks.len().to_string();
            Err(Message::counted("check.checks_failed", n, &[("total", &total)]).into())
        }
    }
}
