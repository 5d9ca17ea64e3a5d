//! Control characters (issue 11): every text a person types is refused with the field named when
//! it holds one, and no content, whoever wrote it, can make a feed invalid — each feed is built
//! from hostile texts and read back with real parsers.

use crate::{
    helpers::{spawn_app_with, spawn_app_with_clock, test_clock, TestApp},
    pages::{add_service, Browser},
};
use chrono::Duration;
use reqwest::StatusCode;
use ronron::{
    app::{admins, bulletins as publish},
    bulletin::{
        forms::{ChangeFields, PostFields},
        render,
    },
    db::models::{bulletins, remote, services, timeline_index},
};

/// What a hostile peer or an old row may hold: every control character XML 1.0 forbids that a
/// database keeps (PostgreSQL refuses U+0000; a peer's U+0000 is dropped before storage).
const STORED: &str = "x\u{1}y\u{8}z\u{b}w\u{fffe}";

/// What XML 1.0 forbids even as a reference.
fn forbidden(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}')
}

fn assert_clean(path: &str, body: &str) {
    assert!(!body.chars().any(forbidden), "{path} holds a forbidden character: {body:?}");
}

async fn get(app: &TestApp, path: &str) -> String {
    let response = reqwest::get(format!("{}{path}", app.base())).await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let body = response.text().await.unwrap();
    assert_clean(path, &body);
    body
}

#[tokio::test]
async fn every_feed_stays_valid_whatever_its_content() {
    let clock = test_clock();
    // The admin's texts from the configuration file reach the feeds without a form.
    let app = spawn_app_with_clock(0, clock.clone(), |c| c.account.display_name = "Chaton\u{0}\u{1} A".into()).await;
    add_service(&app, "cloud", "Nextcloud").await;
    let now = clock.now();
    let tz = app.state.config.timezone();
    let text = PostFields { title: "Titre".into(), body: "Corps.".into(), ..Default::default() };
    let news = publish::publish_post(&app.state, text.draft(tz).unwrap()).await.unwrap();
    let window = ChangeFields {
        change_type: "maintenance".into(),
        services: vec!["cloud".into()],
        start: Some((now + Duration::days(1)).and_utc().to_rfc3339()),
        end: Some((now + Duration::days(1) + Duration::hours(1)).and_utc().to_rfc3339()),
        ..Default::default()
    };
    let maintenance =
        publish::publish_change(&app.state, text.draft(tz).unwrap(), window.draft(tz).unwrap()).await.unwrap();
    // Rows written before texts were checked: the admin's titles, bodies and a service's name.
    let ids = [news.id.clone(), maintenance.id.clone()];
    app.state
        .db
        .write(move |c| -> ronron::db::DbResult<()> {
            for id in &ids {
                let mut b = bulletins::find(c, id)?.unwrap();
                b.title = format!("Titre {STORED}");
                b.body_markdown = format!("Corps {STORED}");
                b.content_html = format!("<p>{STORED}</p>");
                bulletins::update(c, &b)?;
            }
            let mut service = services::find(c, "cloud")?.unwrap();
            service.name = format!("Nuage {STORED}");
            services::update(c, &service)
        })
        .await
        .unwrap();
    // A followed peer's post, stored the way the inbox stores it (its HTML sanitised), by an actor
    // whose name and hashtags hold control characters too.
    let hostile = "Salut\u{0} \u{1}\u{8}\u{b} &#1; &#x8; &#11; &#0; <b>gras</b>";
    let actor_id = "https://peer.example/u/x".to_string();
    let raw = serde_json::json!({"id": "https://peer.example/notes/1", "type": "Note", "name": hostile,
        "tag": [{"type": "Hashtag", "name": format!("#tag{STORED}"), "href": "https://peer.example/tags/t"}]});
    let post = remote::RemotePost {
        id: "https://peer.example/notes/1".into(),
        actor_id: actor_id.clone(),
        object_type: "Note".into(),
        content_html: render::sanitize_html(hostile),
        summary: Some(render::sanitize_html(hostile)),
        url: Some("https://peer.example/@x/1".into()),
        lang: Some("fr".into()),
        in_reply_to: None,
        published_at: now,
        updated_at: None,
        raw: raw.to_string(),
        received_at: now,
        kind: None,
        meta: None,
    };
    let actor = remote::RemoteActor {
        id: actor_id.clone(),
        actor_type: "Person".into(),
        preferred_username: format!("x{STORED}"),
        name: Some(format!("Pair {STORED}")),
        inbox: "https://peer.example/u/x/inbox".into(),
        shared_inbox: None,
        outbox: None,
        public_key_id: "https://peer.example/u/x#main-key".into(),
        public_key_pem: "k".into(),
        raw: "{}".into(),
        fetched_at: now,
    };
    let following = remote::Following {
        actor_id: actor_id.clone(),
        inbox: actor.inbox.clone(),
        follow_activity_id: "https://example/follow/1".into(),
        status: remote::FollowState::Accepted,
        created_at: now,
        updated_at: now,
    };
    app.state
        .db
        .write(move |c| -> ronron::db::DbResult<()> {
            remote::upsert_actor(c, &actor)?;
            remote::upsert_following(c, &following)?;
            remote::insert_post(c, &post)?;
            timeline_index::index_post(c, &post)
        })
        .await
        .unwrap();

    for path in ["/u/bulletin/feed.atom", "/u/bulletin/feed.rss", "/timeline.atom", "/timeline.rss"] {
        let body = get(&app, path).await;
        roxmltree::Document::parse(&body).unwrap_or_else(|e| panic!("{path} is not XML: {e}\n{body}"));
        let feed = feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}\n{body}"));
        let titles: Vec<String> = feed.entries.iter().map(|e| e.title.clone().unwrap().content).collect();
        assert!(titles.contains(&"Titre xyzw".to_string()), "{path}: {titles:?}");
        if path.starts_with("/timeline") {
            assert!(titles.iter().any(|t| t.starts_with("Salut")), "{path}: the peer's post is listed: {titles:?}");
            assert!(body.contains("Pair xyzw"), "{path}: the peer's name, cleaned");
        }
    }
    let opml = get(&app, "/following.opml").await;
    let doc = roxmltree::Document::parse(&opml).unwrap_or_else(|e| panic!("OPML: {e}\n{opml}"));
    let outline = doc.descendants().find(|n| n.has_tag_name("outline")).unwrap();
    assert_eq!(outline.attribute("text"), Some("Pair xyzw"));
    let ics = get(&app, "/u/bulletin/maintenance.ics").await;
    let calendar: icalendar::Calendar = ics.parse().unwrap_or_else(|e| panic!("{e}\n{ics}"));
    use icalendar::Component;
    let event = calendar.events().next().expect("the maintenance is listed");
    assert_eq!(event.get_summary(), Some("Titre xyzw"));
    assert_eq!(calendar.get_name(), Some("Chaton A — maintenances"));
}

