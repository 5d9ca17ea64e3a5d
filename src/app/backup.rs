//! Backup and restore of an SQLite database (PostgreSQL has `pg_dump` and `pg_restore`, see
//! docs/OPERATIONS.md), and the lock a running server holds so that a restore refuses it.

use super::{AppError, AppResult};
use crate::refusal::{Kind, Reason};
use crate::{
    config::Config,
    db::{self, backup as file, Backend},
    state::AppState,
};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub bulletins: i64,
    /// The folder of the uploaded logos when there are any: they are files beside the database,
    /// not in it, and are backed up with it by copying that folder (docs/OPERATIONS.md).
    pub media: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub database: PathBuf,
    pub bytes: u64,
    pub bulletins: i64,
    /// Where the database that was replaced was kept, if there was one.
    pub previous: Option<PathBuf>,
}

/// Held by `ronron serve` for its lifetime (a shared lock: several servers may share a database).
pub struct ServerLock {
    _file: Option<std::fs::File>,
}

fn sqlite_database(config: &Config, what: &str) -> AppResult<PathBuf> {
    match Backend::from_url(&config.database.url) {
        Ok(Backend::Sqlite) => Ok(PathBuf::from(db::sqlite_path(&config.database.url))),
        Ok(Backend::Postgres) => Err(sqlite_only(what)),
        Err(reason) => Err(AppError::invalid("database.url", reason)),
    }
}

/// `what` (backup, restore) on PostgreSQL: the tool that does it there.
fn sqlite_only(what: &str) -> AppError {
    let tool = if what == "backup" { "pg_dump" } else { "pg_restore" };
    AppError::Conflict { field: None, reason: Reason::new(Kind::SqliteOnly, &[("command", what), ("tool", tool)]) }
}

/// The refusal of `backup` on PostgreSQL, for a door that checks before opening the database.
pub fn backup_unsupported() -> AppError {
    sqlite_only("backup")
}

/// The refusal of the file named by `field` (the command line's argument).
fn refused_file(kind: Kind, path: &Path, values: &[(&'static str, &str)]) -> AppError {
    let path = path.display().to_string();
    let mut all = vec![("value", path.as_str())];
    all.extend_from_slice(values);
    AppError::refused("file", kind, &all)
}

/// Takes the server's lock on its SQLite database (nothing on PostgreSQL).
pub fn lock_for_server(config: &Config) -> AppResult<ServerLock> {
    let Ok(path) = sqlite_database(config, "serve") else {
        return Ok(ServerLock { _file: None });
    };
    match file::try_lock(&path, false) {
        Ok(file::Lock::Held(f)) => Ok(ServerLock { _file: Some(f) }),
        Ok(file::Lock::Busy) => Err(AppError::Conflict {
            field: None,
            reason: Reason::new(Kind::RestoreInProgress, &[("value", &path.display().to_string())]),
        }),
        Err(e) => Err(AppError::Internal(format!("cannot lock {}: {e}", file::lock_path(&path).display()))),
    }
}

/// Writes a consistent copy of the live SQLite database to `target`, which must not exist, while
/// the server goes on serving and writing; the copy is checked (`PRAGMA integrity_check`) before
/// it takes its name, so `target` is either a sound backup or absent.
pub async fn backup(state: &AppState, target: &Path) -> AppResult<BackupReport> {
    sqlite_database(&state.config, "backup")?;
    if target.exists() {
        return Err(refused_file(Kind::FileExists, target, &[]));
    }
    let dir = match target.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(refused_file(Kind::FolderMissing, &dir, &[]));
    }
    let name = target.file_name().ok_or_else(|| AppError::refused("file", Kind::NotAFileName, &[]))?;
    let partial = dir.join(format!(".{}.{}.partial", name.to_string_lossy(), std::process::id()));
    let _ = std::fs::remove_file(&partial);
    let (db, target, partial_for_task) = (state.db.clone(), target.to_path_buf(), partial.clone());
    let outcome = tokio::task::spawn_blocking(move || -> AppResult<BackupReport> {
        // The copy holds the signing keys: readable by its owner only. SQLite writes `VACUUM INTO`
        // into an existing empty file, which keeps the mode it was created with.
        {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&partial_for_task)
                .map_err(|e| refused_file(Kind::CannotCreate, &partial_for_task, &[("error", &e.to_string())]))?;
        }
        let mut conn = db.conn()?;
        file::vacuum_into(&mut conn, &partial_for_task)?;
        drop(conn);
        let check = file::inspect(&partial_for_task)?;
        if !check.intact || !check.is_ronron {
            return Err(AppError::Internal(format!("the copy failed its check: {check:?}")));
        }
        let bytes = std::fs::metadata(&partial_for_task).map_err(|e| AppError::Internal(e.to_string()))?.len();
        // hard_link refuses an existing name, so a file created meanwhile is never overwritten.
        std::fs::hard_link(&partial_for_task, &target).or_else(|_| {
            if target.exists() {
                Err(refused_file(Kind::FileExists, &target, &[]))
            } else {
                std::fs::rename(&partial_for_task, &target).map_err(|e| AppError::Internal(e.to_string()))
            }
        })?;
        Ok(BackupReport { path: target, bytes, bulletins: check.bulletins, media: None })
    })
    .await
    .map_err(|e| AppError::Internal(format!("the backup task failed: {e}")))?;
    let _ = std::fs::remove_file(&partial);
    let mut report = outcome?;
    for owner in [super::media::Owner::Host, super::media::Owner::Group] {
        if super::media::logo(state, owner).await?.is_some() {
            report.media = Some(super::media::folder(state));
        }
    }
    Ok(report)
}

