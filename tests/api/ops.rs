//! The machines' endpoints: `/healthz`, `/readyz` and `/metrics`, scraped over HTTP from real
//! instances that follow each other, and parsed by the exposition format's rules.

use crate::helpers::{spawn_app, spawn_app_with, spawn_app_with_clock, test_clock, TestApp};
use chrono::Duration;
use reqwest::{header, Method, StatusCode};
use ronron::{app::bulletins as publish, bulletin::NewsDraft};
use std::collections::{BTreeMap, BTreeSet};

const TOKEN: &str = "a-metrics-token-for-tests";

fn news(title: &str) -> NewsDraft {
    NewsDraft { title: title.into(), body_markdown: "Mardi 21:00.".into(), lang: None }
}

async fn call(method: Method, url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn readyz(app: &TestApp) -> (StatusCode, serde_json::Value) {
    let response = call(Method::GET, &format!("{}/readyz", app.base()), None).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Scrapes `url` with `token`, checks the answer's type and parses it.
async fn scrape(url: &str, token: Option<&str>) -> Exposition {
    let response = call(Method::GET, url, token).await;
    assert_eq!(response.status(), StatusCode::OK, "scrape {url}");
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/openmetrics-text; version=1.0.0"), "{content_type}");
    let text = response.text().await.unwrap();
    Exposition::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

// ---- the exposition format (OpenMetrics text, which Prometheus reads), parsed strictly ----

#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

#[derive(Debug, Default)]
struct Exposition {
    /// Family name → its type.
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The sample-name suffixes a family of each type may use.
fn suffixes(kind: &str) -> &'static [&'static str] {
    match kind {
        "counter" => &["_total", "_created"],
        "histogram" => &["_bucket", "_count", "_sum", "_created"],
        "gauge" | "unknown" => &[""],
        "summary" => &["", "_count", "_sum", "_created"],
        _ => &[],
    }
}

/// `{a="x",b="y\"z"}` at the start of `text`: the labels and what follows the closing brace.
fn parse_labels(text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = text.strip_prefix('{').ok_or("labels must open with {")?;
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (name, after) = rest.split_once("=\"").ok_or_else(|| format!("label without =\": {rest}"))?;
        if !is_label_name(name) {
            return Err(format!("bad label name `{name}`"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?} in label {name}")),
                },
                Some((i, '"')) => break i,
                Some((_, '\n')) | None => return Err(format!("label {name} is not closed")),
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label {name} repeated"));
        }
        rest = &after[end + 1..];
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err(format!("expected , or }} after label {name}"));
        }
    }
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text.parse::<f64>().map_err(|e| format!("bad value `{text}`: {e}")),
    }
}

impl Exposition {
    /// Every line is a `# HELP`, `# TYPE` or `# UNIT` comment or a sample; a family's TYPE comes
    /// before its samples, its samples are together, their names are the family's with a suffix
    /// its type allows; the text ends with `# EOF`. Histograms' buckets are cumulative and end
    /// with `+Inf`, equal to `_count`.
    fn parse(text: &str) -> Result<Exposition, String> {
        let body = text.strip_suffix("# EOF\n").ok_or("the text must end with `# EOF`")?;
        let mut out = Exposition::default();
        let mut helps = BTreeSet::new();
        let mut current: Option<String> = None;
        let mut finished = BTreeSet::new();
        for line in body.lines() {
            if let Some(comment) = line.strip_prefix("# ") {
                let mut parts = comment.splitn(3, ' ');
                let (keyword, family) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let rest = parts.next().unwrap_or("");
                if !is_metric_name(family) {
                    return Err(format!("bad family name in `{line}`"));
                }
                if current.as_deref() != Some(family) {
                    if let Some(done) = current.take() {
                        finished.insert(done);
                    }
                    if finished.contains(family) {
                        return Err(format!("family {family} appears twice"));
                    }
                    current = Some(family.to_string());
                }
                match keyword {
                    "HELP" => {
                        if !helps.insert(family.to_string()) {
                            return Err(format!("two HELP lines for {family}"));
                        }
                    }
                    "TYPE" => {
                        if suffixes(rest).is_empty() {
                            return Err(format!("unknown type in `{line}`"));
                        }
                        if out.types.insert(family.to_string(), rest.to_string()).is_some() {
                            return Err(format!("two TYPE lines for {family}"));
                        }
                    }
                    "UNIT" => {}
                    _ => return Err(format!("unknown comment `{line}`")),
                }
                continue;
            }
            let name_end = line.find(['{', ' ']).ok_or_else(|| format!("not a sample: `{line}`"))?;
            let name = &line[..name_end];
            let (labels, rest) = if line[name_end..].starts_with('{') {
                parse_labels(&line[name_end..])?
            } else {
                (BTreeMap::new(), &line[name_end..])
            };
            let mut fields =
                rest.strip_prefix(' ').ok_or_else(|| format!("no space before the value: `{line}`"))?.split(' ');
            let value = parse_value(fields.next().unwrap_or(""))?;
            if let Some(timestamp) = fields.next() {
                timestamp.parse::<f64>().map_err(|e| format!("bad timestamp in `{line}`: {e}"))?;
            }
            if fields.next().is_some() {
                return Err(format!("trailing text in `{line}`"));
            }
            let family = current.as_deref().ok_or_else(|| format!("sample before any TYPE: `{line}`"))?;
            let kind = out.types.get(family).ok_or_else(|| format!("sample of {family} before its TYPE"))?;
            let suffix = name.strip_prefix(family).ok_or_else(|| format!("{name} outside its family {family}"))?;
            if !suffixes(kind).contains(&suffix) {
                return Err(format!("{name}: suffix `{suffix}` not allowed for a {kind}"));
            }
            if suffix == "_bucket" && !labels.contains_key("le") {
                return Err(format!("bucket without le: `{line}`"));
            }
            out.samples.push(Sample { name: name.to_string(), labels, value });
        }
        out.check_histograms()?;
        Ok(out)
    }

