//! Storage: one schema on SQLite or PostgreSQL, picked at run time from the URL scheme.
//!
//! Queries run on a blocking thread through [`Db::read`] and [`Db::write`]; `write` wraps the
//! closure in a transaction (`BEGIN IMMEDIATE` on SQLite, so a read never has to upgrade to a write
//! lock and fail with SQLITE_BUSY).

/// Runs `$body` on the connection of whichever backend `$conn` holds (`$c` is then a
/// `&mut SqliteConnection` or a `&mut PgConnection`), the body written once and compiled for
/// each. For the inbox writer's hot statements: through [`DbConnection`] diesel renders the
/// query's SQL again in each pass over it (the cache check, the binding), even when the
/// statement is cached; on the backend's own connection it does not.
macro_rules! each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}

pub mod backup;
pub mod models;
pub mod schema;

use diesel::{connection::SimpleConnection, pg::PgConnection, prelude::*, r2d2, sqlite::SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, OnceLock,
    },
    time::Duration,
};

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
    #[error("the database {path} is read-only: {reason}")]
    ReadOnly { path: String, reason: String },
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type DbResult<T> = Result<T, DbError>;

/// A failure of the machine under the database rather than of a query: the request was rolled
/// back whole (nothing stored) and can be sent again once the cause is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outage {
    /// SQLite's `SQLITE_FULL`, PostgreSQL's `could not extend file` (53100): no space left.
    DiskFull,
    /// The server dropped the connection (restarted, or its backends were terminated), or no
    /// connection could be had in time.
    Unavailable,
}

impl DbError {
    /// The outage behind this error, if it is one (a client may then be told so, with a 5xx
    /// that is not a 500).
    pub fn outage(&self) -> Option<Outage> {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            DbError::Query(Error::DatabaseError(kind, info)) => {
                let message = info.message();
                if message.contains("database or disk is full")
                    || message.contains("could not extend file")
                    || message.contains("No space left on device")
                {
                    Some(Outage::DiskFull)
                } else if matches!(kind, DatabaseErrorKind::ClosedConnection)
                    || message.contains("terminating connection")
                    || message.contains("server closed the connection")
                    || message.contains("no connection to the server")
                    || message.contains("could not receive data from server")
                    || message.contains("connection to server")
                {
                    Some(Outage::Unavailable)
                } else {
                    None
                }
            }
            DbError::Pool(_) => Some(Outage::Unavailable),
            _ => None,
        }
    }
}

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
                // The WAL is checkpointed by a thread of its own (`Checkpointer`), so that its
                // syncs do not hold up the writer; a commit does it only as a backstop.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = {BACKSTOP_CHECKPOINT_PAGES};"
                ))
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
    /// The queues of [`Db::write_grouped`]'s writer threads (one each), started at first use.
    grouped: Arc<OnceLock<Vec<WriterQueue>>>,
    /// Counts this process's write transactions, bumped after each ends: what was read under one
    /// value may be served again while it holds (`Db::generation`).
    generation: Arc<AtomicU64>,
    /// SQLite's WAL checkpoints, on a thread of their own (`None` on PostgreSQL).
    checkpointer: Option<Arc<Checkpointer>>,
}

/// A checkpoint is asked for after this many writes of this process (a write in a group counts
/// alone)...
const CHECKPOINT_AFTER_WRITES: u64 = 64;
/// ...and runs at most this often.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// SQLite's own checkpoint at a commit, kept as a backstop should the thread fall behind (a few
/// huge writes, failing checkpoints): at this many pages of log (40 MB) instead of 1,000.
const BACKSTOP_CHECKPOINT_PAGES: u32 = 10_000;

