//! The collective role's pages and feeds over real HTTP: a collective K follows member hosts A
//! and B and an outsider X (followed, not a member); A and B publish incidents, maintenance,
//! news and label grades, which reach K with real signatures. K's status, roster and label pages
//! (both languages), its members' timeline and directory (pages and JSON), its Atom/RSS feeds
//! and its iCalendar show A and B and never X; without the role, all of it is 404.

use crate::{
    helpers::{spawn_app_with, TestApp},
    pages::{add_service, Browser},
};
use reqwest::StatusCode;
use ronron::{
    app::bulletins as publish,
    bulletin::forms::{ChangeFields, PostFields},
    config::CollectiveConfig,
    db::models::collective::{self as roster, JoinedVia, Member, MemberState},
};

async fn host(name: &str) -> TestApp {
    let name = name.to_string();
    spawn_app_with(0, move |c| c.account.display_name = name).await
}

async fn change(app: &TestApp, title: &str, fields: ChangeFields) {
    let tz = app.state.config.timezone();
    publish::publish_change(
        &app.state,
        PostFields { title: title.into(), body: format!("{title}, en détail."), ..Default::default() }
            .draft(tz)
            .unwrap(),
        fields.draft(tz).unwrap(),
    )
    .await
    .unwrap();
}

async fn news(app: &TestApp, title: &str) {
    publish::publish_post(
        &app.state,
        PostFields { title: title.into(), body: "Bonjour".into(), ..Default::default() }
            .draft(app.state.config.timezone())
            .unwrap(),
    )
    .await
    .unwrap();
}

