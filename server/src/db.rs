//! The database of one server process: a [`Store`] (SQLite by default), and the quotas this
//! process enforces on what an account stores.
//!
//! Everything the server knows is in the store, so several processes can serve one database.
//! Protocol, policy and HTTP code reach the store only through [`Db::read`] and [`Db::write`]
//! and the [`StoreTx`] they hand out; none of it knows which engine answers.

use std::path::Path;

use crate::error::AdminError;
use crate::quota::Quotas;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError, StoreTx};

pub use crate::store::sqlite::{DEFAULT_WRITE_QUEUE, WriteQueue};

/// Connections a process keeps at most to a PostgreSQL database (`serve --db-pool`): 16, a
/// few per core of a typical instance. Each store transaction holds one for its whole length
/// (the Automerge work included), so requests beyond it wait for a free one (up to 5 s, then
/// `503 busy`). SQLite ignores it.
pub const DEFAULT_DB_POOL: usize = 16;

/// A store and this process's quotas.
#[derive(Debug)]
pub struct Db {
    store: Box<dyn Store>,
    quotas: Quotas,
}

impl Db {
    /// Opens the database `db` names and migrates it: a `postgres://` (or `postgresql://`)
    /// URL is a PostgreSQL database; anything else is the path of a SQLite file, created if
    /// needed.
    pub fn open(db: &Path) -> Result<Db, AdminError> {
        Db::open_with(db, DEFAULT_WRITE_QUEUE, DEFAULT_DB_POOL)
    }

    /// [`Db::open`], with this process's SQLite writers queued as `queue` says (PostgreSQL
    /// queues writers on its pool and its row locks instead), and at most `pool` connections
    /// to a PostgreSQL database.
    pub fn open_with(db: &Path, queue: WriteQueue, pool: usize) -> Result<Db, AdminError> {
        #[cfg(not(feature = "postgres"))]
        let _ = pool; // only PostgreSQL has a pool
        #[cfg(feature = "postgres")]
        if let Some(url) = db.to_str().filter(|d| crate::store::postgres::is_url(d)) {
            let store = crate::store::postgres::PgStore::open(url, pool)?;
            return Ok(Db::new(Box::new(store)));
        }
        if db.to_str().is_some_and(crate::store::is_url) {
            return Err(AdminError::Invalid(format!(
                "{} is a PostgreSQL URL, and this build has no PostgreSQL store (cargo feature \
                 'postgres')",
                crate::store::shown(&db.to_string_lossy())
            )));
        }
        let store = SqliteStore::open(db)?.with_write_queue(queue);
        Ok(Db::new(Box::new(store)))
    }

    /// A process's view of `store`, with the default quotas.
    pub fn new(store: Box<dyn Store>) -> Db {
        Db {
            store,
            quotas: Quotas::default(),
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

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// A read transaction: one consistent snapshot.
    pub fn read(&self) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        self.store.read()
    }

    /// A write transaction. `503 busy` (with `Retry-After`) when this process's queue of
    /// writers is full or the turn does not come in time.
    pub fn write(&self) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        self.store.write()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::{LATEST_VERSION, MIGRATIONS, connect, migrate};

    #[test]
    fn migrating_twice_is_a_no_op_and_newer_schemas_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.sqlite3");
        let db = Db::open(&path).unwrap();
        assert_eq!(db.read().unwrap().feed_position().unwrap(), 0);
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
    fn pooled_connections_are_reused_and_transactions_roll_back_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("s.sqlite3")).unwrap();
        {
            let a = db.read().unwrap();
            let _b = db.read().unwrap();
            assert_eq!(a.user_ids().unwrap(), Vec::<String>::new());
        }
        {
            let w = db.write().unwrap();
            w.insert_user("rider-1", "rider", "x", &[]).unwrap();
            // Dropped without commit.
        }
        assert!(db.read().unwrap().user("rider-1").unwrap().is_none());
        let w = db.write().unwrap();
        w.insert_user("rider-1", "rider", "x", &[]).unwrap();
        w.commit().unwrap();
        assert!(db.read().unwrap().user("rider-1").unwrap().is_some());
    }
}
