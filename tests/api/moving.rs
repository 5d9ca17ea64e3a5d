//! Operations a host needs: backup and restore, key rotation (and, in `archive`, moving).

use crate::helpers::{run_ronron as ronron, spawn_app, test_config, TestApp};
use ronron::{
    app::{self, bulletins::publish_news},
    bulletin::NewsDraft,
    db::models::{activities as queue, remote},
    state::AppState,
};
use std::process::Stdio;

fn news(title: &str) -> NewsDraft {
    NewsDraft { title: title.into(), body_markdown: format!("{title} body"), lang: Some("en".into()) }
}

fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

async fn page(app: &TestApp, path: &str) -> String {
    let response = reqwest::get(format!("{}{path}", app.base())).await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.text().await.unwrap()
}

/// What `ronron` does from the command line: a second state opened on the same database.
async fn cli_state(app: &TestApp) -> AppState {
    let config = test_config(app.port, &app.database_url, 0);
    tokio::task::spawn_blocking(move || AppState::open(config)).await.unwrap().unwrap()
}

async fn cached_key_of(follower: &TestApp, of: &TestApp) -> String {
    let id = of.actor_url().to_string();
    follower.state.db.read(move |c| remote::find_actor(c, &id)).await.unwrap().expect("actor cached").public_key_pem
}

#[tokio::test]
async fn a_key_rotated_by_another_process_signs_the_servers_next_deliveries_and_the_follower_refetches_it() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    b.follow(&a).await;
    let old = a.state.keys.host().public_key_pem.clone();
    assert_eq!(cached_key_of(&b, &a).await, old);

    let cli = cli_state(&a).await;
    let rotated = app::keys::rotate(&cli).await.unwrap();
    assert_ne!(rotated.public_key_pem, old);
    assert!(rotated.update_queued, "the actor's Update is queued");
    assert_eq!(rotated.inboxes, 1);
    assert_eq!(a.state.keys.host().public_key_pem, old, "the server has not read the new key yet");
    // The server serves the new key at once: it reads it from the database.
    let actor: serde_json::Value = reqwest::Client::new()
        .get(a.actor_url())
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(actor["publicKey"]["publicKeyPem"], rotated.public_key_pem.as_str());

    // The server's next batch signs with the new key; B's cached key fails, B refetches and accepts.
    assert_eq!(a.drain().await, 1, "the Update is sent");
    assert_eq!(a.state.keys.host().public_key_pem, rotated.public_key_pem, "the server now signs with it");
    let delivered = a.state.db.read(|c| queue::count_by_status(c, queue::DELIVERED)).await.unwrap();
    let failed = a.state.db.read(|c| queue::count_by_status(c, queue::FAILED)).await.unwrap();
    let pending = a.state.db.read(|c| queue::count_by_status(c, queue::PENDING)).await.unwrap();
    assert_eq!((delivered, pending, failed), (2, 0, 0), "the Accept, then the Update, were accepted");
    assert_eq!(cached_key_of(&b, &a).await, rotated.public_key_pem, "B refetched our actor");

    let bulletin = publish_news(&a.state, news("Signed with the new key")).await.unwrap();
    assert_eq!(a.drain().await, 1);
    let id = a.state.urls.bulletin(&bulletin.id).to_string();
    let post = b.state.db.read(move |c| remote::find_post(c, &id)).await.unwrap();
    assert!(post.is_some(), "B verified the new signature and stored the post");
    // Nothing else to send: the profile fingerprint was updated, a restart sends no second Update.
    assert!(!app::profile::federate_profile_if_changed(&a.state).await.unwrap());
}

