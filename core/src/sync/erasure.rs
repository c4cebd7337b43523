//! The device's side of an erasure (decision 0009): a server that erased an account rewrote
//! the reports and cases naming it as new documents, without history. Its feed entries, and
//! its refusal of a change from the old history, carry the new history's base change (`x`).
//! A copy here that lacks the base is of the old history, which names the erased person: it is
//! dropped (document, changes, sync state, the report's index row and outbox state), and the
//! sync fetches the document anew from the feed, as a document it never had.
//!
//! Changes made on this device to such a copy and not yet synced go with it: the server would
//! refuse them anyway, since they build on the erased history. This can only be a follow-up
//! account's case event written offline in the minutes around an erasure, and the device
//! writes it again on the new copy if it is still needed (see the decision).

use automerge::{ChangeHash, ReadDoc};
use rusqlite::{Connection, TransactionBehavior};

use super::protocol::SyncResponse;
use crate::error::{Error, Result};
use crate::reports::document::REPORT_KIND;
use crate::store::documents;

/// Whether this device's copy of `doc_id` is of a history the server replaced by one based on
/// `base` (it exists, and lacks the base change).
fn is_old_history(conn: &Connection, doc_id: &str, base: &[u8]) -> Result<bool> {
    let hash = ChangeHash::try_from(base).map_err(|_| Error::Server {
        status: 200,
        message: format!("the sync response names no valid new history for '{doc_id}'"),
    })?;
    Ok(match documents::load(conn, doc_id)? {
        Some(doc) => doc.get_change_by_hash(&hash).is_none(),
        None => false,
    })
}

/// Deletes every trace of `doc_id` on this device, inside the caller's transaction.
fn drop_copy(conn: &Connection, doc_id: &str, kind: &str) -> Result<()> {
    conn.execute("DELETE FROM sync_docs WHERE doc_id = ?1", [doc_id])?;
    conn.execute("DELETE FROM document_changes WHERE doc_id = ?1", [doc_id])?;
    conn.execute("DELETE FROM documents WHERE doc_id = ?1", [doc_id])?;
    if kind == REPORT_KIND
        && let Some(report) = doc_id.strip_prefix("report:")
    {
        conn.execute("DELETE FROM report_index WHERE report_id = ?1", [report])?;
        conn.execute("DELETE FROM report_outbox WHERE report_id = ?1", [report])?;
    }
    Ok(())
}

impl crate::Waystation {
    /// Drops this device's copies of the documents `response` says an erasure rewrote, when
    /// they are of the old history; returns their ids, whose sync state the caller forgets.
    /// Runs before anything else of the response is applied, so the new copies arrive as
    /// documents this device never had.
    pub(crate) fn adopt_rewritten(&self, response: &SyncResponse) -> Result<Vec<String>> {
        let marked: Vec<(&str, &[u8])> = response
            .changed
            .iter()
            .filter_map(|c| Some((c.doc_id.as_str(), c.replaced.as_deref()?)))
            .chain(
                response
                    .docs
                    .iter()
                    .filter_map(|d| Some((d.doc_id.as_str(), d.replaced.as_deref()?))),
            )
            .collect();
        if marked.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.store().write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut dropped = Vec::new();
        for (doc_id, base) in marked {
            if dropped.iter().any(|d| d == doc_id) || !is_old_history(&tx, doc_id, base)? {
                continue;
            }
            let kind = documents::info(&tx, doc_id)?
                .map(|i| i.kind)
                .unwrap_or_default();
            drop_copy(&tx, doc_id, &kind)?;
            dropped.push(doc_id.to_string());
        }
        tx.commit()?;
        Ok(dropped)
    }
}
