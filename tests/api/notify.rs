//! Subscribers outside the fediverse: email through a real SMTP server (Python's aiosmtpd, in
//! tests/interop/smtp_sink.py; required when REQUIRE_INTEROP_TEST=1, otherwise skipped with a
//! notice when it is not installed), and webhooks to a real HTTP receiver that checks the HMAC.

use crate::helpers::{eventually, spawn_app_with, TestApp};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use ronron::{
    app::{
        bulletins::{self as publish, PostDraft},
        catalogue,
        notify::{self, NewWebhook},
    },
    bulletin::{vocab::*, ChangeDraft, NewsDraft, ServiceDraft, TextDraft},
    config::Config,
    db::models::notify as queue,
};
use serde_json::Value;
use std::{
    net::TcpListener,
    path::Path,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};

fn news(title: &str) -> NewsDraft {
    NewsDraft { title: title.into(), body_markdown: format!("{title}: **details**."), lang: Some("en".into()) }
}

fn incident() -> ChangeDraft {
    ChangeDraft {
        change_type: ChangeType::Incident,
        services: vec!["pads".into()],
        impact: Some(Impact::Major),
        status: None,
        registration: None,
        new_url: None,
        starts_at: None,
        ends_at: None,
    }
}

fn text(lang: &str, title: &str, body: &str) -> PostDraft {
    PostDraft {
        main: TextDraft { lang: Some(lang.into()), title: title.into(), body_markdown: body.into() },
        ..Default::default()
    }
}

