//! Reading like a status page (issue 12): a bulletin's page under its own `<h1>`, error pages in
//! the site's frame and the visitor's language, services tables that stack on a phone, followers
//! as people, the Mastodon preview of one `content`, and each bulletin's delivery in the list.

use crate::{
    helpers::{spawn_app, spawn_app_with_clock, test_clock, TestApp},
    pages::Browser,
};
use reqwest::{header, StatusCode};
use ronron::{
    app::{
        admins,
        bulletins::{self as publish, PostDraft},
        catalogue, deliveries, followers,
    },
    bulletin::{vocab::*, ChangeDraft, ServiceDraft, TextDraft},
    db::models::{followers as follower_rows, tokens},
};
use serde_json::Value;

fn text(title: &str, body: &str) -> PostDraft {
    PostDraft { main: TextDraft { lang: None, title: title.into(), body_markdown: body.into() }, ..Default::default() }
}

async fn add_nextcloud(app: &TestApp) {
    catalogue::add(
        &app.state,
        ServiceDraft {
            slug: "nextcloud".into(),
            name: "Nextcloud".into(),
            software: "Nextcloud".into(),
            url: "https://cloud.chaton.example".into(),
            description: "Fichiers et agendas".into(),
            audience: "membres".into(),
            registration: "open".into(),
        },
    )
    .await
    .unwrap();
}

fn incident() -> ChangeDraft {
    ChangeDraft {
        change_type: ChangeType::Incident,
        services: vec!["nextcloud".into()],
        impact: Some(Impact::Major),
        status: None,
        registration: None,
        new_url: None,
        starts_at: None,
        ends_at: None,
    }
}

async fn get_as(app: &TestApp, path: &str, accept: &str, lang: &str) -> (StatusCode, String, String) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", app.base()))
        .header(header::ACCEPT, accept)
        .header(header::ACCEPT_LANGUAGE, lang)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let mime =
        response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, mime, response.text().await.unwrap())
}

#[tokio::test]
async fn a_bulletin_page_has_its_title_as_h1_then_its_metadata_and_no_link_to_itself() {
    let app = spawn_app().await;
    add_nextcloud(&app).await;
    let b = publish::publish_change(&app.state, text("Nextcloud inaccessible", "Nous analysons la panne."), incident())
        .await
        .unwrap();
    let url = app.state.urls.bulletin(&b.id).to_string();
    let (status, _, page) = Browser::new(&app, "fr").get(&format!("/b/{}", b.id)).await;
    assert_eq!(status, StatusCode::OK);
    let article = &page[page.find("<article class=\"bulletin\"").expect("the article")..];
    let h1 = article.find("<h1>Nextcloud inaccessible</h1>").expect("the title is the h1");
    let meta = article.find("class=\"meta\"").expect("the metadata");
    assert!(h1 < meta, "the title comes first, then the metadata: {article}");
    assert_eq!(page.matches("<h1").count(), 1, "one h1");
    assert!(!page.contains("<strong>Nextcloud inaccessible</strong>"), "no second bold title: {article}");
    assert!(!page.contains(&format!(">{url}</a>")), "no link to the page itself: {article}");
    assert!(page.contains("Nous analysons la panne."), "the body is there");
    // The Note itself keeps its bold title and its link to the page.
    let (_, _, note) = get_as(&app, &format!("/b/{}", b.id), "application/activity+json", "fr").await;
    let note: Value = serde_json::from_str(&note).unwrap();
    let content = note["content"].as_str().unwrap();
    assert!(content.starts_with("<p><strong>Nextcloud inaccessible</strong></p>"), "{content}");
    assert!(content.contains(&format!("<a href=\"{url}\">{url}</a>")), "{content}");
    // The services tables stack into cards on a phone, each cell naming its column.
    let (_, _, status_page) = Browser::new(&app, "en").get("/status").await;
    assert!(status_page.contains("<table class=\"cards\">"), "{status_page}");
    assert!(status_page.contains("<td data-label=\"Registrations\">"), "{status_page}");
}

