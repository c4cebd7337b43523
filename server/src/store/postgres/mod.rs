//! The PostgreSQL store: any number of server instances on one database (decision 0011).
//!
//! tokio-postgres with a deadpool pool. The [`Store`] trait is synchronous (its callers run on
//! the blocking pool, beside Automerge's work), so each call is driven to completion on this
//! store's own small runtime, which also owns the connections' I/O tasks: the same code serves
//! the running server and the admin commands, which have no runtime of their own.
//!
//! Feed positions are given in commit order: a write transaction leaves its documents'
//! positions unset and, as its last statements before `COMMIT`, takes a range from the single
//! `feed_position` row (whose lock it then holds until the commit) and hands it out. The
//! argument that no reader can skip a change is in decision 0011.
//!
//! Migrations are the numbered files in `sql/postgres/`, tracked in `schema_version`, each in
//! its own transaction under an advisory lock, so instances starting together migrate once.

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolConfig, RecyclingMethod, Timeouts};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::{Store, StoreError, StoreTx, position};

mod accounts;
mod console;
mod documents;
mod erasure;
mod import;
mod media;
pub mod scratch;

pub use import::{Imported, import_sqlite};

/// The migrations in order; `MIGRATIONS[i]` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../../sql/postgres/v1.sql"),
    include_str!("../../sql/postgres/v2.sql"),
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Connections each instance keeps at most unless `serve --db-pool` says otherwise. The
/// blocking pool runs at most this many store transactions at once; the rest wait for a
/// connection.
pub const DEFAULT_POOL_SIZE: usize = crate::db::DEFAULT_DB_POOL;

/// How long a request waits for a free connection before it is answered `503 busy`.
pub const POOL_WAIT: Duration = Duration::from_secs(5);

/// The advisory lock key the migrations run under (any constant: "waystation" in ASCII).
const MIGRATION_LOCK: i64 = 0x7761_7973_7461_7469;

pub use super::is_url;

