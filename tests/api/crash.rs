//! Issue 11: the real `ronron serve`, killed with SIGKILL in the middle of a fan-out to 200
//! inboxes, then started again. Nothing is lost, the few jobs sent but not recorded are sent again
//! (receivers deduplicate by id), and the next activity reaches those inboxes at once instead of
//! waiting for the crashed process's leases to pass.
//!
//! Figures are printed: `cargo test --test api crash -- --nocapture` (`CRASH_SINK_MS` sets how
//! long the sink takes to answer, 50 ms by default).

use crate::helpers::fresh_database_url;
use actix_web::{web, App, HttpResponse, HttpServer};
use ronron::{
    app::bulletins as publish,
    bulletin::NewsDraft,
    config::Config,
    db::models::{
        activities as queue,
        followers::{self, NewFollower},
        states::FollowState,
    },
    state::AppState,
};
use std::{
    collections::{HashMap, HashSet},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const INBOXES: usize = 200;
/// How long the sink takes to answer, as a real server would, so sends are in flight at the kill:
/// 50 ms, or `CRASH_SINK_MS`.
fn sink_latency() -> Duration {
    Duration::from_millis(std::env::var("CRASH_SINK_MS").ok().and_then(|ms| ms.parse().ok()).unwrap_or(50))
}

/// Every POST the sink received: (inbox number, activity id, when).
type Hits = Arc<Mutex<Vec<(usize, String, Instant)>>>;

/// A real HTTP server counting POSTs per inbox path and activity id (counted on arrival: a
/// receiver acts on what it got even if the sender dies before reading the answer).
fn counting_sink(latency: Duration) -> (u16, Hits) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits: Hits = Arc::default();
    let shared = hits.clone();
    let server = HttpServer::new(move || {
        let hits = shared.clone();
        App::new().route(
            "/inbox/{n}",
            web::post().to(move |n: web::Path<usize>, body: web::Bytes| {
                let hits = hits.clone();
                async move {
                    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
                        return HttpResponse::BadRequest().finish();
                    };
                    let id = value["id"].as_str().unwrap_or_default().to_string();
                    hits.lock().unwrap().push((n.into_inner(), id, Instant::now()));
                    tokio::time::sleep(latency).await;
                    HttpResponse::Accepted().finish()
                }
            }),
        )
    })
    .workers(4)
    .backlog(1024)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (port, hits)
}

/// A `ronron serve` child process, killed with SIGKILL when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(dir: &Path, config: &Path, life: usize) -> Server {
    let log = std::fs::File::create(dir.join(format!("serve-{life}.log"))).unwrap();
    let child = crate::helpers::ronron_command()
        .arg("--config")
        .arg(config)
        .arg("serve")
        .current_dir(dir)
        .env("RONRON_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the binary starts");
    Server(child)
}

