//! Erasure and retention (PIPL art. 47; `docs/decisions/0009-erasure.md`).
//!
//! - [`erase_user`] (`waystation-server user erase`) deletes an account's personal data on
//!   request: the account, its areas and tokens (its devices get `401` from then on), its
//!   training progress, and its identity wherever its reports and case events name it. Those
//!   documents are *rewritten* as new documents without history (an edit would keep the id in
//!   the history every replica carries; `waystation_core::reports::erasure`), naming
//!   [`ERASED_USER`] instead; the hazard, its place, its photos and its case history stay,
//!   attributed to no one. Each rewrite takes the next feed position and is recorded in
//!   `replaced_docs` with its base change, so devices learn of it at their next sync: the feed
//!   entry carries the base (`x`), and a device whose copy lacks it drops the copy and fetches
//!   the new one. Changes of the old history are refused ([`refuse_old_history`]), so no
//!   device can bring the erased history back.
//! - [`purge_withdrawn`] (`waystation-server db purge-withdrawn`) deletes reports withdrawn
//!   more than a retention period ago, with their cases and their photos that no other report
//!   names. Other photos no report names go only by the quota sweep's rule
//!   (`crate::quota::sweep_unlinked_photos`, after its grace period): a photo is uploaded
//!   before its report, so one uploaded an hour ago for a report still on its way stays.
//!
//! Both run in the store's erasing write transaction and end with its clean-up
//! (`Store::write_erasing`, `Store::finish_erasure`): on SQLite, `secure_delete` overwrites the
//! freed pages with zeros and a WAL checkpoint moves the old pages out of the write-ahead log.

use automerge::ChangeHash;
use chrono::{DateTime, Duration, Utc};
use std::path::Path;

use waystation_core::reports::erasure::{self, Rewritten};
use waystation_core::reports::{ReportId, read_report_document};
use waystation_core::sync::protocol::{ChangedDoc, DocReply};

pub use waystation_core::reports::erasure::ERASED_USER;

use crate::db::Db;
use crate::documents as store;
use crate::error::{AdminError, ApiError};
use crate::store::{ReplacedDoc, StoreTx};

/// What [`erase_user`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Reports rewritten without their author.
    pub reports: usize,
    /// Cases rewritten without the account (its reports' cases, and cases it wrote events in).
    pub cases: usize,
    /// Whether a training progress document was deleted.
    pub progress: bool,
    /// Tokens deleted.
    pub tokens: usize,
}

/// What [`purge_withdrawn`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Purge {
    /// Withdrawn reports deleted (each with its case).
    pub reports: usize,
    /// Photos deleted: the purged reports' photos that no remaining report names, and
    /// uploads no report names that are older than the grace period (the quota sweep's rule).
    pub photos: usize,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn internal(e: impl std::fmt::Display) -> AdminError {
    AdminError::Other(e.to_string())
}

/// Replaces a stored document by `rewritten` (a new history): its changes deleted, its
/// snapshot, heads and owner replaced, the next feed position given, the base recorded.
fn replace(
    tx: &dyn StoreTx,
    doc_id: &str,
    owner: &str,
    mut rewritten: Rewritten,
    now: &str,
) -> Result<(), AdminError> {
    let heads = store::stored_heads(&rewritten.doc.get_heads());
    tx.replace_doc(&ReplacedDoc {
        doc_id,
        owner,
        snapshot: &rewritten.doc.save(),
        heads: &heads,
        base: &rewritten.base.0,
        now,
    })?;
    Ok(())
}
/// Erases `user`'s personal data (see the module docs), in one transaction. An unknown user
/// is [`AdminError::NotFound`]; nothing is changed then.
pub fn erase_user(db_path: &Path, user: &str, now: DateTime<Utc>) -> Result<Erasure, AdminError> {
    if user == ERASED_USER {
        return Err(AdminError::Invalid(format!(
            "'{ERASED_USER}' stands for erased accounts; it is no account"
        )));
    }
    let db = Db::open(db_path)?;
    let at = rfc3339(now);
    let txn = db.store().write_erasing()?;
    let tx = txn.as_ref();
    if tx.user(user)?.is_none() {
        return Err(AdminError::NotFound(format!("no account '{user}'")));
    }
    // Console sessions first: they name the account and its tokens (issue 16).
    tx.delete_user_sessions(user)?;
    let mut done = Erasure {
        tokens: tx.delete_tokens(user)? as usize,
        ..Erasure::default()
    };
    let progress = format!("progress:{user}");
    done.progress = tx.delete_doc(&progress)?;

    // Every report and case, read once: a case names the account when it follows one of its
    // reports (the case's owner) or holds an event it wrote (an event's actor).
    let docs = tx.reports_and_cases()?;
    for (doc_id, kind, owner) in docs {
        let Some(stored) = store::load(tx, &doc_id).map_err(|e| internal(e.message))? else {
            continue;
        };
        let named = erasure::names_user(&stored.doc, user).map_err(internal)?;
        if owner != user && !named {
            continue;
        }
        let new_owner = if owner == user { ERASED_USER } else { &owner };
        let rewritten = if kind == "report" {
            done.reports += 1;
            erasure::rewrite_report(&stored.doc, user, now).map_err(internal)?
        } else {
            let key = doc_id.strip_prefix("case:").unwrap_or(&doc_id);
            let report = ReportId::parse(key).map_err(internal)?;
            done.cases += 1;
            erasure::rewrite_case(&stored.doc, &report, user, now).map_err(internal)?
        };
        replace(tx, &doc_id, new_owner, rewritten, &at)?;
    }

    // Photos stay with their reports (the hazard's evidence, stripped of all metadata on the
    // phone), but no longer say who uploaded them.
    tx.hand_over_uploads(user, ERASED_USER)?;
    tx.delete_user(user)?;
    txn.commit()?;
    db.store().finish_erasure()?;
    Ok(done)
}