    fn check_histograms(&self) -> Result<(), String> {
        for (family, _) in self.types.iter().filter(|(_, kind)| *kind == "histogram") {
            let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
            for sample in self.samples.iter().filter(|s| s.name == format!("{family}_bucket")) {
                let le = parse_value(&sample.labels["le"])?;
                let key =
                    sample.labels.iter().filter(|(k, _)| *k != "le").map(|(k, v)| (k.clone(), v.clone())).collect();
                series.entry(key).or_default().push((le, sample.value));
            }
            for (key, buckets) in series {
                if buckets.windows(2).any(|w| w[0].0 >= w[1].0 || w[0].1 > w[1].1) {
                    return Err(format!("{family}{key:?}: buckets not increasing and cumulative"));
                }
                let last = buckets.last().expect("at least one bucket");
                let labels: Vec<(&str, &str)> = key.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let count = self.value(&format!("{family}_count"), &labels);
                if last.0 != f64::INFINITY || Some(last.1) != count {
                    return Err(format!("{family}{key:?}: the +Inf bucket must equal _count ({count:?})"));
                }
            }
        }
        Ok(())
    }

    /// The value of the sample `name` with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.samples.iter().find(|s| s.name == name && s.labels == wanted).map(|s| s.value)
    }

    /// The sum of the samples `name` whose labels include these.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
            .map(|s| s.value)
            .sum()
    }
}

#[test]
fn the_parser_refuses_what_the_format_forbids() {
    let good = "# HELP x_total A counter\n# TYPE x counter\nx_total{a=\"b\\\"c\"} 1\n# EOF\n";
    assert!(Exposition::parse(good).is_ok());
    let bad = [
        "# TYPE x counter\nx_total 1\n",                                     // no # EOF
        "x_total 1\n# EOF\n",                                                // sample before TYPE
        "# TYPE x counter\nx_bucket 1\n# EOF\n",                             // suffix of another type
        "# TYPE x counter\nx_total{a=\"b} 1\n# EOF\n",                       // label not closed
        "# TYPE x counter\nx_total{a=\"b\"} one\n# EOF\n",                   // not a number
        "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n# TYPE x gauge\n# EOF\n", // family twice
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n# EOF\n",
    ];
    for text in bad {
        assert!(Exposition::parse(text).is_err(), "accepted:\n{text}");
    }
}

// ---- the endpoints ----

