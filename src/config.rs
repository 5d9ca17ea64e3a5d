//! Configuration: a TOML file, then `RONRON_SECTION_KEY` environment overrides, then validation.
//!
//! Every key has a default so that `ronron serve` runs out of the box on 127.0.0.1:8080 with
//! SQLite under `./data/`. `config/example.toml` documents every key; a test keeps it in step.

use serde::{Deserialize, Serialize};
use std::{net::IpAddr, path::Path};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid configuration: {0}")]
    Parse(String),
    #[error("invalid configuration key `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.into() }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub instance: InstanceConfig,
    pub database: DatabaseConfig,
    pub account: AccountConfig,
    pub delivery: DeliveryConfig,
    pub metrics: MetricsConfig,
    pub health: HealthConfig,
    pub limits: LimitsConfig,
    pub outgoing: OutgoingConfig,
    pub smtp: SmtpConfig,
    pub webhooks: WebhooksConfig,
    pub media: MediaConfig,
    /// The collective role: present (even empty) turns it on.
    pub collective: Option<CollectiveConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port the HTTP server binds to.
    pub listen: String,
    /// Largest request body accepted, in bytes (inbox and forms).
    pub max_body_bytes: usize,
    /// Reverse proxies (CIDRs or addresses) whose `X-Forwarded-For` / `X-Forwarded-Proto` count.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstanceConfig {
    /// Public host name (with `:port` only when not on 80/443), as peers see it.
    pub domain: String,
    /// `https` or `http`; unset means `http` for a loopback domain and `https` otherwise.
    pub scheme: Option<String>,
    /// Allows http and loopback/private peers. Unset means on only for a loopback domain.
    pub dev_mode: Option<bool>,
    /// IANA time zone in which times are read from the admin and shown to readers.
    pub timezone: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    pub pool_size: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountConfig {
    /// The followable account: `@name@domain`.
    pub name: String,
    pub display_name: String,
    /// Plain text or Markdown; rendered to HTML in the actor's `summary`.
    pub summary: String,
    pub website: Option<String>,
    pub contact: Option<String>,
    /// Languages bulletins may be written in (ISO 639-1 codes); the first is the default.
    pub languages: Vec<String>,
    /// When true, new followers wait in "pending" until approved with `ronron followers approve`.
    pub manually_approves_followers: bool,
    /// Lets Mastodon suggest and index the account.
    pub discoverable: bool,
    /// Kind of structure: association, cooperative, company, individual, collective…
    pub structure_type: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. `FR`.
    pub country: Option<String>,
    pub region: Option<String>,
    /// URL of the host's logo (shown as the avatar).
    pub logo: Option<String>,
    /// Hashtags added to every bulletin (without `#`), e.g. the collective's tag.
    pub hashtags: Vec<String>,
    /// A criteria file (TOML) replacing the built-in CHATONS charter criteria.
    pub criteria_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Background delivery workers in this process (0 disables delivery from this process).
    pub workers: usize,
    /// Attempts (16 ≈ 2.1 days of growing delays) before a failing inbox is paused; its
    /// deliveries wait, never dropped, until its server sends something signed.
    pub max_attempts: i32,
    /// Timeout of one outgoing HTTP request, in seconds.
    pub request_timeout_secs: u64,
    /// How often idle workers look for due jobs when nothing woke them, in seconds: the fallback
    /// behind the wake-ups (this process's own changes, `NOTIFY` on PostgreSQL, the CLI's loopback
    /// ping on SQLite) and for retries coming due.
    pub poll_secs: u64,
}

/// Where `GET /metrics` is served. Neither key set: it is not served at all (a 404).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// A second `address:port` serving `/metrics`, `/healthz` and `/readyz` only (for a private
    /// network or loopback scraper).
    pub listen: Option<String>,
    /// The bearer token `/metrics` asks for, on either listener. When set, `/metrics` is also
    /// served on the main listener.
    pub token: Option<String>,
}

/// When `GET /readyz` says the instance is not ready (503).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfig {
    /// Most deliveries waiting for inboxes that are not paused.
    pub max_queue_depth: u64,
    /// Longest time, in seconds, the oldest due delivery may wait for a worker.
    pub max_due_age_secs: u64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self { max_queue_depth: 10_000, max_due_age_secs: 600 }
    }
}

/// Shortest `metrics.token` accepted: a guessable token would expose the metrics.
pub const MIN_METRICS_TOKEN_LEN: usize = 16;

