//! The server's copies of synced documents: a snapshot plus the changes accepted since, and
//! the facts copied out of each document that access decisions need (owner, district,
//! category, a report's photos). What is kept where is the store's business (`store`).

use automerge::{AutoCommit, Change, ChangeHash};

use crate::error::ApiError;
use crate::store::{DocUpdate, NewDoc, StoreTx};

/// Changes kept beside a snapshot before they are folded into a new one.
pub const COMPACT_AFTER_CHANGES: u64 = 64;

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
pub fn load(tx: &dyn StoreTx, doc_id: &str) -> Result<Option<StoredDoc>, ApiError> {
    let Some(row) = tx.doc(doc_id)? else {
        return Ok(None);
    };
    let mut stored_bytes = row.snapshot.len();
    let mut doc = AutoCommit::load(&row.snapshot).map_err(|e| corrupt(doc_id, e))?;
    let changes = row
        .changes
        .into_iter()
        .map(|bytes| {
            stored_bytes += bytes.len();
            Change::from_bytes(bytes).map_err(|e| corrupt(doc_id, e))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    if !changes.is_empty() {
        doc.apply_changes(changes).map_err(|e| corrupt(doc_id, e))?;
    }
    Ok(Some(StoredDoc {
        doc,
        kind: row.access.kind,
        owner: row.access.owner,
        district: row.access.district,
        stored_bytes,
    }))
}

fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

/// Heads as the store keeps them: sorted, the hashes concatenated.
pub(crate) fn stored_heads(heads: &[ChangeHash]) -> Vec<u8> {
    encode_heads(heads)
}

/// Stores an accepted document: a new document as one snapshot; an existing one by appending
/// `new_changes` (folding them into a new snapshot past [`COMPACT_AFTER_CHANGES`]). Gives it
/// the next feed sequence number. `saved` is `doc.save()`, which the caller already made to
/// measure the document. Runs inside the caller's write transaction.
#[allow(clippy::too_many_arguments)]
pub fn store(
    tx: &dyn StoreTx,
    doc_id: &str,
    existed: bool,
    doc: &mut AutoCommit,
    saved: &[u8],
    new_changes: &[Change],
    facts: &DocFacts,
    now: &str,
) -> Result<(), ApiError> {
    let heads = encode_heads(&doc.get_heads());
    if existed {
        let count = tx.append_changes(&DocUpdate {
            doc_id,
            owner: &facts.owner,
            district: facts.district.as_deref(),
            category: facts.category.as_deref(),
            changes: new_changes.iter().map(|c| c.raw_bytes()).collect(),
            heads: &heads,
            now,
        })?;
        if count > COMPACT_AFTER_CHANGES {
            compact(tx, doc_id, doc, saved)?;
        }
    } else {
        tx.insert_doc(&NewDoc {
            doc_id,
            kind: facts.kind,
            owner: &facts.owner,
            district: facts.district.as_deref(),
            category: facts.category.as_deref(),
            snapshot: saved,
            heads: &heads,
            now,
        })?;
    }
    if let Some(photos) = &facts.photos {
        tx.set_report_photos(doc_id, photos)?;
    }
    Ok(())
}

/// Replaces the snapshot by `snapshot`, a save of `doc` (the stored document), and deletes the
/// folded changes, after checking that the new snapshot loads with the same heads.
fn compact(
    tx: &dyn StoreTx,
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
    tx.compact_doc(doc_id, snapshot)?;
    Ok(())
}
