//! The `ronron` command line.

use crate::{
    bulletin::NewsDraft,
    config::{self, Config},
    db::{
        self,
        models::{activities as queue, bulletins, followers, remote},
    },
    federation::{self, activities, actors, FederationError},
    jobs,
    startup::Application,
    state::AppState,
};
use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};

#[derive(Parser, Debug)]
#[command(
    name = "ronron",
    version,
    about = "Ronron: federated bulletins for small ethical hosting providers.",
    long_about = "Ronron publishes your host's news, service changes and label as ActivityPub posts that \
Mastodon users can follow (@bulletin@your.domain), and follows other hosts.\n\n\
Start with `ronron serve`: it runs on http://127.0.0.1:8080 with SQLite under ./data/, no setup needed. \
`ronron init --domain your.domain` writes a configuration file to edit for production."
)]
pub struct Cli {
    /// Configuration file (TOML). Defaults to ./ronron.toml when it exists, else built-in defaults.
    #[arg(long, global = true, env = "RONRON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server: web pages, ActivityPub endpoints and the delivery workers.
    Serve,
    /// Write a configuration file and create the database and the signing keys.
    Init(InitArgs),
    /// Create or upgrade the database tables (also done by `serve`).
    Migrate,
    /// Publish, edit, delete and list bulletins.
    #[command(subcommand)]
    Post(PostCommand),
    /// List, approve and remove the accounts that follow this host.
    #[command(subcommand)]
    Followers(FollowersCommand),
    /// Follow another host's account (@name@domain or actor URL) from this host's account.
    Follow { handle: String },
    /// Stop following an account (its actor URL, as `ronron following` shows it).
    Unfollow { actor: String },
    /// List the accounts this host follows, with their state (pending, accepted, rejected).
    Following,
    /// Show the delivery queue and the health of each receiving inbox.
    Deliveries {
        /// Make every waiting delivery due now (a running server sends them within a second).
        #[arg(long)]
        retry_now: bool,
    },
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Public domain of this instance, e.g. bulletin.chaton.example (add :port only for tests).
    #[arg(long, default_value = "localhost:8080")]
    pub domain: String,
    /// Database URL: sqlite://path/to/file.db or postgres://user@host/db.
    #[arg(long, default_value = "sqlite://data/ronron.db")]
    pub database_url: String,
    /// Overwrite the configuration file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Subcommand, Debug)]
pub enum PostCommand {
    /// Publish a news bulletin now; it is delivered to every follower.
    News(NewsArgs),
    /// Edit a bulletin; followers receive the edit (an ActivityPub Update).
    Edit(EditArgs),
    /// Delete a bulletin; followers are told to remove it (an ActivityPub Delete).
    Delete { id: String },
    /// List bulletins, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Args, Debug)]
pub struct NewsArgs {
    /// Title, shown in bold at the top of the post.
    #[arg(long)]
    pub title: String,
    /// Body in Markdown.
    #[arg(long, required_unless_present = "body_file", conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Read the Markdown body from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// Language of the text (one of `account.languages`; default: the first of them).
    #[arg(long)]
    pub lang: Option<String>,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// The bulletin's id (see `ronron post list`).
    pub id: String,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    #[arg(long)]
    pub lang: Option<String>,
}

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

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = std::env::var("RONRON_LOG").unwrap_or_else(|_| match cli.command {
        Command::Serve => "info".into(),
        _ => "warn".into(),
    });
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_path(cli: &Cli) -> Option<PathBuf> {
    cli.config.clone().or_else(|| {
        let default = PathBuf::from("ronron.toml");
        default.exists().then_some(default)
    })
}

async fn open_state(config: Config) -> anyhow::Result<AppState> {
    let url = config.database.url.clone();
    tokio::task::spawn_blocking(move || AppState::open(config))
        .await?
        .with_context(|| format!("cannot open the database {url}"))
}

fn read_body(body: Option<String>, file: Option<PathBuf>) -> anyhow::Result<Option<String>> {
    match (body, file) {
        (Some(body), _) => Ok(Some(body)),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .context("cannot read the body from standard input")?;
            Ok(Some(text))
        }
        (None, Some(path)) => Ok(Some(
            std::fs::read_to_string(&path).with_context(|| format!("--body-file: cannot read {}", path.display()))?,
        )),
        (None, None) => Ok(None),
    }
}

/// CLI wording for errors the federation layer returns: name the option, not the JSON field.
fn cli_error(e: FederationError) -> anyhow::Error {
    match e {
        FederationError::Bulletin(crate::bulletin::BulletinError::Invalid { field, reason }) => {
            anyhow::anyhow!("--{field}: {reason}")
        }
        other => anyhow::anyhow!(other),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let path = config_path(&cli);
    if let Command::Init(args) = &cli.command {
        return init(path.unwrap_or_else(|| PathBuf::from("ronron.toml")), args).await;
    }
    let config = Config::load(path.as_deref())?;
    match cli.command {
        Command::Init(_) => unreachable!("handled above"),
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let url = config.database.url.clone();
            tokio::task::spawn_blocking(move || db::Db::connect(&url, 1)).await??;
            println!("database {} is up to date", config.database.url);
            Ok(())
        }
        Command::Post(command) => post(open_state(config).await?, command).await,
        Command::Followers(command) => followers_command(open_state(config).await?, command).await,
        Command::Follow { handle } => {
            let state = open_state(config).await?;
            let fed = federation::build(state.clone()).await?;
            let data = fed.to_request_data();
            let actor = actors::resolve(&data, &handle).await.map_err(cli_error)?;
            let url = url::Url::parse(&actor.id)?;
            let row = activities::follow(&state, &data, &url).await.map_err(cli_error)?;
            println!("follow request queued for {} ({}); it stays pending until they accept", handle, row.actor_id);
            Ok(())
        }
        Command::Unfollow { actor } => {
            let state = open_state(config).await?;
            if activities::unfollow(&state, &actor).await.map_err(cli_error)? {
                println!("unfollowed {actor}");
                Ok(())
            } else {
                bail!("this host does not follow `{actor}` (see `ronron following`)")
            }
        }
        Command::Following => {
            let state = open_state(config).await?;
            for row in state.db.read(remote::list_following).await? {
                println!("{:<9} {}", row.status, row.actor_id);
            }
            Ok(())
        }
        Command::Deliveries { retry_now } => {
            let state = open_state(config).await?;
            if retry_now {
                let n = state.db.write(queue::retry_now).await?;
                println!("{n} waiting deliveries are due now");
            }
            let (pending, delivered, failed) = state
                .db
                .read(|c| {
                    Ok((
                        queue::count_by_status(c, queue::PENDING)?,
                        queue::count_by_status(c, queue::DELIVERED)?,
                        queue::count_by_status(c, queue::FAILED)?,
                    ))
                })
                .await?;
            println!("pending {pending}, delivered {delivered}, given up {failed}");
            for h in state.db.read(queue::health).await? {
                println!(
                    "{}  consecutive failures: {}  last success: {}  last error: {}",
                    h.inbox,
                    h.consecutive_failures,
                    h.last_success_at.map(|t| t.to_string()).unwrap_or_else(|| "never".into()),
                    h.last_error.unwrap_or_else(|| "-".into())
                );
            }
            Ok(())
        }
    }
}

async fn init(path: PathBuf, args: &InitArgs) -> anyhow::Result<()> {
    if path.exists() && !args.force {
        bail!("{} already exists; pass --force to overwrite it", path.display());
    }
    let text = config::initial_file(&args.domain, &args.database_url);
    let config = Config::from_toml_and_env(&text, &[]).context("--domain or --database-url")?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    open_state(config.clone()).await?;
    println!("wrote {}; database ready with signing keys", path.display());
    println!("account: {}   start with: ronron --config {} serve", config.handle(), path.display());
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let state = app.state().clone();
    println!("Ronron listening on http://{} (public address {})", state.config.server.listen, state.urls.base());
    println!("Follow it from Mastodon: {}", state.config.handle());
    println!("Publish: ronron post news --title \"Hello\" --body \"First bulletin\"");
    if state.config.dev_mode() {
        println!("Dev mode: http and loopback peers are allowed. Set instance.domain for production.");
    }
    app.run_until_stopped().await?;
    Ok(())
}

async fn post(state: AppState, command: PostCommand) -> anyhow::Result<()> {
    match command {
        PostCommand::News(args) => {
            let body = read_body(args.body, args.body_file)?.unwrap_or_default();
            let draft = NewsDraft { title: args.title, body_markdown: body, lang: args.lang };
            let bulletin = activities::publish_news(&state, draft).await.map_err(cli_error)?;
            println!("published {} {}", bulletin.id, state.urls.bulletin(&bulletin.id));
        }
        PostCommand::Edit(args) => {
            let body = read_body(args.body, args.body_file)?;
            let edit = activities::NewsEdit { title: args.title, body_markdown: body, lang: args.lang };
            let bulletin = activities::edit_news(&state, &args.id, edit).await.map_err(cli_error)?;
            println!("edited {} {}", bulletin.id, state.urls.bulletin(&bulletin.id));
        }
        PostCommand::Delete { id } => {
            let bulletin = activities::delete_bulletin(&state, &id).await.map_err(cli_error)?;
            println!("deleted {}", bulletin.id);
        }
        PostCommand::List { limit } => {
            for b in state.db.read(move |c| bulletins::list_all(c, limit)).await? {
                let status = if b.is_deleted() {
                    "deleted"
                } else if b.updated_at.is_some() {
                    "edited"
                } else {
                    "published"
                };
                println!(
                    "{}  {}  {:<9} {:<4} {}  {}",
                    b.id,
                    b.published_at.format("%Y-%m-%d %H:%M"),
                    status,
                    b.kind,
                    b.lang,
                    b.title
                );
            }
        }
    }
    Ok(())
}

async fn followers_command(state: AppState, command: FollowersCommand) -> anyhow::Result<()> {
    match command {
        FollowersCommand::List { pending } => {
            let status = pending.then_some(followers::PENDING);
            for f in state.db.read(move |c| followers::list(c, status)).await? {
                println!("{:>5}  {:<8}  {}", f.id, f.status, f.actor_id);
            }
        }
        FollowersCommand::Approve { id } => {
            let f = activities::approve_follower(&state, id).await.map_err(cli_error)?;
            println!("approved {}", f.actor_id);
        }
        FollowersCommand::Remove { id } => {
            let f = activities::remove_follower(&state, id).await.map_err(cli_error)?;
            println!("removed {}", f.actor_id);
        }
    }
    Ok(())
}

/// Sends every due delivery once from this process (used by tests and by `ronron deliveries`).
pub async fn drain_deliveries(state: &AppState) -> anyhow::Result<usize> {
    let client = federation::http_client(state);
    Ok(jobs::delivery::drain(state, &client).await?)
}