/// POST /admin/compose and POST /api/v1/admin/bulletins refuse a title with U+0000 (a 500 on
/// PostgreSQL, a broken feed on SQLite before) with a 422 naming the field; nothing is stored.
#[tokio::test]
async fn a_control_character_in_a_typed_text_is_refused_with_the_field_named() {
    let app = spawn_app_with(0, |_| {}).await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "en");
    assert_eq!(browser.login("camille", "correct horse battery").await, StatusCode::SEE_OTHER);
    let csrf = browser.csrf().await;
    let form =
        [("csrf", csrf.as_str()), ("kind", "news"), ("title", "Panne\u{0}"), ("body", "Corps."), ("action", "publish")];
    let (status, _, page) = browser.post("/admin/compose", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"error-title\">contains a control character (U+0000)<"), "{page}");
    assert!(page.contains("Title: contains a control character (U+0000)"), "the summary names the field: {page}");

    let now = app.state.clock.now();
    let (_, secret) = app.state.db.write(move |c| ronron::db::models::tokens::create(c, "tests", now)).await.unwrap();
    let api = reqwest::Client::new();
    let service = |description: &str| {
        serde_json::json!({"slug": "cloud", "name": "Nuage", "software": "Nextcloud",
            "url": "https://cloud.chaton.example", "description": description})
    };
    for (method, path, body, field, code) in [
        (
            "POST",
            "/bulletins",
            serde_json::json!({"kind": "news", "title": "Panne\u{0}", "body": "b"}),
            "title",
            "U+0000",
        ),
        (
            "POST",
            "/bulletins",
            serde_json::json!({"kind": "news", "title": "Panne", "body": "b\u{1b}"}),
            "body",
            "U+001B",
        ),
        ("POST", "/services", service("\u{0}"), "description", "U+0000"),
        ("POST", "/tokens", serde_json::json!({"name": "t\u{0}"}), "name", "U+0000"),
    ] {
        let url = format!("{}/api/v1/admin{path}", app.base());
        let request = api.request(method.parse().unwrap(), url).bearer_auth(&secret).json(&body);
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 422, "{path}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["field"], field, "{error}");
        assert_eq!(error["error"], format!("{field}: contains a control character ({code})"), "{error}");
    }
    assert!(ronron::app::catalogue::list(&app.state).await.unwrap().is_empty(), "no service stored");
    assert_eq!(ronron::app::tokens::list(&app.state).await.unwrap().len(), 1, "only the test's token");
    assert_eq!(app.state.db.read(bulletins::count_published).await.unwrap(), 0, "nothing stored");
    assert!(app.state.db.read(|c| bulletins::list_all(c, 10)).await.unwrap().is_empty());
}

/// The command line refuses them too, naming the option (a process argument cannot hold U+0000).
#[test]
fn the_command_line_refuses_control_characters_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database_url(&dir);
    let ronron = |args: &[&str]| {
        let output =
            crate::helpers::ronron_command().args(args).current_dir(dir.path()).output().expect("the binary runs");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).to_string();
        (output.status.success(), text(&output.stdout) + &text(&output.stderr))
    };
    let (ok, err) = ronron(&["init", "--domain", "bulletin.chaton.example", "--database-url", &database_url]);
    assert!(ok, "{err}");
    for (args, expected) in [
        (&["post", "news", "--title", "T\u{1}", "--body", "x"][..], "--title: contains a control character (U+0001)"),
        (&["post", "news", "--title", "T", "--body", "x\u{8}"], "--body: contains a control character (U+0008)"),
        (&["profile", "set", "--display-name", "C\u{b}"], "--display-name: contains a control character (U+000B)"),
        (&["token", "create", "t\u{7f}\u{1f}"], "contains a control character (U+001F)"),
    ] {
        let (ok, err) = ronron(args);
        assert!(!ok && err.contains(expected), "{args:?}: {err}");
    }
    let (ok, out) = ronron(&["post", "list"]);
    assert!(ok && !out.contains('\u{1}') && !out.contains('\u{8}'), "nothing stored: {out}");
}