/// The PostgreSQL store of one server process.
pub struct PgStore {
    pool: Pool,
    runtime: Option<tokio::runtime::Runtime>,
    /// The URL without its password, for logs and errors.
    shown: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("db", &self.shown).finish()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // A runtime may not be dropped (which blocks) from inside another runtime's task,
        // where the server may drop its last handle to the store.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

use super::shown;

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) with at most
    /// `pool_size` connections, and migrates the database.
    pub fn open(url: &str, pool_size: usize) -> Result<PgStore, StoreError> {
        let shown = shown(url);
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Failed(format!("{shown} is not a PostgreSQL URL: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("waystation-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Failed(format!("no runtime for PostgreSQL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // No query when a connection is handed out (`Verified` cost every transaction a
                // round trip): a transaction gives its connection back only after its COMMIT or
                // ROLLBACK succeeded, and detaches it from the pool otherwise (`PgTx::release`),
                // so a pooled connection is never inside a transaction; a closed one is still
                // replaced.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = {
            let _in = runtime.enter();
            Pool::builder(manager)
                .config(PoolConfig {
                    max_size: pool_size.max(1),
                    timeouts: Timeouts {
                        wait: Some(POOL_WAIT),
                        create: Some(Duration::from_secs(10)),
                        recycle: Some(Duration::from_secs(5)),
                    },
                    ..PoolConfig::default()
                })
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .build()
                .map_err(|e| StoreError::Failed(format!("PostgreSQL pool for {shown}: {e}")))?
        };
        let store = PgStore {
            pool,
            runtime: Some(runtime),
            shown,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Runs `f` to completion on this store's runtime, counted as one wait for the database
    /// (`store::timing`): a round trip, or the wait for a pooled connection.
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        match &self.runtime {
            Some(rt) => {
                let start = std::time::Instant::now();
                let out = rt.block_on(f);
                crate::store::timing::record(start);
                out
            }
            // Only `Drop` takes the runtime.
            None => unreachable!("the runtime lives as long as the store"),
        }
    }

    fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.block_on(self.pool.get()).map_err(|e| match e {
            deadpool_postgres::PoolError::Timeout(_) => StoreError::Busy(format!(
                "no free PostgreSQL connection within {} s",
                POOL_WAIT.as_secs()
            )),
            deadpool_postgres::PoolError::Backend(e) => pg_error(e),
            other => StoreError::Failed(format!("PostgreSQL pool: {other}")),
        })
    }

    /// Brings the schema up to [`LATEST_VERSION`]; refuses a database from a newer build.
    fn migrate(&self) -> Result<(), StoreError> {
        let client = self.client()?;
        self.block_on(async {
            client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (\
                     id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
                )
                .await
                .or_else(|e| {
                    // Two instances creating it at once: the loser's error is harmless.
                    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })?;
            client
                .execute(
                    "INSERT INTO schema_version (id, version) VALUES (1, 0) \
                     ON CONFLICT (id) DO NOTHING",
                    &[],
                )
                .await?;
            Ok::<_, tokio_postgres::Error>(())
        })
        .map_err(pg_error)?;
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let version = i as i64 + 1;
            let done = self.block_on(async {
                client.batch_execute("BEGIN").await?;
                client
                    .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                    .await?;
                let row = client
                    .query_one("SELECT version FROM schema_version WHERE id = 1", &[])
                    .await?;
                let now: i64 = match row.col(0) {
                    Ok(now) => now,
                    Err(e) => {
                        client.batch_execute("ROLLBACK").await?;
                        return Ok(Err(e));
                    }
                };
                if now > LATEST_VERSION {
                    client.batch_execute("ROLLBACK").await?;
                    return Ok(Err(StoreError::SchemaTooNew {
                        found: now,
                        supported: LATEST_VERSION,
                    }));
                }
                if now >= version {
                    client.batch_execute("ROLLBACK").await?;
                    return Ok(Ok(()));
                }
                client.batch_execute(sql).await?;
                client
                    .execute(
                        "UPDATE schema_version SET version = $1 WHERE id = 1",
                        &[&version],
                    )
                    .await?;
                client.batch_execute("COMMIT").await?;
                Ok::<_, tokio_postgres::Error>(Ok(()))
            });
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(e) => {
                    let _ = self.block_on(client.batch_execute("ROLLBACK"));
                    return Err(pg_error(e));
                }
            }
        }
        // A database already at LATEST_VERSION ran no migration above: check for a newer one.
        let found: i64 = self
            .block_on(client.query_one("SELECT version FROM schema_version WHERE id = 1", &[]))
            .map_err(pg_error)?
            .col(0)?;
        if found > LATEST_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: LATEST_VERSION,
            });
        }
        Ok(())
    }

    /// A transaction on a pooled connection. Its `BEGIN` goes out with its first statement, in
    /// the same round trip (`PgTx::query`).
    fn begin(&self, sql: &'static str, write: bool) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        let client = self.client()?;
        Ok(Box::new(PgTx {
            store: self,
            client: Some(client),
            write,
            begin: Cell::new(Some(sql)),
            unplaced: RefCell::new(Vec::new()),
        }))
    }
}

impl Store for PgStore {
    fn read(&self) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        // One snapshot for every statement: the feed position and the feed agree.
        self.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", false)
    }

    fn write(&self) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        // READ COMMITTED: a writer that waited for a document's row lock (another instance
        // writing the same document) reads the version that writer committed, and goes on
        // from it instead of failing.
        self.begin("BEGIN ISOLATION LEVEL READ COMMITTED", true)
    }

    fn write_erasing(&self) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        // PostgreSQL leaves deleted tuples until VACUUM; the erasure runbook runs
        // `VACUUM (FULL)` on the affected tables (server/README.md).
        self.write()
    }

    fn finish_erasure(&self) -> Result<(), StoreError> {
        let client = self.client()?;
        self.block_on(client.batch_execute(
            "VACUUM docs, doc_changes, report_photos, photo_uploaders, photos, tokens, users, \
             user_areas",
        ))
        .map_err(pg_error)
    }

    fn describe(&self) -> String {
        self.shown.clone()
    }
}

