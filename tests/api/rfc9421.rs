//! RFC 9421 HTTP Message Signatures: requests signed by an independent implementation (Fedify's
//! `signRequest`, tests/interop/rfc9421.mjs) are accepted; each missing required part gets a 401
//! naming it; a peer that verifies only RFC 9421 (Fedify's `verifyRequest`) receives our
//! deliveries after one double-knock, and is asked with RFC 9421 first from then on, across a
//! restart. The Node tests are required when REQUIRE_INTEROP_TEST=1, else skipped without
//! `npm ci` in tests/interop.

use crate::{
    helpers::{spawn_app, TestApp},
    http_signatures::FakeMastodon,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use ronron::{
    app::bulletins as publish,
    bulletin::NewsDraft,
    db::models::{
        followers::{self, NewFollower},
        remote, signature_schemes,
        states::FollowState,
    },
    federation::keys::{self, SigningKey},
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};
use std::{path::PathBuf, process::Stdio, time::Duration};
use tokio::io::{AsyncBufReadExt, BufReader};

fn interop_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let required = std::env::var("REQUIRE_INTEROP_TEST").is_ok_and(|v| v == "1");
    if !dir.join("node_modules/fedify-rfc9421").exists() {
        assert!(!required, "REQUIRE_INTEROP_TEST=1 but tests/interop/node_modules is missing: run `npm ci` there");
        eprintln!("skipped: run `npm ci` in tests/interop to run the RFC 9421 interop tests");
        return None;
    }
    Some(dir)
}

/// Alice on a stand-in Mastodon, with a key pair whose private half the test holds.
async fn alice() -> (FakeMastodon, keys::GeneratedKeys) {
    let fake = FakeMastodon::start(&[]).await;
    let generated = keys::generate().unwrap();
    fake.serve_public_key("alice", &generated.public_key_pem);
    (fake, generated)
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

async fn post(app: &TestApp, headers: &[(String, String)], body: Vec<u8>) -> (u16, String) {
    let mut request = reqwest::Client::new().post(format!("{}/inbox", app.base())).body(body);
    for (name, value) in headers {
        if !name.eq_ignore_ascii_case("host") {
            request = request.header(name.as_str(), value.as_str());
        }
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let error =
        serde_json::from_str::<Value>(&text).ok().and_then(|v| v["error"].as_str().map(str::to_string)).unwrap_or(text);
    (status, error)
}

async fn received(app: &TestApp) -> i64 {
    app.state.db.read(remote::count_received).await.unwrap()
}

#[tokio::test]
async fn a_follow_signed_by_fedify_with_rfc9421_is_accepted() {
    let Some(dir) = interop_dir() else { return };
    let app = spawn_app().await;
    let (fake, generated) = alice().await;
    let files = tempfile::tempdir().unwrap();
    let (key_file, body_file) = (files.path().join("key.pem"), files.path().join("body.json"));
    std::fs::write(&key_file, &generated.private_key_pem).unwrap();
    let body = follow_body(&fake, &app, "follow-9421");
    std::fs::write(&body_file, &body).unwrap();
    let output = tokio::process::Command::new("node")
        .arg(dir.join("rfc9421.mjs"))
        .arg("sign")
        .args(["--url", &format!("{}/inbox", app.base())])
        .args(["--key-id", &format!("{}#main-key", fake.actor("alice"))])
        .arg("--key-file")
        .arg(&key_file)
        .arg("--body-file")
        .arg(&body_file)
        .stderr(Stdio::inherit())
        .output()
        .await
        .expect("node runs");
    assert!(output.status.success(), "the signer exits 0");
    let signed: Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    let headers: Vec<(String, String)> = signed["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_string(), pair[1].as_str().unwrap().to_string()))
        .collect();
    let input = &headers.iter().find(|(n, _)| n == "signature-input").expect("Fedify signed with RFC 9421").1;
    assert!(input.contains("\"@target-uri\"") && input.contains("\"content-digest\""), "{input}");
    assert!(!headers.iter().any(|(n, _)| n == "digest"), "no draft-cavage Digest: {headers:?}");
    let (status, error) = post(&app, &headers, body.clone()).await;
    assert_eq!(status, 202, "{error}");
    assert_eq!(received(&app).await, 1);
    let follows = app.state.db.read(|c| followers::list(c, None)).await.unwrap();
    assert_eq!(follows.len(), 1);
    assert_eq!(follows[0].actor_id, fake.actor("alice"));
    // The same headers with another body: the Content-Digest no longer matches.
    let (status, error) = post(&app, &headers, follow_body(&fake, &app, "follow-other")).await;
    assert_eq!(status, 401);
    assert!(error.contains("Content-Digest"), "{error}");
}

/// A Signature-Input `params` (the inner list and its parameters) signed by hand, as the RFC
/// describes it: one line per component, then `@signature-params`.
struct Hand<'a> {
    app: &'a TestApp,
    signer: SigningKey,
    key_id: String,
}

impl Hand<'_> {
    fn headers(&self, components: &[&str], params: &str, body: &[u8], digest: Option<String>) -> Vec<(String, String)> {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let mut headers = vec![
            ("content-type".to_string(), "application/activity+json".to_string()),
            ("date".to_string(), date.clone()),
        ];
        let digest = digest.unwrap_or_else(|| format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body))));
        if !digest.is_empty() {
            headers.push(("content-digest".to_string(), digest.clone()));
        }
        let list: Vec<String> = components.iter().map(|c| format!("\"{c}\"")).collect();
        let signature_params = format!("({}){params}", list.join(" "));
        let mut base = String::new();
        for component in components {
            let value = match *component {
                "@method" => "POST".to_string(),
                "@target-uri" => format!("{}/inbox", self.app.base()),
                "content-digest" => digest.clone(),
                "date" => date.clone(),
                other => panic!("no value for {other}"),
            };
            base.push_str(&format!("\"{component}\": {value}\n"));
        }
        base.push_str(&format!("\"@signature-params\": {signature_params}"));
        let signature = self.signer.sign_base64(base.as_bytes()).unwrap();
        headers.push(("signature-input".to_string(), format!("sig1={signature_params}")));
        headers.push(("signature".to_string(), format!("sig1=:{signature}:")));
        headers
    }

    fn params(&self, created: u64, alg: &str) -> String {
        format!(";created={created};keyid=\"{}\";alg=\"{alg}\"", self.key_id)
    }
}