/// Copies SQLite's write-ahead log back into the database file, on a thread of its own.
///
/// SQLite's own automatic checkpoint runs inside the commit that crosses 1,000 pages of log, on
/// the committing connection: with `synchronous = NORMAL` its syncs of the log and of the
/// database file are the only ones, and they fell on the inbox's group writer, which held every
/// queued request for their length (strace of one ingestion run: 1,139 fsyncs, 3.3 s, all on
/// that thread). The pool's connections checkpoint only past [`BACKSTOP_CHECKPOINT_PAGES`], and
/// this thread runs a passive checkpoint, which blocks neither writers nor readers, after every
/// [`CHECKPOINT_AFTER_WRITES`] writes of this process, at most every [`CHECKPOINT_EVERY`], on a
/// connection of its own (not one of the pool's, which a small pool cannot spare). Writes of
/// another process (the command line) are copied by the next one, and SQLite checkpoints when
/// the last connection to the file closes.
struct Checkpointer {
    writes: AtomicU64,
    /// One pending request is enough: a checkpoint copies whatever the log holds then.
    wake: Option<mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, which opens its connection at the first checkpoint.
    fn start(url: &str) -> DbResult<Checkpointer> {
        let (wake, asked) = mpsc::sync_channel(1);
        let manager = ConnectionManager { url: url.to_string(), backend: Backend::Sqlite };
        let thread = std::thread::Builder::new()
            .name("ronron-db-checkpoint".into())
            .spawn(move || run_checkpoints(&manager, &asked))
            .map_err(|e| DbError::Connect(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer { writes: AtomicU64::new(0), wake: Some(wake), thread: Some(thread) })
    }

    /// Counts a write that ended (committed or not: the log may have grown either way), and asks
    /// for a checkpoint at each [`CHECKPOINT_AFTER_WRITES`]th.
    fn wrote(&self) {
        if (self.writes.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(CHECKPOINT_AFTER_WRITES) {
            if let Some(wake) = &self.wake {
                let _ = wake.try_send(());
            }
        }
    }
}

impl Drop for Checkpointer {
    /// The last `Db` is gone: the thread stops and its connection is closed before this returns,
    /// so that the process's last connection to the file (whose close checkpoints and removes the
    /// log) is not left to a thread that outlives it.
    fn drop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run_checkpoints(manager: &ConnectionManager, asked: &mpsc::Receiver<()>) {
    use mpsc::RecvTimeoutError;
    let mut conn: Option<DbConnection> = None;
    let mut pending = asked.recv().is_ok();
    while pending {
        let done = match conn.take() {
            Some(c) => Ok(c),
            None => r2d2::ManageConnection::connect(manager),
        }
        .and_then(|mut c| match c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
            Ok(()) => Ok(c),
            Err(e) => Err(DbError::from(e)),
        });
        // A failure (the disk is full, the file is gone) leaves the pages in the log, where
        // readers find them; the next request tries again, on a new connection.
        match done {
            Ok(c) => conn = Some(c),
            Err(e) => tracing::warn!(error = %e, "the SQLite checkpoint failed; the next one will try again"),
        }
        // At most every CHECKPOINT_EVERY: a request that comes meanwhile is served after it, in
        // steps short enough for the last `Db`'s drop not to wait.
        pending = false;
        for _ in 0..10 {
            match asked.recv_timeout(CHECKPOINT_EVERY / 10) {
                Ok(()) => pending = true,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        if !pending {
            pending = asked.recv().is_ok();
        }
    }
}

/// How many writer threads serve [`Db::write_grouped`]: one on SQLite, whose single write lock
/// serialises writers anyway; on PostgreSQL several (half the pool, at most 4), since one writer
/// waits a loopback round trip per statement and the server runs transactions side by side. Each
/// writer has its own queue, and the writes of one key (the inbox: the sending server) always go
/// to the same one, in order: a Delete is never checked while its Create sits uncommitted in
/// another writer's group.
fn group_writers(backend: Backend, pool_size: u32) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => (pool_size as usize / 2).clamp(1, 4),
    }
}

/// The writer, of `writers`, that serves the writes of `key` (the same in every process run,
/// which does not matter: only the order within one process does).
fn writer_of(key: &str, writers: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() % writers.max(1) as u64) as usize
}

/// The queue of one group writer.
type WriterQueue = mpsc::Sender<Box<dyn GroupedJob>>;

/// The most writes [`Db::write_grouped`] puts in one transaction.
const MAX_GROUP: usize = 64;

/// A write waiting for the group writer: run inside the shared transaction, then answered.
trait GroupedJob: Send {
    /// Runs the write on `conn`, inside the group's transaction; true when it succeeded.
    fn run(&mut self, conn: &mut DbConnection) -> bool;
    /// Turns a write that succeeded into a failure: its savepoint could not be released (on
    /// PostgreSQL, a statement inside it failed and the write went on as if not), so it was
    /// rolled back.
    fn fail(&mut self, e: DbError);
    /// Answers the caller once the group's transaction is committed (`None`) or failed.
    fn finish(self: Box<Self>, failed: Option<DbError>);
}

struct Grouped<T, E, F> {
    write: Option<F>,
    result: Option<Result<T, E>>,
    reply: tokio::sync::oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> GroupedJob for Grouped<T, E, F>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
{
    fn run(&mut self, conn: &mut DbConnection) -> bool {
        let Some(write) = self.write.take() else { return false };
        // A panic is this write's failure alone (its caller sees the task fail, as with `write`).
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(conn))) {
            Ok(result) => {
                let ok = result.is_ok();
                self.result = Some(result);
                ok
            }
            Err(_) => false,
        }
    }

