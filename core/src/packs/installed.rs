//! What is installed: the `packs` table's rows as the app and the CLI list them, and what a
//! pack fetch installed ([`PackFetch`]).

use rusqlite::{Connection, OptionalExtension, Row, params};
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
    pub version: i64,
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
        version: row.get(2)?,
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

/// The ETag of the last `kind` pack (`stations` or `training`) fetched from the server, for
/// a conditional request.
pub(crate) fn etag(conn: &Connection, kind: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT etag FROM pack_etags WHERE kind = ?1", [kind], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Records the ETag of the `kind` pack just fetched and installed.
pub(crate) fn set_etag(conn: &Connection, kind: &str, etag: &str) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO pack_etags (kind, etag) VALUES (?1, ?2)",
        params![kind, etag],
    )?;
    Ok(())
}

/// What a pack fetch (`ws.packs().fetch(..)`) installed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PackFetch {
    /// The station pack version now installed, when a new one was fetched and installed
    /// (`None` when the server's pack is the one installed already).
    pub stations: Option<i64>,
    /// The training pack version now installed, when a new one was fetched and installed.
    pub training: Option<i64>,
    /// Lesson images downloaded and stored.
    pub training_images_fetched: i32,
    /// Why each lesson image still missing after this fetch could not be stored, one per
    /// image: not on the server, wrong hash, too large, not an image, or not of the media
    /// type its lesson declares. The next fetch asks for them again.
    pub training_image_problems: Vec<String>,
}