/// Rate limits (docs/OPERATIONS.md, "Rate limits"): a quota per minute and the burst allowed at
/// once, per remote server, per token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Inbox requests per minute from one server (the signature's keyId host; unsigned requests
    /// by client address), and how many it may send at once.
    pub inbox_per_minute: u32,
    pub inbox_burst: u32,
    /// Fetches of signing keys we do not have yet, per minute per server, and at once.
    pub key_fetches_per_minute: u32,
    pub key_fetch_burst: u32,
    /// How long a signing key that could not be fetched is refused without fetching it again.
    pub failed_key_ttl_secs: u64,
    /// How many such keys are remembered (the oldest are forgotten first).
    pub failed_keys_max: usize,
    /// Admin API requests per minute with one token, and at once.
    pub admin_api_per_minute: u32,
    pub admin_api_burst: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            inbox_per_minute: 300,
            inbox_burst: 100,
            key_fetches_per_minute: 60,
            key_fetch_burst: 20,
            failed_key_ttl_secs: 300,
            failed_keys_max: 10_000,
            admin_api_per_minute: 300,
            admin_api_burst: 60,
        }
    }
}

/// Outgoing requests that are not deliveries: fetches of peers' documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutgoingConfig {
    /// A PEM file of extra root certificates trusted for every outgoing request, besides the
    /// system's (a staging network's private CA). Unset: the system's roots only.
    pub extra_ca_file: Option<String>,
    /// Posts fetched one by one from a followed peer's outbox when it lists them by URL only
    /// (GoToSocial), at most, per follow.
    pub backfill_max_fetches: usize,
    /// Longest time, in seconds, one backfill spends fetching a peer's outbox and posts.
    pub backfill_budget_secs: u64,
}

impl Default for OutgoingConfig {
    fn default() -> Self {
        Self { extra_ca_file: None, backfill_max_fetches: 20, backfill_budget_secs: 30 }
    }
}

/// The SMTP relay email subscriptions are sent through. No `host`: email subscriptions are off
/// (the form is not shown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: Option<String>,
    pub port: u16,
    /// `starttls` (required), `tls` (implicit TLS, port 465) or `none` (a relay on loopback).
    pub security: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. `Bulletin <bulletin@chaton.example>`.
    pub from: Option<String>,
    /// Attempts before an email is given up.
    pub max_attempts: i32,
    /// Subscription requests one client address may make per hour.
    pub subscriptions_per_hour: u32,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: None,
            port: 587,
            security: "starttls".into(),
            username: None,
            password: None,
            from: None,
            max_attempts: 10,
            subscriptions_per_hour: 5,
        }
    }
}

impl SmtpConfig {
    pub fn enabled(&self) -> bool {
        self.host.is_some()
    }
}

/// Uploaded files: the host's and the collective's logos (docs/OPERATIONS.md, "Media files").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// The folder uploaded logos are stored in. Unset: `media` beside the SQLite database file,
    /// or `data/media` (from the working directory) with PostgreSQL. Processes sharing a
    /// PostgreSQL database must share this folder.
    pub dir: Option<String>,
    /// Largest logo accepted, in bytes.
    pub max_logo_bytes: usize,
}

/// The least `media.max_logo_bytes` may be, and the most.
pub const MEDIA_MAX_LOGO_RANGE: std::ops::RangeInclusive<usize> = 1024..=(16 * 1024 * 1024);

impl Default for MediaConfig {
    fn default() -> Self {
        Self { dir: None, max_logo_bytes: 1024 * 1024 }
    }
}

impl MediaConfig {
    /// Where uploaded files live (see [`MediaConfig::dir`]).
    pub fn folder(&self, database_url: &str) -> std::path::PathBuf {
        if let Some(dir) = &self.dir {
            return dir.into();
        }
        match crate::db::Backend::from_url(database_url) {
            Ok(crate::db::Backend::Sqlite) => Path::new(crate::db::sqlite_path(database_url))
                .parent()
                .map(|p| p.join("media"))
                .unwrap_or_else(|| "media".into()),
            _ => Path::new("data").join("media"),
        }
    }
}

/// Webhooks registered by the admin (`ronron webhooks add`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Attempts before a webhook call is given up (growing delays, as deliveries).
    pub max_attempts: i32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self { max_attempts: 10 }
    }
}