/// A transaction on one pooled connection. Dropped unfinished, it rolls back.
pub struct PgTx<'a> {
    store: &'a PgStore,
    client: Option<deadpool_postgres::Object>,
    write: bool,
    /// The `BEGIN` not sent yet: it goes with the first statement.
    begin: Cell<Option<&'static str>>,
    /// Documents stored by this transaction, in order, that still need a feed position.
    unplaced: RefCell<Vec<String>>,
}

impl PgTx<'_> {
    fn client(&self) -> &deadpool_postgres::Object {
        // Only `commit` and `Drop` take the client out, and both consume the transaction.
        self.client
            .as_ref()
            .expect("client present until the transaction ends")
    }

    pub(super) fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let client = self.client();
        let statement = async {
            let stmt = client.prepare_cached(sql).await?;
            client.query(&stmt, params).await
        };
        self.store
            .block_on(self.after_begin(statement))
            .map_err(pg_error)
    }

    /// `statement`, the transaction's next, preceded by its `BEGIN` when that is not sent yet:
    /// both go out before either answer is read (tokio-postgres pipelines the requests of one
    /// connection in the order they are first polled), so the `BEGIN` costs no round trip of
    /// its own. The server runs them in order, so the statement runs inside the transaction.
    async fn after_begin<T>(
        &self,
        statement: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, tokio_postgres::Error> {
        match self.begin.take() {
            None => statement.await,
            Some(begin) => {
                let (begun, done) = tokio::join!(self.client().batch_execute(begin), statement);
                begun?;
                done
            }
        }
    }

    pub(super) fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    pub(super) fn query_one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Failed("a query that returns one row returned none".into()))
    }

    pub(super) fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let client = self.client();
        let statement = async {
            let stmt = client.prepare_cached(sql).await?;
            client.execute(&stmt, params).await
        };
        self.store
            .block_on(self.after_begin(statement))
            .map_err(pg_error)
    }

    /// Queues `doc_id` for a feed position at commit.
    pub(super) fn place_at_commit(&self, doc_id: &str) {
        let mut unplaced = self.unplaced.borrow_mut();
        if let Some(i) = unplaced.iter().position(|d| d == doc_id) {
            unplaced.remove(i);
        }
        unplaced.push(doc_id.to_string());
    }

    /// Whether this is a write transaction (reads of documents lock their rows).
    pub(super) fn is_write(&self) -> bool {
        self.write
    }

    fn release(&mut self) {
        if let Some(client) = self.client.take() {
            if self.begin.take().is_some() {
                // Nothing was sent: the connection is not in a transaction.
                return;
            }
            if self
                .store
                .block_on(client.batch_execute("ROLLBACK"))
                .is_err()
            {
                // Never handed out again: the pool checks only that a connection is open.
                drop(deadpool_postgres::Object::take(client));
            }
        }
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

impl StoreTx for PgTx<'_> {
    fn commit_covering(mut self: Box<Self>, listed: u64) -> Result<u64, StoreError> {
        if self.begin.get().is_some() {
            // Not one statement ran: there is no transaction to commit.
            return Ok(listed);
        }
        let unplaced = std::mem::take(&mut *self.unplaced.borrow_mut());
        let mut covered = listed;
        let client = self.client();
        if unplaced.is_empty() {
            self.store
                .block_on(client.batch_execute("COMMIT"))
                .map_err(pg_error)?;
        } else {
            // The last statement before COMMIT: from here to the commit this transaction
            // holds the feed_position row's lock, so positions are taken in commit order.
            //
            // One statement, sent together with the COMMIT: every round trip made here would be
            // made while every other writer of every instance waits for this lock, so the lock
            // is held for the server's work alone. The i-th document stored (from 1) gets
            // `last - n + i`; one stored twice keeps its later position. Should the statement
            // fail, the transaction is aborted and PostgreSQL answers the COMMIT by rolling it
            // back: nothing is stored, and the error is the statement's.
            let n = unplaced.len() as i64;
            let row = self
                .store
                .block_on(async {
                    // Prepared first (once per connection): a statement still to be parsed
                    // would let the COMMIT overtake it.
                    let stmt = client.prepare_cached(PLACE_AT_COMMIT).await?;
                    let params: [&(dyn ToSql + Sync); 2] = [&unplaced, &n];
                    let (placed, committed) = tokio::join!(
                        client.query_one(&stmt, &params),
                        client.batch_execute("COMMIT")
                    );
                    let row = placed?;
                    committed?;
                    Ok(row)
                })
                .map_err(pg_error)?;
            let last: i64 = row.col(0)?;
            // Every position up to `last - n` is committed (its writers held this lock before
            // us). If the reader was listed up to there, nothing but this transaction's own
            // documents lies between its listing and `last`.
            if position(last - n) == listed {
                covered = position(last);
            }
        }
        self.client = None;
        Ok(covered)
    }
}

