//! Rate limits and throttles: how many requests a remote server may send to our inboxes, how many
//! unknown signing keys we fetch for it, how fast an admin API token may go, and the signing keys
//! that could not be fetched lately (refused without fetching them again).
//!
//! One [`Limits`] value lives in `AppState::limits`. The limiters are governor's keyed GCRA
//! limiters; their time is the app's [`Clock`] (through [`LimiterClock`]), so tests move time
//! instead of sleeping. Memory is bounded: the limiters forget keys whose budget is full again
//! (every minute, or at once when they hold more than [`MAX_TRACKED_KEYS`]), and the failed keys
//! are capped at `limits.failed_keys_max`.

use crate::{clock::Clock, config::LimitsConfig};
use chrono::NaiveDateTime;
use governor::{
    clock::Clock as _, middleware::NoOpMiddleware, nanos::Nanos, state::keyed::HashMapStateStore, Quota, RateLimiter,
};
use sha2::{Digest, Sha256};
use std::{
    collections::{BTreeMap, HashMap},
    hash::Hash,
    net::IpAddr,
    num::NonZeroU32,
    sync::Mutex,
    time::Duration,
};

/// A limiter holding more keys than this is pruned at once rather than at the next minute.
pub const MAX_TRACKED_KEYS: usize = 20_000;

/// How often the limiters forget the keys whose budget is full again.
const PRUNE_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// governor's view of the app's clock: nanoseconds since the Unix epoch, as `Clock::now` says.
#[derive(Clone, Debug)]
pub struct LimiterClock(Clock);

impl governor::clock::Clock for LimiterClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().and_utc().timestamp_nanos_opt().unwrap_or(0).max(0);
        Nanos::from(u64::try_from(nanos).unwrap_or(0))
    }
}

/// A refused request: when to come back, and the quota it went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds (at least 1) until the next request would be allowed: the `Retry-After`.
    pub retry_after_secs: u64,
    pub per_minute: u32,
    pub burst: u32,
}

/// Who an inbox request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InboxKey {
    /// The server named by the signature's keyId (`urls::domain_of`: normalised host, and its
    /// port when not the default one).
    Host(String),
    /// An unsigned request, or one whose keyId names no host: the client's address.
    Address(Option<IpAddr>),
}

impl InboxKey {
    /// The key of a request, read from its headers (names in lower case) without verifying
    /// anything: the signature is checked later, and only if the request is within its quota.
    pub fn of_request(headers: &BTreeMap<String, String>, client: Option<IpAddr>) -> InboxKey {
        let claimed = crate::federation::signatures::claimed_key_id(headers)
            .map(|key_id| crate::urls::domain_of(&key_id))
            .filter(|domain| !domain.is_empty());
        match claimed {
            Some(domain) => InboxKey::Host(domain),
            None => InboxKey::Address(client),
        }
    }
}

impl std::fmt::Display for InboxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InboxKey::Host(host) => f.write_str(host),
            InboxKey::Address(Some(ip)) => write!(f, "the address {ip}"),
            InboxKey::Address(None) => f.write_str("an unknown address"),
        }
    }
}

type Keyed<K> = RateLimiter<K, HashMapStateStore<K>, LimiterClock, NoOpMiddleware<Nanos>>;

/// One keyed limiter and the quota it was made with (to say it in a refusal).
struct Limiter<K: Hash + Eq + Clone> {
    limiter: Keyed<K>,
    clock: LimiterClock,
    per_minute: u32,
    burst: u32,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(per_minute: u32, burst: u32, clock: &LimiterClock) -> Self {
        // `Config::validate` keeps both in 1..=1_000_000, so the period is at least 60 µs.
        let per_minute = per_minute.max(1);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_secs(60) / per_minute;
        let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN)).allow_burst(burst);
        Limiter {
            limiter: RateLimiter::hashmap_with_clock(quota, clock.clone()),
            clock: clock.clone(),
            per_minute,
            burst: burst.get(),
        }
    }

    fn check(&self, key: &K) -> Result<(), Throttled> {
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Throttled { retry_after_secs: secs.max(1), per_minute: self.per_minute, burst: self.burst }
        })
    }

    fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.limiter.len()
    }
}

/// Signing keys that could not be fetched, by keyId: refused without fetching until `ttl` has
/// passed. At most `max` are kept; past that the oldest failure is forgotten first.
struct FailedKeys {
    entries: Mutex<HashMap<String, NaiveDateTime>>,
    ttl: chrono::Duration,
    max: usize,
}

impl FailedKeys {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, NaiveDateTime>> {
        // A panic while holding the lock cannot leave the map inconsistent: keep using it.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, key_id: &str, now: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut entries = self.lock();
        match entries.get(key_id) {
            Some(&at) if now - at < self.ttl => Some(at),
            Some(_) => {
                entries.remove(key_id);
                None
            }
            None => None,
        }
    }