/// Puts `member` on `k`'s roster, approved (the roster's own flows are tested with it).
async fn add_member(k: &TestApp, member: &TestApp, days_ago: i64) {
    let at = k.state.clock.now() - chrono::Duration::days(days_ago);
    let row = Member {
        actor_id: member.actor_url().to_string(),
        handle: member.state.config.handle(),
        state: MemberState::Approved,
        joined_via: JoinedVia::Added,
        join_activity_id: None,
        since: at,
        approved_at: Some(at),
        updated_at: at,
    };
    k.state.db.write(move |c| roster::upsert_member(c, &row)).await.unwrap();
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = reqwest::get(format!("{}{path}", app.base())).await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[actix_rt::test]
async fn the_collective_shows_its_members_status_roster_labels_timeline_directory_and_feeds() {
    let k = spawn_app_with(0, |c| {
        c.account.display_name = "Collectif K".into();
        c.collective = Some(CollectiveConfig { display_name: "Les Chatons".into(), ..Default::default() });
    })
    .await;
    let (a, b, x) = (host("Chaton Alpha").await, host("Chaton Bêta").await, host("Chaton Dehors").await);
    for peer in [&a, &b, &x] {
        k.follow(peer).await;
    }
    add_service(&a, "cloud", "Nextcloud").await;
    add_service(&a, "pad", "Etherpad").await;
    add_service(&b, "visio", "Jitsi").await;
    add_service(&x, "mail", "Courriel").await;
    change(
        &a,
        "Nextcloud inaccessible",
        ChangeFields {
            change_type: "incident".into(),
            services: vec!["cloud".into()],
            impact: Some("major".into()),
            status: Some("major_outage".into()),
            ..Default::default()
        },
    )
    .await;
    change(
        &b,
        "Mise à jour de Jitsi",
        ChangeFields {
            change_type: "maintenance".into(),
            services: vec!["visio".into()],
            impact: Some("minor".into()),
            start: Some("2030-03-14T21:00".into()),
            end: Some("2030-03-14T22:00".into()),
            ..Default::default()
        },
    )
    .await;
    change(
        &x,
        "Courriel en panne dehors",
        ChangeFields { change_type: "incident".into(), services: vec!["mail".into()], ..Default::default() },
    )
    .await;
    news(&a, "Assemblée générale d’Alpha").await;
    news(&x, "Nouvelles du dehors").await;
    ronron::app::label::set_grade(&a.state, "alternative.free-software", "met", Some("Tout est libre".into()), None)
        .await
        .unwrap();
    ronron::app::label::set_grade(&b.state, "alternative.free-software", "partial", None, None).await.unwrap();
    for peer in [&a, &b, &x] {
        peer.drain().await;
        ronron::app::directory::refresh(&k.data(), &peer.actor_url()).await.unwrap();
    }
    add_member(&k, &a, 30).await;
    add_member(&k, &b, 2).await;

    // The status of all members, per member and per service, in both languages.
    let (_, _, fr) = Browser::new(&k, "fr").get("/collective").await;
    for text in [
        "État des membres du collectif",
        "Incidents en cours",
        "Nextcloud inaccessible",
        "Maintenances prévues ou en cours",
        "Mise à jour de Jitsi",
        "Chaton Alpha",
        "Chaton Bêta",
        "Etherpad",
        "panne majeure",
    ] {
        assert!(fr.contains(text), "`{text}` in the French status page:\n{fr}");
    }
    assert!(!fr.contains("Chaton Dehors") && !fr.contains("Courriel en panne dehors"), "no outsider:\n{fr}");
    let (_, _, en) = Browser::new(&k, "en").get("/collective").await;
    let en = en.replace("&#39;", "'");
    for text in
        ["Status of the collective's members", "Ongoing incidents", "Nextcloud inaccessible", "Member by member"]
    {
        assert!(en.contains(text), "`{text}` in English:\n{en}");
    }
    assert!(en.contains("/collective/members") && en.contains("/collective/labels"), "the pages link each other");

    // The roster: who belongs and since when.
    let (_, _, fr) = Browser::new(&k, "fr").get("/collective/members").await;
    assert!(
        fr.contains("2 hébergeurs membres.") && fr.contains("Chaton Alpha") && fr.contains(&a.state.config.handle())
    );
    let day = |days_ago: i64| {
        (k.state.clock.now() - chrono::Duration::days(days_ago)).format("datetime=\"%Y-%m-%d").to_string()
    };
    assert!(fr.contains(&day(30)) && fr.contains(&day(2)), "since when:\n{fr}");
    assert!(!fr.contains("Chaton Dehors"));
    let (_, _, en) = Browser::new(&k, "en").get("/collective/members").await;
    assert!(en.contains("2 member hosts.") && en.contains("Member since"), "{en}");

    // Labels side by side: one row per criterion, one column per member.
    let (_, _, fr) = Browser::new(&k, "fr").get("/collective/labels").await;
    let row = fr.split("Les services reposent exclusivement sur des logiciels libres").nth(1).expect("the row");
    let row = row.split("</tr>").next().unwrap();
    assert!(row.contains("g-met") && row.contains("Tout est libre") && row.contains("g-partial"), "{row}");
    assert!(fr.contains("non évalué") && !fr.contains("Chaton Dehors"));
    let (_, _, en) = Browser::new(&k, "en").get("/collective/labels").await;
    assert!(en.contains("Services run on free software only") && en.contains("partially met"), "{en}");

    // The timeline and the directory, filtered to members: pages and JSON.
    let (_, _, page) = Browser::new(&k, "fr").get("/timeline?members=true").await;
    assert!(page.contains("Bulletins des membres du collectif") && page.contains("Assemblée générale d’Alpha"));
    assert!(!page.contains("Nouvelles du dehors"), "{page}");
    let (_, _, page) = Browser::new(&k, "fr").get("/timeline").await;
    assert!(page.contains("Nouvelles du dehors") && page.contains("Membres du collectif seulement"));
    let (_, _, page) = Browser::new(&k, "en").get("/directory?members=true").await;
    assert!(page.contains("Chaton Alpha") && page.contains("Jitsi") && !page.contains("Chaton Dehors"), "{page}");
    let (status, body) = get(&k, "/api/v1/timeline?members=true&limit=100").await;
    assert_eq!(status, StatusCode::OK);
    let items: serde_json::Value = serde_json::from_str(&body).unwrap();
    let actors: Vec<&str> = items["items"].as_array().unwrap().iter().map(|i| i["actor"].as_str().unwrap()).collect();
    assert!(actors.contains(&a.actor_url().as_str()) && actors.contains(&b.actor_url().as_str()));
    assert!(!actors.contains(&x.actor_url().as_str()) && !actors.contains(&k.actor_url().as_str()));
    let (_, body) = get(&k, "/api/v1/directory?members=true").await;
    let peers: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut names: Vec<&str> = peers["peers"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["Chaton Alpha", "Chaton Bêta"]);
    let (status, body) = get(&k, "/api/v1/timeline?members=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("`members` must be true or false"), "{body}");

    // Feeds of all members' bulletins and their maintenance windows.
    for feed in ["/collective/feed.atom", "/collective/feed.rss"] {
        let (status, body) = get(&k, feed).await;
        assert_eq!(status, StatusCode::OK, "{feed}");
        assert!(body.contains("Les Chatons — bulletins des membres"), "{feed}: {body}");
        assert!(body.contains("Nextcloud inaccessible") && body.contains("Mise à jour de Jitsi"), "{feed}");
        assert!(!body.contains("Nouvelles du dehors") && !body.contains("Courriel en panne dehors"), "{feed}");
    }
    let response = reqwest::get(format!("{}/collective/maintenance.ics", k.base())).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let ics = response.text().await.unwrap();
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1, "{ics}");
    assert!(ics.contains("X-WR-CALNAME:Les Chatons — maintenances"), "{ics}");
    assert!(ics.contains("SUMMARY:Chaton Bêta — Mise à jour de Jitsi"), "{ics}");
    assert!(ics.contains("DTSTART:20300314T200000Z") && ics.contains("STATUS:CONFIRMED"), "{ics}");
    assert!(ics.contains("CATEGORIES:Jitsi"), "{ics}");

    // The federation file stats.chatons.org's crawler starts from: one `subs.*` per member,
    // pointing at the organisation file each member's actor names; the outsider is not listed.
    let response = reqwest::get(format!("{}/chatonsinfos/federation.properties", k.base())).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; charset=utf-8"));
    let federation = response.text().await.unwrap();
    assert!(federation.contains("file.class = Federation"), "{federation}");
    assert!(federation.contains("federation.name = Les Chatons"), "{federation}");
    let subs: Vec<&str> = federation.lines().filter(|l| l.starts_with("subs.")).collect();
    assert_eq!(subs.len(), 2, "{federation}");
    for member in [&a, &b] {
        let url = member.state.urls.chatonsinfos_organization().to_string();
        let line =
            subs.iter().find(|l| l.ends_with(&format!(" = {url}"))).unwrap_or_else(|| panic!("{url}: {federation}"));
        // Each entry leads the crawler to a real organisation file.
        let organisation = reqwest::get(line.split(" = ").nth(1).unwrap()).await.unwrap().text().await.unwrap();
        assert!(organisation.contains("file.class = Organization"), "{organisation}");
    }
    assert!(!federation.contains(x.state.urls.chatonsinfos_organization().as_str()), "{federation}");

    // A member removed from the roster leaves every page.
    k.state
        .db
        .write({
            let id = a.actor_url().to_string();
            move |c| roster::delete_member(c, &id)
        })
        .await
        .unwrap();
    let (_, _, fr) = Browser::new(&k, "fr").get("/collective").await;
    assert!(!fr.contains("Nextcloud inaccessible") && fr.contains("Mise à jour de Jitsi"));
    let (_, body) = get(&k, "/collective/feed.atom").await;
    assert!(!body.contains("Assemblée générale d’Alpha"));
    let (_, body) = get(&k, "/chatonsinfos/federation.properties").await;
    assert!(!body.contains(a.state.urls.chatonsinfos_organization().as_str()), "{body}");
}

#[actix_rt::test]
async fn without_the_collective_role_its_pages_and_filters_are_not_found() {
    let app = host("Chaton Seul").await;
    for path in [
        "/collective",
        "/collective/members",
        "/collective/labels",
        "/collective/feed.atom",
        "/collective/feed.rss",
        "/collective/maintenance.ics",
        "/timeline?members=true",
        "/directory?members=true",
        "/api/v1/timeline?members=true",
        "/api/v1/directory?members=true",
        "/timeline.atom?members=true",
        "/chatonsinfos/federation.properties",
    ] {
        let (status, body) = get(&app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (_, body) = get(&app, "/api/v1/timeline?members=true").await;
    assert!(body.contains("the collective role is off on this instance"), "{body}");
    let (_, _, page) = Browser::new(&app, "fr").get("/timeline").await;
    assert!(!page.contains("/collective") && !page.contains("Membres du collectif seulement"), "{page}");
    let (status, _) = get(&app, "/timeline?members=false").await;
    assert_eq!(status, StatusCode::OK);
}
