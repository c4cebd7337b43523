//! Scratch databases for tests and benchmarks: each made with a unique name on the server that
//! `WAYSTATION_TEST_PG` names, and dropped when its guard is dropped.
//!
//! Nothing here is used by the running server. A test that asks for PostgreSQL and cannot
//! reach it fails with a message that says how to get one; it never passes without running.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_postgres::NoTls;

/// The variable naming the PostgreSQL server tests use (a URL to a database the role may
/// `CREATE DATABASE` from, e.g. `postgres://waystation:waystation@127.0.0.1:5432/postgres`).
pub const TEST_PG_VAR: &str = "WAYSTATION_TEST_PG";

/// The variable that picks the store tests run their servers on: `postgres` for a scratch
/// PostgreSQL database each (on the server [`TEST_PG_VAR`] names), anything else or nothing
/// for a SQLite file.
pub const TEST_STORE_VAR: &str = "WAYSTATION_TEST_STORE";

/// Whether this test run puts its servers on PostgreSQL ([`TEST_STORE_VAR`]).
pub fn on_postgres() -> bool {
    std::env::var(TEST_STORE_VAR).is_ok_and(|s| s == "postgres")
}

/// A fresh database for one test's server: `dir/file` (SQLite), or on PostgreSQL a scratch
/// database, returned with it so that it lives as long as the test needs it. Panics, saying
/// why, when PostgreSQL was asked for and cannot make one: the test fails, never passes
/// without running.
pub fn test_database(dir: &Path, file: &str) -> (PathBuf, Option<ScratchDb>) {
    if on_postgres() {
        let pg = ScratchDb::create("e2e").unwrap_or_else(|e| panic!("{e}"));
        (PathBuf::from(pg.url()), Some(pg))
    } else {
        (dir.join(file), None)
    }
}

/// A database made for one test, dropped with this guard.
#[derive(Debug)]
pub struct ScratchDb {
    admin_url: String,
    name: String,
    url: String,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no runtime: {e}"))
}

