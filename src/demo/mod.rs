//! `ronron demo`: a small federation on loopback in one command. Two member hosts and a collective
//! that aggregates them run in this process, each a real [`Application`] with its own SQLite
//! database, seeded through the same domain functions the CLI calls, and following each other over
//! HTTP with signed requests, exactly as separate servers would.

mod sample;
mod seed;

pub use sample::Role;

use crate::{
    app::admins as auth, clock::Clock, config::Config, federation::Federation, startup::Application, state::AppState,
};
use anyhow::{bail, Context};
use sample::{Instance, Sample};
use serde_json::Value;
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
};
use url::Url;

/// Written once the first run has seeded and connected everything: the three ports. The ports
/// are part of each instance's domain, so a later run must reuse them for its actors to stay valid.
const PORTS_FILE: &str = "demo-ports.txt";
pub const ADMIN_USERNAME: &str = "admin";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Port of the first member; the second member and the collective take the next two.
    /// 0 lets the system choose a free port for each (tests do this).
    pub port: u16,
    /// Where the three databases live; `None` makes a temporary directory removed on stop.
    pub dir: Option<PathBuf>,
    /// The admin password of all three; `None` generates one.
    pub password: Option<String>,
    /// How long to wait for follows to be accepted and bulletins to arrive.
    pub wait: std::time::Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self { port: 8081, dir: None, password: None, wait: std::time::Duration::from_secs(30) }
    }
}

/// One running instance of the demo.
pub struct DemoInstance {
    pub name: String,
    pub role: Role,
    pub port: u16,
    pub state: AppState,
    pub fed: Federation,
}

impl DemoInstance {
    pub fn base(&self) -> Url {
        self.state.urls.base()
    }
    pub fn handle(&self) -> String {
        self.state.config.handle()
    }
    pub fn domain(&self) -> &str {
        &self.state.config.instance.domain
    }
}

/// The running demo: its instances, the admin login, and what did not arrive in time.
pub struct DemoHandle {
    /// The two members, then the collective.
    pub instances: Vec<DemoInstance>,
    pub dir: PathBuf,
    /// True when the databases of an earlier run were reused (nothing was seeded again).
    pub reused: bool,
    pub username: String,
    pub password: String,
    /// What the collective (or a member) still lacked when the wait ended; empty when all arrived.
    pub warnings: Vec<String>,
    servers: Vec<(actix_web::dev::ServerHandle, tokio::task::JoinHandle<std::io::Result<()>>)>,
    remove_dir: bool,
    sample: Sample,
}

fn config_for(spec: &Instance, port: u16, dir: &Path) -> Config {
    let mut config = Config::default();
    config.server.listen = format!("127.0.0.1:{port}");
    // `localhost`, not 127.0.0.1: activitypub_federation refuses inboxes on IP hosts.
    config.instance.domain = format!("localhost:{port}");
    config.instance.dev_mode = Some(true);
    config.database.url = format!("sqlite://{}", dir.join(&spec.file).display());
    config.database.pool_size = 4;
    config.account.display_name = spec.name.clone();
    config.account.languages = spec.languages.clone();
    config.account.hashtags = vec!["chatons".into()];
    config.delivery.request_timeout_secs = 5;
    if spec.role == Role::Aggregator {
        // The collective role: its Group re-shares both members' bulletins.
        config.collective =
            Some(crate::config::CollectiveConfig { display_name: spec.name.clone(), ..Default::default() });
    }
    config
}

