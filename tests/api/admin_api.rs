//! The JSON admin API over real HTTP: bearer tokens, every endpoint's effect (checked in the
//! database, on the public documents, or on a second instance that follows), and errors that
//! name the field without writing anything.

use crate::helpers::{spawn_app, spawn_app_with, spawn_app_with_clock, test_clock, TestApp};
use chrono::Duration;
use reqwest::{header, Method};
use ronron::db::models::{activities as queue, bulletins, followers, remote, tokens};
use serde_json::{json, Value};

/// A client of one instance's admin API, holding a token made the way `ronron token create` makes it.
struct Admin {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Admin {
    async fn of(app: &TestApp) -> Admin {
        let now = app.state.clock.now();
        let (_, secret) = app.state.db.write(move |c| tokens::create(c, "tests", now)).await.unwrap();
        Admin::with_token(app, &secret)
    }

    fn with_token(app: &TestApp, token: &str) -> Admin {
        Admin { base: format!("{}/api/v1/admin", app.base()), token: token.into(), http: reqwest::Client::new() }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert!(response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "no CORS on admin answers");
        let text = response.text().await.unwrap();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON answer") };
        (status, body)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }
    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Sends `raw` as the body, whatever it is.
    async fn post_raw(&self, path: &str, raw: impl Into<reqwest::Body>) -> (u16, Value) {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(raw);
        self.send(request).await
    }
}

/// Asserts a 4xx that names `field`.
fn refused(answer: (u16, Value), status: u16, field: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["field"], field, "{}", answer.1);
    assert!(answer.1["error"].as_str().unwrap().starts_with(&format!("{field}: ")), "{}", answer.1);
}

async fn add_cloud(admin: &Admin) {
    let service =
        json!({"slug": "cloud", "name": "Nuage", "software": "Nextcloud", "url": "https://cloud.chaton.example"});
    assert_eq!(admin.post("/services", service).await.0, 201);
}

async fn received(app: &TestApp, note_id: &str) -> Option<remote::RemotePost> {
    let id = note_id.to_string();
    app.state.db.read(move |c| remote::find_post(c, &id)).await.unwrap()
}

#[tokio::test]
async fn requests_without_a_live_token_get_401_before_anything_else() {
    let app = spawn_app().await;
    let admin = Admin::of(&app).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/api/v1/admin{path}", app.base());

    let response =
        http.get(url("/bulletins")).header(header::ORIGIN, "https://elsewhere.example").send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer realm=\"ronron\"");
    assert!(response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert!(response.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("Bearer"));

    for (token, auth) in [("rr_not-a-token", None), ("", Some("Basic YWRtaW46YWRtaW4="))] {
        let mut request = http.post(url("/bulletins")).body("{not json");
        request = match auth {
            Some(auth) => request.header(header::AUTHORIZATION, auth),
            None => request.bearer_auth(token),
        };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "the token is checked before the body is read");
        assert!(response.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().contains("error="));
    }
    // An unknown path does not tell an anonymous client which endpoints exist.
    assert_eq!(http.get(url("/no-such-thing")).send().await.unwrap().status(), 401);
    assert_eq!(admin.get("/no-such-thing").await.0, 404);

    // A token revoked (here by itself) no longer opens anything.
    assert_eq!(admin.get("/tokens").await.0, 200);
    let id = admin.get("/tokens").await.1["tokens"][0]["id"].as_i64().unwrap();
    assert_eq!(admin.delete(&format!("/tokens/{id}")).await.0, 204);
    let (status, body) = admin.get("/bulletins").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("unknown or revoked token")));
    assert!(app.state.db.read(|c| bulletins::list_all(c, 10)).await.unwrap().is_empty());
}

