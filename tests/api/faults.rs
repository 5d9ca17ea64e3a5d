//! Faults of the machine under the database (issue 11): a full disk while posting gives a clear
//! error and loses nothing; a PostgreSQL that drops its connections is recovered from with no
//! lost bulletin, and what was queued is still sent.

use crate::{
    helpers::{spawn_app_on, spawn_app_with, test_clock, TestApp},
    hostile::Sink,
    pages::Browser,
};
use diesel::{Connection, RunQueryDsl};
use ronron::db::models::{
    bulletins,
    followers::{self, NewFollower},
    remote::FollowState,
    tokens,
};
use serde_json::{json, Value};
use std::io::Write;

/// The follower `sink` stands in for, and a token for the admin API.
async fn follower_and_token(app: &TestApp, sink: &Sink) -> String {
    let now = app.state.clock.now();
    let (actor, inbox) = (format!("{}/users/f", sink.base), format!("{}/inbox", sink.base));
    app.state
        .db
        .write(move |c| {
            let new = NewFollower {
                actor_id: &actor,
                inbox: &inbox,
                shared_inbox: None,
                status: FollowState::Accepted,
                follow_activity_id: &format!("{actor}/follow"),
                created_at: now,
                updated_at: now,
            };
            followers::upsert(c, new).map(|_| ())
        })
        .await
        .unwrap();
    app.state.db.write(move |c| tokens::create(c, "tests", now)).await.unwrap().1
}

async fn post_news(app: &TestApp, secret: &str, title: &str, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/admin/bulletins", app.base()))
        .bearer_auth(secret)
        .json(&json!({"kind": "news", "title": title, "body": body}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn titles(app: &TestApp) -> Vec<String> {
    let list = app.state.db.read(|c| bulletins::list_all(c, 100)).await.unwrap();
    let mut titles: Vec<String> = list.into_iter().map(|b| b.title).collect();
    titles.sort();
    titles
}

/// Mounts a tmpfs of `size` at `dir`; false when this process may not mount.
fn mount_tmpfs(dir: &std::path::Path, size: &str) -> bool {
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output();
    match mounted {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            eprintln!("cannot mount a tmpfs: {}", String::from_utf8_lossy(&out.stderr).trim());
            false
        }
        Err(e) => {
            eprintln!("cannot run mount: {e}");
            false
        }
    }
}

/// Unmounts the tmpfs when dropped, whatever the test's outcome.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the disk refuses; returns how many bytes fitted.
fn fill(path: &std::path::Path) -> usize {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 4096];
    let mut written = 0;
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n,
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(28), "ENOSPC, not {e}");
                break;
            }
        }
    }
    let _ = file.sync_all();
    written
}

#[tokio::test]
async fn a_full_disk_while_posting_gives_a_clear_error_and_loses_nothing() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        eprintln!("the full-disk test runs on SQLite (its file is on the small disk); skipped on PostgreSQL");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    if !mount_tmpfs(dir.path(), "4m") {
        assert!(
            std::env::var("REQUIRE_FAULT_TEST").as_deref() != Ok("1"),
            "REQUIRE_FAULT_TEST=1 but a tmpfs cannot be mounted (needs root or CAP_SYS_ADMIN)"
        );
        eprintln!("skipped: mounting a tmpfs needs root or CAP_SYS_ADMIN (set REQUIRE_FAULT_TEST=1 to fail instead)");
        return;
    }
    let _mounted = Mounted(dir.path().to_path_buf());
    let url = format!("sqlite://{}/ronron.db", dir.path().display());
    let app = spawn_app_on(url, 0, test_clock()).await;
    let sink = Sink::start().await;
    let secret = follower_and_token(&app, &sink).await;
    // A French admin, logged in before the disk fills (a session is a write).
    ronron::app::admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "fr");
    assert_eq!(browser.login("camille", "correct horse battery").await, reqwest::StatusCode::SEE_OTHER);
    let csrf = browser.csrf().await;
    for n in 1..=2 {
        let (status, body) = post_news(&app, &secret, &format!("Avant {n}"), "Tout va bien.").await;
        assert_eq!(status, 201, "{body}");
    }
    // Nothing left in the WAL to reuse: the next post needs new space on the disk.
    app.state
        .db
        .read(|c| {
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let before = app.state.db.read(ronron::db::snapshot).await.unwrap();
    let filler = dir.path().join("filler");
    let fitted = fill(&filler);
    assert!(fitted > 0, "the disk had room before it was filled");

    let long = "Une panne longue à raconter. ".repeat(600);
    let (status, body) = post_news(&app, &secret, "Pendant", &long).await;
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["error"], "the server's disk is full: nothing was stored; try again once space is freed", "{body}");
    // A second try fails the same way (the connection is not left in a transaction).
    let (status, _) = post_news(&app, &secret, "Pendant", &long).await;
    assert_eq!(status, 507);
    // The same from the web form: the error page says it, in the admin's language.
    let form =
        [("csrf", csrf.as_str()), ("kind", "news"), ("title", "Pendant"), ("body", &long), ("action", "publish")];
    let (status, _, page) = browser.post("/admin/compose", &form).await;
    assert_eq!(status.as_u16(), 507, "{page}");
    assert!(page.contains("Le disque du serveur est plein"), "{page}");
    let after = app.state.db.read(ronron::db::snapshot).await.unwrap();
    assert_eq!(before, after, "nothing of the failed post is stored, nothing else changed");
    assert_eq!(titles(&app).await, ["Avant 1", "Avant 2"]);
    // Reading still works on the full disk.
    let page = reqwest::get(format!("{}/u/bulletin", app.base())).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Avant 2"));

    std::fs::remove_file(&filler).unwrap();
    let (status, body) = post_news(&app, &secret, "Après", &long).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(titles(&app).await, ["Après", "Avant 1", "Avant 2"]);
    assert_eq!(app.drain().await, 3, "each stored bulletin is delivered once");
    assert_eq!(sink.hits(), 3);
}

