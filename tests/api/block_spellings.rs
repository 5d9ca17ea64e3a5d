//! A block holds however a blocked host is spelled: upper case, a trailing dot, a subdomain with a
//! trailing dot, Unicode against punycode and the reverse. At the inbox, on follow, on delivery.

use crate::{
    helpers::{spawn_app, TestApp},
    http_signatures::{digest, now_http},
};
use chrono::NaiveDateTime;
use ronron::{
    app::{self, blocks, AppError},
    db::models::{
        activities::{self as queue, StoredActivity},
        followers::{self, NewFollower},
        remote::{self, FollowState},
    },
    federation::keys::{self, SigningKey},
};
use serde_json::json;

/// (the block as typed, an actor on the blocked host spelled otherwise). `c` is a real server.
fn spellings(c: &TestApp) -> Vec<(String, String)> {
    let port = c.port;
    vec![
        (format!("localhost:{port}"), format!("http://localhost.:{port}/u/bulletin")),
        (format!("LocalHost.:{port}"), format!("http://LOCALHOST.:{port}/u/bulletin")),
        ("Bad.Example".into(), "https://BAD.example./users/alice".into()),
        ("bad.example".into(), "https://social.bad.example./users/alice".into()),
        ("bücher.example".into(), "https://xn--bcher-kva.example/users/alice".into()),
        ("BÜCHER.example.".into(), "https://shop.xn--bcher-kva.example./users/alice".into()),
        ("xn--bcher-kva.example".into(), "https://Bücher.example./users/alice".into()),
    ]
}

/// The keyId a peer sends for `actor`: a header is ASCII, so a Unicode host is sent in punycode
/// (the activity's body keeps the Unicode spelling).
fn key_id_of(actor: &str) -> String {
    match actor.is_ascii() {
        true => format!("{actor}#main-key"),
        false => format!("{}#main-key", url::Url::parse(actor).unwrap()),
    }
}

/// POSTs `activity` to `app`'s inbox, signed as Mastodon signs, with the key `key_id`.
async fn post_signed(app: &TestApp, key_id: &str, activity: &serde_json::Value) -> u16 {
    let key = SigningKey::from_pem(&keys::generate().unwrap().private_key_pem).unwrap();
    let body = serde_json::to_vec(activity).unwrap();
    let target = app.state.urls.host_inbox().path().to_string();
    let (host, date, digest) = (format!("localhost:{}", app.port), now_http(), digest(&body));
    let signing_string = format!(
        "(request-target): post {target}\nhost: {host}\ndate: {date}\ndigest: {digest}\ncontent-type: application/activity+json"
    );
    let signature = key.sign_base64(signing_string.as_bytes()).unwrap();
    let header = format!(
        "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest content-type\",signature=\"{signature}\""
    );
    reqwest::Client::new()
        .post(app.state.urls.host_inbox())
        .header("host", host)
        .header("date", date)
        .header("digest", digest)
        .header("content-type", "application/activity+json")
        .header("signature", header)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn follow_of(app: &TestApp, actor: &str, n: usize) -> serde_json::Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/follows/{n}"),
        "type": "Follow",
        "actor": actor,
        "object": app.actor_url(),
    })
}

/// What a refused activity must not have left: nothing received, no follower, nothing queued.
async fn nothing_stored(app: &TestApp) {
    assert_eq!(app.state.db.read(remote::count_received).await.unwrap(), 0);
    assert!(app.state.db.read(|c| followers::list(c, None)).await.unwrap().is_empty());
    assert!(app.state.db.read(queue::list_deliveries).await.unwrap().is_empty(), "no Accept");
}

#[tokio::test]
async fn a_blocked_host_is_refused_at_the_inbox_however_it_is_spelled() {
    let a = spawn_app().await;
    let c = spawn_app().await;
    for (n, (domain, actor)) in spellings(&c).into_iter().enumerate() {
        blocks::block(&a.state, &domain, None).await.unwrap();
        let key_id = key_id_of(&actor);
        assert_eq!(post_signed(&a, &key_id, &follow_of(&a, &actor, n)).await, 403, "{domain} / {actor}");
        // The key on a third host, the actor on the blocked one: refused all the same.
        let key_id = "https://third.example/users/k#main-key";
        assert_eq!(post_signed(&a, key_id, &follow_of(&a, &actor, n)).await, 403, "{domain} / {actor}");
        nothing_stored(&a).await;
        blocks::unblock(&a.state, &domain).await.unwrap();
    }
    assert!(blocks::list(&a.state).await.unwrap().is_empty(), "each block was lifted under its spelling");
}