#[tokio::test]
async fn tokens_are_created_listed_and_revoked_over_the_api() {
    let app = spawn_app().await;
    let admin = Admin::of(&app).await;
    let (status, created) = admin.post("/tokens", json!({"name": "status page"})).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("rr_"));
    let second = Admin::with_token(&app, secret);
    assert_eq!(second.get("/profile").await.0, 200);

    let (_, listed) = second.get("/tokens").await;
    let list = listed["tokens"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "status page", "newest first");
    assert!(list[0]["last_used_at"].is_string(), "its use is recorded");
    assert!(list.iter().all(|t| t.get("secret").is_none() && t.get("token_hash").is_none()));
    assert!(!listed.to_string().contains(&tokens::hash_secret(secret)));

    refused(admin.post("/tokens", json!({"name": "  "})).await, 422, "name");
    refused(admin.post("/tokens", json!({"name": "x", "scope": "all"})).await, 422, "scope");
    assert_eq!(admin.delete("/tokens/999").await.0, 404);
    assert_eq!(admin.delete("/tokens/abc").await.0, 404);
    assert_eq!(admin.delete(&format!("/tokens/{}", created["id"])).await.0, 204);
    assert_eq!(second.get("/profile").await.0, 401);
    let (_, listed) = admin.get("/tokens").await;
    assert!(listed["tokens"][0]["revoked_at"].is_string(), "revoked tokens stay listed");
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 2, "the refused ones were not created");
}

#[tokio::test]
async fn news_published_edited_and_deleted_over_the_api_reaches_a_follower() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    b.follow(&a).await;
    let admin = Admin::of(&a).await;

    let news = json!({"kind": "news", "title": "Bonjour", "body": "Premier **bulletin**",
        "translation_lang": "en", "translation_title": "Hello", "translation_body": "First"});
    let (status, created) = admin.post("/bulletins", news).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!((created["kind"].as_str(), created["status"].as_str()), (Some("news"), Some("published")));
    assert_eq!(created["translations"][0]["title"], "Hello");
    assert_eq!(created["url"], a.state.urls.bulletin(&id).as_str());
    assert_eq!(a.drain().await, 1, "the Create goes to B");
    let note_id = a.state.urls.bulletin(&id).to_string();
    assert!(received(&b, &note_id).await.unwrap().content_html.contains("Bonjour"));

    let (status, edited) = admin.patch(&format!("/bulletins/{id}"), json!({"title": "Bonjour à tous"})).await;
    assert_eq!(status, 200, "{edited}");
    assert!(edited["updated_at"].is_string());
    assert_eq!(edited["translations"][0]["title"], "Hello", "the translation is kept");
    assert_eq!(a.drain().await, 1, "the Update goes to B");
    assert!(received(&b, &note_id).await.unwrap().content_html.contains("Bonjour à tous"));

    let (status, shown) = admin.get(&format!("/bulletins/{id}")).await;
    assert_eq!(
        (status, shown["title"].as_str(), shown["body"].as_str()),
        (200, Some("Bonjour à tous"), Some("Premier **bulletin**"))
    );
    let (_, listed) = admin.get("/bulletins?limit=1").await;
    assert_eq!(listed["bulletins"][0]["id"], id.as_str());

    assert_eq!(admin.delete(&format!("/bulletins/{id}")).await, (204, Value::Null));
    assert_eq!(a.drain().await, 1, "the Delete goes to B");
    assert!(received(&b, &note_id).await.is_none(), "B removed it");
    assert_eq!(admin.get(&format!("/bulletins/{id}")).await.1["status"], "deleted");
    assert_eq!(admin.patch(&format!("/bulletins/{id}"), json!({"title": "Encore"})).await.0, 409);
    assert_eq!(admin.delete(&format!("/bulletins/{id}")).await.0, 409);
    assert_eq!(admin.get("/bulletins/nope").await.0, 404);
    assert_eq!(admin.patch("/bulletins/nope", json!({"title": "x"})).await.0, 404);
    assert_eq!(admin.delete("/bulletins/nope").await.0, 404);
    assert_eq!(a.drain().await, 0, "the refused requests sent nothing");
}

