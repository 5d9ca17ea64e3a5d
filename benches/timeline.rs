//! Timeline benchmark: seeds N items (default 1,000,000) into a fresh database, each a peer's post
//! stored as Ronron stores it (`remote_posts`, its author in `remote_actors`, its index rows), then
//! 1. times the API's query alone, reporting p50/p99 per query and their ratio to a trivial
//!    query's round trip measured in the same run;
//! 2. starts Ronron on that database and times `GET /api/v1/timeline` over HTTP (keep-alive,
//!    `BENCH_CONNECTIONS` connections, default 8, `BENCH_REQUESTS` requests per figure, default
//!    5,000), first page and filtered pages, with WebFinger on the same server as the reference
//!    (its req/s before and after), p50/p99 and req/s. Each page is timed twice: asked again and
//!    again (the server sends the page it keeps until its next write, for a second at most), and
//!    asked each time with another `until` that selects the same items (each answer read and
//!    rendered).
//!
//! `cargo bench --bench timeline` (SQLite); with `BENCH_DATABASE_URL=postgres://…/postgres` a
//! throwaway PostgreSQL database is created, used and dropped. `BENCH_ITEMS` sets N (a quick run:
//! `BENCH_ITEMS=100000`).

#[path = "common/load.rs"]
mod load;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::{connection::SimpleConnection, Connection, RunQueryDsl};
use ronron::{
    clock::Clock,
    config::Config,
    db::{
        models::timeline::{self, TimelineFilter},
        Db, DbConnection,
    },
    startup::Application,
};
use std::{sync::Arc, time::Instant};

const DOMAINS: usize = 300;
const SERVICES: &[&str] = &["nextcloud", "peertube", "mastodon", "etherpad", "jitsi", "gitea", "matrix", "wordpress"];
// Four values of equal share, so each kind filter selects about a quarter of the items.
const KINDS: &[&str] = &["news", "service_change", "label_update", "other"];
const IMPACTS: &[&str] = &["none", "minor", "major", "critical"];
const LANGS: &[&str] = &["fr", "en", "de", "es"];
const RUNS: usize = 200;

fn start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()
}

/// Deterministic pseudo-random numbers (no dependency, same data every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

