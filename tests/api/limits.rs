//! Rate limits over real HTTP: the inbox per signer host (and per client address when unsigned),
//! the fetches of unknown signing keys per host with a cache of failures, and the admin API per
//! token. Remote servers are real HTTP servers on loopback that count the fetches they answer;
//! time is the app's manual clock, moved instead of slept.

use crate::helpers::{spawn_app_with_clock, test_clock, TestApp};
use actix_web::{web, App, HttpResponse, HttpServer};
use base64::{engine::general_purpose::STANDARD, Engine};
use futures::StreamExt;
use ronron::{
    config::Config,
    db::models::tokens,
    federation::keys::{self, SigningKey},
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    net::TcpListener,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

/// A remote server that serves the actors it was given (Mastodon's actor document, with a key we
/// hold) and 404s any other, counting every request it answers.
struct CountingHost {
    base: String,
    fetches: Arc<AtomicUsize>,
    docs: Arc<Mutex<HashMap<String, String>>>,
    keys: Mutex<HashMap<String, SigningKey>>,
    /// Signs for the names it does not serve: a key nobody can fetch.
    stranger: SigningKey,
    _handle: actix_web::dev::ServerHandle,
}

impl CountingHost {
    async fn start(names: &[&str]) -> CountingHost {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let docs: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let fetches = Arc::new(AtomicUsize::new(0));
        let (shared_docs, counter) = (docs.clone(), fetches.clone());
        let server = HttpServer::new(move || {
            let (docs, counter) = (shared_docs.clone(), counter.clone());
            App::new().default_service(web::to(move |req: actix_web::HttpRequest| {
                counter.fetch_add(1, Ordering::SeqCst);
                let name = req.path().strip_prefix("/users/").unwrap_or("").to_string();
                let doc = docs.lock().unwrap().get(&name).cloned();
                async move {
                    match doc {
                        Some(doc) => {
                            HttpResponse::Ok().content_type("application/activity+json; charset=utf-8").body(doc)
                        }
                        None => HttpResponse::NotFound().finish(),
                    }
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let stranger = SigningKey::from_pem(&keys::generate().unwrap().private_key_pem).unwrap();
        let host = CountingHost { base, fetches, docs, keys: Mutex::default(), stranger, _handle: handle };
        for name in names {
            host.serve(name);
        }
        host
    }

    /// Serves `name` from now on, with a new key pair.
    fn serve(&self, name: &str) {
        let template = include_str!("../fixtures/mastodon/actor.json");
        let generated = keys::generate().unwrap();
        let pem = generated.public_key_pem.replace('\n', "\\n");
        let doc = template.replace("{BASE}", &self.base).replace("{NAME}", name).replace("{PEM}", &pem);
        self.docs.lock().unwrap().insert(name.to_string(), doc);
        self.keys.lock().unwrap().insert(name.to_string(), SigningKey::from_pem(&generated.private_key_pem).unwrap());
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn actor(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base)
    }

    /// A signed POST of an activity by `name` to `app`'s shared inbox, as Mastodon signs it. A
    /// name the host does not serve is signed with a key nobody can fetch.
    async fn post(&self, app: &TestApp, name: &str, n: usize) -> Sent {
        let body = serde_json::to_vec(&json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/{name}/{n}", self.base),
            "type": "Like",
            "actor": self.actor(name),
            "object": app.actor_url(),
        }))
        .unwrap();
        let digest = format!("SHA-256={}", STANDARD.encode(Sha256::digest(&body)));
        let date = httpdate::fmt_http_date(app.clock.system_time());
        let host = format!("localhost:{}", app.port);
        let signing_string = format!(
            "(request-target): post /inbox\nhost: {host}\ndate: {date}\ndigest: {digest}\ncontent-type: application/activity+json"
        );
        let signature = {
            let keys = self.keys.lock().unwrap();
            keys.get(name).unwrap_or(&self.stranger).sign_base64(signing_string.as_bytes()).unwrap()
        };
        let header = format!(
            "keyId=\"{}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest content-type\",signature=\"{signature}\"",
            self.actor(name)
        );
        let request = reqwest::Client::new()
            .post(format!("{}/inbox", app.base()))
            .header("host", host)
            .header("date", date)
            .header("digest", digest)
            .header("content-type", "application/activity+json")
            .header("signature", header)
            .body(body);
        Sent::of(request).await
    }
}

struct Sent {
    status: u16,
    retry_after: Option<u64>,
    error: String,
}

impl Sent {
    async fn of(request: reqwest::RequestBuilder) -> Sent {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let retry_after =
            response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().expect("Retry-After in seconds"));
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        Sent { status, retry_after, error: body["error"].as_str().unwrap_or_default().to_string() }
    }
}

async fn app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_clock(0, test_clock(), adjust).await
}

#[tokio::test]
async fn the_inbox_limit_is_per_signer_host_answers_429_with_retry_after_and_recovers() {
    let app = app_with(|c| {
        c.limits.inbox_per_minute = 60;
        c.limits.inbox_burst = 3;
    })
    .await;
    let a = CountingHost::start(&["alice", "anna"]).await;
    let b = CountingHost::start(&["bob"]).await;
    for n in 0..3 {
        let sent = a.post(&app, "alice", n).await;
        assert_eq!(sent.status, 202, "within the burst: {}", sent.error);
    }
    assert_eq!(a.fetches(), 1, "alice's key is fetched once, then read from the cache");
    let refused = a.post(&app, "alice", 3).await;
    assert_eq!(refused.status, 429, "{}", refused.error);
    assert_eq!(refused.retry_after, Some(1), "60 a minute: the next one is allowed in a second");
    let host_a = a.base.trim_start_matches("http://");
    assert_eq!(
        refused.error,
        format!("too many requests from {host_a}: this inbox accepts 60 a minute from one server (3 at once); try again in 1 s")
    );
    // Refused before anything is fetched: another actor of the same server is not looked up.
    let refused = a.post(&app, "anna", 0).await;
    assert_eq!(refused.status, 429);
    assert_eq!(a.fetches(), 1, "nothing fetched for a request over the limit");
    // Another server has its own budget.
    assert_eq!(b.post(&app, "bob", 0).await.status, 202);
    // A second later one more request is allowed, then the limit again.
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(a.post(&app, "alice", 4).await.status, 202);
    assert_eq!(a.post(&app, "alice", 5).await.status, 429);
    // A minute later, the whole burst.
    app.clock.advance(chrono::Duration::minutes(1));
    for n in 6..9 {
        assert_eq!(a.post(&app, "anna", n).await.status, 202);
    }
}

#[tokio::test]
async fn unsigned_inbox_requests_are_limited_by_client_address() {
    let app = app_with(|c| {
        c.limits.inbox_per_minute = 30;
        c.limits.inbox_burst = 2;
    })
    .await;
    let unsigned = || {
        reqwest::Client::new()
            .post(format!("{}/inbox", app.base()))
            .header("content-type", "application/activity+json")
            .body(r#"{"id":"http://x.example/1","type":"Like","actor":"http://x.example/u","object":"x"}"#)
    };
    for _ in 0..2 {
        assert_eq!(Sent::of(unsigned()).await.status, 401, "unsigned: refused, but within the quota");
    }
    let refused = Sent::of(unsigned()).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.retry_after, Some(2), "30 a minute: one every 2 s");
    assert_eq!(
        refused.error,
        "too many requests from the address 127.0.0.1: this inbox accepts 30 a minute from one server (2 at once); \
         try again in 2 s"
    );
    // Signed requests from the same address count against their server, not the address.
    let a = CountingHost::start(&["alice"]).await;
    assert_eq!(a.post(&app, "alice", 0).await.status, 202);
    app.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(Sent::of(unsigned()).await.status, 401, "the address may send again");
}

#[tokio::test]
async fn three_hundred_posts_with_unknown_keys_cause_few_fetches() {
    let app = app_with(|c| {
        // The inbox limit is out of the way: this test is about the key fetches.
        c.limits.inbox_per_minute = 100_000;
        c.limits.inbox_burst = 10_000;
        c.limits.key_fetches_per_minute = 10;
        c.limits.key_fetch_burst = 5;
    })
    .await;
    let spammer = CountingHost::start(&[]).await;
    let other = CountingHost::start(&["carol"]).await;

    // 300 distinct unknown keyIds from one server, 16 at a time.
    let sent: Vec<Sent> = futures::stream::iter(0..300)
        .map(|n| {
            let (spammer, app) = (&spammer, &app);
            async move { spammer.post(app, &format!("u{n}"), n).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let fetched = spammer.fetches();
    assert!((1..=5).contains(&fetched), "at most the burst of 5 key fetches, saw {fetched}");
    let unauthorized: Vec<&Sent> = sent.iter().filter(|s| s.status == 401).collect();
    let throttled: Vec<&Sent> = sent.iter().filter(|s| s.status == 429).collect();
    println!("300 posts with unknown keys: {fetched} fetches, {} × 401, {} × 429", unauthorized.len(), throttled.len());
    assert_eq!(unauthorized.len() + throttled.len(), 300, "every answer is 401 or 429");
    assert_eq!(unauthorized.len(), fetched, "one 401 per key fetched and not found");
    assert!(
        unauthorized.iter().all(|s| s.error.starts_with("cannot get the signing key ")),
        "{}",
        unauthorized[0].error
    );
    let host = spammer.base.trim_start_matches("http://");
    for s in &throttled {
        assert!(
            s.error.starts_with(&format!(
                "too many signing keys to fetch from {host}: this server fetches at most 10 a minute"
            )),
            "{}",
            s.error
        );
        assert!(s.retry_after.is_some_and(|secs| (1..=6).contains(&secs)), "Retry-After {:?}", s.retry_after);
    }

    // Another server is unaffected.
    assert_eq!(other.post(&app, "carol", 0).await.status, 202);
    assert_eq!(other.fetches(), 1);

    // The same unknown keyId again and again: fetched once, then refused from the cache of failures.
    app.clock.advance(chrono::Duration::minutes(1));
    let before = spammer.fetches();
    for n in 0..300 {
        let sent = spammer.post(&app, "ghost", n).await;
        assert_eq!(sent.status, 401);
        if n > 0 {
            assert!(sent.error.contains("could not be fetched 0 s ago"), "{}", sent.error);
        }
    }
    assert_eq!(spammer.fetches(), before + 1, "one fetch for 300 posts signed with the same unknown key");

    // Once the failure is older than its TTL (300 s), the key is fetched again: it exists now.
    spammer.serve("ghost");
    app.clock.advance(chrono::Duration::seconds(299));
    assert_eq!(spammer.post(&app, "ghost", 300).await.status, 401, "still within the TTL");
    app.clock.advance(chrono::Duration::seconds(1));
    let sent = spammer.post(&app, "ghost", 301).await;
    assert_eq!(sent.status, 202, "{}", sent.error);
    assert_eq!(spammer.fetches(), before + 2);
}

#[tokio::test]
async fn the_admin_api_is_limited_per_token() {
    let app = app_with(|c| {
        c.limits.admin_api_per_minute = 6;
        c.limits.admin_api_burst = 3;
    })
    .await;
    let token = |name: &'static str| {
        let now = app.state.clock.now();
        let state = app.state.clone();
        async move { state.db.write(move |c| tokens::create(c, name, now)).await.unwrap().1 }
    };
    let (first, second) = (token("first").await, token("second").await);
    let get = |secret: &str| {
        Sent::of(reqwest::Client::new().get(format!("{}/api/v1/admin/bulletins", app.base())).bearer_auth(secret))
    };
    for _ in 0..3 {
        assert_eq!(get(&first).await.status, 200);
    }
    let refused = get(&first).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.retry_after, Some(10), "6 a minute: one every 10 s");
    assert_eq!(
        refused.error,
        "too many requests with this token: the admin API accepts 6 a minute per token (3 at once); try again in 10 s"
    );
    assert_eq!(get(&second).await.status, 200, "another token has its own budget");
    app.clock.advance(chrono::Duration::seconds(10));
    assert_eq!(get(&first).await.status, 200, "allowed again once the time has passed");
    assert_eq!(get(&first).await.status, 429);
}