#[tokio::test]
async fn a_maintenance_posted_over_the_api_shows_on_the_services_collection_and_moves() {
    let clock = test_clock();
    let app = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    let admin = Admin::of(&app).await;
    add_cloud(&admin).await;
    let maintenance = json!({"kind": "change", "title": "Mise à jour du nuage", "body": "Version 30.",
        "change": {"type": "maintenance", "services": ["cloud"],
                   "start": "2030-03-12T20:00:00Z", "end": "2030-03-12T20:15:00Z"}});
    let (status, created) = admin.post("/bulletins", maintenance).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["state"], "scheduled");
    assert_eq!(created["services"], json!(["cloud"]));
    assert_eq!(
        (created["starts_at"].as_str(), created["impact"].as_str()),
        (Some("2030-03-12T20:00:00Z"), Some("minor"))
    );

    let services_doc = || async {
        let url = app.state.urls.host_services();
        let response =
            reqwest::Client::new().get(url).header(header::ACCEPT, "application/activity+json").send().await.unwrap();
        response.json::<Value>().await.unwrap()
    };
    // The public services collection and the admin list agree once the window runs.
    clock.advance(Duration::hours(12) + Duration::minutes(5));
    app.run_scheduled().await;
    assert_eq!(services_doc().await["orderedItems"][0]["serviceStatus"], "underMaintenance");
    assert_eq!(admin.get("/services").await.1["services"][0]["status"], "under_maintenance");

    let window = json!({"start": "2030-03-12T20:00:00Z", "end": "2030-03-12T21:00:00Z"});
    let (status, moved) = admin.post(&format!("/bulletins/{id}/reschedule"), window).await;
    assert_eq!((status, moved["ends_at"].as_str()), (200, Some("2030-03-12T21:00:00Z")), "{moved}");
    refused(
        admin.post(&format!("/bulletins/{id}/reschedule"), json!({"start": "demain", "end": "x"})).await,
        422,
        "start",
    );
    refused(
        admin.post(&format!("/bulletins/{id}/reschedule"), json!({"start": "2030-03-12T20:00:00Z"})).await,
        422,
        "end",
    );

    let (status, cancelled) = admin.call(Method::POST, &format!("/bulletins/{id}/cancel"), None).await;
    assert_eq!((status, cancelled["state"].as_str()), (200, Some("cancelled")), "{cancelled}");
    assert_eq!(services_doc().await["orderedItems"][0]["serviceStatus"], "operational");
    // The domain refuses to cancel twice: a conflict about the bulletin, not bad input.
    refused(admin.call(Method::POST, &format!("/bulletins/{id}/cancel"), None).await, 409, "id");
    assert_eq!(admin.call(Method::POST, "/bulletins/nope/cancel", None).await.0, 404);
}

