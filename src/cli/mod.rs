//! The `ronron` command line.

use crate::{
    app::catalogue,
    app::{blocks as moderation, profile},
    bulletin::{
        self, content,
        forms::{self, ChangeFields, PostFields},
        vocab::*,
        ServiceDraft, TextDraft,
    },
    config::{self, Config},
    db::models::{bulletins::Bulletin, label},
    db::{
        self,
        models::{activities as queue, bulletins, followers, remote, tokens},
    },
    federation::{self, actors, FederationError},
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
    /// The service catalogue: add, edit, remove, list (with each service's current status).
    #[command(subcommand)]
    Service(ServiceCommand),
    /// The host's label: grades against the charter's criteria.
    #[command(subcommand)]
    Label(LabelCommand),
    /// The host's public profile (name, description, structure, place, website, contact, logo).
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Follow another host's account (@name@domain or actor URL) from this host's account.
    Follow { handle: String },
    /// Stop following an account (its actor URL, as `ronron following` shows it).
    Unfollow { actor: String },
    /// List the accounts this host follows, with their state (pending, accepted, rejected).
    Following,
    /// Peers followed, with their state and health: last contact each way, failures, pauses.
    Peers,
    /// Write the peers followed on standard output: JSON (for `ronron import`) or OPML (their
    /// Atom feeds, for a feed reader).
    Export {
        #[arg(long, default_value = "json", value_parser = ["json", "opml"])]
        format: String,
    },
    /// Follow every account listed in FILE: one @name@domain or actor URL per line, or a JSON
    /// export (`-` reads standard input). Lines that fail are reported; the others go on.
    Import { file: PathBuf },
    /// Block a server: its activities are refused, what came from it is deleted, nothing is sent to it.
    Block {
        /// A host name (also blocks its subdomains), or host:port for one port only.
        domain: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lift a block.
    Unblock { domain: String },
    /// List blocked servers.
    Blocks,
    /// Web admin accounts: create one, change a password, list them.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Show the delivery queue and the health of each receiving inbox.
    Deliveries {
        /// Make every waiting delivery due now and lift pauses (a running server sends them within a second).
        #[arg(long)]
        retry_now: bool,
    },
    /// Bearer tokens for the JSON admin API (docs/API.md): create, list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Start a small federation on loopback: two member hosts and a collective following them,
    /// with sample services, incidents, maintenance, label grades and news. Ctrl-C stops it.
    Demo(DemoArgs),
}

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
    /// List the admin accounts.
    List,
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
    /// Publish a news bulletin (now, or at --publish-at); it is delivered to every follower.
    News(NewsArgs),
    /// Publish a service change: maintenance, incident, registration, launch, migration, closure.
    Change(ChangeArgs),
    /// Post a follow-up to an incident (a reply in its thread; the incident's state is updated).
    FollowUp(FollowUpArgs),
    /// Move a maintenance window.
    Reschedule {
        /// The maintenance bulletin's id.
        id: String,
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
    },
    /// Cancel a maintenance that is scheduled or in progress.
    Cancel { id: String },
    /// Edit a bulletin's text; followers receive the edit (an ActivityPub Update).
    Edit(EditArgs),
    /// Delete a bulletin; followers are told to remove it (an ActivityPub Delete).
    Delete { id: String },
    /// List bulletins, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

/// The text of a bulletin, in the main language and optionally one translation.
#[derive(Args, Debug, Default)]
pub struct TextArgs {
    /// Title, shown in bold at the top of the post.
    #[arg(long)]
    pub title: Option<String>,
    /// Body in Markdown.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Read the Markdown body from a file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// Language of the text (one of `account.languages`; default: the first of them).
    #[arg(long)]
    pub lang: Option<String>,
    /// Language of a translation carried in the same post (e.g. `en`).
    #[arg(long, requires = "translation_title")]
    pub translation_lang: Option<String>,
    #[arg(long, requires = "translation_lang")]
    pub translation_title: Option<String>,
    /// Markdown body of the translation.
    #[arg(long, requires = "translation_lang")]
    pub translation_body: Option<String>,
}

#[derive(Args, Debug)]
pub struct NewsArgs {
    #[command(flatten)]
    pub text: TextArgs,
    /// Publish later: `2030-03-12 09:00` in `instance.timezone`, or RFC 3339.
    #[arg(long)]
    pub publish_at: Option<String>,
}

#[derive(Args, Debug)]
pub struct ChangeArgs {
    /// incident, maintenance, registration, launch, migration or closure.
    #[arg(value_name = "TYPE")]
    pub change_type: String,
    /// Slug of a service concerned (repeat for several; see `ronron service list`).
    #[arg(long = "service", required = true)]
    pub services: Vec<String>,
    /// none, minor, major or critical.
    #[arg(long)]
    pub impact: Option<String>,
    /// Resulting status: operational, degraded, partial_outage, major_outage, under_maintenance, closed.
    #[arg(long)]
    pub status: Option<String>,
    /// For a registration change: open, on_request or closed.
    #[arg(long)]
    pub registration: Option<String>,
    /// For a migration: the service's new address.
    #[arg(long)]
    pub new_url: Option<String>,
    /// Start of a maintenance window: `2030-03-12 21:00` in `instance.timezone`, or RFC 3339.
    #[arg(long)]
    pub start: Option<String>,
    /// End of a maintenance window.
    #[arg(long)]
    pub end: Option<String>,
    #[command(flatten)]
    pub text: TextArgs,
    /// Publish later (same format as --start).
    #[arg(long)]
    pub publish_at: Option<String>,
}

#[derive(Args, Debug)]
pub struct FollowUpArgs {
    /// The incident's first bulletin.
    pub id: String,
    /// investigating, identified, monitoring or resolved.
    #[arg(long)]
    pub state: String,
    /// The services' status from now on (default: operational once resolved, else unchanged).
    #[arg(long)]
    pub status: Option<String>,
    #[command(flatten)]
    pub text: TextArgs,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// The bulletin's id (see `ronron post list`).
    pub id: String,
    #[command(flatten)]
    pub text: TextArgs,
}

#[derive(Subcommand, Debug)]
pub enum ServiceCommand {
    /// Add a service to the catalogue.
    Add(ServiceArgs),
    /// Change some fields of a service.
    Edit(ServiceArgs),
    /// Take a service out of the catalogue.
    Remove { slug: String },
    /// List services with their current status and registration state.
    List,
}

#[derive(Args, Debug)]
pub struct ServiceArgs {
    /// Short identifier used in URLs and commands, e.g. `nextcloud`.
    pub slug: String,
    #[arg(long)]
    pub name: Option<String>,
    /// The software it runs, e.g. Nextcloud.
    #[arg(long)]
    pub software: Option<String>,
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Who may use it, e.g. "members", "everyone".
    #[arg(long)]
    pub audience: Option<String>,
    /// open, on_request or closed.
    #[arg(long)]
    pub registration: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum LabelCommand {
    /// List the charter's criteria (ids to use with `label set`).
    Criteria,
    /// Show the current grades.
    Show,
    /// Grade a criterion: met, partial, not_met or not_applicable. A new grade is published.
    Set {
        criterion: String,
        grade: String,
        #[arg(long)]
        comment: Option<String>,
        /// URL of a page that shows it.
        #[arg(long)]
        evidence: Option<String>,
    },
    /// Every change to the label (grades, comments, evidence), oldest first.
    History,
}

#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Show the profile as published.
    Show,
    /// Change profile fields (an empty value clears an optional one); followers get the update.
    Set(ProfileArgs),
}

#[derive(Args, Debug, Default)]
pub struct ProfileArgs {
    #[arg(long)]
    pub display_name: Option<String>,
    /// Markdown.
    #[arg(long)]
    pub summary: Option<String>,
    /// association, cooperative, company, individual, collective…
    #[arg(long)]
    pub structure_type: Option<String>,
    /// Two-letter country code, e.g. FR.
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub website: Option<String>,
    #[arg(long)]
    pub contact: Option<String>,
    #[arg(long)]
    pub logo: Option<String>,
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
        FederationError::Bulletin(crate::bulletin::BulletinError::Invalid { field, reason })
        | FederationError::Catalogue(catalogue::CatalogueError::Invalid(crate::bulletin::BulletinError::Invalid {
            field,
            reason,
        })) => anyhow::anyhow!("--{field}: {reason}"),
        other => anyhow::anyhow!(other),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let path = config_path(&cli);
    if let Command::Init(args) = &cli.command {
        return init(path.unwrap_or_else(|| PathBuf::from("ronron.toml")), args).await;
    }
    // The demo builds its own three configurations; a local ronron.toml plays no part.
    if let Command::Demo(args) = cli.command {
        let options =
            crate::demo::DemoOptions { port: args.port, dir: args.dir, password: args.password, ..Default::default() };
        return crate::demo::run(options).await;
    }
    let config = Config::load(path.as_deref())?;
    match cli.command {
        Command::Init(_) | Command::Demo(_) => unreachable!("handled above"),
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let url = config.database.url.clone();
            tokio::task::spawn_blocking(move || db::Db::connect(&url, 1)).await??;
            println!("database {} is up to date", config.database.url);
            Ok(())
        }
        Command::Post(command) => post(open_state(config).await?, command).await,
        Command::Followers(command) => followers_command(open_state(config).await?, command).await,
        Command::Service(command) => service_command(open_state(config).await?, command).await,
        Command::Label(command) => label_command(open_state(config).await?, command).await,
        Command::Profile(command) => profile_command(open_state(config).await?, command).await,
        Command::Follow { handle } => {
            let state = open_state(config).await?;
            let fed = federation::build(state.clone()).await?;
            let data = fed.to_request_data();
            let actor = actors::resolve(&data, &handle).await.map_err(cli_error)?;
            let url = url::Url::parse(&actor.id)?;
            let row = crate::app::peers::follow(&state, &data, &url).await.map_err(cli_error)?;
            println!("follow request queued for {} ({}); it stays pending until they accept", handle, row.actor_id);
            Ok(())
        }
        Command::Unfollow { actor } => {
            let state = open_state(config).await?;
            if crate::app::peers::unfollow(&state, &actor).await.map_err(cli_error)? {
                println!("unfollowed {actor}");
                Ok(())
            } else {
                bail!("this host does not follow `{actor}` (see `ronron following`)")
            }
        }
        Command::Block { domain, reason } => {
            let state = open_state(config).await?;
            let purged = moderation::block(&state, &domain, reason).await?;
            println!(
                "blocked {domain}: removed {} followers, {} follows, {} posts; gave up {} deliveries",
                purged.followers, purged.following, purged.posts, purged.deliveries
            );
            Ok(())
        }
        Command::Unblock { domain } => {
            let state = open_state(config).await?;
            if moderation::unblock(&state, &domain).await? {
                println!("unblocked {domain}");
                Ok(())
            } else {
                bail!("`{domain}` is not blocked (see `ronron blocks`)")
            }
        }
        Command::Blocks => {
            let state = open_state(config).await?;
            for b in moderation::list(&state).await? {
                println!("{:<32} {}  {}", b.domain, b.created_at.format("%Y-%m-%d"), b.reason.unwrap_or_default());
            }
            Ok(())
        }
        Command::Peers => {
            let state = open_state(config).await?;
            let peers = state
                .db
                .read(|c| {
                    let health = queue::health(c)?;
                    let mut rows = Vec::new();
                    for f in remote::list_following(c)? {
                        let actor = remote::find_actor(c, &f.actor_id)?;
                        let inboxes: Vec<String> =
                            [Some(f.inbox.clone()), actor.and_then(|a| a.shared_inbox)].into_iter().flatten().collect();
                        let h: Vec<_> = health.iter().filter(|h| inboxes.contains(&h.inbox)).cloned().collect();
                        let received = remote::last_received(c, &f.actor_id)?;
                        rows.push((f, h, received));
                    }
                    Ok(rows)
                })
                .await?;
            let when = |t: Option<chrono::NaiveDateTime>| {
                t.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into())
            };
            for (f, health, received) in peers {
                let sent = health.iter().filter_map(|h| h.last_success_at).max();
                let failures = health.iter().map(|h| h.consecutive_failures).max().unwrap_or(0);
                let paused = health.iter().filter_map(|h| h.paused_at).min();
                println!(
                    "{:<9} {}  received {}  delivered {}  failures {}{}",
                    f.status,
                    f.actor_id,
                    when(received),
                    when(sent),
                    failures,
                    paused
                        .map(|p| format!(
                            "  PAUSED since {} (resumes when it sends something signed)",
                            p.format("%Y-%m-%d %H:%M")
                        ))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        Command::Export { format } => {
            let state = open_state(config).await?;
            let peers = state.db.read(crate::web::feeds::followed_peers).await?;
            if format == "opml" {
                print!("{}", crate::web::feeds::peers_opml(&state, &peers));
                return Ok(());
            }
            let list: Vec<serde_json::Value> = peers
                .iter()
                .map(|p| {
                    let handle = p
                        .actor
                        .as_ref()
                        .map(|a| format!("@{}@{}", a.preferred_username, crate::app::timeline::domain_of(&a.id)));
                    serde_json::json!({"actor": p.following.actor_id, "handle": handle, "status": p.following.status, "feed": p.feed})
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({"following": list}))?);
            Ok(())
        }
        Command::Import { file } => {
            let text = if file.as_os_str() == "-" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
                text
            } else {
                std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?
            };
            let targets = import_targets(&text)?;
            let state = open_state(config).await?;
            let fed = federation::build(state.clone()).await?;
            let mut failed = 0;
            for target in &targets {
                let data = fed.to_request_data();
                let result = async {
                    let actor = actors::resolve(&data, target).await?;
                    let url = url::Url::parse(&actor.id).map_err(|e| FederationError::Internal(e.to_string()))?;
                    crate::app::peers::follow(&state, &data, &url).await
                }
                .await;
                match result {
                    Ok(row) => println!("following {target} ({})", row.actor_id),
                    Err(e) => {
                        failed += 1;
                        eprintln!("{target}: {e}");
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} of {} accounts could not be followed", targets.len());
            }
            Ok(())
        }
        Command::Following => {
            let state = open_state(config).await?;
            for row in state.db.read(remote::list_following).await? {
                println!("{:<9} {}", row.status, row.actor_id);
            }
            Ok(())
        }
        Command::Admin(command) => admin_command(open_state(config).await?, command).await,
        Command::Token(command) => token_command(open_state(config).await?, command).await,
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
                    "{}  consecutive failures: {}  last success: {}  last error: {}{}",
                    h.inbox,
                    h.consecutive_failures,
                    h.last_success_at.map(|t| t.to_string()).unwrap_or_else(|| "never".into()),
                    h.last_error.unwrap_or_else(|| "-".into()),
                    h.paused_at.map(|p| format!("  PAUSED since {p} (--retry-now lifts it)")).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

/// The password typed on standard input, or a generated one (then printed once).
fn new_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
        Ok((line.trim_end_matches(['\r', '\n']).to_string(), false))
    } else {
        Ok((crate::app::admins::random_token()[..20].to_string(), true))
    }
}

fn auth_error(e: crate::app::admins::AuthError) -> anyhow::Error {
    match e {
        crate::app::admins::AuthError::Invalid { field, reason } => anyhow::anyhow!("{field}: {reason}"),
        other => anyhow::anyhow!(other),
    }
}

async fn admin_command(state: AppState, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Create { username, password_stdin } => {
            let (password, generated) = new_password(password_stdin)?;
            let admin = crate::app::admins::create_admin(&state, &username, &password).await.map_err(auth_error)?;
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
            crate::app::admins::set_password(&state, &username, &password).await.map_err(auth_error)?;
            println!("password of `{username}` changed; its open sessions are closed");
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::List => {
            for admin in crate::app::admins::list_admins(&state).await.map_err(auth_error)? {
                println!("{}  created {}", admin.username, admin.created_at.format("%Y-%m-%d"));
            }
        }
    }
    Ok(())
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
    println!("Web admin: {} (accounts: ronron admin create NAME)", state.urls.admin("login"));
    if state.config.dev_mode() {
        println!("Dev mode: http and loopback peers are allowed. Set instance.domain for production.");
    }
    app.run_until_stopped().await?;
    Ok(())
}

/// The post's texts as the form-fields shared with the web and the API (`--body-file` read here).
fn post_fields(args: TextArgs, publish_at: Option<String>) -> anyhow::Result<PostFields> {
    Ok(PostFields {
        lang: args.lang,
        title: args.title.unwrap_or_default(),
        body: read_body(args.body, args.body_file)?.unwrap_or_default(),
        translation_lang: args.translation_lang,
        translation_title: args.translation_title,
        translation_body: args.translation_body,
        publish_at,
    })
}

fn local_time(state: &AppState, field: &'static str, value: String) -> anyhow::Result<chrono::NaiveDateTime> {
    bulletin::parse_local_time(field, &value, state.config.timezone()).map_err(|e| cli_error(e.into()))
}

fn print_bulletin(state: &AppState, verb: &str, b: &Bulletin) {
    let when = if b.federated_at.is_none() {
        format!(
            " (scheduled for {})",
            content::local_date(b.published_at, state.config.timezone(), state.texts.texts("en"))
        )
    } else {
        String::new()
    };
    println!("{verb} {} {}{when}", b.id, state.urls.bulletin(&b.id));
}

async fn post(state: AppState, command: PostCommand) -> anyhow::Result<()> {
    let tz = state.config.timezone();
    match command {
        PostCommand::News(args) => {
            let draft = post_fields(args.text, args.publish_at)?.draft(tz).map_err(|e| cli_error(e.into()))?;
            let b = crate::app::bulletins::publish_post(&state, draft).await.map_err(cli_error)?;
            print_bulletin(&state, "published", &b);
        }
        PostCommand::Change(args) => {
            let change = ChangeFields {
                change_type: args.change_type,
                services: args.services,
                impact: args.impact,
                status: args.status,
                registration: args.registration,
                new_url: args.new_url,
                start: args.start,
                end: args.end,
            };
            let change = change.draft(tz).map_err(|e| cli_error(e.into()))?;
            let draft = post_fields(args.text, args.publish_at)?.draft(tz).map_err(|e| cli_error(e.into()))?;
            let b = crate::app::bulletins::publish_change(&state, draft, change).await.map_err(cli_error)?;
            print_bulletin(&state, "published", &b);
        }
        PostCommand::FollowUp(args) => {
            let new_state = ChangeState::parse("state", &args.state).map_err(|e| cli_error(e.into()))?;
            let status = forms::choice_field("status", &args.status).map_err(|e| cli_error(e.into()))?;
            let draft = post_fields(args.text, None)?.draft(tz).map_err(|e| cli_error(e.into()))?;
            let b = crate::app::bulletins::post_follow_up(&state, &args.id, draft, new_state, status)
                .await
                .map_err(cli_error)?;
            print_bulletin(&state, "published follow-up", &b);
        }
        PostCommand::Reschedule { id, start, end } => {
            let start = local_time(&state, "start", start)?;
            let end = local_time(&state, "end", end)?;
            let b = crate::app::bulletins::reschedule(&state, &id, start, end).await.map_err(cli_error)?;
            print_bulletin(&state, "rescheduled", &b);
        }
        PostCommand::Cancel { id } => {
            let b = crate::app::bulletins::cancel(&state, &id).await.map_err(cli_error)?;
            print_bulletin(&state, "cancelled", &b);
        }
        PostCommand::Edit(args) => {
            let body = read_body(args.text.body, args.text.body_file)?;
            let translation = args.text.translation_lang.map(|lang| TextDraft {
                lang: Some(lang),
                title: args.text.translation_title.unwrap_or_default(),
                body_markdown: args.text.translation_body.unwrap_or_default(),
            });
            let edit = crate::app::bulletins::NewsEdit {
                title: args.text.title,
                body_markdown: body,
                lang: args.text.lang,
                translation,
            };
            let b = crate::app::bulletins::edit_news(&state, &args.id, edit).await.map_err(cli_error)?;
            print_bulletin(&state, "edited", &b);
        }
        PostCommand::Delete { id } => {
            let b = crate::app::bulletins::delete_bulletin(&state, &id).await.map_err(cli_error)?;
            println!("deleted {}", b.id);
        }
        PostCommand::List { limit } => {
            for b in state.db.read(move |c| bulletins::list_all(c, limit)).await? {
                let status = if b.is_deleted() {
                    "deleted"
                } else if b.federated_at.is_none() {
                    "scheduled"
                } else if b.updated_at.is_some() {
                    "edited"
                } else {
                    "published"
                };
                let kind = b.change_type.clone().unwrap_or(b.kind.clone());
                let state_text = b.state.clone().map(|s| format!(" [{s}]")).unwrap_or_default();
                println!(
                    "{}  {}  {:<9} {:<12} {}  {}{}",
                    b.id,
                    b.published_at.format("%Y-%m-%d %H:%M"),
                    status,
                    kind,
                    b.lang,
                    b.title,
                    state_text
                );
            }
        }
    }
    Ok(())
}

async fn service_command(state: AppState, command: ServiceCommand) -> anyhow::Result<()> {
    let draft = |a: ServiceArgs, registration_default: &str| ServiceDraft {
        slug: a.slug,
        name: a.name.unwrap_or_default(),
        software: a.software.unwrap_or_default(),
        url: a.url.unwrap_or_default(),
        description: a.description.unwrap_or_default(),
        audience: a.audience.unwrap_or_default(),
        registration: a.registration.unwrap_or_else(|| registration_default.to_string()),
    };
    match command {
        ServiceCommand::Add(args) => {
            let s = catalogue::add(&state, draft(args, "open")).await.map_err(|e| cli_error(e.into()))?;
            println!("added {} ({})", s.slug, state.urls.service(&s.slug));
        }
        ServiceCommand::Edit(args) => {
            let slug = args.slug.clone();
            let s = catalogue::edit(&state, &slug, draft(args, "")).await.map_err(|e| cli_error(e.into()))?;
            println!("edited {}", s.slug);
        }
        ServiceCommand::Remove { slug } => {
            catalogue::remove(&state, &slug).await.map_err(|e| cli_error(e.into()))?;
            println!("removed {slug}");
        }
        ServiceCommand::List => {
            for (s, status) in catalogue::list_with_status(&state).await? {
                println!("{:<16} {:<18} {:<11} {:<24} {}", s.slug, status.cli_name(), s.registration, s.name, s.url);
            }
        }
    }
    Ok(())
}

async fn label_command(state: AppState, command: LabelCommand) -> anyhow::Result<()> {
    match command {
        LabelCommand::Criteria => {
            println!("{} ({})", state.criteria.name_en, state.criteria.id);
            for section in &state.criteria.sections {
                println!("{} / {}", section.title("en"), section.title("fr"));
                for c in &section.criteria {
                    println!("  {:<28} {}", c.id, c.label("en"));
                }
            }
        }
        LabelCommand::Show => {
            for g in state.db.read(label::grades).await? {
                println!("{:<28} {:<15} {}", g.criterion, g.grade, g.comment.unwrap_or_default());
            }
        }
        LabelCommand::Set { criterion, grade, comment, evidence } => {
            match crate::app::label::set_grade(&state, &criterion, &grade, comment, evidence)
                .await
                .map_err(cli_error)?
            {
                Some(b) => print_bulletin(&state, "grade changed; label update published", &b),
                None => println!("grade unchanged; comment and evidence updated"),
            }
        }
        LabelCommand::History => {
            for h in state.db.read(label::history).await? {
                println!(
                    "{}  {:<28} {} → {}  {}",
                    h.changed_at.format("%Y-%m-%d %H:%M"),
                    h.criterion,
                    h.old_grade.unwrap_or_else(|| "-".into()),
                    h.new_grade,
                    h.bulletin_id.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

async fn profile_command(state: AppState, command: ProfileCommand) -> anyhow::Result<()> {
    match command {
        ProfileCommand::Show => {
            let a = profile::effective(&state).await?;
            println!("handle:         {}", state.config.handle());
            println!("display name:   {}", a.display_name);
            println!("summary:        {}", a.summary);
            for (name, value) in [
                ("structure type", &a.structure_type),
                ("country", &a.country),
                ("region", &a.region),
                ("website", &a.website),
                ("contact", &a.contact),
                ("logo", &a.logo),
            ] {
                println!("{:<15} {}", format!("{name}:"), value.clone().unwrap_or_default());
            }
            println!("languages:      {}", a.languages.join(", "));
        }
        ProfileCommand::Set(args) => {
            let edit = profile::ProfileEdit {
                display_name: args.display_name,
                summary: args.summary,
                structure_type: args.structure_type,
                country: args.country,
                region: args.region,
                website: args.website,
                contact: args.contact,
                logo: args.logo,
            };
            profile::set(&state, edit).await.map_err(|e| anyhow::anyhow!(e))?;
            let sent = crate::app::profile::federate_profile_if_changed(&state).await.map_err(cli_error)?;
            println!("profile saved{}", if sent { "; followers receive the update" } else { "" });
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
            let f = crate::app::followers::approve_follower(&state, id).await.map_err(cli_error)?;
            println!("approved {}", f.actor_id);
        }
        FollowersCommand::Remove { id } => {
            let f = crate::app::followers::remove_follower(&state, id).await.map_err(cli_error)?;
            println!("removed {}", f.actor_id);
        }
    }
    Ok(())
}

async fn token_command(state: AppState, command: TokenCommand) -> anyhow::Result<()> {
    let when = |t: Option<chrono::NaiveDateTime>| t.map(|t| t.format("%Y-%m-%d %H:%M").to_string());
    let now = state.clock.now();
    match command {
        TokenCommand::Create { name } => {
            let name = tokens::validate_name(&name)?;
            let (token, secret) = state.db.write(move |c| tokens::create(c, &name, now)).await?;
            println!("created token {} ({}); its secret, shown only now:", token.id, token.name);
            println!("{secret}");
        }
        TokenCommand::List => {
            for t in state.db.read(tokens::list).await? {
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
            if state.db.write(move |c| tokens::revoke(c, id, now)).await? {
                println!("revoked token {id}");
            } else {
                bail!("no live token has the id {id} (see `ronron token list`)");
            }
        }
    }
    Ok(())
}

/// Sends every due delivery once from this process (used by tests and by `ronron deliveries`).
pub async fn drain_deliveries(state: &AppState) -> anyhow::Result<usize> {
    let client = federation::http_client(state);
    Ok(jobs::delivery::drain(state, &client).await?)
}

/// The accounts listed by an import file: a JSON export, or one handle or URL per line.
fn import_targets(text: &str) -> anyhow::Result<Vec<String>> {
    if text.trim_start().starts_with('{') {
        let export: serde_json::Value =
            serde_json::from_str(text).context("the file looks like JSON but does not parse")?;
        let list = export["following"].as_array().context("a JSON import needs a `following` list")?;
        return Ok(list.iter().filter_map(|f| f["actor"].as_str().map(str::to_string)).collect());
    }
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect())
}
