//! Delivery workers: claim due jobs from the database, sign, send, record the outcome.
//!
//! Like Mastodon: any 2xx is success; a 4xx other than 401, 408 and 429 means the receiver refuses
//! the activity for good; anything else (5xx, timeouts, refused connections) is retried with
//! growing delays, for about 2.1 days with the default 16 attempts; then an activity the server
//! keeps refusing is given up. Unlike Mastodon, a delivery is never dropped for a server that does
//! not answer at all: its inbox is paused (after its attempts, or after three days of failures)
//! and everything waiting for it resumes when it speaks again.
//!
//! A claimed job is leased for [`lease`] (30 s) to this process ([`Owner`]), and the lease is
//! renewed every [`HEARTBEAT`] while the job is being sent. A process that dies stops renewing:
//! its leases pass within 30 s and any process takes the jobs over; and when it starts again
//! under the same name (host name and listen address) it releases them at once
//! ([`register`]). Outcomes are recorded in batches (up to [`RECORD_BATCH`], at most
//! [`RECORD_AFTER`] after the first), so few jobs are ever sent and not yet recorded (those are
//! sent again after a crash; receivers deduplicate by id).
//!
//! A worker keeps up to [`WINDOW`] jobs in flight and claims more as they finish, so a slow inbox
//! holds up its own jobs only, not a batch. At most [`PER_HOST`] requests go to one destination
//! (host and port) at once, and signatures are made on at most one blocking thread per core
//! ([`Owner`] holds both bounds, shared by the process's workers), away from the I/O threads.
//! Each activity is parsed and hashed once per claim, not once per inbox; the domain blocks are
//! read once per claim.
//!
//! Wake-ups: a process's own changes wake its workers at once; on PostgreSQL every commit that
//! queues sends a `NOTIFY` that every `ronron serve` listens to ([`spawn_listener`]); on SQLite
//! the CLI pings the serving process on its listen port over loopback UDP
//! (`AppState::wake_deliveries`). The
//! one-second poll stays as the fallback.

use crate::{
    db::{
        models::{
            activities::{self as queue, Delivery, StoredActivity},
            blocks::DomainBlock,
            signature_schemes,
        },
        DbError,
    },
    federation::{
        check_outgoing_url, rfc9421,
        signatures::{self, Scheme},
    },
    state::{ActorKeys, AppState, LocalKeys},
};
use chrono::Duration;
use futures::FutureExt;
use rand::Rng;
use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    pin::Pin,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration as StdDuration,
};
use tokio::{
    sync::{watch, Notify, Semaphore},
    task::{JoinHandle, JoinSet},
};
use url::Url;

/// How long a claimed job is reserved for the process that claimed it, from the claim or the
/// last renewal. The holder renews it every [`HEARTBEAT`] while it sends, so a request may last
/// longer; if the process dies, any process takes the job over once the lease has passed.
pub fn lease() -> Duration {
    Duration::seconds(30)
}
/// How often a process renews the leases of the jobs it is sending, and says it is alive.
pub const HEARTBEAT: StdDuration = StdDuration::from_secs(10);
/// Jobs a worker keeps in flight (claimed, being signed or sent, or waiting for their host),
/// not counting those slow for more than [`SLOW_AFTER`].
pub const WINDOW: usize = 512;
/// A job in flight for longer than this waits on a slow server (or on its host's
/// [`PER_HOST`]): it leaves the [`WINDOW`], so a tenth of slow inboxes does not stop the others.
pub const SLOW_AFTER: StdDuration = StdDuration::from_secs(1);
/// Jobs a worker keeps in flight in all, slow ones included (what they hold is bounded).
pub const MAX_IN_FLIGHT: usize = 4 * WINDOW;
/// Most jobs leased by one claim.
const CLAIM: usize = 64;
/// Concurrent requests to one destination host and port, across the process's workers.
pub const PER_HOST: usize = 16;
/// Outcomes recorded in one transaction, at most.
pub const RECORD_BATCH: usize = 64;
/// How long an outcome may wait for others before its batch is recorded.
pub const RECORD_AFTER: StdDuration = StdDuration::from_millis(20);

#[derive(Debug, PartialEq)]
pub enum SendOutcome {
    Delivered(u16),
    Rejected(u16, String),
    Retry(Option<u16>, String),
}

/// Delay before attempt `n + 1` after `n` failures: n⁴ + 15 s + jitter, as Sidekiq (Mastodon) does.
pub fn retry_delay(failures: i32) -> Duration {
    let n = failures.max(1) as i64;
    let jitter = rand::thread_rng().gen_range(0..10) * (n + 1);
    Duration::seconds(n.pow(4) + 15 + jitter)
}

