//! A host leaves with its data: export --all → a fresh instance on the same domain → import --all.

use crate::helpers::{spawn_app, spawn_fresh_on, TestApp};
use crate::pages::publish_sample;
use ronron::{
    app::{archive, bulletins::publish_news},
    bulletin::NewsDraft,
    db::models::{activities as queue, remote},
};
use serde_json::Value;

async fn get(app: &TestApp, path: &str, accept: &str) -> String {
    let response =
        reqwest::Client::new().get(format!("{}{path}", app.base())).header("accept", accept).send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.text().await.unwrap()
}

/// What a visitor and a peer see of the host.
async fn faces(app: &TestApp, bulletin: &str) -> Vec<(String, String)> {
    let outbox_page = app.state.urls.host_outbox_page(None);
    let outbox_page = format!("{}?{}", outbox_page.path(), outbox_page.query().unwrap_or_default());
    let bulletin_path = app.state.urls.bulletin(bulletin).path().to_string();
    let mut out = Vec::new();
    for (path, accept) in [
        ("/".to_string(), "text/html"),
        ("/status".to_string(), "text/html"),
        (bulletin_path.clone(), "text/html"),
        (bulletin_path, "application/activity+json"),
        (app.state.urls.host_outbox().path().to_string(), "application/activity+json"),
        (outbox_page, "application/activity+json"),
    ] {
        let body = get(app, &path, accept).await;
        out.push((format!("{path} ({accept})"), body));
    }
    out
}

fn assert_same(before: &[(String, String)], after: &[(String, String)]) {
    for ((what, one), (_, two)) in before.iter().zip(after) {
        assert_eq!(one, two, "{what} differs after the move");
    }
}

async fn cached_key_of(follower: &TestApp, of: &TestApp) -> String {
    let id = of.actor_url().to_string();
    follower.state.db.read(move |c| remote::find_actor(c, &id)).await.unwrap().expect("actor cached").public_key_pem
}

async fn delivered(app: &TestApp) -> (i64, i64, i64) {
    let count = |s: ronron::db::models::states::DeliveryState| async move {
        app.state.db.read(move |c| queue::count_by_status(c, s)).await.unwrap()
    };
    (count(queue::DELIVERED).await, count(queue::PENDING).await, count(queue::FAILED).await)
}

/// A with a follower B, a service, two bulletins (one translated), a grade; returns A, B and a
/// bulletin id.
async fn host_with_a_follower() -> (TestApp, TestApp, String) {
    let a = spawn_app().await;
    let b = spawn_app().await;
    b.follow(&a).await;
    let (news, _incident) = publish_sample(&a).await;
    ronron::app::label::set_grade(&a.state, "alternative.free-software", "met", Some("Tout est libre".into()), None)
        .await
        .unwrap();
    a.drain().await;
    (a, b, news)
}

async fn b_has(b: &TestApp, a: &TestApp, bulletin_id: &str) -> bool {
    let id = a.state.urls.bulletin(bulletin_id).to_string();
    b.state.db.read(move |c| remote::find_post(c, &id)).await.unwrap().is_some()
}

