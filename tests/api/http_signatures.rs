//! Requests built by hand exactly as Mastodon builds them, and each way a request can be wrong.

use crate::helpers::{spawn_app, TestApp};
use actix_web::{web, App, HttpResponse, HttpServer};
use base64::{engine::general_purpose::STANDARD, Engine};
use ronron::{
    db::models::{followers, remote},
    federation::keys::{self, SigningKey},
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    net::TcpListener,
    sync::{Arc, Mutex},
};

/// A stand-in Mastodon server on loopback: it serves actors from a captured Mastodon actor.
pub struct FakeMastodon {
    pub base: String,
    keys: Mutex<HashMap<String, SigningKey>>,
    docs: Arc<Mutex<HashMap<String, String>>>,
    _handle: actix_web::dev::ServerHandle,
}

impl FakeMastodon {
    pub async fn start(names: &[&str]) -> FakeMastodon {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let docs: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let shared = docs.clone();
        let server = HttpServer::new(move || {
            let docs = shared.clone();
            App::new().route(
                "/users/{name}",
                web::get().to(move |name: web::Path<String>| {
                    let doc = docs.lock().unwrap().get(name.as_str()).cloned();
                    async move {
                        match doc {
                            Some(doc) => {
                                HttpResponse::Ok().content_type("application/activity+json; charset=utf-8").body(doc)
                            }
                            None => HttpResponse::NotFound().finish(),
                        }
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let fake = FakeMastodon { base, keys: Mutex::default(), docs, _handle: handle };
        for name in names {
            fake.rotate_key(name);
        }
        fake
    }

    /// Gives `name` a new key pair, served from now on (a key rotation).
    pub fn rotate_key(&self, name: &str) {
        let template = include_str!("../fixtures/mastodon/actor.json");
        let generated = keys::generate().unwrap();
        let pem = generated.public_key_pem.replace('\n', "\\n");
        let doc = template.replace("{BASE}", &self.base).replace("{NAME}", name).replace("{PEM}", &pem);
        serde_json::from_str::<serde_json::Value>(&doc).expect("fixture stays valid JSON");
        self.docs.lock().unwrap().insert(name.to_string(), doc);
        self.keys.lock().unwrap().insert(name.to_string(), SigningKey::from_pem(&generated.private_key_pem).unwrap());
    }

    /// Serves `name` with this public key (one we cannot sign with: see the caller).
    pub fn serve_public_key(&self, name: &str, public_key_pem: &str) {
        let template = include_str!("../fixtures/mastodon/actor.json");
        let pem = public_key_pem.replace('\n', "\\n");
        let doc = template.replace("{BASE}", &self.base).replace("{NAME}", name).replace("{PEM}", &pem);
        serde_json::from_str::<serde_json::Value>(&doc).expect("fixture stays valid JSON");
        self.docs.lock().unwrap().insert(name.to_string(), doc);
    }

    /// `signing_string` signed with `signer`'s key, base64.
    pub fn sign_string(&self, signer: &str, signing_string: &str) -> String {
        self.keys.lock().unwrap()[signer].sign_base64(signing_string.as_bytes()).unwrap()
    }

    pub fn actor(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base)
    }

    /// Headers as Mastodon sends them: `(request-target) host date digest content-type`, rsa-sha256.
    pub fn sign(&self, signer: &str, key_owner: &str, target: &str, host: &str, date: &str, digest: &str) -> String {
        let signing_string = format!(
            "(request-target): post {target}\nhost: {host}\ndate: {date}\ndigest: {digest}\ncontent-type: application/activity+json"
        );
        let signature = self.keys.lock().unwrap()[signer].sign_base64(signing_string.as_bytes()).unwrap();
        format!(
            "keyId=\"{}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest content-type\",signature=\"{signature}\"",
            self.actor(key_owner)
        )
    }
}

pub fn digest(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(Sha256::digest(body)))
}

pub fn now_http() -> String {
    httpdate::fmt_http_date(std::time::SystemTime::now())
}

struct Sent {
    status: u16,
    body: serde_json::Value,
}

async fn post(app: &TestApp, path_and_query: &str, headers: &[(&str, String)], body: Vec<u8>) -> Sent {
    let mut request = reqwest::Client::new().post(format!("{}{path_and_query}", app.base())).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    Sent { status, body: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)) }
}

fn follow_body(fake: &FakeMastodon, app: &TestApp, id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/{id}", fake.base),
        "type": "Follow",
        "actor": fake.actor("alice"),
        "object": app.actor_url(),
    }))
    .unwrap()
}

async fn stored(app: &TestApp) -> (i64, usize) {
    let received = app.state.db.read(remote::count_received).await.unwrap();
    let follows = app.state.db.read(|c| followers::list(c, None)).await.unwrap().len();
    (received, follows)
}

fn host(app: &TestApp) -> String {
    format!("localhost:{}", app.port)
}

