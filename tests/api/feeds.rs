//! Feeds for readers, fetched over HTTP and read back with real parsers: Atom and RSS (feed-rs),
//! the maintenance calendar (the icalendar crate's parser), the OPML of peers (roxmltree).

use crate::helpers::{spawn_app_with, spawn_app_with_clock, test_clock, TestApp};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use icalendar::{CalendarDateTime, Component, DatePerhapsTime, EventLike};
use ronron::{
    app::bulletins as publish,
    bulletin::{
        forms::{ChangeFields, PostFields},
        ServiceDraft,
    },
    db::models::bulletins::Bulletin,
};

const TRICKY_TITLE: &str = "<script>alert(\"x\")</script> & 'quotes' \"here\"";

async fn add_nextcloud(app: &TestApp) {
    ronron::app::catalogue::add(
        &app.state,
        ServiceDraft {
            slug: "nextcloud".into(),
            name: "Nextcloud".into(),
            software: "Nextcloud".into(),
            url: "https://cloud.chaton.example".into(),
            registration: "open".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

fn post(title: &str, body: &str) -> PostFields {
    PostFields { title: title.into(), body: body.into(), ..Default::default() }
}

async fn publish_post(app: &TestApp, fields: PostFields) -> Bulletin {
    let draft = fields.draft(app.state.config.timezone()).unwrap();
    publish::publish_post(&app.state, draft).await.unwrap()
}

async fn publish_change(app: &TestApp, fields: PostFields, change: ChangeFields) -> Bulletin {
    let tz = app.state.config.timezone();
    publish::publish_change(&app.state, fields.draft(tz).unwrap(), change.draft(tz).unwrap()).await.unwrap()
}

fn maintenance(start: NaiveDateTime, end: NaiveDateTime) -> ChangeFields {
    let rfc3339 = |at: NaiveDateTime| at.and_utc().to_rfc3339();
    ChangeFields {
        change_type: "maintenance".into(),
        services: vec!["nextcloud".into()],
        start: Some(rfc3339(start)),
        end: Some(rfc3339(end)),
        ..Default::default()
    }
}

fn incident() -> ChangeFields {
    ChangeFields {
        change_type: "incident".into(),
        services: vec!["nextcloud".into()],
        impact: Some("major".into()),
        ..Default::default()
    }
}

struct Fetched {
    status: u16,
    content_type: String,
    cache_control: String,
    cors: String,
    body: String,
}

async fn fetch(app: &TestApp, path: &str) -> Fetched {
    let response = reqwest::get(format!("{}{path}", app.base())).await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let (content_type, cache_control, cors) =
        (header("content-type"), header("cache-control"), header("access-control-allow-origin"));
    Fetched {
        status: response.status().as_u16(),
        content_type,
        cache_control,
        cors,
        body: response.text().await.unwrap(),
    }
}

/// Fetches a feed, checks its headers, and parses it with feed-rs.
async fn feed(app: &TestApp, path: &str, mime: &str) -> feed_rs::model::Feed {
    let fetched = fetch(app, path).await;
    assert_eq!(fetched.status, 200, "{path}: {}", fetched.body);
    assert_eq!(fetched.content_type, format!("{mime}; charset=utf-8"), "{path}");
    assert_eq!(fetched.cache_control, "public, max-age=300", "{path}");
    assert_eq!(fetched.cors, "*", "{path}");
    assert!(!fetched.body.contains("<script>"), "{path}: markup in titles and content is escaped");
    feed_rs::parser::parse(fetched.body.as_bytes()).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
}

fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.title.as_ref().expect("every entry has a title").content.clone()).collect()
}

fn terms(entry: &feed_rs::model::Entry) -> Vec<String> {
    entry.categories.iter().map(|c| c.term.clone()).collect()
}

async fn json_error(app: &TestApp, path: &str) -> String {
    let fetched = fetch(app, path).await;
    assert_eq!(fetched.status, 400, "{path}: {}", fetched.body);
    let body: serde_json::Value = serde_json::from_str(&fetched.body).unwrap();
    body["error"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_hosts_bulletins_as_atom_and_rss_all_per_kind_and_per_service() {
    let clock = test_clock();
    let app = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    add_nextcloud(&app).await;
    let news = publish_post(&app, post(TRICKY_TITLE, "Du **gras** & <b>pas de balise</b>")).await;
    clock.advance(Duration::minutes(1));
    let now = clock.now();
    let window = publish_change(
        &app,
        post("Mise à jour de Nextcloud", "Passage en version 30."),
        maintenance(now + Duration::days(2), now + Duration::days(2) + Duration::hours(1)),
    )
    .await;
    clock.advance(Duration::minutes(1));
    let outage = publish_change(&app, post("Panne de Nextcloud", ""), incident()).await;
    let url = |b: &Bulletin| app.state.urls.bulletin(&b.id).to_string();
    let newest_first = ["Panne de Nextcloud", "Mise à jour de Nextcloud", TRICKY_TITLE];

    for (path, mime) in
        [("/u/bulletin/feed.atom", "application/atom+xml"), ("/u/bulletin/feed.rss", "application/rss+xml")]
    {
        let all = feed(&app, path, mime).await;
        assert_eq!(titles(&all), newest_first, "{path}: newest first, the title read back as text");
        for (entry, b) in all.entries.iter().zip([&outage, &window, &news]) {
            assert_eq!(entry.id, url(b), "{path}");
            assert_eq!(entry.links[0].href, url(b), "{path}");
            assert_eq!(entry.published.unwrap().naive_utc(), b.published_at.and_utc().naive_utc(), "{path}");
        }
        assert_eq!(
            all.entries[2].published.unwrap(),
            DateTime::<Utc>::from_naive_utc_and_offset(clock.now() - Duration::minutes(2), Utc)
        );
        let body = match path.ends_with("atom") {
            true => all.entries[2].content.as_ref().unwrap().body.clone().unwrap(),
            false => all.entries[2].summary.as_ref().unwrap().content.clone(),
        };
        assert!(body.contains("<strong>gras</strong>"), "{path}: the HTML comes through: {body}");
        assert!(body.contains("&lt;b&gt;pas de balise&lt;/b&gt;"), "{path}: raw HTML stays text: {body}");
        assert!(body.contains("&lt;script&gt;"), "{path}: the title inside the content is escaped: {body}");
        assert_eq!(terms(&all.entries[1]), ["maintenance", "nextcloud"], "{path}: hashtags as categories");
        assert_eq!(terms(&all.entries[0]), ["incident", "nextcloud"], "{path}");

        let changes = feed(&app, &format!("{path}?kind=service_change"), mime).await;
        assert_eq!(titles(&changes), newest_first[..2], "{path}: per kind");
        let news_only = feed(&app, &format!("{path}?kind=news"), mime).await;
        assert_eq!(titles(&news_only), [TRICKY_TITLE], "{path}: per kind");
        let nextcloud = feed(&app, &format!("{path}?service=nextcloud"), mime).await;
        assert_eq!(titles(&nextcloud), newest_first[..2], "{path}: per service");
        assert!(feed(&app, &format!("{path}?service=peertube"), mime).await.entries.is_empty(), "{path}");

        let error = json_error(&app, &format!("{path}?kind=gossip")).await;
        assert!(error.starts_with("kind:") && error.contains("news, service_change, label_update"), "{error}");
        assert_eq!(fetch(&app, &path.replace("bulletin", "nobody")).await.status, 404);
    }

    // RSS details feed-rs does not show: permalink guids, Dublin Core authors, the self link.
    let rss = fetch(&app, "/u/bulletin/feed.rss?kind=service_change").await.body;
    let doc = roxmltree::Document::parse(&rss).unwrap();
    let atom = "http://www.w3.org/2005/Atom";
    let self_link = doc.descendants().find(|n| n.has_tag_name((atom, "link"))).expect("atom:link");
    assert_eq!(self_link.attribute("rel"), Some("self"));
    assert_eq!(
        self_link.attribute("href"),
        Some(format!("{}/u/bulletin/feed.rss?kind=service_change", app.base()).as_str())
    );
    let guid = doc.descendants().find(|n| n.has_tag_name("guid")).unwrap();
    assert_eq!(guid.text(), Some(url(&outage).as_str()));
    assert_ne!(guid.attribute("isPermaLink"), Some("false"), "a permalink (RSS's default)");
    let creator = doc.descendants().find(|n| n.has_tag_name(("http://purl.org/dc/elements/1.1/", "creator"))).unwrap();
    assert_eq!(creator.text(), Some("Bulletin"));
    let pub_date = doc.descendants().find(|n| n.has_tag_name("pubDate")).unwrap().text().unwrap();
    assert_eq!(DateTime::parse_from_rfc2822(pub_date).unwrap().naive_utc(), outage.published_at);
    let atom_feed = fetch(&app, "/u/bulletin/feed.atom?service=nextcloud").await.body;
    let atom_doc = roxmltree::Document::parse(&atom_feed).unwrap();
    let self_link =
        atom_doc.descendants().find(|n| n.has_tag_name((atom, "link")) && n.attribute("rel") == Some("self"));
    assert_eq!(
        self_link.unwrap().attribute("href"),
        Some(format!("{}/u/bulletin/feed.atom?service=nextcloud", app.base()).as_str())
    );
}

fn utc(at: &DatePerhapsTime) -> NaiveDateTime {
    match at {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(at)) => at.naive_utc(),
        other => panic!("not a UTC time: {other:?}"),
    }
}

#[tokio::test]
async fn maintenance_windows_as_an_icalendar_file() {
    let clock = test_clock();
    let app = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    add_nextcloud(&app).await;
    let steps = || async {
        let mut total = 0;
        loop {
            match app.run_scheduled().await {
                0 => return total,
                n => total += n,
            }
        }
    };
    // A window over for more than 90 days is no longer listed.
    let now = clock.now();
    let old = publish_change(
        &app,
        post("Vieille maintenance", ""),
        maintenance(now + Duration::hours(1), now + Duration::hours(2)),
    )
    .await;
    clock.advance(Duration::minutes(90));
    assert_eq!(steps().await, 1, "opened");
    clock.advance(Duration::minutes(90));
    assert_eq!(steps().await, 1, "closed");
    clock.advance(Duration::days(90));
    // A window over recently.
    let now = clock.now();
    let done = publish_change(
        &app,
        post("Maintenance finie", ""),
        maintenance(now + Duration::hours(1), now + Duration::hours(2)),
    )
    .await;
    clock.advance(Duration::minutes(90));
    assert_eq!(steps().await, 1);
    clock.advance(Duration::minutes(90));
    assert_eq!(steps().await, 1);
    // One to come, with text that needs escaping and a body long enough to be folded.
    let now = clock.now();
    let (start, end) = (now + Duration::days(2), now + Duration::days(2) + Duration::minutes(90));
    let title = "Mise à jour, base; données \\ Nextcloud";
    let body = "Première ligne.\n\nLe service sera coupé pendant la migration des données vers le nouveau serveur, \
                ainsi que la base; prévoyez-le, s'il vous plaît.";
    let upcoming = publish_change(&app, post(title, body), maintenance(start, end)).await;
    // One cancelled: listed as cancelled, and its SEQUENCE counts the Update that cancelled it.
    let cancelled = publish_change(
        &app,
        post("Annulée", ""),
        maintenance(now + Duration::days(3), now + Duration::days(3) + Duration::hours(1)),
    )
    .await;
    publish::cancel(&app.state, &cancelled.id).await.unwrap();
    // An incident has no window.
    publish_change(&app, post("Panne", ""), incident()).await;

    let fetched = fetch(&app, "/u/bulletin/maintenance.ics").await;
    assert_eq!(fetched.status, 200, "{}", fetched.body);
    assert_eq!(fetched.content_type, "text/calendar; charset=utf-8");
    assert_eq!((fetched.cache_control.as_str(), fetched.cors.as_str()), ("public, max-age=300", "*"));
    let text = fetched.body;
    assert!(text.ends_with("END:VCALENDAR\r\n"), "{text}");
    for line in text.split_terminator("\r\n") {
        assert!(line.len() <= 75, "folded at 75 octets: {line:?}");
        assert!(!line.contains('\n'), "lines end with CRLF: {line:?}");
    }
    let calendar: icalendar::Calendar = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(calendar.get_name(), Some("Bulletin — maintenances"), "the host's first language");
    let events: Vec<&icalendar::Event> = calendar.events().collect();
    let url = |b: &Bulletin| app.state.urls.bulletin(&b.id).to_string();
    let uids: Vec<&str> = events.iter().map(|e| e.get_uid().unwrap()).collect();
    assert_eq!(uids, [url(&done), url(&upcoming), url(&cancelled)], "not {} nor the incident", url(&old));

    let finished = events[0];
    assert_eq!(finished.get_status(), Some(icalendar::EventStatus::Confirmed));
    assert_eq!(finished.get_sequence(), Some(2), "opened and closed: two Updates");
    let coming = events[1];
    assert_eq!(coming.get_summary(), Some(title), "escaped and read back");
    assert_eq!(utc(&coming.get_start().unwrap()), start);
    assert_eq!(utc(&coming.get_end().unwrap()), end);
    assert_eq!(coming.get_url(), Some(url(&upcoming).as_str()));
    assert_eq!(coming.get_sequence(), Some(0));
    assert_eq!(coming.get_timestamp().unwrap().naive_utc(), upcoming.published_at);
    assert_eq!(coming.get_categories(), Some(vec!["Nextcloud".to_string()]));
    let description = coming.get_description().unwrap();
    assert!(description.starts_with("Première ligne.\n\nLe service sera coupé"), "{description:?}");
    assert!(description.contains("la base; prévoyez-le, s'il vous plaît."), "{description:?}");
    let gone = events[2];
    assert_eq!(gone.get_status(), Some(icalendar::EventStatus::Cancelled));
    assert_eq!(gone.get_sequence(), Some(1));

    assert_eq!(fetch(&app, "/u/nobody/maintenance.ics").await.status, 404);
}

#[tokio::test]
async fn the_timeline_feeds_carry_the_peers_posts_and_the_opml_lists_the_peers() {
    let a = spawn_app_with(0, |c| c.account.display_name = "Chaton A".into()).await;
    let b = spawn_app_with(0, |c| c.account.display_name = "Chaton B & fils".into()).await;
    a.follow(&b).await;
    let ours = publish_post(&a, post("Chez A", "Notre nouvelle.")).await;
    let theirs = publish_post(&b, post("Chez B <b>gras</b>", "Leur nouvelle, un peu plus longue.")).await;
    assert_eq!(b.drain().await, 1);
    let their_url = b.state.urls.bulletin(&theirs.id).to_string();

    for (path, mime) in [("/timeline.atom", "application/atom+xml"), ("/timeline.rss", "application/rss+xml")] {
        let all = feed(&a, path, mime).await;
        assert_eq!(titles(&all), ["Chez B <b>gras</b>", "Chez A"], "{path}: newest first");
        let peer_entry = &all.entries[0];
        assert_eq!(peer_entry.id, their_url, "{path}");
        assert_eq!(peer_entry.links[0].href, their_url, "{path}");
        assert_eq!(peer_entry.authors[0].name.as_deref(), Some("Chaton B & fils"), "{path}: the peer's name");
        assert_eq!(all.entries[1].authors[0].name.as_deref(), Some("Chaton A"), "{path}");
        assert_eq!(all.entries[1].id, a.state.urls.bulletin(&ours.id).to_string());

        let peer = feed(&a, &format!("{path}?peer=localhost:{}", b.port), mime).await;
        assert_eq!(titles(&peer), ["Chez B <b>gras</b>"], "{path}: per peer");
        assert!(feed(&a, &format!("{path}?kind=service_change"), mime).await.entries.is_empty(), "{path}");
        assert!(feed(&a, &format!("{path}?since=2000-01-01&until=2000-01-02"), mime).await.entries.is_empty());
        assert_eq!(titles(&feed(&a, &format!("{path}?lang=fr&limit=1"), mime).await).len(), 1);
        // The same values and errors as GET /api/v1/timeline.
        assert!(json_error(&a, &format!("{path}?kind=gossip")).await.contains("`kind` must be one of"));
        assert!(json_error(&a, &format!("{path}?impact=huge")).await.contains("`impact` must be one of"));
        assert!(json_error(&a, &format!("{path}?since=yesterday")).await.contains("`since` must be a date"));
        assert!(json_error(&a, &format!("{path}?limit=0")).await.contains("`limit`"));
    }
    let rss = fetch(&a, "/timeline.rss?lang=fr").await.body;
    let doc = roxmltree::Document::parse(&rss).unwrap();
    let self_link = doc.descendants().find(|n| n.has_tag_name(("http://www.w3.org/2005/Atom", "link"))).unwrap();
    assert_eq!(self_link.attribute("href"), Some(format!("{}/timeline.rss?lang=fr", a.base()).as_str()));

    // The OPML of the peers A follows points at B's Atom feed.
    let fetched = fetch(&a, "/following.opml").await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.content_type, "text/x-opml; charset=utf-8");
    assert_eq!((fetched.cache_control.as_str(), fetched.cors.as_str()), ("public, max-age=300", "*"));
    let doc = roxmltree::Document::parse(&fetched.body).unwrap();
    assert_eq!(doc.root_element().attribute("version"), Some("2.0"));
    let outlines: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("outline")).collect();
    assert_eq!(outlines.len(), 1);
    assert_eq!(outlines[0].attribute("type"), Some("rss"));
    assert_eq!(outlines[0].attribute("text"), Some("Chaton B & fils"));
    assert_eq!(outlines[0].attribute("xmlUrl"), Some(format!("{}/u/bulletin/feed.atom", b.base()).as_str()));
    assert_eq!(outlines[0].attribute("htmlUrl"), Some(b.actor_url().as_str()));
    let empty = roxmltree::Document::parse(&fetch(&b, "/following.opml").await.body)
        .unwrap()
        .descendants()
        .filter(|n| n.has_tag_name("outline"))
        .count();
    assert_eq!(empty, 0, "B follows no one");
}