/// The collective role (docs/FEDERATION.md, "The collective role"): a second local actor, an AS2
/// `Group`, that re-shares the bulletins of the member hosts of its roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollectiveConfig {
    /// The Group's name: `@account@domain`. Must differ from `account.name`.
    pub account: String,
    pub display_name: String,
    /// Plain text or Markdown; rendered to HTML in the Group's `summary`.
    pub summary: String,
    /// When true, a host asking to join is put on the roster at once; otherwise it waits for
    /// `ronron members approve`.
    pub auto_accept: bool,
    /// Relay mode: a server's instance actor may subscribe with `Follow{as:Public}` and gets every
    /// member's bulletins.
    pub relay: bool,
    /// Bulletins of one member re-shared per hour at most; past it, its bulletins are not
    /// re-shared until the hour has passed (a member that floods is paused).
    pub max_reshares_per_hour: u32,
}

impl Default for CollectiveConfig {
    fn default() -> Self {
        Self {
            account: "collectif".into(),
            display_name: "Collectif".into(),
            summary: String::new(),
            auto_accept: false,
            relay: false,
            max_reshares_per_hour: 60,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { listen: "127.0.0.1:8080".into(), max_body_bytes: 1024 * 1024, trusted_proxies: vec![] }
    }
}

impl Default for InstanceConfig {
    fn default() -> Self {
        Self { domain: "localhost:8080".into(), scheme: None, dev_mode: None, timezone: "Europe/Paris".into() }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: "sqlite://data/ronron.db".into(), pool_size: 8 }
    }
}

impl Default for AccountConfig {
    fn default() -> Self {
        Self {
            name: "bulletin".into(),
            display_name: "Bulletin".into(),
            summary: String::new(),
            website: None,
            contact: None,
            languages: vec!["fr".into(), "en".into()],
            manually_approves_followers: false,
            discoverable: true,
            structure_type: None,
            country: None,
            region: None,
            logo: None,
            hashtags: vec![],
            criteria_file: None,
        }
    }
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self { workers: 2, max_attempts: 16, request_timeout_secs: 10, poll_secs: 1 }
    }
}

