//! Red stations: the signed directory, its import, and the offline finder.
//!
//! The directory arrives as a signed station pack ([`pack`]), is imported atomically into
//! SQLite ([`import_pack`]), and is then served from an in-memory spatial index
//! ([`StationIndex`]) rebuilt from SQLite at open and after every import. Text search runs on
//! SQLite's FTS5 trigram index, which finds Chinese substrings.
//!
//! The API is one handle, [`Stations`] (`ws.stations()`, in `handle.rs`): nearest, within a
//! radius, by id, text search. A pack is installed through `ws.packs().import_stations(..)`,
//! which calls [`import_pack`] and then rebuilds the index.

mod handle;
pub mod hours;
mod index;
#[cfg(test)]
mod load_tests;
mod model;
pub mod pack;
mod service;

pub use handle::Stations;
pub use hours::{Hours, HoursState, OpenStatus};
pub use index::StationIndex;
pub use model::{
    CalendarDate, MAX_RESULTS, NearestQuery, PackId, Station, StationFilter, StationHit,
    WithinQuery,
};
pub use pack::{STATION_PACK_TYPE, StationPack};
pub use service::{Service, ServiceInfo, ServiceSet};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, Row, TransactionBehavior, params};
use serde::Serialize;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::geo::{Datum, Position};
use crate::packs::{self, TrustedKey};

/// What a station pack import did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ImportOutcome {
    /// Pack id.
    pub pack_id: String,
    /// The version now installed.
    pub version: i64,
    /// The version it replaced, if any.
    pub previous_version: Option<i64>,
    /// Stations in the pack (bounded far below `i32::MAX` by the pack size limit).
    pub stations: i32,
    /// Stations whose opening hours did not parse (they show as Unknown).
    pub unparseable_hours: i32,
    /// True when this exact pack was already installed; nothing changed.
    pub unchanged: bool,
}

/// Verifies and installs a signed station pack in one transaction. On any refusal or failure
/// the previously installed data is untouched.
pub fn import_pack(
    conn: &mut Connection,
    envelope: &[u8],
    trusted: &[TrustedKey],
    max_bytes: usize,
    now: DateTime<Utc>,
) -> Result<ImportOutcome> {
    let verified = packs::open(envelope, STATION_PACK_TYPE, trusted, max_bytes)?;
    let pack = StationPack::from_json(&verified.bytes)?;
    let stations = pack.validate()?;
    let unparseable_hours = count(
        stations
            .iter()
            .filter(|s| s.src.opening_hours.is_some())
            .filter(|s| !Hours::parse(s.src.opening_hours.as_deref()).is_parsed())
            .count(),
    );
    let station_count = count(stations.len());

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let previous_version = match packs::check_installed(
        &tx,
        "stations",
        &pack.pack_id,
        pack.version,
        &verified.payload_sha256,
    )? {
        packs::Installed::Same(version) => {
            return Ok(ImportOutcome {
                pack_id: pack.pack_id,
                version,
                previous_version: Some(version),
                stations: station_count,
                unparseable_hours,
                unchanged: true,
            });
        }
        packs::Installed::Older(v) => Some(v),
        packs::Installed::Nothing => None,
    };

    tx.execute("DELETE FROM stations WHERE pack_id = ?1", [&pack.pack_id])?;
    let record = packs::PackRecord {
        kind: "stations",
        pack_id: &pack.pack_id,
        version: pack.version,
        publisher: &pack.publisher,
        created: pack.created,
        synthetic: pack.synthetic,
        notice: pack.notice.as_deref(),
    };
    packs::record_installed(&tx, &record, &verified, now)?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO stations (id, pack_id, name_zh, name_en, lat, lon, source_datum, \
             source_lat, source_lon, address_zh, address_en, district, services, opening_hours, \
             phone, operator, last_verified) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )?;
        for s in &stations {
            let p = &s.src;
            insert
                .execute(params![
                    p.id,
                    pack.pack_id,
                    p.name.zh,
                    p.name.en,
                    s.wgs84.lat,
                    s.wgs84.lon,
                    s.source.datum.as_str(),
                    s.source.lat,
                    s.source.lon,
                    p.address.zh,
                    p.address.en,
                    p.district,
                    s.services.0 as i64,
                    p.opening_hours
                        .as_deref()
                        .map(str::trim)
                        .filter(|h| !h.is_empty()),
                    p.phone,
                    p.operator,
                    p.last_verified.map(|d| d.to_string()),
                ])
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        Error::pack(format!(
                            "station id '{}' is already installed from another pack",
                            p.id
                        ))
                    }
                    other => other.into(),
                })?;
        }
    }
    tx.commit()?;
    Ok(ImportOutcome {
        pack_id: pack.pack_id,
        version: packs::version_number(pack.version),
        previous_version,
        stations: station_count,
        unparseable_hours,
        unchanged: false,
    })
}

