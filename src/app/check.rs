//! `ronron check`: is this configuration, on this machine, ready to serve? Each check says ok with
//! what it saw, or why it failed and what to do. Nothing is created or migrated. (The DNS of the
//! domain is not checked.)

use crate::{
    config::Config,
    db::{self, models::keys as key_rows, Backend},
    federation::keys::{GROUP_KEY, HOST_KEY, INSTANCE_KEY},
    i18n::Message,
};
use std::path::{Path, PathBuf};

/// What a check saw (`Ok`) or why it failed (`Err`), to be worded in the reader's language.
pub type Outcome = Result<Message, Message>;

/// One check: its name, and its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: Message,
    pub outcome: Outcome,
}

impl Check {
    fn new(name: Message, outcome: Outcome) -> Check {
        Check { name, outcome }
    }
}

/// A text from outside (an I/O or database error), said as it is.
fn said(error: impl std::fmt::Display) -> Message {
    Message::new("check.error", &[("error", &error.to_string())])
}

/// Every check, in order; a configuration that does not load stops there. Blocking (files, the
/// database): call it from a blocking thread.
pub fn run(path: Option<&Path>) -> Vec<Check> {
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(e) => return vec![Check::new(Message::new("check.configuration", &[]), Err(said(e)))],
    };
    let handle = config.handle();
    let seen = match path {
        Some(file) => {
            Message::new("check.configuration_file", &[("file", &file.display().to_string()), ("handle", &handle)])
        }
        None => Message::new("check.configuration_defaults", &[("handle", &handle)]),
    };
    let mut checks = vec![Check::new(Message::new("check.configuration", &[]), Ok(seen))];
    checks.push(Check::new(Message::new("check.data_directory", &[]), data_directory(&config)));
    checks.push(Check::new(Message::new("check.media_folder", &[]), media_folder(&config)));
    let database = database(&config);
    let database_ready = database.is_ok();
    checks.push(Check::new(Message::new("check.database", &[]), database));
    checks.push(Check::new(Message::new("check.public_url", &[]), public_url(&config)));
    checks.push(Check::new(Message::new("check.reverse_proxy", &[]), reverse_proxy(&config)));
    let keys = match database_ready {
        true => signing_keys(&config),
        false => Err(Message::new("check.keys_not_checked", &[])),
    };
    checks.push(Check::new(Message::new("check.signing_keys", &[]), keys));
    checks
}

/// The folder of the SQLite file (and of the backup lock beside it), or none for PostgreSQL.
fn data_dir(config: &Config) -> Option<PathBuf> {
    match Backend::from_url(&config.database.url) {
        Ok(Backend::Sqlite) => {
            let file = Path::new(db::sqlite_path(&config.database.url));
            let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(dir.to_path_buf())
        }
        _ => None,
    }
}

fn data_directory(config: &Config) -> Outcome {
    let Some(dir) = data_dir(config) else {
        return Ok(Message::new("check.data_directory_postgres", &[]));
    };
    let folder = dir.display().to_string();
    if !dir.is_dir() {
        return Err(Message::new("check.data_directory_missing", &[("folder", &folder)]));
    }
    // Written by the user running this command: run it as the server's user (`sudo -u ronron`).
    let probe = dir.join(format!(".ronron-check-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            Ok(Message::new("check.writable", &[("folder", &folder)]))
        }
        Err(e) => Err(Message::new("check.not_writable", &[("folder", &folder), ("error", &e.to_string())])),
    }
}

/// `media.dir`, where uploaded logos go: writable, or creatable at the first upload (its
/// nearest existing parent writable).
fn media_folder(config: &Config) -> Outcome {
    let dir = config.media.folder(&config.database.url);
    let existing = dir.ancestors().find(|d| d.as_os_str().is_empty() || d.is_dir()).unwrap_or(Path::new(""));
    let existing = if existing.as_os_str().is_empty() { Path::new(".") } else { existing };
    let probe = existing.join(format!(".ronron-check-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            let folder = dir.display().to_string();
            if dir.is_dir() {
                Ok(Message::new("check.writable", &[("folder", &folder)]))
            } else {
                let parent = existing.display().to_string();
                Ok(Message::new("check.media_made_later", &[("folder", &folder), ("parent", &parent)]))
            }
        }
        Err(e) => {
            let folder = existing.display().to_string();
            Err(Message::new("check.media_not_writable", &[("folder", &folder), ("error", &e.to_string())]))
        }
    }
}

fn database(config: &Config) -> Outcome {
    let url = &config.database.url;
    if data_dir(config).is_some() && !Path::new(db::sqlite_path(url)).is_file() {
        return Err(Message::new("check.database_missing", &[("file", db::sqlite_path(url))]));
    }
    let mut conn = db::connect_unmigrated(url).map_err(said)?;
    let status = db::migration_status(&mut conn).map_err(said)?;
    if !status.unknown.is_empty() {
        return Err(Message::new("check.database_newer", &[("migrations", &status.unknown.join(", "))]));
    }
    if !status.pending.is_empty() {
        let pending = status.pending.join(", ");
        return Err(Message::counted(
            "check.migrations_pending",
            status.pending.len() as u64,
            &[("migrations", &pending)],
        ));
    }
    Ok(Message::new("check.database_ready", &[]))
}

