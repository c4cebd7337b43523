//! Moving a SQLite deployment to PostgreSQL (`waystation-server db import-sqlite`): every row,
//! with its feed position and the store's generation, so devices sync on as if nothing
//! happened: their cursors stay valid, and nothing they hold is sent again.

use rusqlite::types::Value;
use std::path::Path;
use tokio_postgres::types::{ToSql, Type};

use super::{Col, PgStore, pg_error};
use crate::store::sqlite::{connect, migrate};
use crate::store::{Store, StoreError};

/// What [`import_sqlite`] copied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Rows copied, all tables together.
    pub rows: u64,
    /// The feed position the PostgreSQL store continues from.
    pub feed_position: u64,
}

/// The tables in an order their foreign keys allow, with their columns (the same on both
/// stores), and the columns that are integers on SQLite but booleans nowhere: every column is
/// copied as what SQLite holds (integer, text, blob or NULL).
const TABLES: &[(&str, &[&str])] = &[
    (
        "users",
        &["user_id", "name", "role", "created_at", "scope_epoch"],
    ),
    ("user_areas", &["user_id", "district"]),
    (
        "tokens",
        &[
            "token_hash",
            "user_id",
            "created_at",
            "expires_at",
            "revoked_at",
        ],
    ),
    (
        "docs",
        &[
            "doc_id",
            "kind",
            "owner",
            "district",
            "report_category",
            "snapshot",
            "heads",
            "change_count",
            "seq",
            "updated_at",
        ],
    ),
    ("doc_changes", &["doc_id", "n", "change"]),
    ("report_photos", &["report_id", "sha256"]),
    (
        "photos",
        &["sha256", "bytes", "mime", "size", "uploader", "created_at"],
    ),
    ("photo_uploaders", &["sha256", "user_id", "uploaded_at"]),
    (
        "packs",
        &[
            "kind",
            "bytes",
            "etag",
            "pack_id",
            "version",
            "published_at",
        ],
    ),
    (
        "training_images",
        &["sha256", "bytes", "mime", "size", "created_at"],
    ),
    ("replaced_docs", &["doc_id", "base", "replaced_at"]),
    ("purged_docs", &["doc_id", "purged_at"]),
];

/// One SQLite value as a PostgreSQL parameter of type `ty` (a NULL takes the column's type).
fn param(v: &Value, ty: &Type) -> Box<dyn ToSql + Sync + Send> {
    match v {
        Value::Null if *ty == Type::INT8 => Box::new(Option::<i64>::None),
        Value::Null if *ty == Type::BYTEA => Box::new(Option::<Vec<u8>>::None),
        Value::Null => Box::new(Option::<String>::None),
        Value::Integer(i) => Box::new(*i),
        Value::Real(f) => Box::new(*f),
        Value::Text(s) => Box::new(s.clone()),
        Value::Blob(b) => Box::new(b.clone()),
    }
}

/// Copies the SQLite database at `sqlite` into the PostgreSQL database at `url`, which must
/// hold no account and no document yet, in one PostgreSQL transaction. The SQLite file is only
/// read; stop the servers that write it first.
pub fn import_sqlite(sqlite: &Path, url: &str) -> Result<Imported, StoreError> {
    if !sqlite.exists() {
        return Err(StoreError::Failed(format!(
            "no SQLite database at {}",
            sqlite.display()
        )));
    }
    let mut from = connect(sqlite)?;
    migrate(&mut from)?;
    let store = PgStore::open(url, 2)?;
    let client = store.client()?;
    let mut done = Imported::default();
    let result: Result<(), StoreError> = (|| {
        store
            .block_on(client.batch_execute("BEGIN"))
            .map_err(pg_error)?;
        let used: i64 = store
            .block_on(client.query_one(
                "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM docs)",
                &[],
            ))
            .map_err(pg_error)?
            .col(0)?;
        if used > 0 {
            return Err(StoreError::Failed(format!(
                "{} already holds accounts or documents; import into an empty database",
                store.describe()
            )));
        }
        for (table, columns) in TABLES {
            let list = columns.join(", ");
            let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
            let insert = format!(
                "INSERT INTO {table} ({list}) VALUES ({})",
                placeholders.join(", ")
            );
            let stmt = store
                .block_on(client.prepare_cached(&insert))
                .map_err(pg_error)?;
            let mut select = from.prepare(&format!("SELECT {list} FROM {table}"))?;
            let mut rows = select.query([])?;
            while let Some(row) = rows.next()? {
                let values: Vec<Value> = (0..columns.len())
                    .map(|i| row.get::<_, Value>(i))
                    .collect::<rusqlite::Result<_>>()?;
                let params: Vec<Box<dyn ToSql + Sync + Send>> = values
                    .iter()
                    .zip(stmt.params())
                    .map(|(v, ty)| param(v, ty))
                    .collect();
                let refs: Vec<&(dyn ToSql + Sync)> = params
                    .iter()
                    .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                    .collect();
                store
                    .block_on(client.execute(&stmt, &refs))
                    .map_err(pg_error)?;
                done.rows += 1;
            }
        }
        let (next_seq, generation): (i64, String) = from.query_row(
            "SELECT next_seq, generation FROM meta WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let last = (next_seq - 1).max(0);
        store
            .block_on(client.execute("UPDATE feed_position SET last = $1 WHERE id = 1", &[&last]))
            .map_err(pg_error)?;
        store
            .block_on(client.execute(
                "UPDATE meta SET generation = $1 WHERE id = 1",
                &[&generation],
            ))
            .map_err(pg_error)?;
        done.feed_position = last as u64;
        store
            .block_on(client.batch_execute("COMMIT"))
            .map_err(pg_error)?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = store.block_on(client.batch_execute("ROLLBACK"));
        return Err(e);
    }
    Ok(done)
}