/// A count for [`ImportOutcome`]: packs are bounded far below `i32::MAX` stations (a pack is
/// at most a few tens of MiB), so the cap never shows.
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

const STATION_COLUMNS: &str = "id, pack_id, name_zh, name_en, lat, lon, source_datum, source_lat, \
     source_lon, address_zh, address_en, district, services, opening_hours, phone, operator, \
     last_verified";

/// Shares one allocation per pack id across all of a pack's stations.
#[derive(Default)]
struct PackIds(Vec<PackId>);

impl PackIds {
    fn intern(&mut self, id: &str) -> PackId {
        if let Some(a) = self.0.iter().find(|a| a.as_str() == id) {
            return a.clone();
        }
        let a = PackId(Arc::from(id));
        self.0.push(a.clone());
        a
    }
}

/// A text column borrowed from the row, for the columns that are only parsed or interned (no
/// `String` made for them). NULL is `None`.
fn text_column<'r>(row: &'r Row<'_>, i: usize, what: &str) -> Result<Option<&'r str>> {
    row.get_ref(i)?
        .as_str_or_null()
        .map_err(|e| Error::Internal(format!("stored {what}: {e}")))
}

/// Like [`text_column`] for a `NOT NULL` column: NULL is refused.
fn required_text<'r>(row: &'r Row<'_>, i: usize, what: &str) -> Result<&'r str> {
    text_column(row, i, what)?.ok_or_else(|| Error::Internal(format!("stored {what} is NULL")))
}

fn station_from_row(row: &Row<'_>, pack_ids: &mut PackIds) -> Result<Station> {
    Ok(Station {
        id: row.get(0)?,
        pack_id: pack_ids.intern(required_text(row, 1, "pack_id")?),
        name_zh: row.get(2)?,
        name_en: row.get(3)?,
        position: Position {
            lat: row.get(4)?,
            lon: row.get(5)?,
            datum: Datum::Wgs84,
        },
        source_position: Position {
            lat: row.get(7)?,
            lon: row.get(8)?,
            datum: required_text(row, 6, "source_datum")?.parse()?,
        },
        address_zh: row.get(9)?,
        address_en: row.get(10)?,
        district: row.get(11)?,
        services: ServiceSet::from_bits(row.get(12)?)?,
        opening_hours: row.get(13)?,
        phone: row.get(14)?,
        operator: row.get(15)?,
        last_verified: text_column(row, 16, "last_verified")?
            .map(|d| d.parse::<NaiveDate>())
            .transpose()
            .map_err(|e| Error::Internal(format!("stored last_verified date: {e}")))?,
    })
}

/// Loads every installed station (to build the index), each in the shared allocation the
/// index and every search result hold: no second copy of 100,000 stations on the way.
pub fn load_all(conn: &Connection) -> Result<Vec<Arc<Station>>> {
    let mut stmt = conn.prepare(&format!("SELECT {STATION_COLUMNS} FROM stations"))?;
    let mut pack_ids = PackIds::default();
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(Arc::new(station_from_row(row, &mut pack_ids)?));
    }
    Ok(out)
}

/// Most results a text search returns.
pub const MAX_SEARCH_RESULTS: usize = 200;

/// Text search over names and addresses (Chinese and English). Queries of three or more
/// characters use the FTS5 trigram index, ranked by bm25; shorter ones (two Chinese
/// characters are a common query, e.g. 雁塔) fall back to a substring scan.
pub fn search(conn: &Connection, text: &str, limit: i32) -> Result<Vec<String>> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("search text is empty"));
    }
    if text.chars().count() > 100 {
        return Err(Error::invalid("search text is longer than 100 characters"));
    }
    if !usize::try_from(limit).is_ok_and(|l| (1..=MAX_SEARCH_RESULTS).contains(&l)) {
        return Err(Error::invalid(format!(
            "search limit must be between 1 and {MAX_SEARCH_RESULTS}, got {limit}"
        )));
    }
    let limit = i64::from(limit);
    let ids = if text.chars().count() >= 3 {
        let quoted = format!("\"{}\"", text.replace('"', "\"\""));
        let mut stmt = conn.prepare_cached(
            "SELECT s.id FROM station_text JOIN stations s ON s.rowid = station_text.rowid \
             WHERE station_text MATCH ?1 ORDER BY bm25(station_text, 10.0, 5.0, 2.0, 1.0), s.id \
             LIMIT ?2",
        )?;
        stmt.query_map(params![quoted, limit], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    } else {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM stations WHERE name_zh LIKE ?1 ESCAPE '\\' \
             OR name_en LIKE ?1 ESCAPE '\\' OR address_zh LIKE ?1 ESCAPE '\\' \
             OR address_en LIKE ?1 ESCAPE '\\' \
             ORDER BY (name_zh LIKE ?1 ESCAPE '\\' OR name_en LIKE ?1 ESCAPE '\\') DESC, id \
             LIMIT ?2",
        )?;
        stmt.query_map(params![pattern, limit], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    Ok(ids)
}
