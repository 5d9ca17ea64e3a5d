//! Fan-out benchmark: one activity from Ronron to 1,000 and 10,000 inboxes, with the signing limit
//! (RSA-2048 signatures per second on all cores, aws-lc-rs) measured in the same run as the
//! reference.
//!
//! `cargo bench --bench federation` (SQLite); with `BENCH_DATABASE_URL=postgres://…/postgres`
//! also PostgreSQL (throwaway databases are created and dropped), including two processes on one
//! database. `BENCH_IDLE_SECS` (default 60) is how long the release binary idles before its RSS
//! is read; `BENCH_SIZES` (default `1000,10000`) the fan-out sizes; `BENCH_EXTRAS=0` runs the
//! fan-outs alone (for profiles: `valgrind --tool=callgrind` on the bench binary).
//!
//! Each fan-out also reports its CPU time per delivery, read from `/proc`: the whole process less
//! the sink's thread (Ronron, and the bench's own polling, about 10 µs every 2 ms), and the sink's
//! thread; beside one signature's cost from the signing limit. On a machine shared with other
//! work the rates drop, while the CPU per delivery moves much less.
//!
//! Ronron runs in this process on loopback (its own runtime, 2 delivery workers), with a fresh
//! database per run. The largest fan-out is run once more with the release binary (`ronron
//! serve`, 2 delivery workers) in a process of its own, for its CPU per delivery and its peak
//! memory (VmHWM) apart from the sink's; the activity is then queued from this process, as
//! `ronron post` queues it. The peers are a sink in this process, on its own runtime thread: 100
//! listeners (127.0.0.2 … 127.0.0.101, one "host" each) that count POSTs per path, check the
//! digest and the signature of one request in 50, and answer 202, or, in the slow run, after 5 s
//! for 10 % of the paths.

#[path = "common/server.rs"]
mod server;

use diesel::{Connection, RunQueryDsl};
use ronron::{
    clock::Clock,
    config::Config,
    db::{models::activities as queue, write_transaction, Db, DbError},
    federation::{keys, signatures},
    startup::Application,
    state::AppState,
};
use std::{
    collections::BTreeMap,
    net::TcpListener as StdListener,
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

const HOSTS: usize = 100;
const SAMPLE_EVERY: u64 = 50;
const SLOW: Duration = Duration::from_secs(5);

/// The peers: per-path counts, how many were verified and how many failed.
struct Sink {
    port: u16,
    counts: Vec<AtomicU32>,
    received: AtomicU64,
    verified: AtomicU64,
    bad: AtomicU64,
    slow: AtomicBool,
    /// The public key requests must be signed with.
    public_key: std::sync::Mutex<String>,
    /// `/proc/self/task/<tid>/stat` of the sink's thread, to tell its CPU time from Ronron's.
    thread_stat: std::sync::OnceLock<String>,
}

impl Sink {
    fn reset(&self, public_key: &str, slow: bool) {
        for c in &self.counts {
            c.store(0, Ordering::Relaxed);
        }
        self.received.store(0, Ordering::Relaxed);
        self.slow.store(slow, Ordering::Relaxed);
        *self.public_key.lock().unwrap() = public_key.to_string();
    }

    fn inbox(&self, i: usize) -> String {
        format!("http://127.0.0.{}:{}/inbox/{i}", 2 + i % HOSTS, self.port)
    }

    /// Paths answered after [`SLOW`] in the slow run: one in ten, spread over every host.
    fn is_slow(i: usize) -> bool {
        (i / HOSTS).is_multiple_of(10)
    }

    /// (distinct paths reached among the first `n`, paths reached more than once).
    fn tally(&self, n: usize, only: impl Fn(usize) -> bool) -> (usize, usize) {
        let mut reached = 0;
        let mut twice = 0;
        for (i, c) in self.counts.iter().take(n).enumerate() {
            if !only(i) {
                continue;
            }
            let c = c.load(Ordering::Relaxed);
            reached += usize::from(c > 0);
            twice += usize::from(c > 1);
        }
        (reached, twice)
    }
}

fn start_sink(max: usize) -> Arc<Sink> {
    let first = StdListener::bind("127.0.0.2:0").expect("127.0.0.2 is loopback");
    let port = first.local_addr().unwrap().port();
    let sink = Arc::new(Sink {
        port,
        counts: (0..max).map(|_| AtomicU32::new(0)).collect(),
        received: AtomicU64::new(0),
        verified: AtomicU64::new(0),
        bad: AtomicU64::new(0),
        slow: AtomicBool::new(false),
        public_key: Default::default(),
        thread_stat: Default::default(),
    });
    let mut listeners = vec![first];
    for h in 1..HOSTS {
        listeners.push(StdListener::bind(("127.0.0.".to_string() + &(2 + h).to_string(), port)).expect("bind a host"));
    }
    let for_thread = sink.clone();
    std::thread::spawn(move || {
        if let Ok(link) = std::fs::read_link("/proc/thread-self") {
            let tid = link.file_name().map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
            let _ = for_thread.thread_stat.set(format!("/proc/self/task/{tid}/stat"));
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            for listener in listeners {
                listener.set_nonblocking(true).unwrap();
                let listener = TcpListener::from_std(listener).unwrap();
                let sink = for_thread.clone();
                tokio::spawn(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        tokio::spawn(serve_connection(sink.clone(), stream));
                    }
                });
            }
            std::future::pending::<()>().await
        })
    });
    sink
}