#[tokio::test]
async fn a_host_moved_with_its_key_shows_the_same_pages_and_outbox_and_its_follower_still_verifies_it() {
    let (a, b, news) = host_with_a_follower().await;
    let key = cached_key_of(&b, &a).await;
    let before = faces(&a, &news).await;
    let export = archive::export_all(&a.state, true).await.unwrap();
    let text = serde_json::to_string_pretty(&export).unwrap();
    assert!(text.contains("\"format\": \"ronron-export\"") && text.contains("\"version\": 1"));
    assert!(text.contains("PRIVATE KEY"));
    assert!(text.contains("\"host_ed25519_key\""), "the Ed25519 key goes with it");
    let multikey = crate::golden::fetch(a.state.urls.host_actor().as_str()).await["assertionMethod"].clone();
    assert!(!serde_json::to_string(&archive::export_all(&a.state, false).await.unwrap()).unwrap().contains("PRIVATE"));
    eprintln!("export with key: {} bytes, {} bulletins", text.len(), export.tables.bulletins.len());

    // A new machine: A stops, a fresh instance starts on the same domain and port.
    let port = a.port;
    let _old = a.stop().await;
    let moved = spawn_fresh_on(port, 0).await;
    let report = archive::import_all(&moved.state, archive::parse(&text).unwrap()).await.unwrap();
    assert!(report.key_kept && !report.update_queued, "{report:?}");
    assert_eq!((report.bulletins, report.followers, report.services), (export.tables.bulletins.len(), 1, 1));
    assert_same(&before, &faces(&moved, &news).await);
    let moved_actor = crate::golden::fetch(moved.state.urls.host_actor().as_str()).await;
    assert_eq!(moved_actor["assertionMethod"], multikey, "the same Ed25519 key");

    // The follower accepts what the moved host signs, with the key it had cached.
    let after = publish_news(
        &moved.state,
        NewsDraft { title: "From the new machine".into(), body_markdown: "x".into(), lang: None },
    )
    .await
    .unwrap();
    assert_eq!(moved.drain().await, 1, "one delivery to the follower");
    assert_eq!(delivered(&moved).await.0, 1);
    assert!(b_has(&b, &moved, &after.id).await, "B verified the signature and stored the post");
    assert_eq!(cached_key_of(&b, &moved).await, key, "the same key");

    // An Ed25519 key whose halves do not match is refused, naming the field.
    let mut wrong: Value = serde_json::from_str(&text).unwrap();
    wrong["host_ed25519_key"]["public_key_multibase"] = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2".into();
    let err = archive::parse(&wrong.to_string()).unwrap_err().to_string();
    assert!(err.contains("host_ed25519_key") && err.contains("public half"), "{err}");

    // A second import, into what is no longer fresh, is refused and changes nothing.
    let err = archive::import_all(&moved.state, archive::parse(&text).unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("fresh instance"), "{err}");
}

#[tokio::test]
async fn a_host_moved_without_its_key_announces_the_new_one_and_its_follower_refetches_it() {
    let (a, b, news) = host_with_a_follower().await;
    let old_key = cached_key_of(&b, &a).await;
    let before = faces(&a, &news).await;
    let text = serde_json::to_string(&archive::export_all(&a.state, false).await.unwrap()).unwrap();
    let port = a.port;
    let _old = a.stop().await;
    let moved = spawn_fresh_on(port, 0).await;
    let report = archive::import_all(&moved.state, archive::parse(&text).unwrap()).await.unwrap();
    assert!(!report.key_kept && report.update_queued, "{report:?}");
    // The pages are the same; the actor (its key) is not, so that is not compared.
    assert_same(&before, &faces(&moved, &news).await);
    assert_eq!(moved.drain().await, 1, "the actor's Update, signed with the new key");
    assert_eq!(delivered(&moved).await, (1, 0, 0), "B refetched our actor and accepted it");
    let new_key = cached_key_of(&b, &moved).await;
    assert_ne!(new_key, old_key);
    assert_eq!(new_key, moved.state.keys.host().public_key_pem);
    let after =
        publish_news(&moved.state, NewsDraft { title: "New key".into(), body_markdown: "x".into(), lang: None })
            .await
            .unwrap();
    assert_eq!(moved.drain().await, 1);
    assert!(b_has(&b, &moved, &after.id).await);
}

#[tokio::test]
async fn an_export_that_is_not_one_or_for_another_domain_is_refused_with_its_reason() {
    let a = spawn_app().await;
    let fresh = spawn_app().await;
    let good = serde_json::to_value(archive::export_all(&a.state, true).await.unwrap()).unwrap();
    let refused = |value: serde_json::Value| archive::parse(&value.to_string()).unwrap_err().to_string();
    assert!(archive::parse("{").unwrap_err().to_string().starts_with("file: is not JSON"));
    let mut v = good.clone();
    v["format"] = "mastodon-archive".into();
    assert!(refused(v).contains("not a Ronron export"));
    let mut v = good.clone();
    v["version"] = 2.into();
    assert!(refused(v).contains("version 2; this Ronron reads version 1"));
    let mut v = good.clone();
    v["tables"]["bulletins"] = serde_json::json!([{"id": "x"}]);
    let reason = refused(v);
    assert!(reason.contains("tables.bulletins[0]") && reason.contains("kind"), "{reason}");
    let mut v = good.clone();
    v["host_key"]["private_key_pem"] = "nope".into();
    assert!(refused(v).contains("host_key.private_key_pem"));

    // Another domain: the identity is the URL.
    let err = archive::import_all(&fresh.state, archive::parse(&good.to_string()).unwrap()).await.unwrap_err();
    assert_eq!(err.field(), Some("file"));
    assert!(err.to_string().contains("same domain"), "{err}");
    let left = fresh.state.db.read(ronron::db::models::archive::first_non_empty).await.unwrap();
    assert_eq!(left, None, "nothing was written");
}