    fn fail(&mut self, e: DbError) {
        if self.result.is_some() {
            self.result = Some(Err(E::from(e)));
        }
    }

    fn finish(self: Box<Self>, failed: Option<DbError>) {
        let answer = match (self.result, failed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(_)), Some(e)) => Err(E::from(e)),
            (Some(Ok(value)), None) => Ok(value),
            // It panicked: dropping the reply tells the caller its task failed.
            (None, _) => return,
        };
        let _ = self.reply.send(answer);
    }
}

/// The same failure for each write of a group (a database error keeps its kind and message,
/// which [`DbError::outage`] reads).
fn for_each_write(e: &DbError) -> DbError {
    match e {
        DbError::Query(diesel::result::Error::DatabaseError(kind, info)) => {
            DbError::Query(diesel::result::Error::DatabaseError(*kind, Box::new(info.message().to_string())))
        }
        other => DbError::Connect(other.to_string()),
    }
}

/// The group writer: takes every write queued (up to [`MAX_GROUP`]), runs them in one
/// transaction, each in a savepoint of its own (a failed write is rolled back alone), commits, and
/// only then answers each. It keeps its connection, and its prepared statements, between groups.
fn group_writer(
    pool: r2d2::Pool<ConnectionManager>,
    jobs: mpsc::Receiver<Box<dyn GroupedJob>>,
    generation: Arc<AtomicU64>,
) {
    let mut held: Option<r2d2::PooledConnection<ConnectionManager>> = None;
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        // The writes' own panics are caught in `Grouped::run`; this one guards the writer's code,
        // so that the thread outlives any group: callers of a group lost here see their task fail
        // (their replies are dropped), later writes are served, and the connection is not kept.
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            serve_group(&pool, held.take(), group, &generation)
        }));
        // Again, for a group lost to a panic (serve_group counts the others before answering).
        generation.fetch_add(1, Ordering::Release);
        held = served.unwrap_or(None);
    }
}

/// Runs one group and answers its writes; the connection to keep for the next group, if any.
fn serve_group(
    pool: &r2d2::Pool<ConnectionManager>,
    held: Option<r2d2::PooledConnection<ConnectionManager>>,
    mut group: Vec<Box<dyn GroupedJob>>,
    generation: &AtomicU64,
) -> Option<r2d2::PooledConnection<ConnectionManager>> {
    let mut conn = match held {
        Some(conn) => conn,
        None => match pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                let e = DbError::from(e);
                for job in group {
                    job.finish(Some(for_each_write(&e)));
                }
                return None;
            }
        },
    };
    let ran = run_group(&mut conn, &mut group);
    // Counted before anyone is answered: a caller that reads a page after its answer must not
    // get one kept from before its write.
    generation.fetch_add(1, Ordering::Release);
    match ran {
        Ok(()) => {
            for job in group {
                job.finish(None);
            }
            Some(conn)
        }
        Err(e) => {
            // Whatever failed (a dropped connection, a commit refused), the next group takes a
            // connection from the pool, tested on check-out, rather than this one.
            for job in group {
                job.finish(Some(for_each_write(&e)));
            }
            None
        }
    }
}