#[tokio::test]
async fn a_backup_taken_while_serving_and_writing_restores_the_bulletins_it_holds() {
    if on_postgres() {
        // PostgreSQL: pg_dump / pg_restore (docs/OPERATIONS.md); the refusal is tested from the CLI.
        let a = spawn_app().await;
        let dir = tempfile::tempdir().unwrap();
        let err = app::backup::backup(&a.state, &dir.path().join("b.db")).await.unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
        let err = app::backup::restore(&a.state.config, &dir.path().join("b.db")).unwrap_err();
        assert!(err.to_string().contains("pg_restore"), "{err}");
        return;
    }
    let a = spawn_app().await;
    let first = publish_news(&a.state, news("Before 0")).await.unwrap();
    for i in 1..3 {
        publish_news(&a.state, news(&format!("Before {i}"))).await.unwrap();
    }
    // A writer keeps publishing while the backup runs.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let writer = {
        let state = a.state.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while !*stopped.borrow_and_update() {
                publish_news(&state, news(&format!("During {n}"))).await.unwrap();
                n += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            n
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("backup.db");
    let started = std::time::Instant::now();
    let report = app::backup::backup(&a.state, &target).await.unwrap();
    let took = started.elapsed();
    stop.send(true).unwrap();
    let written = writer.await.unwrap();
    eprintln!("backup: {} bytes, {} bulletins, {took:?}, {written} written meanwhile", report.bytes, report.bulletins);
    assert!(report.bulletins >= 3, "{report:?}");
    assert!(report.bytes > 0 && target.is_file());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the backup holds the private keys: owner only, not {mode:o}");
    let after = publish_news(&a.state, news("After the backup")).await.unwrap();

    let err = app::backup::backup(&a.state, &target).await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(err.field(), Some("file"));

    // A server holding its lock (as `ronron serve` does) makes the restore refuse, changing nothing.
    let config = (*a.state.config).clone();
    let lock = app::backup::lock_for_server(&config).unwrap();
    let err = app::backup::restore(&config, &target).unwrap_err();
    assert!(err.to_string().contains("a server is running"), "{err}");
    drop(lock);
    let not_ronron = dir.path().join("other.db");
    std::fs::write(&not_ronron, b"not a database at all, just text").unwrap();
    let err = app::backup::restore(&config, &not_ronron).unwrap_err();
    assert!(err.to_string().contains("not an SQLite database"), "{err}");
    let bulletin_path = |b: &ronron::app::bulletins::Bulletin| a.state.urls.bulletin(&b.id).path().to_string();
    let (first_path, after_path) = (bulletin_path(&first), bulletin_path(&after));
    assert!(page(&a, &after_path).await.contains("After the backup"));

    let stopped = a.stop().await;
    let restored = app::backup::restore(&config, &target).unwrap();
    assert_eq!(restored.bulletins, report.bulletins);
    assert!(restored.previous.as_ref().is_some_and(|p| p.is_file()), "the replaced database is kept");
    let a = stopped.restart(None).await;
    assert!(page(&a, &first_path).await.contains("Before 0"), "the backup's bulletins are shown");
    let gone = reqwest::get(format!("{}{after_path}", a.base())).await.unwrap().status();
    assert_eq!(gone, 404, "what came after the backup is not");
    let count = a.state.db.read(|c| ronron::db::models::bulletins::list_all(c, 100_000)).await.unwrap().len();
    assert_eq!(count as i64, report.bulletins);
}

#[test]
fn backup_and_restore_from_the_command_line_refuse_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let database_url = crate::helpers::fresh_database_url(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let domain = format!("localhost:{port}");
    let (ok, _, err) = ronron(path, &["init", "--domain", &domain, "--database-url", &database_url]);
    assert!(ok, "{err}");
    let (ok, _, err) = ronron(path, &["post", "news", "--title", "Kept", "--body", "in the backup"]);
    assert!(ok, "{err}");
    if on_postgres() {
        let (ok, _, err) = ronron(path, &["backup", "b.db"]);
        assert!(!ok && err.contains("pg_dump"), "{err}");
        let (ok, _, err) = ronron(path, &["restore", "b.db"]);
        assert!(!ok && err.contains("pg_restore"), "{err}");
        return;
    }
    let mut server = crate::helpers::ronron_command()
        .arg("serve")
        .current_dir(path)
        .env("RONRON_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "the server listens");
    let (ok, out, err) = ronron(path, &["backup", "b.db"]);
    assert!(ok, "{err}");
    assert!(out.contains("1 bulletin,") && out.contains("integrity check ok"), "{out}");
    let (ok, _, err) = ronron(path, &["backup", "b.db"]);
    assert!(!ok && err.contains("file: ") && err.contains("already exists"), "{err}");
    let (ok, _, err) = ronron(path, &["post", "news", "--title", "Lost", "--body", "after the backup"]);
    assert!(ok, "{err}");
    let (ok, _, err) = ronron(path, &["restore", "b.db"]);
    assert!(!ok, "refused while serving");
    assert!(err.contains("a server is running") && err.contains("stop it"), "{err}");
    server.kill().unwrap();
    server.wait().unwrap();
    let (ok, out, err) = ronron(path, &["restore", "b.db"]);
    assert!(ok, "{err}");
    assert!(out.contains("restored") && out.contains("before-restore"), "{out}");
    let (ok, out, _) = ronron(path, &["post", "list"]);
    assert!(ok && out.contains("Kept") && !out.contains("Lost"), "{out}");
}

#[test]
fn export_all_and_import_all_from_the_command_line() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let domain = "bulletin.chaton.example";
    for dir in [&one, &two] {
        let url = crate::helpers::fresh_database_url(dir);
        let (ok, _, err) = ronron(dir.path(), &["init", "--domain", domain, "--database-url", &url]);
        assert!(ok, "{err}");
    }
    let (ok, _, err) = ronron(one.path(), &["post", "news", "--title", "Moved along", "--body", "with us"]);
    assert!(ok, "{err}");
    let (ok, _, err) = ronron(one.path(), &["export", "--include-key"]);
    assert!(!ok && err.contains("--all"), "--include-key needs --all: {err}");
    let (ok, _, err) = ronron(one.path(), &["export", "--all", "--include-key", "--output", "host.json"]);
    assert!(ok && err.contains("keep it secret"), "{err}");
    let file = one.path().join("host.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let (ok, _, err) = ronron(one.path(), &["export", "--all", "--output", "host.json"]);
    assert!(!ok && err.contains("--output") && err.contains("must not exist"), "{err}");
    let (ok, _, err) = ronron(one.path(), &["import", "--all", "host.json"]);
    assert!(!ok && err.contains("fresh instance"), "{err}");
    std::fs::write(two.path().join("bad.json"), "{\"format\": \"ronron-export\", \"version\": 9}").unwrap();
    let (ok, _, err) = ronron(two.path(), &["import", "--all", "bad.json"]);
    assert!(!ok && err.contains("file: is an export of version 9"), "{err}");
    let (ok, out, err) = ronron(two.path(), &["import", "--all", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("imported 1 bulletin,") && out.contains("keeps its key"), "{out}");
    let (ok, out, _) = ronron(two.path(), &["post", "list"]);
    assert!(ok && out.contains("Moved along"), "{out}");
}
