//! The report index: one row per report in the `report_index` table (schema v6).
//!
//! The Automerge documents are the truth; the index is derived from them so that listing a
//! rider's reports and looking for nearby duplicates never loads a document that is not
//! shown. It is kept crash-consistent by writing the row inside the very transaction that
//! stores the document's edit ([`crate::store::documents::edit_then`]): either both are on
//! disk or neither is. Deleting a draft deletes its row in the same transaction.
//!
//! A database upgraded from schema v5 already holds report documents but an empty index; the
//! migration leaves a flag (`report_index_rebuild`) and the first read rebuilds the index from
//! the documents in one transaction. Any other code that stores a report document (sync
//! appending received changes) must write the row the same way, in its transaction, through
//! `after_report_edit` (which also compacts the document and keeps a draft clean).

use automerge::{AutoCommit, ReadDoc};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::document::{self, REPORT_KIND};
use super::{Category, Report, ReportId, ReportStatus};
use crate::error::{Error, Result};
use crate::geo::distance_m;
use crate::store::documents;

pub(crate) mod cases;
pub use cases::{CaseQuery, CaseSummary};

/// A report as listed: what a list screen shows, read from the index without loading the
/// report's document.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportSummary {
    /// The id.
    pub id: ReportId,
    /// The reporter's user id.
    pub author: String,
    /// The category.
    pub category: Category,
    /// Draft, submitted or withdrawn.
    pub status: ReportStatus,
    /// Latitude, WGS-84, when the report has a position.
    pub lat: Option<f64>,
    /// Longitude, WGS-84, when the report has a position.
    pub lon: Option<f64>,
    /// When the draft was created.
    pub created_at: DateTime<Utc>,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When this device last changed it.
    pub updated_at: DateTime<Utc>,
    /// GB/T 2260 code of the report's district, once set or filled at submission.
    pub district: Option<String>,
}

pub(super) fn status_str(s: ReportStatus) -> &'static str {
    match s {
        ReportStatus::Draft => "draft",
        ReportStatus::Submitted => "submitted",
        ReportStatus::Withdrawn => "withdrawn",
    }
}

fn parse_status(s: &str) -> Result<ReportStatus> {
    match s {
        "draft" => Ok(ReportStatus::Draft),
        "submitted" => Ok(ReportStatus::Submitted),
        "withdrawn" => Ok(ReportStatus::Withdrawn),
        other => Err(Error::Internal(format!("report index status '{other}'"))),
    }
}

fn ms_time(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| Error::Internal(format!("report index time {ms}")))
}

/// The columns a [`ReportSummary`] is read from, in [`SummaryRow::read`]'s order.
const SUMMARY_COLUMNS: &str = "report_id, author, category, status, lat, lon, created_at, \
    submitted_at, updated_at, district";

/// One index row as SQLite gives it, before its values are checked.
struct SummaryRow {
    id: String,
    author: String,
    category: String,
    status: String,
    lat: Option<f64>,
    lon: Option<f64>,
    created: i64,
    submitted: Option<i64>,
    updated: i64,
    district: Option<String>,
}

impl SummaryRow {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<SummaryRow> {
        Ok(SummaryRow {
            id: r.get(0)?,
            author: r.get(1)?,
            category: r.get(2)?,
            status: r.get(3)?,
            lat: r.get(4)?,
            lon: r.get(5)?,
            created: r.get(6)?,
            submitted: r.get(7)?,
            updated: r.get(8)?,
            district: r.get(9)?,
        })
    }

    fn summary(self) -> Result<ReportSummary> {
        Ok(ReportSummary {
            id: ReportId::parse(&self.id)?,
            author: self.author,
            category: self.category.parse()?,
            status: parse_status(&self.status)?,
            lat: self.lat,
            lon: self.lon,
            created_at: ms_time(self.created)?,
            submitted_at: self.submitted.map(ms_time).transpose()?,
            updated_at: ms_time(self.updated)?,
            district: self.district,
        })
    }
}

/// Writes (inserts or replaces) the row of `report`. `updated_at` is the document's.
pub(crate) fn write_row(
    conn: &Connection,
    report: &Report,
    updated_at: DateTime<Utc>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO report_index (report_id, author, category, status, lat, lon, \
         created_at, submitted_at, updated_at, district) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    stmt.execute(params![
        report.id.as_str(),
        report.author,
        report.category.code(),
        status_str(report.status),
        report.position.as_ref().map(|p| p.lat),
        report.position.as_ref().map(|p| p.lon),
        report.created_at.timestamp_millis(),
        report.submitted_at.map(|t| t.timestamp_millis()),
        updated_at.timestamp_millis(),
        report.district,
    ])?;
    Ok(())
}

