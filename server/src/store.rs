//! The server's copies of synced documents: a snapshot plus the changes accepted since, and
//! the facts copied out of each document that access decisions need (owner, district,
//! category, a report's photos).

use automerge::{AutoCommit, Change, ChangeHash};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::ApiError;

/// Changes kept beside a snapshot before they are folded into a new one.
pub const COMPACT_AFTER_CHANGES: i64 = 64;

/// A document as the server holds it.
pub struct StoredDoc {
    /// The document.
    pub doc: AutoCommit,
    /// Its kind.
    pub kind: String,
    /// Its owner (a report's author; for a case, its report's author).
    pub owner: String,
    /// The report's district, for reports and cases.
    pub district: Option<String>,
    /// Bytes stored for it: the snapshot and every change beside it.
    pub stored_bytes: usize,
}

/// What is written beside a document when it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocFacts {
    /// Kind.
    pub kind: &'static str,
    /// Owner.
    pub owner: String,
    /// District, for reports and cases.
    pub district: Option<String>,
    /// Report category code, for reports and cases.
    pub category: Option<String>,
    /// For a report, the SHA-256 of each photo it names.
    pub photos: Option<Vec<String>>,
}

fn corrupt(doc_id: &str, what: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("stored document '{doc_id}' does not load: {what}"))
}

/// Loads the server's copy of `doc_id`, or `None`.
pub fn load(conn: &Connection, doc_id: &str) -> Result<Option<StoredDoc>, ApiError> {
    let row: Option<(Vec<u8>, String, String, Option<String>)> = conn
        .prepare_cached("SELECT snapshot, kind, owner, district FROM docs WHERE doc_id = ?1")?
        .query_row([doc_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((snapshot, kind, owner, district)) = row else {
        return Ok(None);
    };
    let mut stored_bytes = snapshot.len();
    let mut doc = AutoCommit::load(&snapshot).map_err(|e| corrupt(doc_id, e))?;
    let changes = conn
        .prepare_cached("SELECT change FROM doc_changes WHERE doc_id = ?1 ORDER BY n")?
        .query_map([doc_id], |r| r.get::<_, Vec<u8>>(0))?
        .map(|bytes| {
            let bytes = bytes?;
            stored_bytes += bytes.len();
            Change::from_bytes(bytes).map_err(|e| corrupt(doc_id, e))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    if !changes.is_empty() {
        doc.apply_changes(changes).map_err(|e| corrupt(doc_id, e))?;
    }
    Ok(Some(StoredDoc {
        doc,
        kind,
        owner,
        district,
        stored_bytes,
    }))
}

fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

/// Takes the next feed sequence number.
fn next_seq(conn: &Connection) -> Result<i64, ApiError> {
    Ok(conn.query_row(
        "UPDATE meta SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1",
        [],
        |r| r.get(0),
    )?)
}

/// The highest feed sequence number given so far (0 before the first).
pub fn current_seq(conn: &Connection) -> Result<u64, ApiError> {
    let next: i64 = conn.query_row("SELECT next_seq FROM meta WHERE id = 1", [], |r| r.get(0))?;
    Ok((next - 1).max(0) as u64)
}

/// The store's generation (`meta.generation`): a random id that changes when a backup is
/// restored (`Admin::mark_restored`).
pub fn generation(conn: &Connection) -> Result<String, ApiError> {
    Ok(conn.query_row("SELECT generation FROM meta WHERE id = 1", [], |r| r.get(0))?)
}

/// Stores an accepted document: a new document as one snapshot; an existing one by appending
/// `new_changes` (folding them into a new snapshot past [`COMPACT_AFTER_CHANGES`]). Gives it
/// the next feed sequence number. `saved` is `doc.save()`, which the caller already made to
/// measure the document. Runs inside the caller's write transaction.
#[allow(clippy::too_many_arguments)]
pub fn store(
    conn: &Connection,
    doc_id: &str,
    existed: bool,
    doc: &mut AutoCommit,
    saved: &[u8],
    new_changes: &[Change],
    facts: &DocFacts,
    now: &str,
) -> Result<(), ApiError> {
    let seq = next_seq(conn)?;
    let heads = encode_heads(&doc.get_heads());
    if existed {
        let next_n: i64 = conn.query_row(
            "SELECT COALESCE(MAX(n), 0) + 1 FROM doc_changes WHERE doc_id = ?1",
            [doc_id],
            |r| r.get(0),
        )?;
        {
            let mut insert = conn.prepare_cached(
                "INSERT INTO doc_changes (doc_id, n, change) VALUES (?1, ?2, ?3)",
            )?;
            for (i, c) in new_changes.iter().enumerate() {
                insert.execute(params![doc_id, next_n + i as i64, c.raw_bytes()])?;
            }
        }
        let count: i64 = conn.query_row(
            "UPDATE docs SET heads = ?2, change_count = change_count + ?3, seq = ?4, \
             updated_at = ?5, owner = ?6, district = ?7, report_category = ?8 \
             WHERE doc_id = ?1 RETURNING change_count",
            params![
                doc_id,
                heads,
                new_changes.len() as i64,
                seq,
                now,
                facts.owner,
                facts.district,
                facts.category,
            ],
            |r| r.get(0),
        )?;
        if count > COMPACT_AFTER_CHANGES {
            compact(conn, doc_id, doc, saved)?;
        }
    } else {
        conn.execute(
            "INSERT INTO docs (doc_id, kind, owner, district, report_category, snapshot, heads, \
             change_count, seq, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9)",
            params![
                doc_id,
                facts.kind,
                facts.owner,
                facts.district,
                facts.category,
                saved,
                heads,
                seq,
                now,
            ],
        )?;
    }
    if let Some(photos) = &facts.photos {
        conn.execute("DELETE FROM report_photos WHERE report_id = ?1", [doc_id])?;
        let mut insert = conn.prepare_cached(
            "INSERT OR IGNORE INTO report_photos (report_id, sha256) VALUES (?1, ?2)",
        )?;
        for sha in photos {
            insert.execute(params![doc_id, sha])?;
        }
    }
    Ok(())
}

/// Replaces the snapshot by `snapshot`, a save of `doc` (the stored document), and deletes the
/// folded changes, after checking that the new snapshot loads with the same heads.
fn compact(
    conn: &Connection,
    doc_id: &str,
    doc: &mut AutoCommit,
    snapshot: &[u8],
) -> Result<(), ApiError> {
    let mut check = AutoCommit::load(snapshot)
        .map_err(|e| ApiError::internal(format!("compacted '{doc_id}' does not load: {e}")))?;
    if encode_heads(&check.get_heads()) != encode_heads(&doc.get_heads()) {
        return Err(ApiError::internal(format!(
            "compacting '{doc_id}' lost changes"
        )));
    }
    conn.execute(
        "UPDATE docs SET snapshot = ?2, change_count = 0 WHERE doc_id = ?1",
        params![doc_id, snapshot],
    )?;
    conn.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [doc_id])?;
    Ok(())
}