impl Config {
    /// Reads `path` when given (a missing file is an error), applies the environment, validates.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?,
            None => String::new(),
        };
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_toml_and_env(&text, &env)
    }

    /// The pure part of [`Config::load`], so tests need not touch the process environment.
    pub fn from_toml_and_env(text: &str, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("RONRON_") else { continue };
            if rest == "CONFIG" || rest == "LOG" {
                continue;
            }
            let Some((section, key)) = rest.split_once('_') else {
                return Err(ConfigError::Parse(format!(
                    "environment variable {name} does not name a key (expected RONRON_SECTION_KEY)"
                )));
            };
            let section = section.to_lowercase();
            let key = key.to_lowercase();
            let entry = table.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(section_table) = entry.as_table_mut() else {
                return Err(ConfigError::Parse(format!("`{section}` is not a section")));
            };
            section_table.insert(key, env_value(value));
        }
        let config: Config =
            toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid("server.listen", format!("`{}` is not an address:port", self.server.listen)));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024"));
        }
        if let Some(bad) = self.server.trusted_proxies.iter().find(|p| parse_proxy(p).is_none()) {
            return Err(invalid(
                "server.trusted_proxies",
                format!("`{bad}` is not an address or a CIDR such as 127.0.0.1/32 or 10.0.0.0/8"),
            ));
        }
        let domain = &self.instance.domain;
        // Every URL we build is this text with a path after it: nothing in it may end the host
        // early (`?`, `#`, `@`) or be dropped by URL parsing (tabs, line breaks).
        let valid_domain = !domain.is_empty()
            && !domain.chars().any(|c| c.is_whitespace() || c.is_control())
            && url::Url::parse(&format!("http://{domain}/"))
                .map(|u| {
                    u.path() == "/"
                        && u.username().is_empty()
                        && u.password().is_none()
                        && u.query().is_none()
                        && u.fragment().is_none()
                        && u.host_str().is_some()
                })
                .unwrap_or(false);
        if !valid_domain {
            return Err(invalid("instance.domain", format!("`{domain}` is not a host name (with an optional :port)")));
        }
        if let Some(scheme) = &self.instance.scheme {
            if scheme != "http" && scheme != "https" {
                return Err(invalid("instance.scheme", format!("`{scheme}` must be `http` or `https`")));
            }
        }
        if self.instance.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(invalid(
                "instance.timezone",
                format!("`{}` is not an IANA time zone such as Europe/Paris", self.instance.timezone),
            ));
        }
        if let Some(country) = &self.account.country {
            if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(invalid(
                    "account.country",
                    format!("`{country}` is not a two-letter country code such as FR"),
                ));
            }
        }
        if let Some(logo) = &self.account.logo {
            if !(logo.starts_with("https://") || logo.starts_with("http://")) {
                return Err(invalid("account.logo", format!("`{logo}` must be an http(s):// URL")));
            }
        }
        for tag in &self.account.hashtags {
            if tag.is_empty() || !tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(invalid(
                    "account.hashtags",
                    format!("`{tag}` must be letters, digits or `_`, without `#`"),
                ));
            }
        }
        crate::db::Backend::from_url(&self.database.url).map_err(|reason| invalid("database.url", reason))?;
        if self.database.pool_size == 0 {
            return Err(invalid("database.pool_size", "must be at least 1"));
        }
        if !is_valid_username(&self.account.name) {
            return Err(invalid(
                "account.name",
                format!("`{}` must be lowercase ASCII letters, digits, `_`, `.` or `-`", self.account.name),
            ));
        }
        if self.account.name == self.instance_actor_name() {
            return Err(invalid("account.name", "must differ from the domain's host name"));
        }
        if self.account.display_name.trim().is_empty() {
            return Err(invalid("account.display_name", "must not be empty"));
        }
        if self.account.languages.is_empty() {
            return Err(invalid("account.languages", "list at least one language"));
        }
        for lang in &self.account.languages {
            if !is_language_code(lang) {
                return Err(invalid("account.languages", format!("`{lang}` is not an ISO 639-1 code such as `fr`")));
            }
        }
        for (key, value) in [("account.website", &self.account.website), ("account.contact", &self.account.contact)] {
            if let Some(value) = value {
                if !(value.starts_with("https://") || value.starts_with("http://") || value.starts_with("mailto:")) {
                    return Err(invalid(key, format!("`{value}` must be an http(s):// or mailto: URL")));
                }
            }
        }
        if self.delivery.max_attempts < 1 {
            return Err(invalid("delivery.max_attempts", "must be at least 1"));
        }
        // A job's lease is renewed while its request runs, however long it takes.
        if !(1..=120).contains(&self.delivery.request_timeout_secs) {
            return Err(invalid("delivery.request_timeout_secs", "must be between 1 and 120"));
        }
        if self.outgoing.backfill_max_fetches > 200 {
            return Err(invalid("outgoing.backfill_max_fetches", "must be at most 200"));
        }
        if !(1..=600).contains(&self.outgoing.backfill_budget_secs) {
            return Err(invalid("outgoing.backfill_budget_secs", "must be between 1 and 600"));
        }
        if self.outgoing.extra_ca_file.as_deref().is_some_and(str::is_empty) {
            return Err(invalid("outgoing.extra_ca_file", "must name a PEM file (or be left out)"));
        }
        if !MEDIA_MAX_LOGO_RANGE.contains(&self.media.max_logo_bytes) {
            return Err(invalid("media.max_logo_bytes", "must be between 1024 and 16777216 (16 MiB)"));
        }
        if self.media.dir.as_deref().is_some_and(|d| d.trim().is_empty()) {
            return Err(invalid("media.dir", "must name a folder (or be left out)"));
        }
        if !(1..=3600).contains(&self.delivery.poll_secs) {
            return Err(invalid("delivery.poll_secs", "must be between 1 and 3600"));
        }
        if let Some(listen) = &self.metrics.listen {
            if listen.parse::<std::net::SocketAddr>().is_err() {
                return Err(invalid("metrics.listen", format!("`{listen}` is not an address:port")));
            }
            if *listen == self.server.listen {
                return Err(invalid("metrics.listen", "must differ from server.listen"));
            }
        }
        if let Some(token) = &self.metrics.token {
            if token.chars().count() < MIN_METRICS_TOKEN_LEN
                || token.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(invalid(
                    "metrics.token",
                    format!("must be at least {MIN_METRICS_TOKEN_LEN} characters, without spaces"),
                ));
            }
        }
        if self.health.max_due_age_secs == 0 {
            return Err(invalid("health.max_due_age_secs", "must be at least 1"));
        }
        let limits = &self.limits;
        for (key, value) in [
            ("limits.inbox_per_minute", limits.inbox_per_minute),
            ("limits.inbox_burst", limits.inbox_burst),
            ("limits.key_fetches_per_minute", limits.key_fetches_per_minute),
            ("limits.key_fetch_burst", limits.key_fetch_burst),
            ("limits.admin_api_per_minute", limits.admin_api_per_minute),
            ("limits.admin_api_burst", limits.admin_api_burst),
        ] {
            if !(1..=1_000_000).contains(&value) {
                return Err(invalid(key, "must be between 1 and 1000000"));
            }
        }
        if !(1..=86_400).contains(&limits.failed_key_ttl_secs) {
            return Err(invalid("limits.failed_key_ttl_secs", "must be between 1 and 86400 (a day)"));
        }
        if !(1..=1_000_000).contains(&limits.failed_keys_max) {
            return Err(invalid("limits.failed_keys_max", "must be between 1 and 1000000"));
        }
        if let Some(collective) = &self.collective {
            if !is_valid_username(&collective.account) {
                return Err(invalid(
                    "collective.account",
                    format!("`{}` must be lowercase ASCII letters, digits, `_`, `.` or `-`", collective.account),
                ));
            }
            if collective.account == self.account.name || collective.account == self.instance_actor_name() {
                return Err(invalid("collective.account", "must differ from account.name and from the host name"));
            }
            if collective.display_name.trim().is_empty() {
                return Err(invalid("collective.display_name", "must not be empty"));
            }
            if !(1..=100_000).contains(&collective.max_reshares_per_hour) {
                return Err(invalid("collective.max_reshares_per_hour", "must be between 1 and 100000"));
            }
        }
        Ok(())
    }

    /// Host part of the domain, without the port.
    pub fn host_name(&self) -> String {
        match self.instance.domain.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host.to_string(),
            _ => self.instance.domain.clone(),
        }
    }

    pub fn is_loopback_domain(&self) -> bool {
        let host = self.host_name();
        host == "localhost"
            || host.ends_with(".localhost")
            || host.trim_matches(['[', ']']).parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
    }

    pub fn dev_mode(&self) -> bool {
        self.instance.dev_mode.unwrap_or_else(|| self.is_loopback_domain())
    }

    pub fn scheme(&self) -> &str {
        match &self.instance.scheme {
            Some(scheme) => scheme,
            None if self.is_loopback_domain() => "http",
            None => "https",
        }
    }

    /// `server.trusted_proxies`, parsed (validation refused any that does not parse).
    pub fn trusted_proxies(&self) -> Vec<ipnet::IpNet> {
        self.server.trusted_proxies.iter().filter_map(|p| parse_proxy(p)).collect()
    }

    /// The instance actor's username is the host name, as Mastodon and GoToSocial do.
    pub fn instance_actor_name(&self) -> String {
        self.host_name()
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.instance.timezone.parse().unwrap_or(chrono_tz::Europe::Paris)
    }

    pub fn default_language(&self) -> &str {
        &self.account.languages[0]
    }

    /// The collective's Group name, when the role is on.
    pub fn collective_account(&self) -> Option<&str> {
        self.collective.as_ref().map(|c| c.account.as_str())
    }

    /// The account's handle as users type it: `@bulletin@host.example`.
    pub fn handle(&self) -> String {
        format!("@{}@{}", self.account.name, self.instance.domain)
    }
}

