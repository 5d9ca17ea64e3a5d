//! The collective role's remaining gaps (issue 10): the Group's activities at their ids, a member
//! leaving by itself (and one removed) seen from both sides, the role turned off under queued
//! Group deliveries. Real instances on loopback, real signatures.

use crate::{
    collective::{add, has_post, news, send_signed, sent_to, spawn_collective},
    golden::{check_golden, fetch, normalise},
    helpers::{spawn_app, spawn_app_with_clock, spawn_fresh_on, test_clock, TestApp},
    pages::{hidden, Browser},
};
use reqwest::StatusCode;
use ronron::{
    app::{admins, archive, bulletins as publish, collective},
    config::CollectiveConfig,
    db::models::{activities as queue, collective as roster, remote, states::DeliveryState},
    federation::collective::MEMBER_GONE,
    jobs::delivery::ACTOR_GONE,
};
use serde_json::Value;

async fn get_json(url: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new().get(url).header("accept", "application/activity+json").send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `f` follows `k`'s Group, and is accepted.
async fn follow_group(k: &TestApp, f: &TestApp) {
    ronron::app::peers::follow(&f.state, &f.data(), &k.state.urls.group_actor()).await.unwrap();
    f.drain().await;
    k.drain().await;
}

/// `m` asks to join `k`'s Group, and `k`'s admin approves it; both queues drained.
async fn join_and_approve(k: &TestApp, m: &TestApp) {
    collective::join(&m.state, &m.data(), k.state.urls.group_actor().as_str()).await.unwrap();
    m.drain().await; // its Follow of the Group and its Join
    k.drain().await; // the Group's Accept of the Follow
    collective::add_member(&k.state, &k.data(), m.actor_url().as_str()).await.unwrap();
    k.drain().await; // Accept{Join} and the host account's Follow of m
    m.drain().await; // m's Accept of that Follow
    let joins = collective::join_requests(&m.state).await.unwrap();
    assert_eq!(joins[0].state, roster::JoinState::Accepted);
}

/// The deliveries `k` queued of the activities of `kind` about `object`.
async fn deliveries_of(k: &TestApp, kind: &str, object: &str) -> Vec<queue::Delivery> {
    let (kind, object) = (kind.to_string(), object.to_string());
    k.state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for d in queue::list_deliveries(c)? {
                let a = queue::find_activity(c, &d.activity_id)?.expect("stored");
                if a.kind == kind && a.object_id == object {
                    out.push(d);
                }
            }
            Ok(out)
        })
        .await
        .unwrap()
}

