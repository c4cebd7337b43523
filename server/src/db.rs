//! The server's SQLite store: one database file, opened in WAL mode by any number of server
//! processes at once.
//!
//! Nothing about a client is kept in memory between requests: accounts, documents, the feed
//! sequence, photos and packs are all rows here, so several processes (or machines sharing a
//! local disk, never a network file system) can serve one file. Every write runs in a
//! `BEGIN IMMEDIATE` transaction, so writers queue on SQLite's lock instead of failing half
//! way; readers see the last committed state and never wait for a writer.
//!
//! The schema is numbered by `user_version` like the device's store: each migration in
//! `sql/` runs in its own transaction with its version bump. A database written by a newer
//! build is refused.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{AdminError, ApiError};
use crate::quota::Quotas;

mod gate;

use gate::WriteGate;
pub use gate::{DEFAULT_WRITE_QUEUE, WriteGuard, WriteQueue};

/// The migrations in order; `MIGRATIONS[i]` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("sql/v1.sql"),
    include_str!("sql/v2.sql"),
    include_str!("sql/v3.sql"),
    include_str!("sql/v4.sql"),
    include_str!("sql/v5.sql"),
    include_str!("sql/v6.sql"),
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a statement waits for another process's write lock before giving up (answered
/// as `503 busy`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections kept open for reuse; more are opened under load and closed after.
const POOL_SIZE: usize = 16;

/// Opens a connection to `path` and configures it (WAL, busy timeout, foreign keys, full
/// fsync on commit).
pub fn connect(path: &Path) -> Result<Connection, AdminError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(AdminError::Other(format!(
            "could not enable WAL on {} (journal_mode = {mode})",
            path.display()
        )));
    }
    // A sync the server acknowledged lets the device mark its document clean: the write
    // must survive a power cut, not just a crash of the process.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// Brings `conn` up to [`LATEST_VERSION`] with the core's migration runner (one runner for the
/// device's store and the server's). Refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<(), AdminError> {
    use waystation_core::store::{MigrationError, run_migrations};
    run_migrations(conn, MIGRATIONS).map_err(|e| match e {
        MigrationError::TooNew { found, supported } => {
            AdminError::SchemaTooNew { found, supported }
        }
        MigrationError::Sqlite(e) => AdminError::Database(e),
        other => AdminError::Other(other.to_string()),
    })
}

/// The database of one server process: a small pool of connections, a gate that queues
/// this process's writers in order (writers of other processes queue on SQLite's lock), and
/// the quotas this process enforces on what an account stores.
#[derive(Debug)]
pub struct Db {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
    gate: WriteGate,
    quotas: Quotas,
}

/// A pooled connection, returned to the pool when dropped.
pub struct PooledConn<'a> {
    db: &'a Db,
    conn: Option<Connection>,
}

impl std::ops::Deref for PooledConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only `Drop` takes the connection out.
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl std::ops::DerefMut for PooledConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl Drop for PooledConn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A connection left inside a transaction (a panic mid-request) is not reused.
            if conn.is_autocommit() {
                let mut pool = self.db.pool.lock().unwrap_or_else(|p| p.into_inner());
                if pool.len() < POOL_SIZE {
                    pool.push(conn);
                }
            }
        }
    }
}

impl Db {
    /// Opens (creating if needed) the database file and migrates it.
    pub fn open(path: &Path) -> Result<Db, AdminError> {
        let mut conn = connect(path)?;
        migrate(&mut conn)?;
        Ok(Db {
            path: path.to_path_buf(),
            pool: Mutex::new(vec![conn]),
            gate: WriteGate::new(DEFAULT_WRITE_QUEUE),
            quotas: Quotas::default(),
        })
    }

    /// This database with writers queued as `queue` says.
    pub fn with_write_queue(self, queue: WriteQueue) -> Db {
        Db {
            gate: WriteGate::new(queue),
            ..self
        }
    }

    /// This database with `quotas` on what each account stores.
    pub fn with_quotas(self, quotas: Quotas) -> Db {
        Db { quotas, ..self }
    }

    /// The quotas on what each account stores.
    pub fn quotas(&self) -> &Quotas {
        &self.quotas
    }

    /// How writers queue.
    pub fn write_queue(&self) -> WriteQueue {
        self.gate.queue()
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A connection from the pool, or a new one.
    pub fn conn(&self) -> Result<PooledConn<'_>, rusqlite::Error> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => connect(&self.path).map_err(|e| match e {
                AdminError::Database(e) => e,
                other => rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(other.to_string()),
                ),
            })?,
        };
        Ok(PooledConn {
            db: self,
            conn: Some(conn),
        })
    }

    /// Held by this process's writers for the length of one write transaction, so they take
    /// SQLite's write lock one after the other, in arrival order, instead of spinning on the
    /// busy handler. `503 busy` (with `Retry-After`) when the queue is full or the turn does
    /// not come within the queue's wait ([`WriteQueue`]).
    pub fn write_gate(&self) -> Result<WriteGuard<'_>, ApiError> {
        self.gate.enter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite3");
        let db = Db::open(&path).unwrap();
        drop(db);
        let mut conn = connect(&path).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST_VERSION);
        let next: i64 = conn
            .query_row("SELECT next_seq FROM meta", [], |r| r.get(0))
            .unwrap();
        assert_eq!(next, 1);
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(
            Db::open(&path).unwrap_err(),
            AdminError::SchemaTooNew { .. }
        ));
    }

    #[test]
    fn a_v1_database_is_upgraded_and_keeps_its_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite3");
        let mut conn = connect(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO users (user_id, role, created_at) VALUES ('sup-1', 'supervisor', 'x')",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let (version, epoch): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT user_version FROM pragma_user_version), scope_epoch \
                 FROM users WHERE user_id = 'sup-1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((version, epoch), (LATEST_VERSION, 0));
    }

    #[test]
    fn pooled_connections_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("s.sqlite3")).unwrap();
        {
            let a = db.conn().unwrap();
            let _b = db.conn().unwrap();
            let mode: String = a
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
        }
        assert_eq!(db.pool.lock().unwrap().len(), 2);
    }
}