/// A trusted proxy: a CIDR (`10.0.0.0/8`, `fd00::/8`) or a single address (`127.0.0.1`).
pub fn parse_proxy(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>().ok().or_else(|| text.parse::<IpAddr>().ok().map(ipnet::IpNet::from)).map(|n| n.trunc())
}

/// An environment value is read as a TOML literal (`true`, `3`, `["fr", "en"]`), else as a string.
fn env_value(raw: &str) -> toml::Value {
    let parsed: Result<toml::Table, _> = toml::from_str(&format!("v = {raw}"));
    match parsed.ok().and_then(|mut t| t.remove("v")) {
        Some(value) => value,
        None => toml::Value::String(raw.to_string()),
    }
}

/// Mastodon's rule for `preferredUsername`: `[a-z0-9_]+([.-]+[a-z0-9_]+)*`.
pub fn is_valid_username(name: &str) -> bool {
    let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| word(c) || c == '.' || c == '-')
        && name.starts_with(word)
        && name.ends_with(word)
}

pub fn is_language_code(code: &str) -> bool {
    code.len() == 2 && code.chars().all(|c| c.is_ascii_lowercase())
}

/// The text `ronron init` writes: the example file with the chosen domain and database.
pub fn initial_file(domain: &str, database_url: &str) -> String {
    setup_file(&Setup::new(domain, database_url))
}

