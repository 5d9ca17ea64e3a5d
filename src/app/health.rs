//! Is this instance ready to serve: the database answers, its migrations are the ones this binary
//! knows, and the delivery queue keeps up. Also the readings the metrics gauges show.

use crate::{
    db::{
        migration_status,
        models::queue_figures::{self, QueueFigures},
        DbError, MigrationStatus,
    },
    metrics::Readings,
    state::AppState,
};
use chrono::NaiveDateTime;
use std::time::Duration;

/// Longest wait for the database before the readiness check says it does not answer.
const DATABASE_BUDGET: Duration = Duration::from_secs(5);

/// The queue as the readiness check reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueueReading {
    pub figures: QueueFigures,
    /// How long the oldest delivery a worker could take has been due, in seconds (0: none due).
    pub oldest_due_age_secs: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Readiness {
    /// The database's answer: `Err` says why it gave none.
    pub database: Result<(), String>,
    /// `None` when the database did not answer.
    pub migrations: Option<MigrationStatus>,
    /// `None` when the database did not answer.
    pub queue: Option<QueueReading>,
    pub max_queue_depth: u64,
    pub max_due_age_secs: u64,
}

impl Readiness {
    /// Every migration this binary embeds is applied (one it does not know is reported, not
    /// failed: a newer version sharing the database ran it).
    pub fn migrations_current(&self) -> bool {
        self.migrations.as_ref().is_some_and(|m| m.pending.is_empty())
    }
    pub fn queue_depth_ok(&self) -> bool {
        self.queue.is_some_and(|q| u64::try_from(q.figures.depth).unwrap_or(0) <= self.max_queue_depth)
    }
    pub fn due_age_ok(&self) -> bool {
        self.queue.is_some_and(|q| u64::try_from(q.oldest_due_age_secs).unwrap_or(0) <= self.max_due_age_secs)
    }
    pub fn ready(&self) -> bool {
        self.database.is_ok() && self.migrations_current() && self.queue_depth_ok() && self.due_age_ok()
    }
}

fn oldest_due_age_secs(figures: &QueueFigures, now: NaiveDateTime) -> i64 {
    figures.oldest_head_due_at.map(|due| (now - due).num_seconds().max(0)).unwrap_or(0)
}

/// Reads the database once (migrations, queue) within a time budget.
pub async fn readiness(state: &AppState) -> Readiness {
    let read = state.db.read(|c| Ok((migration_status(c)?, queue_figures::read(c)?)));
    let answer = match tokio::time::timeout(DATABASE_BUDGET, read).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => {
            // The cause can name internal hosts: it goes to the log, the public answer says less.
            tracing::warn!(error = %e, "readiness: the database does not answer");
            Err("the database refused the readiness queries; the server's log has the cause".to_string())
        }
        Err(_) => Err(format!("no answer within {} s", DATABASE_BUDGET.as_secs())),
    };
    let now = state.clock.now();
    let health = &state.config.health;
    let (database, migrations, queue) = match answer {
        Ok((migrations, figures)) => (
            Ok(()),
            Some(migrations),
            Some(QueueReading { oldest_due_age_secs: oldest_due_age_secs(&figures, now), figures }),
        ),
        Err(e) => (Err(e), None, None),
    };
    Readiness {
        database,
        migrations,
        queue,
        max_queue_depth: health.max_queue_depth,
        max_due_age_secs: health.max_due_age_secs,
    }
}

/// What the gauges of a scrape show: the queue (read now) and this process's pool.
pub async fn readings(state: &AppState) -> Result<Readings, DbError> {
    let figures = state.db.read(queue_figures::read).await?;
    let pool = state.db.pool_usage();
    Ok(Readings {
        queue_depth: figures.depth,
        queue_paused: figures.held_for_paused,
        paused_inboxes: figures.paused_inboxes,
        oldest_due_age_secs: oldest_due_age_secs(&figures, state.clock.now()) as f64,
        pool_max: pool.max,
        pool_in_use: pool.open.saturating_sub(pool.idle),
        pool_idle: pool.idle,
    })
}