/// One transaction for `group`: Ok when it committed (each write's own result is in its job).
fn run_group(conn: &mut DbConnection, group: &mut [Box<dyn GroupedJob>]) -> DbResult<()> {
    let begin = match conn {
        DbConnection::Sqlite(_) => "BEGIN IMMEDIATE",
        DbConnection::Postgres(_) => "BEGIN",
    };
    conn.batch_execute(begin)?;
    // Even a write alone gets its savepoint: on PostgreSQL, a write that caught a failed
    // statement leaves the transaction aborted, and `COMMIT` then rolls back without an error;
    // the savepoint's release is what reports it.
    let kept = (|| -> DbResult<()> {
        for job in group.iter_mut() {
            conn.batch_execute("SAVEPOINT grouped_write")?;
            if job.run(conn) {
                // On PostgreSQL a write that caught a failed statement and went on cannot be
                // released (the transaction is aborted back to the savepoint): that write alone
                // is rolled back and fails, the others are kept.
                if let Err(e) = conn.batch_execute("RELEASE SAVEPOINT grouped_write") {
                    job.fail(e.into());
                    conn.batch_execute("ROLLBACK TO SAVEPOINT grouped_write; RELEASE SAVEPOINT grouped_write")?;
                }
            } else {
                conn.batch_execute("ROLLBACK TO SAVEPOINT grouped_write; RELEASE SAVEPOINT grouped_write")?;
            }
        }
        Ok(())
    })();
    match kept {
        Ok(()) => match conn.batch_execute("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = conn.batch_execute("ROLLBACK");
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK");
            Err(e)
        }
    }
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
        let first = r2d2::ManageConnection::connect(&manager).and_then(|mut first| run_migrations(&mut first));
        if backend == Backend::Sqlite {
            let path = std::path::Path::new(sqlite_path(url));
            if let Err(e) = &first {
                tracing::debug!(error = %e, "first database connection failed");
            }
            // SQLite opens a file it may only read without a word (and refuses the first write
            // much later), or says "unable to open database file" when it cannot create its
            // `-wal` next to it: either way, name what is read-only now.
            if let Some(read_only) =
                file_not_writable(path).or_else(|| first.as_ref().err().and(folder_not_writable(path)))
            {
                return Err(read_only);
            }
        }
        first?;
        // Each connection is tested (`SELECT 1`) when taken from the pool: one the server dropped
        // (a restart, terminated backends) is replaced instead of failing every request it serves.
        // Connections are opened as the load asks (up to `pool_size`) and closed after r2d2's
        // idle timeout (10 min), down to one: an idle process does not hold `pool_size`
        // connections, each with its own page cache and parsed schema.
        let pool = r2d2::Pool::builder()
            .test_on_check_out(true)
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(manager)?;
        let checkpointer = match backend {
            Backend::Sqlite => Some(Arc::new(Checkpointer::start(url)?)),
            Backend::Postgres => None,
        };
        Ok(Db {
            pool,
            backend,
            grouped: Arc::new(OnceLock::new()),
            generation: Arc::new(AtomicU64::new(0)),
            checkpointer,
        })
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
        self.write_on_blocking_thread(f, true).await
    }

    /// Like [`Db::write`], for the delivery queue's own state (claims, leases, outcomes, the
    /// signature scheme a server takes): no kept page shows it, so it does not count in
    /// [`Db::generation`], and a fan-out's thousands of such writes leave the kept timeline pages
    /// current (a published incident is when its readers ask for them most).
    pub async fn write_queue_state<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.write_on_blocking_thread(f, false).await
    }

    /// [`Db::write`] (`counted`: in [`Db::generation`]) or [`Db::write_queue_state`].
    async fn write_on_blocking_thread<T, E, F>(&self, f: F, counted: bool) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || match counted {
            true => db.write_blocking(f),
            false => {
                let mut conn = db.conn()?;
                let written = write_transaction(&mut conn, f);
                db.wrote();
                written
            }
        })
        .await
        .map_err(|e| E::from(DbError::Connect(format!("database task failed: {e}"))))?
    }

    /// Like [`Db::write`], but the write may share its transaction with others queued at the same
    /// moment (group commit): a writer thread runs them one after the other, each in a savepoint
    /// of its own, so a failed write is rolled back alone and the others are kept; each caller is
    /// answered only once the shared transaction is committed (a failed commit fails them all).
    /// Writes of the same `key` go to the same writer, in the order they were queued. For short
    /// writes that many requests make at once (the inbox).
    pub async fn write_grouped<T, E, F>(&self, key: &str, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let queues = self.grouped.get_or_init(|| {
            (0..group_writers(self.backend, self.pool.max_size()))
                .map(|_| {
                    let (sender, receiver) = mpsc::channel();
                    let (pool, generation) = (self.pool.clone(), self.generation.clone());
                    std::thread::Builder::new()
                        .name("ronron-db-writer".into())
                        .spawn(move || group_writer(pool, receiver, generation))
                        .expect("a thread can be started");
                    sender
                })
                .collect()
        });
        let queue = &queues[writer_of(key, queues.len())];
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Box<dyn GroupedJob> = Box::new(Grouped { write: Some(f), result: None, reply });
        queue.send(job).map_err(|_| E::from(DbError::Connect("the database writer has stopped".into())))?;
        let answer = answer.await;
        self.wrote();
        answer.map_err(|_| E::from(DbError::Connect("database task failed: the write panicked".into())))?
    }

    /// Counts one write for the checkpointer (SQLite).
    fn wrote(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.wrote();
        }
    }

    /// The synchronous form of [`Db::write`], for the CLI.
    pub fn write_blocking<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn()?;
        let written = write_transaction(&mut conn, f);
        self.generation.fetch_add(1, Ordering::Release);
        self.wrote();
        written
    }

    /// This process's count of write transactions ended so far. Read it before reading data to
    /// keep: while it has not changed, this process has committed nothing since (another process
    /// on the same PostgreSQL may have: what is kept must also expire).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn read_blocking<T>(&self, f: impl FnOnce(&mut DbConnection) -> DbResult<T>) -> DbResult<T> {
        let mut conn = self.conn()?;
        f(&mut conn)
    }
}

