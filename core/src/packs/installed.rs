//! What is installed: the `packs` table's rows as the app and the CLI list them.

use rusqlite::{Connection, Row};
use serde::Serialize;

use crate::error::Result;

/// An installed pack, as recorded in the store.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct InstalledPack {
    /// Pack id.
    pub pack_id: String,
    /// `stations` or `training`.
    pub kind: String,
    /// Installed version.
    pub version: u64,
    /// Publisher named in the pack.
    pub publisher: String,
    /// Key that signed it.
    pub key_id: String,
    /// When the publisher built it.
    pub created: String,
    /// SHA-256 of the payload (the content, whoever signed it).
    pub sha256: String,
    /// When this device installed it.
    pub installed_at: String,
    /// Whether positions are synthetic.
    pub synthetic: bool,
    /// The pack's notice text.
    pub notice: Option<String>,
}

fn installed_pack(row: &Row<'_>) -> rusqlite::Result<InstalledPack> {
    Ok(InstalledPack {
        pack_id: row.get(0)?,
        kind: row.get(1)?,
        version: row.get::<_, i64>(2)? as u64,
        publisher: row.get(3)?,
        key_id: row.get(4)?,
        created: row.get(5)?,
        sha256: row.get(6)?,
        installed_at: row.get(7)?,
        synthetic: row.get(8)?,
        notice: row.get(9)?,
    })
}

const PACK_COLUMNS: &str = "pack_id, kind, version, publisher, key_id, created_at, sha256, installed_at, synthetic, notice";

/// Every installed pack.
pub fn installed_packs(conn: &Connection) -> Result<Vec<InstalledPack>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PACK_COLUMNS} FROM packs ORDER BY pack_id"
    ))?;
    let rows = stmt.query_map([], installed_pack)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