fn seed(db: &Db, items: usize) {
    let mut conn = db.conn().unwrap();
    let mut rng = Lcg(42);
    let mut batch_items = String::new();
    let mut batch_services = String::new();
    let mut batch_posts = String::new();
    let flush = |conn: &mut DbConnection, items: &mut String, services: &mut String, posts: &mut String| {
        let mut sql = String::from("BEGIN;");
        if !posts.is_empty() {
            sql.push_str("INSERT INTO remote_posts (id, actor_id, object_type, content_html, summary, url, lang, in_reply_to, published_at, updated_at, raw, received_at, kind, meta) VALUES ");
            sql.push_str(posts.trim_end_matches(','));
            sql.push(';');
        }
        if !items.is_empty() {
            sql.push_str("INSERT INTO timeline_items (id, actor_id, domain, is_local, kind, change_type, impact, lang, published_at) VALUES ");
            sql.push_str(items.trim_end_matches(','));
            sql.push(';');
        }
        if !services.is_empty() {
            sql.push_str("INSERT INTO timeline_services (service, published_at, item_id) VALUES ");
            sql.push_str(services.trim_end_matches(','));
            sql.push(';');
        }
        sql.push_str("COMMIT;");
        conn.batch_execute(&sql).unwrap();
        items.clear();
        services.clear();
        posts.clear();
    };
    // The peers, as cached actors.
    let mut actors = String::from("INSERT INTO remote_actors (id, actor_type, preferred_username, name, inbox, shared_inbox, outbox, public_key_id, public_key_pem, raw, fetched_at) VALUES ");
    for d in 0..DOMAINS {
        let id = format!("https://host{d}.example/u/bulletin");
        actors.push_str(&format!(
            "('{id}','Organization','bulletin','Chaton {d}','{id}/inbox',NULL,'{id}/outbox','{id}#main-key','','{{}}','2025-01-01 00:00:00'),"
        ));
    }
    conn.batch_execute(actors.trim_end_matches(',')).unwrap();
    for n in 0..items {
        let domain = format!("host{}.example", rng.next() % DOMAINS);
        let kind = KINDS[rng.next() % KINDS.len()];
        let (change_type, impact) = if kind == "service_change" {
            (
                if rng.next().is_multiple_of(2) { "'incident'" } else { "'maintenance'" },
                format!("'{}'", IMPACTS[rng.next() % IMPACTS.len()]),
            )
        } else {
            ("NULL", "NULL".to_string())
        };
        let lang = LANGS[rng.next() % LANGS.len()];
        // About one item every 30 s over the year: a large collective's aggregator.
        let at = start() + Duration::seconds((n * 30 + rng.next() % 30) as i64);
        let at = at.format("%Y-%m-%d %H:%M:%S").to_string();
        let id = format!("https://{domain}/b/{n}");
        let actor = format!("https://{domain}/u/bulletin");
        let service = SERVICES[rng.next() % SERVICES.len()];
        let (meta, extra) = match kind {
            "service_change" => {
                let change = if change_type.contains("incident") { "incident" } else { "maintenance" };
                let meta = format!(
                    r#"{{"bulletinKind":"serviceChange","service":{{"id":"https://{domain}/services/{service}","name":"{service}","software":"{service}","url":"https://{service}.{domain}"}},"changeType":"{change}","impact":{impact}}}"#,
                    impact = impact.replace('\'', "\""),
                );
                let window = format!(
                    r#","startTime":"{}","endTime":"{}""#,
                    at.replace(' ', "T") + "Z",
                    at.replace(' ', "T") + "Z"
                );
                (Some(meta), window)
            }
            "news" | "label_update" => {
                let wire = if kind == "news" { "news" } else { "labelUpdate" };
                (Some(format!(r#"{{"bulletinKind":"{wire}"}}"#)), String::new())
            }
            _ => (None, String::new()),
        };
        let content = format!("<p>Bulletin {n} de {domain} : une maintenance de {service} est prévue, le service sera coupé une vingtaine de minutes pendant la mise à jour. Merci de votre patience.</p>");
        let meta_json = meta.as_deref().map(|m| m.trim_start_matches('{').trim_end_matches('}').to_string());
        let raw = format!(
            r##"{{"id":"{id}","type":"Note","attributedTo":"{actor}","to":["https://www.w3.org/ns/activitystreams#Public"],"content":"{content}","contentMap":{{"{lang}":"{content}"}},"published":"{iso}","url":"{id}","tag":[{{"type":"Hashtag","name":"#{service}","href":"https://{domain}/tags/{service}"}}]{extra}{meta_part}}}"##,
            iso = at.replace(' ', "T") + "Z",
            meta_part = meta_json.map(|m| format!(",{m}")).unwrap_or_default(),
        );
        let post_kind = match kind {
            "service_change" => "'serviceChange'",
            "news" => "'news'",
            "label_update" => "'labelUpdate'",
            _ => "NULL",
        };
        let meta_sql = meta.map(|m| format!("'{m}'")).unwrap_or_else(|| "NULL".into());
        batch_posts.push_str(&format!(
            "('{id}','{actor}','Note','{content}',NULL,'{id}','{lang}',NULL,'{at}',NULL,'{raw}','{at}',{post_kind},{meta_sql}),"
        ));
        batch_items.push_str(&format!(
            "('{id}','https://{domain}/u/bulletin','{domain}',false,'{kind}',{change_type},{impact},'{lang}','{at}'),"
        ));
        if kind == "service_change" {
            batch_services.push_str(&format!("('{service}','{at}','{id}'),"));
        }
        if n % 2000 == 1999 {
            flush(&mut conn, &mut batch_items, &mut batch_services, &mut batch_posts);
        }
    }
    flush(&mut conn, &mut batch_items, &mut batch_services, &mut batch_posts);
    conn.batch_execute(if matches!(*conn, DbConnection::Sqlite(_)) {
        "ANALYZE;"
    } else {
        "ANALYZE timeline_items; ANALYZE timeline_services; ANALYZE remote_posts;"
    })
    .unwrap();
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn time<F: FnMut()>(mut f: F) -> (f64, f64) {
    let mut samples: Vec<f64> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (percentile(&samples, 0.5), percentile(&samples, 0.99))
}

fn run(label: &str, url: &str, items: usize) {
    let db = Db::connect(url, 2).unwrap();
    let seeding = Instant::now();
    seed(&db, items);
    let seeded_in = seeding.elapsed();
    let count = db.read_blocking(timeline::count).unwrap();
    assert_eq!(count as usize, items);
    let mut conn = db.conn().unwrap();
    let (ref_p50, ref_p99) = time(|| conn.batch_execute("SELECT 1").unwrap());
    let middle = start() + Duration::seconds((items * 30 / 2) as i64);
    let cursor = Some((middle, "https://~".to_string()));
    let queries: Vec<(&str, TimelineFilter)> = vec![
        ("first page", TimelineFilter { limit: 20, ..Default::default() }),
        ("page at the middle (keyset)", TimelineFilter { before: cursor.clone(), limit: 20, ..Default::default() }),
        (
            "kind = service_change",
            TimelineFilter { kind: Some("service_change".into()), limit: 20, ..Default::default() },
        ),
        (
            "peer = one of 300 hosts",
            TimelineFilter { domain: Some("host7.example".into()), limit: 20, ..Default::default() },
        ),
        ("service = nextcloud", TimelineFilter { service: Some("nextcloud".into()), limit: 20, ..Default::default() }),
        (
            "service, at the middle",
            TimelineFilter {
                service: Some("nextcloud".into()),
                before: cursor.clone(),
                limit: 20,
                ..Default::default()
            },
        ),
        ("impact = critical", TimelineFilter { impact: Some("critical".into()), limit: 20, ..Default::default() }),
        ("lang = de", TimelineFilter { lang: Some("de".into()), limit: 20, ..Default::default() }),
        (
            "one week, kind = news",
            TimelineFilter {
                kind: Some("news".into()),
                since: Some(middle - Duration::days(7)),
                until: Some(middle),
                limit: 20,
                ..Default::default()
            },
        ),
    ];
    println!("\n### {label}: {items} items (seeded in {:.0} s)\n", seeded_in.as_secs_f64());
    println!("Reference: `SELECT 1` round trip p50 {ref_p50:.3} ms, p99 {ref_p99:.3} ms.\n");
    println!("| query (20 items, authors joined) | p50 ms | p99 ms | p50 / SELECT 1 |");
    println!("|---|---:|---:|---:|");
    for (name, filter) in queries {
        let got = timeline::query(&mut conn, &filter).unwrap();
        assert!(!got.is_empty(), "{name} returned nothing");
        let (p50, p99) = time(|| {
            timeline::query(&mut conn, &filter).unwrap();
        });
        println!("| {name} | {p50:.3} | {p99:.3} | {:.0}× |", p50 / ref_p50);
    }
    drop(conn);
    drop(db);
    over_http(label, url, items);
}

/// The same pages through Ronron's HTTP API, with WebFinger on the same server as the reference.
fn over_http(label: &str, url: &str, items: usize) {
    let connections: usize = std::env::var("BENCH_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let requests: usize = std::env::var("BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let host = format!("localhost:{}", address.port());
    let mut config = Config::default();
    config.server.listen = address.to_string();
    config.instance.domain = host.clone();
    config.database.url = url.to_string();
    let started = Instant::now();
    let (handle, join, filled_in) = runtime.block_on(async {
        let app = Application::build_with(config, listener, false, Clock::system()).await.expect("app builds");
        let handle = app.server_handle();
        let state = app.state().clone();
        let join = tokio::spawn(app.run_until_stopped());
        // The seeded posts have no entry yet, as after the upgrade that added them: start-up
        // fills them in the background; the pages are timed once it is done.
        while !state.db.read(|c| timeline::without_entry(c, "", 1)).await.unwrap().is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        (handle, join, started.elapsed())
    });
    println!("\nStart-up filled the timeline entries of the {items} seeded posts in {:.1} s.", filled_in.as_secs_f64());
    let middle = start() + Duration::seconds((items * 30 / 2) as i64);
    let cursor = format!("{}.https://~", middle.and_utc().timestamp_micros());
    let week = (middle - Duration::days(7)).and_utc().to_rfc3339();
    let until = middle.and_utc().to_rfc3339();
    let webfinger = format!("/.well-known/webfinger?resource=acct:bulletin@{host}");
    let pages: Vec<(String, String)> = vec![
        ("first page".into(), "/api/v1/timeline?limit=20".into()),
        ("page at the middle (keyset)".into(), format!("/api/v1/timeline?limit=20&before={cursor}")),
        ("kind = service_change".into(), "/api/v1/timeline?limit=20&kind=service_change".into()),
        ("peer = one of 300 hosts".into(), "/api/v1/timeline?limit=20&peer=host7.example".into()),
        ("service = nextcloud".into(), "/api/v1/timeline?limit=20&service=nextcloud".into()),
        ("impact = critical".into(), "/api/v1/timeline?limit=20&impact=critical".into()),
        ("lang = de".into(), "/api/v1/timeline?limit=20&lang=de".into()),
        (
            "one week, kind = news".into(),
            format!(
                "/api/v1/timeline?limit=20&kind=news&since={}&until={}",
                week.replace('+', "%2B"),
                until.replace('+', "%2B")
            ),
        ),
    ];
    let measure = |path: &str| {
        let request = load::get(&host, path, "application/json");
        // A few answers first (caches warm, connections made), then the timed run.
        let _ = load::run(address, Arc::new(vec![request.clone(); 200]), connections);
        load::run(address, Arc::new(vec![request; requests]), connections)
    };
    // The same page asked each time with another `until` (one microsecond apart, after every
    // item, or just before the line's own `until`): the same items, but never a page the server
    // has kept, so each answer is read and rendered.
    let far = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let measure_uncached = |path: &str| {
        let distinct = |i: usize| match path.contains("until=") {
            true => {
                let own = middle - Duration::microseconds(i as i64);
                let own = own.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                path.replace(&format!("until={}", until.replace('+', "%2B")), &format!("until={own}"))
            }
            false => {
                let at = (far + Duration::microseconds(i as i64)).and_utc();
                format!("{path}&until={}", at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            }
        };
        let warm: Vec<Vec<u8>> =
            (0..200).map(|i| load::get(&host, &distinct(requests + i), "application/json")).collect();
        let _ = load::run(address, Arc::new(warm), connections);
        let timed: Vec<Vec<u8>> = (0..requests).map(|i| load::get(&host, &distinct(i), "application/json")).collect();
        load::run(address, Arc::new(timed), connections)
    };
    let reference = measure(&webfinger);
    assert_eq!(reference.count(200), requests, "WebFinger answers 200");
    let reference_rate = reference.rate();
    println!(
        "\n#### {label} over HTTP: {items} items, {connections} keep-alive connections, {requests} requests per line\n"
    );
    println!(
        "| GET | req/s | p50 ms | p99 ms | req/s / WebFinger's | server CPU µs/request | load generator's CPU share |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let line = |name: &str, report: &load::Report, reference_rate: f64| {
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.0} % | {:.0} | {:.0} % |",
            report.rate(),
            report.percentile(0.5),
            report.percentile(0.99),
            100.0 * report.rate() / reference_rate,
            report.server_cpu_per_request_us(),
            100.0 * report.generator_share()
        );
    };
    line("WebFinger (reference)", &reference, reference_rate);
    for (name, path) in &pages {
        for (report, how) in [(measure(path), ""), (measure_uncached(path), ", each asked once")] {
            assert_eq!(
                (report.count(200), report.failed),
                (requests, 0),
                "{name}{how}: every request is answered 200 ({:?})",
                report.statuses
            );
            line(&format!("timeline, {name}{how}"), &report, reference_rate);
        }
    }
    let after = measure(&webfinger);
    line("WebFinger again, after", &after, reference_rate);
    runtime.block_on(async {
        handle.stop(true).await;
        let _ = join.await;
    });
}

fn main() {
    let items: usize = std::env::var("BENCH_ITEMS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &format!("sqlite://{}/bench.db", dir.path().display()), items);
    if let Ok(admin) = std::env::var("BENCH_DATABASE_URL") {
        let name = format!("ronron_bench_{}", std::process::id());
        let mut conn = diesel::pg::PgConnection::establish(&admin).expect("BENCH_DATABASE_URL reachable");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        run("PostgreSQL", url.as_str(), items);
        diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).unwrap();
    }
}