pub fn classify(status: u16) -> SendOutcome {
    match status {
        200..=299 => SendOutcome::Delivered(status),
        401 | 408 | 429 => SendOutcome::Retry(Some(status), format!("HTTP {status}")),
        400..=499 => SendOutcome::Rejected(status, format!("HTTP {status}")),
        _ => SendOutcome::Retry(Some(status), format!("HTTP {status}")),
    }
}

/// A process's identity in the delivery queue (a row of `delivery_processes`), and the jobs it
/// is sending right now, whose leases its heartbeat renews. Clones share the same identity.
#[derive(Clone, Debug)]
pub struct Owner {
    id: Arc<str>,
    name: Arc<str>,
    in_flight: Arc<Mutex<HashSet<i64>>>,
    /// Requests in flight per destination (at most [`PER_HOST`] each).
    hosts: Arc<HostLimits>,
    /// Signatures being made (at most one per core).
    signing: Arc<Semaphore>,
}

impl Owner {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn in_flight(&self) -> Vec<i64> {
        self.in_flight.lock().map(|set| set.iter().copied().collect()).unwrap_or_default()
    }

    fn sending(&self, id: i64) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.insert(id);
        }
    }

    fn done(&self, id: i64) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.remove(&id);
        }
    }
}

/// The name of a `ronron serve` process in the queue: stable across its restarts, and held by
/// one live process at a time (no two processes bind the same address on the same host).
pub fn process_name(listen: SocketAddr) -> String {
    format!("{}/{listen}", host_name())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Registers this process under `name` with a fresh id. Leases held by an earlier life under the
/// same name (it crashed: a clean stop unregisters) are released, so their jobs are due now.
pub async fn register(state: &AppState, name: String) -> Result<Owner, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now();
    let (row_id, row_name) = (id.clone(), name.clone());
    let reclaimed =
        state.db.write_queue_state(move |c| queue::register_process(c, &row_id, &row_name, now, now - lease())).await?;
    if reclaimed.previous_lives > 0 {
        tracing::warn!(
            process = %name,
            released = reclaimed.released,
            "this process did not stop cleanly last time: the deliveries it was sending are due again now"
        );
    }
    Ok(Owner {
        id: id.into(),
        name: name.into(),
        in_flight: Arc::default(),
        hosts: Arc::default(),
        signing: Arc::new(Semaphore::new(cores())),
    })
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// One semaphore of [`PER_HOST`] permits per destination (`host:port`) with requests in flight;
/// an idle destination's semaphore is dropped.
#[derive(Debug, Default)]
pub struct HostLimits {
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimits {
    /// Waits for a permit to send to `url`'s destination.
    pub async fn acquire(self: &Arc<Self>, url: &Url) -> HostPermit {
        let key = signatures::host_header(url);
        let semaphore = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            hosts.entry(key.clone()).or_insert_with(|| Arc::new(Semaphore::new(PER_HOST))).clone()
        };
        let permit = semaphore.clone().acquire_owned().await.ok();
        HostPermit { limits: self.clone(), key, _permit: permit }
    }

    /// Requests in flight to `host` (`host:port`) now.
    pub fn in_flight(&self, host: &str) -> usize {
        let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts.get(host).map_or(0, |s| PER_HOST - s.available_permits())
    }
}

/// A request's place among its destination's [`PER_HOST`].
pub struct HostPermit {
    limits: Arc<HostLimits>,
    key: String,
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Drop for HostPermit {
    fn drop(&mut self) {
        self._permit.take();
        let mut hosts = self.limits.hosts.lock().unwrap_or_else(|e| e.into_inner());
        // Nobody else holds or waits on it: forget the destination.
        if hosts.get(&self.key).is_some_and(|s| Arc::strong_count(s) == 1) {
            hosts.remove(&self.key);
        }
    }
}

/// Renews, every [`HEARTBEAT`], the leases of the jobs `owner` is sending; runs until aborted.
pub fn spawn_heartbeat(state: AppState, owner: Owner) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            if let Err(e) = renew(&state, &owner).await {
                tracing::error!(error = %e, "cannot renew the delivery leases");
            }
        }
    })
}

/// One heartbeat: the process is seen, the leases of its jobs in flight run for another [`lease`].
pub async fn renew(state: &AppState, owner: &Owner) -> Result<usize, DbError> {
    let (owner, in_flight, now) = (owner.clone(), owner.in_flight(), state.clock.now());
    state
        .db
        .write_queue_state(move |c| queue::renew_leases(c, owner.id(), owner.name(), &in_flight, now, lease()))
        .await
}

