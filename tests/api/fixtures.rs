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
        status: "accepted".into(),
        created_at: ronron::db::models::now(),
        updated_at: ronron::db::models::now(),
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
