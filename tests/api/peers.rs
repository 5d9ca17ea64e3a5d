//! Following peers: blocks, and what reaches the timeline.

use crate::helpers::spawn_app;
use ronron::{
    bulletin::NewsDraft,
    db::models::{activities as queue, followers, remote},
    federation::publish,
    moderation,
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

    let purged = moderation::block(&a.state, &format!("localhost:{}", c.port), Some("spam".into())).await.unwrap();
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

    assert!(moderation::block(&a.state, &format!("localhost:{}", a.port), None).await.is_err(), "not ourselves");
    assert!(moderation::unblock(&a.state, &format!("localhost:{}", c.port)).await.unwrap());
    assert_eq!(moderation::list(&a.state).await.unwrap().len(), 0);
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
    let inbox = a.state.urls.shared_inbox();
    let signer = &c.state.keys.host.signer;
    let body = serde_json::to_vec(&announce).unwrap();
    let headers =
        ronron::federation::signatures::sign_post(&inbox, &body, &c.state.urls.host_key_id(), signer).unwrap();
    let mut request = reqwest::Client::new().post(inbox.clone()).body(body.clone());
    for (name, value) in &headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    assert_eq!(request.send().await.unwrap().status(), 202);
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
    let body = serde_json::to_vec(&announce).unwrap();
    let headers =
        ronron::federation::signatures::sign_post(&inbox, &body, &c.state.urls.host_key_id(), signer).unwrap();
    let mut request = reqwest::Client::new().post(inbox.clone()).body(body);
    for (name, value) in &headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    assert_eq!(request.send().await.unwrap().status(), 202);
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
    let body = serde_json::to_vec(&missing).unwrap();
    let headers =
        ronron::federation::signatures::sign_post(&inbox, &body, &c.state.urls.host_key_id(), signer).unwrap();
    let mut request = reqwest::Client::new().post(inbox).body(body);
    for (name, value) in &headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    assert_eq!(request.send().await.unwrap().status(), 202);
    assert_eq!(a.state.db.read(|c| remote::list_posts(c, 100)).await.unwrap().len(), 27);
}
