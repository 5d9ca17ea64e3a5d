//! `ronron check`: is this configuration, on this machine, ready to serve? Each check says ok with
//! what it saw, or why it failed and what to do. Nothing is created or migrated. (The DNS of the
//! domain is not checked.)

use crate::{
    config::Config,
    db::{self, models::keys as key_rows, Backend},
    federation::keys::{GROUP_KEY, HOST_KEY, INSTANCE_KEY},
};
use std::path::{Path, PathBuf};

/// One check: its name, and what it saw (`Ok`) or why it failed (`Err`).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Result<String, String>,
}

impl Check {
    fn new(name: &'static str, outcome: Result<String, String>) -> Check {
        Check { name, outcome }
    }
}

/// Every check, in order; a configuration that does not load stops there. Blocking (files, the
/// database): call it from a blocking thread.
pub fn run(path: Option<&Path>) -> Vec<Check> {
    let config = match Config::load(path) {
        Ok(config) => config,
        Err(e) => return vec![Check::new("configuration", Err(e.to_string()))],
    };
    let file = path.map_or_else(|| "built-in defaults".to_string(), |p| p.display().to_string());
    let mut checks = vec![Check::new("configuration", Ok(format!("{file}: account {}", config.handle())))];
    checks.push(Check::new("data directory", data_directory(&config)));
    checks.push(Check::new("media folder", media_folder(&config)));
    let database = database(&config);
    let database_ready = database.is_ok();
    checks.push(Check::new("database", database));
    checks.push(Check::new("public URL", public_url(&config)));
    checks.push(Check::new("reverse proxy", reverse_proxy(&config)));
    let keys = match database_ready {
        true => signing_keys(&config),
        false => Err("not checked: the database is not ready".to_string()),
    };
    checks.push(Check::new("signing keys", keys));
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

fn data_directory(config: &Config) -> Result<String, String> {
    let Some(dir) = data_dir(config) else {
        return Ok("none needed: the database is PostgreSQL".into());
    };
    if !dir.is_dir() {
        return Err(format!("{} does not exist (the Debian package creates /var/lib/ronron)", dir.display()));
    }
    // Written by the user running this command: run it as the server's user (`sudo -u ronron`).
    let probe = dir.join(format!(".ronron-check-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            Ok(format!("{} is writable", dir.display()))
        }
        Err(e) => Err(format!("{} is not writable by this user: {e}", dir.display())),
    }
}

/// `media.dir`, where uploaded logos go: writable, or creatable at the first upload (its
/// nearest existing parent writable).
fn media_folder(config: &Config) -> Result<String, String> {
    let dir = config.media.folder(&config.database.url);
    let existing = dir.ancestors().find(|d| d.as_os_str().is_empty() || d.is_dir()).unwrap_or(Path::new(""));
    let existing = if existing.as_os_str().is_empty() { Path::new(".") } else { existing };
    let probe = existing.join(format!(".ronron-check-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            if dir.is_dir() {
                Ok(format!("{} is writable", dir.display()))
            } else {
                Ok(format!("{} is made at the first upload ({} is writable)", dir.display(), existing.display()))
            }
        }
        Err(e) => Err(format!("{} is not writable by this user: {e} (media.dir)", existing.display())),
    }
}

fn database(config: &Config) -> Result<String, String> {
    let url = &config.database.url;
    if data_dir(config).is_some() && !Path::new(db::sqlite_path(url)).is_file() {
        return Err(format!("{} does not exist: `ronron migrate` creates it", db::sqlite_path(url)));
    }
    let mut conn = db::connect_unmigrated(url).map_err(|e| e.to_string())?;
    let status = db::migration_status(&mut conn).map_err(|e| e.to_string())?;
    if !status.unknown.is_empty() {
        return Err(format!(
            "migrated by a newer Ronron (unknown migrations {}): upgrade this binary",
            status.unknown.join(", ")
        ));
    }
    if !status.pending.is_empty() {
        return Err(format!(
            "{} migration(s) pending ({}): run `ronron migrate` (or `ronron serve`, which migrates)",
            status.pending.len(),
            status.pending.join(", ")
        ));
    }
    Ok("reachable, every migration applied".into())
}

/// https unless dev mode, and dev mode only on a loopback domain.
pub fn public_url(config: &Config) -> Result<String, String> {
    let url = format!("{}://{}", config.scheme(), config.instance.domain);
    match (config.dev_mode(), config.is_loopback_domain(), config.scheme()) {
        (true, false, _) => Err(format!(
            "{url}: instance.dev_mode is on for a public domain (it allows http and private peers); remove it"
        )),
        (true, true, _) => Ok(format!("{url} (dev mode: for tests and development only)")),
        (false, _, "https") => Ok(url),
        (false, _, _) => Err(format!("{url}: peers require https; set instance.scheme = \"https\" behind a TLS proxy")),
    }
}

