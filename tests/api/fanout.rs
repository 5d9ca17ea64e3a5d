//! The delivery engine under fan-out: multi-row enqueue, wake-ups from another process (NOTIFY on
//! PostgreSQL, the loopback ping on SQLite), the per-host bound, two processes on one database.
//! Functional checks only; the figures are in `benches/federation.rs`.

use crate::helpers::{eventually, spawn_app, spawn_app_on, spawn_app_with, TestApp};
use ronron::{
    clock::Clock,
    db::models::activities::{self as queue, StoredActivity, DELIVERED, PENDING},
    jobs::delivery::PER_HOST,
    state::AppState,
};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// A counting inbox server: POSTs per path, and the most requests it held at once.
#[derive(Default)]
struct Sink {
    counts: Mutex<HashMap<String, usize>>,
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Sink {
    fn count(&self, path: &str) -> usize {
        self.counts.lock().unwrap().get(path).copied().unwrap_or(0)
    }
    fn total(&self) -> usize {
        self.counts.lock().unwrap().values().sum()
    }
    fn paths(&self) -> usize {
        self.counts.lock().unwrap().len()
    }
}

/// Starts a sink on 127.0.0.1 that answers 202 after `delay`; returns it and its port.
async fn sink(delay: Duration) -> (Arc<Sink>, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sink = Arc::new(Sink::default());
    let shared = sink.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sink = shared.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                loop {
                    let head_end = loop {
                        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            break end + 4;
                        }
                        let mut chunk = [0u8; 4096];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
                    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    while buffer.len() < head_end + length {
                        let mut chunk = [0u8; 4096];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buffer.drain(..head_end + length);
                    let now = sink.now.fetch_add(1, Ordering::SeqCst) + 1;
                    sink.most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    *sink.counts.lock().unwrap().entry(path).or_default() += 1;
                    sink.now.fetch_sub(1, Ordering::SeqCst);
                    if stream.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (sink, port)
}

fn activity(app: &TestApp, n: usize) -> StoredActivity {
    let id = app.state.urls.activity(&format!("fanout-{n}-{}", uuid::Uuid::new_v4().simple()));
    StoredActivity {
        id: id.to_string(),
        kind: "Create".into(),
        object_id: format!("{id}/note"),
        json: serde_json::json!({"id": id, "type": "Create", "actor": app.actor_url(), "object": "x"}).to_string(),
        created_at: app.state.clock.now(),
    }
}

fn inboxes(port: u16, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("http://127.0.0.1:{port}/inbox/{i}")).collect()
}

/// Queues `activity` for `inboxes` through `state` (as any door does), and wakes the workers.
async fn queue_for(state: &AppState, activity: StoredActivity, inboxes: Vec<String>) {
    let now = state.clock.now();
    state.db.write(move |c| queue::store_and_enqueue(c, &activity, &inboxes, now)).await.unwrap();
    state.wake_deliveries();
}

#[tokio::test]
async fn a_large_fan_out_is_queued_whole_in_multi_row_inserts() {
    let app = spawn_app_with(0, |_| {}).await;
    // More than two chunks of one INSERT each, and one partial chunk.
    let targets: Vec<String> = (0..2_345).map(|i| format!("https://peer{}.example/inbox/{i}", i % 7)).collect();
    let stored = activity(&app, 1);
    let id = stored.id.clone();
    queue_for(&app.state, stored, targets.clone()).await;
    let rows = app.state.db.read(queue::list_deliveries).await.unwrap();
    assert_eq!(rows.len(), targets.len());
    let mut got: Vec<String> = rows.iter().map(|d| d.inbox.clone()).collect();
    got.sort();
    let mut want = targets;
    want.sort();
    assert_eq!(got, want, "one delivery per inbox, none lost or doubled");
    assert!(rows
        .iter()
        .all(|d| d.activity_id == id && d.status == PENDING && d.attempts == 0 && d.locked_by.is_none()));
    // And none of them is half-written: an empty fan-out stores the activity alone.
    let lone = activity(&app, 2);
    let lone_id = lone.id.clone();
    queue_for(&app.state, lone, Vec::new()).await;
    assert!(app.state.db.read(move |c| queue::find_activity(c, &lone_id)).await.unwrap().is_some());
    assert_eq!(app.state.db.read(queue::list_deliveries).await.unwrap().len(), 2_345);
}

#[tokio::test]
async fn a_job_queued_by_another_process_wakes_the_workers_without_the_poll() {
    // The poll is an hour: only the wake-up (NOTIFY on PostgreSQL, the CLI's loopback ping on
    // SQLite) can deliver within the wait below.
    let app = spawn_app_with(1, |c| c.delivery.poll_secs = 3600).await;
    let (sink, port) = sink(Duration::ZERO).await;
    // Let the worker go to sleep on its poll.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut config = (*app.state.config).clone();
    config.delivery.workers = 0;
    let cli = tokio::task::spawn_blocking(move || AppState::open(config)).await.unwrap().unwrap();
    for round in 0..3 {
        let stored = activity(&app, round);
        queue_for(&cli, stored, vec![format!("http://127.0.0.1:{port}/inbox/{round}")]).await;
        let path = format!("/inbox/{round}");
        assert!(
            eventually(30, || async { sink.count(&path) == 1 }).await,
            "round {round}: the serving process was not woken"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = app.state.db.read(queue::list_deliveries).await.unwrap();
    assert!(
        eventually(10, || async { app.state.db.read(|c| queue::count_by_status(c, DELIVERED)).await.unwrap() == 3 })
            .await
    );
    assert_eq!(rows.len(), 3);
}

#[tokio::test]
async fn requests_to_one_host_are_bounded_and_all_delivered() {
    let app = spawn_app_with(2, |_| {}).await;
    let (sink, port) = sink(Duration::from_millis(200)).await;
    let n = PER_HOST * 4;
    queue_for(&app.state, activity(&app, 1), inboxes(port, n)).await;
    assert!(eventually(60, || async { sink.total() == n }).await, "{} of {n} delivered", sink.total());
    let most = sink.most.load(Ordering::SeqCst);
    assert!(most <= PER_HOST, "{most} requests at once to one host, more than {PER_HOST}");
    assert!(most > 1, "the requests were not concurrent at all");
    assert_eq!(sink.paths(), n);
    assert!(
        eventually(10, || async {
            app.state.db.read(|c| queue::count_by_status(c, DELIVERED)).await.unwrap() == n as i64
        })
        .await
    );
}

#[tokio::test]
async fn two_processes_on_one_database_send_each_job_once() {
    let first = spawn_app_with(2, |_| {}).await;
    let second = spawn_app_on(first.database_url.clone(), 2, Clock::system()).await;
    let (sink, port) = sink(Duration::from_millis(5)).await;
    let n = 600;
    // Two activities per inbox: each inbox gets both, once each, the first one first.
    queue_for(&first.state, activity(&first, 1), inboxes(port, n)).await;
    queue_for(&second.state, activity(&first, 2), inboxes(port, n)).await;
    second.state.wake_deliveries();
    assert!(eventually(120, || async { sink.total() >= 2 * n }).await, "{} of {} delivered", sink.total(), 2 * n);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.total(), 2 * n, "a job was sent twice");
    for i in 0..n {
        assert_eq!(sink.count(&format!("/inbox/{i}")), 2, "inbox {i}");
    }
    assert!(
        eventually(10, || async {
            first.state.db.read(|c| queue::count_by_status(c, DELIVERED)).await.unwrap() == 2 * n as i64
        })
        .await
    );
    // Both processes took part (each has its own workers claiming).
    let processes = first.state.db.read(queue::list_processes).await.unwrap();
    assert_eq!(processes.len(), 2);
}

#[tokio::test]
async fn public_pages_answer_304_to_a_client_that_holds_them() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for path in ["/", "/status", "/timeline"] {
        let url = format!("{}{path}", app.base());
        let first = client.get(&url).send().await.unwrap();
        assert_eq!(first.status(), 200, "{path}");
        let tag =
            first.headers().get("etag").unwrap_or_else(|| panic!("{path} has no ETag")).to_str().unwrap().to_string();
        let body = first.text().await.unwrap();
        assert!(!body.is_empty());
        let again = client.get(&url).header("if-none-match", &tag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers().get("etag").unwrap().to_str().unwrap(), tag);
        assert!(again.text().await.unwrap().is_empty());
        // Another page's tag, or an old one, gets the whole page.
        let stale = client.get(&url).header("if-none-match", "\"0000\"").send().await.unwrap();
        assert_eq!(stale.status(), 200, "{path}");
        assert_eq!(stale.text().await.unwrap(), body);
        // Another language is another page: its own tag, and the whole page.
        let english = client.get(&url).header("accept-language", "en").send().await.unwrap();
        let english_tag = english.headers().get("etag").unwrap().to_str().unwrap().to_string();
        if english_tag != tag {
            let crossed =
                client.get(&url).header("if-none-match", &tag).header("accept-language", "en").send().await.unwrap();
            assert_eq!(crossed.status(), 200, "{path}");
        }
    }
}