#[tokio::test]
async fn an_incident_gets_follow_ups_in_its_thread_until_resolved() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    b.follow(&a).await;
    let admin = Admin::of(&a).await;
    add_cloud(&admin).await;
    let incident = json!({"kind": "change", "title": "Nuage inaccessible", "body": "Nous cherchons.",
        "translation_lang": "en", "translation_title": "Cloud unreachable",
        "change": {"type": "incident", "services": ["cloud"], "impact": "major"}});
    let (status, created) = admin.post("/bulletins", incident).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(admin.get("/services").await.1["services"][0]["status"], "partial_outage");

    // Neither title is typed: each language gets the incident's title in it and the new state.
    let (status, step) = admin
        .post(
            &format!("/bulletins/{id}/follow-ups"),
            json!({"state": "identified", "body": "Un disque.", "translation_lang": "en", "translation_body": "A disk."}),
        )
        .await;
    assert_eq!(status, 201, "{step}");
    assert_eq!(step["in_reply_to"], a.state.urls.bulletin(&id).as_str());
    assert_eq!(step["title"], "Nuage inaccessible — cause identifiée", "{step}");
    assert_eq!(step["translations"][0]["title"], "Cloud unreachable — identified", "{step}");
    assert_eq!(admin.get(&format!("/bulletins/{id}")).await.1["state"], "identified");
    let answer = admin.post(&format!("/bulletins/{id}/follow-ups"), json!({"state": "scheduled"})).await;
    let message = answer.1["error"].as_str().unwrap().to_string();
    assert!(message.contains("investigating, identified, monitoring, resolved"), "{message}");
    assert!(!message.contains("scheduled,") && !message.contains("completed"), "only incident states: {message}");
    refused(answer, 422, "state");
    refused(admin.post(&format!("/bulletins/{id}/follow-ups"), json!({"state": "done"})).await, 422, "state");
    refused(admin.post(&format!("/bulletins/{id}/follow-ups"), json!({})).await, 422, "state");
    refused(
        admin
            .post(
                &format!("/bulletins/{id}/follow-ups"),
                json!({"state": "resolved", "publish_at": "2031-01-01 00:00"}),
            )
            .await,
        422,
        "publish_at",
    );
    let (status, _) = admin.post(&format!("/bulletins/{id}/follow-ups"), json!({"state": "resolved"})).await;
    assert_eq!(status, 201);
    assert_eq!(admin.get("/services").await.1["services"][0]["status"], "operational");
    refused(admin.post(&format!("/bulletins/{id}/follow-ups"), json!({"state": "monitoring"})).await, 409, "id");

    assert_eq!(a.drain().await, 5, "B gets the incident, two follow-ups and two Updates of the first Note");
    let first = received(&b, a.state.urls.bulletin(&id).as_str()).await.unwrap();
    assert!(first.meta.unwrap().contains("\"resolved\""));
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = Admin::of(&app).await;
    add_cloud(&admin).await;

    // Bodies that are not JSON, or not an object: 400.
    for raw in ["{\"kind\": \"news\",", "", "[]", "{\"kind\":\"news\",\"title\":\"T\",\"body\":\"b\"} extra"] {
        let (status, body) = admin.post_raw("/bulletins", raw).await;
        assert_eq!(status, 400, "{raw}: {body}");
        assert!(body.get("field").is_none());
    }
    let (status, body) = admin.post_raw("/bulletins", "{\"kind\": \"news\",").await;
    assert!(status == 400 && body["error"].as_str().unwrap().starts_with("malformed JSON: EOF"), "{body}");
    let huge = format!("{{\"kind\":\"news\",\"title\":\"T\",\"body\":\"{}\"}}", "x".repeat(70 * 1024));
    assert_eq!(admin.post_raw("/bulletins", huge).await.0, 413);

    // Fields of the wrong type, missing, unknown or refused by the domain: 422 naming them.
    refused(admin.post("/bulletins", json!({"title": "T", "body": "b"})).await, 422, "kind");
    refused(admin.post("/bulletins", json!({"kind": "news", "title": 5})).await, 422, "title");
    refused(admin.post("/bulletins", json!({"kind": "news", "titel": "T"})).await, 422, "titel");
    refused(admin.post("/bulletins", json!({"kind": "poem", "title": "T", "body": "b"})).await, 422, "kind");
    refused(admin.post("/bulletins", json!({"kind": "news", "title": "", "body": "b"})).await, 422, "title");
    refused(admin.post("/bulletins", json!({"kind": "news", "title": "T", "body": null})).await, 422, "body");
    refused(
        admin.post("/bulletins", json!({"kind": "news", "title": "T", "body": "b", "lang": "de"})).await,
        422,
        "lang",
    );
    refused(
        admin
            .post("/bulletins", json!({"kind": "news", "title": "T", "body": "b", "publish_at": "2001-01-01 10:00"}))
            .await,
        422,
        "publish_at",
    );
    refused(
        admin.post("/bulletins", json!({"kind": "news", "title": "T", "body": "b", "translation_lang": "fr", "translation_title": "T", "translation_body": "b"})).await,
        422,
        "translation_lang",
    );
    refused(admin.post("/bulletins", json!({"kind": "change", "title": "T"})).await, 422, "change");
    let change = |change: Value| json!({"kind": "change", "title": "T", "change": change});
    refused(
        admin.post("/bulletins", change(json!({"type": "outage", "services": ["cloud"]}))).await,
        422,
        "change.type",
    );
    refused(
        admin.post("/bulletins", change(json!({"type": "incident", "services": ["mail"]}))).await,
        422,
        "change.services",
    );
    refused(
        admin.post("/bulletins", change(json!({"type": "incident", "services": [1]}))).await,
        422,
        "change.services[0]",
    );
    refused(
        admin.post("/bulletins", change(json!({"type": "incident", "services": ["cloud"], "impact": "huge"}))).await,
        422,
        "change.impact",
    );
    refused(
        admin.post("/bulletins", change(json!({"type": "incident", "service": ["cloud"]}))).await,
        422,
        "change.service",
    );
    refused(
        admin.post("/bulletins", change(json!({"type": "maintenance", "services": ["cloud"], "start": "2030-03-12 21:00", "end": "2030-03-12 20:00"}))).await,
        422,
        "change.end",
    );
    let (status, body) = admin.get("/bulletins?limit=ten").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("limit")));
    assert_eq!(admin.get("/bulletins?limit=0").await.0, 400);

    // Nothing was stored or queued by any of them.
    assert!(app.state.db.read(|c| bulletins::list_all(c, 10)).await.unwrap().is_empty());
    assert!(app.state.db.read(queue::list_deliveries).await.unwrap().is_empty());
    assert_eq!(admin.get("/bulletins").await.1, json!({"bulletins": []}));
}