fn denied(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem)
}

/// The SQLite file exists and this user may not write it (asked of the file system itself, as
/// this user: root ignores modes that would stop a service account).
fn file_not_writable(path: &std::path::Path) -> Option<DbError> {
    let e = std::fs::OpenOptions::new().append(true).open(path).err().filter(|e| path.is_file() && denied(e))?;
    Some(DbError::ReadOnly {
        path: path.display().to_string(),
        reason: format!("this user cannot write the file ({e}); make it writable by the user running ronron"),
    })
}

/// This user may not create files next to the SQLite file, where SQLite keeps its `-wal` and
/// `-shm` (SQLite itself only says "unable to open database file").
fn folder_not_writable(path: &std::path::Path) -> Option<DbError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name()?.to_string_lossy();
    let probe = dir.join(format!(".{name}.ronron-write-check"));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) if denied(&e) => Some(DbError::ReadOnly {
            path: path.display().to_string(),
            reason: format!(
                "this user cannot create files in its folder {} ({e}), where SQLite keeps {name}-wal and \
                 {name}-shm; make the folder writable by the user running ronron",
                dir.display()
            ),
        }),
        Err(_) => None,
    }
}

/// A reading of the connection pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUsage {
    pub max: u32,
    pub open: u32,
    pub idle: u32,
}