fn error_of(sent: &Sent) -> String {
    sent.body["error"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_request_signed_exactly_like_mastodon_is_accepted() {
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&["alice"]).await;
    let body = follow_body(&fake, &app, "follow-1");
    let date = now_http();
    let digest = digest(&body);
    let signature = fake.sign("alice", "alice", "/inbox", &host(&app), &date, &digest);
    let headers = [
        ("date", date.clone()),
        ("digest", digest.clone()),
        ("content-type", "application/activity+json".to_string()),
        ("signature", signature.clone()),
    ];
    let sent = post(&app, "/inbox", &headers, body.clone()).await;
    assert_eq!(sent.status, 202, "{:?}", sent.body);
    assert_eq!(stored(&app).await, (1, 1));
    // The same activity again (a redelivery) is accepted and stored once.
    let sent = post(&app, "/inbox", &headers, body).await;
    assert_eq!(sent.status, 202);
    assert_eq!(stored(&app).await, (1, 1));
    // The Accept goes back to Alice's personal inbox, with the Follow embedded.
    let accept = app.state.db.read(ronron::db::models::activities::list_deliveries).await.unwrap();
    assert_eq!(accept.len(), 1);
    assert_eq!(accept[0].inbox, format!("{}/users/alice/inbox", fake.base));
}

#[tokio::test]
async fn every_kind_of_bad_signature_gets_401_with_a_reason_and_stores_nothing() {
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&["alice", "mallory"]).await;
    let body = follow_body(&fake, &app, "follow-bad");
    let good_digest = digest(&body);
    let date = now_http();
    let ct = ("content-type", "application/activity+json".to_string());

    // A Digest that does not match the body.
    let wrong_digest = digest(b"something else");
    let sig = fake.sign("alice", "alice", "/inbox", &host(&app), &date, &wrong_digest);
    let sent = post(
        &app,
        "/inbox",
        &[("date", date.clone()), ("digest", wrong_digest), ct.clone(), ("signature", sig)],
        body.clone(),
    )
    .await;
    assert_eq!(sent.status, 401);
    assert!(error_of(&sent).contains("Digest"), "{:?}", sent.body);

    // A Date two hours old.
    let old = httpdate::fmt_http_date(std::time::SystemTime::now() - std::time::Duration::from_secs(7200));
    let sig = fake.sign("alice", "alice", "/inbox", &host(&app), &old, &good_digest);
    let sent = post(
        &app,
        "/inbox",
        &[("date", old), ("digest", good_digest.clone()), ct.clone(), ("signature", sig)],
        body.clone(),
    )
    .await;
    assert_eq!(sent.status, 401);
    assert!(error_of(&sent).contains("too old"), "{:?}", sent.body);

    // Mallory signs with her own key an activity that claims to be Alice's.
    let sig = fake.sign("mallory", "mallory", "/inbox", &host(&app), &date, &good_digest);
    let sent = post(
        &app,
        "/inbox",
        &[("date", date.clone()), ("digest", good_digest.clone()), ct.clone(), ("signature", sig)],
        body.clone(),
    )
    .await;
    assert_eq!(sent.status, 401);
    assert!(error_of(&sent).contains("not the signer"), "{:?}", sent.body);

    // Mallory's signature presented under Alice's key id.
    let sig = fake.sign("mallory", "alice", "/inbox", &host(&app), &date, &good_digest);
    let sent = post(
        &app,
        "/inbox",
        &[("date", date.clone()), ("digest", good_digest.clone()), ct.clone(), ("signature", sig)],
        body.clone(),
    )
    .await;
    assert_eq!(sent.status, 401);
    assert!(error_of(&sent).contains("does not match"), "{:?}", sent.body);

    // A signature that does not cover the Date (a fresh unsigned Date could be replayed forever).
    let signing_string = format!("(request-target): post /inbox\nhost: {}\ndigest: {good_digest}", host(&app));
    let signature = fake.keys.lock().unwrap()["alice"].sign_base64(signing_string.as_bytes()).unwrap();
    let sig = format!(
        "keyId=\"{}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host digest\",signature=\"{signature}\"",
        fake.actor("alice")
    );
    let sent = post(
        &app,
        "/inbox",
        &[("date", date.clone()), ("digest", good_digest.clone()), ct.clone(), ("signature", sig)],
        body.clone(),
    )
    .await;
    assert_eq!(sent.status, 401);
    assert!(error_of(&sent).contains("date"), "{:?}", sent.body);

    // No signature at all.
    let sent =
        post(&app, "/inbox", &[("date", date.clone()), ("digest", good_digest.clone()), ct.clone()], body.clone())
            .await;
    assert_eq!(sent.status, 401);
    assert!(error_of(&sent).contains("not signed"), "{:?}", sent.body);

    // Signed over another path than the one requested.
    let sig = fake.sign("alice", "alice", "/u/bulletin/inbox", &host(&app), &date, &good_digest);
    let sent =
        post(&app, "/inbox", &[("date", date.clone()), ("digest", good_digest), ct, ("signature", sig)], body).await;
    assert_eq!(sent.status, 401);

    assert_eq!(stored(&app).await, (0, 0), "nothing stored from refused requests");
}

