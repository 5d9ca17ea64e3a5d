//! The hostile-request table (issue 11): well over a hundred requests a hostile peer, browser or
//! script may send, each with the status it must get, and after each one the proof that nothing
//! was stored (every row of every table, before and after, as `db::snapshot` reads them) and
//! nothing was sent (counting servers stand in for a follower and for a blocked peer, and the
//! delivery queue is drained after each row). Runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

use crate::{
    helpers::{spawn_app_with_clock, test_clock, TestApp},
    http_signatures::{digest, FakeMastodon},
    pages::{add_service, Browser},
};
use actix_web::{web, App, HttpResponse, HttpServer};
use reqwest::{redirect::Policy, Method};
use ronron::{
    app::{self, admins, blocks},
    db::{
        self,
        models::{
            followers::{self, NewFollower},
            remote::FollowState,
            tokens,
        },
    },
    federation::keys::{self, SigningKey},
};
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    net::TcpListener,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

/// A server that counts every request it gets and answers 202: a follower's inbox, or a blocked
/// peer (whose keys must never be fetched).
pub struct Sink {
    pub base: String,
    pub port: u16,
    hits: Arc<AtomicUsize>,
    _handle: actix_web::dev::ServerHandle,
}

impl Sink {
    pub async fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let server = HttpServer::new(move || {
            let counter = counter.clone();
            App::new().default_service(web::to(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { HttpResponse::Accepted().finish() }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Sink { base: format!("http://localhost:{port}"), port, hits, _handle: handle }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// One request of the table and what it must get.
struct Row {
    name: String,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    /// A text the answer's body must contain, or `header: value` one of its headers must be.
    says: Vec<String>,
}

impl Row {
    fn new(name: impl Into<String>, method: Method, path: impl Into<String>) -> Row {
        Row {
            name: name.into(),
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
            status: 0,
            says: Vec::new(),
        }
    }
    fn header(mut self, name: &str, value: impl Into<String>) -> Row {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Row {
        self.body = body.into();
        self
    }
    fn json(self, value: &Value) -> Row {
        self.header("content-type", "application/json").body(serde_json::to_vec(value).unwrap())
    }
    fn expect(mut self, status: u16) -> Row {
        self.status = status;
        self
    }
    fn says(mut self, text: impl Into<String>) -> Row {
        self.says.push(text.into());
        self
    }
}

/// Everything the rows are built from: the app under attack and who talks to it.
struct Scene {
    app: TestApp,
    follower: Sink,
    blocked: Sink,
    fake: FakeMastodon,
    secret: String,
    revoked: String,
    cookie: String,
    csrf: String,
    news: String,
}

impl Scene {
    fn host(&self) -> String {
        format!("localhost:{}", self.app.port)
    }
    fn date(&self) -> String {
        httpdate::fmt_http_date(self.app.clock.system_time())
    }
    fn api(&self, name: impl Into<String>, method: Method, path: &str) -> Row {
        Row::new(name, method, format!("/api/v1/admin{path}"))
            .header("authorization", format!("Bearer {}", self.secret))
    }
    /// A form posted by the logged-in admin, its CSRF token added first.
    fn form(&self, name: impl Into<String>, path: &str, fields: &[(&str, &str)]) -> Row {
        let mut pairs = vec![("csrf", self.csrf.as_str())];
        pairs.extend_from_slice(fields);
        self.form_raw(name, path, &pairs)
    }
    fn form_raw(&self, name: impl Into<String>, path: &str, fields: &[(&str, &str)]) -> Row {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        Row::new(name, Method::POST, path)
            .header("cookie", self.cookie.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }
    /// `activity` to `inbox`, signed as Mastodon signs with a fresh key announced as `key_id`.
    fn signed_by_stranger(&self, name: impl Into<String>, inbox: &str, key_id: &str, activity: &Value) -> Row {
        let key = SigningKey::from_pem(&keys::generate().unwrap().private_key_pem).unwrap();
        let body = serde_json::to_vec(activity).unwrap();
        let (date, digest) = (self.date(), digest(&body));
        let signing_string = format!(
            "(request-target): post {inbox}\nhost: {}\ndate: {date}\ndigest: {digest}\ncontent-type: application/activity+json",
            self.host()
        );
        let signature = key.sign_base64(signing_string.as_bytes()).unwrap();
        let header = format!(
            "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest content-type\",signature=\"{signature}\""
        );
        Row::new(name, Method::POST, inbox)
            .header("date", date)
            .header("digest", digest)
            .header("content-type", "application/activity+json")
            .header("signature", header)
            .body(body)
    }
    /// `body` to `/inbox`, signed by the fake Mastodon's `signer` as `key_owner`, dated `date`.
    fn signed_by_peer(&self, name: impl Into<String>, signer: &str, key_owner: &str, date: &str, body: Vec<u8>) -> Row {
        let digest = digest(&body);
        let signature = self.fake.sign(signer, key_owner, "/inbox", &self.host(), date, &digest);
        Row::new(name, Method::POST, "/inbox")
            .header("date", date)
            .header("digest", digest)
            .header("content-type", "application/activity+json")
            .header("signature", signature)
            .body(body)
    }
    fn activity(&self, kind: &str, actor: &str, n: usize) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor}/activities/{kind}-{n}"),
            "type": kind,
            "actor": actor,
            "object": self.app.actor_url(),
        })
    }
    fn alice(&self, kind: &str, n: usize) -> Vec<u8> {
        serde_json::to_vec(&self.activity(kind, &self.fake.actor("alice"), n)).unwrap()
    }
}

/// Every row of every table, the form `db::snapshot` gives.
async fn snapshot(app: &TestApp) -> BTreeMap<String, Vec<String>> {
    app.state.db.read(db::snapshot).await.expect("snapshot")
}

/// What changed between two snapshots, one line per table.
fn changes(before: &BTreeMap<String, Vec<String>>, after: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut changes = Vec::new();
    for (table, rows) in after {
        let old = before.get(table).cloned().unwrap_or_default();
        if &old != rows {
            let added: Vec<_> = rows.iter().filter(|r| !old.contains(r)).collect();
            let removed: Vec<_> = old.iter().filter(|r| !rows.contains(r)).collect();
            changes.push(format!("{table}: added {added:?}, removed {removed:?}"));
        }
    }
    changes
}

async fn scene() -> Scene {
    // The clock stands still, so the rate limits never refill: give this one client room for
    // every row (the limits have their own tests, in `limits`).
    let app = spawn_app_with_clock(0, test_clock(), |config| {
        config.limits.admin_api_burst = 10_000;
        config.limits.inbox_burst = 10_000;
        config.limits.key_fetch_burst = 10_000;
    })
    .await;
    let follower = Sink::start().await;
    let blocked = Sink::start().await;
    let fake = FakeMastodon::start(&["alice", "mallory"]).await;

    // A follower (the counting sink) that gets everything we publish.
    let now = app.state.clock.now();
    let (actor, inbox) = (format!("{}/users/f", follower.base), format!("{}/inbox", follower.base));
    app.state
        .db
        .write(move |c| {
            let new = NewFollower {
                actor_id: &actor,
                inbox: &inbox,
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
    add_service(&app, "cloud", "Nextcloud").await;
    let news = app::bulletins::publish_news(
        &app.state,
        ronron::bulletin::NewsDraft { title: "Bonjour".into(), body_markdown: "Tout va bien.".into(), lang: None },
    )
    .await
    .unwrap()
    .id;
    assert_eq!(app.drain().await, 1);
    assert_eq!(follower.hits(), 1, "the follower got the bulletin: the sink counts");

    for domain in [format!("localhost:{}", blocked.port), "Bad.Example".into(), "bücher.example".into()] {
        blocks::block(&app.state, &domain, Some("hostile".into())).await.unwrap();
    }
    let (_, secret) = app.state.db.write(move |c| tokens::create(c, "tests", now)).await.unwrap();
    let (old, revoked) = app.state.db.write(move |c| tokens::create(c, "old", now)).await.unwrap();
    app::tokens::revoke(&app.state, old.id).await.unwrap();

    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "en");
    assert_eq!(browser.login("camille", "correct horse battery").await, reqwest::StatusCode::SEE_OTHER);
    let csrf = browser.csrf().await;
    let cookie = browser.cookie_header();

    let scene = Scene { app, follower, blocked, fake, secret, revoked, cookie, csrf, news };
    // The peers' actors are cached by an activity we ignore, and the token's first use recorded:
    // the rows then start from a state no honest request would change.
    for signer in ["alice", "mallory"] {
        let body = serde_json::to_vec(&scene.activity("Flag", &scene.fake.actor(signer), 0)).unwrap();
        let row = scene.signed_by_peer("warm-up", signer, signer, &scene.date(), body);
        assert_eq!(send(&scene, &row).await.0, 202);
    }
    let row = scene.api("warm-up", Method::GET, "/bulletins");
    assert_eq!(send(&scene, &row).await.0, 200);
    scene
}

async fn send(scene: &Scene, row: &Row) -> (u16, reqwest::header::HeaderMap, String) {
    let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let mut request = client.request(row.method.clone(), format!("{}{}", scene.app.base(), row.path));
    for (name, value) in &row.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response =
        request.body(row.body.clone()).send().await.unwrap_or_else(|e| panic!("{}: {}", row.name, e.without_url()));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap_or_default();
    (status, headers, String::from_utf8_lossy(&bytes).into_owned())
}

/// Control characters a form, a script or a peer may slip into a text.
const CONTROLS: [char; 4] = ['\u{0}', '\u{1}', '\u{8}', '\u{b}'];

fn code(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

fn rows(s: &Scene) -> Vec<Row> {
    let mut rows = Vec::new();
    let blocked_port = s.blocked.port;

    // ---- A block holds however the blocked host is spelled: refused before any key is fetched.
    let spellings = [
        format!("http://localhost:{blocked_port}/u/x"),
        format!("http://LOCALHOST:{blocked_port}/u/x"),
        format!("http://localhost.:{blocked_port}/u/x"),
        format!("http://LocalHost.:{blocked_port}/u/x"),
        "https://bad.example/users/a".into(),
        "https://BAD.EXAMPLE/users/a".into(),
        "https://bad.example./users/a".into(),
        "https://social.bad.example./users/a".into(),
        "https://Social.Bad.Example/users/a".into(),
        "https://bad.example:8443/users/a".into(),
        "https://bad.example:443/users/a".into(),
        "https://bücher.example/users/a".into(),
        "https://xn--bcher-kva.example/users/a".into(),
        "https://shop.xn--bcher-kva.example./users/a".into(),
        "https://BÜCHER.example/users/a".into(),
    ];
    // A header is ASCII: a Unicode host is sent in punycode in the keyId.
    let key_of = |actor: &str| format!("{}#main-key", url::Url::parse(actor).unwrap());
    let inboxes = ["/inbox", "/u/bulletin/inbox"];
    for (n, actor) in spellings.iter().enumerate() {
        let inbox = inboxes[n % 2];
        let follow = s.activity("Follow", actor, n);
        rows.push(
            s.signed_by_stranger(format!("blocked actor and key {actor}"), inbox, &key_of(actor), &follow)
                .expect(403)
                .says("does not accept"),
        );
        let create = json!({"id": format!("{actor}/create/{n}"), "type": "Create", "actor": actor,
            "object": {"id": format!("{actor}/notes/{n}"), "type": "Note", "content": "spam", "attributedTo": actor}});
        rows.push(
            s.signed_by_stranger(
                format!("blocked actor {actor}, key elsewhere"),
                inbox,
                "https://third.example/users/k#main-key",
                &create,
            )
            .expect(403),
        );
        let alice = s.fake.actor("alice");
        let like = s.activity("Like", &alice, 1000 + n);
        rows.push(
            s.signed_by_stranger(format!("key on blocked host {actor}"), inbox, &key_of(actor), &like).expect(403),
        );
    }
    // The activity's id alone on a blocked host.
    let mut follow = s.activity("Follow", &s.fake.actor("alice"), 1);
    follow["id"] = json!("https://Bad.Example./activities/1");
    rows.push(
        s.signed_by_peer(
            "activity id on a blocked host",
            "alice",
            "alice",
            &s.date(),
            serde_json::to_vec(&follow).unwrap(),
        )
        .expect(403),
    );

    // ---- Signatures, each way wrong (the peer's actor is real and served).
    let date = s.date();
    let body = s.alice("Follow", 1);
    let good_digest = digest(&body);
    let with = |name: &str, headers: Vec<(&str, String)>, body: Vec<u8>| {
        let mut row = Row::new(name, Method::POST, "/inbox").body(body);
        for (k, v) in headers {
            row = row.header(k, v);
        }
        row
    };
    let ct = ("content-type", "application/activity+json".to_string());
    let sig = |signer: &str, owner: &str, target: &str, date: &str, digest: &str| {
        s.fake.sign(signer, owner, target, &s.host(), date, digest)
    };
    let wrong = digest(b"something else");
    rows.push(
        with(
            "wrong digest",
            vec![
                ("date", date.clone()),
                ("digest", wrong.clone()),
                ct.clone(),
                ("signature", sig("alice", "alice", "/inbox", &date, &wrong)),
            ],
            body.clone(),
        )
        .expect(401)
        .says("Digest"),
    );
    rows.push(
        with(
            "no digest",
            vec![
                ("date", date.clone()),
                ct.clone(),
                ("signature", sig("alice", "alice", "/inbox", &date, &good_digest)),
            ],
            body.clone(),
        )
        .expect(401),
    );
    rows.push(
        with(
            "digest of another algorithm",
            vec![
                ("date", date.clone()),
                ("digest", "MD5=AAAA".into()),
                ct.clone(),
                ("signature", sig("alice", "alice", "/inbox", &date, "MD5=AAAA")),
            ],
            body.clone(),
        )
        .expect(401),
    );
    rows.push(
        with(
            "no date",
            vec![
                ("digest", good_digest.clone()),
                ct.clone(),
                ("signature", sig("alice", "alice", "/inbox", &date, &good_digest)),
            ],
            body.clone(),
        )
        .expect(401),
    );
    let old = httpdate::fmt_http_date(s.app.clock.system_time() - std::time::Duration::from_secs(7200));
    rows.push(s.signed_by_peer("expired date", "alice", "alice", &old, body.clone()).expect(401).says("too old"));
    let future = httpdate::fmt_http_date(s.app.clock.system_time() + std::time::Duration::from_secs(7200));
    rows.push(
        s.signed_by_peer("date in the future", "alice", "alice", &future, body.clone()).expect(401).says("future"),
    );
    rows.push(
        with(
            "a date that is no date",
            vec![
                ("date", "yesterday".into()),
                ("digest", good_digest.clone()),
                ct.clone(),
                ("signature", sig("alice", "alice", "/inbox", "yesterday", &good_digest)),
            ],
            body.clone(),
        )
        .expect(401),
    );
    rows.push(
        s.signed_by_peer("wrong key (mallory's under alice's keyId)", "mallory", "alice", &date, body.clone())
            .expect(401)
            .says("does not match"),
    );
    rows.push(
        s.signed_by_peer("signer is not the actor", "mallory", "mallory", &date, body.clone())
            .expect(401)
            .says("not the signer"),
    );
    rows.push(
        with("no signature", vec![("date", date.clone()), ("digest", good_digest.clone()), ct.clone()], body.clone())
            .expect(401)
            .says("not signed"),
    );
    rows.push(
        with(
            "a signature header that is garbage",
            vec![("date", date.clone()), ("digest", good_digest.clone()), ct.clone(), ("signature", "garbage".into())],
            body.clone(),
        )
        .expect(401),
    );
    rows.push(
        with(
            "a signature over another path",
            vec![
                ("date", date.clone()),
                ("digest", good_digest.clone()),
                ct.clone(),
                ("signature", sig("alice", "alice", "/u/bulletin/inbox", &date, &good_digest)),
            ],
            body.clone(),
        )
        .expect(401),
    );
    let partial = |headers: &str, string: String| {
        let signature = s.fake.sign_string("alice", &string);
        format!(
            "keyId=\"{}#main-key\",algorithm=\"rsa-sha256\",headers=\"{headers}\",signature=\"{signature}\"",
            s.fake.actor("alice")
        )
    };
    let host = s.host();
    rows.push(
        with(
            "a signature that does not cover the date",
            vec![
                ("date", date.clone()),
                ("digest", good_digest.clone()),
                ct.clone(),
                (
                    "signature",
                    partial(
                        "(request-target) host digest",
                        format!("(request-target): post /inbox\nhost: {host}\ndigest: {good_digest}"),
                    ),
                ),
            ],
            body.clone(),
        )
        .expect(401)
        .says("date"),
    );
    rows.push(
        with(
            "a signature that does not cover the digest",
            vec![
                ("date", date.clone()),
                ("digest", good_digest.clone()),
                ct.clone(),
                (
                    "signature",
                    partial(
                        "(request-target) host date",
                        format!("(request-target): post /inbox\nhost: {host}\ndate: {date}"),
                    ),
                ),
            ],
            body.clone(),
        )
        .expect(401),
    );
    rows.push(
        with(
            "a signature over another host",
            vec![
                ("date", date.clone()),
                ("digest", good_digest.clone()),
                ct.clone(),
                (
                    "signature",
                    partial(
                        "(request-target) host date digest",
                        format!(
                            "(request-target): post /inbox\nhost: evil.example\ndate: {date}\ndigest: {good_digest}"
                        ),
                    ),
                ),
            ],
            body.clone(),
        )
        .expect(401),
    );
    let key_id = |id: &str| {
        format!(
            "keyId=\"{id}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest\",signature=\"AAAA\""
        )
    };
    rows.push(
        with(
            "a keyId that is no URL",
            vec![("date", date.clone()), ("digest", good_digest.clone()), ct.clone(), ("signature", key_id("alice"))],
            body.clone(),
        )
        .expect(401),
    );
    rows.push(
        with(
            "a keyId on this server",
            vec![
                ("date", date.clone()),
                ("digest", good_digest.clone()),
                ct.clone(),
                ("signature", key_id(&format!("{}#main-key", s.app.actor_url()))),
            ],
            body.clone(),
        )
        .expect(401),
    );
    rows.push(
        with(
            "a keyId of an actor that does not exist",
            vec![
                ("date", date.clone()),
                ("digest", good_digest.clone()),
                ct.clone(),
                ("signature", key_id(&format!("{}#main-key", s.fake.actor("nobody")))),
            ],
            body.clone(),
        )
        .expect(401),
    );

    // ---- Bodies: malformed, oversized, deeply nested, unknown, of the wrong type.
    let json_ct = ("content-type", "application/activity+json".to_string());
    for (name, bytes, status, says) in [
        ("truncated JSON", b"{\"id\": ".to_vec(), 400, "not valid JSON"),
        ("empty body", Vec::new(), 400, ""),
        ("a JSON array", b"[1, 2]".to_vec(), 400, ""),
        ("a JSON string", b"\"Follow\"".to_vec(), 400, ""),
        ("JSON null", b"null".to_vec(), 400, ""),
        ("not UTF-8", vec![0xff, 0xfe, b'{', b'}'], 400, ""),
        ("no id", br#"{"type":"Follow","actor":"https://peer.example/u/a"}"#.to_vec(), 400, "`id`"),
        ("no type", br#"{"id":"https://peer.example/1","actor":"https://peer.example/u/a"}"#.to_vec(), 400, ""),
        ("no actor", br#"{"id":"https://peer.example/1","type":"Follow"}"#.to_vec(), 400, ""),
        (
            "an id that is no URL",
            br#"{"id":"not a url","type":"Follow","actor":"https://peer.example/u/a"}"#.to_vec(),
            400,
            "",
        ),
        (
            "an actor of the wrong type",
            br#"{"id":"https://peer.example/1","type":"Follow","actor":42}"#.to_vec(),
            400,
            "",
        ),
    ] {
        let mut row = with(name, vec![json_ct.clone()], bytes).expect(status);
        if !says.is_empty() {
            row = row.says(says);
        }
        rows.push(row);
    }
    rows.push(
        with("a body over 1 MiB", vec![json_ct.clone()], vec![b' '; 1024 * 1024 + 1]).expect(413).says("larger than"),
    );
    let deep = format!("{{\"id\":\"https://peer.example/1\",\"type\":\"Note\",\"actor\":\"https://peer.example/u/a\",\"object\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    rows.push(with("JSON nested 100,000 deep", vec![json_ct.clone()], deep.into_bytes()).expect(400));
    for (n, kind) in ["Flag", "Move", "Block", "Add", "Question", "Bogus"].iter().enumerate() {
        rows.push(
            s.signed_by_peer(
                format!("unknown or ignored type {kind}"),
                "alice",
                "alice",
                &date,
                s.alice(kind, 100 + n),
            )
            .expect(202),
        );
    }
    // What a peer that nobody follows posts is not kept, whatever characters it holds.
    for (n, c) in CONTROLS.iter().enumerate() {
        let alice = s.fake.actor("alice");
        let create = json!({"id": format!("{alice}/create/{n}"), "type": "Create", "actor": alice,
            "object": {"id": format!("{alice}/notes/{n}"), "type": "Note", "attributedTo": alice,
                "content": format!("x{c}y"), "name": format!("t{c}"), "summary": format!("s{c}")}});
        rows.push(
            s.signed_by_peer(
                format!("a post with {} from a peer not followed", code(*c)),
                "alice",
                "alice",
                &date,
                serde_json::to_vec(&create).unwrap(),
            )
            .expect(202),
        );
    }
    // An activity whose id or actor holds a control character (a URL parser would drop or
    // escape it, and the activity be stored under another id than its server's).
    for (n, (field, c)) in
        [("id", '\u{0}'), ("id", '\t'), ("id", '\n'), ("actor", '\u{1}'), ("actor", '\u{b}')].into_iter().enumerate()
    {
        let mut follow = s.activity("Follow", &s.fake.actor("alice"), 7 + n);
        let spoilt = format!("{}/x{c}{n}", s.fake.base);
        follow[field] = json!(spoilt);
        rows.push(
            s.signed_by_peer(
                format!("an activity {field} with {}", code(c)),
                "alice",
                "alice",
                &date,
                serde_json::to_vec(&follow).unwrap(),
            )
            .expect(400)
            .says(format!("`{field}` holds a control character ({})", code(c))),
        );
    }

    // ---- Control characters in every text field of the admin API.
    let news = s.news.clone();
    for c in CONTROLS {
        let t = |v: &str| format!("{v}{c}");
        let cc = code(c);
        for field in ["title", "body", "translation_title", "translation_body"] {
            let mut body = json!({"kind": "news", "title": "Titre", "body": "Corps", "translation_lang": "en", "translation_title": "T", "translation_body": "B"});
            body[field] = json!(t("x"));
            rows.push(
                s.api(format!("API new bulletin, {field} with {cc}"), Method::POST, "/bulletins")
                    .json(&body)
                    .expect(422)
                    .says(format!("{field}: contains a control character ({cc})")),
            );
        }
        for field in ["title", "body"] {
            rows.push(
                s.api(format!("API edit, {field} with {cc}"), Method::PATCH, &format!("/bulletins/{news}"))
                    .json(&json!({field: t("x")}))
                    .expect(422)
                    .says(cc.clone()),
            );
        }
        for field in ["slug", "name", "software", "description", "audience"] {
            let mut body = json!({"slug": "mail", "name": "Courriel", "software": "Postfix", "url": "https://mail.chaton.example", "description": "", "audience": "", "registration": "open"});
            body[field] = json!(t("x"));
            rows.push(
                s.api(format!("API new service, {field} with {cc}"), Method::POST, "/services")
                    .json(&body)
                    .expect(422)
                    .says(field),
            );
        }
        for field in ["name", "description"] {
            rows.push(
                s.api(format!("API edit service, {field} with {cc}"), Method::PATCH, "/services/cloud")
                    .json(&json!({field: t("x")}))
                    .expect(422)
                    .says(field),
            );
        }
        for field in ["display_name", "summary", "region"] {
            rows.push(
                s.api(format!("API profile, {field} with {cc}"), Method::PATCH, "/profile")
                    .json(&json!({field: t("x")}))
                    .expect(422)
                    .says(field),
            );
        }
        rows.push(
            s.api(format!("API token name with {cc}"), Method::POST, "/tokens")
                .json(&json!({"name": t("t")}))
                .expect(422)
                .says("name"),
        );
        rows.push(
            s.api(format!("API block reason with {cc}"), Method::POST, "/blocks")
                .json(&json!({"domain": "spam.example", "reason": t("r")}))
                .expect(422)
                .says("reason"),
        );
        // In the middle: a vertical tab around a name is white space, trimmed as any.
        rows.push(
            s.api(format!("API block domain with {cc}"), Method::POST, "/blocks")
                .json(&json!({"domain": format!("spam{c}.example")}))
                .expect(422)
                .says("domain"),
        );
        rows.push(
            s.api(format!("API follow handle with {cc}"), Method::POST, "/following")
                .json(&json!({"handle": format!("alice@peer{c}.example")}))
                .expect(422)
                .says("handle"),
        );
    }

    // ---- Control characters in every text field of the web admin's forms.
    for c in CONTROLS {
        let v = format!("x{c}y");
        let cc = code(c);
        for field in ["title", "body"] {
            let mut fields = vec![("kind", "news"), ("title", "Titre"), ("body", "Corps"), ("action", "publish")];
            fields.iter_mut().find(|(k, _)| *k == field).unwrap().1 = &v;
            rows.push(s.form(format!("form compose, {field} with {cc}"), "/admin/compose", &fields).expect(422).says(
                format!(
                    "id=\"error-{field}\">Ce texte contient un caractère invisible qui ne peut pas être publié ({cc})"
                ),
            ));
        }
        for field in ["slug", "name", "software", "description"] {
            let mut fields = vec![
                ("slug", "mail"),
                ("name", "Courriel"),
                ("software", "Postfix"),
                ("url", "https://mail.chaton.example"),
                ("description", ""),
                ("audience", ""),
                ("registration", "open"),
            ];
            fields.iter_mut().find(|(k, _)| *k == field).unwrap().1 = &v;
            rows.push(
                s.form(format!("form new service, {field} with {cc}"), "/admin/services", &fields)
                    .expect(422)
                    .says(cc.clone()),
            );
        }
        rows.push(
            s.form(
                format!("form profile, display_name with {cc}"),
                "/admin/profile",
                &[("display_name", &v), ("summary", "")],
            )
            .expect(422)
            .says(cc.clone()),
        );
        rows.push(
            s.form(format!("form token name with {cc}"), "/admin/tokens", &[("name", &v)]).expect(422).says(cc.clone()),
        );
        rows.push(
            s.form(
                format!("form block reason with {cc}"),
                "/admin/peers/block",
                &[("target", "spam.example"), ("reason", &v)],
            )
            .expect(422)
            .says(cc.clone()),
        );
    }

    // ---- Bad form fields and forged forms.
    rows.push(
        s.form(
            "compose: an unknown kind",
            "/admin/compose",
            &[("kind", "gossip"), ("title", "T"), ("body", "B"), ("action", "publish")],
        )
        .expect(422),
    );
    rows.push(
        s.form("compose: no title", "/admin/compose", &[("kind", "news"), ("body", "B"), ("action", "publish")])
            .expect(422),
    );
    rows.push(
        s.form(
            "compose: a publish time that is no time",
            "/admin/compose",
            &[("kind", "news"), ("title", "T"), ("body", "B"), ("publish_at", "demain"), ("action", "publish")],
        )
        .expect(422)
        .says("publish"),
    );
    rows.push(
        s.form(
            "compose: a change on an unknown service",
            "/admin/compose",
            &[("kind", "incident"), ("services", "mail"), ("title", "T"), ("body", "B"), ("action", "publish")],
        )
        .expect(422),
    );
    rows.push(
        s.form_raw(
            "compose without the CSRF token",
            "/admin/compose",
            &[("kind", "news"), ("title", "T"), ("body", "B"), ("action", "publish")],
        )
        .expect(403),
    );
    rows.push(
        s.form_raw(
            "compose with a wrong CSRF token",
            "/admin/compose",
            &[("csrf", "forged"), ("kind", "news"), ("title", "T"), ("body", "B"), ("action", "publish")],
        )
        .expect(403),
    );
    rows.push(
        Row::new("compose without a session", Method::POST, "/admin/compose")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={}&kind=news&title=T&body=B&action=publish", s.csrf))
            .expect(303)
            .says("location: /admin/login?next=%2Fadmin%2Fcompose"),
    );
    rows.push(
        Row::new("compose sent as JSON", Method::POST, "/admin/compose")
            .header("cookie", s.cookie.clone())
            .json(&json!({"csrf": s.csrf, "kind": "news", "title": "T", "body": "B"}))
            .expect(403),
    );
    rows.push(s.form("delete an unknown bulletin", "/admin/bulletins/nope/delete", &[]).expect(404));
    rows.push(s.form("an unknown action on a bulletin", &format!("/admin/bulletins/{news}/explode"), &[]).expect(404));
    rows.push(s.form("block an empty domain", "/admin/peers/block", &[("target", ""), ("reason", "")]).expect(422));
    rows.push(s.form("revoke a token that is no number", "/admin/tokens/abc/revoke", &[]).expect(404));

    // ---- Bad API requests.
    rows.push(
        s.api("API: malformed JSON", Method::POST, "/bulletins")
            .json(&json!(null))
            .body(r#"{"kind": "news", "title": "Bonjour",}"#)
            .expect(400)
            .says("malformed JSON"),
    );
    rows.push(
        s.api("API: empty body", Method::POST, "/bulletins").header("content-type", "application/json").expect(400),
    );
    rows.push(
        s.api("API: a JSON array", Method::POST, "/bulletins")
            .json(&json!(["news", "x", "y"]))
            .expect(400)
            .says("must be a JSON object"),
    );
    rows.push(
        s.api("API: a JSON string", Method::POST, "/bulletins")
            .json(&json!("news"))
            .expect(400)
            .says("must be a JSON object"),
    );
    rows.push(
        s.api("API: an unknown field", Method::POST, "/bulletins")
            .json(&json!({"kind": "news", "titel": "x"}))
            .expect(422)
            .says("unknown field"),
    );
    rows.push(
        s.api("API: a field of the wrong type", Method::POST, "/bulletins")
            .json(&json!({"kind": "news", "title": ["x"]}))
            .expect(422)
            .says("invalid type"),
    );
    rows.push(
        s.api("API: an unknown kind", Method::POST, "/bulletins")
            .json(&json!({"kind": "gossip", "title": "x", "body": "y"}))
            .expect(422),
    );
    rows.push(
        s.api("API: a publish time that is no time", Method::POST, "/bulletins")
            .json(&json!({"kind": "news", "title": "x", "body": "y", "publish_at": "demain"}))
            .expect(422)
            .says("publish_at"),
    );
    rows.push(
        s.api("API: a change on an unknown service", Method::POST, "/bulletins")
            .json(&json!({"kind": "change", "title": "Panne", "change": {"type": "incident", "services": ["mail"]}}))
            .expect(422)
            .says("change.services"),
    );
    rows.push(
        s.api("API: a body over 64 KiB", Method::POST, "/bulletins")
            .header("content-type", "application/json")
            .body(vec![b' '; 64 * 1024 + 1])
            .expect(413),
    );
    let deep = format!("{{\"kind\":\"news\",\"title\":{}{}}}", "[".repeat(30_000), "]".repeat(30_000));
    rows.push(
        s.api("API: JSON nested 30,000 deep", Method::POST, "/bulletins")
            .header("content-type", "application/json")
            .body(deep)
            .expect(422)
            .says("title: invalid type: sequence"),
    );
    rows.push(
        s.api("API: sent as a form", Method::POST, "/bulletins")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("kind=news&title=x")
            .expect(400),
    );
    rows.push(
        s.api("API: a title of 30,000 characters", Method::POST, "/bulletins")
            .json(&json!({"kind": "news", "title": "x".repeat(30_000), "body": "y"}))
            .expect(422)
            .says("title"),
    );
    rows.push(
        s.api("API: an unknown bulletin", Method::PATCH, "/bulletins/nope").json(&json!({"title": "x"})).expect(404),
    );
    rows.push(
        s.api("API: a follow-up of news", Method::POST, &format!("/bulletins/{news}/follow-ups"))
            .json(&json!({"state": "resolved"}))
            .expect(409),
    );
    rows.push(s.api("API: a service that exists", Method::POST, "/services").json(&json!({"slug": "cloud", "name": "N", "software": "S", "url": "https://cloud.chaton.example", "registration": "open"})).expect(409).says("slug"));
    rows.push(
        s.api("API: an unknown criterion", Method::PUT, "/label/nope").json(&json!({"grade": "met"})).expect(404),
    );
    rows.push(
        s.api("API: a grade that is no grade", Method::PUT, "/label/transparent.incidents")
            .json(&json!({"grade": "great"}))
            .expect(422),
    );
    rows.push(s.api("API: a list limit too large", Method::GET, "/bulletins?limit=1000").expect(400).says("limit"));
    rows.push(
        s.api("API: follow a blocked server", Method::POST, "/following")
            .json(&json!({"handle": "alice@social.bad.example."}))
            .expect(409)
            .says("blocked"),
    );
    rows.push(s.api("API: unblock what is not blocked", Method::DELETE, "/blocks/nope.example").expect(404));
    rows.push(s.api("API: revoke an unknown token", Method::DELETE, "/tokens/999999").expect(404));

    // ---- Bad API tokens: 401 before anything is read.
    for (name, value) in [
        ("no Authorization", None),
        ("an empty bearer", Some("Bearer ".to_string())),
        ("another scheme", Some(format!("Basic {}", s.secret))),
        ("an unknown token", Some("Bearer rr_wrong".to_string())),
        ("a revoked token", Some(format!("Bearer {}", s.revoked))),
        ("the token with one character more", Some(format!("Bearer {}x", s.secret))),
    ] {
        for (method, path) in [(Method::GET, "/bulletins"), (Method::POST, "/bulletins"), (Method::DELETE, "/nope")] {
            let mut row =
                Row::new(format!("API {method} {path}: {name}"), method.clone(), format!("/api/v1/admin{path}"))
                    .json(&json!({"kind": "news", "title": "x", "body": "y"}));
            if let Some(value) = &value {
                row = row.header("authorization", value.clone());
            }
            rows.push(row.expect(401).says(
                "www-authenticate: Bearer realm=\"ronron\"".to_string()
                    + if name.contains("unknown") || name.contains("revoked") || name.contains("more") {
                        ", error=\"invalid_token\""
                    } else {
                        ""
                    },
            ));
        }
    }

    // ---- Methods a path does not answer: 405 naming those it does.
    for (method, path, allow) in [
        (Method::PUT, "/status", "GET, HEAD"),
        (Method::DELETE, "/", "GET, HEAD"),
        (Method::POST, "/u/bulletin", "GET, HEAD"),
        (Method::PATCH, "/u/bulletin/outbox", "GET, HEAD"),
        (Method::GET, "/inbox", "POST"),
        (Method::HEAD, "/u/bulletin/inbox", "POST"),
        (Method::PUT, "/u/bulletin/inbox", "POST"),
        (Method::DELETE, "/admin/compose", "GET, HEAD, POST"),
        (Method::GET, "/admin/logout", "POST"),
        (Method::OPTIONS, "/timeline", "GET, HEAD"),
    ] {
        rows.push(Row::new(format!("{method} {path}"), method, path).expect(405).says(format!("allow: {allow}")));
    }
    rows.push(
        s.api("API PUT /bulletins", Method::PUT, "/bulletins")
            .json(&json!({}))
            .expect(405)
            .says("allow: GET, HEAD, POST"),
    );
    rows.push(s.api("API GET /bulletins/x/cancel", Method::GET, "/bulletins/x/cancel").expect(405).says("allow: POST"));

    // ---- The login page's `next`: anything but a plain admin path falls back to the dashboard.
    for next in [
        "%2Fadmin%0D%0ASet-Cookie%3A%20evil%3D1",
        "%2Fadmin%0Ax",
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example",
        "%2Fadmin%00",
    ] {
        rows.push(
            Row::new(format!("login next={next}"), Method::GET, format!("/admin/login?next={next}"))
                .header("accept", "text/html")
                .expect(200)
                .says("name=\"next\" value=\"/admin\""),
        );
    }

    // ---- Path traversal: nothing outside what the routes serve.
    for path in [
        "/assets/../Cargo.toml",
        "/assets/..%2fCargo.toml",
        "/assets/%2e%2e%2fCargo.toml",
        "/assets/%2e%2e/%2e%2e/etc/passwd",
        "/assets/style.css%00.js",
        "/assets/..%5cCargo.toml",
        "/b/..%2f..%2fetc%2fpasswd",
        "/u/..%2fbulletin",
        "/services/..%2f..%2fCargo.toml",
        "/u/bulletin/..%2f..%2fCargo.toml",
    ] {
        rows.push(Row::new(format!("traversal {path}"), Method::GET, path).header("accept", "text/html").expect(404));
    }

    // ---- Huge or wrong query parameters.
    let huge = "x".repeat(20_000);
    rows.push(
        Row::new("timeline kind of 20,000 characters", Method::GET, format!("/timeline?kind={huge}")).expect(400),
    );
    rows.push(
        Row::new("API timeline kind of 20,000 characters", Method::GET, format!("/api/v1/timeline?kind={huge}"))
            .expect(400),
    );
    rows.push(
        Row::new(
            "API timeline limit of 20,000 digits",
            Method::GET,
            format!("/api/v1/timeline?limit={}", "9".repeat(20_000)),
        )
        .expect(400),
    );
    rows.push(
        Row::new("API timeline a before that is no cursor", Method::GET, format!("/api/v1/timeline?before={huge}"))
            .expect(400),
    );
    rows.push(Row::new("API timeline since that is no date", Method::GET, "/api/v1/timeline?since=hier").expect(400));
    rows.push(
        Row::new("API directory grade without criterion", Method::GET, "/api/v1/directory?grade=met").expect(400),
    );
    rows.push(
        Row::new(
            "webfinger of 20,000 characters",
            Method::GET,
            format!("/.well-known/webfinger?resource=acct:{huge}@localhost"),
        )
        .expect(404),
    );
    rows.push(Row::new("webfinger without resource", Method::GET, "/.well-known/webfinger").expect(400));
    rows.push(
        Row::new("a query of 60,000 characters", Method::GET, format!("/timeline?q={}", "x".repeat(60_000)))
            .expect(200),
    );
    rows
}

#[tokio::test]
async fn every_hostile_request_gets_its_status_and_leaves_nothing_stored_or_sent() {
    let scene = scene().await;
    let rows = rows(&scene);
    assert!(rows.len() >= 120, "the table has {} rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let before = snapshot(&scene.app).await;
        let sent = (scene.follower.hits(), scene.blocked.hits());
        let (status, headers, body) = send(&scene, row).await;
        let mut problems = Vec::new();
        if status != row.status {
            problems.push(format!("status {status}, expected {}", row.status));
        }
        for says in &row.says {
            let in_header = says.split_once(": ").is_some_and(|(name, value)| {
                headers.get_all(name).iter().any(|v| v.to_str().is_ok_and(|v| v.starts_with(value)))
            });
            if !in_header && !body.contains(says.as_str()) {
                problems.push(format!("does not say {says:?}"));
            }
        }
        scene.app.drain().await;
        let after = snapshot(&scene.app).await;
        problems.extend(changes(&before, &after).into_iter().map(|c| format!("stored: {c}")));
        let now = (scene.follower.hits(), scene.blocked.hits());
        if now != sent {
            problems.push(format!("sent: follower/blocked peer got {now:?} requests, had {sent:?}"));
        }
        if !problems.is_empty() {
            let shown: String = body.chars().take(300).collect();
            failures.push(format!("{}: {} — answer: {shown}", row.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), rows.len(), failures.join("\n"));
    // The app still works: a good request goes through and is sent.
    let ok = scene
        .api("a good bulletin", Method::POST, "/bulletins")
        .json(&json!({"kind": "news", "title": "Fin", "body": "Tout va bien."}));
    assert_eq!(send(&scene, &ok.expect(201)).await.0, 201);
    scene.app.drain().await;
    assert_eq!(scene.follower.hits(), 2, "the follower got the good bulletin");
}
