//! Schema migrations, tracked by SQLite's `user_version`.
//!
//! Migrations are append-only: a released migration is never edited. Each one runs in its own
//! `BEGIN IMMEDIATE` transaction with its `user_version` bump, so the database is always at
//! exactly one known version.

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

/// Brings `conn` up to [`LATEST_VERSION`]. Refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST_VERSION {
        return Err(Error::SchemaTooNew {
            found: current,
            supported: LATEST_VERSION,
        });
    }
    if current < 0 {
        return Err(Error::Internal(format!(
            "negative schema version {current}"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
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
}