#[tokio::test]
async fn error_pages_are_in_the_sites_frame_and_the_visitors_language_only() {
    let app = spawn_app().await;
    let en_missing = "This page does not exist.";
    let fr_missing = "Cette page n’existe pas.";
    // An unknown path, an unknown account, an unknown bulletin: framed, in one language.
    for path in ["/no/such/page", "/u/nobody", "/b/nope"] {
        let (status, mime, page) = get_as(&app, path, "text/html,application/xhtml+xml,*/*;q=0.8", "en-GB").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(mime.starts_with("text/html"), "{path}: {mime}");
        assert!(page.contains("<header class=\"site\">"), "{path}: framed: {page}");
        assert!(page.contains("<html lang=\"en\">"), "{path}: {page}");
        assert!(page.contains(&format!("<h1>{en_missing}</h1>")), "{path}: {page}");
        assert!(!page.contains(fr_missing), "{path}: one language only: {page}");
    }
    let (_, _, page) = Browser::new(&app, "fr").get("/b/nope").await;
    assert!(page.contains(fr_missing) && !page.contains(en_missing), "{page}");
    assert!(page.contains("<html lang=\"fr\">"), "{page}");

    // A deleted bulletin: 410, framed.
    let b = publish::publish_post(&app.state, text("Bientôt parti", "B")).await.unwrap();
    publish::delete_bulletin(&app.state, &b.id).await.unwrap();
    let (status, _, page) = Browser::new(&app, "en").get(&format!("/b/{}", b.id)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("<header class=\"site\">") && page.contains("This bulletin was deleted."), "{page}");
    assert!(!page.contains("Ce bulletin a été supprimé."), "{page}");

    // An admin page's own 404 (a PageError) is framed too.
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "en");
    browser.login("camille", "correct horse battery").await;
    let (status, _, page) = browser.get("/admin/bulletins/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("<header class=\"site\">") && page.contains(en_missing), "{page}");
    assert!(!page.contains(fr_missing), "{page}");

    // ActivityPub and API clients keep their JSON.
    let (status, mime, body) = get_as(&app, "/b/nope", "application/activity+json", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!mime.starts_with("text/html") && !body.contains("<header"), "{mime}: {body}");
    let (status, mime, body) = get_as(&app, "/api/v1/admin/followers", "text/html", "en").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(mime.starts_with("application/json"), "{mime}: {body}");
    let (status, _, body) = get_as(&app, "/api/v1/nothing-here", "text/html", "en").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("<header"), "the API's paths are not framed: {body}");
}

