//! Storage: one schema on SQLite or PostgreSQL, picked at run time from the URL scheme.
//!
//! Queries run on a blocking thread through [`Db::read`] and [`Db::write`]; `write` wraps the
//! closure in a transaction (`BEGIN IMMEDIATE` on SQLite, so a read never has to upgrade to a write
//! lock and fail with SQLITE_BUSY).

pub mod models;
pub mod schema;

use diesel::{connection::SimpleConnection, pg::PgConnection, prelude::*, r2d2, sqlite::SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("cannot get a database connection: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("cannot open the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, String> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(format!("`{url}` must start with sqlite:// or postgres://"))
        }
    }
}

/// Path of an SQLite database from `sqlite://relative/path.db` or `sqlite:///absolute/path.db`.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url)
}

/// r2d2 manager that opens the backend named by the URL (so connection errors are the real ones)
/// and prepares each connection.
#[derive(Debug)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = DbError;

    fn connect(&self) -> Result<DbConnection, DbError> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn =
                    SqliteConnection::establish(sqlite_path(&self.url)).map_err(|e| DbError::Connect(e.to_string()))?;
                // busy_timeout first, so that switching to WAL waits for other processes too.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| DbError::Connect(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).map_err(|e| DbError::Connect(e.to_string()))?;
                // Timestamps are stored as UTC without a zone on both backends.
                conn.batch_execute("SET TIME ZONE 'UTC'").map_err(|e| DbError::Connect(e.to_string()))?;
                Ok(DbConnection::Postgres(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    /// A connection dropped while a thread panics may be inside a transaction: never reuse it.
    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        std::thread::panicking()
    }
}

#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<ConnectionManager>,
    backend: Backend,
}

impl Db {
    /// Opens the pool (creating the SQLite file's folder) and runs pending migrations.
    pub fn connect(url: &str, pool_size: u32) -> DbResult<Db> {
        let backend = Backend::from_url(url).map_err(DbError::Connect)?;
        if backend == Backend::Sqlite {
            let path = std::path::Path::new(sqlite_path(url));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| DbError::Connect(format!("cannot create {}: {e}", dir.display())))?;
            }
        }
        let manager = ConnectionManager { url: url.to_string(), backend };
        // Try once up front so a wrong URL gives the backend's own message, not a pool timeout.
        let mut first = r2d2::ManageConnection::connect(&manager)?;
        run_migrations(&mut first)?;
        drop(first);
        let pool =
            r2d2::Pool::builder().max_size(pool_size).connection_timeout(Duration::from_secs(10)).build(manager)?;
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many connections the pool holds, how many of them are idle, and its largest size.
    pub fn pool_usage(&self) -> PoolUsage {
        let state = self.pool.state();
        PoolUsage { max: self.pool.max_size(), open: state.connections, idle: state.idle_connections }
    }

    pub fn conn(&self) -> DbResult<r2d2::PooledConnection<ConnectionManager>> {
        Ok(self.pool.get()?)
    }

    /// Runs read-only queries on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> DbResult<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.conn()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| DbError::Connect(format!("database task failed: {e}")))?
    }

    /// Runs `f` in one write transaction on a blocking thread: all of it is stored, or none.
    /// `f` returns the caller's own error type (a domain error, or [`DbError`]); any error rolls
    /// the transaction back and comes out as it went in.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f))
            .await
            .map_err(|e| E::from(DbError::Connect(format!("database task failed: {e}"))))?
    }

    /// The synchronous form of [`Db::write`], for the CLI.
    pub fn write_blocking<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn()?;
        write_transaction(&mut conn, f)
    }

    pub fn read_blocking<T>(&self, f: impl FnOnce(&mut DbConnection) -> DbResult<T>) -> DbResult<T> {
        let mut conn = self.conn()?;
        f(&mut conn)
    }
}

/// A reading of the connection pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUsage {
    pub max: u32,
    pub open: u32,
    pub idle: u32,
}

/// How the database's applied migrations compare with those this binary embeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Embedded here, not yet applied to the database (its versions).
    pub pending: Vec<String>,
    /// Applied to the database, unknown to this binary (a newer version migrated it).
    pub unknown: Vec<String>,
}

/// Compares the migrations applied to the database with the ones embedded in this binary.
pub fn migration_status(conn: &mut DbConnection) -> DbResult<MigrationStatus> {
    let status = match conn {
        DbConnection::Sqlite(c) => status_of(c, SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => status_of(c, POSTGRES_MIGRATIONS),
    };
    status.map_err(|e| DbError::Migration(e.to_string()))
}

type MigrationResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn status_of<B, C>(conn: &mut C, embedded: EmbeddedMigrations) -> MigrationResult<MigrationStatus>
where
    B: diesel::backend::Backend,
    C: MigrationHarness<B>,
    EmbeddedMigrations: diesel::migration::MigrationSource<B>,
{
    use diesel::migration::MigrationSource;
    let version = |m: &Box<dyn diesel::migration::Migration<B>>| m.name().version().to_string();
    let known: Vec<String> = MigrationSource::<B>::migrations(&embedded)?.iter().map(version).collect();
    let pending: Vec<String> = conn.pending_migrations(embedded)?.iter().map(version).collect();
    let unknown =
        conn.applied_migrations()?.into_iter().map(|v| v.to_string()).filter(|v| !known.contains(v)).collect();
    Ok(MigrationStatus { pending, unknown })
}

pub fn run_migrations(conn: &mut DbConnection) -> DbResult<()> {
    let result = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| DbError::Migration(e.to_string()))
}

/// A transaction that takes SQLite's write lock at BEGIN. Model functions never open their own
/// (never call `conn.transaction` inside one), and a closure never swallows a database error
/// and goes on (PostgreSQL would then roll back at COMMIT), so a plain BEGIN/COMMIT is all either
/// backend needs.
pub fn write_transaction<T, E: From<DbError>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let begin = match conn {
        DbConnection::Sqlite(_) => "BEGIN IMMEDIATE",
        DbConnection::Postgres(_) => "BEGIN",
    };
    conn.batch_execute(begin).map_err(DbError::from)?;
    // A panic inside `f` must not leave the connection in the transaction (holding SQLite's
    // write lock, or committing half of it with the next COMMIT on PostgreSQL).
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)));
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(panic) => {
            let _ = conn.batch_execute("ROLLBACK");
            std::panic::resume_unwind(panic)
        }
    };
    match outcome {
        Ok(value) => match conn.batch_execute("COMMIT") {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK");
                Err(DbError::from(e).into())
            }
        },
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_migration_folders_hold_the_same_names() {
        let names = |dir: &str| {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let sqlite = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"));
        let postgres = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"));
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }
}