#[tokio::test]
async fn the_request_target_may_be_signed_with_or_without_the_query() {
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&["alice"]).await;
    let date = now_http();
    for (n, signed_target) in ["/inbox?from=relay", "/inbox"].iter().enumerate() {
        let body = follow_body(&fake, &app, &format!("follow-q{n}"));
        let digest = digest(&body);
        let sig = fake.sign("alice", "alice", signed_target, &host(&app), &date, &digest);
        let headers = [
            ("date", date.clone()),
            ("digest", digest),
            ("content-type", "application/activity+json".into()),
            ("signature", sig),
        ];
        let sent = post(&app, "/inbox?from=relay", &headers, body).await;
        assert_eq!(sent.status, 202, "signed target {signed_target}: {:?}", sent.body);
    }
}

#[tokio::test]
async fn malformed_oversized_and_unknown_bodies_get_precise_answers() {
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&["alice"]).await;
    let sent =
        post(&app, "/inbox", &[("content-type", "application/activity+json".into())], b"{\"id\": ".to_vec()).await;
    assert_eq!(sent.status, 400);
    assert!(error_of(&sent).contains("not valid JSON"), "{:?}", sent.body);

    let sent = post(&app, "/inbox", &[], br#"{"type":"Follow","actor":"x"}"#.to_vec()).await;
    assert_eq!(sent.status, 400);
    assert!(error_of(&sent).contains("`id`"), "{:?}", sent.body);

    let huge = vec![b' '; 1024 * 1024 + 1];
    let sent = post(&app, "/inbox", &[], huge).await;
    assert_eq!(sent.status, 413);
    assert!(error_of(&sent).contains("larger than"), "{:?}", sent.body);

    // A signed activity of a type we do not handle: accepted (so the sender stops), not stored.
    let body = serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/flag-1", fake.base),
        "type": "Flag",
        "actor": fake.actor("alice"),
        "object": app.actor_url(),
    }))
    .unwrap();
    let date = now_http();
    let digest = digest(&body);
    let sig = fake.sign("alice", "alice", "/inbox", &host(&app), &date, &digest);
    let headers =
        [("date", date), ("digest", digest), ("content-type", "application/activity+json".into()), ("signature", sig)];
    let sent = post(&app, "/inbox", &headers, body).await;
    assert_eq!(sent.status, 202);
    assert_eq!(stored(&app).await, (0, 0));
}

#[tokio::test]
async fn followers_on_one_server_get_one_delivery_through_its_shared_inbox() {
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&["alice", "bob"]).await;
    for name in ["alice", "bob"] {
        let body = serde_json::to_vec(&json!({
            "id": format!("{}/follow-{name}", fake.base),
            "type": "Follow",
            "actor": fake.actor(name),
            "object": app.actor_url(),
        }))
        .unwrap();
        let date = now_http();
        let digest = digest(&body);
        let sig = fake.sign(name, name, "/u/bulletin/inbox", &host(&app), &date, &digest);
        let headers = [
            ("date", date),
            ("digest", digest),
            ("content-type", "application/activity+json".into()),
            ("signature", sig),
        ];
        let sent = post(&app, "/u/bulletin/inbox", &headers, body).await;
        assert_eq!(sent.status, 202, "{:?}", sent.body);
    }
    let before = app.state.db.read(ronron::db::models::activities::list_deliveries).await.unwrap().len();
    assert_eq!(before, 2, "one Accept to each follower's own inbox");
    ronron::app::bulletins::publish_news(
        &app.state,
        ronron::bulletin::NewsDraft { title: "Hi".into(), body_markdown: "all".into(), lang: None },
    )
    .await
    .unwrap();
    let deliveries = app.state.db.read(ronron::db::models::activities::list_deliveries).await.unwrap();
    let creates: Vec<_> = deliveries.iter().skip(before).collect();
    assert_eq!(creates.len(), 1, "one delivery for the server's shared inbox");
    assert_eq!(creates[0].inbox, format!("{}/inbox", fake.base));
}

#[tokio::test]
async fn a_rotated_key_is_refetched_once_and_a_future_date_is_refused() {
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&["alice"]).await;
    let send = |id: &'static str, date: String| {
        let body = follow_body(&fake, &app, id);
        let digest = digest(&body);
        let sig = fake.sign("alice", "alice", "/inbox", &host(&app), &date, &digest);
        let headers = vec![
            ("date", date),
            ("digest", digest),
            ("content-type", "application/activity+json".to_string()),
            ("signature", sig),
        ];
        (headers, body)
    };
    let (headers, body) = send("follow-r1", now_http());
    assert_eq!(post(&app, "/inbox", &headers, body).await.status, 202);
    // Alice's key changes after we cached her actor: the first failure triggers one refetch.
    fake.rotate_key("alice");
    let (headers, body) = send("follow-r2", now_http());
    let sent = post(&app, "/inbox", &headers, body).await;
    assert_eq!(sent.status, 202, "{:?}", sent.body);

    let future = httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(7200));
    let (headers, body) = send("follow-r3", future);
    let sent = post(&app, "/inbox", &headers, body).await;
    assert_eq!(sent.status, 401);
    assert!(error_of(&sent).contains("future"), "{:?}", sent.body);
    assert_eq!(stored(&app).await.0, 2);
}