/// The document's `updated_at`, as the document store recorded it.
fn doc_updated_at(conn: &Connection, doc_id: &str) -> Result<DateTime<Utc>> {
    let text: String = conn.query_row(
        "SELECT updated_at FROM documents WHERE doc_id = ?1",
        [doc_id],
        |r| r.get(0),
    )?;
    Ok(DateTime::parse_from_rfc3339(&text)
        .map_err(|e| Error::Internal(format!("stored document time: {e}")))?
        .with_timezone(&Utc))
}

/// A report document is compacted once this many changes are stored beside its snapshot,
/// much sooner than other documents: a draft gets an autosave per typed word, and each stored
/// change carries about 70 bytes of hashes and actor ids besides what it changed. A draft is
/// rebuilt without history (`document::rebuilt`); a submitted report is folded into a snapshot
/// that keeps its history, as every other document is.
pub const REPORT_COMPACT_AFTER_CHANGES: i64 = 8;

/// The `after` hook of [`documents::edit_then`] for every report edit, inside its
/// transaction (and what any other code that stores a report document must call, such as sync
/// after appending received changes): compacts the document once
/// [`REPORT_COMPACT_AFTER_CHANGES`] changes are stored, rewrites the report's index row, and
/// keeps a draft clean.
///
/// A draft is never dirty (`documents.dirty = 0`): it must never be sent, and it is rebuilt
/// without history, so a sync of dirty documents must not see it. The submission change is the
/// first one that makes a report's document dirty.
pub(crate) fn after_report_edit(conn: &Connection, doc: &mut AutoCommit) -> Result<()> {
    after_report_edit_compacting(conn, doc, false)
}

/// [`after_report_edit`], and with `draft_now` a draft with any history at all is rebuilt
/// whatever its change count (just before its submission change).
pub(crate) fn after_report_edit_compacting(
    conn: &Connection,
    doc: &mut AutoCommit,
    draft_now: bool,
) -> Result<()> {
    let report = document::read(doc)?;
    let doc_id = report.id.doc_id();
    let draft = report.status == ReportStatus::Draft;
    let stored_changes: i64 = conn.query_row(
        "SELECT change_count FROM documents WHERE doc_id = ?1",
        [&doc_id],
        |r| r.get(0),
    )?;
    // The document's time, as the store recorded it for this edit.
    let updated_at = doc_updated_at(conn, &doc_id)?;
    let due = stored_changes > REPORT_COMPACT_AFTER_CHANGES;
    if draft && (due || (draft_now && doc.stats().num_changes > 1)) {
        let mut fresh = document::rebuilt(doc, updated_at)?;
        documents::write_snapshot(conn, &doc_id, &mut fresh)?;
        *doc = fresh;
    } else if due {
        documents::write_snapshot(conn, &doc_id, doc)?;
    }
    if draft {
        conn.execute(
            "UPDATE documents SET dirty = 0 WHERE doc_id = ?1 AND dirty = 1",
            [&doc_id],
        )?;
    }
    write_row(conn, &report, updated_at)
}

/// Rewrites the row of the report in `doc`, inside the caller's transaction.
pub(crate) fn write_row_from_doc(conn: &Connection, doc: &AutoCommit) -> Result<()> {
    let report = document::read(doc)?;
    let updated_at = doc_updated_at(conn, &report.id.doc_id())?;
    write_row(conn, &report, updated_at)
}

/// The status the index holds for a report, or `None` when it has no row.
pub(crate) fn status_of(conn: &Connection, id: &ReportId) -> Result<Option<ReportStatus>> {
    let status: Option<String> = conn
        .query_row(
            "SELECT status FROM report_index WHERE report_id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    status.as_deref().map(parse_status).transpose()
}

/// Deletes a report's row (a deleted draft, a copy sync drops), inside the caller's
/// transaction.
pub(crate) fn delete_row(conn: &Connection, id: &ReportId) -> Result<()> {
    conn.execute(
        "DELETE FROM report_index WHERE report_id = ?1",
        [id.as_str()],
    )?;
    Ok(())
}

/// Rebuilds the whole index from the report documents, in one transaction, and clears the
/// rebuild flag.
pub(crate) fn rebuild(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM report_index", [])?;
    let ids: Vec<String> = {
        let mut stmt = tx.prepare("SELECT doc_id FROM documents WHERE kind = ?1")?;
        stmt.query_map([REPORT_KIND], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    for doc_id in ids {
        if let Some(doc) = documents::load(&tx, &doc_id)? {
            write_row_from_doc(&tx, &doc)?;
        }
    }
    tx.execute("DELETE FROM report_index_rebuild", [])?;
    tx.commit()?;
    Ok(())
}

/// `author`'s reports as summaries, newest first, only those in `status` when given. The
/// index must be current (`Waystation::ensure_report_index`).
pub(crate) fn by_author(
    conn: &Connection,
    author: &str,
    status: Option<ReportStatus>,
) -> Result<Vec<ReportSummary>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM report_index WHERE author = ?1 \
         AND (?2 IS NULL OR status = ?2) ORDER BY created_at DESC, report_id DESC"
    ))?;
    let rows = stmt.query_map(params![author, status.map(status_str)], SummaryRow::read)?;
    rows.map(|row| row?.summary()).collect()
}

