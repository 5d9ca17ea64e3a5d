//! The Debian package built by `cargo deb`: `.ci/run` builds it and sets REQUIRE_DEB_TEST to its
//! path. Unpacked in a throwaway root, its files are checked (binary, conffile, system user, unit
//! and its hardening), then the installed binary runs with the installed configuration, its paths
//! rewritten into the root: `serve` answers, and `check` passes. Skipped without REQUIRE_DEB_TEST.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(program).args(args).env_remove("RONRON_CONFIG").output().expect("the command runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

/// `serve`, killed on drop.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn unit_path(root: &Path) -> PathBuf {
    ["lib/systemd/system/ronron.service", "usr/lib/systemd/system/ronron.service"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
        .expect("the package installs ronron.service")
}

#[tokio::test]
async fn the_installed_package_runs_with_its_installed_configuration() {
    let deb = match std::env::var("REQUIRE_DEB_TEST") {
        Ok(deb) if !deb.is_empty() => deb,
        _ => {
            eprintln!("skipped: set REQUIRE_DEB_TEST to the .deb built by `cargo deb` (.ci/run does)");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let root_text = root.display().to_string();
    let (ok, _, err) = run("dpkg-deb", &["-x", &deb, &root_text]);
    assert!(ok, "dpkg-deb -x: {err}");
    let control = dir.path().join("control");
    let (ok, _, err) = run("dpkg-deb", &["-e", &deb, &control.display().to_string()]);
    assert!(ok, "dpkg-deb -e: {err}");

    // The files: binary on the PATH, the conffile as pkg/ronron.toml, the user, the unit.
    let binary = root.join("usr/bin/ronron");
    assert!(binary.is_file(), "/usr/bin/ronron");
    let conffile = std::fs::read_to_string(root.join("etc/ronron/ronron.toml")).unwrap();
    assert_eq!(conffile, include_str!("../../pkg/ronron.toml"));
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert!(conffiles.lines().any(|l| l == "/etc/ronron/ronron.toml"), "{conffiles}");
    let sysusers = std::fs::read_to_string(root.join("usr/lib/sysusers.d/ronron.conf")).unwrap();
    assert!(sysusers.contains("u ronron - ") && sysusers.contains("/var/lib/ronron"), "{sysusers}");
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("systemd-sysusers ronron.conf") && postinst.contains("adduser --system"), "{postinst}");
    assert!(postinst.contains("install -d -m 0750 -o ronron -g ronron /var/lib/ronron"), "{postinst}");
    let unit = unit_path(&root);
    let unit_text = std::fs::read_to_string(&unit).unwrap();
    for line in [
        "User=ronron",
        "ExecStart=/usr/bin/ronron --config /etc/ronron/ronron.toml serve",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "StateDirectory=ronron",
    ] {
        assert!(unit_text.lines().any(|l| l == line), "{line} in the unit");
    }
    let (_, out, err) = run("systemd-analyze", &["security", "--offline=yes", &unit.display().to_string()]);
    let exposure: f64 = out
        .lines()
        .find_map(|l| l.split("Overall exposure level for ronron.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("systemd-analyze security: {out}{err}"));
    assert!(exposure <= 2.0, "exposure {exposure}: {out}");

    // The installed binary with the installed configuration, its paths moved into the root (and
    // a free port): the package's state directory is what postinst creates.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let state = root.join("var/lib/ronron");
    std::fs::create_dir_all(&state).unwrap();
    let config = conffile
        .replace("/var/lib/ronron", &state.display().to_string())
        .replace("listen = \"127.0.0.1:8080\"", &format!("listen = \"127.0.0.1:{port}\""));
    assert!(config.contains(&format!("127.0.0.1:{port}")) && config.contains(&root_text));
    let config_path = root.join("etc/ronron/ronron.test.toml");
    std::fs::write(&config_path, config).unwrap();
    let config_arg = config_path.display().to_string();
    let (ok, out, err) = run(&binary, &["--version"]);
    assert!(ok && out.starts_with("ronron "), "{out}{err}");
    let server = Server(
        Command::new(&binary)
            .args(["--config", &config_arg, "serve"])
            .env_remove("RONRON_CONFIG")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the installed binary serves");
    let finger: serde_json::Value = client
        .get(format!("{base}/.well-known/webfinger?resource=acct:bulletin@bulletin.example.org"))
        .header("Host", "bulletin.example.org")
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(finger.to_string().contains("https://bulletin.example.org/u/bulletin"), "{finger}");
    assert!(state.join("ronron.db").is_file(), "the database is in the state directory");
    let (ok, out, err) = run(&binary, &["--config", &config_arg, "check"]);
    assert!(ok, "check on the installed configuration:\n{out}{err}");
    drop(server);
}

/// pkg/debian/postinst run with the commands it calls replaced by scripts that log their
/// arguments (`dpkg-statoverride` answering `override`'s exit code); returns the log.
fn postinst_calls(args: &[&str], override_registered: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    for name in ["systemd-sysusers", "adduser", "getent", "install", "chown", "chmod", "dpkg-statoverride"] {
        let code = if name == "dpkg-statoverride" && !override_registered { 1 } else { 0 };
        let script = format!("#!/bin/sh\necho \"{name} $*\" >> '{}'\nexit {code}\n", log.display());
        let path = dir.path().join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/pkg/debian/postinst");
    let output =
        Command::new("/bin/sh").arg(script).args(args).env("PATH", dir.path()).output().expect("sh runs postinst");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    std::fs::read_to_string(&log).unwrap_or_default()
}

#[test]
fn postinst_gives_the_conffile_its_rights_at_every_configure_unless_overridden() {
    let rights = ["chown root:ronron /etc/ronron/ronron.toml", "chmod 0640 /etc/ronron/ronron.toml"];
    // A first install, and an upgrade from an earlier version: both set the rights.
    for args in [&["configure"][..], &["configure", "0.1.0"][..]] {
        let log = postinst_calls(args, false);
        for call in rights {
            assert!(log.lines().any(|l| l == call), "{args:?}: {log}");
        }
    }
    // Rights the admin registered with dpkg-statoverride are left alone.
    let log = postinst_calls(&["configure", "0.1.0"], true);
    assert!(!log.contains("chmod") && !log.contains("chown"), "{log}");
    assert!(log.contains("dpkg-statoverride --list /etc/ronron/ronron.toml"), "{log}");
}
