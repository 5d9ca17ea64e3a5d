//! `ronron check`: prints each check of `app::check` as ok or FAILED; exits non-zero on a failure.

use crate::app::check;
use std::path::Path;

pub(super) async fn check(path: Option<&Path>) -> anyhow::Result<()> {
    let path = path.map(Path::to_path_buf);
    let checks = tokio::task::spawn_blocking(move || check::run(path.as_deref())).await?;
    let mut failed = 0;
    for c in &checks {
        match &c.outcome {
            Ok(seen) => println!("ok      {:<15} {seen}", c.name),
            Err(why) => {
                failed += 1;
                println!("FAILED  {:<15} {why}", c.name);
            }
        }
    }
    match failed {
        0 => Ok(()),
        n => anyhow::bail!("{n} of {} checks failed", checks.len()),
    }
}