/// What [`nearby`] looks for.
pub(super) struct NearbyQuery<'a> {
    pub(super) exclude: &'a ReportId,
    pub(super) category: Category,
    pub(super) since: DateTime<Utc>,
    pub(super) lat: f64,
    pub(super) lon: f64,
    pub(super) radius_m: f64,
}

/// Submitted (not withdrawn) reports of the query's category, submitted at or after `since`,
/// within `radius_m` of the point, with their geodesic distances. A bounding box in SQL narrows
/// the rows (through the `(category, submitted_at, lat, lon, status)` index); the exact
/// geodesic distance decides.
pub(super) fn nearby(conn: &Connection, q: &NearbyQuery<'_>) -> Result<Vec<(ReportId, f64)>> {
    // A degree of latitude is at least 110,574 m; 110,000 m keeps the box a little too big,
    // never too small.
    let dlat = q.radius_m / 110_000.0 + 1e-6;
    let (min_lat, max_lat) = (q.lat - dlat, q.lat + dlat);
    let cos = (q.lat.abs() + dlat).min(90.0).to_radians().cos();
    let (min_lon, max_lon) = if cos < 0.01 {
        (-180.0, 180.0) // next to a pole: every longitude
    } else {
        let dlon = dlat / cos;
        if q.lon - dlon < -180.0 || q.lon + dlon > 180.0 {
            (-180.0, 180.0) // across the antimeridian: let the exact distance decide
        } else {
            (q.lon - dlon, q.lon + dlon)
        }
    };
    let mut stmt = conn.prepare_cached(
        "SELECT report_id, lat, lon FROM report_index INDEXED BY report_index_nearby \
         WHERE category = ?1 AND submitted_at >= ?2 AND lat BETWEEN ?3 AND ?4 \
         AND lon BETWEEN ?5 AND ?6 AND status = 'submitted' AND report_id != ?7",
    )?;
    let rows = stmt.query_map(
        params![
            q.category.code(),
            q.since.timestamp_millis(),
            min_lat,
            max_lat,
            min_lon,
            max_lon,
            q.exclude.as_str(),
        ],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, f64>(1)?,
                r.get::<_, f64>(2)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (id, lat, lon) = row?;
        let d = distance_m(q.lat, q.lon, lat, lon);
        if d <= q.radius_m {
            out.push((ReportId::parse(&id)?, d));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MIGRATIONS, migrate};

    #[test]
    fn a_v5_database_with_reports_is_flagged_by_v6_and_rebuilt() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let id = ReportId::parse("01900000-0000-7000-8000-000000000001").unwrap();
        let mut doc = document::genesis(&id, "rider-1", Category::RoadHazard, at).unwrap();
        conn.execute(
            "INSERT INTO documents (doc_id, kind, owner, snapshot, heads, created_at, updated_at) \
             VALUES (?1, 'report', 'rider-1', ?2, x'', ?3, ?3)",
            params![id.doc_id(), doc.save(), "2027-01-15T08:00:00.000Z"],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let flagged: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM report_index_rebuild)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(flagged);
        rebuild(&mut conn).unwrap();
        let (author, status, created): (String, String, i64) = conn
            .query_row(
                "SELECT author, status, created_at FROM report_index WHERE report_id = ?1",
                [id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((author.as_str(), status.as_str()), ("rider-1", "draft"));
        assert_eq!(created, at.timestamp_millis());
        let left: i64 = conn
            .query_row("SELECT count(*) FROM report_index_rebuild", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(left, 0);

        // A fresh database has nothing to rebuild.
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        let n: i64 = fresh
            .query_row("SELECT count(*) FROM report_index_rebuild", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 0);
    }
}
