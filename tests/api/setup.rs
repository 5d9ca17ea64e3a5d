//! `ronron init` as a guided setup and `ronron check`, through the real binary.

use crate::helpers::fresh_database_url;
use std::{io::Write, path::Path};

/// Runs the binary in `dir` with `input` on standard input: (success, stdout, stderr).
fn ronron(dir: &Path, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = crate::helpers::ronron_command()
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

fn line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines().find(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ").starts_with(name)).unwrap_or("")
}

#[test]
fn a_guided_init_in_french_then_check_passes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let database_url = fresh_database_url(&dir);
    // A refused domain and a refused time zone are explained in French and asked again.
    let input = format!(
        "bulletin chaton\nbulletin.chaton.example\n{database_url}\nnouvelles\nfr,en\nParis\nEurope/Paris\n\
         camille\nun mot de passe assez long\ncloud Nextcloud https://cloud.chaton.example\n\n"
    );
    let (ok, out, err) = ronron(path, &["init", "--lang", "fr"], &input);
    assert!(ok, "{out}\n{err}");
    assert!(err.contains("Nom de domaine public"), "questions in French: {err}");
    let catalog = ronron::i18n::Catalog::embedded();
    let t = catalog.texts("fr");
    assert!(err.contains(&t.fill("deploy.bad_domain", &[("value", "bulletin chaton")])), "{err}");
    assert!(err.contains(&t.fill("deploy.bad_timezone", &[("value", "Paris")])), "{err}");
    assert!(out.contains("@nouvelles@bulletin.chaton.example"), "{out}");
    // What init did is said in the questions' language too.
    assert!(out.contains("compte d’administration `camille` créé") && !out.contains("mot de passe"), "{out}");
    assert!(out.contains("service cloud ajouté"), "{out}");
    let text = std::fs::read_to_string(path.join("ronron.toml")).unwrap();
    assert!(text.contains("# Public host name as peers see it"), "a commented file: {text}");
    assert!(text.contains("domain = \"bulletin.chaton.example\"") && text.contains("name = \"nouvelles\""), "{text}");
    assert!(text.contains("trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]"), "{text}");

    let (ok, out, err) = ronron(path, &["check"], "");
    assert!(ok, "{out}\n{err}");
    for name in
        ["configuration", "data directory", "media folder", "database", "public URL", "reverse proxy", "signing keys"]
    {
        assert!(line(&out, name).starts_with("ok "), "{name}: {out}");
    }
    let (ok, out, _) = ronron(path, &["service", "list"], "");
    assert!(ok && out.contains("cloud") && out.contains("https://cloud.chaton.example"), "{out}");
}

#[test]
fn init_with_flags_only_asks_nothing_and_a_bad_flag_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let database_url = fresh_database_url(&dir);
    let (ok, _, err) = ronron(path, &["init", "--domain", "c.example", "--timezone", "Lune/Base", "--lang", "en"], "");
    assert!(!ok && err.contains("--timezone: “Lune/Base” is not a time zone"), "{err}");
    assert!(!path.join("ronron.toml").exists(), "nothing written before every answer is valid");
    let args = [
        "init",
        "--domain",
        "c.example",
        "--database-url",
        &database_url,
        "--account",
        "info",
        "--languages",
        "en",
        "--timezone",
        "Europe/Brussels",
        "--no-admin",
        "--service",
        "pad,Etherpad,https://pad.c.example",
    ];
    let (ok, out, err) = ronron(path, &args, "");
    assert!(ok, "{out}\n{err}");
    assert!(!err.contains('['), "no question asked: {err}");
    let text = std::fs::read_to_string(path.join("ronron.toml")).unwrap();
    assert!(text.contains("languages = [\"en\"]") && text.contains("timezone = \"Europe/Brussels\""), "{text}");
    assert!(out.contains("added service pad"), "{out}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path.join("ronron.toml")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o007, 0, "the configuration can hold passwords: not readable by others ({mode:o})");
}

#[test]
fn check_says_what_fails_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    // A key that does not exist: only the configuration is checked, and it names the key.
    std::fs::write(path.join("bad.toml"), "[instance]\ndomian = \"x\"\n").unwrap();
    let (ok, out, err) = ronron(path, &["--config", "bad.toml", "check"], "");
    assert!(!ok && line(&out, "configuration").starts_with("FAILED") && out.contains("domian"), "{out}");
    assert!(err.contains("1 of 1 checks failed"), "{err}");

    // http on a public domain, no trusted proxy, a data directory that does not exist.
    let missing = path.join("nowhere");
    let toml = format!(
        "[instance]\ndomain = \"c.example\"\nscheme = \"http\"\n[database]\nurl = \"sqlite://{}/r.db\"\n",
        missing.display()
    );
    std::fs::write(path.join("ronron.toml"), toml).unwrap();
    let (ok, out, err) = ronron(path, &["check"], "");
    assert!(!ok, "{out}");
    assert!(line(&out, "configuration").starts_with("ok "), "{out}");
    assert!(line(&out, "data directory").starts_with("FAILED") && out.contains("does not exist"), "{out}");
    assert!(line(&out, "database").starts_with("FAILED"), "{out}");
    assert!(line(&out, "public URL").starts_with("FAILED") && out.contains("http://c.example"), "{out}");
    assert!(line(&out, "reverse proxy").starts_with("FAILED") && out.contains("trusted_proxies is empty"), "{out}");
    assert!(line(&out, "signing keys").starts_with("FAILED"), "{out}");
    // The logos' folder (beside the database) is made at the first upload, where it can be.
    assert!(line(&out, "media folder").starts_with("ok ") && out.contains("made at the first upload"), "{out}");
    assert!(err.contains("5 of 7 checks failed"), "{err}");
    assert!(!missing.exists(), "check creates nothing");
}

#[test]
fn check_sees_pending_migrations_without_migrating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let database_url = fresh_database_url(&dir);
    let (ok, _, err) = ronron(path, &["init", "--domain", "localhost:8080", "--database-url", &database_url], "");
    assert!(ok, "{err}");
    // Forget the last migration, as a database of the previous version would be.
    let mut conn = ronron::db::connect_unmigrated(&database_url).unwrap();
    let status = ronron::db::migration_status(&mut conn).unwrap();
    assert!(status.pending.is_empty());
    let forget = "DELETE FROM __diesel_schema_migrations WHERE version = \
                  (SELECT MAX(version) FROM __diesel_schema_migrations)";
    diesel::connection::SimpleConnection::batch_execute(&mut conn, forget).unwrap();
    let (ok, out, _) = ronron(path, &["check"], "");
    assert!(!ok && line(&out, "database").starts_with("FAILED") && out.contains("1 migration pending ("), "{out}");
    let mut conn = ronron::db::connect_unmigrated(&database_url).unwrap();
    assert_eq!(ronron::db::migration_status(&mut conn).unwrap().pending.len(), 1, "check did not migrate");
}