#[tokio::test]
async fn followers_are_people_with_a_handle_a_name_and_a_server_and_can_be_searched() {
    let a = spawn_app_with_clock(0, test_clock(), |_| {}).await;
    let b = spawn_app_with_clock(0, a.clock.clone(), |_| {}).await;
    b.follow(&a).await;
    // A follower whose actor was never stored: its URL stands for its handle.
    let now = a.state.clock.now();
    a.state
        .db
        .write(move |c| {
            follower_rows::upsert(
                c,
                follower_rows::NewFollower {
                    actor_id: "https://ailleurs.example/users/Dominique",
                    inbox: "https://ailleurs.example/users/Dominique/inbox",
                    shared_inbox: None,
                    status: follower_rows::ACCEPTED,
                    follow_activity_id: "https://ailleurs.example/follows/1",
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await
        .unwrap();

    let b_server = format!("localhost:{}", b.port);
    let b_handle = format!("@{}@{b_server}", b.state.config.account.name);
    let all = followers::directory(&a.state, None, None).await.unwrap();
    let found: Vec<(&str, &str)> = all.iter().map(|e| (e.handle.as_str(), e.server.as_str())).collect();
    assert_eq!(
        found,
        vec![(b_handle.as_str(), b_server.as_str()), ("https://ailleurs.example/users/Dominique", "ailleurs.example")]
    );
    assert!(all[0].name.is_some(), "the display name of the stored actor");
    // The search ignores case, and reads the handle, the name and the server.
    let search = |q: &'static str| {
        let state = a.state.clone();
        async move {
            followers::directory(&state, None, Some(q)).await.unwrap().into_iter().map(|e| e.handle).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("AILLEURS").await, vec!["https://ailleurs.example/users/Dominique".to_string()]);
    assert_eq!(search("@bulletin@LOCALHOST").await, vec![b_handle.clone()]);
    assert!(search("personne-ici").await.is_empty());
    assert_eq!(search("  ").await.len(), 2, "a blank search lists everyone");

    // The admin page: handles, servers, and a GET search box.
    admins::create_admin(&a.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&a, "en");
    browser.login("camille", "correct horse battery").await;
    let (status, _, page) = browser.get("/admin/followers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!(">{b_handle}</a>")), "{page}");
    assert!(page.contains("<td>ailleurs.example</td>"), "{page}");
    assert!(page.contains("method=\"get\"") && page.contains("name=\"q\""), "{page}");
    let (_, _, page) = browser.get("/admin/followers?q=Ailleurs").await;
    assert!(page.contains("ailleurs.example") && !page.contains(&b_handle), "{page}");
    assert!(page.contains("value=\"Ailleurs\""), "the search stays in its box");
    let (_, _, page) = browser.get("/admin/followers?q=zzz").await;
    assert!(page.contains("No follower matches this search."), "{page}");

    // The admin API: the same fields and the same search.
    let now = a.state.clock.now();
    let (_, secret) = a.state.db.write(move |c| tokens::create(c, "tests", now)).await.unwrap();
    let http = reqwest::Client::new();
    let list = |q: &'static str| {
        let request = http.get(format!("{}/api/v1/admin/followers{q}", a.base())).bearer_auth(&secret);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let body = list("").await;
    let first = &body["followers"][0];
    assert_eq!(first["handle"], b_handle.as_str(), "{body}");
    assert_eq!(first["server"], b_server.as_str(), "{body}");
    assert!(first["name"].is_string(), "{body}");
    assert!(body["followers"][1]["name"].is_null(), "{body}");
    let body = list("?q=DOMINIQUE&status=accepted").await;
    assert_eq!(body["followers"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["followers"][0]["server"], "ailleurs.example", "{body}");

    // `ronron followers list`: the date, the handle and the name, on the same database.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ronron.toml");
    std::fs::write(
        &config,
        format!("[instance]\ndomain = \"localhost:{}\"\n\n[database]\nurl = \"{}\"\n", a.port, a.database_url),
    )
    .unwrap();
    let ronron = |args: &[&str]| {
        let output =
            crate::helpers::ronron_command().arg("--config").arg(&config).args(args).output().expect("the binary runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let out = ronron(&["followers", "list"]);
    let day = chrono::TimeZone::from_utc_datetime(&a.state.config.timezone(), &now).format("%Y-%m-%d").to_string();
    let name = all[0].name.clone().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].contains(&day) && lines[0].contains(&b_handle) && lines[0].ends_with(name.as_str()), "{out}");
    assert!(lines[1].contains("https://ailleurs.example/users/Dominique"), "{out}");
    let out = ronron(&["followers", "list", "--search", "dominique"]);
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[tokio::test]
async fn the_list_of_bulletins_says_in_short_where_each_one_went() {
    let a = spawn_app_with_clock(0, test_clock(), |_| {}).await;
    let b = spawn_app_with_clock(0, a.clock.clone(), |_| {}).await;
    b.follow(&a).await;
    let sent = publish::publish_post(&a.state, text("Envoyé", "B")).await.unwrap();
    let mut later = text("Plus tard", "B");
    later.publish_at = Some(a.state.clock.now() + chrono::Duration::days(3));
    let scheduled = publish::publish_post(&a.state, later).await.unwrap();

    // The page's summaries are the bulletin pages' own, read for all bulletins at once.
    let ids = vec![sent.id.clone(), scheduled.id.clone()];
    let each = deliveries::of_bulletins(&a.state, &ids).await.unwrap();
    assert_eq!(each.get(&sent.id), Some(&deliveries::of_bulletin(&a.state, &sent.id).await.unwrap()));
    assert_eq!(each[&sent.id].waiting, 1);
    assert!(!each.contains_key(&scheduled.id), "a scheduled bulletin went nowhere yet");

    admins::create_admin(&a.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&a, "en");
    browser.login("camille", "correct horse battery").await;
    let (_, _, page) = browser.get("/admin/bulletins").await;
    assert!(page.contains("<td class=\"delivery\">0/1 server, 1 waiting</td>"), "{page}");
    assert!(page.contains("<td class=\"delivery\"></td>"), "the scheduled one: {page}");
    assert_eq!(a.drain().await, 1);
    let (_, _, page) = browser.get("/admin/bulletins").await;
    assert!(page.contains("<td class=\"delivery\">1/1 server</td>"), "{page}");

    // With nobody following, it says so; in French too.
    let c = spawn_app().await;
    publish::publish_post(&c.state, text("Seul", "B")).await.unwrap();
    admins::create_admin(&c.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&c, "fr");
    browser.login("camille", "correct horse battery").await;
    let (_, _, page) = browser.get("/admin/bulletins").await;
    assert!(page.contains("<td class=\"delivery\">envoyé à personne</td>"), "{page}");
}

#[tokio::test]
async fn the_mastodon_preview_shows_the_notes_content_only_and_names_the_translation() {
    let app = spawn_app().await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "en");
    browser.login("camille", "correct horse battery").await;
    let csrf = browser.csrf().await;
    let form = [
        ("csrf", csrf.as_str()),
        ("kind", "news"),
        ("lang", "fr"),
        ("title", "Nouvelle version"),
        ("body", "Le texte en français."),
        ("translation_lang", "en"),
        ("translation_title", "New version"),
        ("translation_body", "The English text."),
    ];
    let (status, _, fragment) = browser.post("/admin/preview", &form).await;
    assert_eq!(status, StatusCode::OK, "{fragment}");
    assert!(fragment.contains("Le texte en français."), "{fragment}");
    assert!(!fragment.contains("The English text.") && !fragment.contains("New version"), "{fragment}");
    assert!(fragment.contains("The English translation travels with it in contentMap"), "the note: {fragment}");
    let mut with_action = form.to_vec();
    with_action.push(("action", "preview"));
    let (status, _, page) = browser.post("/admin/compose", &with_action).await;
    assert_eq!(status, StatusCode::OK);
    let preview = &page[page.find("id=\"preview-content\"").expect("the preview")..];
    assert!(preview.contains("Le texte en français.") && !preview.contains("The English text."), "{preview}");
    assert!(preview.contains("contentMap"), "{preview}");
    // Without a translation, no note.
    let (_, _, fragment) = browser.post("/admin/preview", &form[..5]).await;
    assert!(fragment.contains("Le texte en français.") && !fragment.contains("contentMap"), "{fragment}");
}
