//! Following peers: blocks, and what reaches the timeline.

use crate::helpers::spawn_app;
use ronron::{
    app::blocks,
    app::bulletins as publish,
    bulletin::NewsDraft,
    db::models::{activities as queue, followers, remote},
};

fn news(title: &str) -> NewsDraft {
    NewsDraft { title: title.into(), body_markdown: "body".into(), lang: None }
}

#[tokio::test]
async fn a_blocked_server_is_purged_refused_and_no_longer_served() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let c = spawn_app().await;
    a.follow(&b).await;
    a.follow(&c).await;
    c.follow(&a).await;
    publish::publish_news(&b.state, news("De B")).await.unwrap();
    publish::publish_news(&c.state, news("De C")).await.unwrap();
    assert_eq!(b.drain().await, 1);
    assert_eq!(c.drain().await, 1);
    assert_eq!(a.state.db.read(|c| remote::list_posts(c, 10)).await.unwrap().len(), 2);

    let purged = blocks::block(&a.state, &format!("localhost:{}", c.port), Some("spam".into())).await.unwrap().purged;
    assert_eq!((purged.followers, purged.following, purged.posts), (1, 1, 1));
    let posts = a.state.db.read(|c| remote::list_posts(c, 10)).await.unwrap();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].actor_id.contains(&format!(":{}/", b.port)), "B's post stays");

    // C still thinks A follows it: its next post is refused with 403 and C gives up.
    let received_before = a.state.db.read(remote::count_received).await.unwrap();
    publish::publish_news(&c.state, news("Encore C")).await.unwrap();
    assert_eq!(c.drain().await, 1);
    let last = c.state.db.read(queue::list_deliveries).await.unwrap().pop().unwrap();
    assert_eq!((last.status.as_str(), last.last_status), ("failed", Some(403)));
    assert_eq!(a.state.db.read(remote::count_received).await.unwrap(), received_before);

    // A's posts no longer go to C.
    publish::publish_news(&a.state, news("Pour mes abonnés")).await.unwrap();
    assert_eq!(a.drain().await, 0);
    assert!(a.state.db.read(|c| followers::list(c, None)).await.unwrap().is_empty());

    assert!(blocks::block(&a.state, &format!("localhost:{}", a.port), None).await.is_err(), "not ourselves");
    assert!(blocks::unblock(&a.state, &format!("localhost:{}", c.port)).await.unwrap());
    assert_eq!(blocks::list(&a.state).await.unwrap().len(), 0);
}

#[tokio::test]
async fn following_backfills_recent_posts_and_announces_are_stored_once() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let c = spawn_app().await;
    for n in 0..25 {
        publish::publish_news(&b.state, news(&format!("Ancien {n}"))).await.unwrap();
    }
    let deleted = publish::publish_news(&b.state, news("Supprimé")).await.unwrap();
    publish::delete_bulletin(&b.state, &deleted.id).await.unwrap();
    a.follow(&b).await;
    let posts = a.state.db.read(|c| remote::list_posts(c, 100)).await.unwrap();
    assert_eq!(posts.len(), 25, "the outbox's 25 posts, over two pages; not the deleted one");

    // C re-shares one of B's posts: A fetches it from B and stores it once.
    a.follow(&c).await;
    c.follow(&b).await;
    let fresh = publish::publish_news(&b.state, news("Nouveau")).await.unwrap();
    assert_eq!(b.drain().await, 2, "to A and to C");
    let note_id = b.state.urls.bulletin(&fresh.id).to_string();
    let announce = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#announce", c.state.urls.activity("x")),
        "type": "Announce",
        "actor": c.actor_url(),
        "object": note_id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    });
    assert_eq!(send_signed(&c, &a, &announce).await, 202);
    let posts = a.state.db.read(|c| remote::list_posts(c, 100)).await.unwrap();
    assert_eq!(posts.iter().filter(|p| p.id == note_id).count(), 1, "direct and announced: stored once");
    assert_eq!(posts.len(), 26);

    // A post A missed arrives through an Announce: fetched from its origin, attributed to B.
    let missed = publish::publish_news(&b.state, news("Manqué")).await.unwrap();
    let missed_id = b.state.urls.bulletin(&missed.id).to_string();
    let announce = serde_json::json!({
        "id": format!("{}#announce3", c.state.urls.activity("x")),
        "type": "Announce",
        "actor": c.actor_url(),
        "object": missed_id,
    });
    assert_eq!(send_signed(&c, &a, &announce).await, 202);
    let id = missed_id.clone();
    let post =
        a.state.db.read(move |c| remote::find_post(c, &id)).await.unwrap().expect("fetched through the Announce");
    assert_eq!(post.actor_id, b.actor_url().as_str());
    b.drain().await;
    assert_eq!(
        a.state.db.read(|c| remote::list_posts(c, 100)).await.unwrap().len(),
        27,
        "the direct copy is not stored twice"
    );

    // An Announce of something that cannot be fetched is accepted and dropped.
    let missing = serde_json::json!({
        "id": format!("{}#announce2", c.state.urls.activity("x")),
        "type": "Announce",
        "actor": c.actor_url(),
        "object": format!("{}/b/does-not-exist", b.base()),
    });
    assert_eq!(send_signed(&c, &a, &missing).await, 202);
    assert_eq!(a.state.db.read(|c| remote::list_posts(c, 100)).await.unwrap().len(), 27);
}