/// https unless dev mode, and dev mode only on a loopback domain.
pub fn public_url(config: &Config) -> Outcome {
    let url = format!("{}://{}", config.scheme(), config.instance.domain);
    let values = [("url", url.as_str())];
    match (config.dev_mode(), config.is_loopback_domain(), config.scheme()) {
        (true, false, _) => Err(Message::new("check.dev_mode_public", &values)),
        (true, true, _) => Ok(Message::new("check.dev_mode_loopback", &values)),
        (false, _, "https") => Ok(Message::new("check.https", &values)),
        (false, _, _) => Err(Message::new("check.http", &values)),
    }
}

/// A public domain is served behind a reverse proxy (TLS): its forwarded headers are believed only
/// from `server.trusted_proxies`, which must neither be empty nor trust everyone.
pub fn reverse_proxy(config: &Config) -> Outcome {
    if config.is_loopback_domain() {
        return Ok(Message::new("check.proxy_loopback", &[]));
    }
    let proxies = config.trusted_proxies();
    if proxies.is_empty() {
        return Err(Message::new("check.proxy_none", &[]));
    }
    if let Some(everyone) = proxies.iter().find(|p| p.prefix_len() == 0) {
        return Err(Message::new("check.proxy_everyone", &[("value", &everyone.to_string())]));
    }
    let listen_loopback = config.server.listen.parse::<std::net::SocketAddr>().is_ok_and(|a| a.ip().is_loopback());
    let trusts_loopback = proxies.iter().any(|p| {
        p.contains(&std::net::IpAddr::from([127, 0, 0, 1]))
            || p.contains(&std::net::IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]))
    });
    if listen_loopback && !trusts_loopback {
        return Err(Message::new("check.proxy_not_loopback", &[("listen", &config.server.listen)]));
    }
    let list: Vec<String> = proxies.iter().map(ToString::to_string).collect();
    Ok(Message::new("check.proxy_trusted", &[("proxies", &list.join(", "))]))
}

fn signing_keys(config: &Config) -> Outcome {
    let mut conn = db::connect_unmigrated(&config.database.url).map_err(said)?;
    let mut kinds = vec![HOST_KEY, INSTANCE_KEY];
    if config.collective_account().is_some() {
        kinds.push(GROUP_KEY);
    }
    let mut missing = Vec::new();
    for kind in &kinds {
        if key_rows::find(&mut conn, kind).map_err(said)?.is_none() {
            missing.push(*kind);
        }
    }
    match missing.is_empty() {
        true => Ok(Message::new("check.keys_present", &[("keys", &kinds.join(", "))])),
        false => Err(Message::new("check.keys_missing", &[("keys", &missing.join(", "))])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Config {
        Config::from_toml_and_env(toml, &[]).unwrap()
    }

    /// An outcome in English, as a log would show it.
    fn english(outcome: Outcome) -> Result<String, String> {
        outcome.map(|m| m.to_string()).map_err(|m| m.to_string())
    }

    #[test]
    fn the_public_url_is_https_unless_dev_mode_on_loopback() {
        let url = |toml: &str| english(public_url(&config(toml)));
        assert!(url("").unwrap().contains("dev mode"));
        assert_eq!(url("[instance]\ndomain = \"c.example\""), Ok("https://c.example".into()));
        let http = url("[instance]\ndomain = \"c.example\"\nscheme = \"http\"").unwrap_err();
        assert!(http.contains("http://c.example") && http.contains("https"), "{http}");
        let dev = url("[instance]\ndomain = \"c.example\"\ndev_mode = true").unwrap_err();
        assert!(dev.contains("dev_mode"), "{dev}");
    }

    #[test]
    fn a_public_domain_needs_a_trusted_proxy_that_is_not_everyone() {
        let proxy = |toml: &str| english(reverse_proxy(&config(toml)));
        let public = "[instance]\ndomain = \"c.example\"\n[server]\n";
        assert!(proxy("").is_ok());
        let none = proxy(public).unwrap_err();
        assert!(none.contains("trusted_proxies is empty"), "{none}");
        let all = proxy(&format!("{public}trusted_proxies = [\"0.0.0.0/0\"]")).unwrap_err();
        assert!(all.contains("0.0.0.0/0"), "{all}");
        let far = proxy(&format!("{public}trusted_proxies = [\"10.0.0.2\"]")).unwrap_err();
        assert!(far.contains("loopback"), "{far}");
        let elsewhere = format!("{public}listen = \"10.0.0.1:8080\"\ntrusted_proxies = [\"10.0.0.2\"]");
        assert!(proxy(&elsewhere).is_ok());
        assert!(proxy(&format!("{public}trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]")).is_ok());
    }
}