/// A minimal HTTP/1.1 server: keep-alive, Content-Length bodies, 202.
async fn serve_connection(sink: Arc<Sink>, mut stream: tokio::net::TcpStream) {
    let mut buffer = Vec::with_capacity(8192);
    loop {
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_string();
        let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buffer[head_end..head_end + length].to_vec();
        buffer.drain(..head_end + length);
        let index: Option<usize> = path.strip_prefix("/inbox/").and_then(|i| i.parse().ok());
        let n = sink.received.fetch_add(1, Ordering::Relaxed);
        if n.is_multiple_of(SAMPLE_EVERY) {
            let key = sink.public_key.lock().unwrap().clone();
            let ok = headers.get("digest").is_some_and(|d| *d == signatures::digest_header(&body))
                && signatures::begin_verify("POST", &path, None, &headers, Some(&body), SystemTime::now())
                    .and_then(|pending| pending.verify_with(&key))
                    .is_ok();
            if ok {
                sink.verified.fetch_add(1, Ordering::Relaxed);
            } else {
                sink.bad.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(i) = index {
            if sink.slow.load(Ordering::Relaxed) && Sink::is_slow(i) {
                tokio::time::sleep(SLOW).await;
            }
            if let Some(c) = sink.counts.get(i) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        if stream.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n").await.is_err() {
            return;
        }
    }
}

/// RSA-2048 signatures per second with aws-lc-rs, one thread per core, for `seconds`.
fn signing_limit(seconds: f64) -> f64 {
    let generated = keys::generate().unwrap();
    let key = Arc::new(keys::SigningKey::from_pem(&generated.private_key_pem).unwrap());
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let key = key.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                let message = b"(request-target): post /inbox\nhost: example.org\ndate: Wed, 02 Dec 2026 04:00:00 GMT";
                while started.elapsed().as_secs_f64() < seconds {
                    key.sign_base64(message).unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

/// A fresh database URL: SQLite in `dir`, or a new database next to `admin` (PostgreSQL).
fn fresh_url(dir: &tempfile::TempDir, admin: Option<&str>, n: &mut usize) -> String {
    *n += 1;
    match admin {
        None => format!("sqlite://{}/bench{n}.db", dir.path().display()),
        Some(admin) => {
            let name = format!("ronron_bench_{}_{n}", std::process::id());
            let mut conn = diesel::pg::PgConnection::establish(admin).expect("BENCH_DATABASE_URL reachable");
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
            let mut url = url::Url::parse(admin).unwrap();
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
    }
}

fn drop_pg(admin: Option<&str>, url: &str) {
    if let Some(admin) = admin {
        let name = url.rsplit('/').next().unwrap();
        let mut conn = diesel::pg::PgConnection::establish(admin).unwrap();
        let _ = diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn);
    }
}

async fn start_app(
    url: &str,
) -> (AppState, actix_web::dev::ServerHandle, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = Config::default();
    config.server.listen = format!("127.0.0.1:{port}");
    config.instance.domain = format!("localhost:{port}");
    config.database.url = url.to_string();
    config.delivery.workers = 2;
    let app = Application::build_with(config, listener, false, Clock::system()).await.expect("app builds");
    let state = app.state().clone();
    let handle = app.server_handle();
    (state, handle, tokio::spawn(app.run_until_stopped()))
}

fn activity(state: &AppState, n: usize) -> queue::StoredActivity {
    let id = state.urls.activity(&format!("bench-{n}-{}", uuid::Uuid::new_v4().simple()));
    let actor = state.urls.host_actor();
    let json = serde_json::json!({
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "id": id, "type": "Create", "actor": actor,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": format!("{id}/note"), "type": "Note", "attributedTo": actor,
            "content": "<p>Maintenance de Nextcloud jeudi de 20 h à 22 h (heure de Paris) : le service sera coupé une vingtaine de minutes pendant la mise à jour.</p>".repeat(4),
            "published": "2026-12-02T04:00:00Z",
        },
    })
    .to_string();
    queue::StoredActivity {
        id: id.to_string(),
        kind: "Create".into(),
        object_id: format!("{id}/note"),
        json,
        created_at: state.clock.now(),
    }
}

/// CPU seconds of (the whole bench process, the sink's thread) now.
fn cpu_now(sink: &Sink) -> (f64, f64) {
    (server::cpu_seconds("/proc/self/stat"), sink.thread_stat.get().map_or(0.0, |p| server::cpu_seconds(p)))
}

fn vm(key: &str) -> f64 {
    server::status_mb("/proc/self/status", key)
}

struct FanOut {
    enqueue: Duration,
    all: Duration,
    /// Time until every fast path had its activity (the slow run).
    fast: Duration,
    reached: usize,
    twice: usize,
    /// CPU seconds of the process, and of the sink's thread, from the enqueue to the last arrival.
    cpu: (f64, f64),
}

impl FanOut {
    /// Milliseconds of CPU per delivery: Ronron (the process less the sink), and the sink.
    fn cpu_per_delivery(&self, n: usize) -> (f64, f64) {
        let (process, sink) = self.cpu;
        (1000.0 * (process - sink) / n as f64, 1000.0 * sink / n as f64)
    }
}

/// Queues one activity for `n` inboxes through `states[0]`, and waits until the sink has them all.
async fn fan_out(states: &[AppState], sink: &Sink, n: usize, slow: bool) -> FanOut {
    let state = &states[0];
    sink.reset(&state.keys.host().public_key_pem, slow);
    let inboxes: Vec<String> = (0..n).map(|i| sink.inbox(i)).collect();
    let stored = activity(state, n);
    let cpu_before = cpu_now(sink);
    let started = Instant::now();
    let now = state.clock.now();
    state.db.write(move |c| queue::store_and_enqueue(c, &stored, &inboxes, now)).await.unwrap();
    let enqueue = started.elapsed();
    for s in states {
        s.wake_deliveries();
    }
    let mut fast = None;
    let fast_total = if slow { (0..n).filter(|i| !Sink::is_slow(*i)).count() } else { n };
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (reached, _) = sink.tally(n, |_| true);
        if fast.is_none() && sink.tally(n, |i| !slow || !Sink::is_slow(i)).0 == fast_total {
            fast = Some(started.elapsed());
        }
        if reached == n || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let all = started.elapsed();
    let cpu_after = cpu_now(sink);
    let cpu = (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1);
    // Late duplicates would come within a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (reached, twice) = sink.tally(n, |_| true);
    FanOut { enqueue, all, fast: fast.unwrap_or(all), reached, twice, cpu }
}

/// Milliseconds from a commit by another process (as `ronron post` does) to the sink's receipt.
async fn wake_latency(url: &str, sink: &Sink, server: &AppState, samples: usize) -> Vec<f64> {
    let mut config = (*server.config).clone();
    config.delivery.workers = 0;
    let cli = tokio::task::spawn_blocking(move || AppState::open(config)).await.unwrap().unwrap();
    let _ = url;
    let mut out = Vec::new();
    for k in 0..samples {
        sink.reset(&cli.keys.host().public_key_pem, false);
        let inbox = vec![sink.inbox(k)];
        let stored = activity(&cli, k);
        // Wait until the workers sleep in their poll.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let now = cli.clock.now();
        cli.db.write(move |c| queue::store_and_enqueue(c, &stored, &inbox, now)).await.unwrap();
        cli.wake_deliveries();
        while sink.counts[k].load(Ordering::Relaxed) == 0 && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

/// One claim of 64 at a depth of `depth` pending jobs, the first `leased` of them leased (as when
/// the workers' windows are full), in a transaction rolled back (ms, median of 9).
fn claim_cost(url: &str, depth: usize, leased: usize) -> f64 {
    let db = Db::connect(url, 1).unwrap();
    let mut conn = db.conn().unwrap();
    let at = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let mut times = Vec::new();
    let _ = write_transaction(&mut conn, |c| {
        let stored = queue::StoredActivity {
            id: "https://bench.example/a/1".into(),
            kind: "Create".into(),
            object_id: "https://bench.example/n/1".into(),
            json: "{}".into(),
            created_at: at,
        };
        let inboxes: Vec<String> = (0..depth).map(|i| format!("https://h{}.example/inbox/{i}", i % 500)).collect();
        queue::store_and_enqueue(c, &stored, &inboxes, at)?;
        for k in 0..leased.div_ceil(64) {
            queue::claim_due(c, &format!("window-{k}"), at, chrono::Duration::seconds(30), 64)?;
        }
        for k in 0..9 {
            let t = Instant::now();
            queue::claim_due(c, &format!("bench-{k}"), at, chrono::Duration::seconds(30), 64)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        Err::<(), DbError>(DbError::Corrupt("rolled back on purpose".into()))
    });
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times[times.len() / 2]
}

struct Row(String, String, String);

async fn run_backend(label: &str, admin: Option<&str>, sink: &Sink, sizes: &[usize], limit: f64, rows: &mut Vec<Row>) {
    let dir = tempfile::tempdir().unwrap();
    let mut n_db = 0;
    let mut rates = Vec::new();
    for &n in sizes {
        let url = fresh_url(&dir, admin, &mut n_db);
        let (state, handle, join) = start_app(&url).await;
        let run = fan_out(std::slice::from_ref(&state), sink, n, false).await;
        let rate = n as f64 / run.all.as_secs_f64();
        rates.push((n, rate, run.all));
        rows.push(Row(
            format!("{label}: fan-out to {n} inboxes"),
            format!(
                "{rate:.0} deliveries/s ({:.2} s; {} reached, {} twice)",
                run.all.as_secs_f64(),
                run.reached,
                run.twice
            ),
            format!("{:.0} % of the signing limit", 100.0 * rate / limit),
        ));
        let (ronron_cpu, sink_cpu) = run.cpu_per_delivery(n);
        rows.push(Row(
            format!("{label}: CPU per delivery, fan-out to {n}"),
            format!("Ronron {ronron_cpu:.3} ms, sink {sink_cpu:.3} ms (one signature: {:.3} ms)", signature_ms(limit)),
            format!("signatures are {:.0} % of Ronron's CPU", 100.0 * signature_ms(limit) / ronron_cpu),
        ));
        rows.push(Row(
            format!("{label}: enqueue of {n}"),
            format!("{:.1} ms", run.enqueue.as_secs_f64() * 1000.0),
            format!("{:.2} % of the fan-out time", 100.0 * run.enqueue.as_secs_f64() / run.all.as_secs_f64()),
        ));
        if n == *sizes.last().unwrap() && extras() {
            rows.push(Row(
                format!("{label}: peak memory of the bench process (VmHWM) after {n}"),
                format!("{:.0} MB (RSS now {:.0} MB)", vm("VmHWM:"), vm("VmRSS:")),
                "sink and Ronron in one process".into(),
            ));
            let wake = wake_latency(&url, sink, &state, 5).await;
            let mut sorted = wake.clone();
            sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
            rows.push(Row(
                format!("{label}: first delivery after a commit by another process (5 runs)"),
                format!("median {:.1} ms, max {:.1} ms", sorted[2], sorted[4]),
                "goal < 50 ms".into(),
            ));
            // Slow inboxes: 10 % answer after 5 s.
            let slow = fan_out(std::slice::from_ref(&state), sink, n, true).await;
            let fast_n = (0..n).filter(|i| !Sink::is_slow(*i)).count();
            let fast_rate = fast_n as f64 / slow.fast.as_secs_f64();
            rows.push(Row(
                format!("{label}: fan-out to {n}, 10 % of inboxes answer after 5 s"),
                format!(
                    "other 90 % at {fast_rate:.0}/s ({:.2} s); all in {:.2} s",
                    slow.fast.as_secs_f64(),
                    slow.all.as_secs_f64()
                ),
                format!("{:.0} % of the all-fast rate", 100.0 * fast_rate / rate),
            ));
        }
        handle.stop(true).await;
        let _ = join.await;
        drop(state);
        drop_pg(admin, &url);
    }
    if rates.len() >= 2 {
        let (small, large) = (rates[0], rates[rates.len() - 1]);
        rows.push(Row(
            format!("{label}: rate at {} / rate at {}", large.0, small.0),
            format!("{:.0} / {:.0}", large.1, small.1),
            format!("{:.0} %", 100.0 * large.1 / small.1),
        ));
    }
    if !extras() {
        return;
    }
    let url = fresh_url(&dir, admin, &mut n_db);
    fan_out_to_binary(label, &url, sink, *sizes.last().unwrap(), limit, rows).await;
    drop_pg(admin, &url);
    for (depth, leased) in [(1_000, 0), (10_000, 0), (10_000, 1_024)] {
        let url = fresh_url(&dir, admin, &mut n_db);
        let cost = claim_cost(&url, depth, leased);
        drop_pg(admin, &url);
        let what = if leased > 0 {
            format!(", the first {leased} leased (two full windows in flight)")
        } else {
            String::new()
        };
        rows.push(Row(
            format!("{label}: one claim of 64 at {depth} pending{what}"),
            format!("{cost:.2} ms"),
            String::new(),
        ));
    }
    if admin.is_some() {
        let n = *sizes.last().unwrap();
        let url = fresh_url(&dir, admin, &mut n_db);
        let (a, ha, ja) = start_app(&url).await;
        let (b, hb, jb) = start_app(&url).await;
        let run = fan_out(&[a.clone(), b.clone()], sink, n, false).await;
        let rate = n as f64 / run.all.as_secs_f64();
        rows.push(Row(
            format!("{label}: two `serve` processes on one database, fan-out to {n}"),
            format!("{rate:.0}/s; {} reached, {} lost, {} sent twice", run.reached, n - run.reached, run.twice),
            format!("{:.0} % of the signing limit", 100.0 * rate / limit),
        ));
        for (h, j) in [(ha, ja), (hb, jb)] {
            h.stop(true).await;
            let _ = j.await;
        }
        drop((a, b));
        drop_pg(admin, &url);
    }
}

/// The configuration of a release binary on `url`, listening on a free port of loopback.
fn binary_config(url: &str) -> Config {
    let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = Config::default();
    config.server.listen = format!("127.0.0.1:{port}");
    config.instance.domain = format!("localhost:{port}");
    config.database.url = url.to_string();
    config
}

/// The fan-out to `n` again with Ronron as the release binary in a process of its own, so that
/// its CPU per delivery and its peak memory are read apart from the sink's and the bench's.
async fn fan_out_to_binary(label: &str, url: &str, sink: &Sink, n: usize, limit: f64, rows: &mut Vec<Row>) {
    let mut config = binary_config(url);
    config.delivery.workers = 2;
    let for_start = config.clone();
    let Some(mut server) = tokio::task::spawn_blocking(move || server::Server::start(&for_start)).await.unwrap() else {
        return;
    };
    // The activity is queued as `ronron post` queues it: a commit by another process, then a
    // wake-up.
    config.delivery.workers = 0;
    let cli = tokio::task::spawn_blocking(move || AppState::open(config)).await.unwrap().unwrap();
    let cpu_before = server.cpu_seconds();
    let run = fan_out(std::slice::from_ref(&cli), sink, n, false).await;
    let cpu = server.cpu_seconds() - cpu_before;
    let rate = n as f64 / run.all.as_secs_f64();
    rows.push(Row(
        format!("{label}: fan-out to {n}, `ronron serve` in its own process"),
        format!("{rate:.0} deliveries/s ({:.2} s; {} reached, {} twice)", run.all.as_secs_f64(), run.reached, run.twice),
        format!("{:.0} % of the signing limit", 100.0 * rate / limit),
    ));
    let per_delivery = 1000.0 * cpu / n as f64;
    rows.push(Row(
        format!("{label}: CPU per delivery of that process"),
        format!("{per_delivery:.3} ms (one signature: {:.3} ms)", signature_ms(limit)),
        format!("signatures are {:.0} % of it", 100.0 * signature_ms(limit) / per_delivery),
    ));
    rows.push(Row(
        format!("{label}: peak memory of that process (VmHWM), from its start to the end of the fan-out"),
        format!("{:.1} MB (RSS now {:.1} MB)", server.memory_mb("VmHWM:"), server.memory_mb("VmRSS:")),
        "goal ≤ 60 MB".into(),
    ));
    tokio::task::spawn_blocking(move || server.stop()).await.unwrap();
    drop(cli);
}

/// Start time and idle RSS of the release binary on an existing database.
fn binary_figures(rows: &mut Vec<Row>) {
    let idle: u64 = std::env::var("BENCH_IDLE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    let config = binary_config(&format!("sqlite://{}/ronron.db", dir.path().display()));
    let mut starts = Vec::new();
    let mut rss = 0.0;
    for round in 0..4 {
        let started = Instant::now();
        let Some(mut server) = server::Server::start(&config) else { return };
        starts.push(started.elapsed().as_secs_f64() * 1000.0);
        if round == 3 {
            std::thread::sleep(Duration::from_secs(idle));
            rss = server.memory_mb("VmRSS:");
        }
        server.stop();
    }
    rows.push(Row(
        "start, fresh SQLite database (keys included)".into(),
        format!("{:.0} ms", starts[0]),
        "goal < 300 ms".into(),
    ));
    let mut again = starts[1..].to_vec();
    again.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows.push(Row(
        "start, existing database (median of 3)".into(),
        format!("{:.0} ms", again[1]),
        "goal < 100 ms".into(),
    ));
    rows.push(Row(format!("idle RSS {idle} s after start"), format!("{rss:.1} MB"), "goal ≤ 15 MB".into()));
}

/// One RSA-2048 signature on one core, in ms, from the signing limit of all cores.
fn signature_ms(limit: f64) -> f64 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    1000.0 * cores as f64 / limit
}

/// `BENCH_EXTRAS=0` runs the fan-outs only (no memory, wake-up, slow, claim, two-process and
/// binary figures): for profiles and quick comparisons.
fn extras() -> bool {
    std::env::var("BENCH_EXTRAS").map_or(true, |v| v != "0")
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let max = *sizes.iter().max().unwrap();
    let sink = start_sink(max.max(16));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut rows = Vec::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "Load average at the start: {} (other work on the machine lowers every rate; the CPU per delivery is steadier)",
        load.trim()
    );
    let before = signing_limit(2.0);
    rows.push(Row(
        "signing limit before (RSA-2048, aws-lc-rs, all cores)".into(),
        format!("{before:.0}/s"),
        "reference".into(),
    ));
    runtime.block_on(run_backend("SQLite", None, &sink, &sizes, before, &mut rows));
    if let Ok(admin) = std::env::var("BENCH_DATABASE_URL") {
        runtime.block_on(run_backend("PostgreSQL", Some(&admin), &sink, &sizes, before, &mut rows));
    }
    let after = signing_limit(2.0);
    rows.push(Row(
        "signing limit after".into(),
        format!("{after:.0}/s"),
        format!("{:.0} % of before", 100.0 * after / before),
    ));
    rows.push(Row(
        "signatures verified by the sink (1 in 50)".into(),
        format!("{} verified, {} bad", sink.verified.load(Ordering::Relaxed), sink.bad.load(Ordering::Relaxed)),
        String::new(),
    ));
    if extras() {
        binary_figures(&mut rows);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("\nLoad average at the end: {}", load.trim());
    println!("\n| figure | measured | ratio |\n|---|---|---|");
    for Row(a, b, c) in rows {
        println!("| {a} | {b} | {c} |");
    }
}