/// Deletes every report withdrawn more than `older_than` before `now`, with its case and its
/// author's uploads of its photos, then applies the quota sweep's rule with
/// `unlinked_photo_grace` (the server's `--unlinked-photo-grace-days`): uploads no report of
/// their uploader names are forgotten once older than the grace, and bytes no upload and no
/// report name are deleted. One transaction.
///
/// Why not "every photo no report names": a device uploads a photo before the report that
/// names it, so such a photo is often one whose report is still on its way, and deleting it
/// would cost the rider the photo (or a second upload on a metered plan).
pub fn purge_withdrawn(
    db_path: &Path,
    older_than: Duration,
    unlinked_photo_grace: Duration,
    now: DateTime<Utc>,
) -> Result<Purge, AdminError> {
    if older_than < Duration::zero() {
        return Err(AdminError::Invalid(
            "the retention period cannot be negative".into(),
        ));
    }
    if unlinked_photo_grace < Duration::zero() {
        return Err(AdminError::Invalid(
            "the grace period for photos no report names cannot be negative".into(),
        ));
    }
    let cutoff = now - older_than;
    let db = Db::open(db_path)?;
    let txn = db.store().write_erasing()?;
    let tx = txn.as_ref();
    let reports = tx.report_ids()?;
    let mut done = Purge::default();
    // (author, photo) of every purged report: the uploads that went with it.
    let mut uploads: Vec<(String, String)> = Vec::new();
    for doc_id in reports {
        let Some(stored) = store::load(tx, &doc_id).map_err(|e| internal(e.message))? else {
            continue;
        };
        let Ok(report) = read_report_document(&stored.doc) else {
            continue;
        };
        if report.withdrawn_at.is_none_or(|w| w > cutoff) {
            continue;
        }
        let case = format!("case:{}", report.id);
        uploads.extend(tx.report_photo_authors(&doc_id)?);
        for id in [&doc_id, &case] {
            tx.delete_doc(id)?;
            tx.mark_purged(id, &rfc3339(now))?;
        }
        done.reports += 1;
    }
    // The purged reports' uploads go with them, unless another report of the same author
    // names the photo. Someone else's upload of the same bytes is theirs: it stays, and the
    // sweep's rule below decides about it.
    for (author, sha) in &uploads {
        tx.forget_upload_unless_linked(author, sha)?;
    }
    let swept = crate::quota::sweep_in(tx, unlinked_photo_grace, now)?;
    done.photos = swept.photos as usize;
    txn.commit()?;
    db.store().finish_erasure()?;
    Ok(done)
}

/// During a sync: when `doc_id` was purged after its retention period ([`purge_withdrawn`]),
/// its refusal: it is not stored again. When it was rewritten by an erasure and the device's copy is of the
/// old history (its heads, `their_heads`, are unknown here even after its message was
/// received, because they build on changes the new history lacks, or the changes it sent do
/// not descend from the new history's base), the refusal to send back: with no message, so
/// that the device's copy does not merge the new history into the old, and naming the base.
pub fn refuse_old_history(
    tx: &dyn StoreTx,
    doc_id: &str,
    doc: &mut automerge::AutoCommit,
    their_heads: &[ChangeHash],
    new_changes: &[automerge::Change],
) -> Result<Option<DocReply>, ApiError> {
    let purged = tx.is_purged(doc_id)?;
    if purged && !new_changes.is_empty() {
        return Ok(Some(DocReply {
            doc_id: doc_id.to_string(),
            message: None,
            refused: Some(format!(
                "document '{doc_id}' was withdrawn and deleted by the server after its retention \
                 period; it is not stored again"
            )),
            replaced: None,
        }));
    }
    let base = tx.replaced_base(doc_id)?;
    let Some(base) = base else {
        return Ok(None);
    };
    let hash = ChangeHash::try_from(base.as_slice())
        .map_err(|_| ApiError::internal(format!("replaced_docs base of '{doc_id}'")))?;
    let heads_known = their_heads
        .iter()
        .all(|h| doc.get_change_by_hash(h).is_some());
    if heads_known && erasure::descends_from(doc, &hash, new_changes) {
        return Ok(None);
    }
    Ok(Some(DocReply {
        doc_id: doc_id.to_string(),
        message: None,
        refused: Some(format!(
            "document '{doc_id}' was rewritten by the server (an erasure); this copy is of its \
             earlier history, which is dropped: fetch the document anew"
        )),
        replaced: Some(base),
    }))
}

/// Lists in `changed` (the response's feed) every document of `replies` refused as a copy of
/// an erased history that the feed does not list already, whatever the request's cursor: the
/// device drops its copy and fetches the document anew from this entry, with its new owner.
pub fn list_replaced(
    tx: &dyn StoreTx,
    replies: &[DocReply],
    changed: &mut Vec<ChangedDoc>,
) -> Result<(), ApiError> {
    for r in replies {
        let Some(base) = &r.replaced else { continue };
        if changed.iter().any(|c| c.doc_id == r.doc_id) {
            continue;
        }
        if let Some((access, heads)) = tx.doc_heads(&r.doc_id)? {
            changed.push(ChangedDoc {
                doc_id: r.doc_id.clone(),
                kind: access.kind,
                owner: access.owner,
                heads: Some(heads),
                replaced: Some(base.clone()),
            });
        }
    }
    Ok(())
}