#[tokio::test]
async fn each_missing_part_of_an_rfc9421_signature_gets_a_401_naming_it() {
    let app = spawn_app().await;
    let (fake, generated) = alice().await;
    let hand = Hand {
        app: &app,
        signer: SigningKey::from_pem(&generated.private_key_pem).unwrap(),
        key_id: format!("{}#main-key", fake.actor("alice")),
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let all = ["@method", "@target-uri", "content-digest", "date"];
    let body = follow_body(&fake, &app, "follow-hand");
    let rsa = hand.params(now, "rsa-v1_5-sha256");
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (hand.headers(&["@target-uri", "content-digest", "date"], &rsa, &body, None), "@method"),
        (hand.headers(&["@method", "content-digest", "date"], &rsa, &body, None), "@target-uri"),
        (hand.headers(&["@method", "@target-uri", "date"], &rsa, &body, None), "content-digest"),
        (hand.headers(&all, &format!(";keyid=\"{}\"", hand.key_id), &body, None), "`created`"),
        (hand.headers(&all, &hand.params(now - 7200, "rsa-v1_5-sha256"), &body, None), "too old"),
        (hand.headers(&all, &hand.params(now, "hmac-sha256"), &body, None), "`hmac-sha256` is not supported"),
        (hand.headers(&all, &rsa, &body, Some("sha-256=:AAAA:".into())), "Content-Digest header does not match"),
        (hand.headers(&all, &rsa, &body, Some("md5=:AAAA:".into())), "no sha-256 or sha-512"),
    ];
    for (headers, named) in cases {
        let (status, error) = post(&app, &headers, body.clone()).await;
        assert_eq!(status, 401, "{named}: {error}");
        assert!(error.contains(named), "expected `{named}` in: {error}");
    }
    // No Content-Digest at all (the signature covering it is then not even looked at).
    let mut headers = hand.headers(&all, &rsa, &body, None);
    headers.retain(|(n, _)| n != "content-digest");
    let (status, error) = post(&app, &headers, body.clone()).await;
    assert_eq!(status, 401);
    assert!(error.contains("Content-Digest header is missing"), "{error}");
    // Signed by another key under Alice's key id.
    let mallory = Hand { signer: SigningKey::from_pem(&keys::generate().unwrap().private_key_pem).unwrap(), ..hand };
    let (status, error) = post(&app, &mallory.headers(&all, &rsa, &body, None), body.clone()).await;
    assert_eq!(status, 401);
    assert!(error.contains("does not match the key"), "{error}");
    assert_eq!(received(&app).await, 0, "nothing refused is stored");
    // Complete, with a sha-512 Content-Digest: accepted.
    let hand = Hand { signer: SigningKey::from_pem(&generated.private_key_pem).unwrap(), ..mallory };
    let digest = format!("sha-512=:{}:", STANDARD.encode(Sha512::digest(&body)));
    let (status, error) = post(&app, &hand.headers(&all, &rsa, &body, Some(digest)), body.clone()).await;
    assert_eq!(status, 202, "{error}");
    assert_eq!(received(&app).await, 1);
}