/// A clean stop: the leases still held are released and the process's row removed.
pub async fn unregister(state: &AppState, owner: &Owner) -> Result<usize, DbError> {
    let owner = owner.clone();
    state.db.write_queue_state(move |c| queue::unregister_process(c, owner.id())).await
}

/// What every inbox of a fan-out gets the same of: the body, its digest, and the key it is
/// signed with. Made once per activity and claim.
pub struct Prepared {
    body: Arc<[u8]>,
    digest: String,
    signer: Signer,
}

/// The key that signs an activity: the instance actor's, the collective's Group's (its own
/// activities and the members' activities it forwards) or the host account's (as read at the
/// claim, so a rotation by another process signs from the next claim on).
#[derive(Clone)]
enum Signer {
    Instance(Arc<LocalKeys>),
    Group(Arc<ActorKeys>),
    Host(Arc<ActorKeys>),
}

impl Signer {
    fn key(&self) -> &crate::federation::keys::SigningKey {
        match self {
            Signer::Instance(keys) => &keys.instance.signer,
            Signer::Group(keys) | Signer::Host(keys) => &keys.signer,
        }
    }
}

/// Why a queued activity of the collective's Group (its Announces, their Undo, the members'
/// activities it forwards) is given up when claimed by a process whose configuration has no
/// `[collective]` section: it has no Group key to sign it with, and no other key may.
pub const GROUP_ROLE_OFF: &str = "the collective role is off: the Group's activities are no longer sent";

/// Why a queued activity of a local actor that this host no longer serves is given up: a Group
/// under a name of its own once the collective role is off (nothing says what its name was), or an
/// account renamed since. No key here belongs to that actor, and no other may sign it.
pub const ACTOR_GONE: &str =
    "its actor is no longer an account of this host (the collective role is off, or the account was renamed): it is not sent";

impl Prepared {
    /// Reads `actor` (the only field needed: a borrowed parse, not a whole document) and hashes
    /// the body. Refused, with the reason it is given up, for an activity of the Group (or one it
    /// forwards) when the Group has no key here (the collective role is off), and for one of a
    /// local actor this host no longer serves: never signed by another actor's key.
    pub fn new(
        state: &AppState,
        host_key: &Arc<ActorKeys>,
        activity: &StoredActivity,
    ) -> Result<Prepared, &'static str> {
        #[derive(serde::Deserialize)]
        struct Actor<'a> {
            #[serde(borrow)]
            actor: Option<std::borrow::Cow<'a, str>>,
        }
        let actor = serde_json::from_str::<Actor>(&activity.json).ok().and_then(|a| a.actor);
        let urls = &state.urls;
        let actor = actor.as_deref();
        let signer = if actor == Some(urls.instance_actor().as_str()) {
            Signer::Instance(state.keys.clone())
        } else if activity.kind == "Forward" || actor == Some(urls.group_actor().as_str()) {
            Signer::Group(state.keys.group.clone().ok_or(GROUP_ROLE_OFF)?)
        } else if actor
            .is_some_and(|a| a != urls.host_actor().as_str() && Url::parse(a).is_ok_and(|u| urls.is_local(&u)))
        {
            return Err(ACTOR_GONE);
        } else {
            Signer::Host(host_key.clone())
        };
        let body: Arc<[u8]> = activity.json.as_bytes().into();
        Ok(Prepared { digest: signatures::digest_header(&body), body, signer })
    }
}

/// Signs (on a blocking thread, one of `signing`'s permits) and POSTs `prepared` to the
/// delivery's inbox, within its destination's [`PER_HOST`].
async fn send_prepared(
    state: &AppState,
    client: &reqwest::Client,
    hosts: &Arc<HostLimits>,
    signing: &Semaphore,
    delivery: &Delivery,
    prepared: &Prepared,
    remembered: Option<Scheme>,
) -> SendOutcome {
    let inbox = match Url::parse(&delivery.inbox) {
        Ok(url) => url,
        Err(e) => return SendOutcome::Rejected(0, format!("invalid inbox URL: {e}")),
    };
    if let Err(reason) = check_outgoing_url(&inbox, state.config.dev_mode()) {
        return SendOutcome::Rejected(0, reason);
    }
    let _host = hosts.acquire(&inbox).await;
    let (key_id, signer) = match &prepared.signer {
        Signer::Instance(_) => (state.urls.instance_key_id(), prepared.signer.clone()),
        Signer::Group(_) => (state.urls.group_key_id(), prepared.signer.clone()),
        Signer::Host(_) => (state.urls.host_key_id(), prepared.signer.clone()),
    };
    let knock = Knock { state, client, signing, inbox: &inbox, prepared, key_id: &key_id, signer: &signer };
    double_knock(&knock, remembered).await
}

