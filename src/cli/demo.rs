//! `ronron demo`: a small federation on loopback.

use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Port of the first member host; the second member and the collective take the next two.
    #[arg(long, default_value_t = 8081)]
    pub port: u16,
    /// Keep the three databases in DIR (reused without seeding again on the next run with the same
    /// DIR). Default: a temporary directory removed at exit.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The admin password of the three instances (at least 10 characters). Default: generated and
    /// printed.
    #[arg(long)]
    pub password: Option<String>,
}