/// Takes feed positions for a write transaction's documents (`$1`, in the order stored) and
/// returns the last one (decision 0011).
const PLACE_AT_COMMIT: &str = "WITH f AS (UPDATE feed_position SET last = last + $2 WHERE id = 1 \
     RETURNING last), \
     u AS (SELECT doc_id, max(ord) AS ord \
     FROM unnest($1::text[]) WITH ORDINALITY AS t(doc_id, ord) GROUP BY doc_id), \
     d AS (UPDATE docs SET seq = f.last - $2 + u.ord FROM f, u \
     WHERE docs.doc_id = u.doc_id) \
     SELECT last FROM f";

/// A PostgreSQL error as a [`StoreError`]: conflicts between concurrent transactions
/// (deadlock, serialization failure, a unique key two instances inserted at once, a lock or
/// statement timeout) are [`StoreError::Busy`], which the client retries. The message keeps
/// PostgreSQL's code and message, never its DETAIL, which can quote the row's values.
pub(super) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    let Some(db) = e.as_db_error() else {
        return StoreError::Failed(format!("PostgreSQL: {e}"));
    };
    let what = format!("PostgreSQL {}: {}", db.code().code(), db.message());
    let code = db.code();
    if *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::UNIQUE_VIOLATION
        || *code == SqlState::LOCK_NOT_AVAILABLE
        || *code == SqlState::QUERY_CANCELED
        || *code == SqlState::TOO_MANY_CONNECTIONS
    {
        StoreError::Busy(what)
    } else {
        StoreError::Failed(what)
    }
}

/// Column `idx` of `row` as a `T`, or an error naming the column: a column whose type is not
/// the one this build expects (a schema altered by hand, a database from another build) is a
/// [`StoreError::Failed`] for this request, never a panic of the serving thread. The message
/// names the column and the two types, never the value.
pub(super) fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    idx: usize,
) -> Result<T, StoreError> {
    row.try_get(idx).map_err(|e| {
        let name = row.columns().get(idx).map_or("?", |c| c.name());
        let cause = std::error::Error::source(&e).map_or_else(|| e.to_string(), |c| c.to_string());
        StoreError::Failed(format!("PostgreSQL column {name} (#{idx}): {cause}"))
    })
}

/// [`col`] as a method: `row.col(0)?` where `row.get(0)` would panic.
pub(super) trait Col {
    /// Column `idx` as a `T`, or an error naming the column.
    fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
        &'a self,
        idx: usize,
    ) -> Result<T, StoreError>;
}

impl Col for Row {
    fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
        &'a self,
        idx: usize,
    ) -> Result<T, StoreError> {
        col(self, idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            shown("postgres://ws:secret@127.0.0.1:5432/db"),
            "postgres://ws@127.0.0.1:5432/db"
        );
        assert_eq!(shown("postgres://127.0.0.1/db"), "postgres://127.0.0.1/db");
        assert!(is_url("postgresql://x/y"));
        assert!(!is_url("/var/lib/waystation/server.sqlite3"));
    }
}
