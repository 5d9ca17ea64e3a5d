//! The `ronron` command line: `Cli` and the dispatch here, one file per command group.

mod admin;
mod archive;
mod backup;
mod blocks;
mod chatonsinfos;
mod check;
mod collective;
mod deliveries;
mod demo;
mod followers;
mod init;
mod keys;
mod label;
mod notify;
mod peers;
mod post;
mod profile;
mod serve;
mod service;
mod token;

pub use admin::AdminCommand;
pub use collective::{CollectiveCommand, MembersCommand};
pub use deliveries::drain_deliveries;
pub use demo::DemoArgs;
pub use followers::FollowersCommand;
pub use init::InitArgs;
pub use keys::KeysCommand;
pub use label::LabelCommand;
pub use notify::{SubscribersCommand, WebhooksCommand};
pub use post::{ChangeArgs, EditArgs, FollowUpArgs, NewsArgs, PostCommand, TextArgs};
pub use profile::{ProfileArgs, ProfileCommand};
pub use service::{ServiceArgs, ServiceCommand};
pub use token::TokenCommand;

use crate::{
    app::bulletins::Bulletin,
    app::AppError,
    bulletin::content,
    config::Config,
    i18n::{Catalog, Message, Texts},
    state::AppState,
};
use clap::{Parser, Subcommand};
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
    /// Guided setup: asks for the domain, database, account, languages, time zone, first admin and
    /// services (each also a flag), then writes a commented configuration file and creates the
    /// database, the signing keys, the admin and the services. At the end of the input the
    /// remaining questions take their defaults.
    Init(InitArgs),
    /// Check the configuration and the environment: the configuration file, the data directory,
    /// the database and its migrations (without migrating), the public URL's scheme, the reverse
    /// proxy, the signing keys. Prints ok or FAILED per check; exits non-zero when one fails.
    Check,
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
    /// Atom feeds, for a feed reader). With --all: everything the host made, as one JSON document.
    Export {
        #[arg(long, default_value = "json", value_parser = ["json", "opml"])]
        format: String,
        /// The whole host: bulletins with their translations, services, label and history, profile,
        /// followers, follows, blocks and sent activities (for `ronron import --all`).
        #[arg(long, conflicts_with = "format")]
        all: bool,
        /// With --all: include the account's private key, so it keeps its identity on a new
        /// machine. The document is then secret.
        #[arg(long, requires = "all")]
        include_key: bool,
        /// With --all: write to this new file (mode 0600) instead of standard output.
        #[arg(long, short, requires = "all", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Follow every account listed in FILE: one @name@domain or actor URL per line, or a JSON
    /// export (`-` reads standard input). Lines that fail are reported; the others go on.
    /// With --all: load an `export --all` document into this fresh instance (all or nothing).
    /// With --chatonsinfos: read a ChatonsInfos organisation file (a URL or FILE) and its service
    /// files, show what would change in the profile and the catalogue, and apply it on --apply
    /// (or when you answer yes).
    Import {
        file: PathBuf,
        #[arg(long, conflicts_with = "chatonsinfos")]
        all: bool,
        #[arg(long)]
        chatonsinfos: bool,
        /// With --chatonsinfos: apply without asking.
        #[arg(long, requires = "chatonsinfos")]
        apply: bool,
    },
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
    /// Email subscribers: count, list, remove, export (their addresses are personal data).
    #[command(subcommand)]
    Subscribers(SubscribersCommand),
    /// Webhooks: register (URL, events, kinds, services), list, remove, their delivery log.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Write a consistent copy of the SQLite database to FILE (a new file), even while the server
    /// runs; the copy is checked before it is kept. PostgreSQL: use pg_dump.
    Backup { file: PathBuf },
    /// Replace the SQLite database by the backup FILE. Refused while a server runs on it; the
    /// replaced database is kept beside it. PostgreSQL: use pg_restore.
    Restore { file: PathBuf },
    /// The host account's signing key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Start a small federation on loopback: two member hosts and a collective following them,
    /// with sample services, incidents, maintenance, label grades and news. Ctrl-C stops it.
    Demo(DemoArgs),
    /// The collective role: the roster of member hosts whose bulletins the Group re-shares.
    #[command(subcommand)]
    Members(MembersCommand),
    /// Join a collective (from a member host): ask its Group to put this host on its roster.
    #[command(subcommand)]
    Collective(CollectiveCommand),
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
    let catalog = Catalog::embedded();
    let lang = match &cli.command {
        Command::Init(args) => init::question_language(args.lang.as_deref()),
        _ => reader_language(),
    };
    let t = catalog.texts(lang);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!(
                "{}",
                t.fill("cli.error", &[("reason", &t.fill("cli.no_runtime", &[("error", &e.to_string())]))])
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, t)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", t.fill("cli.error", &[("reason", &failure_words(t, &e))]));
            ExitCode::FAILURE
        }
    }
}