/// Starts the three instances, seeds and connects them on a first run, and waits (up to
/// `options.wait`) until the collective shows both members' bulletins and directory entries.
pub async fn start(options: DemoOptions) -> anyhow::Result<DemoHandle> {
    // Checked before anything starts, so a typo leaves no half-made demo behind.
    if let Some(password) = &options.password {
        if password.chars().count() < auth::MIN_PASSWORD_CHARS {
            bail!("--password: must be at least {} characters", auth::MIN_PASSWORD_CHARS);
        }
    }
    let sample = Sample::embedded()?;
    let (dir, remove_dir) = match &options.dir {
        Some(dir) => (dir.clone(), false),
        None => (std::env::temp_dir().join(format!("ronron-demo-{}", uuid::Uuid::new_v4().simple())), true),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stored_ports = read_ports(&dir)?;
    let reused = stored_ports.is_some();
    if !reused {
        if let Some(spec) = sample.instances.iter().find(|s| dir.join(&s.file).exists()) {
            bail!(
                "{} holds {} from a demo that did not finish setting up (no {PORTS_FILE}); \
                 delete it or choose another --dir",
                dir.display(),
                spec.file
            );
        }
    }
    let ports = match stored_ports {
        Some(ports) => ports,
        None if options.port == 0 => [0; 3],
        None => {
            let last = options.port.checked_add(2).context("--port: the three ports must be below 65536")?;
            [options.port, options.port + 1, last]
        }
    };
    let password = options.password.clone().unwrap_or_else(|| auth::random_token()[..20].to_string());
    let mut demo = DemoHandle {
        instances: vec![],
        dir,
        reused,
        username: ADMIN_USERNAME.to_string(),
        password,
        warnings: vec![],
        servers: vec![],
        remove_dir,
        sample,
    };
    match demo.set_up(ports, options.wait).await {
        Ok(()) => Ok(demo),
        Err(e) => {
            demo.stop().await;
            Err(e)
        }
    }
}

impl DemoHandle {
    async fn set_up(&mut self, ports: [u16; 3], wait: std::time::Duration) -> anyhow::Result<()> {
        // Bind all three first, so a busy port fails before anything is written.
        let mut listeners = Vec::new();
        for port in ports {
            listeners.push(bind(port, self.reused).await?);
        }
        for (spec, listener) in self.sample.instances.iter().zip(listeners) {
            let port = listener.local_addr()?.port();
            let config = config_for(spec, port, &self.dir);
            let app = Application::build_with(config, listener, false, Clock::system())
                .await
                .with_context(|| format!("cannot start {}", spec.name))?;
            let (state, fed) = (app.state().clone(), app.federation().clone());
            self.servers.push((app.server_handle(), tokio::spawn(app.run_until_stopped())));
            self.instances.push(DemoInstance { name: spec.name.clone(), role: spec.role, port, state, fed });
        }
        for instance in &self.instances {
            set_admin(&instance.state, &self.username, &self.password, self.reused).await?;
        }
        if !self.reused {
            self.seed_and_connect(wait).await?;
            let ports: Vec<String> = self.instances.iter().map(|i| i.port.to_string()).collect();
            let text = format!(
                "# ronron demo: the ports of its three instances (part of their domains)\n{}\n",
                ports.join(" ")
            );
            std::fs::write(self.dir.join(PORTS_FILE), text)
                .with_context(|| format!("cannot write {}", self.dir.join(PORTS_FILE).display()))?;
        }
        self.warnings = self.wait_for_federation(wait).await;
        Ok(())
    }

    async fn seed_and_connect(&mut self, wait: std::time::Duration) -> anyhow::Result<()> {
        for (instance, spec) in self.instances.iter().zip(&self.sample.instances) {
            seed::set_profile(&instance.state, spec).await?;
        }
        for (instance, spec) in self.instances.iter().zip(&self.sample.instances) {
            seed::seed(&instance.state, spec).await.with_context(|| format!("seeding {}", spec.name))?;
        }

        // The collective follows both members; the members follow each other. Following fetches
        // each peer's recent posts (backfill) and its directory entry.
        let (members, collective) = self.instances.split_at(2);
        let pairs = [
            (&collective[0], &members[0]),
            (&collective[0], &members[1]),
            (&members[0], &members[1]),
            (&members[1], &members[0]),
        ];
        for (from, to) in pairs {
            if from.role == Role::Aggregator {
                // Both members are on the collective's roster: it follows them through it.
                let data = from.fed.to_request_data();
                crate::app::collective::add_member(&from.state, &data, &to.handle())
                    .await
                    .with_context(|| format!("{} adding {} to its roster", from.name, to.name))?;
            } else {
                follow(from, &to.handle()).await.with_context(|| format!("{} following {}", from.name, to.name))?;
            }
        }
        // Each member follows the collective's Group, and so sees the other's bulletins re-shared.
        for member in members {
            let group = collective[0].state.urls.group_actor();
            crate::app::peers::follow(&member.state, &member.fed.to_request_data(), &group)
                .await
                .with_context(|| format!("{} following the collective's account", member.name))?;
        }
        for (from, to) in pairs {
            if !until(wait, || accepted(&from.state, &to.state)).await {
                bail!("{} did not accept {}'s follow within {} s", to.name, from.name, wait.as_secs());
            }
        }

        // News published now that everyone is followed travel as deliveries, not backfill.
        for (instance, spec) in self.instances.iter().zip(&self.sample.instances) {
            seed::news(&instance.state, spec).await?;
        }
        Ok(())
    }

    /// Polls the collective's and the members' public API until every member's news and directory
    /// entry are there; returns what is still missing when `wait` runs out.
    async fn wait_for_federation(&self, wait: std::time::Duration) -> Vec<String> {
        let client = reqwest::Client::new();
        let settled = tokio::time::timeout(wait, async {
            while !self.missing(&client).await.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
        .await;
        match settled {
            Ok(()) => Vec::new(),
            // A look cut off by the deadline says nothing: look once more, to the end.
            Err(_) => self.missing(&client).await,
        }
    }

    async fn missing(&self, client: &reqwest::Client) -> Vec<String> {
        let (members, collective) = self.instances.split_at(2);
        let collective = &collective[0];
        let mut missing = Vec::new();
        let directory = get_json(client, collective.state.urls.base().join("api/v1/directory").ok()).await;
        for member in members {
            if !has_news_from(client, collective, member).await {
                missing.push(format!("{}'s timeline has no news from {} yet", collective.name, member.name));
            }
            let listed = directory.as_ref().and_then(|d| d["peers"].as_array()).is_some_and(|peers| {
                peers.iter().any(|p| p["actor"].as_str() == Some(member.state.urls.host_actor().as_str()))
            });
            if !listed {
                missing.push(format!("{}'s directory does not list {} yet", collective.name, member.name));
            }
        }
        for (reader, author) in [(&members[0], &members[1]), (&members[1], &members[0])] {
            if !has_news_from(client, reader, author).await {
                missing.push(format!("{}'s timeline has no news from {} yet", reader.name, author.name));
            }
        }
        missing
    }

    /// What to open, the login and the handles, as `ronron demo` prints it.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let kept = if self.remove_dir { "a temporary directory, deleted at exit" } else { "kept after exit" };
        out.push_str(&format!("Ronron demo: three instances on loopback; data in {} ({kept})\n", self.dir.display()));
        if self.reused {
            out.push_str("Reusing the databases of an earlier run: nothing was seeded again.\n");
        }
        for i in &self.instances {
            let role = match i.role {
                Role::Member => "member host",
                Role::Aggregator => "collective: follows both members",
            };
            let urls = &i.state.urls;
            out.push_str(&format!("\n{} ({role})\n", i.name));
            for (label, url) in [
                ("host page", urls.host_actor()),
                ("status", urls.status_page()),
                ("timeline", urls.timeline_page()),
                ("directory", urls.directory_page()),
                ("admin", urls.admin("login")),
            ] {
                out.push_str(&format!("  {label:<10} {url}\n"));
            }
            out.push_str(&format!("  follow     {} (from a Mastodon that can reach this machine)\n", i.handle()));
        }
        out.push_str(&format!("\nAdmin login on all three: {} / {}\n", self.username, self.password));
        if self.warnings.is_empty() {
            out.push_str(
                "Federation checked: the collective's timeline has both members' news and its directory lists both.\n",
            );
        } else {
            out.push_str("Warning: not everything arrived in time (deliveries keep being retried):\n");
            for w in &self.warnings {
                out.push_str(&format!("  - {w}\n"));
            }
        }
        out
    }

    /// Stops the servers and their workers; removes the directory if it was a temporary one.
    pub async fn stop(self) {
        for (handle, join) in self.servers {
            handle.stop(true).await;
            let _ = join.await;
        }
        if self.remove_dir {
            if let Err(e) = std::fs::remove_dir_all(&self.dir) {
                tracing::warn!(dir = %self.dir.display(), error = %e, "cannot remove the demo directory");
            }
        }
    }
}

/// Runs the demo until Ctrl-C or SIGTERM (`ronron demo`).
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let demo = start(options).await?;
    println!("{}", demo.summary());
    println!("Ctrl-C stops.");
    let stopped = stop_signal().await;
    println!("stopping…");
    demo.stop().await;
    stopped
}

async fn stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}

