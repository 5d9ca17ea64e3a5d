//! Ronron instances following each other over HTTP with real signatures.

use crate::helpers::{spawn_app, TestApp};
use ronron::{
    app::bulletins::{self as publish, NewsEdit},
    bulletin::NewsDraft,
    db::models::{activities as queue, followers, remote},
};

fn news(title: &str, body: &str) -> NewsDraft {
    NewsDraft { title: title.into(), body_markdown: body.into(), lang: None }
}

async fn remote_post(app: &TestApp, id: &str) -> Option<remote::RemotePost> {
    let id = id.to_string();
    app.state.db.read(move |c| remote::find_post(c, &id)).await.unwrap()
}

#[tokio::test]
async fn a_follower_receives_create_update_and_delete_then_unfollows() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    b.follow(&a).await;
    let a_followers = a.state.db.read(|c| followers::list(c, None)).await.unwrap();
    assert_eq!(a_followers.len(), 1);
    assert_eq!(a_followers[0].actor_id, b.actor_url().as_str());
    assert_eq!(a_followers[0].shared_inbox.as_deref(), Some(b.state.urls.shared_inbox().as_str()));

    // Create
    let bulletin = publish::publish_news(&a.state, news("Maintenance Nextcloud", "Mardi **21:00**.")).await.unwrap();
    assert_eq!(a.drain().await, 1);
    let note_id = a.state.urls.bulletin(&bulletin.id).to_string();
    let post = remote_post(&b, &note_id).await.expect("B stored the post");
    assert_eq!(post.actor_id, a.actor_url().as_str());
    assert_eq!(post.content_html, "<p><strong>Maintenance Nextcloud</strong></p><p>Mardi <strong>21:00</strong>.</p>");
    assert_eq!(post.lang.as_deref(), Some("fr"));
    assert!(post.updated_at.is_none());

    // Update
    publish::edit_news(
        &a.state,
        &bulletin.id,
        NewsEdit { body_markdown: Some("Mardi **22:00**.".into()), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(a.drain().await, 1);
    let post = remote_post(&b, &note_id).await.expect("still there");
    assert!(post.content_html.contains("22:00"), "{}", post.content_html);
    assert!(post.updated_at.is_some());

    // Delete
    publish::delete_bulletin(&a.state, &bulletin.id).await.unwrap();
    assert_eq!(a.drain().await, 1);
    assert!(remote_post(&b, &note_id).await.is_none(), "gone at B");
    let id = note_id.clone();
    assert!(b.state.db.read(move |c| remote::is_tombstoned(c, &id)).await.unwrap());

    // Unfollow: A no longer delivers to B.
    assert!(ronron::app::peers::unfollow(&b.state, a.actor_url().as_str()).await.unwrap());
    assert_eq!(b.drain().await, 1);
    assert_eq!(a.state.db.read(|c| followers::list(c, None)).await.unwrap().len(), 0);
    publish::publish_news(&a.state, news("After", "Nobody receives this.")).await.unwrap();
    assert_eq!(a.drain().await, 0, "no delivery is queued for a former follower");
    let failed = a.state.db.read(|c| queue::count_by_status(c, queue::FAILED)).await.unwrap();
    assert_eq!(failed, 0);
}

#[tokio::test]
async fn three_instances_each_follower_gets_every_post_once() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let c = spawn_app().await;
    b.follow(&a).await;
    c.follow(&a).await;
    let first = publish::publish_news(&a.state, news("Un", "premier")).await.unwrap();
    let second = publish::publish_news(&a.state, news("Deux", "second")).await.unwrap();
    assert_eq!(a.drain().await, 4, "two posts to two inboxes");
    for follower in [&b, &c] {
        for bulletin in [&first, &second] {
            assert!(remote_post(follower, a.state.urls.bulletin(&bulletin.id).as_str()).await.is_some());
        }
        let received = follower.state.db.read(remote::count_received).await.unwrap();
        assert_eq!(received, 3, "Accept + two Creates, each once");
    }
    // A Create delivered twice (a retry after a lost response) is stored once. Only the status is
    // rewritten: each delivery is still due at the time it was queued, which has passed.
    let delivered = a.state.db.read(queue::list_deliveries).await.unwrap();
    let again = a.state.db.write(|c| -> ronron::db::DbResult<()> {
        use diesel::prelude::*;
        use ronron::db::schema::deliveries::dsl::*;
        diesel::update(deliveries).set(status.eq("pending")).execute(c)?;
        Ok(())
    });
    again.await.unwrap();
    assert_eq!(a.drain().await, delivered.len());
    assert_eq!(b.state.db.read(remote::count_received).await.unwrap(), 3);
    assert_eq!(b.state.db.read(|c| remote::list_posts(c, 10)).await.unwrap().len(), 2);
}

#[tokio::test]
async fn manual_approval_keeps_followers_pending_until_approved() {
    let a = crate::helpers::spawn_app_with(0, |c| c.account.manually_approves_followers = true).await;
    let b = spawn_app().await;
    ronron::app::peers::follow(&b.state, &b.data(), &a.actor_url()).await.unwrap();
    assert_eq!(b.drain().await, 1);
    assert_eq!(a.drain().await, 0, "no Accept before approval");
    let pending = a.state.db.read(|c| followers::list(c, Some(followers::PENDING))).await.unwrap();
    assert_eq!(pending.len(), 1);
    publish::publish_news(&a.state, news("Privé", "pas encore")).await.unwrap();
    assert_eq!(a.drain().await, 0, "a pending follower receives no posts");
    ronron::app::followers::approve_follower(&a.state, pending[0].id).await.unwrap();
    assert_eq!(a.drain().await, 1, "the Accept");
    let id = a.actor_url().to_string();
    let row = b.state.db.read(move |c| remote::find_following(c, &id)).await.unwrap().unwrap();
    assert_eq!(row.status, ronron::db::models::states::FollowState::Accepted);
    // Removing the follower sends a Reject, and B's follow is marked rejected.
    ronron::app::followers::remove_follower(&a.state, pending[0].id).await.unwrap();
    assert_eq!(a.drain().await, 1);
    let id = a.actor_url().to_string();
    let row = b.state.db.read(move |c| remote::find_following(c, &id)).await.unwrap().unwrap();
    assert_eq!(row.status, ronron::db::models::states::FollowState::Rejected);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_nothing_published() {
    let a = spawn_app().await;
    let err = publish::publish_news(&a.state, news("", "body")).await.unwrap_err();
    assert_eq!(err.to_string(), "title: must not be empty");
    let err = publish::publish_news(
        &a.state,
        NewsDraft { title: "T".into(), body_markdown: "b".into(), lang: Some("de".into()) },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().starts_with("lang: `de` is not one of the host's languages"), "{err}");
    let err = publish::edit_news(&a.state, "nope", NewsEdit::default()).await.unwrap_err();
    assert_eq!(err.to_string(), "no bulletin has the id `nope`");
    let count = a.state.db.read(ronron::db::models::bulletins::count_published).await.unwrap();
    assert_eq!(count, 0);
    let activities_stored = a.state.db.read(queue::list_deliveries).await.unwrap();
    assert!(activities_stored.is_empty());
}