async fn timeline(app: &crate::helpers::TestApp, query: &str) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("{}/api/v1/timeline{query}", app.base())).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn kinds(page: &serde_json::Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_timeline_shows_peers_bulletins_with_their_kinds_filters_and_pages() {
    use ronron::bulletin::{vocab::*, ChangeDraft, ServiceDraft, TextDraft};
    let a = spawn_app().await;
    let b = spawn_app().await;
    let c = spawn_app().await;
    a.follow(&b).await;
    a.follow(&c).await;
    publish::publish_news(&a.state, news("Chez A")).await.unwrap();
    ronron::app::catalogue::add(
        &b.state,
        ServiceDraft {
            slug: "nextcloud".into(),
            name: "Nextcloud".into(),
            software: "Nextcloud".into(),
            url: "https://cloud.b.example".into(),
            registration: "open".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let incident = publish::publish_change(
        &b.state,
        publish::PostDraft {
            main: TextDraft { lang: None, title: "Panne".into(), body_markdown: String::new() },
            ..Default::default()
        },
        ChangeDraft {
            change_type: ChangeType::Incident,
            services: vec!["nextcloud".into()],
            impact: Some(Impact::Major),
            status: None,
            registration: None,
            new_url: None,
            starts_at: None,
            ends_at: None,
        },
    )
    .await
    .unwrap();
    ronron::app::label::set_grade(&c.state, "neutral.no-ads", "met", None, None).await.unwrap();
    assert_eq!(b.drain().await, 1);
    assert_eq!(c.drain().await, 1);

    let (status, page) = timeline(&a, "").await;
    assert_eq!(status, 200);
    assert_eq!(kinds(&page), ["label_update", "service_change", "news"], "newest first, with their kinds");
    assert_eq!(page["items"][1]["meta"]["changeType"], "incident");
    assert!(page["items"][1]["content"].as_str().unwrap().contains("Panne"));
    // The API writes a peer's post from its stored entry as it is, and builds the others (our
    // own, a post indexed before entries existed): the same JSON, item for item, as the page
    // the web timeline and the feeds read.
    let first_page = || ronron::app::timeline::TimelineRequest {
        filter: ronron::app::timeline::TimelineFilter { limit: 20, ..Default::default() },
        members_only: false,
    };
    let read = ronron::app::timeline::request(&a.state, first_page()).await.unwrap();
    assert_eq!(page, serde_json::to_value(&read).unwrap());
    let label_update = page["items"][0]["id"].as_str().unwrap().to_string();
    a.state
        .db
        .write(move |c| {
            use diesel::prelude::*;
            use ronron::db::schema::timeline_items;
            diesel::update(timeline_items::table.find(label_update))
                .set(timeline_items::entry.eq(None::<String>))
                .execute(c)
                .map_err(ronron::db::DbError::from)
        })
        .await
        .unwrap();
    let (_, without_entry) = timeline(&a, "").await;
    assert_eq!(without_entry, page, "a post without its entry is read from its row, alike");

    let count = |q: &'static str| {
        let a = &a;
        async move { timeline(a, q).await.1["items"].as_array().unwrap().len() }
    };
    assert_eq!(count("?kind=service_change").await, 1);
    assert_eq!(count("?service=Nextcloud").await, 1);
    assert_eq!(count("?impact=major").await, 1);
    assert_eq!(count("?lang=fr").await, 3);
    assert_eq!(count("?lang=en").await, 0);
    let peer = format!("?peer=localhost:{}", c.port);
    assert_eq!(timeline(&a, &peer).await.1["items"][0]["kind"], "label_update");
    assert_eq!(count("?since=2000-01-01&until=2000-01-02").await, 0);
    let (status, error) = timeline(&a, "?kind=gossip").await;
    assert_eq!(status, 400);
    assert!(error["error"].as_str().unwrap().contains("`kind` must be one of"), "{error}");

    // Keyset pages: one item each, following `next`.
    let (_, first) = timeline(&a, "?limit=1").await;
    let (_, second) = timeline(&a, &format!("?limit=1&before={}", first["next"].as_str().unwrap())).await;
    let (_, third) = timeline(&a, &format!("?limit=1&before={}", second["next"].as_str().unwrap())).await;
    assert_eq!([kinds(&first), kinds(&second), kinds(&third)].concat(), ["label_update", "service_change", "news"]);
    // A dated page after a cursor: the tighter of `until` and the cursor bounds it.
    let after_first = format!("before={}", first["next"].as_str().unwrap());
    let (_, later) = timeline(&a, &format!("?limit=1&until=2100-01-01&{after_first}")).await;
    assert_eq!(kinds(&later), ["service_change"]);
    let second_at = second["items"][0]["published"].as_str().unwrap().to_string();
    let older: Vec<String> = page["items"].as_array().unwrap()[1..]
        .iter()
        .filter(|i| i["published"].as_str().unwrap() < second_at.as_str())
        .map(|i| i["kind"].as_str().unwrap().to_string())
        .collect();
    let until_second = format!("?until={}&{after_first}", second_at.replace('+', "%2B"));
    assert_eq!(kinds(&timeline(&a, &until_second).await.1), older);

    // B deletes its incident: gone from A's timeline.
    publish::delete_bulletin(&b.state, &incident.id).await.unwrap();
    assert_eq!(b.drain().await, 1);
    assert_eq!(kinds(&timeline(&a, "").await.1), ["label_update", "news"]);
}

#[tokio::test]
async fn the_directory_answers_from_what_peers_publish() {
    use ronron::app::profile::{self, ProfileEdit};
    use ronron::bulletin::{vocab::*, ChangeDraft, ServiceDraft, TextDraft};
    let a = spawn_app().await;
    let b = spawn_app().await;
    let c = spawn_app().await;
    let service = |slug: &str, software: &str, registration: &str| ServiceDraft {
        slug: slug.into(),
        name: software.into(),
        software: software.into(),
        url: format!("https://{slug}.example"),
        registration: registration.into(),
        ..Default::default()
    };
    profile::set(
        &b.state,
        ProfileEdit { country: Some("FR".into()), region: Some("Bretagne".into()), ..Default::default() },
    )
    .await
    .unwrap();
    ronron::app::catalogue::add(&b.state, service("nextcloud", "Nextcloud", "open")).await.unwrap();
    ronron::app::catalogue::add(&b.state, service("peertube", "PeerTube", "closed")).await.unwrap();
    profile::set(&c.state, ProfileEdit { country: Some("BE".into()), ..Default::default() }).await.unwrap();
    ronron::app::catalogue::add(&c.state, service("cloud", "Nextcloud", "on_request")).await.unwrap();
    ronron::app::label::set_grade(&c.state, "neutral.no-ads", "met", None, None).await.unwrap();
    a.follow(&b).await;
    a.follow(&c).await;

    let search = |q: &'static str| {
        let a = &a;
        async move {
            let response = reqwest::get(format!("{}/api/v1/directory{q}", a.base())).await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        }
    };
    let domains = |body: &serde_json::Value| -> Vec<String> {
        body["peers"].as_array().unwrap().iter().map(|p| p["domain"].as_str().unwrap().to_string()).collect()
    };
    let (b_domain, c_domain) = (format!("localhost:{}", b.port), format!("localhost:{}", c.port));
    let (_, all) = search("?software=nextcloud").await;
    assert_eq!(domains(&all).len(), 2, "{all}");
    let (_, open) = search("?software=nextcloud&registration=open").await;
    assert_eq!(domains(&open), std::slice::from_ref(&b_domain));
    assert_eq!(open["peers"][0]["services"].as_array().unwrap().len(), 1, "only the matching service");
    assert_eq!(domains(&search("?country=fr&region=bretagne").await.1), std::slice::from_ref(&b_domain));
    assert_eq!(domains(&search("?lang=fr").await.1).len(), 2);
    assert_eq!(domains(&search("?criterion=neutral.no-ads&grade=met").await.1), [c_domain]);
    let (status, error) = search("?registration=sometimes").await;
    assert_eq!(status, 400);
    assert!(error["error"].as_str().unwrap().starts_with("registration:"), "{error}");

    // B announces an incident: A's entry goes stale and the next refresh shows the new status.
    publish::publish_change(
        &b.state,
        publish::PostDraft {
            main: TextDraft { lang: None, title: "Panne".into(), body_markdown: String::new() },
            ..Default::default()
        },
        ChangeDraft {
            change_type: ChangeType::Incident,
            services: vec!["nextcloud".into()],
            impact: Some(Impact::Major),
            status: None,
            registration: None,
            new_url: None,
            starts_at: None,
            ends_at: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(b.drain().await, 1);
    assert_eq!(search("?status=partial_outage").await.1["peers"].as_array().unwrap().len(), 0, "not refreshed yet");
    assert_eq!(ronron::app::directory::refresh_stale(&a.data()).await.unwrap(), 1);
    assert_eq!(domains(&search("?software=nextcloud&status=partial_outage").await.1), [b_domain]);
}

#[tokio::test]
async fn a_directory_entry_is_refetched_once_it_is_a_day_old_not_before() {
    use ronron::{app::directory, bulletin::ServiceDraft, db::models::directory as entries};
    let clock = crate::helpers::test_clock();
    let a = crate::helpers::spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    // B shares A's clock: each checks the other's signature dates against its own.
    let b = crate::helpers::spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    a.follow(&b).await;
    let entry = || {
        let id = b.actor_url().to_string();
        let a = &a;
        async move { a.state.db.read(move |c| entries::find(c, &id)).await.unwrap().expect("B's entry") }
    };
    assert_eq!(entry().await.fetched_at, clock.now(), "fetched when followed");
    // B adds a service without announcing it: only a refresh can tell.
    let service = ServiceDraft {
        slug: "nextcloud".into(),
        name: "Nextcloud".into(),
        software: "Nextcloud".into(),
        url: "https://cloud.b.example".into(),
        registration: "open".into(),
        ..Default::default()
    };
    ronron::app::catalogue::add(&b.state, service).await.unwrap();
    let lists_nextcloud = |e: &entries::PeerEntry| e.services.as_deref().unwrap_or_default().contains("Nextcloud");

    clock.advance(directory::max_age() - chrono::Duration::minutes(1));
    assert_eq!(directory::refresh_stale(&a.data()).await.unwrap(), 0, "not before a day");
    assert!(!lists_nextcloud(&entry().await));
    clock.advance(chrono::Duration::minutes(2));
    assert_eq!(directory::refresh_stale(&a.data()).await.unwrap(), 1, "refetched once older than a day");
    let refreshed = entry().await;
    assert!(lists_nextcloud(&refreshed), "{refreshed:?}");
    assert_eq!(refreshed.fetched_at, clock.now());
    assert_eq!(directory::refresh_stale(&a.data()).await.unwrap(), 0, "fresh again");
}

#[tokio::test]
async fn peers_are_imported_and_exported_from_the_command_line() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("a.toml");
    std::fs::write(
        &config,
        format!("[instance]\ndomain = \"localhost:{}\"\n[database]\nurl = \"{}\"\n", a.port, a.database_url),
    )
    .unwrap();
    let list = dir.path().join("peers.txt");
    std::fs::write(&list, format!("# peers\n@bulletin@localhost:{}\n\n@nobody@localhost:{}\n", b.port, b.port))
        .unwrap();
    // Async, so this test's runtime keeps serving A and B while the command runs.
    let run = |args: Vec<String>| {
        let config = config.clone();
        async move {
            tokio::process::Command::from(crate::helpers::ronron_command())
                .arg("--config")
                .arg(&config)
                .args(args)
                .output()
                .await
                .unwrap()
        }
    };
    let out = run(vec!["import".into(), list.display().to_string()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "one line failed");
    assert!(stderr.contains(&format!("@nobody@localhost:{}", b.port)) && stderr.contains("1 of 2"), "{stderr}");
    let out = run(vec!["export".into()]).await;
    let export: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(export["following"][0]["actor"], b.actor_url().as_str());
    assert_eq!(export["following"][0]["handle"], format!("@bulletin@localhost:{}", b.port));
    assert_eq!(export["following"][0]["feed"], format!("{}/u/bulletin/feed.atom", b.base()));
    let out = run(vec!["export".into(), "--format".into(), "opml".into()]).await;
    let opml = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(opml.contains(&format!("xmlUrl=\"{}/u/bulletin/feed.atom\"", b.base())), "{opml}");
    // The feed it points to is a valid Atom feed (read by a real feed parser).
    publish::publish_news(&b.state, news("Dans le flux")).await.unwrap();
    let xml = reqwest::get(format!("{}/u/bulletin/feed.atom", b.base())).await.unwrap().text().await.unwrap();
    let feed: atom_syndication::Feed = xml.parse().expect("a valid Atom feed");
    assert_eq!(feed.entries().len(), 1);
    assert_eq!(feed.entries()[0].title().as_str(), "Dans le flux");
    let none: atom_syndication::Feed = reqwest::get(format!("{}/u/bulletin/feed.atom?kind=label_update", b.base()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(none.entries().is_empty(), "per-kind feeds");
    // A JSON export imports as well (following again is harmless).
    let out = run(vec!["export".into()]).await;
    let json = dir.path().join("export.json");
    std::fs::write(&json, &out.stdout).unwrap();
    assert!(run(vec!["import".into(), json.display().to_string()]).await.status.success());
}

/// A server that answers the ways a broken or hostile peer does.
async fn hostile_server() -> u16 {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .route(
                "/html",
                web::get().to(|| async { HttpResponse::Ok().content_type("text/html").body("<html>hello</html>") }),
            )
            .route(
                "/huge",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .content_type("application/activity+json")
                        .body(format!("{{\"id\":\"{}\"}}", "x".repeat(10 * 1024 * 1024)))
                }),
            )
            .route(
                "/loop",
                web::get().to(|| async { HttpResponse::Found().insert_header(("Location", "/loop")).finish() }),
            )
            .route(
                "/slow",
                web::get().to(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    HttpResponse::Ok().finish()
                }),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    port
}

#[tokio::test]
async fn following_a_broken_or_hostile_peer_fails_clearly_and_stores_nothing() {
    let a = spawn_app().await;
    let port = hostile_server().await;
    for path in ["html", "huge", "loop", "slow"] {
        let url = url::Url::parse(&format!("http://localhost:{port}/{path}")).unwrap();
        let started = std::time::Instant::now();
        let err = ronron::app::peers::follow(&a.state, &a.data(), &url).await.unwrap_err();
        assert!(err.to_string().starts_with(&format!("cannot fetch {url}")), "{path}: {err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(15), "{path}: bounded by the request timeout");
    }
    let err = ronron::federation::actors::resolve(&a.data(), &format!("@nobody@localhost:{port}")).await.unwrap_err();
    assert!(err.to_string().contains("acct:nobody@"), "{err}");
    assert!(a.state.db.read(remote::list_following).await.unwrap().is_empty());

    // Outside dev mode, loopback and private addresses are refused before any request.
    let prod = crate::helpers::spawn_app_with(0, |c| c.instance.dev_mode = Some(false)).await;
    for target in [
        format!("https://localhost:{port}/html"),
        "https://127.0.0.1/u/x".to_string(),
        "http://peer.example/u/x".to_string(),
    ] {
        let url = url::Url::parse(&target).unwrap();
        let err = ronron::app::peers::follow(&prod.state, &prod.data(), &url).await.unwrap_err();
        assert!(err.to_string().starts_with("cannot fetch"), "{target}: {err}");
    }
}

#[tokio::test]
async fn an_empty_timeline_index_is_rebuilt_from_what_is_stored() {
    let a = spawn_app().await;
    publish::publish_news(&a.state, news("Avant la mise à jour")).await.unwrap();
    a.state
        .db
        .write(|c| -> ronron::db::DbResult<()> {
            use diesel::prelude::*;
            diesel::delete(ronron::db::schema::timeline_items::table).execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(ronron::app::timeline::rebuild_if_empty(&a.state).await.unwrap(), 1);
    assert_eq!(ronron::app::timeline::rebuild_if_empty(&a.state).await.unwrap(), 0, "only when empty");
    let page: serde_json::Value =
        reqwest::get(format!("{}/api/v1/timeline?limit=abc", a.base())).await.unwrap().json().await.unwrap();
    assert!(page["error"].as_str().unwrap().starts_with("invalid query"), "{page}");
}

/// POSTs `activity` from `from`'s host account to `to`'s shared inbox, signed; returns the status.
async fn send_signed(
    from: &crate::helpers::TestApp,
    to: &crate::helpers::TestApp,
    activity: &serde_json::Value,
) -> u16 {
    let inbox = to.state.urls.shared_inbox();
    let body = serde_json::to_vec(activity).unwrap();
    let headers = ronron::federation::signatures::sign_post(
        &inbox,
        &body,
        &from.state.urls.host_key_id(),
        &from.state.keys.host().signer,
        from.clock.system_time(),
    )
    .unwrap();
    let mut request = reqwest::Client::new().post(inbox).body(body);
    for (name, value) in &headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_handle_on_a_blocked_server_is_refused_before_it_is_asked_anything() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let domain = format!("localhost:{}", b.port);
    blocks::block(&a.state, &domain, None).await.unwrap();
    // B is down: asking its WebFinger would fail with "cannot fetch"; the block answers first.
    let _stopped = b.stop().await;
    for handle in [format!("@bulletin@{domain}"), format!("http://{domain}/u/bulletin")] {
        let err = ronron::app::peers::follow_handle(&a.state, &a.data(), &handle).await.unwrap_err();
        assert!(matches!(err, ronron::app::AppError::Conflict { .. }), "{handle}: {err}");
        assert_eq!(err.to_string(), format!("handle: {domain} is blocked"), "{handle}");
    }
    assert!(a.state.db.read(remote::list_following).await.unwrap().is_empty());
}

#[tokio::test]
async fn blocking_a_server_again_keeps_the_block_as_first_stored() {
    let a = spawn_app().await;
    blocks::block(&a.state, "spam.example", Some("spam".into())).await.unwrap();
    // As stored (PostgreSQL keeps microseconds).
    let first = blocks::list(&a.state).await.unwrap().remove(0);
    let again = blocks::block(&a.state, "spam.example", Some("other".into())).await.unwrap().block;
    assert_eq!((again.reason.as_deref(), again.created_at), (Some("spam"), first.created_at));
    assert_eq!(blocks::list(&a.state).await.unwrap(), vec![first]);
}

/// The API's timeline page is sent again as it was while this process writes nothing, and shows
/// its own writes at once; another process's write (a `ronron post`, a second server on the same
/// database) shows within a second.
#[tokio::test]
async fn the_timeline_page_is_sent_again_until_a_write_and_for_a_second_at_most() {
    let a = crate::helpers::spawn_app_with_clock(0, crate::helpers::test_clock(), |_| {}).await;
    let titles = |page: &serde_json::Value| -> Vec<String> {
        page["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap_or_default().to_string()).collect()
    };
    publish::publish_news(&a.state, news("Un")).await.unwrap();
    let (status, first) = timeline(&a, "").await;
    assert_eq!((status, first["items"].as_array().unwrap().len()), (200, 1), "{first}");
    let hits = a.state.timeline_pages.hits();
    let (_, again) = timeline(&a, "").await;
    assert_eq!(again, first);
    assert_eq!(a.state.timeline_pages.hits(), hits + 1, "the same page, sent again as it was");
    let (_, filtered) = timeline(&a, "?kind=service_change").await;
    assert!(filtered["items"].as_array().unwrap().is_empty(), "another query is another page: {filtered}");

    publish::publish_news(&a.state, news("Deux")).await.unwrap();
    let (_, after) = timeline(&a, "").await;
    assert_eq!(after["items"].as_array().unwrap().len(), 2, "this process's write is seen at once: {after}");

    // Another process on the same database: its write shows once the kept page expires.
    let other = ronron::state::AppState::open_with_clock((*a.state.config).clone(), a.state.clock.clone()).unwrap();
    publish::publish_news(&other, news("Trois")).await.unwrap();
    let (_, kept) = timeline(&a, "").await;
    assert_eq!(kept["items"].as_array().unwrap().len(), 2, "kept for up to a second: {kept}");
    a.state.clock.advance(chrono::Duration::seconds(1));
    let (_, fresh) = timeline(&a, "").await;
    assert_eq!(fresh["items"].as_array().unwrap().len(), 3, "{fresh}");
    assert!(titles(&fresh).contains(&"Trois".to_string()), "{fresh}");

    // The delivery queue's own writes (a fan-out's claims, leases and outcomes) leave it kept.
    let b = crate::helpers::spawn_app_with_clock(0, a.clock.clone(), |_| {}).await;
    b.follow(&a).await;
    publish::publish_news(&a.state, news("Quatre")).await.unwrap();
    let (_, published) = timeline(&a, "").await;
    let hits = a.state.timeline_pages.hits();
    assert_eq!(a.drain().await, 1, "the Create, sent to the follower");
    let (_, during) = timeline(&a, "").await;
    assert_eq!((during, a.state.timeline_pages.hits()), (published, hits + 1));
}