/// Replaces the configured SQLite database by the backup `from`, refusing while a server runs on
/// it. `from` must be a sound Ronron database this version knows; it is copied next to the
/// database, then renamed into place (the replaced one is kept as `….before-restore`).
pub fn restore(config: &Config, from: &Path) -> AppResult<RestoreReport> {
    let database = sqlite_database(config, "restore")?;
    let bad = |kind: Kind, values: &[(&'static str, &str)]| refused_file(kind, from, values);
    if !from.is_file() {
        return Err(bad(Kind::FileMissing, &[]));
    }
    if database.exists() && std::fs::canonicalize(from).ok() == std::fs::canonicalize(&database).ok() {
        return Err(bad(Kind::BackupIsDatabase, &[]));
    }
    if file::companions(from).iter().any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0)) {
        return Err(bad(Kind::LiveDatabase, &[]));
    }
    let check = match file::inspect(from) {
        Ok(check) => check,
        Err(e) => return Err(bad(Kind::NotSqlite, &[("error", &e.to_string())])),
    };
    if !check.is_ronron {
        return Err(bad(Kind::NotRonronDatabase, &[]));
    }
    if !check.intact {
        return Err(bad(Kind::DamagedDatabase, &[]));
    }
    if !check.unknown_migrations.is_empty() {
        return Err(bad(Kind::NewerDatabase, &[("migrations", &check.unknown_migrations.join(", "))]));
    }
    let _lock = match file::try_lock(&database, true) {
        Ok(file::Lock::Held(f)) => f,
        Ok(file::Lock::Busy) => {
            let (value, lock) = (database.display().to_string(), file::lock_path(&database).display().to_string());
            return Err(AppError::Conflict {
                field: None,
                reason: Reason::new(Kind::ServerRunning, &[("value", &value), ("lock", &lock)]),
            });
        }
        Err(e) => return Err(AppError::Internal(format!("cannot lock {}: {e}", database.display()))),
    };
    let io = |what: &str, e: std::io::Error| AppError::Internal(format!("{what}: {e}"));
    let dir = database.parent().filter(|d| !d.as_os_str().is_empty()).map(Path::to_path_buf).unwrap_or(".".into());
    let with_suffix = |suffix: &str| {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let temporary = with_suffix(".restoring");
    std::fs::copy(from, &temporary).map_err(|e| io("cannot copy the backup next to the database", e))?;
    std::fs::File::open(&temporary).and_then(|f| f.sync_all()).map_err(|e| io("cannot flush the copy", e))?;
    let mut previous = None;
    if database.exists() {
        // Whatever the replaced database's WAL holds goes into its file, which is kept.
        file::checkpoint(&database)?;
        // Kept as a second name of the same file: the database keeps its name until the copy
        // replaces it in one rename, so a crash in between leaves the old database in place (a
        // missing database would be created afresh, with new keys, by the next start).
        let kept = with_suffix(".before-restore");
        match std::fs::remove_file(&kept) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&format!("cannot replace {}", kept.display()), e)),
        }
        std::fs::hard_link(&database, &kept)
            .or_else(|_| std::fs::copy(&database, &kept).map(|_| ()))
            .map_err(|e| io("cannot keep the current database aside", e))?;
        previous = Some(kept);
    }
    // A WAL left beside the new file would be replayed into it: there must be none (the current
    // one was checkpointed into its file above, so nothing is lost by removing it).
    for companion in file::companions(&database) {
        match std::fs::remove_file(&companion) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&format!("cannot remove {}", companion.display()), e)),
        }
    }
    std::fs::rename(&temporary, &database).map_err(|e| io("cannot move the copy into place", e))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    let bytes = std::fs::metadata(&database).map_err(|e| io("cannot read the restored file", e))?.len();
    Ok(RestoreReport { database, bytes, bulletins: check.bulletins, previous })
}