    fn insert(&self, key_id: &str, now: NaiveDateTime) {
        let mut entries = self.lock();
        if entries.len() >= self.max && !entries.contains_key(key_id) {
            let ttl = self.ttl;
            entries.retain(|_, at| now - *at < ttl);
            while entries.len() >= self.max {
                let oldest = entries.iter().min_by_key(|(_, at)| **at).map(|(k, _)| k.clone());
                match oldest {
                    Some(oldest) => entries.remove(&oldest),
                    None => break,
                };
            }
        }
        entries.insert(key_id.to_string(), now);
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Every rate limit of this process (see the module's documentation).
pub struct Limits {
    clock: Clock,
    inbox: Limiter<InboxKey>,
    key_fetches: Limiter<String>,
    admin_api: Limiter<[u8; 32]>,
    failed_keys: FailedKeys,
    last_prune: Mutex<NaiveDateTime>,
}

impl Limits {
    pub fn new(config: &LimitsConfig, clock: Clock) -> Limits {
        let governor_clock = LimiterClock(clock.clone());
        Limits {
            inbox: Limiter::new(config.inbox_per_minute, config.inbox_burst, &governor_clock),
            key_fetches: Limiter::new(config.key_fetches_per_minute, config.key_fetch_burst, &governor_clock),
            admin_api: Limiter::new(config.admin_api_per_minute, config.admin_api_burst, &governor_clock),
            failed_keys: FailedKeys {
                entries: Mutex::default(),
                ttl: chrono::Duration::seconds(i64::try_from(config.failed_key_ttl_secs).unwrap_or(i64::MAX / 1000)),
                max: config.failed_keys_max.max(1),
            },
            last_prune: Mutex::new(clock.now()),
            clock,
        }
    }

    /// Counts one inbox request against its sender: checked before anything is read or fetched.
    pub fn check_inbox(&self, key: &InboxKey) -> Result<(), Throttled> {
        self.maybe_prune();
        self.inbox.check(key)
    }

    /// Counts one fetch of a signing key from `host` (as `urls::domain_of` writes it).
    pub fn check_key_fetch(&self, host: &str) -> Result<(), Throttled> {
        self.maybe_prune();
        self.key_fetches.check(&host.to_string())
    }

    /// Counts one admin API request made with the bearer `secret` (kept only as its SHA-256).
    pub fn check_admin_api(&self, secret: &str) -> Result<(), Throttled> {
        self.maybe_prune();
        self.admin_api.check(&Sha256::digest(secret.as_bytes()).into())
    }

    /// When the key `key_id` last failed to be fetched, if that was less than the TTL ago.
    pub fn failed_key(&self, key_id: &str) -> Option<NaiveDateTime> {
        self.failed_keys.get(key_id, self.clock.now())
    }

    /// Remembers that the key `key_id` could not be fetched now.
    pub fn remember_failed_key(&self, key_id: &str) {
        self.failed_keys.insert(key_id, self.clock.now());
    }

    /// How long a failed key is refused without fetching it again, in seconds.
    pub fn failed_key_ttl_secs(&self) -> i64 {
        self.failed_keys.ttl.num_seconds()
    }

    /// How many keys the limiters and the failed-key cache hold (what memory they take grows with).
    pub fn tracked_keys(&self) -> usize {
        self.inbox.len() + self.key_fetches.len() + self.admin_api.len() + self.failed_keys.len()
    }

    /// Forgets every key whose budget is full again.
    pub fn prune(&self) {
        self.inbox.prune();
        self.key_fetches.prune();
        self.admin_api.prune();
    }

    fn maybe_prune(&self) {
        let now = self.clock.now();
        let due = {
            let mut last = self.last_prune.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = now - *last >= PRUNE_EVERY
                || now < *last
                || self.inbox.len().max(self.key_fetches.len()).max(self.admin_api.len()) > MAX_TRACKED_KEYS;
            if due {
                *last = now;
            }
            due
        };
        if due {
            self.prune();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        Clock::manual(chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(8, 0, 0).unwrap())
    }

    fn config() -> LimitsConfig {
        LimitsConfig {
            inbox_per_minute: 60,
            inbox_burst: 3,
            failed_key_ttl_secs: 300,
            failed_keys_max: 3,
            ..LimitsConfig::default()
        }
    }

    #[test]
    fn a_burst_then_one_per_period_and_time_comes_from_the_app_clock() {
        let clock = clock();
        let limits = Limits::new(&config(), clock.clone());
        let a = InboxKey::Host("a.example".into());
        for _ in 0..3 {
            limits.check_inbox(&a).unwrap();
        }
        let refused = limits.check_inbox(&a).unwrap_err();
        assert_eq!(refused, Throttled { retry_after_secs: 1, per_minute: 60, burst: 3 });
        // Another server has its own budget.
        limits.check_inbox(&InboxKey::Host("b.example".into())).unwrap();
        // Half the period: still refused, and told to wait the rest (rounded up to a second).
        clock.advance(chrono::Duration::milliseconds(500));
        assert_eq!(limits.check_inbox(&a).unwrap_err().retry_after_secs, 1);
        clock.advance(chrono::Duration::milliseconds(500));
        limits.check_inbox(&a).unwrap();
        assert!(limits.check_inbox(&a).is_err());
        // A minute later the whole burst is back.
        clock.advance(chrono::Duration::minutes(1));
        for _ in 0..3 {
            limits.check_inbox(&a).unwrap();
        }
    }

    #[test]
    fn limiters_forget_keys_whose_budget_is_full_again() {
        let clock = clock();
        let limits = Limits::new(&config(), clock.clone());
        for n in 0..1000 {
            limits.check_inbox(&InboxKey::Host(format!("h{n}.example"))).unwrap();
        }
        assert_eq!(limits.tracked_keys(), 1000);
        clock.advance(chrono::Duration::seconds(61));
        // The next check prunes: only the key just counted remains.
        limits.check_inbox(&InboxKey::Host("new.example".into())).unwrap();
        assert_eq!(limits.tracked_keys(), 1);
    }

    #[test]
    fn failed_keys_expire_and_stay_bounded() {
        let clock = clock();
        let limits = Limits::new(&config(), clock.clone());
        limits.remember_failed_key("https://a.example/users/x#main-key");
        assert_eq!(limits.failed_key("https://a.example/users/x#main-key"), Some(clock.now()));
        assert_eq!(limits.failed_key("https://a.example/users/y#main-key"), None);
        clock.advance(chrono::Duration::seconds(299));
        assert!(limits.failed_key("https://a.example/users/x#main-key").is_some());
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(limits.failed_key("https://a.example/users/x#main-key"), None, "expired after the TTL");
        for n in 0..10 {
            clock.advance(chrono::Duration::seconds(1));
            limits.remember_failed_key(&format!("k{n}"));
        }
        assert_eq!(limits.failed_keys.len(), 3, "bounded by failed_keys_max");
        assert!(limits.failed_key("k9").is_some() && limits.failed_key("k7").is_some());
        assert!(limits.failed_key("k0").is_none(), "the oldest failures are forgotten first");
    }

    #[test]
    fn the_inbox_key_is_the_claimed_signer_host_else_the_client_address() {
        let signed = |value: &str| BTreeMap::from([("signature".to_string(), value.to_string())]);
        let ip: Option<IpAddr> = "192.0.2.7".parse().ok();
        let header = r#"keyId="https://Mastodon.Example./users/a#main-key",algorithm="rsa-sha256",signature="x""#;
        assert_eq!(InboxKey::of_request(&signed(header), ip), InboxKey::Host("mastodon.example".into()));
        let with_port = r#"keyId="http://localhost:8081/users/a#main-key",signature="x""#;
        assert_eq!(InboxKey::of_request(&signed(with_port), ip), InboxKey::Host("localhost:8081".into()));
        assert_eq!(InboxKey::of_request(&signed(r#"keyId="not a url",signature="x""#), ip), InboxKey::Address(ip));
        assert_eq!(InboxKey::of_request(&BTreeMap::new(), ip), InboxKey::Address(ip));
        let authorization = BTreeMap::from([("authorization".to_string(), format!("Signature {header}"))]);
        assert_eq!(InboxKey::of_request(&authorization, None), InboxKey::Host("mastodon.example".into()));
        // A decoy cannot move a request to a fresh bucket: the key is the one that is verified
        // (the Authorization header when both are sent, the last of a repeated keyId).
        let mut both = authorization.clone();
        both.insert("signature".into(), r#"keyId="https://fresh-1.example/k",signature="x""#.into());
        assert_eq!(InboxKey::of_request(&both, None), InboxKey::Host("mastodon.example".into()));
        let repeated = format!(r#"keyId="https://fresh-2.example/k",{header}"#);
        assert_eq!(InboxKey::of_request(&signed(&repeated), None), InboxKey::Host("mastodon.example".into()));
    }

    #[test]
    fn admin_tokens_have_their_own_budgets() {
        let clock = clock();
        let limits =
            Limits::new(&LimitsConfig { admin_api_per_minute: 6, admin_api_burst: 2, ..config() }, clock.clone());
        limits.check_admin_api("one").unwrap();
        limits.check_admin_api("one").unwrap();
        assert_eq!(limits.check_admin_api("one").unwrap_err().retry_after_secs, 10);
        limits.check_admin_api("two").unwrap();
        clock.advance(chrono::Duration::seconds(10));
        limits.check_admin_api("one").unwrap();
    }
}