/// A follow, both ways over real HTTP, shows in the followed instance's metrics: the Follow it
/// accepted, the Accept it delivered, and the requests it answered, labelled by route pattern.
#[tokio::test]
async fn metrics_count_deliveries_inbox_activities_and_requests_by_route_pattern() {
    let a = spawn_app_with(0, |c| c.metrics.token = Some(TOKEN.into())).await;
    let b = spawn_app().await;
    b.follow(&a).await;
    for path in ["/b/nope", "/b/nope", "/no/such/page"] {
        assert_eq!(call(Method::GET, &format!("{}{path}", a.base()), None).await.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(call(Method::HEAD, &format!("{}/healthz", a.base()), None).await.status(), StatusCode::OK);
    // An unsigned activity: refused, and counted by its type.
    let like = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/likes/1", b.base()),
        "type": "Like",
        "actor": b.actor_url().as_str(),
        "object": a.actor_url().as_str(),
    });
    let refused = reqwest::Client::new()
        .post(format!("{}/inbox", a.base()))
        .header(header::CONTENT_TYPE, "application/activity+json")
        .body(like.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let url = format!("{}/metrics", a.base());
    let metrics = scrape(&url, Some(TOKEN)).await;
    let value = |name: &str, labels: &[(&str, &str)]| metrics.value(name, labels);
    assert_eq!(value("ronron_inbox_activities_total", &[("type", "Follow"), ("outcome", "accepted")]), Some(1.0));
    assert_eq!(
        value("ronron_inbox_activities_total", &[("type", "Like"), ("outcome", "refused_signature")]),
        Some(1.0)
    );
    assert_eq!(metrics.sum("ronron_inbox_activities_total", &[]), 2.0);
    assert_eq!(value("ronron_deliveries_total", &[("outcome", "delivered")]), Some(1.0), "the Accept");
    assert_eq!(metrics.sum("ronron_deliveries_total", &[]), 1.0);
    assert_eq!(value("ronron_delivery_duration_seconds_count", &[("outcome", "delivered")]), Some(1.0));
    assert!(value("ronron_delivery_duration_seconds_sum", &[("outcome", "delivered")]).unwrap() > 0.0);
    let requests = "ronron_http_requests_total";
    assert_eq!(value(requests, &[("method", "GET"), ("route", "/b/{id}"), ("status", "404")]), Some(2.0));
    assert_eq!(value(requests, &[("method", "GET"), ("route", "unmatched"), ("status", "404")]), Some(1.0));
    assert_eq!(value(requests, &[("method", "HEAD"), ("route", "/healthz"), ("status", "200")]), Some(1.0));
    assert_eq!(value(requests, &[("method", "POST"), ("route", "/inbox"), ("status", "401")]), Some(1.0));
    assert_eq!(metrics.sum(requests, &[("method", "POST"), ("status", "202")]), 1.0, "B's Follow");
    assert!(
        metrics.sum(requests, &[("method", "GET"), ("route", "/u/{name}"), ("status", "200")]) >= 1.0,
        "B read A's actor"
    );
    assert_eq!(
        value("ronron_http_request_duration_seconds_count", &[("method", "GET"), ("route", "/b/{id}")]),
        Some(2.0)
    );
    let routes: BTreeSet<&str> =
        metrics.samples.iter().filter_map(|s| s.labels.get("route")).map(String::as_str).collect();
    assert!(routes.iter().all(|r| *r == "unmatched" || !r.contains("nope") && r.starts_with('/')), "{routes:?}");
    assert_eq!(value("ronron_delivery_queue_depth", &[]), Some(0.0));
    assert_eq!(value("ronron_paused_inboxes", &[]), Some(0.0));
    assert_eq!(value("ronron_db_pool_max_connections", &[]), Some(4.0));
    assert!(value("ronron_db_pool_connections", &[("state", "idle")]).unwrap() >= 1.0);
    assert!(value("ronron_db_pool_connections", &[("state", "in_use")]).is_some());
    for family in ["ronron_http_request_duration_seconds", "ronron_delivery_duration_seconds"] {
        assert_eq!(metrics.types.get(family).map(String::as_str), Some("histogram"), "{family}");
    }

    // The token is asked for, and a wrong one refused.
    let missing = call(Method::GET, &url, None).await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(call(Method::GET, &url, Some("a-metrics-token-for-test")).await.status(), StatusCode::UNAUTHORIZED);
    let head = call(Method::HEAD, &url, Some(TOKEN)).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.bytes().await.unwrap().is_empty());
    let again = scrape(&url, Some(TOKEN)).await;
    assert_eq!(again.value(requests, &[("method", "GET"), ("route", "/metrics"), ("status", "401")]), Some(2.0));
    assert_eq!(again.value(requests, &[("method", "GET"), ("route", "/metrics"), ("status", "200")]), Some(1.0));
    assert_eq!(again.value(requests, &[("method", "HEAD"), ("route", "/metrics"), ("status", "200")]), Some(1.0));
}

/// Without configuration `/metrics` is not served; `metrics.listen` serves it (and the health
/// checks) on a listener of its own, and still not on the main one.
#[tokio::test]
async fn metrics_are_off_by_default_and_served_on_their_own_listener_when_configured() {
    let plain = spawn_app().await;
    let off = call(Method::GET, &format!("{}/metrics", plain.base()), Some(TOKEN)).await;
    assert_eq!(off.status(), StatusCode::NOT_FOUND);
    let health = call(Method::GET, &format!("{}/healthz", plain.base()), None).await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<serde_json::Value>().await.unwrap(), serde_json::json!({"status": "ok"}));
    assert_eq!(plain.metrics_port, None);

    let app = spawn_app_with(0, |c| c.metrics.listen = Some("127.0.0.1:0".into())).await;
    let port = app.metrics_port.expect("a metrics listener");
    assert_ne!(port, app.port);
    let own = format!("http://127.0.0.1:{port}");
    let metrics = scrape(&format!("{own}/metrics"), None).await;
    assert_eq!(metrics.value("ronron_delivery_queue_depth", &[]), Some(0.0));
    assert_eq!(call(Method::GET, &format!("{}/metrics", app.base()), None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(call(Method::GET, &format!("{own}/readyz"), None).await.status(), StatusCode::OK);
    assert_eq!(call(Method::HEAD, &format!("{own}/healthz"), None).await.status(), StatusCode::OK);
    let post = call(Method::POST, &format!("{own}/metrics"), None).await;
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.headers()[header::ALLOW], "GET, HEAD");
    assert_eq!(call(Method::GET, &format!("{own}/u/bulletin"), None).await.status(), StatusCode::NOT_FOUND);
}