/// One connection, without running migrations nor creating a folder (for `ronron check`); a wrong
/// URL gives the backend's own message.
pub fn connect_unmigrated(url: &str) -> DbResult<DbConnection> {
    let backend = Backend::from_url(url).map_err(DbError::Connect)?;
    r2d2::ManageConnection::connect(&ConnectionManager { url: url.to_string(), backend })
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
    let version = |m: &dyn diesel::migration::Migration<B>| m.name().version().to_string();
    let known: Vec<String> = MigrationSource::<B>::migrations(&embedded)?.iter().map(|m| version(m.as_ref())).collect();
    let pending: Vec<String> = conn.pending_migrations(embedded)?.iter().map(|m| version(m.as_ref())).collect();
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

/// Every table of `schema.rs` and its columns, read from the schema's own text (so a table added
/// there is listed without anyone remembering to).
pub fn schema_tables() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut tables = Vec::new();
    let mut lines = include_str!("schema.rs").lines();
    while let Some(line) = lines.next() {
        if line.trim() != "diesel::table! {" {
            continue;
        }
        let Some(name) = lines.next().and_then(|l| l.split_whitespace().next()) else { break };
        let columns = lines
            .by_ref()
            .take_while(|l| l.trim() != "}")
            .filter_map(|l| l.trim().split_once(" -> ").map(|(column, _)| column))
            .collect();
        tables.push((name, columns));
    }
    tables
}