/// `ronron init --collective`: the same file with the `[collective]` section turned on.
pub fn initial_file_collective(domain: &str, database_url: &str) -> String {
    setup_file(&Setup { collective: true, ..Setup::new(domain, database_url) })
}

/// The answers of `ronron init`, written into the commented example file by `setup_file`.
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    pub domain: String,
    pub database_url: String,
    pub account: String,
    pub languages: Vec<String>,
    pub timezone: String,
    /// Written as `server.trusted_proxies`.
    pub trusted_proxies: Vec<String>,
    pub collective: bool,
}

/// The placeholder domain and the database of the Debian package's configuration (pkg/ronron.toml).
pub const PACKAGE_DOMAIN: &str = "bulletin.example.org";
pub const PACKAGE_DATABASE: &str = "sqlite:///var/lib/ronron/ronron.db";

/// The proxies trusted by a set-up file for a public domain: a reverse proxy on this machine.
pub const LOCAL_PROXIES: [&str; 2] = ["127.0.0.1/32", "::1/128"];

impl Setup {
    /// The example's values, with this domain and database; a public domain trusts a proxy on
    /// this machine (the documented nginx or Caddy site).
    pub fn new(domain: &str, database_url: &str) -> Setup {
        let defaults = Config::default();
        let mut probe = defaults.clone();
        probe.instance.domain = domain.to_string();
        let trusted_proxies = match probe.is_loopback_domain() {
            true => vec![],
            false => LOCAL_PROXIES.iter().map(|p| p.to_string()).collect(),
        };
        Setup {
            domain: domain.to_string(),
            database_url: database_url.to_string(),
            account: defaults.account.name,
            languages: defaults.account.languages,
            timezone: defaults.instance.timezone,
            trusted_proxies,
            collective: false,
        }
    }
}

/// config/example.toml, comments kept, with the answers of `ronron init` in place of the defaults.
pub fn setup_file(setup: &Setup) -> String {
    let quoted = |items: &[String]| items.iter().map(|i| format!("{i:?}")).collect::<Vec<_>>().join(", ");
    let mut text = include_str!("../config/example.toml").to_string();
    let replacements = [
        ("\ntrusted_proxies = []\n".to_string(), format!("\ntrusted_proxies = [{}]\n", quoted(&setup.trusted_proxies))),
        ("\ndomain = \"localhost:8080\"\n".to_string(), format!("\ndomain = {:?}\n", setup.domain)),
        ("\ntimezone = \"Europe/Paris\"\n".to_string(), format!("\ntimezone = {:?}\n", setup.timezone)),
        ("\nurl = \"sqlite://data/ronron.db\"\n".to_string(), format!("\nurl = {:?}\n", setup.database_url)),
        ("\nname = \"bulletin\"\n".to_string(), format!("\nname = {:?}\n", setup.account)),
        ("\nlanguages = [\"fr\", \"en\"]\n".to_string(), format!("\nlanguages = [{}]\n", quoted(&setup.languages))),
    ];
    for (from, to) in replacements {
        // Each default appears once in the example (a unit test checks every answer lands).
        text = text.replacen(&from, &to, 1);
    }
    if setup.collective {
        text = text.replace(COLLECTIVE_OFF, COLLECTIVE_ON);
    }
    text
}

