//! Ingestion benchmark: signed `Create{Note}` from known actors, verified and stored, at 32
//! concurrent senders over keep-alive HTTP.
//!
//! `cargo bench --bench ingest` (SQLite); with `BENCH_DATABASE_URL=postgres://…/postgres` also
//! PostgreSQL (a throwaway database is created and dropped). `BENCH_ACTIVITIES` (default 20,000)
//! is how many activities each run sends, `BENCH_SENDERS` (default 32) over how many connections,
//! `BENCH_ACTORS` (default 100) from how many actors (fewer for a run under valgrind).
//!
//! Each backend is run twice, with a fresh database each time: Ronron in this process on loopback
//! (`Application`, defaults but the inbox rate limit, raised so that the 100 senders are not
//! throttled; the run to profile), then the release binary (`ronron serve`) with the same
//! configuration in a process of its own, whose CPU time and peak memory (VmHWM) are read from
//! `/proc/<pid>`.
//!
//! 100 remote actors (`http://peerN.example/users/uN`, RSA-2048 keys made here) are stored as
//! cached actors and as accounts we follow, so their Notes are kept. Every request is built and signed
//! (draft-cavage HTTP signature with `Digest`, as Mastodon sends) before the timed run; the load
//! generator then only writes them and reads the answers, on a thread of its own whose CPU time is
//! reported as a share of the process's. After the run the stored posts are counted: every 202 must
//! be a row.

#[path = "common/load.rs"]
mod load;
#[path = "common/server.rs"]
mod server;

use diesel::{Connection, RunQueryDsl};
use ronron::{
    clock::Clock,
    config::Config,
    db::models::remote::{self, FollowState, Following, RemoteActor},
    federation::{keys, signatures},
    startup::Application,
    state::AppState,
};
use std::{
    net::TcpListener as StdListener,
    sync::Arc,
    time::{Instant, SystemTime},
};

struct Sender {
    id: String,
    key_id: String,
    key: keys::SigningKey,
}

