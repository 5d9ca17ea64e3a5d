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