/// Waits until the server answers HTTP; returns how long it took.
async fn until_up(port: u16, server: &mut Server, dir: &Path, life: usize) -> Duration {
    let started = Instant::now();
    let client = reqwest::Client::new();
    while started.elapsed() < Duration::from_secs(60) {
        if let Some(status) = server.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.join(format!("serve-{life}.log"))).unwrap_or_default();
            panic!("ronron serve exited ({status}): {log}");
        }
        if client.get(format!("http://127.0.0.1:{port}/.well-known/nodeinfo")).send().await.is_ok() {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("ronron serve did not answer within a minute");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn news(title: &str) -> NewsDraft {
    NewsDraft { title: title.into(), body_markdown: format!("{title}."), lang: Some("en".into()) }
}

/// The activity id of the only Create delivered for the bulletin `id`.
async fn create_of(state: &AppState, id: &str) -> String {
    let object = state.urls.bulletin(id).to_string();
    state
        .db
        .read(move |c| queue::latest_for_object(c, &object, "Create"))
        .await
        .unwrap()
        .expect("a Create was stored")
        .id
}

/// Per inbox: when `activity` first arrived there.
fn arrivals(hits: &Hits, activity: &str) -> HashMap<usize, Instant> {
    let mut first = HashMap::new();
    for (n, id, at) in hits.lock().unwrap().iter() {
        if id == activity {
            first.entry(*n).or_insert(*at);
        }
    }
    first
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_a_fan_out_delivers_everything_and_the_next_activity_is_not_held_up() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(&dir);
    let port = free_port();
    let config_path: PathBuf = dir.path().join("ronron.toml");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n\n[instance]\ndomain = \"localhost:{port}\"\n\n\
         [database]\nurl = \"{database_url}\"\n\n[delivery]\nworkers = 2\nrequest_timeout_secs = 5\n"
    );
    std::fs::write(&config_path, &text).unwrap();
    let config = Config::from_toml_and_env(&text, &[]).unwrap();
    // The test's own handle on the same database: it adds followers and publishes, as
    // `ronron post` would from another process (the server finds the jobs by polling).
    let state = tokio::task::spawn_blocking(move || AppState::open(config)).await.unwrap().unwrap();
    let latency = sink_latency();
    let (sink, hits) = counting_sink(latency);
    let now = state.clock.now();
    state
        .db
        .write(move |c| -> ronron::db::DbResult<()> {
            for n in 0..INBOXES {
                let actor = format!("http://localhost:{sink}/users/{n}");
                let inbox = format!("http://localhost:{sink}/inbox/{n}");
                let follow = format!("{actor}/follows/1");
                followers::upsert(
                    c,
                    NewFollower {
                        actor_id: &actor,
                        inbox: &inbox,
                        shared_inbox: None,
                        status: FollowState::Accepted,
                        follow_activity_id: &follow,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();

    let mut server = start_server(dir.path(), &config_path, 0);
    until_up(port, &mut server, dir.path(), 0).await;
    let first = publish::publish_news(&state, news("Before the crash")).await.unwrap();
    let first = create_of(&state, &first.id).await;

    // SIGKILL once about half the inboxes have it.
    let started = Instant::now();
    while arrivals(&hits, &first).len() < INBOXES / 2 {
        assert!(started.elapsed() < Duration::from_secs(60), "the fan-out started");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    // What was already on the wire when it died still lands.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received_at_kill = arrivals(&hits, &first);
    let rows = state.db.read(queue::list_deliveries).await.unwrap();
    let first_rows: Vec<_> = rows.iter().filter(|d| d.activity_id == first).collect();
    let recorded = first_rows.iter().filter(|d| d.status == queue::DELIVERED).count();
    let crashed: Vec<usize> = first_rows
        .iter()
        .filter(|d| d.status == queue::PENDING && d.locked_by.is_some())
        .map(|d| d.inbox.rsplit('/').next().unwrap().parse().unwrap())
        .collect();
    let sent_not_recorded = crashed.iter().filter(|n| received_at_kill.contains_key(n)).count();
    assert!(!crashed.is_empty(), "the kill came during the fan-out: some jobs were leased");
    assert_eq!(recorded + sent_not_recorded, received_at_kill.len(), "every arrival is recorded or still leased");

    // Started again on the same configuration; the next activity is published at once.
    let restarted = Instant::now();
    let mut server = start_server(dir.path(), &config_path, 1);
    let up = until_up(port, &mut server, dir.path(), 1).await;
    let second = publish::publish_news(&state, news("After the restart")).await.unwrap();
    let published = Instant::now();
    let second = create_of(&state, &second.id).await;
    let everything = crate::helpers::eventually(120, || async {
        arrivals(&hits, &first).len() == INBOXES && arrivals(&hits, &second).len() == INBOXES
    })
    .await;
    assert!(
        everything,
        "every inbox gets both activities: {} and {} of {INBOXES}",
        arrivals(&hits, &first).len(),
        arrivals(&hits, &second).len()
    );

    let (one, two) = (arrivals(&hits, &first), arrivals(&hits, &second));
    for n in 0..INBOXES {
        assert!(one[&n] < two[&n], "inbox {n} gets them in order");
    }
    let delays: Vec<Duration> = crashed.iter().map(|n| two[n] - published).collect();
    let others: Vec<Duration> = (0..INBOXES).filter(|n| !crashed.contains(n)).map(|n| two[&n] - published).collect();
    let (max_crashed, max_others) =
        (delays.iter().max().copied().unwrap_or_default(), others.iter().max().copied().unwrap_or_default());
    let hits = hits.lock().unwrap().clone();
    let mut seen = HashSet::new();
    let mut duplicates: HashMap<&str, usize> = HashMap::new();
    for (n, id, _) in &hits {
        if !seen.insert((*n, id.as_str())) {
            *duplicates.entry(id.as_str()).or_default() += 1;
        }
    }
    let duplicates_first = duplicates.get(first.as_str()).copied().unwrap_or(0);
    println!(
        "crash during a fan-out to {INBOXES} inboxes (sink answers in {} ms, 2 workers, batches of 16):\n  \
         at the kill: {} inboxes had it, {recorded} recorded delivered, {} leased ({sent_not_recorded} of \
         them already received)\n  restart: up in {} ms\n  POSTs: {} for {} (inbox, activity) pairs; \
         duplicates: {duplicates_first} of the first activity, {} of the second\n  next activity, \
         from its publication: to the {} crashed inboxes median {} ms, max {} ms; to the others max {} ms\n  \
         from the restart to the last crashed inbox: {} ms",
        latency.as_millis(),
        received_at_kill.len(),
        crashed.len(),
        up.as_millis(),
        hits.len(),
        seen.len(),
        duplicates.get(second.as_str()).copied().unwrap_or(0),
        crashed.len(),
        median(delays.clone()).as_millis(),
        max_crashed.as_millis(),
        max_others.as_millis(),
        (crashed.iter().map(|n| two[n]).max().unwrap() - restarted).as_millis(),
    );
    assert!(duplicates_first <= sent_not_recorded, "only jobs sent and not recorded are sent again");
    assert_eq!(duplicates.get(second.as_str()), None, "nothing is sent twice after the restart");
    // The crashed process's leases (30 s) did not have to pass: it released them on start.
    assert!(max_crashed < Duration::from_secs(10), "held up for {max_crashed:?}");
    let processes = state.db.read(queue::list_processes).await.unwrap();
    assert_eq!(processes.len(), 1, "the previous life is gone from the queue: {processes:?}");
}