/// The statuses by which a server may mean that it did not accept our signature: 401 (Mastodon,
/// GoToSocial, Fedify, Ronron), 403 (GoToSocial, some Misskey forks) and 400 (Fedify retries
/// on it too).
fn refused_signature(status: u16) -> bool {
    matches!(status, 400 | 401 | 403)
}

/// What one delivery's POSTs share, whichever signature scheme signs them.
struct Knock<'a> {
    state: &'a AppState,
    client: &'a reqwest::Client,
    signing: &'a Semaphore,
    inbox: &'a Url,
    prepared: &'a Prepared,
    key_id: &'a str,
    signer: &'a Signer,
}

/// POSTs the activity signed with the scheme its server last accepted (draft-cavage when we know
/// nothing: every server accepts it, RFC 9421 only Mastodon 4.5+ and Fedify), and, if the
/// signature seems refused, once more with the other scheme, remembering it when it is accepted.
/// `remembered` is the scheme stored for the inbox's server, as read at the claim.
async fn double_knock(knock: &Knock<'_>, remembered: Option<Scheme>) -> SendOutcome {
    let state = knock.state;
    let domain = crate::urls::domain_of(knock.inbox.as_str());
    let first = remembered.unwrap_or(Scheme::Cavage);
    let status = match post_signed(knock, first).await {
        Ok(status) if refused_signature(status) => status,
        Ok(status) => return classify(status),
        Err(reason) => return SendOutcome::Retry(None, reason),
    };
    let second = first.other();
    let inbox = knock.inbox;
    tracing::debug!(inbox = %inbox, status, first = first.name(), second = second.name(), "signature refused? knocking again");
    match post_signed(knock, second).await {
        Ok(retried) if (200..300).contains(&retried) => {
            let now = state.clock.now();
            let learned =
                state.db.write_queue_state(move |c| signature_schemes::remember(c, &domain, second.name(), now)).await;
            match learned {
                Ok(()) => {
                    tracing::info!(inbox = %inbox, scheme = second.name(), "server accepts this signature scheme")
                }
                Err(e) => tracing::warn!(error = %e, "cannot remember the signature scheme"),
            }
            classify(retried)
        }
        // Refused both ways: the first answer says it as well as the second.
        Ok(_) => classify(status),
        Err(reason) => SendOutcome::Retry(None, reason),
    }
}

/// One signed POST (signed on the bounded signing pool, apart from the I/O threads); the HTTP
/// status, or why there is none.
async fn post_signed(knock: &Knock<'_>, scheme: Scheme) -> Result<u16, String> {
    let headers = {
        let Ok(_cpu) = knock.signing.acquire().await else {
            return Err("signing failed: the process is stopping".into());
        };
        let (url, now) = (knock.inbox.clone(), knock.state.clock.system_time());
        let (digest, body, key_id, signer) = (
            knock.prepared.digest.clone(),
            knock.prepared.body.clone(),
            knock.key_id.to_string(),
            knock.signer.clone(),
        );
        let signed = tokio::task::spawn_blocking(move || {
            let key = signer.key();
            match scheme {
                Scheme::Cavage => signatures::sign_post_with_digest(&url, &digest, &key_id, key, now),
                Scheme::Rfc9421 => rfc9421::sign_post(&url, &body, &key_id, key, now),
            }
        })
        .await;
        match signed {
            Ok(Ok(headers)) => headers,
            Ok(Err(e)) => return Err(format!("signing failed: {e}")),
            Err(e) => return Err(format!("signing failed: {e}")),
        }
    };
    let mut request = knock.client.post(knock.inbox.clone()).body(knock.prepared.body.to_vec());
    for (name, value) in headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(response) => Ok(response.status().as_u16()),
        Err(e) => Err(describe_error(&e)),
    }
}

fn metric_outcome(outcome: &SendOutcome) -> crate::metrics::DeliveryOutcome {
    use crate::metrics::DeliveryOutcome;
    match outcome {
        SendOutcome::Delivered(_) => DeliveryOutcome::Delivered,
        SendOutcome::Rejected(..) => DeliveryOutcome::Rejected,
        SendOutcome::Retry(..) => DeliveryOutcome::Retry,
    }
}

