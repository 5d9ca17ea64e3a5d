//! GoToSocial 0.19 as Ronron meets it (issue 14, part 1): an outbox that gives its posts by URL,
//! key ids without a fragment, a peer on https while dev mode is on, a peer on an IP literal, and
//! the instance actor's `featured`. The peer is a loopback server answering with documents shaped
//! as GoToSocial builds them (tests/fixtures/gotosocial/), over plain HTTP or TLS.

use crate::{
    helpers::{spawn_app_with, TestApp},
    http_signatures::{digest, now_http},
};
use ronron::{
    db::models::remote::{self, Following},
    federation::keys::{self, SigningKey},
};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpListener,
};

/// One request the fake server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: BTreeMap<String, String>,
}

impl Seen {
    fn target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

/// The statuses Alice's outbox lists by URL (the second of the page is on another server).
const STATUSES: [(&str, &str, &str); 2] = [
    ("01JD8Z9V7W6X5Y4Z3A2B1C0D9E", "Our GoToSocial moves to 0.19.2 tonight.", "2026-11-24T16:05:00Z"),
    ("01JD8Z0A1B2C3D4E5F6G7H8J9K", "Registrations are open again.", "2026-11-18T07:45:00Z"),
];

pub struct FakeGts {
    pub base: String,
    /// `host:port`, as in a handle.
    pub authority: String,
    key: SigningKey,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGts {
    /// Alice's server on `host` ("127.0.0.1": an IP literal; "localhost": a name), over TLS with
    /// the certificate of tests/fixtures/tls/ when `tls`. `other` is the base URL of another
    /// server, where one item of her outbox points.
    pub async fn start(host: &str, tls: bool, other: &str) -> FakeGts {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority = format!("{host}:{}", listener.local_addr().unwrap().port());
        let base = format!("{}://{authority}", if tls { "https" } else { "http" });
        let generated = keys::generate().unwrap();
        let pem = generated.public_key_pem.replace('\n', "\\n");
        let fill = |template: &str| {
            let text = template
                .replace("{BASE}", &base)
                .replace("{NAME}", "alice")
                .replace("{HOST}", &authority)
                .replace("{OTHER}", other)
                .replace("{PEM}", &pem);
            serde_json::from_str::<serde_json::Value>(&text).expect("fixture stays valid JSON");
            text
        };
        let mut docs: HashMap<String, String> = HashMap::new();
        docs.insert("/users/alice".into(), fill(include_str!("../fixtures/gotosocial/actor.json")));
        docs.insert("/users/alice/main-key".into(), fill(include_str!("../fixtures/gotosocial/main-key.json")));
        docs.insert("/users/alice/outbox".into(), fill(include_str!("../fixtures/gotosocial/outbox.json")));
        docs.insert(
            "/users/alice/outbox?limit=40".into(),
            fill(include_str!("../fixtures/gotosocial/outbox-page.json")),
        );
        docs.insert(
            format!("/users/alice/outbox?limit=40&max_id={}", STATUSES[1].0),
            fill(include_str!("../fixtures/gotosocial/outbox-last-page.json")),
        );
        for (id, text, published) in STATUSES {
            let status = include_str!("../fixtures/gotosocial/status.json")
                .replace("{ID}", id)
                .replace("{TEXT}", text)
                .replace("{PUBLISHED}", published);
            docs.insert(format!("/users/alice/statuses/{id}"), fill(&status));
        }
        docs.insert("webfinger".into(), fill(include_str!("../fixtures/gotosocial/webfinger.json")));
        let docs = Arc::new(docs);
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let acceptor = tls.then(tls_acceptor);
        let (log, wanted) = (seen.clone(), format!("acct:alice@{authority}"));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (docs, log, acceptor, wanted) = (docs.clone(), log.clone(), acceptor.clone(), wanted.clone());
                tokio::spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve(stream, &docs, &log, &wanted).await;
                            }
                        }
                        None => serve(stream, &docs, &log, &wanted).await,
                    }
                });
            }
        });
        FakeGts { base, authority, key: SigningKey::from_pem(&generated.private_key_pem).unwrap(), seen, task }
    }

    pub fn actor(&self) -> String {
        format!("{}/users/alice", self.base)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// An inbox POST signed as GoToSocial signs it: keyId `…/main-key` (no fragment), hs2019,
    /// `(request-target) host date digest`.
    pub async fn post(&self, app: &TestApp, activity: &serde_json::Value) -> reqwest::Response {
        let body = serde_json::to_vec(activity).unwrap();
        let (date, digest) = (now_http(), digest(&body));
        let host = format!("localhost:{}", app.port);
        let signing_string = format!("(request-target): post /inbox\nhost: {host}\ndate: {date}\ndigest: {digest}");
        let signature = self.key.sign_base64(signing_string.as_bytes()).unwrap();
        let header = format!(
            "keyId=\"{}/main-key\",algorithm=\"hs2019\",headers=\"(request-target) host date digest\",signature=\"{signature}\"",
            self.actor()
        );
        reqwest::Client::new()
            .post(format!("{}/inbox", app.base()))
            .header("date", date)
            .header("digest", digest)
            .header("content-type", "application/activity+json")
            .header("signature", header)
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls::{
        self,
        pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
    };
    let certs = CertificateDer::pem_slice_iter(include_bytes!("../fixtures/tls/leaf.pem"))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("../fixtures/tls/leaf.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// Answers one HTTP/1.1 request on `stream`, then closes it.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    docs: &HashMap<String, String>,
    log: &Mutex<Vec<Seen>>,
    webfinger_resource: &str,
) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            // Not HTTP (a TLS hello on the plain server): hang up at once.
            Ok(_) if !chunk[0].is_ascii_uppercase() && head.is_empty() => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or_default().to_string();
    let headers: BTreeMap<String, String> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.clone(), None),
    };
    log.lock().unwrap().push(Seen { method: method.clone(), path: path.clone(), query: query.clone(), headers });
    let found = if path == "/.well-known/webfinger" {
        let resource = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "resource")
            .map(|(_, v)| v.to_string());
        (resource.as_deref() == Some(webfinger_resource)).then(|| ("application/jrd+json", docs["webfinger"].clone()))
    } else if method == "GET" {
        docs.get(&target).map(|doc| ("application/activity+json", doc.clone()))
    } else {
        None
    };
    let response = match found {
        Some((content_type, body)) => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
        None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string(),
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Every request `fake` received is a GET signed with `app`'s instance actor key, and the
/// signature verifies with its public key.
fn assert_signed_by_instance_actor(app: &TestApp, seen: &[Seen]) {
    assert!(!seen.is_empty());
    for request in seen {
        assert_eq!(request.method, "GET", "{}", request.target());
        let pending = ronron::federation::signatures::begin_verify(
            "GET",
            &request.path,
            request.query.as_deref(),
            &request.headers,
            None,
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(httpdate_secs(&request.headers["date"])),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", request.target()));
        assert_eq!(pending.key_id, app.state.urls.instance_key_id(), "{}", request.target());
        pending
            .verify_with(&app.state.keys.instance.public_key_pem)
            .unwrap_or_else(|e| panic!("{}: {e}", request.target()));
    }
}

/// The request's own `Date`: its signature is judged against it, not against the wall clock.
fn httpdate_secs(date: &str) -> u64 {
    httpdate::parse_http_date(date).unwrap().duration_since(std::time::SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

fn requests_to(seen: &[Seen], path: &str) -> usize {
    seen.iter().filter(|s| s.path == path).count()
}

#[tokio::test]
async fn a_gotosocial_outbox_that_gives_posts_by_url_is_backfilled_from_its_own_server_only() {
    let app = spawn_app_with(0, |_| {}).await;
    // The server the foreign item points to: it must never be asked anything.
    let elsewhere = FakeGts::start("localhost", false, "http://unused.invalid").await;
    // Alice's server is an IP literal (dev mode accepts it).
    let gts = FakeGts::start("127.0.0.1", false, &elsewhere.base).await;
    let actor = url::Url::parse(&gts.actor()).unwrap();
    ronron::app::peers::follow(&app.state, &app.data(), &actor).await.expect("follow a peer on an IP literal");

    for (id, text, _) in STATUSES {
        let key = format!("{}/users/alice/statuses/{id}", gts.base);
        let post = app.state.db.read(move |c| remote::find_post(c, &key)).await.unwrap();
        let post = post.unwrap_or_else(|| panic!("{id} backfilled"));
        assert!(post.content_html.contains(text), "{}", post.content_html);
        assert_eq!(post.actor_id, gts.actor());
    }
    assert!(elsewhere.seen().is_empty(), "the item on another server is not fetched: {:?}", elsewhere.seen());
    let seen = gts.seen();
    for (id, _, _) in STATUSES {
        assert_eq!(requests_to(&seen, &format!("/users/alice/statuses/{id}")), 1, "{id} fetched once");
    }
    assert_signed_by_instance_actor(&app, &seen);

    // Again: nothing is fetched twice, and each skipped item is counted by its reason.
    let row = app.state.db.read(move |c| remote::find_actor(c, actor.as_str())).await.unwrap().unwrap();
    let before = gts.seen().len();
    let report = ronron::federation::backfill::backfill(&app.data(), &row).await.unwrap();
    assert_eq!((report.stored, report.fetched, report.timed_out), (0, 0, false));
    assert_eq!(report.skipped.get("already stored or deleted"), Some(&2), "{report:?}");
    assert_eq!(report.skipped.get("object on another server"), Some(&1), "{report:?}");
    let statuses_fetched = gts.seen()[before..].iter().filter(|s| s.path.contains("/statuses/")).count();
    assert_eq!(statuses_fetched, 0);
}

#[tokio::test]
async fn backfill_fetches_at_most_backfill_max_fetches_posts_by_url() {
    let app = spawn_app_with(0, |config| config.outgoing.backfill_max_fetches = 1).await;
    let gts = FakeGts::start("127.0.0.1", false, "http://unused.invalid").await;
    let actor = url::Url::parse(&gts.actor()).unwrap();
    let row = ronron::federation::actors::fetch_actor(&app.data(), &actor, false).await.unwrap();
    let report = ronron::federation::backfill::backfill(&app.data(), &row).await.unwrap();
    assert_eq!((report.stored, report.fetched), (1, 1), "{report:?}");
    assert_eq!(report.skipped.get("over outgoing.backfill_max_fetches"), Some(&1), "{report:?}");
    assert_eq!(requests_to(&gts.seen(), &format!("/users/alice/statuses/{}", STATUSES[1].0)), 0);
}

#[tokio::test]
async fn a_key_id_without_fragment_is_fetched_once_then_read_from_the_cache() {
    let app = spawn_app_with(0, |_| {}).await;
    let gts = FakeGts::start("127.0.0.1", false, "http://unused.invalid").await;
    let row = Following {
        actor_id: gts.actor(),
        inbox: format!("{}/users/alice/inbox", gts.base),
        follow_activity_id: format!("{}/follow", app.base()),
        status: ronron::db::models::states::FollowState::Accepted,
        created_at: app.clock.now(),
        updated_at: app.clock.now(),
    };
    app.state.db.write(move |c| remote::upsert_following(c, &row)).await.unwrap();
    let template =
        include_str!("../fixtures/gotosocial/create-note.json").replace("{BASE}", &gts.base).replace("{NAME}", "alice");
    for n in 0..4 {
        let mut create: serde_json::Value = serde_json::from_str(&template).unwrap();
        let id = format!("{}/users/alice/statuses/01JD8ZPOST{n}", gts.base);
        create["id"] = serde_json::json!(format!("{id}/activity"));
        create["object"]["id"] = serde_json::json!(id);
        let response = gts.post(&app, &create).await;
        assert_eq!(response.status(), 202, "POST {n}: {}", response.text().await.unwrap());
        let stored = app.state.db.read(move |c| remote::find_post(c, &id)).await.unwrap();
        assert!(stored.is_some(), "POST {n} stored");
    }
    // The first POST: the key document (to learn its owner) and the actor; then nothing.
    let seen = gts.seen();
    let targets: Vec<String> = seen.iter().map(Seen::target).collect();
    assert_eq!(targets, ["/users/alice/main-key", "/users/alice"], "{targets:?}");
    assert_signed_by_instance_actor(&app, &seen);
}

#[tokio::test]
async fn dev_mode_follows_an_https_peer_by_handle_over_https() {
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
    let app = spawn_app_with(0, |config| config.outgoing.extra_ca_file = Some(ca.to_string())).await;
    assert!(app.state.config.dev_mode());
    let gts = FakeGts::start("localhost", true, "https://unused.invalid").await;
    let handle = format!("@alice@{}", gts.authority);
    let follow = ronron::app::peers::follow_handle(&app.state, &app.data(), &handle).await.expect("follow over https");
    assert_eq!(follow.actor_id, format!("https://{}/users/alice", gts.authority));
    let seen = gts.seen();
    assert_eq!(requests_to(&seen, "/.well-known/webfinger"), 1, "WebFinger asked over https: {seen:?}");
    assert!(requests_to(&seen, "/users/alice") >= 1, "the actor fetched over https");
    let key = format!("{}/users/alice/statuses/{}", gts.base, STATUSES[0].0);
    assert!(app.state.db.read(move |c| remote::find_post(c, &key)).await.unwrap().is_some(), "backfilled over https");

    // A certificate we do not trust is refused, and dev mode does not retry over http then.
    let untrusting = spawn_app_with(0, |_| {}).await;
    let error = ronron::app::peers::follow_handle(&untrusting.state, &untrusting.data(), &handle).await.unwrap_err();
    assert!(error.to_string().contains("webfinger"), "{error}");
    assert_eq!(requests_to(&gts.seen(), "/.well-known/webfinger"), 1, "no request got through");
}

#[tokio::test]
async fn the_instance_actor_has_an_empty_featured_collection() {
    let app = spawn_app_with(0, |_| {}).await;
    let client = reqwest::Client::new();
    let get = |url: String| client.get(url).header("accept", "application/activity+json").send();
    let actor: serde_json::Value = get(format!("{}/actor", app.base())).await.unwrap().json().await.unwrap();
    let featured = actor["featured"].as_str().expect("featured").to_string();
    assert_eq!(featured, format!("{}/actor/featured", app.base()));
    let response = get(featured.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/activity+json"));
    let collection: serde_json::Value = response.json().await.unwrap();
    assert_eq!(collection["id"], featured);
    assert_eq!(collection["type"], "OrderedCollection");
    assert_eq!(collection["totalItems"], 0);
    assert_eq!(collection["orderedItems"], serde_json::json!([]));
}
