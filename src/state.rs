//! What every handler, job and CLI command is given: configuration, storage, URLs and keys.
//! Passed explicitly — there is no global state.

use crate::{
    bulletin::criteria::CriteriaSet,
    clock::Clock,
    config::Config,
    db::{models::keys as key_rows, Db, DbError},
    federation::keys::{self, KeyError, SigningKey},
    urls::Urls,
};
use std::sync::Arc;
use tokio::sync::Notify;

pub const HOST_KEY: &str = "host";
pub const INSTANCE_KEY: &str = "instance";

pub struct ActorKeys {
    pub private_key_pem: String,
    pub public_key_pem: String,
    pub signer: SigningKey,
}

pub struct LocalKeys {
    pub host: ActorKeys,
    pub instance: ActorKeys,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Key(#[from] KeyError),
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
        let keys = load_or_create_keys(&db, &clock)?;
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
            limits,
        })
    }
}

fn load_or_create_keys(db: &Db, clock: &Clock) -> Result<LocalKeys, StateError> {
    let load = |kind: &str| -> Result<ActorKeys, StateError> {
        let existing = db.read_blocking(|c| key_rows::find(c, kind))?;
        let row = match existing {
            Some(row) => row,
            None => {
                let generated = keys::generate()?;
                let row = key_rows::LocalKey {
                    kind: kind.to_string(),
                    private_key_pem: generated.private_key_pem,
                    public_key_pem: generated.public_key_pem,
                    created_at: clock.now(),
                };
                // Another process may have created it meanwhile: keep whichever was stored first.
                db.write_blocking(|c| match key_rows::find(c, kind)? {
                    Some(stored) => Ok(stored),
                    None => key_rows::insert(c, &row).map(|_| row.clone()),
                })?
            }
        };
        Ok(ActorKeys {
            signer: SigningKey::from_pem(&row.private_key_pem)?,
            private_key_pem: row.private_key_pem,
            public_key_pem: row.public_key_pem,
        })
    };
    Ok(LocalKeys { host: load(HOST_KEY)?, instance: load(INSTANCE_KEY)? })
}
