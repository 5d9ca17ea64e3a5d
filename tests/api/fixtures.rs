//! Payloads shaped as Mastodon, GoToSocial and Fedify send them (tests/fixtures/*/create-note.json):
//! array and string `@context`, `as:Public` and single-string addressing, LD signatures and
//! integrity proofs present (ignored, never trusted), `url` as a Link object.

use crate::{
    helpers::spawn_app,
    http_signatures::{digest, now_http, FakeMastodon},
};
use ronron::db::models::remote::{self, Following};

#[tokio::test]
async fn creates_from_mastodon_gotosocial_and_fedify_are_accepted_and_stored() {
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&["alice"]).await;
    // We follow Alice (as if she had accepted).
    let row = Following {
        actor_id: fake.actor("alice"),
        inbox: format!("{}/users/alice/inbox", fake.base),
        follow_activity_id: format!("{}/follow", app.base()),
        status: ronron::db::models::states::FollowState::Accepted,
        created_at: app.clock.now(),
        updated_at: app.clock.now(),
    };
    app.state.db.write(move |c| remote::upsert_following(c, &row)).await.unwrap();

    let cases = [
        (
            "mastodon",
            include_str!("../fixtures/mastodon/create-note.json"),
            "fr",
            "Notre instance Mastodon passe en 4.6",
        ),
        ("gotosocial", include_str!("../fixtures/gotosocial/create-note.json"), "en", "Registrations are open again"),
        ("fedify", include_str!("../fixtures/fedify/create-note.json"), "fr", "Hollo, notre micro-blog"),
    ];
    for (server, template, lang, text) in cases {
        let body = template.replace("{BASE}", &fake.base).replace("{NAME}", "alice");
        let activity: serde_json::Value = serde_json::from_str(&body).unwrap();
        let body = body.into_bytes();
        let date = now_http();
        let digest = digest(&body);
        let signature = fake.sign("alice", "alice", "/inbox", &format!("localhost:{}", app.port), &date, &digest);
        let response = reqwest::Client::new()
            .post(format!("{}/inbox", app.base()))
            .header("date", date)
            .header("digest", digest)
            .header("content-type", "application/activity+json")
            .header("signature", signature)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{server}: {}", response.text().await.unwrap());
        let id = activity["object"]["id"].as_str().unwrap().to_string();
        let post = app
            .state
            .db
            .read(move |c| remote::find_post(c, &id))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{server}: not stored"));
        assert!(post.content_html.contains(text), "{server}: {}", post.content_html);
        assert!(!post.content_html.contains("<script"), "{server}: sanitised");
        assert_eq!(post.lang.as_deref(), Some(lang), "{server}");
        assert!(
            post.url.as_deref().unwrap_or_default().starts_with(&fake.base),
            "{server}: url read from a string or a Link"
        );
        assert_eq!(post.kind, None, "{server}: a plain post, not a Ronron bulletin");
        assert_eq!(post.summary, None, "{server}: an empty summary is no content warning");
    }
    let timeline: serde_json::Value =
        reqwest::get(format!("{}/api/v1/timeline?kind=news", app.base())).await.unwrap().json().await.unwrap();
    assert_eq!(timeline["items"].as_array().unwrap().len(), 3, "plain posts are kept as news in the timeline");
}

#[tokio::test]
async fn private_posts_and_updates_of_someone_elses_post_are_not_kept() {
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&["alice", "mallory"]).await;
    for name in ["alice", "mallory"] {
        let row = Following {
            actor_id: fake.actor(name),
            inbox: format!("{}/users/{name}/inbox", fake.base),
            follow_activity_id: format!("{}/follow-{name}", app.base()),
            status: ronron::db::models::states::FollowState::Accepted,
            created_at: app.clock.now(),
            updated_at: app.clock.now(),
        };
        app.state.db.write(move |c| remote::upsert_following(c, &row)).await.unwrap();
    }
    let send = |signer: &'static str, activity: serde_json::Value| {
        let body = serde_json::to_vec(&activity).unwrap();
        let date = now_http();
        let digest = digest(&body);
        let signature = fake.sign(signer, signer, "/inbox", &format!("localhost:{}", app.port), &date, &digest);
        reqwest::Client::new()
            .post(format!("{}/inbox", app.base()))
            .header("date", date)
            .header("digest", digest)
            .header("content-type", "application/activity+json")
            .header("signature", signature)
            .body(body)
            .send()
    };
    let template =
        include_str!("../fixtures/mastodon/create-note.json").replace("{BASE}", &fake.base).replace("{NAME}", "alice");
    let public: serde_json::Value = serde_json::from_str(&template).unwrap();
    let note_id = public["object"]["id"].as_str().unwrap().to_string();

    // A followers-only copy (public collection nowhere in to/cc) is not kept.
    let mut private = public.clone();
    let followers = serde_json::json!([format!("{}/users/alice/followers", fake.base)]);
    private["to"] = followers.clone();
    private["cc"] = serde_json::json!([]);
    private["object"]["to"] = followers;
    private["object"]["cc"] = serde_json::json!([]);
    assert_eq!(send("alice", private).await.unwrap().status(), 202);
    let id = note_id.clone();
    assert!(
        app.state.db.read(move |c| remote::find_post(c, &id)).await.unwrap().is_none(),
        "followers-only: not stored"
    );

    // The public one is; Mallory, on the same server, cannot rewrite it.
    assert_eq!(send("alice", public.clone()).await.unwrap().status(), 202);
    let mut forged = public.clone();
    forged["id"] = serde_json::json!(format!("{}/users/mallory/update-1", fake.base));
    forged["type"] = serde_json::json!("Update");
    forged["actor"] = serde_json::json!(fake.actor("mallory"));
    forged["object"]["attributedTo"] = serde_json::json!(fake.actor("mallory"));
    forged["object"]["content"] = serde_json::json!("<p>scam</p>");
    forged["object"]["updated"] = serde_json::json!("2026-11-21T00:00:00Z");
    assert_eq!(send("mallory", forged).await.unwrap().status(), 202);
    let id = note_id.clone();
    let post = app.state.db.read(move |c| remote::find_post(c, &id)).await.unwrap().unwrap();
    assert_eq!(post.actor_id, fake.actor("alice"));
    assert!(!post.content_html.contains("scam"));
}