/// The ids of the activities `k` stored of `kind` whose actor is `actor`.
async fn activity_ids(k: &TestApp, kind: &str, actor: &str) -> Vec<String> {
    let (kind, actor) = (kind.to_string(), actor.to_string());
    k.state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for d in queue::list_deliveries(c)? {
                let a = queue::find_activity(c, &d.activity_id)?.expect("stored");
                let json: Value = serde_json::from_str(&a.json).unwrap();
                if a.kind == kind && json["actor"] == actor.as_str() && !out.contains(&a.id) {
                    out.push(a.id);
                }
            }
            Ok(out)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn the_groups_announce_and_its_undo_resolve_at_their_ids() {
    let k = spawn_collective(|_| {}).await;
    let (a, f) = (spawn_app().await, spawn_app().await);
    add(&k, &a).await;
    follow_group(&k, &f).await;
    let group = k.state.urls.group_actor().to_string();

    let bulletin = publish::publish_news(&a.state, news("Coupure réseau")).await.unwrap();
    let note = a.state.urls.bulletin(&bulletin.id).to_string();
    a.drain().await;
    k.drain().await;
    let sent = sent_to(&k, f.state.urls.shared_inbox().as_str()).await;
    let announce = &sent.iter().find(|(kind, _, _)| kind == "Announce").expect("an Announce to F").1;
    let announce_id = announce["id"].as_str().unwrap().to_string();
    let (status, doc) = get_json(&announce_id).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["type"], "Announce");
    assert_eq!(doc["actor"], group.as_str());
    assert_eq!(doc["object"], note.as_str());
    assert_eq!(&doc, announce, "the same document as was delivered");

    // A deletes it: the Group's Undo resolves, and the Announce answers 410 with a Tombstone.
    publish::delete_bulletin(&a.state, &bulletin.id).await.unwrap();
    a.drain().await;
    k.drain().await;
    let undo_id = activity_ids(&k, "Undo", &group).await.pop().expect("the Group's Undo");
    let (status, undo) = get_json(&undo_id).await;
    assert_eq!(status, StatusCode::OK, "{undo}");
    assert_eq!(undo["object"]["type"], "Announce");
    assert_eq!(undo["object"]["id"], announce_id.as_str());
    let (status, gone) = get_json(&announce_id).await;
    assert_eq!(status, StatusCode::GONE, "{gone}");
    assert_eq!(gone["type"], "Tombstone");
    assert_eq!(gone["formerType"], "Announce");
    assert_eq!(gone["id"], announce_id.as_str());
    assert!(gone["deleted"].is_string(), "{gone}");

    // Direct activities stay private: the Group's Accept of F's Follow, and the host account's
    // Undo{Follow} of A once A is off the roster.
    let accept = activity_ids(&k, "Accept", &group).await.pop().expect("the Group's Accept");
    assert_eq!(get_json(&accept).await.0, StatusCode::NOT_FOUND);
    collective::remove_member(&k.state, a.actor_url().as_str()).await.unwrap();
    let unfollow = activity_ids(&k, "Undo", k.actor_url().as_str()).await.pop().expect("the host's Undo{Follow}");
    assert_eq!(get_json(&unfollow).await.0, StatusCode::NOT_FOUND);

    // The role turned off: nothing of the Group is served any more.
    let _k = k.stop().await.restart_with(0, |_| {}).await;
    assert_eq!(get_json(&undo_id).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get_json(&announce_id).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_member_leaves_by_itself_and_a_removed_member_is_told_both_sides_show_it() {
    let k = spawn_collective(|_| {}).await;
    let (c, d, e, f) = (spawn_app().await, spawn_app().await, spawn_app().await, spawn_app().await);
    for member in [&c, &d, &e] {
        join_and_approve(&k, member).await;
    }
    follow_group(&k, &f).await;
    let group = k.state.urls.group_actor().to_string();

    // C posts; K queues the Group's Announce to F, and C leaves before it is sent, from its web
    // admin's Leave button.
    let bulletin = publish::publish_news(&c.state, news("Dernier bulletin")).await.unwrap();
    let note = c.state.urls.bulletin(&bulletin.id).to_string();
    c.drain().await;
    assert!(has_post(&k, &note).await);
    let to_f = |all: Vec<queue::Delivery>| {
        all.into_iter().filter(|d| d.inbox == f.state.urls.shared_inbox().as_str()).collect::<Vec<_>>()
    };
    assert_eq!(to_f(deliveries_of(&k, "Announce", &note).await).len(), 1, "queued to F");
    admins::create_admin(&c.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&c, "fr");
    browser.login("camille", "correct horse battery").await;
    let (status, _, page) = browser.get("/admin/members").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/admin/members/leave\""), "{page}");
    assert!(page.contains(">Quitter</button>"), "{page}");
    assert!(page.contains(">membre</td>"), "{page}");
    let csrf = hidden(&page, "csrf");
    let (status, headers, page) =
        browser.post("/admin/members/leave", &[("csrf", ""), ("target", group.as_str())]).await;
    assert_ne!(status, StatusCode::SEE_OTHER, "refused without its CSRF token: {page}");
    assert_eq!(collective::join_requests(&c.state).await.unwrap()[0].state, roster::JoinState::Accepted);
    let (status, headers2, page) =
        browser.post("/admin/members/leave", &[("csrf", &csrf), ("target", group.as_str())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page} {headers:?}");
    assert!(headers2["location"].to_str().unwrap().ends_with("/admin/members?done=left"), "{headers2:?}");
    let (_, _, page) = browser.get("/admin/members?done=left").await;
    assert!(page.contains("Vous avez quitté le collectif"), "{page}");
    assert!(page.contains(">vous l’avez quitté</td>"), "{page}");
    assert!(!page.contains(">Quitter</button>"), "no Leave button once left: {page}");

    // C's Undo{Join} (its Join embedded) and Undo{Follow} reach the Group.
    let sent = sent_to(&c, k.state.urls.shared_inbox().as_str()).await;
    let sent: Vec<_> = sent.into_iter().chain(sent_to(&c, k.state.urls.group_inbox().as_str()).await).collect();
    let undos: Vec<&Value> = sent.iter().filter(|(kind, _, _)| kind == "Undo").map(|(_, json, _)| json).collect();
    assert!(
        undos.iter().any(|u| u["object"]["type"] == "Join" && u["object"]["object"] == group.as_str()),
        "{undos:?}"
    );
    assert!(
        undos.iter().any(|u| u["object"]["type"] == "Follow" && u["object"]["object"] == group.as_str()),
        "{undos:?}"
    );
    assert_eq!(c.drain().await, 2, "both sent");
    let c_actor = c.actor_url().to_string();

    // K drops it as a removal does: off the roster, its queued re-share given up, the host
    // account unfollows it; it no longer follows the Group.
    assert!(collective::find_member(&k.state, &c_actor).await.unwrap().is_none());
    let announce = to_f(deliveries_of(&k, "Announce", &note).await);
    assert_eq!(announce[0].status, DeliveryState::Failed);
    assert_eq!(announce[0].last_error.as_deref(), Some(MEMBER_GONE));
    let id = c_actor.clone();
    assert!(k.state.db.read(move |x| remote::find_following(x, &id)).await.unwrap().is_none());
    let followers = collective::followers(&k.state, None).await.unwrap();
    assert!(followers.iter().all(|x| x.follower.actor_id != c_actor), "{followers:?}");
    assert_eq!(deliveries_of(&k, "Undo", &c_actor).await.len(), 1, "the host account's Undo{{Follow}} of C");
    k.drain().await;
    assert!(!has_post(&f, &note).await, "F never got it");

    // Leaving twice is refused, precisely.
    let again = collective::leave(&c.state, &group).await.unwrap_err();
    assert!(again.to_string().contains("already left"), "{again}");

    // D leaves through the admin API, by the Group's handle.
    let (_, secret) = ronron::app::tokens::create(&d.state, "tests").await.unwrap();
    let api = format!("{}/api/v1/admin/collective/joins", d.base());
    let http = reqwest::Client::new();
    let missing = http.delete(&api).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let unknown =
        http.delete(format!("{api}?collective=%40nobody%40elsewhere.example")).bearer_auth(&secret).send().await;
    assert_eq!(unknown.unwrap().status(), StatusCode::NOT_FOUND);
    let handle = format!("@collectif@localhost:{}", k.port);
    let query: String =
        url::form_urlencoded::Serializer::new(String::new()).append_pair("collective", &handle).finish();
    let left = http.delete(format!("{api}?{query}")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(left.status(), StatusCode::OK);
    let left: Value = left.json().await.unwrap();
    assert_eq!(left["state"], "left", "{left}");
    d.drain().await;
    assert!(collective::find_member(&k.state, d.actor_url().as_str()).await.unwrap().is_none());
    let listed: Value = http.get(&api).bearer_auth(&secret).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["joins"][0]["state"], "left", "{listed}");

    // E is removed by K's admin: its Reject after the Accept shows as removed on E's side.
    collective::remove_member(&k.state, e.actor_url().as_str()).await.unwrap();
    k.drain().await;
    assert_eq!(collective::join_requests(&e.state).await.unwrap()[0].state, roster::JoinState::Removed);
    let mut browser = Browser::new(&e, "en");
    admins::create_admin(&e.state, "sam", "correct horse battery").await.unwrap();
    browser.login("sam", "correct horse battery").await;
    let (_, _, page) = browser.get("/admin/members").await;
    assert!(page.contains(">taken off the roster</td>"), "{page}");

    // K's roster page shows none of the three.
    assert!(collective::list_members(&k.state, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn group_deliveries_queued_when_the_role_is_turned_off_are_given_up_never_signed_by_another_key() {
    // A Group under a name of its own: with the section gone, nothing says what its name was.
    let k = spawn_collective(|c| c.account = "reseau".into()).await;
    let (a, f) = (spawn_app().await, spawn_app().await);
    add(&k, &a).await;
    follow_group(&k, &f).await;
    let bulletin = publish::publish_news(&a.state, news("Avant l’arrêt")).await.unwrap();
    let note = a.state.urls.bulletin(&bulletin.id).to_string();
    a.drain().await;
    assert_eq!(deliveries_of(&k, "Announce", &note).await[0].status, DeliveryState::Pending);

    // K restarts without its [collective] section, with the Announce still queued.
    let k = k.stop().await.restart_with(0, |_| {}).await;
    assert!(k.state.keys.group.is_none());
    let group = format!("{}/u/reseau", k.base());
    assert_eq!(get_json(&group).await.0, StatusCode::NOT_FOUND, "no Group");
    k.drain().await;
    let announce = deliveries_of(&k, "Announce", &note).await;
    assert_eq!(announce[0].status, DeliveryState::Failed);
    assert_eq!(announce[0].last_error.as_deref(), Some(ACTOR_GONE), "its name is unknown now, so the reason says both");
    assert_eq!(announce[0].attempts, 0, "never sent");
    assert_eq!(announce[0].locked_until, None, "its lease released");
    assert!(!has_post(&f, &note).await, "F got nothing, signed by no other key");
    let inbox = announce[0].inbox.clone();
    let health = k.state.db.read(queue::health).await.unwrap();
    assert!(health
        .iter()
        .filter(|h| h.inbox == inbox)
        .all(|h| h.consecutive_failures == 0 && h.last_failure_at.is_none()));
    assert_eq!(k.drain().await, 0, "nothing left to claim");
}

/// The Group's key as `f` cached it, and when it fetched the Group's actor.
async fn cached_group(f: &TestApp, k: &TestApp) -> (String, chrono::NaiveDateTime) {
    let id = k.state.urls.group_actor().to_string();
    let actor = f.state.db.read(move |c| remote::find_actor(c, &id)).await.unwrap().expect("the Group cached");
    (actor.public_key_pem, actor.fetched_at)
}

#[tokio::test]
async fn a_collective_moved_with_its_keys_keeps_its_groups_key_roster_and_followers() {
    let k = spawn_collective(|_| {}).await;
    let (a, f) = (spawn_app().await, spawn_app().await);
    add(&k, &a).await;
    follow_group(&k, &f).await;
    let first = publish::publish_news(&a.state, news("Avant le déménagement")).await.unwrap();
    a.drain().await;
    k.drain().await;
    assert!(has_post(&f, a.state.urls.bulletin(&first.id).as_str()).await);
    let cached = cached_group(&f, &k).await;
    let group_key = k.state.keys.group.as_ref().unwrap().public_key_pem.clone();
    assert_eq!(cached.0, group_key);

    let export = archive::export_all(&k.state, true).await.unwrap();
    assert_eq!(export.group_key.as_ref().map(|key| key.public_key_pem.as_str()), Some(group_key.as_str()));
    assert!(archive::export_all(&k.state, false).await.unwrap().group_key.is_none(), "only with --include-key");
    let text = serde_json::to_string(&export).unwrap();

    // The roster's states are checked on import, each with its row.
    let mut bad: Value = serde_json::from_str(&text).unwrap();
    bad["tables"]["collective_members"][0]["state"] = "banned".into();
    let reason = archive::parse(&bad.to_string()).unwrap_err().to_string();
    assert!(reason.contains("collective_members http") && reason.contains("`banned`"), "{reason}");
    let mut bad: Value = serde_json::from_str(&text).unwrap();
    bad["group_key"]["private_key_pem"] = "nope".into();
    assert!(archive::parse(&bad.to_string()).unwrap_err().to_string().contains("group_key.private_key_pem"));

    // A new machine on the same domain: import, then serve with the [collective] section.
    let port = k.port;
    let _old = k.stop().await;
    let fresh = spawn_fresh_on(port, 0).await;
    archive::import_all(&fresh.state, archive::parse(&text).unwrap()).await.unwrap();
    let moved = fresh.stop().await.restart_with(0, |c| c.collective = Some(CollectiveConfig::default())).await;
    assert_eq!(moved.state.keys.group.as_ref().unwrap().public_key_pem, group_key, "the same Group key");
    assert!(collective::is_member(&moved.state, a.actor_url().as_str()).await.unwrap(), "the roster");
    let followers = collective::followers(&moved.state, Some(false)).await.unwrap();
    assert_eq!(followers.len(), 1, "{followers:?}");
    assert_eq!(followers[0].follower.actor_id, f.actor_url().as_str());
    let (status, actor) = get_json(moved.state.urls.group_actor().as_str()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(actor["publicKey"]["publicKeyPem"], group_key.as_str());

    // A's next bulletin is re-shared by the moved Group, and F verifies it with the key it had.
    let second = publish::publish_news(&a.state, news("Après le déménagement")).await.unwrap();
    let note = a.state.urls.bulletin(&second.id).to_string();
    a.drain().await;
    moved.drain().await;
    let announce = deliveries_of(&moved, "Announce", &note).await;
    assert_eq!(announce.len(), 1);
    assert_eq!(announce[0].status, DeliveryState::Delivered, "{announce:?}");
    assert!(has_post(&f, &note).await);
    assert_eq!(cached_group(&f, &moved).await, cached, "F did not refetch the Group");
}

/// A collective's document as docs/FEDERATION.md shows it: K at `collective.example`, the other
/// instances at the names given, activity ids by name.
fn group_golden(k: &TestApp, value: &Value, others: &[(&TestApp, &str)], ids: &[(&str, &str)]) -> String {
    let mut text = value.to_string();
    for (app, name) in others {
        text = text.replace(&app.base(), &format!("https://{name}"));
    }
    let value: Value = serde_json::from_str(&text).unwrap();
    normalise(k, &value, ids).replace("chaton.example", "collective.example")
}

/// The last path segment of an activity id (its random part).
fn tail(id: &str) -> &str {
    id.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn the_groups_documents_match_their_documented_examples() {
    // One manual clock for the three: their signatures' dates agree.
    let clock = test_clock();
    let k = spawn_app_with_clock(0, clock.clone(), |c| {
        c.collective = Some(CollectiveConfig { relay: true, ..CollectiveConfig::default() })
    })
    .await;
    let a = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    let m = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    add(&k, &a).await;
    let members = [(&a, "membre.example"), (&m, "mastodon.example")];

    let actor = fetch(k.state.urls.group_actor().as_str()).await;
    assert_eq!(actor["type"], "Group");
    check_golden("group-actor", &group_golden(&k, &actor, &members, &[]));

    let bulletin = publish::publish_news(&a.state, news("Incident")).await.unwrap();
    a.drain().await;
    let note = a.state.urls.bulletin(&bulletin.id).to_string();
    let announce_id = latest(&k, &note, "Announce").await;
    let announce = fetch(&announce_id).await;
    assert_eq!(announce["object"], note.as_str());
    let ids = [(tail(&announce_id), "9c-announce"), (bulletin.id.as_str(), "incident-1")];
    check_golden("group-announce", &group_golden(&k, &announce, &members, &ids));

    clock.advance(chrono::Duration::hours(1));
    publish::delete_bulletin(&a.state, &bulletin.id).await.unwrap();
    a.drain().await;
    let undo_id = latest(&k, &announce_id, "Undo").await;
    let undo = fetch(&undo_id).await;
    let ids = [(tail(&undo_id), "4e-undo"), (tail(&announce_id), "9c-announce"), (bulletin.id.as_str(), "incident-1")];
    check_golden("group-undo-announce", &group_golden(&k, &undo, &members, &ids));

    // Mastodon's relay Follow, from its instance actor (an Application), and the Group's Accept.
    let follow = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/2f0e1c5a-relay-follow", m.base()),
        "type": "Follow",
        "actor": m.state.urls.instance_actor(),
        "object": "https://www.w3.org/ns/activitystreams#Public",
    });
    let inbox = k.state.urls.group_inbox().to_string();
    assert_eq!(send_signed(&m, &m.state.urls.instance_key_id(), &inbox, &follow, true).await, 202);
    let accept = sent_to(&k, m.state.urls.instance_inbox().as_str()).await.pop().expect("an answer").1;
    assert_eq!(accept["type"], "Accept");
    let ids = [(tail(accept["id"].as_str().unwrap()), "b7-accept")];
    check_golden("group-relay-accept", &group_golden(&k, &accept, &members, &ids));
}

/// The id of the latest activity of `kind` `k` stored about `object`.
async fn latest(k: &TestApp, object: &str, kind: &str) -> String {
    let (object, kind) = (object.to_string(), kind.to_string());
    let found = k.state.db.read(move |c| queue::latest_for_object(c, &object, &kind)).await.unwrap();
    found.expect("stored").id
}

/// A Mastodon server's instance actor on loopback, served from `tests/fixtures/mastodon/instance-actor.json`
/// (what glitch-soc's `InstanceActorsController` renders: `ActorSerializer` restricted to id, type,
/// preferredUsername, inbox, outbox, publicKey, endpoints, url, manuallyApprovesFollowers), and its
/// inboxes, which keep what they get.
struct MastodonInstance {
    base: String,
    key: ronron::federation::keys::SigningKey,
    received: std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
    _handle: actix_web::dev::ServerHandle,
}

impl MastodonInstance {
    async fn start() -> MastodonInstance {
        use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let generated = ronron::federation::keys::generate().unwrap();
        let doc = include_str!("../fixtures/mastodon/instance-actor.json")
            .replace("{BASE}", &base)
            .replace("{PEM}", &generated.public_key_pem.replace('\n', "\\n"));
        serde_json::from_str::<Value>(&doc).expect("the fixture is JSON");
        let received: std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>> = Default::default();
        let kept = received.clone();
        let server = HttpServer::new(move || {
            let (doc, kept) = (doc.clone(), kept.clone());
            App::new()
                    .route(
                        "/actor",
                        web::get().to(move || {
                            let doc = doc.clone();
                            async move {
                                HttpResponse::Ok().content_type("application/activity+json; charset=utf-8").body(doc)
                            }
                        }),
                    )
                    .default_service(web::post().to(move |req: HttpRequest, body: web::Bytes| {
                        let kept = kept.clone();
                        async move {
                            let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                            kept.lock().unwrap().push((req.path().to_string(), json));
                            HttpResponse::Accepted().finish()
                        }
                    }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let key = ronron::federation::keys::SigningKey::from_pem(&generated.private_key_pem).unwrap();
        MastodonInstance { base, key, received, _handle: handle }
    }

    fn actor(&self) -> String {
        format!("{}/actor", self.base)
    }

    /// POSTs `activity` to `inbox`, signed as Mastodon signs: with the instance actor's key.
    async fn send(&self, inbox: &str, activity: &Value) -> u16 {
        let inbox = url::Url::parse(inbox).unwrap();
        let body = serde_json::to_vec(activity).unwrap();
        let key_id = format!("{}#main-key", self.actor());
        let headers =
            ronron::federation::signatures::sign_post(&inbox, &body, &key_id, &self.key, std::time::SystemTime::now())
                .unwrap();
        let mut request = reqwest::Client::new().post(inbox).body(body);
        for (name, value) in &headers {
            if name != "host" {
                request = request.header(name, value);
            }
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        if status != 202 {
            eprintln!("{status}: {}", response.text().await.unwrap_or_default());
        }
        status
    }

    fn received_at(&self, path: &str) -> Vec<Value> {
        self.received.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, v)| v.clone()).collect()
    }
}

#[tokio::test]
async fn a_relay_follow_from_a_mastodon_instance_actor_is_accepted_and_gets_the_members_bulletins() {
    let k = spawn_collective(|c| c.relay = true).await;
    let a = spawn_app().await;
    add(&k, &a).await;
    let mastodon = MastodonInstance::start().await;

    // What Mastodon's `Relay#enable!` sends to the relay URL its admin typed (the Group's inbox).
    let follow = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/0b3c4d5e-6f70-4182-93a4-b5c6d7e8f901", mastodon.base),
        "type": "Follow",
        "actor": mastodon.actor(),
        "object": "https://www.w3.org/ns/activitystreams#Public",
    });
    assert_eq!(mastodon.send(k.state.urls.group_inbox().as_str(), &follow).await, 202);
    let relays = collective::followers(&k.state, Some(true)).await.unwrap();
    assert_eq!(relays.len(), 1, "{relays:?}");
    assert_eq!(relays[0].follower.actor_id, mastodon.actor());
    assert_eq!(relays[0].follower.delivery_inbox(), format!("{}/inbox", mastodon.base), "its shared inbox");
    k.drain().await;
    let answers = mastodon.received_at("/actor/inbox");
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["type"], "Accept");
    assert_eq!(answers[0]["actor"], k.state.urls.group_actor().as_str());
    assert_eq!(answers[0]["object"]["id"], follow["id"], "Mastodon's accept.rb finds the relay by this id");

    // A member's bulletin reaches it as the Group's Announce, the form Mastodon takes from a relay.
    let bulletin = publish::publish_news(&a.state, news("Relayé vers Mastodon")).await.unwrap();
    let note = a.state.urls.bulletin(&bulletin.id).to_string();
    a.drain().await;
    k.drain().await;
    let got = mastodon.received_at("/inbox");
    let announce = got.iter().find(|v| v["type"] == "Announce").unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(announce["actor"], k.state.urls.group_actor().as_str());
    assert_eq!(announce["object"], note.as_str());
    assert_eq!(announce["to"], serde_json::json!(["https://www.w3.org/ns/activitystreams#Public"]));
    let delivered = deliveries_of(&k, "Announce", &note).await;
    assert!(delivered.iter().any(|d| d.inbox.starts_with(&mastodon.base) && d.status == DeliveryState::Delivered));

    // Mastodon's `Relay#disable!`: Undo of that Follow ends the subscription.
    let undo = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/0b3c4d5e#undo", mastodon.base),
        "type": "Undo",
        "actor": mastodon.actor(),
        "object": {"id": follow["id"], "type": "Follow", "actor": mastodon.actor(), "object": "https://www.w3.org/ns/activitystreams#Public"},
    });
    assert_eq!(mastodon.send(k.state.urls.group_inbox().as_str(), &undo).await, 202);
    assert!(collective::followers(&k.state, Some(true)).await.unwrap().is_empty());
}

/// A server on loopback answering WebFinger and serving actors from what the test sets.
struct FingerServer {
    base: String,
    domain: String,
    fingers: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Value>>>,
    actors: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    _handle: actix_web::dev::ServerHandle,
}

impl FingerServer {
    async fn start() -> FingerServer {
        use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let domain = format!("localhost:{}", listener.local_addr().unwrap().port());
        let fingers: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Value>>> = Default::default();
        let actors: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>> = Default::default();
        let (f, a) = (fingers.clone(), actors.clone());
        let server = HttpServer::new(move || {
            let (f, a) = (f.clone(), a.clone());
            App::new()
                .route(
                    "/.well-known/webfinger",
                    web::get().to(move |query: web::Query<std::collections::HashMap<String, String>>| {
                        let jrd = query.get("resource").and_then(|r| f.lock().unwrap().get(r).cloned());
                        async move {
                            match jrd {
                                Some(jrd) => HttpResponse::Ok().content_type("application/jrd+json").json(jrd),
                                None => HttpResponse::NotFound().finish(),
                            }
                        }
                    }),
                )
                .default_service(web::get().to(move |req: HttpRequest| {
                    let doc = a.lock().unwrap().get(req.path()).cloned();
                    async move {
                        match doc {
                            Some(doc) => HttpResponse::Ok().content_type("application/activity+json").body(doc),
                            None => HttpResponse::NotFound().finish(),
                        }
                    }
                }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FingerServer { base: format!("http://{domain}"), domain, fingers, actors, _handle: handle }
    }

    /// WebFinger answers `acct:{handle}` with `subject` and a `self` link to `actor`.
    fn finger(&self, handle: &str, subject: &str, actor: &str) {
        let jrd = serde_json::json!({
            "subject": format!("acct:{subject}"),
            "links": [{"rel": "self", "type": "application/activity+json", "href": actor}],
        });
        self.fingers.lock().unwrap().insert(format!("acct:{handle}"), jrd);
    }

    /// Serves a Mastodon-shaped actor `/users/{name}`; returns its URL.
    fn actor(&self, name: &str) -> String {
        let pem = ronron::federation::keys::generate().unwrap().public_key_pem.replace('\n', "\\n");
        let doc = include_str!("../fixtures/mastodon/actor.json")
            .replace("{BASE}", &self.base)
            .replace("{NAME}", name)
            .replace("{PEM}", &pem);
        self.actors.lock().unwrap().insert(format!("/users/{name}"), doc);
        format!("{}/users/{name}", self.base)
    }
}

#[tokio::test]
async fn a_webfinger_answer_naming_an_actor_that_does_not_answer_to_the_handle_is_refused() {
    let (c, a) = (spawn_app().await, spawn_app().await);
    let (web, server) = (FingerServer::start().await, FingerServer::start().await);
    let resolve = |handle: String| {
        let data = c.data();
        async move { ronron::federation::actors::resolve(&data, &handle).await }
    };

    // A WebFinger server naming another server's actor (A's host account) for a handle of its own.
    web.finger(&format!("impostor@{}", web.domain), &format!("impostor@{}", web.domain), a.actor_url().as_str());
    let refused = resolve(format!("@impostor@{}", web.domain)).await.unwrap_err().to_string();
    assert!(refused.contains("does not answer to that handle"), "{refused}");
    assert!(refused.contains(&format!("bulletin@localhost:{}", a.port)), "names its real handle: {refused}");
    // The same through a use-case: the field at fault is named, nothing is followed.
    let err = collective::join(&c.state, &c.data(), &format!("@impostor@{}", web.domain)).await.unwrap_err();
    assert_eq!(err.field(), Some("handle"), "{err}");
    let id = a.actor_url().to_string();
    assert!(c.state.db.read(move |x| remote::find_following(x, &id)).await.unwrap().is_none());

    // An account whose handle is on another domain than its server: the server's own WebFinger
    // names the same actor with the typed handle as subject, so it answers to it.
    let alias = format!("alice@{}", web.domain);
    let alice = server.actor("alice");
    web.finger(&alias, &alias, &alice);
    server.finger(&format!("alice@{}", server.domain), &alias, &alice);
    assert_eq!(resolve(format!("@{alias}")).await.unwrap().id, alice);
    // Its server knowing it only by its own handle: the alias is refused.
    let bob = server.actor("bob");
    let bob_alias = format!("bob@{}", web.domain);
    web.finger(&bob_alias, &bob_alias, &bob);
    server.finger(&format!("bob@{}", server.domain), &format!("bob@{}", server.domain), &bob);
    let refused = resolve(format!("@{bob_alias}")).await.unwrap_err().to_string();
    assert!(refused.contains("does not answer to that handle"), "{refused}");
    // Its own handle resolves as ever.
    assert_eq!(resolve(format!("@bob@{}", server.domain)).await.unwrap().id, bob);
}