const COLLECTIVE_OFF: &str = "# [collective]\n# account = \"collectif\"\n# display_name = \"Collectif\"\n# summary = \"\"\n# auto_accept = false\n# relay = false\n# max_reshares_per_hour = 60\n";
const COLLECTIVE_ON: &str = "[collective]\naccount = \"collectif\"\ndisplay_name = \"Collectif\"\nsummary = \"\"\nauto_accept = false\nrelay = false\nmax_reshares_per_hour = 60\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_apply_and_bad_values_name_the_key() {
        let env = vec![
            ("RONRON_INSTANCE_DOMAIN".to_string(), "chaton.example".to_string()),
            ("RONRON_DELIVERY_WORKERS".to_string(), "5".to_string()),
            ("RONRON_ACCOUNT_LANGUAGES".to_string(), "[\"en\"]".to_string()),
        ];
        let config = Config::from_toml_and_env("", &env).unwrap();
        assert_eq!(config.instance.domain, "chaton.example");
        assert_eq!(config.delivery.workers, 5);
        assert_eq!(config.account.languages, vec!["en"]);
        assert_eq!(config.scheme(), "https");
        assert!(!config.dev_mode());

        let err = Config::from_toml_and_env("[account]\nname = \"Bad Name\"", &[]).unwrap_err();
        assert!(err.to_string().contains("account.name"), "{err}");
        let err = Config::from_toml_and_env("[acount]\nname = \"x\"", &[]).unwrap_err();
        assert!(err.to_string().contains("acount"), "{err}");
        let err = Config::from_toml_and_env("", &[("RONRON_DELIVERY_WORKERS".into(), "many".into())]).unwrap_err();
        assert!(err.to_string().contains("workers"), "{err}");
        let err = Config::from_toml_and_env("[database]\nurl = \"mysql://x\"", &[]).unwrap_err();
        assert!(err.to_string().contains("database.url"), "{err}");
        let err = Config::from_toml_and_env("[metrics]\ntoken = \"short\"", &[]).unwrap_err();
        assert!(err.to_string().contains("metrics.token"), "{err}");
        let err = Config::from_toml_and_env("[metrics]\nlisten = \"nowhere\"", &[]).unwrap_err();
        assert!(err.to_string().contains("metrics.listen"), "{err}");
        let env = [("RONRON_HEALTH_MAX_QUEUE_DEPTH".to_string(), "3".to_string())];
        assert_eq!(Config::from_toml_and_env("", &env).unwrap().health.max_queue_depth, 3);
        let err = Config::from_toml_and_env("[server]\ntrusted_proxies = [\"10.0.0.0/33\"]", &[]).unwrap_err();
        assert!(err.to_string().contains("server.trusted_proxies") && err.to_string().contains("10.0.0.0/33"), "{err}");
        let env = [("RONRON_SERVER_TRUSTED_PROXIES".to_string(), "[\"127.0.0.1\", \"fd00::/8\"]".to_string())];
        let config = Config::from_toml_and_env("", &env).unwrap();
        assert_eq!(config.trusted_proxies().len(), 2);
        assert!(config.trusted_proxies()[0].contains(&"127.0.0.1".parse::<IpAddr>().unwrap()));
    }

    /// Found while writing the `config` fuzz target: `status.example?x` parsed as a host with a
    /// query, so it was accepted and every URL built from it (`Urls`) was `http://status.example?x/users/…`.
    #[test]
    fn a_domain_that_would_not_stay_a_host_is_refused() {
        for domain in
            ["status.example?x", "status.example#x", "a:b@status.example", "status.\texample", "status.example/x"]
        {
            let env = vec![("RONRON_INSTANCE_DOMAIN".to_string(), domain.to_string())];
            let err = Config::from_toml_and_env("", &env).unwrap_err();
            assert!(err.to_string().contains("instance.domain"), "{domain}: {err}");
        }
        for domain in
            ["status.example", "status.example:8443", "127.0.0.1:3000", "[::1]:8080", "xn--chaton-9ua.example"]
        {
            let env = vec![("RONRON_INSTANCE_DOMAIN".to_string(), domain.to_string())];
            Config::from_toml_and_env("", &env).unwrap_or_else(|e| panic!("{domain}: {e}"));
        }
    }

    #[test]
    fn loopback_domain_means_dev_mode_and_http() {
        let config = Config::default();
        assert!(config.dev_mode());
        assert_eq!(config.scheme(), "http");
        assert_eq!(config.handle(), "@bulletin@localhost:8080");
    }

    #[test]
    fn the_collective_section_turns_the_role_on() {
        assert_eq!(Config::default().collective, None);
        let config = Config::from_toml_and_env("[collective]\n", &[]).unwrap();
        assert_eq!(config.collective_account(), Some("collectif"));
        let err = Config::from_toml_and_env("[collective]\naccount = \"bulletin\"", &[]).unwrap_err();
        assert!(err.to_string().contains("collective.account"), "{err}");
        let text = initial_file_collective("k.example", "sqlite://k.db");
        let config = Config::from_toml_and_env(&text, &[]).unwrap();
        assert_eq!(config.collective, Some(CollectiveConfig::default()));
    }

    #[test]
    fn setup_file_writes_every_answer_and_keeps_the_comments() {
        let setup = Setup {
            domain: "bulletin.chaton.example".into(),
            database_url: "postgres://ronron@localhost/ronron".into(),
            account: "nouvelles".into(),
            languages: vec!["en".into(), "br".into()],
            timezone: "America/Montreal".into(),
            trusted_proxies: vec!["10.0.0.1".into()],
            collective: true,
        };
        let text = setup_file(&setup);
        let config = Config::from_toml_and_env(&text, &[]).unwrap();
        assert_eq!(config.instance.domain, "bulletin.chaton.example");
        assert_eq!(config.database.url, "postgres://ronron@localhost/ronron");
        assert_eq!(config.account.name, "nouvelles");
        assert_eq!(config.account.languages, vec!["en", "br"]);
        assert_eq!(config.instance.timezone, "America/Montreal");
        assert_eq!(config.server.trusted_proxies, vec!["10.0.0.1"]);
        assert!(config.collective.is_some());
        assert!(text.contains("# IANA time zone in which maintenance windows"), "the comments stay");
        // A public domain trusts a proxy on this machine; a loopback one trusts none.
        assert_eq!(Setup::new("chaton.example", "sqlite://x.db").trusted_proxies, LOCAL_PROXIES);
        assert!(Setup::new("localhost:8080", "sqlite://x.db").trusted_proxies.is_empty());
        assert_eq!(
            Config::from_toml_and_env(&initial_file("localhost:8080", "sqlite://data/ronron.db"), &[]).unwrap(),
            Config::default()
        );
    }

    /// pkg/ronron.toml, the Debian package's /etc/ronron/ronron.toml, is what `ronron init` writes
    /// for its placeholder domain and the package's database; `UPDATE_PKG_CONFIG=1` rewrites it.
    #[test]
    fn the_packaged_configuration_is_the_setup_file() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pkg/ronron.toml");
        let expected = setup_file(&Setup::new(PACKAGE_DOMAIN, PACKAGE_DATABASE));
        if std::env::var("UPDATE_PKG_CONFIG").as_deref() == Ok("1") {
            std::fs::write(&path, &expected).unwrap();
        }
        let packaged = std::fs::read_to_string(&path).unwrap();
        assert!(packaged == expected, "pkg/ronron.toml is stale: UPDATE_PKG_CONFIG=1 cargo test --lib config::");
        let config = Config::from_toml_and_env(&packaged, &[]).unwrap();
        assert_eq!(config.server.trusted_proxies, LOCAL_PROXIES);
        assert!(!config.dev_mode() && config.scheme() == "https");
    }

    #[test]
    fn usernames_follow_mastodon_rule() {
        assert!(is_valid_username("bulletin"));
        assert!(is_valid_username("chatons.org"));
        assert!(!is_valid_username("-x"));
        assert!(!is_valid_username("Bulletin"));
        assert!(!is_valid_username("a b"));
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    /// config/example.toml shows every default: parsing it (with the commented keys left out)
    /// must give exactly `Config::default()`, and every key of the defaults must appear in it.
    #[test]
    fn example_toml_matches_the_defaults() {
        let text = include_str!("../config/example.toml");
        let parsed = Config::from_toml_and_env(text, &[]).unwrap();
        assert_eq!(parsed, Config::default());
        let defaults = toml::Value::try_from(Config::default()).unwrap();
        for (section, keys) in defaults.as_table().unwrap() {
            assert!(text.contains(&format!("[{section}]")), "section [{section}] missing from example.toml");
            for key in keys.as_table().unwrap().keys() {
                assert!(
                    text.contains(&format!("\n{key} = ")) || text.contains(&format!("\n# {key} = ")),
                    "key {section}.{key} missing from example.toml"
                );
            }
        }
        for optional in [
            "scheme",
            "dev_mode",
            "website",
            "contact",
            "structure_type",
            "country",
            "region",
            "logo",
            "criteria_file",
            "token",
            "extra_ca_file",
            "account",
            "auto_accept",
            "relay",
            "max_reshares_per_hour",
            "dir",
        ] {
            assert!(text.contains(&format!("# {optional} = ")), "{optional} must be documented");
        }
    }
}