#[tokio::test]
async fn a_key_on_a_blocked_host_is_never_fetched() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let c = spawn_app().await;
    // The actor is a server that is not blocked; only the key is on the blocked host. An
    // unresolvable blocked host would give 401 (the key cannot be fetched): 403 says it was not tried.
    for (n, (domain, blocked_actor)) in spellings(&c).into_iter().enumerate() {
        blocks::block(&a.state, &domain, None).await.unwrap();
        let key_id = key_id_of(&blocked_actor);
        let actor = b.actor_url().to_string();
        assert_eq!(post_signed(&a, &key_id, &follow_of(&a, &actor, n)).await, 403, "{domain} / {key_id}");
        nothing_stored(&a).await;
        blocks::unblock(&a.state, &domain).await.unwrap();
    }
}

#[tokio::test]
async fn a_blocked_host_is_not_followed_however_it_is_spelled() {
    let a = spawn_app().await;
    let c = spawn_app().await;
    for (domain, actor) in spellings(&c) {
        blocks::block(&a.state, &domain, None).await.unwrap();
        let url = url::Url::parse(&actor).unwrap();
        let handle = format!("alice@{}", actor.split('/').nth(2).unwrap());
        let refused = app::peers::follow(&a.state, &a.data(), &url).await;
        assert!(matches!(refused, Err(AppError::Conflict { .. })), "{domain} / {actor}: {refused:?}");
        let refused = app::peers::follow_handle(&a.state, &a.data(), &handle).await;
        assert!(matches!(refused, Err(AppError::Conflict { .. })), "{domain} / {handle}: {refused:?}");
        blocks::unblock(&a.state, &domain).await.unwrap();
    }
    assert!(a.state.db.read(remote::list_following).await.unwrap().is_empty());
    assert!(a.state.db.read(queue::list_deliveries).await.unwrap().is_empty(), "no Follow sent");
}

#[tokio::test]
async fn deliveries_to_a_blocked_host_are_given_up_however_it_is_spelled() {
    let a = spawn_app().await;
    let c = spawn_app().await;
    let now = a.state.clock.now();
    for (n, (domain, actor)) in spellings(&c).into_iter().enumerate() {
        let inbox = format!("{actor}/inbox");
        // A follower from before the block, with a pending delivery: both purged by the block.
        let follow_id = format!("{actor}/follows/{n}");
        let (actor_id, follower_inbox) = (actor.clone(), inbox.clone());
        a.state
            .db
            .write(move |c| {
                let new = NewFollower {
                    actor_id: &actor_id,
                    inbox: &follower_inbox,
                    shared_inbox: None,
                    status: FollowState::Accepted,
                    follow_activity_id: &follow_id,
                    created_at: now,
                    updated_at: now,
                };
                followers::upsert(c, new).map(|_| ())
            })
            .await
            .unwrap();
        enqueue(&a, &format!("before-{n}"), &inbox, now).await;
        let purged = blocks::block(&a.state, &domain, None).await.unwrap().purged;
        assert_eq!((purged.followers, purged.deliveries), (1, 1), "{domain} / {inbox}");

        // One queued after the block (by a peer's spelling of its inbox) is given up when sent.
        enqueue(&a, &format!("after-{n}"), &inbox, now).await;
        a.drain().await;
        let deliveries = a.state.db.read(queue::list_deliveries).await.unwrap();
        let after = deliveries.iter().find(|d| d.activity_id.ends_with(&format!("after-{n}"))).unwrap();
        assert_eq!(after.status, queue::FAILED, "{domain} / {inbox}");
        assert!(after.last_error.as_deref().unwrap_or_default().contains("blocked"), "{:?}", after.last_error);
        assert!(deliveries.iter().all(|d| d.status == queue::FAILED), "{deliveries:?}");
        blocks::unblock(&a.state, &domain).await.unwrap();
    }
}

async fn enqueue(app: &TestApp, name: &str, inbox: &str, now: NaiveDateTime) {
    let id = app.state.urls.activity(name).to_string();
    let activity = StoredActivity {
        id: id.clone(),
        kind: "Update".into(),
        object_id: app.actor_url().to_string(),
        json: json!({ "id": id, "type": "Update", "actor": app.actor_url(), "object": app.actor_url() }).to_string(),
        created_at: now,
    };
    let inboxes = vec![inbox.to_string()];
    app.state.db.write(move |c| queue::store_and_enqueue(c, &activity, &inboxes, now)).await.unwrap();
}
