//! The Prometheus metrics of one application: a `Registry` and its metric families, held in
//! `AppState` (several applications run in one test process, so nothing here is global).
//!
//! Counters and histograms are updated where things happen (the HTTP middleware, the inbox door,
//! the delivery worker); the gauges of the queue and the pool are set from a fresh reading just
//! before each scrape is encoded (`set_readings`). Every label value comes from a closed set or
//! from our own route patterns, so the number of series stays bounded whatever peers send.

use prometheus_client::{
    encoding::{text, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use std::sync::atomic::AtomicU64;

/// The content type of [`Metrics::encode`]'s text (OpenMetrics, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Buckets of HTTP answer times, in seconds (1 ms to 10 s).
const HTTP_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// Buckets of delivery times, in seconds (a POST to another server; timeouts are at most 120 s).
const DELIVERY_BUCKETS: [f64; 12] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0];

/// The route label of a request no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InboxLabels {
    r#type: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

fn delivery_histogram() -> Histogram {
    Histogram::new(DELIVERY_BUCKETS)
}

/// How a delivery attempt ended, as the `outcome` label says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// 2xx.
    Delivered,
    /// Refused for good (a 4xx, a blocked domain, an inbox URL we do not send to).
    Rejected,
    /// Will be tried again (5xx, 401, 408, 429, no answer).
    Retry,
}

impl DeliveryOutcome {
    fn label(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Rejected => "rejected",
            DeliveryOutcome::Retry => "retry",
        }
    }
}

/// How an incoming activity ended, as the `outcome` label says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxOutcome {
    /// Verified and applied.
    Accepted,
    /// Verified, already received before.
    Duplicate,
    /// Verified, nothing to do with it.
    Ignored,
    /// The signature is missing, malformed, or does not check (401).
    RefusedSignature,
    /// The sender's domain is blocked (403).
    RefusedBlocked,
    /// Not an activity we can read (400), or a body over the limit (413).
    BadRequest,
    /// The signer's key or an announced post could not be fetched (502).
    FetchFailed,
    /// Over its sender's quota, or its key fetches over theirs (429).
    Throttled,
    /// Our own failure (500).
    Error,
}

impl InboxOutcome {
    fn label(self) -> &'static str {
        match self {
            InboxOutcome::Accepted => "accepted",
            InboxOutcome::Duplicate => "duplicate",
            InboxOutcome::Ignored => "ignored",
            InboxOutcome::RefusedSignature => "refused_signature",
            InboxOutcome::RefusedBlocked => "refused_blocked",
            InboxOutcome::BadRequest => "bad_request",
            InboxOutcome::FetchFailed => "fetch_failed",
            InboxOutcome::Throttled => "throttled",
            InboxOutcome::Error => "error",
        }
    }
}

/// Activity types counted by name; anything else (a peer may send any string) is `other`, and
/// a body without a readable type is `unknown`.
const ACTIVITY_TYPES: [&str; 15] = [
    "Accept",
    "Add",
    "Announce",
    "Block",
    "Create",
    "Delete",
    "Flag",
    "Follow",
    "Like",
    "Move",
    "Reject",
    "Remove",
    "Undo",
    "Update",
    "EmojiReact",
];

/// The `type` label of an incoming activity whose type is `kind`.
pub fn activity_type_label(kind: Option<&str>) -> &'static str {
    match kind {
        None => "unknown",
        Some(kind) => ACTIVITY_TYPES.iter().find(|t| **t == kind).copied().unwrap_or("other"),
    }
}

/// The `method` label: the standard methods by name, anything else `other`.
pub fn method_label(method: &str) -> &'static str {
    const METHODS: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];
    METHODS.iter().find(|m| **m == method).copied().unwrap_or("other")
}

/// What is read from the database and the pool just before a scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Readings {
    /// Pending deliveries to inboxes that are not paused.
    pub queue_depth: i64,
    /// Pending deliveries held for paused inboxes.
    pub queue_paused: i64,
    /// Inboxes paused until their server speaks again.
    pub paused_inboxes: i64,
    /// How long the oldest due delivery has waited, in seconds (0 when none is due).
    pub oldest_due_age_secs: f64,
    pub pool_max: u32,
    pub pool_in_use: u32,
    pub pool_idle: u32,
}

pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Histograms<RouteLabels>,
    deliveries: Family<OutcomeLabels, Counter>,
    delivery_seconds: Histograms<OutcomeLabels>,
    inbox_activities: Family<InboxLabels, Counter>,
    queue_depth: Gauge,
    queue_paused: Gauge,
    paused_inboxes: Gauge,
    oldest_due_age: Gauge<f64, AtomicU64>,
    pool_max: Gauge,
    pool_connections: Family<PoolLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("ronron");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            http_requests.clone(),
        );
        let http_seconds: Histograms<RouteLabels> = Family::new_with_constructor(http_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route pattern",
            http_seconds.clone(),
        );
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register("deliveries", "Delivery attempts to remote inboxes, by outcome", deliveries.clone());
        let delivery_seconds: Histograms<OutcomeLabels> = Family::new_with_constructor(delivery_histogram);
        registry.register(
            "delivery_duration_seconds",
            "Time of one delivery attempt (sign and POST), by outcome",
            delivery_seconds.clone(),
        );
        let inbox_activities = Family::<InboxLabels, Counter>::default();
        registry.register(
            "inbox_activities",
            "Activities received on our inboxes, by activity type and outcome",
            inbox_activities.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "delivery_queue_depth",
            "Pending deliveries to inboxes that are not paused",
            queue_depth.clone(),
        );
        let queue_paused = Gauge::default();
        registry.register("delivery_queue_paused", "Pending deliveries held for paused inboxes", queue_paused.clone());
        let paused_inboxes = Gauge::default();
        registry.register("paused_inboxes", "Inboxes paused until their server speaks again", paused_inboxes.clone());
        let oldest_due_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "delivery_oldest_due_age_seconds",
            "How long the oldest due delivery has waited for a worker (0 when none is due)",
            oldest_due_age.clone(),
        );
        let pool_max = Gauge::default();
        registry.register("db_pool_max_connections", "Largest size of this process's database pool", pool_max.clone());
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Open database connections of this process, in use or idle",
            pool_connections.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_seconds,
            deliveries,
            delivery_seconds,
            inbox_activities,
            queue_depth,
            queue_paused,
            paused_inboxes,
            oldest_due_age,
            pool_max,
            pool_connections,
        }
    }

    /// One HTTP answer: `route` is the matched pattern (`/b/{id}`), or `None` when no route matched.
    pub fn http_request(&self, method: &str, route: Option<String>, status: u16, seconds: f64) {
        let method = method_label(method);
        let route = route.unwrap_or_else(|| UNMATCHED_ROUTE.to_string());
        self.http_requests.get_or_create(&HttpLabels { method, route: route.clone(), status }).inc();
        self.http_seconds.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }

    /// One delivery attempt and how long it took.
    pub fn delivery(&self, outcome: DeliveryOutcome, seconds: f64) {
        let labels = OutcomeLabels { outcome: outcome.label() };
        self.deliveries.get_or_create(&labels).inc();
        self.delivery_seconds.get_or_create(&labels).observe(seconds);
    }

    /// One activity received on an inbox; `kind` is its `type` as sent, if readable.
    pub fn inbox_activity(&self, kind: Option<&str>, outcome: InboxOutcome) {
        self.inbox_activities
            .get_or_create(&InboxLabels { r#type: activity_type_label(kind), outcome: outcome.label() })
            .inc();
    }

    /// Sets the gauges from a fresh reading (just before a scrape is encoded).
    pub fn set_readings(&self, readings: &Readings) {
        self.queue_depth.set(readings.queue_depth);
        self.queue_paused.set(readings.queue_paused);
        self.paused_inboxes.set(readings.paused_inboxes);
        self.oldest_due_age.set(readings.oldest_due_age_secs);
        self.pool_max.set(i64::from(readings.pool_max));
        self.pool_connections.get_or_create(&PoolLabels { state: "in_use" }).set(i64::from(readings.pool_in_use));
        self.pool_connections.get_or_create(&PoolLabels { state: "idle" }).set(i64::from(readings.pool_idle));
    }

    /// The exposition text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_in_closed_sets() {
        assert_eq!(activity_type_label(Some("Follow")), "Follow");
        assert_eq!(activity_type_label(Some("Follow\"} 1\nx")), "other");
        assert_eq!(activity_type_label(None), "unknown");
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "other");
    }

    #[test]
    fn counts_appear_in_the_text_with_their_labels() {
        let metrics = Metrics::new();
        metrics.http_request("GET", Some("/b/{id}".into()), 200, 0.003);
        metrics.http_request("GET", None, 404, 0.001);
        metrics.delivery(DeliveryOutcome::Delivered, 0.2);
        metrics.inbox_activity(Some("Follow"), InboxOutcome::Accepted);
        metrics.set_readings(&Readings {
            queue_depth: 3,
            pool_max: 4,
            pool_idle: 1,
            pool_in_use: 2,
            ..Readings::default()
        });
        let text = metrics.encode();
        for line in [
            "ronron_http_requests_total{method=\"GET\",route=\"/b/{id}\",status=\"200\"} 1",
            "ronron_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
            "ronron_deliveries_total{outcome=\"delivered\"} 1",
            "ronron_delivery_duration_seconds_count{outcome=\"delivered\"} 1",
            "ronron_inbox_activities_total{type=\"Follow\",outcome=\"accepted\"} 1",
            "ronron_delivery_queue_depth 3",
            "ronron_db_pool_connections{state=\"in_use\"} 2",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
    }
}