/// `/readyz` is 503 while more deliveries wait than `health.max_queue_depth`, or the oldest due one
/// has waited longer than `health.max_due_age_secs`, and 200 otherwise; deliveries held for a
/// paused inbox count in neither.
#[tokio::test]
async fn readyz_is_503_when_the_queue_is_over_a_threshold_and_200_otherwise() {
    let clock = test_clock();
    let a = spawn_app_with_clock(0, clock.clone(), |c| {
        c.health.max_queue_depth = 1;
        c.health.max_due_age_secs = 60;
        c.delivery.max_attempts = 1;
        c.metrics.token = Some(TOKEN.into());
    })
    .await;
    let b = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    b.follow(&a).await;

    let (status, body) = readyz(&a).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    for check in ["database", "migrations", "queue_depth", "oldest_due_age_secs"] {
        assert_eq!(body["checks"][check]["ok"], true, "{check}: {body}");
    }
    assert_eq!(body["checks"]["migrations"]["pending"], serde_json::json!([]));
    assert_eq!(body["checks"]["queue_depth"]["value"], 0);

    // One delivery waiting, due now: at the threshold, still ready.
    publish::publish_news(&a.state, news("Un")).await.unwrap();
    let (status, body) = readyz(&a).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["queue_depth"]["value"], 1);
    assert_eq!(body["checks"]["oldest_due_age_secs"]["value"], 0);

    // Two minutes without a worker: the oldest due delivery is too old.
    clock.advance(Duration::minutes(2));
    let (status, body) = readyz(&a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["oldest_due_age_secs"], serde_json::json!({"ok": false, "value": 120, "max": 60}));
    assert_eq!(body["checks"]["queue_depth"]["ok"], true);

    // A second one: over the depth too. HEAD says the same.
    publish::publish_news(&a.state, news("Deux")).await.unwrap();
    let (status, body) = readyz(&a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["checks"]["queue_depth"], serde_json::json!({"ok": false, "value": 2, "max": 1}));
    let head = call(Method::HEAD, &format!("{}/readyz", a.base()), None).await;
    assert_eq!(head.status(), StatusCode::SERVICE_UNAVAILABLE);
    let metrics = scrape(&format!("{}/metrics", a.base()), Some(TOKEN)).await;
    assert_eq!(metrics.value("ronron_delivery_queue_depth", &[]), Some(2.0));
    assert_eq!(metrics.value("ronron_delivery_oldest_due_age_seconds", &[]), Some(120.0));

    // Delivered: ready again.
    assert_eq!(a.drain().await, 2);
    let (status, body) = readyz(&a).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["queue_depth"]["value"], 0);

    // B goes away: its inbox is paused after its one attempt, and what waits for it does not make
    // A unready, however long it waits.
    let _b = b.stop().await;
    publish::publish_news(&a.state, news("Trois")).await.unwrap();
    publish::publish_news(&a.state, news("Quatre")).await.unwrap();
    assert_eq!(a.drain().await, 1, "the first is tried; the inbox is then paused");
    clock.advance(Duration::hours(1));
    let (status, body) = readyz(&a).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["checks"]["queue_depth"]["value"], 0);
    let metrics = scrape(&format!("{}/metrics", a.base()), Some(TOKEN)).await;
    assert_eq!(metrics.value("ronron_paused_inboxes", &[]), Some(1.0));
    assert_eq!(metrics.value("ronron_delivery_queue_paused", &[]), Some(2.0));
    assert_eq!(metrics.value("ronron_delivery_queue_depth", &[]), Some(0.0));
    assert_eq!(metrics.value("ronron_deliveries_total", &[("outcome", "retry")]), Some(1.0));
    assert_eq!(metrics.value("ronron_deliveries_total", &[("outcome", "delivered")]), Some(3.0));
}

/// A series' labels other than `le`, in order: what groups a histogram's buckets.
type Labels = Vec<(String, String)>;
