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
}

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
}

impl AppState {
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
        })
    }
}
