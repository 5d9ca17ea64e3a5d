//! `ronron demo`: three real instances in this process, seeded and following each other over
//! HTTP. The demo is SQLite by design, so this test uses SQLite even when TEST_DATABASE_URL
//! selects PostgreSQL for the others.

use ronron::demo::{self, DemoHandle, DemoInstance, DemoOptions};
use serde_json::Value;
use std::time::Duration;

fn options(dir: &std::path::Path, password: Option<&str>) -> DemoOptions {
    // Port 0: the system chooses three free ports, so tests can run in parallel.
    DemoOptions {
        port: 0,
        dir: Some(dir.to_path_buf()),
        password: password.map(str::to_string),
        wait: Duration::from_secs(30),
    }
}

async fn get(url: String) -> Value {
    let response = reqwest::get(&url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.unwrap()
}

fn api(instance: &DemoInstance, path: &str) -> String {
    format!("{}{path}", instance.base())
}

/// The value of cookie `name` among a response's Set-Cookie headers.
fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get_all(reqwest::header::SET_COOKIE).iter().find_map(|h| {
        let pair = h.to_str().ok()?.split(';').next()?;
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name && !value.is_empty()).then(|| value.to_string())
    })
}

/// Logs in through the admin login form; returns the status and the session cookie, if any.
async fn log_in(instance: &DemoInstance, username: &str, password: &str) -> (u16, Option<String>) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = client.get(api(instance, "admin/login")).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let csrf_cookie = cookie(&form, "ronron_login_csrf").expect("the login form sets its CSRF cookie");
    let html = form.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a hidden csrf field") + marker.len();
    let csrf = &html[start..start + html[start..].find('"').unwrap()];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("username", username)
        .append_pair("password", password)
        .append_pair("csrf", csrf)
        .append_pair("next", "/admin")
        .finish();
    let response = client
        .post(api(instance, "admin/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Cookie", format!("ronron_login_csrf={csrf_cookie}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, cookie(&response, "ronron_session"))
}

fn statuses(services: &Value) -> Vec<String> {
    services["orderedItems"]
        .as_array()
        .expect("a services collection")
        .iter()
        .map(|s| s["serviceStatus"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn check_federation(demo: &DemoHandle) {
    assert!(demo.warnings.is_empty(), "everything arrived: {:?}", demo.warnings);
    let (members, collective) = demo.instances.split_at(2);
    let collective = &collective[0];
    // The collective's Group re-shares the members' news (published once all are connected).
    let reshared = crate::helpers::eventually(20, || async {
        collective.state.db.read(ronron::db::models::collective::count_active_reshares).await.unwrap_or(0) > 0
    })
    .await;
    assert!(reshared, "the collective's account announced members' bulletins");

    let timeline = get(api(collective, "api/v1/timeline?limit=100")).await;
    let items = timeline["items"].as_array().unwrap();
    for member in members {
        let from_member: Vec<&Value> =
            items.iter().filter(|i| i["domain"] == member.domain() && i["local"] == false).collect();
        for kind in ["news", "service_change", "label_update"] {
            assert!(
                from_member.iter().any(|i| i["kind"] == kind),
                "the collective's timeline has {kind} from {}",
                member.name
            );
        }
    }

    let directory = get(api(collective, "api/v1/directory")).await;
    let peers = directory["peers"].as_array().unwrap();
    for member in members {
        let actor = member.state.urls.host_actor().to_string();
        let entry =
            peers.iter().find(|p| p["actor"] == actor.as_str()).unwrap_or_else(|| panic!("{} listed", member.name));
        assert_eq!(entry["name"], member.name.as_str());
        assert!(!entry["services"].as_array().unwrap().is_empty(), "{}'s services in the directory", member.name);
    }

    // Each instance shows its own logo, served by itself: the actor's icon, and the Group's.
    let client = reqwest::Client::new();
    let actor = |url: url::Url| client.get(url).header("Accept", "application/activity+json").send();
    for instance in &demo.instances {
        let host: Value = actor(instance.state.urls.host_actor()).await.unwrap().json().await.unwrap();
        assert_eq!(host["icon"]["mediaType"], "image/png", "{}: {host}", instance.name);
        let icon = host["icon"]["url"].as_str().unwrap();
        assert!(icon.starts_with(instance.state.urls.base().as_str()), "{icon}");
        let png = reqwest::get(icon).await.unwrap().bytes().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{icon}");
    }
    let group: Value = actor(collective.state.urls.group_actor()).await.unwrap().json().await.unwrap();
    assert_eq!(group["icon"]["mediaType"], "image/png", "the collective's logo: {group}");

    let first = statuses(&get(api(&members[0], "u/bulletin/services")).await);
    assert!(first.contains(&"underMaintenance".to_string()), "a maintenance under way: {first:?}");
    assert!(first.contains(&"degraded".to_string()), "an incident being monitored: {first:?}");
    assert!(first.contains(&"operational".to_string()), "{first:?}");
    let second = statuses(&get(api(&members[1], "u/bulletin/services")).await);
    assert!(second.contains(&"majorOutage".to_string()), "an outage: {second:?}");
}

#[tokio::test]
async fn the_demo_federates_sample_data_and_a_second_run_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = demo::start(options(dir.path(), None)).await.expect("the demo starts");
    assert!(!first.reused);
    assert_eq!(first.instances.len(), 3);
    check_federation(&first).await;
    assert!(first.summary().contains(&first.password), "the printed summary gives the password");

    // The printed login works on every instance, and only with the right password.
    for instance in &first.instances {
        let (status, session) = log_in(instance, &first.username, &first.password).await;
        assert_eq!(status, 303, "{} accepts the printed login", instance.name);
        assert!(session.is_some(), "{} opens a session", instance.name);
    }
    let (status, session) = log_in(&first.instances[0], &first.username, "not the password").await;
    assert_eq!((status, session), (401, None));

    let member = &first.instances[0];
    let bulletins = get(api(member, "api/v1/timeline?limit=100")).await["items"].as_array().unwrap().len();
    let ports: Vec<u16> = first.instances.iter().map(|i| i.port).collect();
    first.stop().await;
    assert!(dir.path().exists(), "a --dir is kept");

    // A second run on the same directory takes the same ports (the actors' URLs) and seeds nothing.
    let second = demo::start(options(dir.path(), Some("another-password"))).await.expect("the demo restarts");
    assert!(second.reused);
    assert_eq!(second.instances.iter().map(|i| i.port).collect::<Vec<_>>(), ports);
    check_federation(&second).await;
    let again = get(api(&second.instances[0], "api/v1/timeline?limit=100")).await["items"].as_array().unwrap().len();
    assert_eq!(again, bulletins, "nothing was published again");
    let (status, _) = log_in(&second.instances[2], "admin", "another-password").await;
    assert_eq!(status, 303, "the password given to the second run works");
    second.stop().await;
}

#[tokio::test]
async fn a_short_password_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let err = demo::start(options(dir.path(), Some("short"))).await.err().expect("refused");
    assert!(err.to_string().contains("--password"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
}