fn describe_error(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// One worker's jobs: those in flight, and the outcomes waiting to be recorded.
struct Sending {
    state: AppState,
    client: reqwest::Client,
    owner: Owner,
    in_flight: JoinSet<(Delivery, String, SendOutcome)>,
    /// How many of `in_flight` have been in flight for longer than [`SLOW_AFTER`].
    slow: Arc<AtomicUsize>,
    /// Told when a job turns slow: its place in the window is free.
    turned_slow: Arc<Notify>,
    done: Vec<(Delivery, String, SendOutcome)>,
}

/// Counts a slow job until it ends, however it ends (an aborted task included).
struct SlowJob(Arc<AtomicUsize>);

impl Drop for SlowJob {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Sending {
    fn new(state: AppState, client: reqwest::Client, owner: Owner) -> Sending {
        Sending {
            state,
            client,
            owner,
            in_flight: JoinSet::new(),
            slow: Arc::default(),
            turned_slow: Arc::default(),
            done: Vec::new(),
        }
    }

    fn slow(&self) -> usize {
        self.slow.load(Ordering::Relaxed)
    }

    /// Claims up to `limit` due jobs and starts sending them. Returns how many were claimed.
    async fn claim(&mut self, limit: usize) -> Result<usize, DbError> {
        let state = &self.state;
        let now = state.clock.now();
        let id = self.owner.id.clone();
        // Everything a claim's jobs need from the database, in its one transaction (one
        // blocking-thread hop per claim, none per job).
        let (claimed, blocks, schemes, host_row) = state
            .db
            .write_queue_state(move |c| {
                let claimed = queue::claim_due(c, &id, now, lease(), limit as i64)?;
                if claimed.is_empty() {
                    return Ok::<_, DbError>((claimed, Vec::new(), HashMap::new(), None));
                }
                // Read with each claim, so a block added since applies from the next claim on.
                let blocks = crate::db::models::blocks::list(c)?;
                // The scheme each server accepted last (the double-knock's memory).
                let mut domains: Vec<String> = claimed.iter().map(|(d, _)| crate::urls::domain_of(&d.inbox)).collect();
                domains.sort_unstable();
                domains.dedup();
                let schemes = signature_schemes::find_many(c, &domains)?;
                // So a key rotated by `ronron keys rotate` signs from the next claim on.
                let host_row = crate::db::models::keys::find(c, crate::federation::keys::HOST_KEY)?;
                Ok((claimed, blocks, schemes, host_row))
            })
            .await?;
        let count = claimed.len();
        if count == 0 {
            return Ok(0);
        }
        let host_key = match host_row.map(|row| state.keys.adopt_host(row)) {
            Some(Ok(key)) => key,
            Some(Err(e)) => {
                tracing::error!(error = %e, "cannot read the host account's key; using the one loaded before");
                state.keys.host()
            }
            None => {
                tracing::error!("the host account's key is missing; using the one loaded before");
                state.keys.host()
            }
        };
        let mut prepared: HashMap<String, Result<Arc<Prepared>, &'static str>> = HashMap::new();
        let mut unsendable: HashMap<&'static str, Vec<i64>> = HashMap::new();
        for (delivery, activity) in claimed {
            let job = prepared
                .entry(activity.id.clone())
                .or_insert_with(|| Prepared::new(state, &host_key, &activity).map(Arc::new))
                .clone();
            let job = match job {
                Ok(job) => job,
                Err(reason) => {
                    unsendable.entry(reason).or_default().push(delivery.id);
                    continue;
                }
            };
            self.owner.sending(delivery.id);
            let block = blocks.iter().find(|b: &&DomainBlock| b.covers(&delivery.inbox)).map(|b| b.domain.clone());
            let remembered =
                schemes.get(&crate::urls::domain_of(&delivery.inbox)).and_then(|name| Scheme::from_name(name));
            let (state, client, owner) = (state.clone(), self.client.clone(), self.owner.clone());
            let (slow, turned_slow) = (self.slow.clone(), self.turned_slow.clone());
            let activity_id = activity.id;
            self.in_flight.spawn(async move {
                let stopwatch = state.clock.stopwatch();
                let attempt = async {
                    match block {
                        Some(domain) => SendOutcome::Rejected(0, format!("domain {domain} is blocked")),
                        None => {
                            send_prepared(&state, &client, &owner.hosts, &owner.signing, &delivery, &job, remembered)
                                .await
                        }
                    }
                };
                let ended = {
                    // A panic must still end in an outcome, or the heartbeat would renew its lease forever.
                    let attempt = std::panic::AssertUnwindSafe(attempt).catch_unwind();
                    let mut attempt = std::pin::pin!(attempt);
                    match tokio::time::timeout(SLOW_AFTER, &mut attempt).await {
                        Ok(ended) => ended,
                        Err(_) => {
                            slow.fetch_add(1, Ordering::Relaxed);
                            let _counted = SlowJob(slow);
                            turned_slow.notify_one();
                            attempt.await
                        }
                    }
                };
                let outcome = ended.unwrap_or_else(|_| SendOutcome::Retry(None, "the delivery task panicked".into()));
                state.metrics.delivery(metric_outcome(&outcome), stopwatch.seconds());
                (delivery, activity_id, outcome)
            });
        }
        for (reason, ids) in unsendable {
            tracing::warn!(deliveries = ids.len(), reason, "deliveries given up unsent");
            state.db.write_queue_state(move |c| queue::give_up_unsent(c, &ids, reason, now)).await?;
        }
        Ok(count)
    }

    /// Records the outcomes waiting, in one transaction.
    async fn record(&mut self) -> Result<(), DbError> {
        if self.done.is_empty() {
            return Ok(());
        }
        let done = std::mem::take(&mut self.done);
        let ids: Vec<i64> = done.iter().map(|(d, _, _)| d.id).collect();
        let result = record(&self.state, done).await;
        // Recorded, or left to their leases, which pass without renewal.
        for id in ids {
            self.owner.done(id);
        }
        result
    }
}

/// Records outcomes in one write transaction: the successes in a few statements, each failure
/// on its own (its retry time, its inbox's health).
async fn record(state: &AppState, done: Vec<(Delivery, String, SendOutcome)>) -> Result<(), DbError> {
    let max_attempts = state.config.delivery.max_attempts;
    // When the attempts ended (within RECORD_AFTER), not when they were claimed.
    let now = state.clock.now();
    for (delivery, activity, outcome) in &done {
        match outcome {
            SendOutcome::Delivered(_) => tracing::debug!(%activity, inbox = %delivery.inbox, "delivered"),
            SendOutcome::Rejected(status, reason) => {
                tracing::warn!(%activity, inbox = %delivery.inbox, status, %reason, "delivery refused, giving up")
            }
            SendOutcome::Retry(status, reason) => {
                tracing::info!(%activity, inbox = %delivery.inbox, ?status, %reason, attempt = delivery.attempts + 1, "delivery failed")
            }
        }
    }
    state
        .db
        .write_queue_state(move |c| {
            let delivered: Vec<(&Delivery, u16)> = done
                .iter()
                .filter_map(|(d, _, outcome)| match outcome {
                    SendOutcome::Delivered(status) => Some((d, *status)),
                    _ => None,
                })
                .collect();
            queue::mark_delivered_many(c, &delivered, now)?;
            for (delivery, _, outcome) in &done {
                match outcome {
                    SendOutcome::Delivered(_) => {}
                    SendOutcome::Rejected(status, reason) => {
                        queue::mark_failed(c, delivery, Some(*status).filter(|s| *s > 0), reason, None, now)?
                    }
                    SendOutcome::Retry(status, reason) => {
                        let failures = delivery.attempts + 1;
                        if failures >= max_attempts && status.is_some() {
                            // The server is up but keeps refusing this one activity (5xx, 401,
                            // 429): give it up so the activities queued behind it go on.
                            queue::mark_failed(c, delivery, *status, reason, None, now)?;
                            continue;
                        }
                        let retry_at = now + retry_delay(failures.min(max_attempts));
                        queue::mark_failed(c, delivery, *status, reason, Some(retry_at), now)?;
                        // The server does not answer at all: nothing is given up; the inbox is
                        // paused and its deliveries wait until its server sends us something signed.
                        if failures >= max_attempts {
                            queue::pause_inbox(c, &delivery.inbox, now)?;
                        }
                    }
                }
            }
            Ok(())
        })
        .await
}

/// Sends everything that is due now, until nothing is left (used by `ronron` tests and tools),
/// as a process of its own in the queue for the time it takes. Returns how many attempts were
/// made.
pub async fn drain(state: &AppState, client: &reqwest::Client) -> Result<usize, DbError> {
    let name = format!("{}/drain/{}", host_name(), uuid::Uuid::new_v4().simple());
    let owner = register(state, name).await?;
    let heartbeat = spawn_heartbeat(state.clone(), owner.clone());
    let mut sending = Sending::new(state.clone(), client.clone(), owner.clone());
    let result = async {
        let mut total = 0;
        loop {
            let claimed = sending.claim(CLAIM).await?;
            if claimed == 0 {
                return Ok(total);
            }
            total += claimed;
            while let Some(joined) = sending.in_flight.join_next().await {
                if let Ok(done) = joined {
                    sending.done.push(done);
                }
            }
            sending.record().await?;
        }
    }
    .await;
    heartbeat.abort();
    unregister(state, &owner).await?;
    result
}

/// How many jobs a worker with `in_flight` jobs, `slow` of them slow, claims now: a whole
/// [`CLAIM`] once that much room is free in its [`WINDOW`] (where slow jobs take no place) and
/// under [`MAX_IN_FLIGHT`], or whatever fits when only slow jobs are in flight; otherwise none,
/// and it waits for more jobs to finish or turn slow. (Refilling each freed place at once made a
/// claim, a write transaction, per delivery once the window was full; counting slow jobs in the
/// window let a tenth of slow inboxes stop every other delivery until they answered.)
fn claim_size(in_flight: usize, slow: usize) -> Option<usize> {
    let active = in_flight.saturating_sub(slow);
    let room = WINDOW.saturating_sub(active).min(MAX_IN_FLIGHT.saturating_sub(in_flight));
    (room >= CLAIM || (active == 0 && room > 0)).then_some(room.min(CLAIM))
}

/// A worker loop: keeps up to [`WINDOW`] jobs in flight, claiming more as they finish and
/// recording outcomes in batches; when nothing is due it sleeps until woken or the poll interval.
/// On `shutdown` it claims nothing more, finishes and records what it is sending, and returns.
pub async fn worker(state: AppState, owner: Owner, mut shutdown: watch::Receiver<bool>) {
    let client = crate::federation::http_client(&state);
    let mut sending = Sending::new(state.clone(), client, owner);
    // The fallback when no wake-up came (`delivery.poll_secs`).
    let poll = StdDuration::from_secs(state.config.delivery.poll_secs);
    // Whether a claim may find something (false after a claim came back short, until a wake-up,
    // the poll, or recorded outcomes that may have freed an inbox's next job).
    let mut more = true;
    let mut record_timer: Option<Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        let stopping = *shutdown.borrow();
        if let Some(asked) = claim_size(sending.in_flight.len(), sending.slow()).filter(|_| !stopping && more) {
            match sending.claim(asked).await {
                Ok(n) => more = n == asked,
                Err(e) => {
                    tracing::error!(error = %e, "delivery queue unavailable");
                    more = false;
                }
            }
            if more {
                continue;
            }
        }
        if sending.in_flight.is_empty() && sending.done.is_empty() {
            if stopping {
                return;
            }
            tokio::select! {
                _ = state.delivery_wakeup.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
            more = true;
            continue;
        }
        let timer = async {
            match record_timer.as_mut() {
                Some(timer) => timer.await,
                None => std::future::pending().await,
            }
        };
        let (mut finished, mut timed_out) = (None, false);
        let turned_slow = sending.turned_slow.clone();
        tokio::select! {
            joined = sending.in_flight.join_next(), if !sending.in_flight.is_empty() => finished = joined,
            _ = timer => timed_out = true,
            _ = turned_slow.notified(), if !stopping => {}
            _ = state.delivery_wakeup.notified(), if !stopping => more = true,
            _ = shutdown.changed(), if !stopping => {}
        }
        if let Some(Ok(done)) = finished {
            sending.done.push(done);
            if record_timer.is_none() {
                record_timer = Some(Box::pin(tokio::time::sleep(RECORD_AFTER)));
            }
        }
        if timed_out || sending.done.len() >= RECORD_BATCH || (sending.in_flight.is_empty() && !sending.done.is_empty())
        {
            record_timer = None;
            if let Err(e) = sending.record().await {
                tracing::error!(error = %e, "cannot record delivery outcomes; their leases will pass");
            }
            more = true;
        }
    }
}

/// Wakes this process's workers when another process queues: on PostgreSQL, a thread with its
/// own connection that `LISTEN`s on the queue's channel; on SQLite, a UDP socket on loopback at
/// the listen port, which the CLI's commands that queue ping (`AppState::wake_deliveries`). Stops with `shutdown`; the poll covers whatever it misses.
pub fn spawn_listener(state: &AppState, listen: SocketAddr, shutdown: watch::Receiver<bool>) {
    let wakeup = state.delivery_wakeup.clone();
    match state.db.backend() {
        crate::db::Backend::Postgres => {
            let url = state.config.database.url.clone();
            let spawned = std::thread::Builder::new()
                .name("ronron-listen".into())
                .spawn(move || listen_postgres(&url, &wakeup, &shutdown));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start the queue listener; polling instead");
            }
        }
        crate::db::Backend::Sqlite => {
            let socket = match std::net::UdpSocket::bind(("127.0.0.1", listen.port())) {
                Ok(socket) => socket,
                Err(e) => {
                    tracing::info!(error = %e, "cannot listen for wake-ups on loopback; polling instead");
                    return;
                }
            };
            let socket = match socket.set_nonblocking(true).and_then(|_| tokio::net::UdpSocket::from_std(socket)) {
                Ok(socket) => socket,
                Err(e) => {
                    tracing::info!(error = %e, "cannot listen for wake-ups on loopback; polling instead");
                    return;
                }
            };
            let mut shutdown = shutdown;
            tokio::spawn(async move {
                let mut buffer = [0u8; 16];
                loop {
                    tokio::select! {
                        received = socket.recv_from(&mut buffer) => {
                            if let Ok((n, _)) = received {
                                if &buffer[..n] == crate::state::WAKE_PING {
                                    wakeup.notify_waiters();
                                }
                            }
                        }
                        _ = shutdown.changed() => return,
                    }
                    // A flood of datagrams costs at most one claim per few milliseconds.
                    tokio::time::sleep(StdDuration::from_millis(2)).await;
                }
            });
        }
    }
}

fn listen_postgres(url: &str, wakeup: &tokio::sync::Notify, shutdown: &watch::Receiver<bool>) {
    use diesel::{Connection, RunQueryDsl};
    // The notifications are read without a round trip (what the socket holds), so this checks
    // often; a lost connection is opened again.
    const CHECK: StdDuration = StdDuration::from_millis(5);
    while !*shutdown.borrow() {
        let mut conn = match diesel::pg::PgConnection::establish(url) {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "the queue listener cannot connect; polling meanwhile");
                std::thread::sleep(StdDuration::from_secs(5));
                continue;
            }
        };
        if let Err(e) = diesel::sql_query(format!("LISTEN {}", queue::QUEUE_CHANNEL)).execute(&mut conn) {
            tracing::warn!(error = %e, "the queue listener cannot LISTEN; polling meanwhile");
            std::thread::sleep(StdDuration::from_secs(5));
            continue;
        }
        let mut checks = 0u32;
        'connected: while !*shutdown.borrow() {
            checks = checks.wrapping_add(1);
            // A connection that died without a word is only seen by a query.
            if checks.is_multiple_of(6000) && diesel::sql_query("SELECT 1").execute(&mut conn).is_err() {
                break 'connected;
            }
            let mut woken = false;
            for notification in conn.notifications_iter() {
                match notification {
                    Ok(_) => woken = true,
                    Err(e) => {
                        tracing::warn!(error = %e, "the queue listener lost its connection");
                        break 'connected;
                    }
                }
            }
            if woken {
                wakeup.notify_waiters();
            }
            std::thread::sleep(CHECK);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_like_mastodon() {
        assert_eq!(classify(202), SendOutcome::Delivered(202));
        assert!(matches!(classify(410), SendOutcome::Rejected(410, _)));
        assert!(matches!(classify(401), SendOutcome::Retry(Some(401), _)));
        assert!(matches!(classify(429), SendOutcome::Retry(Some(429), _)));
        assert!(matches!(classify(503), SendOutcome::Retry(Some(503), _)));
    }

    #[test]
    fn a_full_window_is_refilled_by_whole_claims_not_one_job_at_a_time() {
        assert_eq!(claim_size(0, 0), Some(CLAIM));
        assert_eq!(claim_size(WINDOW - CLAIM, 0), Some(CLAIM));
        assert_eq!(claim_size(WINDOW - CLAIM + 1, 0), None, "one freed place waits for others");
        assert_eq!(claim_size(WINDOW - 1, 0), None);
        assert_eq!(claim_size(WINDOW, 0), None);
    }

    #[test]
    fn slow_jobs_leave_the_window_up_to_a_bound() {
        // A window full of jobs, a tenth of them slow: not enough room yet.
        assert_eq!(claim_size(WINDOW, WINDOW / 10), None);
        // Once a whole claim's worth is slow, the others go on.
        assert_eq!(claim_size(WINDOW, CLAIM), Some(CLAIM));
        assert_eq!(claim_size(WINDOW + 300, 300 + CLAIM), Some(CLAIM));
        // Only slow jobs in flight: whatever fits under the bound.
        assert_eq!(claim_size(MAX_IN_FLIGHT - 10, MAX_IN_FLIGHT - 10), Some(10));
        assert_eq!(claim_size(MAX_IN_FLIGHT, MAX_IN_FLIGHT), None);
        assert_eq!(claim_size(MAX_IN_FLIGHT - 10, MAX_IN_FLIGHT - 20), None);
    }

    #[test]
    fn retries_span_about_two_to_three_days() {
        let total: i64 = (1..16).map(|n| retry_delay(n).num_seconds()).sum();
        assert!((2 * 86_400..3 * 86_400 + 43_200).contains(&total), "{total}");
    }
}