#[tokio::test]
async fn a_postgresql_that_drops_its_connections_is_recovered_from_with_no_lost_bulletin() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL").map_err(|_| ()).and_then(|u| match u.is_empty() {
        true => Err(()),
        false => Ok(u),
    }) else {
        eprintln!("PostgreSQL only (TEST_DATABASE_URL is not set): skipped");
        return;
    };
    let app = spawn_app_with(0, |_| {}).await;
    let sink = Sink::start().await;
    let secret = follower_and_token(&app, &sink).await;
    let (status, body) = post_news(&app, &secret, "Avant", "Tout va bien.").await;
    assert_eq!(status, 201, "{body}");
    let name = url::Url::parse(&app.database_url).unwrap().path().trim_start_matches('/').to_string();
    let mut admin = diesel::pg::PgConnection::establish(&admin_url).unwrap();

    #[derive(diesel::QueryableByName)]
    struct Killed {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        #[allow(dead_code)]
        pg_terminate_backend: bool,
    }
    let mut published = vec!["Avant".to_string()];
    for round in 1..=3 {
        let killed = diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<diesel::sql_types::Text, _>(&name)
        .load::<Killed>(&mut admin)
        .unwrap();
        assert!(!killed.is_empty(), "round {round}: the app's connections were there to drop");
        // A few requests at once, every pooled connection dead: each is served, or refused with a
        // clear 503 (never a raw 500), and a refused one stored nothing.
        let mut posts = Vec::new();
        for n in 0..4 {
            let (app, secret) = (&app, &secret);
            posts.push(async move {
                let title = format!("Après {round}.{n}");
                let (status, body) = post_news(app, secret, &title, "Encore là.").await;
                (title, status, body)
            });
        }
        for (title, status, body) in futures::future::join_all(posts).await {
            match status {
                201 => published.push(title),
                503 => assert_eq!(
                    body["error"], "the database is unavailable: nothing was stored; try again in a moment",
                    "{body}"
                ),
                other => panic!("round {round}: {title}: {other} {body}"),
            }
        }
        let page = reqwest::get(format!("{}/u/bulletin", app.base())).await.unwrap();
        assert_eq!(page.status(), 200, "round {round}: the public page reads again");
        let text = page.text().await.unwrap();
        let newest = published.last().unwrap();
        assert!(text.contains(newest.as_str()), "round {round}: {newest} is shown");
    }
    eprintln!("{} of 13 posts stored across three drops, the others refused with 503", published.len());
    let stored = titles(&app).await;
    published.sort();
    assert_eq!(stored, published, "every accepted bulletin is stored, and only those");
    assert!(published.len() >= 10, "the pool recovered: {} of 13 posts went through", published.len());
    // What was queued before and between the drops is still sent.
    assert_eq!(app.drain().await, published.len());
    assert_eq!(sink.hits(), published.len());
}