/// Runs `sql` on `url` with a fresh connection.
fn run(url: &str, sql: &str) -> Result<(), String> {
    runtime()?.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let task = tokio::spawn(conn);
        let r = client.batch_execute(sql).await.map_err(|e| e.to_string());
        drop(client);
        let _ = task.await;
        r
    })
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> Result<String, String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).ok_or("not a URL")?;
    let path = base[authority_end..].find('/').map(|i| authority_end + i);
    let mut out = match path {
        Some(p) => format!("{}/{name}", &base[..p]),
        None => format!("{base}/{name}"),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

impl ScratchDb {
    /// Makes a new, empty database on the server [`TEST_PG_VAR`] names; `Err` says why not
    /// (the variable is unset, or the server cannot be reached), for the test to fail with.
    pub fn create(tag: &str) -> Result<ScratchDb, String> {
        let admin_url = std::env::var(TEST_PG_VAR).map_err(|_| {
            format!(
                "{TEST_PG_VAR} is not set: PostgreSQL tests need a server, e.g. \
                 {TEST_PG_VAR}=postgres://waystation:waystation@127.0.0.1:5432/postgres \
                 (scripts/test-all.sh installs and starts one)"
            )
        })?;
        static N: AtomicU64 = AtomicU64::new(0);
        let tag: String = tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(20)
            .collect::<String>()
            .to_ascii_lowercase();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "ws_{tag}_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        run(&admin_url, &format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("PostgreSQL at {TEST_PG_VAR} cannot make a test database: {e}"))?;
        let url = with_database(&admin_url, &name)?;
        Ok(ScratchDb {
            admin_url,
            name,
            url,
        })
    }

    /// The database's URL, for `--db` and `Db::open`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Backs the database up with `pg_dump` (custom format) into `file`: the documented
    /// backup (server/README.md).
    pub fn dump_to(&self, file: &Path) -> Result<(), String> {
        let out = Command::new("pg_dump")
            .args(["-Fc", "-d", &self.url, "-f"])
            .arg(file)
            .output()
            .map_err(|e| format!("pg_dump: {e}"))?;
        if !out.status.success() {
            return Err(format!("pg_dump: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(())
    }

    /// Replaces the database by the dump in `file`, as the documented restore does: drops and
    /// recreates it (no server may be using it), then `pg_restore`.
    pub fn restore_from(&self, file: &Path) -> Result<(), String> {
        run(
            &self.admin_url,
            &format!("DROP DATABASE {} WITH (FORCE)", self.name),
        )?;
        run(&self.admin_url, &format!("CREATE DATABASE {}", self.name))?;
        let out = Command::new("pg_restore")
            .args(["-d", &self.url])
            .arg(file)
            .output()
            .map_err(|e| format!("pg_restore: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pg_restore: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    /// Runs one query returning one integer (tests' look into the database).
    pub fn query_i64(&self, sql: &str) -> Result<i64, String> {
        query_i64(&self.url, sql)
    }

    /// Runs `sql` (statements, no result) on this database: a test altering the schema.
    pub fn execute(&self, sql: &str) -> Result<(), String> {
        run(&self.url, sql)
    }
}

/// Runs `sql` (statements, no result) on the database at `url`: a test changing what the
/// server holds behind its back (a lost photo).
pub fn execute(url: &str, sql: &str) -> Result<(), String> {
    run(url, sql)
}

/// Runs `sql` with `$1` the bytes `bytes` and `$2` the text `key` on the database at `url`
/// (a test corrupting a stored blob), returning how many rows it changed.
pub fn update_bytes(url: &str, sql: &str, bytes: &[u8], key: &str) -> Result<u64, String> {
    runtime()?.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let task = tokio::spawn(conn);
        let r = client
            .execute(sql, &[&bytes, &key])
            .await
            .map_err(|e| e.to_string());
        drop(client);
        let _ = task.await;
        r
    })
}

/// Whether any live row of any table of the database at `url` holds `needle` in a text or
/// `bytea` column (an erased account's id). Unlike a SQLite file, PostgreSQL's data files are
/// the server's, not the test's to read, so this sees the rows a query can see: the old
/// versions that only `VACUUM FULL` removes are not looked at (server/README.md, Erasure).
pub fn rows_contain(url: &str, needle: &[u8]) -> Result<bool, String> {
    runtime()?.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let task = tokio::spawn(conn);
        let r = async {
            let columns = client
                .query(
                    "SELECT table_name::text, column_name::text, data_type::text                      FROM information_schema.columns WHERE table_schema = 'public'                      AND data_type IN ('bytea', 'text', 'character varying')",
                    &[],
                )
                .await?;
            for c in &columns {
                let (table, column, ty): (String, String, String) =
                    (c.try_get(0)?, c.try_get(1)?, c.try_get(2)?);
                let value = if ty == "bytea" {
                    format!("\"{column}\"")
                } else {
                    format!("convert_to(\"{column}\", 'UTF8')")
                };
                let found: bool = client
                    .query_one(
                        &format!(
                            "SELECT EXISTS (SELECT 1 FROM \"{table}\" \
                             WHERE position($1::bytea IN {value}) > 0)"
                        ),
                        &[&needle],
                    )
                    .await?
                    .try_get(0)?;
                if found {
                    return Ok(true);
                }
            }
            Ok::<_, tokio_postgres::Error>(false)
        }
        .await
        .map_err(|e| e.to_string());
        drop(client);
        let _ = task.await;
        r
    })
}

/// Runs one query returning one integer on the database at `url`.
pub fn query_i64(url: &str, sql: &str) -> Result<i64, String> {
    runtime()?.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let task = tokio::spawn(conn);
        let r = client
            .query_one(sql, &[])
            .await
            .map_err(|e| e.to_string())
            .and_then(|row| row.try_get::<_, i64>(0).map_err(|e| e.to_string()));
        drop(client);
        let _ = task.await;
        r
    })
}

/// Runs one query with one text parameter on the database at `url`, returning the first
/// column of its first row as bytes, if any.
pub fn query_bytes(url: &str, sql: &str, param: &str) -> Result<Option<Vec<u8>>, String> {
    runtime()?.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let task = tokio::spawn(conn);
        let r = client
            .query_opt(sql, &[&param])
            .await
            .map_err(|e| e.to_string())
            .and_then(|row| {
                row.map(|r| r.try_get::<_, Vec<u8>>(0).map_err(|e| e.to_string()))
                    .transpose()
            });
        drop(client);
        let _ = task.await;
        r
    })
}

/// The feed position's row lock, held by a transaction of its own until [`FeedLock::release`]:
/// on PostgreSQL, what another process holding SQLite's write lock is on SQLite. Writers wait
/// for it at their commit; readers never do.
pub struct FeedLock {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
}

impl std::fmt::Debug for FeedLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeedLock")
    }
}

/// Takes the feed position's row lock on the database at `url`.
pub fn hold_feed_lock(url: &str) -> Result<FeedLock, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("no runtime: {e}"))?;
    let client = runtime.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        client
            .batch_execute("BEGIN; SELECT last FROM feed_position WHERE id = 1 FOR UPDATE")
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(client)
    })?;
    Ok(FeedLock { runtime, client })
}

impl FeedLock {
    /// Ends the transaction, releasing the lock.
    pub fn release(self) -> Result<(), String> {
        let r = self
            .runtime
            .block_on(self.client.batch_execute("COMMIT"))
            .map_err(|e| e.to_string());
        self.runtime.shutdown_background();
        r
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        // WITH (FORCE) ends the connections a pool may still hold.
        if let Err(e) = run(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        ) {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_another_database() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres", "x").unwrap(),
            "postgres://u:p@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x").unwrap(),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h", "x").unwrap(),
            "postgres://h/x"
        );
    }
}