#[tokio::test]
async fn services_label_and_profile_are_managed_over_the_api() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    b.follow(&a).await;
    let admin = Admin::of(&a).await;

    add_cloud(&admin).await;
    let (status, body) = admin
        .post("/services", json!({"slug": "cloud", "name": "N", "software": "S", "url": "https://x.example"}))
        .await;
    assert_eq!((status, body["field"].as_str()), (409, Some("slug")));
    refused(
        admin.post("/services", json!({"slug": "mail", "name": "Mail", "software": "Postfix", "url": "ftp://x"})).await,
        422,
        "url",
    );
    refused(
        admin
            .post("/services", json!({"slug": "Mail!", "name": "Mail", "software": "Postfix", "url": "https://x"}))
            .await,
        422,
        "slug",
    );
    let (status, edited) =
        admin.patch("/services/cloud", json!({"registration": "on_request", "description": "Fichiers"})).await;
    assert_eq!(
        (status, edited["registration"].as_str(), edited["name"].as_str()),
        (200, Some("on_request"), Some("Nuage"))
    );
    refused(admin.patch("/services/cloud", json!({"registration": "sometimes"})).await, 422, "registration");
    assert_eq!(admin.patch("/services/mail", json!({"name": "Mail"})).await.0, 404);
    let page = reqwest::get(a.state.urls.service("cloud")).await.unwrap();
    assert_eq!(page.status(), 200, "the service's public page exists");
    assert_eq!(admin.delete("/services/cloud").await.0, 204);
    assert_eq!(admin.delete("/services/cloud").await.0, 404);
    assert_eq!(admin.get("/services").await.1, json!({"services": []}));

    let (status, label) = admin.get("/label").await;
    assert_eq!(status, 200);
    let criterion = label["criteria"][0]["criterion"].as_str().unwrap().to_string();
    assert!(label["criteria"][0]["grade"].is_null());
    let (status, graded) = admin
        .call(
            Method::PUT,
            &format!("/label/{criterion}"),
            Some(json!({"grade": "met", "evidence": "https://chaton.example/faq"})),
        )
        .await;
    assert_eq!(status, 200, "{graded}");
    assert_eq!((graded["grade"].as_str(), graded["bulletin"]["kind"].as_str()), (Some("met"), Some("label_update")));
    let (_, same) = admin
        .call(Method::PUT, &format!("/label/{criterion}"), Some(json!({"grade": "met", "comment": "Voir la FAQ"})))
        .await;
    assert!(same["bulletin"].is_null(), "the same grade publishes nothing: {same}");
    assert_eq!(same["evidence"], "https://chaton.example/faq", "kept");
    assert_eq!(admin.get("/label").await.1["criteria"][0]["comment"], "Voir la FAQ");
    refused(
        admin.call(Method::PUT, &format!("/label/{criterion}"), Some(json!({"grade": "great"}))).await,
        422,
        "grade",
    );
    refused(
        admin.call(Method::PUT, &format!("/label/{criterion}"), Some(json!({"grade": "met", "evidence": "faq"}))).await,
        422,
        "evidence",
    );
    assert_eq!(admin.call(Method::PUT, "/label/no.such.criterion", Some(json!({"grade": "met"}))).await.0, 404);
    // Several grades in one call: one label update.
    let (status, several) = admin
        .patch(
            "/label",
            json!({"grades": [
                {"criterion": "hoster.backups", "grade": "met"},
                {"criterion": "neutral.no-ads", "grade": "partial", "comment": "Une bannière"},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{several}");
    assert_eq!(several["bulletin"]["kind"], "label_update");
    refused(
        admin.patch("/label", json!({"grades": [{"criterion": "hoster.backups", "grade": "great"}]})).await,
        422,
        "hoster.backups.grade",
    );

    let (status, profile) =
        admin.patch("/profile", json!({"country": "FR", "website": "https://chaton.example"})).await;
    assert_eq!((status, profile["country"].as_str()), (200, Some("FR")), "{profile}");
    assert_eq!(admin.get("/profile").await.1["website"], "https://chaton.example");
    refused(admin.patch("/profile", json!({"website": "chaton.example"})).await, 422, "website");
    refused(admin.patch("/profile", json!({"languages": ["fr"]})).await, 422, "languages");
    assert_eq!(admin.get("/profile").await.1["website"], "https://chaton.example", "refused edits change nothing");
    // B gets the two label update bulletins and the Update of the actor.
    assert_eq!(a.drain().await, 3);
    let b_sees = b.state.db.read(|c| remote::list_posts(c, 10)).await.unwrap();
    assert_eq!(b_sees.len(), 2);
    let actor_id = a.actor_url().to_string();
    let actor = b.state.db.read(move |c| remote::find_actor(c, &actor_id)).await.unwrap().unwrap();
    assert!(actor.raw.contains("\"FR\""), "B stored the new profile");
}

#[tokio::test]
async fn followers_follows_blocks_and_deliveries_are_managed_over_the_api() {
    let a = spawn_app_with(0, |config| config.account.manually_approves_followers = true).await;
    let b = spawn_app().await;
    let c = spawn_app().await;
    let admin = Admin::of(&a).await;
    for other in [&b, &c] {
        ronron::app::peers::follow(&other.state, &other.data(), &a.actor_url()).await.unwrap();
        assert_eq!(other.drain().await, 1);
    }
    let (_, pending) = admin.get("/followers?status=pending").await;
    let pending = pending["followers"].as_array().unwrap().clone();
    assert_eq!(pending.len(), 2);
    let id_of = |app: &TestApp| {
        pending.iter().find(|f| f["actor"] == app.actor_url().as_str()).unwrap()["id"].as_i64().unwrap()
    };
    let (status, approved) = admin.call(Method::POST, &format!("/followers/{}/approve", id_of(&b)), None).await;
    assert_eq!((status, approved["status"].as_str()), (200, Some("accepted")));
    assert_eq!(admin.delete(&format!("/followers/{}", id_of(&c))).await.0, 204);
    assert_eq!(a.drain().await, 2, "an Accept to B, a Reject to C");
    let b_follows = b.state.db.read({
        let id = a.actor_url().to_string();
        move |conn| remote::find_following(conn, &id)
    });
    assert_eq!(b_follows.await.unwrap().unwrap().status, ronron::db::models::states::FollowState::Accepted);
    assert_eq!(admin.get("/followers?status=accepted").await.1["followers"].as_array().unwrap().len(), 1);
    refused(admin.get("/followers?status=blocked").await, 400, "status");
    assert_eq!(admin.call(Method::POST, "/followers/999/approve", None).await.0, 404);
    assert_eq!(admin.delete("/followers/999").await.0, 404);

    // A follows B by handle and C by actor URL.
    let handle = format!("@bulletin@localhost:{}", b.port);
    let (status, row) = admin.post("/following", json!({"handle": handle})).await;
    assert_eq!((status, row["status"].as_str()), (201, Some("pending")), "{row}");
    let (status, _) = admin.post("/following", json!({"handle": c.actor_url()})).await;
    assert_eq!(status, 201);
    assert_eq!(a.drain().await, 2, "two Follows");
    assert_eq!(b.drain().await, 1, "B accepts");
    let (_, following) = admin.get("/following").await;
    let following = following["following"].as_array().unwrap().clone();
    assert_eq!(following.len(), 2);
    assert!(following.iter().any(|f| f["actor"] == b.actor_url().as_str() && f["status"] == "accepted"));
    refused(admin.post("/following", json!({"handle": "not a handle"})).await, 422, "handle");
    let unfollow = format!("/following?actor={}", b.actor_url());
    assert_eq!(admin.delete(&unfollow).await.0, 204);
    assert_eq!(admin.delete(&unfollow).await.0, 404);
    refused(admin.delete("/following").await, 400, "actor");
    assert_eq!(a.drain().await, 1, "the Undo goes to B");
    assert!(b.state.db.read(|conn| followers::list(conn, None)).await.unwrap().is_empty());

    // Blocking C purges the follow of C.
    let (status, blocked) =
        admin.post("/blocks", json!({"domain": format!("LOCALHOST:{}", c.port), "reason": "spam"})).await;
    assert_eq!(status, 201, "{blocked}");
    assert_eq!(blocked["domain"], format!("localhost:{}", c.port));
    assert_eq!(blocked["purged"]["following"], 1);
    assert_eq!(admin.get("/following").await.1["following"], json!([]));
    assert_eq!(admin.get("/blocks").await.1["blocks"][0]["reason"], "spam");
    refused(admin.post("/blocks", json!({"domain": "not a domain/"})).await, 422, "domain");
    refused(admin.post("/blocks", json!({"domain": format!("localhost:{}", a.port)})).await, 422, "domain");
    assert_eq!(admin.delete(&format!("/blocks/localhost:{}", c.port)).await.0, 204);
    assert_eq!(admin.delete(&format!("/blocks/localhost:{}", c.port)).await.0, 404);

    // The queue: what was sent, and a retry of what waits.
    let (status, deliveries) = admin.get("/deliveries").await;
    assert_eq!(status, 200);
    assert_eq!((deliveries["delivered"].as_i64(), deliveries["pending"].as_i64()), (Some(5), Some(0)), "{deliveries}");
    assert!(deliveries["inboxes"].as_array().unwrap().iter().all(|h| h["consecutive_failures"] == 0));
    let (status, retried) = admin.call(Method::POST, "/deliveries/retry", None).await;
    assert_eq!((status, retried["due_now"].as_i64()), (200, Some(0)));
}

#[tokio::test]
async fn a_token_made_with_the_command_line_opens_the_api_until_revoked_there() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ronron.toml");
    let toml = format!("[instance]\ndomain = \"localhost:{}\"\n[database]\nurl = \"{}\"\n", app.port, app.database_url);
    std::fs::write(&config, toml).unwrap();
    let ronron = |args: &[&str]| {
        let output =
            crate::helpers::ronron_command().arg("--config").arg(&config).args(args).output().expect("the binary runs");
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        (output.status.success(), stdout, String::from_utf8_lossy(&output.stderr).to_string())
    };
    let (ok, out, err) = ronron(&["token", "create", "deploy script"]);
    assert!(ok, "{err}");
    let secret = out.lines().last().unwrap().trim().to_string();
    assert!(secret.starts_with("rr_"), "{out}");
    let admin = Admin::with_token(&app, &secret);
    assert_eq!(admin.get("/profile").await.0, 200);

    let (ok, listed, _) = ronron(&["token", "list"]);
    assert!(ok && listed.contains("deploy script") && !listed.contains(&secret), "{listed}");
    let id = listed.split_whitespace().next().unwrap().to_string();
    let (ok, _, err) = ronron(&["token", "revoke", &id]);
    assert!(ok, "{err}");
    assert_eq!(admin.get("/profile").await.0, 401);
    let (ok, _, err) = ronron(&["token", "revoke", &id]);
    assert!(!ok && err.contains("no live token"), "{err}");
    let (ok, _, err) = ronron(&["token", "create", " "]);
    assert!(!ok && err.contains("name: must not be empty"), "{err}");
}
