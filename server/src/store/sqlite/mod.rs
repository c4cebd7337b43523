//! The SQLite store: one database file, opened in WAL mode by any number of server processes
//! at once.
//!
//! Nothing about a client is kept in memory between requests: accounts, documents, the feed
//! position, photos and packs are all rows here, so several processes (or machines sharing a
//! local disk, never a network file system) can serve one file. Every write runs in a
//! `BEGIN IMMEDIATE` transaction, so writers queue on SQLite's lock instead of failing half
//! way; readers see the last committed state and never wait for a writer. SQLite has one
//! writer at a time, so the feed positions a write transaction takes (`meta.next_seq`) are
//! in commit order (decision 0011).
//!
//! The schema is numbered by `user_version` like the device's store, and migrated by the same
//! runner (`waystation_core::store::run_migrations`): each migration in `sql/` runs in its own
//! transaction with its version bump. A database written by a newer build is refused.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::{Store, StoreError, StoreTx};

mod accounts;
mod console;
mod documents;
mod erasure;
mod gate;
mod media;

pub use gate::{DEFAULT_WRITE_QUEUE, WriteQueue};
use gate::{WriteGate, WriteGuard};

/// The migrations in order; `MIGRATIONS[i]` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../../sql/v1.sql"),
    include_str!("../../sql/v2.sql"),
    include_str!("../../sql/v3.sql"),
    include_str!("../../sql/v4.sql"),
    include_str!("../../sql/v5.sql"),
    include_str!("../../sql/v6.sql"),
    include_str!("../../sql/v7.sql"),
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
pub fn connect(path: &Path) -> Result<Connection, StoreError> {
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
        return Err(StoreError::Failed(format!(
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
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    use waystation_core::store::{MigrationError, run_migrations};
    run_migrations(conn, MIGRATIONS).map_err(|e| match e {
        MigrationError::TooNew { found, supported } => {
            StoreError::SchemaTooNew { found, supported }
        }
        MigrationError::Sqlite(e) => StoreError::from(e),
        other => StoreError::Failed(other.to_string()),
    })
}

/// The SQLite store of one server process: a small pool of connections, and a gate that
/// queues this process's writers in order (writers of other processes queue on SQLite's
/// lock).
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
    gate: WriteGate,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and migrates it.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = connect(path)?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            pool: Mutex::new(vec![conn]),
            gate: WriteGate::new(DEFAULT_WRITE_QUEUE),
        })
    }

    /// This store with writers queued as `queue` says.
    pub fn with_write_queue(self, queue: WriteQueue) -> SqliteStore {
        SqliteStore {
            gate: WriteGate::new(queue),
            ..self
        }
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A connection from the pool, or a new one.
    fn conn(&self) -> Result<Connection, StoreError> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match pooled {
            Some(c) => Ok(c),
            None => connect(&self.path),
        }
    }

    /// Back to the pool, unless it was left inside a transaction or the pool is full.
    fn give_back(&self, conn: Connection) {
        if conn.is_autocommit() {
            let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < POOL_SIZE {
                pool.push(conn);
            }
        }
    }

    fn begin<'a>(
        &'a self,
        sql: &'static str,
        gate: Option<WriteGuard<'a>>,
        secure_delete: bool,
    ) -> Result<Box<dyn StoreTx + 'a>, StoreError> {
        let conn = self.conn()?;
        if secure_delete {
            conn.pragma_update(None, "secure_delete", true)?;
        }
        conn.execute_batch(sql)?;
        Ok(Box::new(SqliteTx {
            store: self,
            conn: Some(conn),
            _gate: gate,
            secure_delete,
        }))
    }
}

impl Store for SqliteStore {
    fn read(&self) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        // Deferred: a read snapshot from the first read on, so the feed and the documents
        // agree.
        self.begin("BEGIN DEFERRED", None, false)
    }

    fn write(&self) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        let gate = self.gate.enter().map_err(StoreError::Queue)?;
        self.begin("BEGIN IMMEDIATE", Some(gate), false)
    }

    fn write_erasing(&self) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        let gate = self.gate.enter().map_err(StoreError::Queue)?;
        self.begin("BEGIN IMMEDIATE", Some(gate), true)
    }

    fn finish_erasure(&self) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        self.give_back(conn);
        Ok(())
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// A transaction on one pooled connection, begun and ended with plain SQL so that it can own
/// its connection. Dropped unfinished, it rolls back.
pub struct SqliteTx<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
    _gate: Option<WriteGuard<'a>>,
    secure_delete: bool,
}

impl SqliteTx<'_> {
    fn conn(&self) -> &Connection {
        // Only `commit` and `Drop` take the connection out, and both consume the transaction.
        self.conn
            .as_ref()
            .expect("connection present until the transaction ends")
    }

    fn release(&mut self) {
        if let Some(conn) = self.conn.take() {
            if !conn.is_autocommit() {
                // Nothing to do if it fails: the connection is then not reused.
                let _ = conn.execute_batch("ROLLBACK");
            }
            if self.secure_delete {
                // Pooled connections delete the ordinary way.
                if conn.pragma_update(None, "secure_delete", false).is_err() {
                    return;
                }
            }
            self.store.give_back(conn);
        }
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

impl StoreTx for SqliteTx<'_> {
    fn commit_covering(mut self: Box<Self>, listed: u64) -> Result<u64, StoreError> {
        // One writer at a time: a position read inside this transaction already covers its
        // own documents, and no other writer's can come between.
        self.conn().execute_batch("COMMIT")?;
        self.release();
        Ok(listed)
    }
}
