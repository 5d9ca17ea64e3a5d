//! SQLite files as a whole: a consistent copy of a live database (`VACUUM INTO`), the checks that
//! a file is a sound Ronron database, a checkpoint before a file is replaced, and the lock file a
//! running server holds next to its database.

use super::{DbConnection, DbError, DbResult, SQLITE_MIGRATIONS};
use diesel::migration::MigrationSource;
use diesel::{connection::SimpleConnection, prelude::*, sql_types::Text, sqlite::SqliteConnection};
use std::{
    fs::File,
    path::{Path, PathBuf},
};

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    value: String,
}

/// Writes a consistent copy of the database behind `conn` to `target` (which must not exist), while
/// others go on reading and writing: `VACUUM INTO` reads one snapshot.
pub fn vacuum_into(conn: &mut DbConnection, target: &Path) -> DbResult<()> {
    let DbConnection::Sqlite(c) = conn else {
        return Err(DbError::Connect("VACUUM INTO is for SQLite databases".into()));
    };
    let path = target.to_str().ok_or_else(|| DbError::Connect(format!("{} is not UTF-8", target.display())))?;
    diesel::sql_query("VACUUM INTO ?").bind::<Text, _>(path).execute(c)?;
    Ok(())
}

/// What [`inspect`] found in an SQLite file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// `PRAGMA integrity_check` said `ok`.
    pub intact: bool,
    /// The file has Ronron's tables (its migrations table and its keys).
    pub is_ronron: bool,
    /// Migrations applied in the file that this version of Ronron does not know (a newer Ronron).
    pub unknown_migrations: Vec<String>,
    pub bulletins: i64,
}

/// Opens `path` (which must exist: SQLite would create it) and checks it, writing nothing.
pub fn inspect(path: &Path) -> DbResult<FileCheck> {
    if !path.is_file() {
        return Err(DbError::Connect(format!("{} does not exist", path.display())));
    }
    let mut c =
        SqliteConnection::establish(&path.display().to_string()).map_err(|e| DbError::Connect(e.to_string()))?;
    c.batch_execute("PRAGMA busy_timeout = 5000;")?;
    let integrity: Vec<TextRow> =
        match diesel::sql_query("SELECT integrity_check AS value FROM pragma_integrity_check").load(&mut c) {
            Ok(rows) => rows,
            // Not a database at all ("file is not a database").
            Err(diesel::result::Error::DatabaseError(_, info)) => {
                return Err(DbError::Corrupt(format!("{}: {}", path.display(), info.message())))
            }
            Err(e) => return Err(e.into()),
        };
    let intact = integrity.len() == 1 && integrity[0].value == "ok";
    let tables: Vec<TextRow> =
        diesel::sql_query("SELECT name AS value FROM sqlite_master WHERE type = 'table'").load(&mut c)?;
    let has = |name: &str| tables.iter().any(|t| t.value == name);
    let is_ronron = has("__diesel_schema_migrations") && has("local_keys") && has("bulletins");
    let mut unknown_migrations = Vec::new();
    let mut bulletins = 0;
    if is_ronron {
        let known: Vec<String> = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
            .map_err(|e| DbError::Migration(e.to_string()))?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        let applied: Vec<TextRow> =
            diesel::sql_query("SELECT version AS value FROM __diesel_schema_migrations").load(&mut c)?;
        unknown_migrations = applied.into_iter().map(|r| r.value).filter(|v| !known.contains(v)).collect();
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        bulletins = diesel::sql_query("SELECT COUNT(*) AS n FROM bulletins WHERE deleted_at IS NULL")
            .get_result::<Count>(&mut c)?
            .n;
    }
    Ok(FileCheck { intact, is_ronron, unknown_migrations, bulletins })
}

/// Moves what the WAL of the database at `path` holds into the file itself and empties the WAL,
/// so the file can be moved without its `-wal` and `-shm` companions.
pub fn checkpoint(path: &Path) -> DbResult<()> {
    let mut c =
        SqliteConnection::establish(&path.display().to_string()).map_err(|e| DbError::Connect(e.to_string()))?;
    c.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

/// `path-wal` and `path-shm`, SQLite's companions of a database in WAL mode.
pub fn companions(path: &Path) -> [PathBuf; 2] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [with("-wal"), with("-shm")]
}

/// The lock file next to an SQLite database: every running server holds a shared lock on it for
/// its lifetime; a restore takes it exclusively (so it refuses while a server runs, and a server
/// refuses to start during a restore). The operating system drops a lock when its process dies.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

pub enum Lock {
    /// Held until dropped.
    Held(File),
    /// Someone else holds it in a conflicting way.
    Busy,
}

/// Takes the lock file of `database` (shared or exclusive) without waiting.
pub fn try_lock(database: &Path, exclusive: bool) -> std::io::Result<Lock> {
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = File::options().create(true).truncate(false).write(true).open(lock_path(database))?;
    let taken = if exclusive { file.try_lock() } else { file.try_lock_shared() };
    match taken {
        Ok(()) => Ok(Lock::Held(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(Lock::Busy),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_share_the_lock_and_a_restore_needs_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("data").join("ronron.db");
        let held = |lock: std::io::Result<Lock>| matches!(lock.unwrap(), Lock::Held(_));
        let one = try_lock(&database, false).unwrap();
        let two = try_lock(&database, false).unwrap();
        assert!(matches!((&one, &two), (Lock::Held(_), Lock::Held(_))), "two servers on one database");
        assert!(!held(try_lock(&database, true)), "a restore waits for no server");
        drop((one, two));
        let restore = try_lock(&database, true).unwrap();
        assert!(matches!(restore, Lock::Held(_)));
        assert!(!held(try_lock(&database, false)), "no server starts during a restore");
        drop(restore);
        assert!(held(try_lock(&database, false)));
        assert!(lock_path(&database).ends_with("ronron.db.lock"));
    }
}
