//! Timeline query benchmark: seeds N items (default 1,000,000) into a fresh database and times
//! the API's queries, reporting p50/p99 per query and their ratio to a trivial query's round trip
//! measured in the same run.
//!
//! `cargo bench --bench timeline` (SQLite); with `BENCH_DATABASE_URL=postgres://…/postgres` a
//! throwaway PostgreSQL database is created, used and dropped. `BENCH_ITEMS` sets N.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::{connection::SimpleConnection, Connection, RunQueryDsl};
use ronron::db::{
    models::timeline::{self, TimelineFilter},
    Db, DbConnection,
};
use std::time::Instant;

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
    let flush = |conn: &mut DbConnection, items: &mut String, services: &mut String| {
        let mut sql = String::from("BEGIN;");
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
    };
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
        let at = at.format("%Y-%m-%d %H:%M:%S");
        let id = format!("https://{domain}/b/{n}");
        batch_items.push_str(&format!(
            "('{id}','https://{domain}/u/bulletin','{domain}',false,'{kind}',{change_type},{impact},'{lang}','{at}'),"
        ));
        if kind == "service_change" {
            let service = SERVICES[rng.next() % SERVICES.len()];
            batch_services.push_str(&format!("('{service}','{at}','{id}'),"));
        }
        if n % 2000 == 1999 {
            flush(&mut conn, &mut batch_items, &mut batch_services);
        }
    }
    flush(&mut conn, &mut batch_items, &mut batch_services);
    conn.batch_execute(if matches!(*conn, DbConnection::Sqlite(_)) {
        "ANALYZE;"
    } else {
        "ANALYZE timeline_items; ANALYZE timeline_services;"
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
    println!("| query (20 items) | p50 ms | p99 ms | p50 / SELECT 1 |");
    println!("|---|---:|---:|---:|");
    for (name, filter) in queries {
        let got = timeline::query(&mut conn, &filter).unwrap();
        assert!(!got.is_empty(), "{name} returned nothing");
        let (p50, p99) = time(|| {
            timeline::query(&mut conn, &filter).unwrap();
        });
        println!("| {name} | {p50:.3} | {p99:.3} | {:.0}× |", p50 / ref_p50);
    }
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