async fn add_pads(app: &TestApp) {
    catalogue::add(
        &app.state,
        ServiceDraft {
            slug: "pads".into(),
            name: "Pads".into(),
            software: "Etherpad".into(),
            url: "https://pad.chaton.example".into(),
            description: "Collaborative notes".into(),
            audience: "everyone".into(),
            registration: "open".into(),
        },
    )
    .await
    .unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn with_smtp(port: u16) -> impl FnOnce(&mut Config) {
    move |config: &mut Config| {
        config.smtp.host = Some("127.0.0.1".into());
        config.smtp.port = port;
        config.smtp.security = "none".into();
        config.smtp.from = Some("Bulletin <bulletin@chaton.example>".into());
    }
}

// ---------------------------------------------------------------- a webhook receiver

#[derive(Clone, Debug)]
struct Call {
    event: String,
    signature: String,
    body: Vec<u8>,
}

/// An HTTP server on loopback that keeps every call; answers `status` (shared, so a test can
/// make it fail and then recover).
struct Receiver {
    url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    status: Arc<Mutex<u16>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    async fn start() -> Receiver {
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let status = Arc::new(Mutex::new(204u16));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
        let (c, s) = (calls.clone(), status.clone());
        let server = HttpServer::new(move || {
            let (c, s) = (c.clone(), s.clone());
            App::new().route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let (c, s) = (c.clone(), s.clone());
                    async move {
                        let header = |name: &str| {
                            req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
                        };
                        c.lock().unwrap().push(Call {
                            event: header("x-ronron-event"),
                            signature: header("x-ronron-signature-256"),
                            body: body.to_vec(),
                        });
                        let status = *s.lock().unwrap();
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
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
        Receiver { url, calls, status, handle }
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

/// Checks the signature as a receiver would, with its own HMAC (not Ronron's).
fn verifies(secret: &str, call: &Call) -> bool {
    let Some(hex) = call.signature.strip_prefix("sha256=") else { return false };
    let Ok(tag) = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    aws_lc_rs::hmac::verify(&key, &call.body, &tag).is_ok()
}

// ---------------------------------------------------------------- webhooks

#[tokio::test]
async fn webhooks_get_each_bulletin_and_change_of_state_signed_and_filtered() {
    let app = spawn_app_with(0, |_| {}).await;
    add_pads(&app).await;
    let receiver = Receiver::start().await;
    let every =
        notify::add_webhook(&app.state, NewWebhook { url: receiver.url.clone(), ..Default::default() }).await.unwrap();
    let incidents = notify::add_webhook(
        &app.state,
        NewWebhook {
            url: receiver.url.clone(),
            kinds: vec!["incident".into()],
            events: vec!["bulletin.published".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_ne!(every.secret, incidents.secret);

    publish::publish_news(&app.state, news("Hello")).await.unwrap();
    let root = publish::publish_change(&app.state, text("en", "Pads are down", "Looking."), incident()).await.unwrap();
    publish::post_follow_up(&app.state, &root.id, text("en", "", "Fixed."), ChangeState::Resolved, None).await.unwrap();
    ronron::jobs::notify::drain(&app.state).await.unwrap();

    let calls = receiver.calls();
    let events: Vec<(String, String)> = calls
        .iter()
        .map(|c| {
            let v: Value = serde_json::from_slice(&c.body).unwrap();
            assert_eq!(v["event"], c.event.as_str());
            (c.event.clone(), v["bulletin"]["kind"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    // Everything: news, the incident, its follow-up, and the incident's state change (an Update).
    // The incidents-only hook: the incident and its follow-up, published.
    assert_eq!(calls.len(), 4 + 2, "{events:?}");
    assert_eq!(events.iter().filter(|(e, _)| e == "bulletin.updated").count(), 1, "{events:?}");
    let signed_by = |secret: &str| calls.iter().filter(|c| verifies(secret, c)).count();
    assert_eq!(signed_by(&every.secret), 4);
    assert_eq!(signed_by(&incidents.secret), 2);
    let update = calls.iter().find(|c| c.event == "bulletin.updated").unwrap();
    let update: Value = serde_json::from_slice(&update.body).unwrap();
    assert_eq!(update["bulletin"]["state"], "resolved");
    assert_eq!(update["bulletin"]["change_type"], "incident");
    assert_eq!(update["bulletin"]["services"][0]["slug"], "pads");
    assert_eq!(update["bulletin"]["url"], app.state.urls.bulletin(&root.id).as_str());

    // A failing receiver is retried from the queue; the log says what happened.
    *receiver.status.lock().unwrap() = 503;
    publish::publish_news(&app.state, news("Again")).await.unwrap();
    ronron::jobs::notify::drain(&app.state).await.unwrap();
    let (_, log) = notify::webhook_log(&app.state, &every.id).await.unwrap();
    assert_eq!(log[0].status, queue::PENDING);
    assert_eq!(log[0].last_status, Some(503));
    *receiver.status.lock().unwrap() = 204;
    notify::retry_now(&app.state).await.unwrap();
    ronron::jobs::notify::drain(&app.state).await.unwrap();
    let (_, log) = notify::webhook_log(&app.state, &every.id).await.unwrap();
    assert_eq!((log[0].status.as_str(), log[0].attempts), (queue::SENT, 2));
    receiver.handle.stop(true).await;
}

#[tokio::test]
async fn no_webhook_to_a_private_or_plain_http_address_outside_dev_mode() {
    let app = spawn_app_with(0, |c| c.instance.dev_mode = Some(false)).await;
    for (url, says) in [
        ("http://hooks.example.org/x", "https"),
        ("https://10.0.0.7/x", "IP address"),
        ("https://localhost/x", "this machine"),
        ("ftp://hooks.example.org/x", "https"),
        ("not a url", "not a URL"),
    ] {
        let e =
            notify::add_webhook(&app.state, NewWebhook { url: url.into(), ..Default::default() }).await.unwrap_err();
        assert_eq!(e.field(), Some("url"), "{url}: {e}");
        assert!(e.to_string().contains(says), "{url}: {e}");
    }
    let e = notify::add_webhook(
        &app.state,
        NewWebhook {
            url: "https://hooks.example.org/x".into(),
            events: vec!["bulletin.eaten".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(e.to_string().starts_with("events: `bulletin.eaten` is not one of"), "{e}");
}

#[tokio::test]
async fn the_admin_api_registers_lists_and_removes_webhooks_and_shows_their_log() {
    let app = spawn_app_with(0, |_| {}).await;
    let (_, secret) = ronron::app::tokens::create(&app.state, "script").await.unwrap();
    let client = reqwest::Client::new();
    let base = format!("{}/api/v1/admin", app.base());
    let created = client
        .post(format!("{base}/webhooks"))
        .bearer_auth(&secret)
        .json(&serde_json::json!({"url": "http://127.0.0.1:9/hook", "kinds": ["maintenance"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = created["id"].as_str().unwrap().to_string();
    let list: Value =
        client.get(format!("{base}/webhooks")).bearer_auth(&secret).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["webhooks"][0]["kinds"][0], "maintenance");
    assert!(list["webhooks"][0].get("secret").is_none(), "the secret is shown once: {list}");
    let bad = client
        .post(format!("{base}/webhooks"))
        .bearer_auth(&secret)
        .json(&serde_json::json!({"url": "http://127.0.0.1:9/hook", "kinds": ["weather"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let log = client.get(format!("{base}/webhooks/{id}/deliveries")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(log.status(), 200);
    let gone = client.delete(format!("{base}/webhooks/{id}")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(gone.status(), 204);
    let again = client.delete(format!("{base}/webhooks/{id}")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(again.status(), 404);
}

// ---------------------------------------------------------------- the subscription form

async fn post_form(app: &TestApp, body: &str, from: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/subscriptions", app.base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept-language", "fr")
        .header("x-forwarded-for", from)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn queued_emails(app: &TestApp) -> i64 {
    app.state.db.read(|c| queue::count(c, queue::EMAIL, queue::PENDING)).await.unwrap()
}

#[tokio::test]
async fn the_form_sends_one_confirmation_per_address_and_limits_each_client() {
    // Nothing listens on the relay's port: emails wait in the queue, which is what is counted.
    let app = spawn_app_with(0, |c| {
        with_smtp(free_port())(c);
        c.server.trusted_proxies = vec!["127.0.0.1/32".into()];
        c.smtp.subscriptions_per_hour = 3;
    })
    .await;
    let page = reqwest::get(app.base()).await.unwrap().text().await.unwrap();
    assert!(page.contains("name=\"email\"") && page.contains("subscriptions"), "the host page has the form");
    let status = reqwest::get(format!("{}/status", app.base())).await.unwrap().text().await.unwrap();
    assert!(status.contains("name=\"email\""), "the status page has the form");

    let ok = post_form(&app, "email=alice%40example.org&lang=fr&scope=all", "192.0.2.1").await;
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("Vérifiez votre boîte de réception"));
    // The same address again: the same answer, no second email (no mail bombing a third party).
    let again = post_form(&app, "email=alice%40EXAMPLE.org&lang=fr&scope=changes", "192.0.2.2").await;
    assert_eq!(again.status(), 200);
    assert_eq!(queued_emails(&app).await, 1);

    let bad = post_form(&app, "email=alice&lang=fr", "192.0.2.1").await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("adresse électronique n’est pas valide"));
    let unknown = post_form(&app, "email=bob%40example.org&services=nope", "192.0.2.1").await;
    assert_eq!(unknown.status(), 422);

    // One client may ask for 3 addresses an hour, then gets 429.
    for n in 0..2 {
        let r = post_form(&app, &format!("email=user{n}%40example.org"), "192.0.2.1").await;
        assert_eq!(r.status(), 200);
    }
    let flood = post_form(&app, "email=victim%40example.org", "192.0.2.1").await;
    assert_eq!(flood.status(), 429);
    assert_eq!(queued_emails(&app).await, 3);
    let subscribers = notify::subscribers(&app.state).await.unwrap();
    assert_eq!((subscribers.confirmed, subscribers.pending), (0, 3));
    // Unconfirmed addresses get no bulletin.
    publish::publish_news(&app.state, news("Not for them")).await.unwrap();
    assert_eq!(queued_emails(&app).await, 3);
}

#[tokio::test]
async fn without_smtp_there_is_no_form_and_subscribing_is_refused() {
    let app = spawn_app_with(0, |_| {}).await;
    let page = reqwest::get(app.base()).await.unwrap().text().await.unwrap();
    assert!(!page.contains("name=\"email\""));
    let r = post_form(&app, "email=alice%40example.org", "192.0.2.1").await;
    assert_eq!(r.status(), 404);
}

// ---------------------------------------------------------------- a real SMTP server

struct Sink {
    _child: tokio::process::Child,
    lines: Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Sink {
    /// aiosmtpd on `port`, or None (skipped) when it is not installed and not required.
    async fn start(port: u16) -> Option<Sink> {
        let required = std::env::var("REQUIRE_INTEROP_TEST").is_ok_and(|v| v == "1");
        let installed = std::process::Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(!required, "REQUIRE_INTEROP_TEST=1 but Python's aiosmtpd is missing: pip install aiosmtpd==1.4.6");
            eprintln!("skipped: pip install aiosmtpd==1.4.6 to run the email test");
            return None;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/smtp_sink.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut sink = Sink { _child: child, lines };
        let ready = sink.next().await;
        assert_eq!(ready["ready"], port, "{ready}");
        Some(sink)
    }

    /// The next message received, as Python's email package parsed it.
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("a message arrives in time")
            .expect("stdout readable")
            .expect("the SMTP server is still running");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
    }
}

fn part<'a>(message: &'a Value, mime: &str) -> &'a str {
    message["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == mime)
        .and_then(|p| p["text"].as_str())
        .unwrap_or_else(|| panic!("no {mime} part: {message}"))
}

fn link_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let start = text.find(marker).unwrap_or_else(|| panic!("no {marker} in {text}"));
    let rest = &text[start..];
    rest.split(|c: char| c.is_whitespace() || c == '>' || c == '"').next().unwrap()
}

#[tokio::test]
async fn an_email_subscriber_confirms_gets_bulletins_across_a_restart_and_unsubscribes_in_one_click() {
    let smtp_port = free_port();
    let Some(mut sink) = Sink::start(smtp_port).await else { return };
    // No workers: the test drains the queue, then a restart with a worker sends what waited.
    let app = spawn_app_with(0, with_smtp(smtp_port)).await;
    add_pads(&app).await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/subscriptions", app.base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=Alice%40Example.org&lang=fr&scope=changes&services=pads")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    ronron::jobs::notify::drain(&app.state).await.unwrap();

    // The double opt-in email, in the page's language.
    let confirmation = sink.next().await;
    assert_eq!(confirmation["rcpt_tos"][0], "Alice@example.org");
    assert_eq!(confirmation["content_type"], "multipart/alternative");
    assert!(confirmation["headers"]["subject"].as_str().unwrap().starts_with("Confirmez votre abonnement"));
    assert!(confirmation["headers"].get("list-unsubscribe").is_none(), "not subscribed yet");
    let plain = part(&confirmation, "text/plain");
    let confirm = link_after(plain, "http://localhost:").to_string();
    assert!(confirm.ends_with("/confirm"), "{confirm}");
    assert!(part(&confirmation, "text/html").contains(&confirm));
    // A GET (a link scanner) confirms nothing; the button's POST does.
    let page = client.get(&confirm).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(notify::subscribers(&app.state).await.unwrap().confirmed, 0);
    let done = client.post(&confirm).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(notify::subscribers(&app.state).await.unwrap().confirmed, 1);

    // News is not a service change: nothing. The incident (with an English translation) is
    // queued with its Create, and waits through a restart.
    publish::publish_news(&app.state, news("Not for Alice")).await.unwrap();
    let mut draft = text("en", "Pads are down", "We are **looking**.");
    draft.translation = Some(TextDraft {
        lang: Some("fr".into()),
        title: "Les pads sont en panne".into(),
        body_markdown: "Nous **cherchons**.".into(),
    });
    let incident = publish::publish_change(&app.state, draft, incident()).await.unwrap();
    assert_eq!(queued_emails(&app).await, 1);
    let receiver = Receiver::start().await;
    let hook =
        notify::add_webhook(&app.state, NewWebhook { url: receiver.url.clone(), ..Default::default() }).await.unwrap();
    publish::post_follow_up(&app.state, &incident.id, text("en", "", "Fixed."), ChangeState::Resolved, None)
        .await
        .unwrap();
    assert_eq!(queued_emails(&app).await, 2);

    let stopped = app.stop().await;
    let app = stopped.restart_with(1, with_smtp(smtp_port)).await;
    let first = sink.next().await;
    let second = sink.next().await;
    let subjects = [&first, &second].map(|m| m["headers"]["subject"].as_str().unwrap().to_string());
    assert!(
        subjects.iter().any(|s| s.ends_with("] Les pads sont en panne")),
        "in French, the subscriber's language: {subjects:?}"
    );
    let message = if subjects[0].ends_with("en panne") { &first } else { &second };
    assert_eq!(message["content_type"], "multipart/alternative");
    assert!(part(message, "text/plain").contains("Nous cherchons."), "{message}");
    assert!(part(message, "text/html").contains("<strong>cherchons</strong>"), "{message}");
    assert_eq!(message["headers"]["list-unsubscribe-post"], "List-Unsubscribe=One-Click");
    let unsubscribe = message["headers"]["list-unsubscribe"].as_str().unwrap();
    let unsubscribe = unsubscribe.trim_start_matches('<').trim_end_matches('>').to_string();
    assert!(part(message, "text/plain").contains(&unsubscribe));
    // The webhook calls queued before the restart arrive too (the follow-up and the Update).
    assert!(eventually(30, || async { receiver.calls().len() == 2 }).await, "{:?}", receiver.calls());
    assert!(receiver.calls().iter().all(|c| verifies(&hook.secret, c)));

    // RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`, no cookie, no token.
    let one_click = client
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), 200);
    let left = notify::subscribers(&app.state).await.unwrap();
    assert_eq!((left.confirmed, left.pending), (0, 0), "the address is erased");
    assert_eq!(client.post(&unsubscribe).send().await.unwrap().status(), 404);
    receiver.handle.stop(true).await;
}

#[tokio::test]
async fn subscribers_are_counted_exported_and_part_of_the_hosts_archive() {
    let app = spawn_app_with(0, with_smtp(free_port())).await;
    for email in ["a@example.org", "=b@example.org"] {
        notify::subscribe(
            &app.state,
            notify::SubscribeRequest { email: email.into(), lang: "en".into(), ..Default::default() },
        )
        .await
        .unwrap();
    }
    let csv = notify::export_subscribers(&app.state, notify::ExportFormat::Csv).await.unwrap();
    assert!(csv.starts_with("id,email,lang,scope,services,created_at,confirmed_at\r\n"));
    assert!(csv.contains("\"'=b@example.org\""), "a formula is defused: {csv}");
    let json: Value =
        serde_json::from_str(&notify::export_subscribers(&app.state, notify::ExportFormat::Json).await.unwrap())
            .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    notify::add_webhook(&app.state, NewWebhook { url: "http://127.0.0.1:9/h".into(), ..Default::default() })
        .await
        .unwrap();
    let export = ronron::app::archive::export_all(&app.state, false).await.unwrap();
    assert_eq!(export.tables.email_subscribers.len(), 2);
    assert_eq!(export.tables.webhooks.len(), 1);
    let removed = notify::remove_subscriber(&app.state, "a@example.org").await.unwrap();
    assert_eq!(removed.email, "a@example.org");
    assert!(notify::remove_subscriber(&app.state, "a@example.org").await.is_err());
    assert_eq!(notify::subscribers(&app.state).await.unwrap().list.len(), 1);
}