/// The reader's language: the locale's, as POSIX orders its variables (`LC_ALL`, then
/// `LC_MESSAGES`, then `LANG`), when a catalogue has it; else English.
fn reader_language() -> &'static str {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|l| !l.is_empty()))
        .map_or(crate::i18n::FALLBACK, |locale| crate::i18n::locale_language(&locale))
}

/// A command's failure as the reader reads it: a use-case's error in their words, each refused
/// field named as its option; the command line's own messages from the catalogue; anything else
/// (an I/O error, a database that cannot be opened) as it says itself.
fn failure_words(t: &Texts, e: &anyhow::Error) -> String {
    if let Some(failure) = e.downcast_ref::<Failure>() {
        return failure.words(t);
    }
    if let Some(message) = e.downcast_ref::<Message>() {
        return message.words(t);
    }
    format!("{e:#}")
}

/// A use-case's error, kept typed until it is worded in the reader's language; `see` names the
/// command that lists what exists, for an error that something was not found.
#[derive(Debug)]
struct Failure {
    error: AppError,
    see: Option<&'static str>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words(crate::refusal::english()))
    }
}

impl std::error::Error for Failure {}

impl Failure {
    fn words(&self, t: &Texts) -> String {
        error_words(t, &self.error, self.see)
    }
}

/// The one mapping of the use-cases' error to the command line: a refused value names its option
/// (`--publish-at: is in the past`); anything else says what happened.
fn error_words(t: &Texts, error: &AppError, see: Option<&str>) -> String {
    {
        // Fields that are arguments, not options, of the commands that can refuse them
        // (`ronron follow HANDLE`, `import FILE`, `admin create USERNAME`, `token create NAME`,
        // `post edit ID`): they are named as such, never as an option (`--id`).
        const ARGUMENTS: &[&str] = &["handle", "file", "username", "password", "name", "id"];
        let name = |field: &str| {
            if ARGUMENTS.contains(&field) {
                return field.to_string();
            }
            // A grade of `label set hoster.backups=met …` (`hoster.backups.grade`) is named by
            // its criterion; its comment and evidence are options. Other dotted names are
            // configuration keys (`database.url`).
            if let Some((criterion, part)) = field.rsplit_once('.') {
                return match part {
                    "comment" | "evidence" => format!("--{part}"),
                    "grade" => criterion.to_string(),
                    _ => field.to_string(),
                };
            }
            format!("--{}", field.replace('_', "-"))
        };
        let line = |field: &str, reason: &str| t.fill("cli.refused", &[("option", field), ("reason", reason)]);
        match error {
            // One line per refused field, each naming its option.
            AppError::Invalid { .. } | AppError::Fields(_) => error
                .refusals()
                .iter()
                .map(|r| line(&name(&r.field), &r.reason.words(t)))
                .collect::<Vec<_>>()
                .join("\n"),
            // A state that refuses the action, about an argument (`id`, `handle`) or a field.
            AppError::Conflict { field: Some(field), reason } => line(field, &reason.words(t)),
            AppError::Conflict { field: None, reason } => reason.words(t),
            AppError::Unreachable { field, reason } => {
                let words = t.fill("forms.unreachable", &[("reason", reason)]);
                field.as_deref().map_or(words.clone(), |f| line(&name(f), &words))
            }
            AppError::NotFound(reason) => match see {
                Some(command) => t.fill("cli.see", &[("reason", &reason.words(t)), ("command", command)]),
                None => reason.words(t),
            },
            AppError::BadCredentials => t.get("login_failed").to_string(),
            AppError::Throttled { minutes } => {
                t.plural("login_throttled", *minutes as u64, &[("minutes", &minutes.to_string())])
            }
            AppError::Db(_) | AppError::Internal(_) => error.to_string(),
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
    tokio::task::spawn_blocking(move || AppState::open(config)).await?.map_err(|e| {
        anyhow::Error::from(Message::new("cli.cannot_open_database", &[("url", &url), ("error", &format!("{e:#}"))]))
    })
}

/// A use-case's error, worded at the top in the reader's language (`Failure::words`).
fn cli_error(e: AppError) -> anyhow::Error {
    Failure { error: e, see: None }.into()
}

/// `cli_error`, pointing at the command that lists what exists when something is not found.
fn or_see(list_command: &'static str) -> impl Fn(AppError) -> anyhow::Error {
    move |e| Failure { error: e, see: Some(list_command) }.into()
}

/// A file's text, read for the FILE argument.
fn read_file(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        Message::new("cli.cannot_read_file", &[("file", &path.display().to_string()), ("error", &e.to_string())]).into()
    })
}