#[tokio::test]
async fn a_peer_that_accepts_only_rfc9421_receives_our_deliveries_and_is_remembered() {
    let Some(dir) = interop_dir() else { return };
    let mut peer = tokio::process::Command::new("node")
        .arg(dir.join("rfc9421.mjs"))
        .arg("peer")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(peer.stdout.take().unwrap()).lines();
    let mut next_event = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the peer answers in time")
            .expect("stdout readable")
            .expect("the peer is still running");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
    };
    let ready = next_event().await;
    let inbox = ready["inbox"].as_str().expect("the peer says where its inbox is").to_string();
    let peer_domain = inbox.trim_start_matches("http://").split('/').next().unwrap().to_string();

    let app = spawn_app().await;
    let now = app.state.clock.now();
    let actor = inbox.replace("/inbox", "/users/peer");
    let row_inbox = inbox.clone();
    app.state
        .db
        .write(move |c| {
            let new = NewFollower {
                actor_id: &actor,
                inbox: &row_inbox,
                shared_inbox: None,
                status: FollowState::Accepted,
                follow_activity_id: &format!("{actor}/follow"),
                created_at: now,
                updated_at: now,
            };
            followers::upsert(c, new).map(|_| ())
        })
        .await
        .unwrap();
    let scheme_of = |app: &TestApp| {
        let (db, domain) = (app.state.db.clone(), peer_domain.clone());
        async move { db.read(move |c| signature_schemes::find(c, &domain)).await.unwrap() }
    };
    assert_eq!(scheme_of(&app).await, None);
    let news = |title: &str| NewsDraft { title: title.into(), body_markdown: "Body".into(), lang: Some("en".into()) };
    publish::publish_news(&app.state, news("First")).await.unwrap();
    assert_eq!(app.drain().await, 1, "one delivery, knocked twice");
    // First knock: draft-cavage, which this peer refuses; second: RFC 9421, verified.
    let first = next_event().await;
    assert_eq!((first["spec"].as_str(), first["verified"].as_bool()), (Some("draft-cavage"), Some(false)), "{first}");
    let second = next_event().await;
    assert_eq!((second["spec"].as_str(), second["verified"].as_bool()), (Some("rfc9421"), Some(true)), "{second}");
    assert_eq!(second["type"], "Create", "{second}");
    assert_eq!(second["keyId"], app.state.urls.host_key_id(), "{second}");
    let delivered = app.state.db.read(ronron::db::models::activities::list_deliveries).await.unwrap();
    assert!(delivered.iter().all(|d| d.last_status == Some(202)), "{delivered:?}");
    assert_eq!(scheme_of(&app).await.as_deref(), Some("rfc9421"));

    // Remembered in the database: after a restart, RFC 9421 is the first and only knock.
    let app = app.stop().await.restart(Some(0)).await;
    publish::publish_news(&app.state, news("Second")).await.unwrap();
    assert_eq!(app.drain().await, 1);
    let only = next_event().await;
    assert_eq!((only["spec"].as_str(), only["verified"].as_bool()), (Some("rfc9421"), Some(true)), "{only}");
    assert_eq!(only["type"], "Create", "{only}");
    // Nothing else arrived: had a draft-cavage knock come first, it would be this line.
    publish::publish_news(&app.state, news("Third")).await.unwrap();
    assert_eq!(app.drain().await, 1);
    let third = next_event().await;
    assert_eq!(third["spec"], "rfc9421", "{third}");
}