async fn seed(state: &AppState, senders: &[(Sender, String)]) {
    let rows: Vec<(RemoteActor, Following)> = senders
        .iter()
        .enumerate()
        .map(|(i, (s, public_pem))| {
            let now = state.clock.now();
            (
                RemoteActor {
                    id: s.id.clone(),
                    actor_type: "Person".into(),
                    preferred_username: format!("u{i}"),
                    name: Some(format!("Peer {i}")),
                    inbox: format!("{}/inbox", s.id),
                    shared_inbox: Some(format!("http://peer{i}.example/inbox")),
                    outbox: Some(format!("{}/outbox", s.id)),
                    public_key_id: s.key_id.clone(),
                    public_key_pem: public_pem.clone(),
                    raw: serde_json::json!({
                        "id": s.id, "type": "Person", "preferredUsername": format!("u{i}"),
                        "inbox": format!("{}/inbox", s.id),
                        "publicKey": {"id": s.key_id, "owner": s.id, "publicKeyPem": public_pem},
                    })
                    .to_string(),
                    fetched_at: now,
                },
                Following {
                    actor_id: s.id.clone(),
                    inbox: format!("{}/inbox", s.id),
                    follow_activity_id: format!("{}/follows/{i}", state.urls.host_actor()),
                    status: FollowState::Accepted,
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .collect();
    state
        .db
        .write(move |c| {
            for (actor, following) in &rows {
                remote::upsert_actor(c, actor)?;
                remote::upsert_following(c, following)?;
            }
            Ok::<(), ronron::db::DbError>(())
        })
        .await
        .unwrap();
}

/// Every request of the run, signed now (the signatures stay fresh for the server's clock skew).
fn requests(senders: &[(Sender, String)], host: &str, n: usize, run: &str) -> Vec<Vec<u8>> {
    let inbox = url::Url::parse(&format!("http://{host}/inbox")).unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let body_text = "<p>Maintenance de Nextcloud jeudi de 20 h à 22 h (heure de Paris) : le service sera coupé \
                     une vingtaine de minutes pendant la mise à jour. Merci de votre patience !</p>"
        .repeat(3);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores)
            .map(|t| {
                let inbox = &inbox;
                let body_text = &body_text;
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for k in (0..n).filter(|k| k % cores == t) {
                        let (sender, _) = &senders[k % senders.len()];
                        let host_of = sender.id.split('/').nth(2).unwrap();
                        let id = format!("http://{host_of}/activities/{run}-{k}");
                        let body = serde_json::json!({
                            "@context": ["https://www.w3.org/ns/activitystreams"],
                            "id": id, "type": "Create", "actor": sender.id,
                            "published": "2026-12-02T04:00:00Z",
                            "to": ["https://www.w3.org/ns/activitystreams#Public"],
                            "cc": [format!("{}/followers", sender.id)],
                            "object": {
                                "id": format!("http://{host_of}/notes/{run}-{k}"), "type": "Note",
                                "attributedTo": sender.id,
                                "published": "2026-12-02T04:00:00Z",
                                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                                "cc": [format!("{}/followers", sender.id)],
                                "content": body_text,
                                "url": format!("http://{host_of}/@u/{run}-{k}"),
                                "contentMap": {"fr": body_text},
                                "tag": [{"type": "Hashtag", "name": "#maintenance", "href": format!("http://{host_of}/tags/maintenance")}],
                            },
                        })
                        .to_string();
                        let headers =
                            signatures::sign_post(inbox, body.as_bytes(), &sender.key_id, &sender.key, SystemTime::now())
                                .unwrap();
                        let mut request = String::from("POST /inbox HTTP/1.1\r\n");
                        for (name, value) in headers {
                            request.push_str(&format!("{name}: {value}\r\n"));
                        }
                        request.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                        let mut bytes = request.into_bytes();
                        bytes.extend_from_slice(body.as_bytes());
                        out.push((k, bytes));
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<(usize, Vec<u8>)> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        all.sort_by_key(|(k, _)| *k);
        all.into_iter().map(|(_, r)| r).collect()
    })
}

struct Row(String, String, String);

/// Where Ronron runs: in this process (as profiled under valgrind), or as the release binary in a
/// process of its own, whose CPU time and peak memory are then read apart from the generator's.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    InProcess,
    Binary,
}

async fn run_backend(
    target: Target,
    label: &str,
    url: &str,
    senders: &[(Sender, String)],
    n: usize,
    connections: usize,
    goal: f64,
    rows: &mut Vec<Row>,
) {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let mut config = Config::default();
    config.server.listen = address.to_string();
    config.instance.domain = format!("localhost:{}", address.port());
    config.database.url = url.to_string();
    // 100 servers sending thousands each within seconds: far over the default 300 a minute (the
    // highest values the configuration accepts).
    config.limits.inbox_per_minute = 1_000_000;
    config.limits.inbox_burst = 1_000_000;
    let (state, mut running) = match target {
        Target::InProcess => {
            let app = Application::build_with(config, listener, false, Clock::system()).await.expect("app builds");
            let state = app.state().clone();
            let handle = app.server_handle();
            (state, Running::InProcess(handle, tokio::spawn(app.run_until_stopped())))
        }
        Target::Binary => {
            drop(listener);
            let for_start = config.clone();
            let Some(server) = tokio::task::spawn_blocking(move || server::Server::start(&for_start)).await.unwrap()
            else {
                return;
            };
            // This process seeds and counts through the same database.
            config.delivery.workers = 0;
            let state = tokio::task::spawn_blocking(move || AppState::open(config)).await.unwrap().unwrap();
            (state, Running::Binary(server))
        }
    };
    let label = match target {
        Target::InProcess => label.to_string(),
        Target::Binary => format!("{label}, `ronron serve` in its own process"),
    };
    seed(&state, senders).await;
    let host = format!("localhost:{}", address.port());
    // A short warm-up (not counted in the figures, its posts are counted below).
    let warm = Arc::new(requests(senders, &host, 500.min(n), "warm"));
    let warm_report = tokio::task::spawn_blocking(move || load::run(address, warm, connections)).await.unwrap();
    let signing = Instant::now();
    let batch = Arc::new(requests(senders, &host, n, "run"));
    let signed_in = signing.elapsed();
    let server_cpu_before = running.server_cpu();
    let report = tokio::task::spawn_blocking(move || load::run(address, batch, connections)).await.unwrap();
    let server_cpu = running.server_cpu().zip(server_cpu_before).map(|(after, before)| after - before);
    let stored = state
        .db
        .read(|c| {
            use diesel::prelude::*;
            use ronron::db::schema::remote_posts;
            Ok(remote_posts::table.count().get_result::<i64>(c)?)
        })
        .await
        .unwrap();
    let indexed = state.db.read(ronron::db::models::timeline::count).await.unwrap();
    let accepted = report.count(202) + warm_report.count(202);
    let expected = n + warm_report.latencies.len();
    let rate = report.rate();
    rows.push(Row(
        format!(
            "{label}: ingestion, {n} signed Create{{Note}} from {} known actors, {connections} senders",
            senders.len()
        ),
        format!(
            "{rate:.0}/s ({:.2} s); p50 {:.2} ms, p99 {:.2} ms",
            report.elapsed.as_secs_f64(),
            report.percentile(0.5),
            report.percentile(0.99)
        ),
        format!("{:.0} % of the goal ({goal:.0}/s); p99 goal < 20 ms", 100.0 * rate / goal),
    ));
    rows.push(Row(
        format!("{label}: answers and rows (warm-up of {} included)", warm_report.latencies.len()),
        format!(
            "{accepted} × 202 of {expected}, {} other, {} unanswered; {stored} posts stored, {indexed} indexed",
            expected - accepted - warm_report.failed - report.failed,
            warm_report.failed + report.failed
        ),
        if stored as usize == accepted && accepted == expected { "no loss".into() } else { "LOSS".into() },
    ));
    match (&mut running, server_cpu) {
        (Running::Binary(server), Some(cpu)) => {
            rows.push(Row(
                format!("{label}: CPU per activity of that process"),
                format!("{:.3} ms", 1000.0 * cpu / report.latencies.len().max(1) as f64),
                format!("generator: {:.2} s of CPU in this process", report.generator_cpu.as_secs_f64()),
            ));
            rows.push(Row(
                format!("{label}: peak memory of that process (VmHWM), from its start to the end of the run"),
                format!("{:.1} MB (RSS now {:.1} MB)", server.memory_mb("VmHWM:"), server.memory_mb("VmRSS:")),
                "goal ≤ 60 MB".into(),
            ));
        }
        _ => rows.push(Row(
            format!("{label}: CPU per activity (process less the generator)"),
            format!("{:.3} ms", report.server_cpu_per_request_us() / 1000.0),
            format!(
                "generator: {:.0} % of the process's CPU ({:.2} s of {:.2} s)",
                100.0 * report.generator_share(),
                report.generator_cpu.as_secs_f64(),
                report.process_cpu.as_secs_f64()
            ),
        )),
    }
    rows.push(Row(
        format!("{label}: signing the {n} requests before the run (all cores)"),
        format!("{:.2} s", signed_in.as_secs_f64()),
        "not timed in the run".into(),
    ));
    match running {
        Running::InProcess(handle, join) => {
            handle.stop(true).await;
            let _ = join.await;
        }
        Running::Binary(server) => tokio::task::spawn_blocking(move || server.stop()).await.unwrap(),
    }
}

enum Running {
    InProcess(actix_web::dev::ServerHandle, tokio::task::JoinHandle<std::io::Result<()>>),
    Binary(server::Server),
}

impl Running {
    fn server_cpu(&mut self) -> Option<f64> {
        match self {
            Running::InProcess(..) => None,
            Running::Binary(server) => Some(server.cpu_seconds()),
        }
    }
}

fn main() {
    let n: usize = std::env::var("BENCH_ACTIVITIES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let connections: usize = std::env::var("BENCH_SENDERS").ok().and_then(|v| v.parse().ok()).unwrap_or(32);
    let actors: usize = std::env::var("BENCH_ACTORS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let started = Instant::now();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let made: Vec<keys::GeneratedKeys> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores)
            .map(|t| {
                scope.spawn(move || {
                    (0..actors).filter(|i| i % cores == t).map(|_| keys::generate().unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect()
    });
    let senders: Vec<(Sender, String)> = made
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            let id = format!("http://peer{i}.example/users/u{i}");
            (
                Sender {
                    key_id: format!("{id}#main-key"),
                    key: keys::SigningKey::from_pem(&k.private_key_pem).unwrap(),
                    id,
                },
                k.public_key_pem,
            )
        })
        .collect();
    let keys_in = started.elapsed();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut rows = vec![Row(
        format!("{actors} RSA-2048 sender keys made"),
        format!("{:.1} s", keys_in.as_secs_f64()),
        String::new(),
    )];
    let dir = tempfile::tempdir().unwrap();
    for (target, name) in [(Target::InProcess, "in-process"), (Target::Binary, "binary")] {
        let sqlite = format!("sqlite://{}/ingest-{name}.db", dir.path().display());
        runtime.block_on(run_backend(target, "SQLite", &sqlite, &senders, n, connections, 5000.0, &mut rows));
    }
    if let Ok(admin) = std::env::var("BENCH_DATABASE_URL") {
        let mut conn = diesel::pg::PgConnection::establish(&admin).expect("BENCH_DATABASE_URL reachable");
        for (target, name) in [(Target::InProcess, "in_process"), (Target::Binary, "binary")] {
            let db = format!("ronron_ingest_{}_{name}", std::process::id());
            diesel::sql_query(format!("CREATE DATABASE {db}")).execute(&mut conn).unwrap();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&format!("/{db}"));
            runtime.block_on(run_backend(target, "PostgreSQL", url.as_str(), &senders, n, connections, 3000.0, &mut rows));
            diesel::sql_query(format!("DROP DATABASE {db} WITH (FORCE)")).execute(&mut conn).unwrap();
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("\nLoad average at the end: {}", load.trim());
    println!("\n| figure | measured | ratio |\n|---|---|---|");
    for Row(a, b, c) in rows {
        println!("| {a} | {b} | {c} |");
    }
}