/// A public domain is served behind a reverse proxy (TLS): its forwarded headers are believed only
/// from `server.trusted_proxies`, which must neither be empty nor trust everyone.
pub fn reverse_proxy(config: &Config) -> Result<String, String> {
    if config.is_loopback_domain() {
        return Ok("none needed for a loopback domain".into());
    }
    let proxies = config.trusted_proxies();
    if proxies.is_empty() {
        return Err("server.trusted_proxies is empty: behind a reverse proxy every visitor has the proxy's \
                    address (the login throttle then counts them all as one); behind nginx or Caddy on this \
                    machine: trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]"
            .into());
    }
    if let Some(everyone) = proxies.iter().find(|p| p.prefix_len() == 0) {
        return Err(format!(
            "server.trusted_proxies holds `{everyone}`, which trusts every address: anyone could forge \
             X-Forwarded-For; list the proxy's own address"
        ));
    }
    let listen_loopback = config.server.listen.parse::<std::net::SocketAddr>().is_ok_and(|a| a.ip().is_loopback());
    let trusts_loopback = proxies.iter().any(|p| {
        p.contains(&std::net::IpAddr::from([127, 0, 0, 1]))
            || p.contains(&std::net::IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]))
    });
    if listen_loopback && !trusts_loopback {
        return Err(format!(
            "server.listen is {} (loopback), so the proxy runs on this machine, but server.trusted_proxies \
             covers neither 127.0.0.1 nor ::1",
            config.server.listen
        ));
    }
    let list: Vec<String> = proxies.iter().map(ToString::to_string).collect();
    Ok(format!("X-Forwarded-For and X-Forwarded-Proto believed from {}", list.join(", ")))
}

fn signing_keys(config: &Config) -> Result<String, String> {
    let mut conn = db::connect_unmigrated(&config.database.url).map_err(|e| e.to_string())?;
    let mut kinds = vec![HOST_KEY, INSTANCE_KEY];
    if config.collective_account().is_some() {
        kinds.push(GROUP_KEY);
    }
    let mut missing = Vec::new();
    for kind in &kinds {
        if key_rows::find(&mut conn, kind).map_err(|e| e.to_string())?.is_none() {
            missing.push(*kind);
        }
    }
    match missing.is_empty() {
        true => Ok(format!("present: {}", kinds.join(", "))),
        false => Err(format!(
            "missing: {} (`ronron migrate` or `ronron serve` creates them; if this database had them, restore \
             it from a backup, or followers will no longer trust this host)",
            missing.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Config {
        Config::from_toml_and_env(toml, &[]).unwrap()
    }

    #[test]
    fn the_public_url_is_https_unless_dev_mode_on_loopback() {
        assert!(public_url(&config("")).unwrap().contains("dev mode"));
        assert_eq!(public_url(&config("[instance]\ndomain = \"c.example\"")), Ok("https://c.example".into()));
        let http = public_url(&config("[instance]\ndomain = \"c.example\"\nscheme = \"http\"")).unwrap_err();
        assert!(http.contains("http://c.example") && http.contains("https"), "{http}");
        let dev = public_url(&config("[instance]\ndomain = \"c.example\"\ndev_mode = true")).unwrap_err();
        assert!(dev.contains("dev_mode"), "{dev}");
    }

    #[test]
    fn a_public_domain_needs_a_trusted_proxy_that_is_not_everyone() {
        let public = "[instance]\ndomain = \"c.example\"\n[server]\n";
        assert!(reverse_proxy(&config("")).is_ok());
        let none = reverse_proxy(&config(public)).unwrap_err();
        assert!(none.contains("trusted_proxies is empty"), "{none}");
        let all = reverse_proxy(&config(&format!("{public}trusted_proxies = [\"0.0.0.0/0\"]"))).unwrap_err();
        assert!(all.contains("0.0.0.0/0"), "{all}");
        let far = reverse_proxy(&config(&format!("{public}trusted_proxies = [\"10.0.0.2\"]"))).unwrap_err();
        assert!(far.contains("loopback"), "{far}");
        let elsewhere = format!("{public}listen = \"10.0.0.1:8080\"\ntrusted_proxies = [\"10.0.0.2\"]");
        assert!(reverse_proxy(&config(&elsewhere)).is_ok());
        assert!(reverse_proxy(&config(&format!("{public}trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]"))).is_ok());
    }
}
