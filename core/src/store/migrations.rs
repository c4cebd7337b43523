//! Schema migrations, tracked by SQLite's `user_version`.
//!
//! Migrations are append-only: a released migration is never edited. Each one runs in its own
//! `BEGIN IMMEDIATE` transaction with its `user_version` bump, so the database is always at
//! exactly one known version.
//!
//! The runner ([`run_migrations`]) takes the list of migrations, so the sync server's SQLite
//! store runs its own schema through the same code instead of a copy of it.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// The migrations in order; `MIGRATIONS[i]` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("sql/v1.sql"),
    include_str!("sql/v2.sql"),
    include_str!("sql/v3.sql"),
    include_str!("sql/v4.sql"),
    include_str!("sql/v5.sql"),
    include_str!("sql/v6.sql"),
    include_str!("sql/v7.sql"),
    include_str!("sql/v8.sql"),
    include_str!("sql/v9.sql"),
    include_str!("sql/v10.sql"),
];

/// The schema version this build writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why [`run_migrations`] stopped. Whatever it is, the database is left at the last version
/// that was fully applied.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The file was written by a newer build: it is refused, never downgraded.
    #[error("the database has schema version {found}; this build knows up to {supported}")]
    TooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version the list of migrations reaches.
        supported: i64,
    },
    /// `user_version` holds a negative number, which no build writes.
    #[error("negative schema version {0}")]
    Negative(i64),
    /// SQLite failed, or a migration's SQL did.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Brings `conn` up to version `migrations.len()`, where `migrations[i]` brings the schema
/// from version `i` to `i + 1`. Each migration runs in its own `BEGIN IMMEDIATE` transaction
/// with its `user_version` bump, and the version is read again under the write lock, so
/// several processes opening one file at once migrate it once.
pub fn run_migrations(
    conn: &mut Connection,
    migrations: &[&str],
) -> std::result::Result<(), MigrationError> {
    let latest = migrations.len() as i64;
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest {
        return Err(MigrationError::TooNew {
            found: current,
            supported: latest,
        });
    }
    if current < 0 {
        return Err(MigrationError::Negative(current));
    }
    for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Re-check under the write lock: another process may have migrated meanwhile.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

/// Brings `conn` up to [`LATEST_VERSION`]. Refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    run_migrations(conn, MIGRATIONS).map_err(|e| match e {
        MigrationError::TooNew { found, supported } => Error::SchemaTooNew { found, supported },
        MigrationError::Negative(v) => Error::Internal(format!("negative schema version {v}")),
        MigrationError::Sqlite(e) => Error::from(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema as SQLite describes it, for comparing two databases.
    fn schema(conn: &Connection) -> Vec<(String, String, String)> {
        let mut stmt = conn
            .prepare(
                "SELECT type, name, COALESCE(sql, '') FROM sqlite_schema \
                 WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn frozen_v1_database_upgrades_to_the_fresh_schema_and_keeps_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let old_path = dir.path().join("old.sqlite3");
        {
            // A database exactly as build v1 left it, rows included. Never edit this file.
            let conn = Connection::open(&old_path).unwrap();
            conn.execute_batch(include_str!("fixtures/v1-with-data.sql"))
                .unwrap();
            let v: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, 1);
        }
        let mut old = Connection::open(&old_path).unwrap();
        migrate(&mut old).unwrap();

        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();

        assert_eq!(schema(&old), schema(&fresh));
        let v: i64 = old
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST_VERSION);
        let n: i64 = old
            .query_row("SELECT count(*) FROM stations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        // The v2 full-text index covers rows that existed before it.
        let hit: String = old
            .query_row(
                "SELECT s.id FROM station_text JOIN stations s ON s.rowid = station_text.rowid \
                 WHERE station_text MATCH '\"小寨东\"'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hit, "XA-T-0002");
        let ok: String = old
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let before = schema(&conn);
        migrate(&mut conn).unwrap();
        assert_eq!(before, schema(&conn));
    }

    #[test]
    fn newer_schema_is_refused_not_downgraded() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", LATEST_VERSION + 5)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(matches!(err, Error::SchemaTooNew { .. }));
        assert!(
            err.to_string().contains("newer than this build supports"),
            "{err}"
        );
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST_VERSION + 5);
    }

    #[test]
    fn failed_migration_leaves_previous_version() {
        // Simulate a migration that fails halfway: v1 applied, then a broken statement.
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        tx.execute_batch(MIGRATIONS[0]).unwrap();
        tx.pragma_update(None, "user_version", 1).unwrap();
        tx.commit().unwrap();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        tx.execute_batch("CREATE TABLE half(x); SELECT * FROM no_such_table;")
            .unwrap_err();
        drop(tx); // rolls back
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
        let half: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'half'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(half, 0);
    }

    #[test]
    fn the_runner_takes_any_list_of_migrations() {
        // The server's SQLite store runs its own list through this runner.
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("other.sqlite3")).unwrap();
        let list = [
            "CREATE TABLE a (x INTEGER);",
            "ALTER TABLE a ADD COLUMN y TEXT;",
        ];
        run_migrations(&mut conn, &list[..1]).unwrap();
        run_migrations(&mut conn, &list).unwrap();
        run_migrations(&mut conn, &list).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 2);
        conn.execute("INSERT INTO a (x, y) VALUES (1, 'y')", [])
            .unwrap();
        assert!(matches!(
            run_migrations(&mut conn, &list[..1]).unwrap_err(),
            MigrationError::TooNew {
                found: 2,
                supported: 1
            }
        ));
        let err = run_migrations(&mut conn, &[list[0], list[1], "NOT SQL"]).unwrap_err();
        assert!(matches!(err, MigrationError::Sqlite(_)), "{err}");
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 2, "a failed migration leaves the version it found");
    }
}