/// A new admin account, and its password when it was generated (shown once).
fn print_admin_created(t: &Texts, username: &str, login: &str, generated: Option<&String>) {
    println!("{}", t.fill("cli.admin_created", &[("username", username), ("login", login)]));
    if let Some(password) = generated {
        println!("{}", t.fill("cli.password", &[("password", password)]));
        println!("{}", t.fill("cli.password_shown_once", &[("username", username)]));
    }
}

/// "published 3f2a… https://…/b/3f2a…", and when the bulletin is scheduled.
fn print_bulletin(state: &AppState, t: &Texts, done: &str, b: &Bulletin) {
    let url = state.urls.bulletin(&b.id).to_string();
    match b.federated_at {
        Some(_) => println!("{}", t.fill("cli.bulletin_done", &[("done", done), ("id", &b.id), ("url", &url)])),
        None => {
            let date = content::local_date(b.published_at, state.config.timezone(), t);
            let values = [("done", done), ("id", &b.id), ("url", &url), ("date", &date)];
            println!("{}", t.fill("cli.bulletin_scheduled", &values));
        }
    }
}

pub async fn run(cli: Cli, t: &Texts) -> anyhow::Result<()> {
    let path = config_path(&cli);
    if let Command::Init(args) = &cli.command {
        return init::init(path.unwrap_or_else(|| PathBuf::from("ronron.toml")), args, t).await;
    }
    if let Command::Check = cli.command {
        return check::check(path.as_deref(), t).await;
    }
    // The demo builds its own three configurations; a local ronron.toml plays no part.
    if let Command::Demo(args) = cli.command {
        let options =
            crate::demo::DemoOptions { port: args.port, dir: args.dir, password: args.password, ..Default::default() };
        return crate::demo::run(options).await;
    }
    let config = Config::load(path.as_deref())?;
    match cli.command {
        Command::Init(_) | Command::Demo(_) | Command::Check => unreachable!("handled above"),
        Command::Serve => serve::serve(config, t).await,
        Command::Migrate => serve::migrate(config, t).await,
        Command::Post(command) => post::post(open_state(config).await?, command, t).await,
        Command::Followers(command) => followers::followers_command(open_state(config).await?, command, t).await,
        Command::Service(command) => service::service_command(open_state(config).await?, command, t).await,
        Command::Label(command) => label::label_command(open_state(config).await?, command, t).await,
        Command::Profile(command) => profile::profile_command(open_state(config).await?, command, t).await,
        Command::Follow { handle } => peers::follow(config, handle, t).await,
        Command::Unfollow { actor } => peers::unfollow(config, actor, t).await,
        Command::Block { domain, reason } => blocks::block(config, domain, reason, t).await,
        Command::Unblock { domain } => blocks::unblock(config, domain, t).await,
        Command::Blocks => blocks::blocks(config, t).await,
        Command::Peers => peers::peers(config, t).await,
        Command::Export { all: true, include_key, output, .. } => {
            archive::export_all(config, include_key, output, t).await
        }
        Command::Export { format, .. } => peers::export(config, format, t).await,
        Command::Import { file, all: true, .. } => archive::import_all(config, file, t).await,
        Command::Import { file, chatonsinfos: true, apply, .. } => {
            chatonsinfos::import(open_state(config).await?, file, apply, t).await
        }
        Command::Import { file, .. } => peers::import(config, file, t).await,
        Command::Following => peers::following(config, t).await,
        Command::Admin(command) => admin::admin_command(open_state(config).await?, command, t).await,
        Command::Token(command) => token::token_command(open_state(config).await?, command, t).await,
        Command::Subscribers(command) => notify::subscribers_command(open_state(config).await?, command, t).await,
        Command::Webhooks(command) => notify::webhooks_command(open_state(config).await?, command, t).await,
        Command::Deliveries { retry_now } => deliveries::deliveries(config, retry_now, t).await,
        Command::Backup { file } => backup::backup(config, file, t).await,
        Command::Restore { file } => backup::restore(config, file, t).await,
        Command::Keys(command) => keys::keys_command(config, command, t).await,
        Command::Members(command) => collective::members(config, command, t).await,
        Command::Collective(command) => collective::collective_command(config, command, t).await,
    }
}