fn read_ports(dir: &Path) -> anyhow::Result<Option<[u16; 3]>> {
    let path = dir.join(PORTS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let ports: Vec<u16> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} does not hold three ports", path.display()))?;
    let ports: [u16; 3] =
        ports.try_into().map_err(|_| anyhow::anyhow!("{} does not hold three ports", path.display()))?;
    Ok(Some(ports))
}

/// Binds a loopback port; on a second run the port of the first may take a moment to be free.
async fn bind(port: u16, retry: bool) -> anyhow::Result<TcpListener> {
    let attempts = if retry { 50 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let hint =
        if retry { "the demo's databases need the ports of their first run" } else { "choose others with --port" };
    Err(anyhow::anyhow!("cannot listen on 127.0.0.1:{port} ({hint}): {}", last.expect("one attempt")))
}

async fn set_admin(state: &AppState, username: &str, password: &str, reused: bool) -> anyhow::Result<()> {
    // A reused demo gets the password printed this time, so the login shown always works.
    let result = if reused {
        auth::set_password(state, username, password).await
    } else {
        auth::create_admin(state, username, password).await.map(|_| ())
    };
    result.map_err(|e| match e {
        crate::app::AppError::Invalid { field, reason } => anyhow::anyhow!("--{field}: {reason}"),
        crate::app::AppError::Fields(refusals) => anyhow::anyhow!(refusals
            .iter()
            .map(|r| format!("--{}: {}", r.field, r.reason))
            .collect::<Vec<_>>()
            .join("\n")),
        other => anyhow::anyhow!(other),
    })
}

/// Follows `handle` as `ronron follow` does: WebFinger, then a signed Follow.
async fn follow(from: &DemoInstance, handle: &str) -> anyhow::Result<()> {
    let data = from.fed.to_request_data();
    crate::app::peers::follow_handle(&from.state, &data, handle).await?;
    Ok(())
}

async fn accepted(from: &AppState, to: &AppState) -> bool {
    let id = to.urls.host_actor().to_string();
    let peers = crate::app::peers::list(from).await;
    peers.is_ok_and(|peers| {
        peers
            .iter()
            .any(|p| p.following.actor_id == id && p.following.status == crate::app::peers::FollowState::Accepted)
    })
}

/// Polls `check` every 100 ms until it holds or `wait` runs out.
async fn until<F, Fut>(wait: std::time::Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let held = tokio::time::timeout(wait, async {
        while !check().await {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    // A check cut off by the deadline gets one last, complete look.
    held.is_ok() || check().await
}

async fn get_json(client: &reqwest::Client, url: Option<Url>) -> Option<Value> {
    let response = client.get(url?).timeout(std::time::Duration::from_secs(5)).send().await.ok()?;
    response.error_for_status().ok()?.json().await.ok()
}

async fn has_news_from(client: &reqwest::Client, reader: &DemoInstance, author: &DemoInstance) -> bool {
    let mut url = reader.state.urls.base().join("api/v1/timeline").expect("a relative path joins");
    url.query_pairs_mut().append_pair("kind", "news").append_pair("limit", "100");
    let timeline = get_json(client, Some(url)).await;
    timeline.as_ref().and_then(|t| t["items"].as_array()).is_some_and(|items| {
        items.iter().any(|item| item["domain"].as_str() == Some(author.domain()) && item["local"] == false)
    })
}
