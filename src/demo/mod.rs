//! `ronron demo`: a small federation on loopback in one command. Two member hosts and a collective
//! that aggregates them run in this process, each a real [`Application`] with its own SQLite
//! database, seeded through the same domain functions the CLI calls, and following each other over
//! HTTP with signed requests, exactly as separate servers would.

use crate::{
    app::admins as auth,
    app::catalogue,
    app::profile::{self, ProfileEdit},
    bulletin::{
        forms::{ChangeFields, PostFields},
        vocab::{ChangeState, ServiceStatus},
        ServiceDraft,
    },
    clock::Clock,
    config::Config,
    db::models::{bulletins::Bulletin, remote},
    federation::Federation,
    startup::Application,
    state::AppState,
};
use anyhow::{bail, Context};
use chrono::{Duration, DurationRound, NaiveDateTime};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Member,
    Aggregator,
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
}

/// What each instance is: its database file and its profile.
struct Spec {
    file: &'static str,
    name: &'static str,
    role: Role,
    languages: &'static [&'static str],
    summary: &'static str,
    structure_type: &'static str,
    country: &'static str,
    region: &'static str,
    website: &'static str,
}

const SPECS: [Spec; 3] = [
    Spec {
        file: "chaton-des-monts.db",
        name: "Chaton des Monts",
        role: Role::Member,
        languages: &["fr", "en"],
        summary: "Hébergeur associatif de services libres en Auvergne : fichiers, réseau social, vidéos \
                  et pads pour les associations du massif.",
        structure_type: "association",
        country: "FR",
        region: "Auvergne-Rhône-Alpes",
        website: "https://chaton-des-monts.example",
    },
    Spec {
        file: "chat-perche.db",
        name: "Chat Perché",
        role: Role::Member,
        languages: &["en", "fr"],
        summary: "A small cooperative in Brussels hosting video calls, files and event pages for \
                  community groups, in English and French.",
        structure_type: "cooperative",
        country: "BE",
        region: "Bruxelles",
        website: "https://chat-perche.example",
    },
    Spec {
        file: "collectif.db",
        name: "Collectif (démo)",
        role: Role::Aggregator,
        languages: &["fr", "en"],
        summary: "Le collectif suit ses membres : leurs bulletins dans un fil fédéré, leurs services et \
                  leur label dans un annuaire.",
        structure_type: "collective",
        country: "FR",
        region: "",
        website: "https://collectif.example",
    },
];