/// Every row of every table as one line of text, sorted, by table: what a test compares before
/// and after a request that must store nothing (a changed, added or removed row shows).
pub fn snapshot(conn: &mut DbConnection) -> DbResult<std::collections::BTreeMap<String, Vec<String>>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut snapshot = std::collections::BTreeMap::new();
    for (table, columns) in schema_tables() {
        let cells: Vec<String> = columns.iter().map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), '<null>')")).collect();
        let query = format!("SELECT {} AS row FROM \"{table}\"", cells.join(" || '|' || "));
        let mut rows: Vec<String> = diesel::sql_query(query).load::<Row>(conn)?.into_iter().map(|r| r.row).collect();
        rows.sort();
        snapshot.insert(table.to_string(), rows);
    }
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    /// The pool's connections do not checkpoint at a commit past SQLite's 1,000 pages of log (the
    /// database file stays as it was), the checkpointer thread copies the log into the file once
    /// [`super::CHECKPOINT_AFTER_WRITES`] writes have ended, and nothing outlives the `Db`.
    #[test]
    fn sqlite_checkpoints_run_on_their_own_thread_not_at_commits() {
        use diesel::connection::SimpleConnection;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint.db");
        let db = super::Db::connect(&format!("sqlite://{}", path.display()), 2).unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let migrated = size();
        let write = |sql: &'static str| db.write_blocking(|c| Ok::<_, super::DbError>(c.batch_execute(sql)?)).unwrap();
        write("CREATE TABLE bulk (b BLOB NOT NULL)");
        // 100 kB a row: about 25 pages each, 1,550 pages of log after 62 rows.
        for _ in 1..super::CHECKPOINT_AFTER_WRITES - 1 {
            write("INSERT INTO bulk VALUES (randomblob(100000))");
        }
        let wal = std::fs::metadata(dir.path().join("checkpoint.db-wal")).unwrap().len();
        assert!(wal > 6_000_000, "the log holds the rows: {wal} bytes");
        assert!(size() < migrated + 1_000_000, "no commit checkpointed: {} bytes, {migrated} after migrations", size());
        write("INSERT INTO bulk VALUES (randomblob(100000))");
        for tries in 0.. {
            if size() >= migrated + 6_000_000 {
                break;
            }
            assert!(tries < 2_000, "no checkpoint within 20 s: {} bytes", size());
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // Once the `Db` is dropped, no connection is left open: the last one's close removed the
        // log.
        drop(db);
        assert!(!dir.path().join("checkpoint.db-wal").exists(), "a connection outlived the Db");
    }

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

    #[test]
    fn a_full_disk_and_a_dropped_connection_are_outages_other_errors_are_not() {
        use super::{DbError, Outage};
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        let error = |kind, message: &str| DbError::Query(Error::DatabaseError(kind, Box::new(message.to_string())));
        assert_eq!(error(Kind::Unknown, "database or disk is full").outage(), Some(Outage::DiskFull));
        let pg_full = "could not extend file \"base/16384/2619\": No space left on device";
        assert_eq!(error(Kind::Unknown, pg_full).outage(), Some(Outage::DiskFull));
        let terminated = "terminating connection due to administrator command";
        assert_eq!(error(Kind::Unknown, terminated).outage(), Some(Outage::Unavailable));
        assert_eq!(error(Kind::ClosedConnection, "").outage(), Some(Outage::Unavailable));
        assert_eq!(error(Kind::UniqueViolation, "duplicate key").outage(), None);
        assert_eq!(DbError::Query(Error::NotFound).outage(), None);
        assert_eq!(DbError::Corrupt("x".into()).outage(), None);
    }

    /// Queues `count` grouped writes at once (write `i` under `key(i)`, doing `write(i)`) and
    /// returns their answers in order.
    fn grouped_at_once<T, W>(
        db: &super::Db,
        count: usize,
        key: impl Fn(usize) -> &'static str,
        write: impl Fn(usize) -> W,
    ) -> Vec<Result<T, super::DbError>>
    where
        T: Send + 'static,
        W: FnOnce(&mut super::DbConnection) -> Result<T, super::DbError> + Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
        runtime.block_on(async {
            let writes: Vec<_> = (0..count)
                .map(|i| {
                    let (db, key, write) = (db.clone(), key(i), write(i));
                    tokio::spawn(async move { db.write_grouped(key, write).await })
                })
                .collect();
            let mut answers = Vec::new();
            for write in writes {
                answers.push(write.await.unwrap());
            }
            answers
        })
    }

    /// Writes queued at once share transactions; one that fails is rolled back alone, and each
    /// caller gets its own answer.
    #[test]
    fn grouped_writes_keep_each_others_rows_when_one_fails() {
        use super::{models::settings, Db, DbError};
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/grouped.db", dir.path().display()), 4).unwrap();
        let refused = |i: usize| i % 10 == 3;
        let answers = grouped_at_once(
            &db,
            60,
            |_| "test",
            |i| {
                move |c: &mut super::DbConnection| {
                    settings::put(c, &format!("k{i}"), "v")?;
                    if refused(i) {
                        return Err(DbError::Corrupt("refused".into()));
                    }
                    Ok(i)
                }
            },
        );
        for (i, answer) in answers.iter().enumerate() {
            match answer {
                Ok(n) => assert!(!refused(i) && *n == i, "write {i} answered {n}"),
                Err(e) => assert!(refused(i) && matches!(e, DbError::Corrupt(_)), "write {i} failed: {e}"),
            }
            let stored = db.read_blocking(|c| settings::get(c, &format!("k{i}"))).unwrap();
            assert_eq!(stored.is_some(), !refused(i), "row of write {i}");
        }
    }

    /// One key's writes go to one writer, in order: a read-modify-write of each sees the one
    /// before it committed (with several PostgreSQL writers sharing one queue, two of them could
    /// read the same value and lose an increment).
    #[test]
    fn writes_of_one_key_are_applied_in_order_by_one_writer() {
        use super::{models::settings, writer_of};
        assert!((0..4).contains(&writer_of("peer.example", 4)));
        assert_eq!(writer_of("peer.example", 4), writer_of("peer.example", 4));
        assert_eq!(writer_of("peer.example", 1), 0);
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        let key = |i: usize| if i.is_multiple_of(2) { "peer.example" } else { "other.example" };
        for answer in grouped_at_once(&db, 200, key, |i| {
            move |c: &mut super::DbConnection| {
                let name = format!("count-{}", key(i));
                let n: u32 = settings::get(c, &name)?.and_then(|v| v.parse().ok()).unwrap_or(0);
                settings::put(c, &name, &(n + 1).to_string())
            }
        }) {
            answer.unwrap();
        }
        for key in ["peer.example", "other.example"] {
            let count = db.read_blocking(|c| settings::get(c, &format!("count-{key}"))).unwrap();
            assert_eq!(count.as_deref(), Some("100"), "{key}");
        }
    }

    /// The bundled SQLite is built with the query planner stability guarantee
    /// (`.cargo/config.toml`): without it every statement with a bound `LIMIT` is prepared
    /// again at each run.
    #[test]
    fn the_bundled_sqlite_keeps_its_plans_whatever_the_bound_values() {
        use diesel::{sql_types::Integer, Connection, QueryableByName, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Used {
            #[diesel(sql_type = Integer)]
            used: i32,
        }
        let mut c = diesel::sqlite::SqliteConnection::establish(":memory:").unwrap();
        let row: Used =
            diesel::sql_query("SELECT sqlite_compileoption_used('ENABLE_QPSG') AS used").get_result(&mut c).unwrap();
        assert_eq!(row.used, 1);
    }

    /// A fresh database for a unit test: PostgreSQL when `TEST_DATABASE_URL` is set (a database
    /// of its own, named like the integration tests' so CI drops it), else SQLite in `dir`.
    fn test_db(dir: &std::path::Path) -> super::Db {
        use diesel::{Connection, RunQueryDsl};
        let url = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("ronron_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::pg::PgConnection::establish(&admin_url).expect("PostgreSQL reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&format!("/{name}"));
                url.to_string()
            }
            _ => format!("sqlite://{}/grouped.db", dir.display()),
        };
        super::Db::connect(&url, 4).unwrap()
    }

    /// A grouped write that catches a failed statement and goes on: on PostgreSQL its
    /// transaction is aborted, so that write alone is rolled back and fails (it used to take its
    /// whole group down with it, or, alone, be "committed" by a `COMMIT` that rolled back); on
    /// SQLite the failed statement changed nothing and the write is kept.
    #[test]
    fn a_grouped_write_that_swallows_a_failed_statement_fails_alone() {
        use super::{models::settings, Backend};
        use diesel::connection::SimpleConnection;
        let dir = tempfile::tempdir().unwrap();
        let db = test_db(dir.path());
        let swallows = |i: usize| i % 5 == 2;
        let write = |count: usize, i: usize| {
            move |c: &mut super::DbConnection| {
                settings::put(c, &format!("k{count}-{i}"), "v")?;
                if swallows(i) {
                    assert!(c.batch_execute("SELECT missing_column FROM missing_table").is_err());
                }
                Ok(i)
            }
        };
        // Alone (each awaited before the next is queued, so each is its own group; index 2 is
        // the one swallowing), then 40 at once.
        let alone: Vec<_> = (0..3).flat_map(|i| grouped_at_once(&db, 1, |_| "test", |_| write(3, i))).collect();
        let many = grouped_at_once(&db, 40, |_| "test", |i| write(40, i));
        let postgres = db.backend() == Backend::Postgres;
        for (name, answers) in [("alone", &alone), ("40", &many)] {
            for (i, answer) in answers.iter().enumerate() {
                let key = if name == "alone" { format!("k3-{i}") } else { format!("k40-{i}") };
                let stored = db.read_blocking(|c| settings::get(c, &key)).unwrap().is_some();
                let fails = postgres && swallows(i);
                assert_eq!(answer.is_err(), fails, "{name}: write {i} answered {answer:?}");
                assert_eq!(stored, !fails, "{name}: row of write {i}");
            }
        }
    }

    #[test]
    fn the_schema_lists_every_table_with_its_columns() {
        let tables = super::schema_tables();
        let count = include_str!("schema.rs").matches("diesel::table! {").count();
        assert_eq!(tables.len(), count);
        let (name, columns) = &tables[0];
        assert_eq!(
            (*name, columns.as_slice()),
            ("local_keys", &["kind", "private_key_pem", "public_key_pem", "created_at"][..])
        );
        assert!(tables.iter().all(|(_, columns)| !columns.is_empty()));
    }
}
