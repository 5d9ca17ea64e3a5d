//! What every handler, job and CLI command is given: configuration, storage, URLs and keys.
//! Passed explicitly — there is no global state.

use crate::{
    bulletin::criteria::CriteriaSet,
    clock::Clock,
    config::Config,
    db::{Db, DbError},
    federation::keys::{self, KeyError},
    urls::Urls,
};
use std::sync::Arc;
use tokio::sync::Notify;

pub use crate::federation::keys::{ActorKeys, LocalKeys, GROUP_KEY, HOST_KEY, INSTANCE_KEY};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Keys(#[from] keys::LoadError),
    #[error("{0}")]
    Criteria(String),
    #[error("{0}")]
    HttpClient(String),
}

/// The datagram that wakes a `ronron serve`'s delivery workers (see [`AppState::wake_deliveries`]).
pub const WAKE_PING: &[u8] = b"ronron-wake";

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub urls: Urls,
    pub keys: Arc<LocalKeys>,
    /// Wakes this process's delivery workers as soon as a job is queued.
    pub delivery_wakeup: Arc<Notify>,
    pub clock: Clock,
    /// The charter criteria the label is graded against.
    pub criteria: Arc<CriteriaSet>,
    /// Every catalogue of words (pages, posts, feeds, vocabulary), by language.
    pub texts: Arc<crate::i18n::Catalog>,
    /// Password hashes computed at once (each argon2id takes 19 MiB): a flood of logins queues
    /// instead of exhausting memory.
    pub password_hashing: Arc<tokio::sync::Semaphore>,
    /// This application's Prometheus registry and metric families.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Rate limits of inboxes, key fetches and admin API tokens (`federation::limits`).
    pub limits: Arc<crate::federation::limits::Limits>,
    /// The one HTTP client of outgoing requests (`federation::client_for`): its connections and
    /// TLS settings are shared.
    pub http: reqwest::Client,
    /// The API's timeline pages as last sent (`app::timeline::request_json`).
    pub timeline_pages: Arc<crate::page_cache::PageCache>,
}

impl AppState {
    /// Wakes the delivery workers for jobs just queued: this process's at once, and on SQLite a
    /// `ronron serve` of this machine too, by a loopback UDP datagram to the port of
    /// `server.listen`, where it listens (`jobs::delivery::spawn_listener`): so `ronron post`
    /// is delivered at once, not at the next poll. On PostgreSQL the commit itself notifies
    /// every process (`NOTIFY`). Best effort: the workers poll anyway.
    pub fn wake_deliveries(&self) {
        self.delivery_wakeup.notify_waiters();
        if self.db.backend() == crate::db::Backend::Sqlite {
            let port = self.config.server.listen.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
            if let (Some(port), Ok(socket)) = (port, std::net::UdpSocket::bind(("127.0.0.1", 0))) {
                let _ = socket.send_to(WAKE_PING, ("127.0.0.1", port));
            }
        }
    }

    /// Opens the database (running migrations) and loads the signing keys, creating them the
    /// first time.
    pub fn open(config: Config) -> Result<AppState, StateError> {
        Self::open_with_clock(config, Clock::system())
    }

    pub fn open_with_clock(config: Config, clock: Clock) -> Result<AppState, StateError> {
        let criteria = CriteriaSet::load(config.account.criteria_file.as_deref()).map_err(StateError::Criteria)?;
        let db = Db::connect(&config.database.url, config.database.pool_size)?;
        let keys = LocalKeys::load_or_create_with(&db, &clock, config.collective.is_some())?;
        let limits = Arc::new(crate::federation::limits::Limits::new(&config.limits, clock.clone()));
        let http = crate::federation::client::client_for(&config).map_err(StateError::HttpClient)?;
        Ok(AppState {
            urls: Urls::new(&config),
            config: Arc::new(config),
            db,
            keys: Arc::new(keys),
            delivery_wakeup: Arc::new(Notify::new()),
            clock,
            criteria: Arc::new(criteria),
            texts: Arc::new(crate::i18n::Catalog::embedded()),
            password_hashing: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()).min(4),
            )),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            limits,
            http,
            timeline_pages: Arc::default(),
        })
    }
}