fn config_for(spec: &Spec, port: u16, dir: &Path) -> Config {
    let mut config = Config::default();
    config.server.listen = format!("127.0.0.1:{port}");
    // `localhost`, not 127.0.0.1: activitypub_federation refuses inboxes on IP hosts.
    config.instance.domain = format!("localhost:{port}");
    config.instance.dev_mode = Some(true);
    config.database.url = format!("sqlite://{}", dir.join(spec.file).display());
    config.database.pool_size = 4;
    config.account.display_name = spec.name.to_string();
    config.account.languages = spec.languages.iter().map(|l| l.to_string()).collect();
    config.account.hashtags = vec!["chatons".into()];
    config.delivery.request_timeout_secs = 5;
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
    let (dir, remove_dir) = match &options.dir {
        Some(dir) => (dir.clone(), false),
        None => (std::env::temp_dir().join(format!("ronron-demo-{}", uuid::Uuid::new_v4().simple())), true),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stored_ports = read_ports(&dir)?;
    let reused = stored_ports.is_some();
    if !reused {
        if let Some(spec) = SPECS.iter().find(|s| dir.join(s.file).exists()) {
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
        for (spec, listener) in SPECS.iter().zip(listeners) {
            let port = listener.local_addr()?.port();
            let config = config_for(spec, port, &self.dir);
            let app = Application::build_with(config, listener, false, Clock::system())
                .await
                .with_context(|| format!("cannot start {}", spec.name))?;
            let (state, fed) = (app.state().clone(), app.federation().clone());
            self.servers.push((app.server_handle(), tokio::spawn(app.run_until_stopped())));
            self.instances.push(DemoInstance { name: spec.name.to_string(), role: spec.role, port, state, fed });
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
        for (instance, spec) in self.instances.iter().zip(&SPECS) {
            set_profile(&instance.state, spec).await?;
        }
        seed_chaton_des_monts(&self.instances[0].state).await.context("seeding Chaton des Monts")?;
        seed_chat_perche(&self.instances[1].state).await.context("seeding Chat Perché")?;

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
            follow(from, &to.handle()).await.with_context(|| format!("{} following {}", from.name, to.name))?;
        }
        for (from, to) in pairs {
            if !until(wait, || accepted(&from.state, &to.state)).await {
                bail!("{} did not accept {}'s follow within {} s", to.name, from.name, wait.as_secs());
            }
        }

        // News published now that everyone is followed travel as deliveries, not backfill.
        news(
            &self.instances[0].state,
            (
                "Assemblée générale le 14 juin",
                "Notre assemblée générale aura lieu **le 14 juin à 18 h** à la \
              salle des fêtes de Besse. Ordre du jour : bilan de l'année, tarifs 2026, ouverture d'un service \
              de visio. Adhérentes et adhérents bienvenus, apéritif offert.",
            ),
            (
                "General assembly on June 14",
                "Our general assembly takes place **on June 14 at 6 pm** in the \
              village hall of Besse. Agenda: the year's report, 2026 prices, opening a video-call service. \
              Members welcome, drinks offered.",
            ),
        )
        .await?;
        news(
            &self.instances[1].state,
            (
                "Nous rejoignons le collectif",
                "Chat Perché est désormais membre du collectif : nos pannes, \
              maintenances et nouveautés apparaissent dans son fil, à côté de celles des autres chatons.",
            ),
            (
                "We joined the collective",
                "Chat Perché is now a member of the collective: our outages, \
              maintenance and news show up in its timeline, next to those of the other hosts.",
            ),
        )
        .await?;
        news(
            &self.instances[2].state,
            (
                "Bienvenue dans la démo",
                "Ce collectif suit deux chatons. Leur actualité arrive dans le **fil \
              fédéré** et leurs services dans l'**annuaire**.",
            ),
            (
                "Welcome to the demo",
                "This collective follows two hosts. Their news reaches the **federated \
              timeline** and their services the **directory**.",
            ),
        )
        .await?;
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
        other => anyhow::anyhow!(other),
    })
}

async fn set_profile(state: &AppState, spec: &Spec) -> anyhow::Result<()> {
    let edit = ProfileEdit {
        summary: Some(spec.summary.to_string()),
        structure_type: Some(spec.structure_type.to_string()),
        country: Some(spec.country.to_string()),
        region: Some(spec.region.to_string()),
        website: Some(spec.website.to_string()),
        contact: Some(format!("mailto:contact@{}", spec.website.trim_start_matches("https://"))),
        ..Default::default()
    };
    profile::set(state, edit).await?;
    crate::app::profile::federate_profile_if_changed(state).await?;
    Ok(())
}

/// Follows `handle` as `ronron follow` does: WebFinger, then a signed Follow.
async fn follow(from: &DemoInstance, handle: &str) -> anyhow::Result<()> {
    let data = from.fed.to_request_data();
    crate::app::peers::follow_handle(&from.state, &data, handle).await?;
    Ok(())
}

async fn accepted(from: &AppState, to: &AppState) -> bool {
    let id = to.urls.host_actor().to_string();
    let row = from.db.read(move |c| remote::find_following(c, &id)).await;
    matches!(row, Ok(Some(row)) if row.status == crate::db::models::states::FollowState::Accepted)
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

// ---------------------------------------------------------------- sample data

/// A post in French and English; the host's first language is the main text.
fn bilingual(state: &AppState, fr: (&str, &str), en: (&str, &str)) -> PostFields {
    let (main, main_lang, other, other_lang) =
        if state.config.default_language() == "fr" { (fr, "fr", en, "en") } else { (en, "en", fr, "fr") };
    PostFields {
        lang: Some(main_lang.into()),
        title: main.0.into(),
        body: main.1.into(),
        translation_lang: Some(other_lang.into()),
        translation_title: Some(other.0.into()),
        translation_body: Some(other.1.into()),
        publish_at: None,
    }
}

async fn news(state: &AppState, fr: (&str, &str), en: (&str, &str)) -> anyhow::Result<Bulletin> {
    let draft = bilingual(state, fr, en).draft(state.config.timezone())?;
    Ok(crate::app::bulletins::publish_post(state, draft).await?)
}

async fn change(state: &AppState, change: ChangeFields, text: PostFields) -> anyhow::Result<Bulletin> {
    let tz = state.config.timezone();
    Ok(crate::app::bulletins::publish_change(state, text.draft(tz)?, change.draft(tz)?).await?)
}

async fn follow_up(
    state: &AppState,
    incident: &Bulletin,
    new_state: ChangeState,
    status: Option<ServiceStatus>,
    text: PostFields,
) -> anyhow::Result<Bulletin> {
    let draft = text.draft(state.config.timezone())?;
    Ok(crate::app::bulletins::post_follow_up(state, &incident.id, draft, new_state, status).await?)
}

fn incident(service: &str, impact: &str, status: &str) -> ChangeFields {
    ChangeFields {
        change_type: "incident".into(),
        services: vec![service.into()],
        impact: Some(impact.into()),
        status: Some(status.into()),
        ..Default::default()
    }
}

/// A maintenance window from `start` to `end` minutes after `now`, given in RFC 3339 as a form
/// would after reading the host's local time.
fn maintenance(service: &str, now: NaiveDateTime, start: Duration, end: Duration) -> ChangeFields {
    let at = |t: NaiveDateTime| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ChangeFields {
        change_type: "maintenance".into(),
        services: vec![service.into()],
        impact: Some("minor".into()),
        start: Some(at(now + start)),
        end: Some(at(now + end)),
        ..Default::default()
    }
}

/// A round time a bit later today (or just after midnight late in the evening), for an upcoming
/// window as an admin would plan it.
fn later_today(now: NaiveDateTime) -> NaiveDateTime {
    (now + Duration::hours(3)).duration_trunc(Duration::hours(1)).unwrap_or(now + Duration::hours(3))
}

struct ServiceSpec {
    slug: &'static str,
    name: &'static str,
    software: &'static str,
    host: &'static str,
    description: &'static str,
    audience: &'static str,
    registration: &'static str,
}

async fn add_services(state: &AppState, services: &[ServiceSpec]) -> anyhow::Result<()> {
    for s in services {
        let draft = ServiceDraft {
            slug: s.slug.into(),
            name: s.name.into(),
            software: s.software.into(),
            url: format!("https://{}", s.host),
            description: s.description.into(),
            audience: s.audience.into(),
            registration: s.registration.into(),
        };
        catalogue::add(state, draft).await?;
    }
    Ok(())
}

/// (criterion, grade, comment, evidence path on the host's website)
async fn grade(state: &AppState, website: &str, grades: &[(&str, &str, &str, &str)]) -> anyhow::Result<()> {
    for (criterion, grade, comment, evidence) in grades {
        let evidence = format!("{website}{evidence}");
        crate::app::label::set_grade(state, criterion, grade, Some(comment.to_string()), Some(evidence)).await?;
    }
    Ok(())
}

async fn seed_chaton_des_monts(state: &AppState) -> anyhow::Result<()> {
    add_services(
        state,
        &[
            ServiceSpec {
                slug: "nextcloud",
                name: "Nuage des Monts",
                software: "Nextcloud",
                host: "cloud.chaton-des-monts.example",
                description: "Fichiers, agendas et contacts synchronisés pour les associations adhérentes.",
                audience: "associations adhérentes",
                registration: "on_request",
            },
            ServiceSpec {
                slug: "mastodon",
                name: "Mastodon des Monts",
                software: "Mastodon",
                host: "social.chaton-des-monts.example",
                description: "Réseau social fédéré pour les habitantes et habitants du massif.",
                audience: "tout le monde",
                registration: "open",
            },
            ServiceSpec {
                slug: "peertube",
                name: "Vidéos des Monts",
                software: "PeerTube",
                host: "video.chaton-des-monts.example",
                description: "Vidéos des associations et des fêtes de village, sans publicité.",
                audience: "associations adhérentes",
                registration: "closed",
            },
            ServiceSpec {
                slug: "etherpad",
                name: "Pads",
                software: "Etherpad",
                host: "pad.chaton-des-monts.example",
                description: "Écriture collaborative en temps réel, sans compte.",
                audience: "tout le monde",
                registration: "open",
            },
        ],
    )
    .await?;
    grade(
        state,
        "https://chaton-des-monts.example",
        &[
            (
                "hoster.admin-access",
                "met",
                "Nos deux serveurs sont dans le local de l'association, à Besse.",
                "/infrastructure",
            ),
            (
                "hoster.data-location",
                "met",
                "Toutes les données restent en France, à Besse et à Clermont-Ferrand.",
                "/infrastructure#donnees",
            ),
            (
                "hoster.backups",
                "partial",
                "Sauvegardes chaque nuit ; le test de restauration trimestriel commence cette année.",
                "/sauvegardes",
            ),
            (
                "hoster.security-updates",
                "met",
                "Mises à jour de sécurité sous 48 h, annoncées dans ce bulletin.",
                "/maintenance",
            ),
            (
                "alternative.free-software",
                "met",
                "Uniquement des logiciels libres, du serveur au navigateur.",
                "/logiciels",
            ),
            ("transparent.terms", "met", "Nos CGU tiennent en une page.", "/cgu"),
            ("transparent.incidents", "met", "Chaque incident et maintenance est publié ici.", "/statut"),
            (
                "transparent.finances",
                "partial",
                "Comptes publiés ; le budget prévisionnel arrive après l'AG.",
                "/comptes",
            ),
            ("neutral.no-ads", "met", "Aucune publicité, aucun pisteur.", "/cgu#publicite"),
            (
                "open.contribution",
                "partial",
                "Traductions de PeerTube et quelques correctifs d'Etherpad.",
                "/contributions",
            ),
        ],
    )
    .await?;

    let now = state.clock.now();
    // An incident that went through three states, still being watched.
    let slow = change(
        state,
        incident("mastodon", "major", "partial_outage"),
        bilingual(
            state,
            (
                "Mastodon lent et en erreur",
                "Beaucoup de pages tombent en erreur 502 depuis 9 h. Nous cherchons la cause.",
            ),
            ("Mastodon slow and failing", "Many pages fail with a 502 error since 9 am. We are looking for the cause."),
        ),
    )
    .await?;
    follow_up(
        state,
        &slow,
        ChangeState::Identified,
        None,
        bilingual(
            state,
            (
                "Cause identifiée : file de tâches saturée",
                "Une vague de messages fédérés a saturé la file Sidekiq. Nous ajoutons des processus.",
            ),
            (
                "Cause identified: job queue overloaded",
                "A wave of federated messages filled the Sidekiq queue. We are adding workers.",
            ),
        ),
    )
    .await?;
    follow_up(
        state,
        &slow,
        ChangeState::Monitoring,
        Some(ServiceStatus::Degraded),
        bilingual(
            state,
            ("Sous surveillance", "La file se vide ; les fils peuvent encore avoir quelques minutes de retard."),
            ("Monitoring", "The queue is draining; timelines may still lag by a few minutes."),
        ),
    )
    .await?;
    // A resolved incident.
    let videos = change(
        state,
        incident("peertube", "minor", "degraded"),
        bilingual(
            state,
            ("Vidéos qui ne démarrent pas", "Certaines vidéos restent sur l'écran de chargement."),
            ("Videos not starting", "Some videos stay on the loading screen."),
        ),
    )
    .await?;
    follow_up(
        state,
        &videos,
        ChangeState::Resolved,
        None,
        bilingual(
            state,
            ("Résolu", "Le disque de transcodage était plein ; il a été agrandi et toutes les vidéos se lisent."),
            ("Resolved", "The transcoding disk was full; it has been enlarged and every video plays again."),
        ),
    )
    .await?;
    // A maintenance under way, and one planned for later today.
    change(
        state,
        maintenance("etherpad", now, Duration::minutes(-20), Duration::minutes(70)),
        bilingual(
            state,
            ("Mise à jour d'Etherpad", "Passage à Etherpad 2.2 : les pads sont en lecture seule pendant l'opération."),
            ("Etherpad upgrade", "Upgrading to Etherpad 2.2: pads are read-only meanwhile."),
        ),
    )
    .await?;
    let start = later_today(now) - now;
    change(
        state,
        maintenance("nextcloud", now, start, start + Duration::hours(1)),
        bilingual(
            state,
            ("Mise à jour de Nextcloud", "Passage à Nextcloud 31 ; la synchronisation sera coupée une heure au plus."),
            ("Nextcloud upgrade", "Upgrading to Nextcloud 31; sync stops for an hour at most."),
        ),
    )
    .await?;
    Ok(())
}

async fn seed_chat_perche(state: &AppState) -> anyhow::Result<()> {
    add_services(
        state,
        &[
            ServiceSpec {
                slug: "jitsi",
                name: "Chat Perché Meet",
                software: "Jitsi Meet",
                host: "meet.chat-perche.example",
                description: "Video calls in the browser, no account needed.",
                audience: "everyone",
                registration: "open",
            },
            ServiceSpec {
                slug: "nextcloud",
                name: "Chat Perché Cloud",
                software: "Nextcloud",
                host: "cloud.chat-perche.example",
                description: "Shared files and calendars for member groups.",
                audience: "member groups",
                registration: "closed",
            },
            ServiceSpec {
                slug: "mobilizon",
                name: "Chat Perché Events",
                software: "Mobilizon",
                host: "events.chat-perche.example",
                description: "Event pages and groups for Brussels community associations.",
                audience: "community groups",
                registration: "on_request",
            },
        ],
    )
    .await?;
    grade(
        state,
        "https://chat-perche.example",
        &[
            (
                "hoster.admin-access",
                "met",
                "We run our own rack space at a Brussels community data centre.",
                "/infrastructure",
            ),
            ("hoster.backups", "met", "Nightly backups to a second site; restores tested every month.", "/backups"),
            ("alternative.free-software", "met", "Free software only.", "/software"),
            ("alternative.no-gafam", "met", "No big-tech service touches members' data.", "/software#third-parties"),
            ("transparent.incidents", "met", "Every outage is posted here.", "/status"),
            ("neutral.no-tracking", "met", "No analytics, no profiling.", "/privacy"),
            (
                "solidary.fair-pricing",
                "partial",
                "Free for small groups; a sliding scale for the others is being discussed.",
                "/prices",
            ),
            ("solidary.mutual-aid", "met", "We co-run monthly install parties with the other hosts.", "/events"),
        ],
    )
    .await?;

    let now = state.clock.now();
    let outage = change(
        state,
        incident("jitsi", "critical", "major_outage"),
        bilingual(
            state,
            ("Visio indisponible", "Les appels ne se connectent plus depuis ce matin. Nous analysons."),
            ("Video calls down", "Calls no longer connect since this morning. We are investigating."),
        ),
    )
    .await?;
    follow_up(
        state,
        &outage,
        ChangeState::Identified,
        None,
        bilingual(
            state,
            ("Cause identifiée", "Le certificat du relais TURN a expiré ; le nouveau est en cours de déploiement."),
            ("Cause identified", "The TURN relay's certificate expired; a new one is being deployed."),
        ),
    )
    .await?;
    change(
        state,
        ChangeFields { change_type: "launch".into(), services: vec!["mobilizon".into()], ..Default::default() },
        bilingual(
            state,
            (
                "Nouveau : pages d'événements",
                "Les associations membres peuvent publier leurs événements sur Mobilizon.",
            ),
            ("New: event pages", "Member associations can now publish their events on Mobilizon."),
        ),
    )
    .await?;
    let start = later_today(now) + Duration::hours(1) - now;
    change(
        state,
        maintenance("nextcloud", now, start, start + Duration::minutes(30)),
        bilingual(
            state,
            ("Redémarrage du serveur de fichiers", "Nouveau noyau : le cloud sera indisponible une demi-heure."),
            ("File server restart", "A new kernel: the cloud is unavailable for half an hour."),
        ),
    )
    .await?;
    Ok(())
}
