//! The device's side of an erasure (decision 0009): a server that erased an account rewrote
//! the reports and cases naming it as new documents, without history. Its feed entries, and
//! its refusal of a change from the old history, carry the new history's base change (`x`).
//! A copy here that lacks the base is of the old history, which names the erased person: it is
//! dropped (document, changes, sync state, the report's index row and outbox state), and the
//! sync fetches the document anew from the feed, as a document it never had.
//!
//! Nothing entered is lost on the way. The only writes another device makes to such a document
//! are case events (a report has one writer, its author). A case copy with changes not yet
//! synced has its events held in memory when it is dropped; once the new copy has arrived,
//! every held event it lacks (by id) is written into it again, unchanged, under its writer's
//! actor, and sent in the same sync ([`crate::Waystation::write_held_events`]). The server
//! judges them as any new event.
//!
//! **What `x` may drop.** `x` lets whatever answers as the server make the device delete a
//! copy, so it is bounded to what an erasure can really rewrite, as seen by a device that still
//! syncs (its own account was not erased: an erased account's tokens are gone):
//!
//! - never a report the syncing account wrote (an erasure of that account would have ended its
//!   tokens), and never a report with changes this device has not synced: that would delete
//!   what a person entered;
//! - never a training progress (erasure deletes those, it does not rewrite them; checked with
//!   the response's other fields, `reply_check`);
//! - a case with unsynced events only with those events held and written again (above);
//! - anything else (another reporter's report, a case) may go, since the server holds it and
//!   the feed brings the new copy.
//!
//! A claim outside these bounds is a `Server` error for the response, and nothing of it is
//! stored. Photos the dropped copies named are handed to the photo sweep
//! ([`crate::Waystation::photos_maybe_unnamed`]), which removes those nothing names any more.

use automerge::transaction::Transactable;
use automerge::{ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue, Value, hydrate};
use rusqlite::{Connection, TransactionBehavior};

use super::SyncReport;
use super::account::AccountQuery;
use super::http::Client;
use super::protocol::{SyncResponse, is_sha256_hex};
use crate::error::{Error, Result};
use crate::reports::case::integrity::writer_actor;
use crate::reports::document::REPORT_KIND;
use crate::store::documents::{self, DocumentKey, automerge_error};

/// The events of a dropped case copy that had changes not yet synced, by event id, to write
/// again on the new copy.
pub(crate) struct HeldEvents {
    doc_id: String,
    events: Vec<(String, hydrate::Value)>,
}

/// What [`crate::Waystation::adopt_rewritten`] did.
pub(crate) struct Adoption {
    /// Documents whose copy was dropped.
    pub(crate) dropped: Vec<String>,
    /// Events held from dropped case copies with unsynced changes.
    pub(crate) held: Vec<HeldEvents>,
}

/// Every event of a case copy, as hydrated values by id.
fn case_events(doc: &automerge::AutoCommit) -> Result<Vec<(String, hydrate::Value)>> {
    let Some((Value::Object(ObjType::Map), events)) =
        doc.get(ROOT, "events").map_err(automerge_error)?
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for id in doc.keys(&events) {
        if let Some((Value::Object(_), obj)) =
            doc.get(&events, id.as_str()).map_err(automerge_error)?
        {
            out.push((id, doc.hydrate(obj, None).map_err(automerge_error)?));
        }
    }
    Ok(out)
}

/// The `actor` field of a hydrated event.
fn event_actor(event: &hydrate::Value) -> Option<String> {
    match event {
        hydrate::Value::Map(m) => match m.get("actor") {
            Some(hydrate::Value::Scalar(ScalarValue::Str(s))) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

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

/// Every photo-like string or map key (a SHA-256 in lowercase hex) anywhere in `doc`: the
/// photos a report names, and any a case event names, for the photo sweep to check once the copy is gone.
fn named_shas(doc: &automerge::AutoCommit) -> Vec<String> {
    fn walk(v: &hydrate::Value, out: &mut Vec<String>) {
        match v {
            hydrate::Value::Scalar(ScalarValue::Str(s)) if is_sha256_hex(s) => {
                out.push(s.to_string())
            }
            hydrate::Value::Map(m) => {
                for (key, v) in m.iter() {
                    // A report keys its photos by SHA-256.
                    if is_sha256_hex(key) {
                        out.push(key.clone());
                    }
                    walk(&v.value, out);
                }
            }
            hydrate::Value::List(l) => l.iter().for_each(|v| walk(&v.value, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    // A copy that cannot be read names nothing the sweep could check: it keeps its photos.
    if let Ok(root) = doc.hydrate(ROOT, None) {
        walk(&root, &mut out);
    }
    out
}

fn refused(doc_id: &str, why: &str) -> Error {
    Error::Server {
        status: 200,
        message: format!(
            "the sync response is refused, nothing of it was stored: it says '{doc_id}' has a \
             new history, but {why}"
        ),
    }
}

/// Deletes every trace of `doc_id` on this device, inside the caller's transaction.
fn drop_copy(conn: &Connection, doc_id: &str, kind: &str) -> Result<()> {
    super::ledger::forget_doc(conn, doc_id)?;
    conn.execute("DELETE FROM document_changes WHERE doc_id = ?1", [doc_id])?;
    conn.execute("DELETE FROM documents WHERE doc_id = ?1", [doc_id])?;
    if kind == REPORT_KIND {
        crate::reports::outbox::forget(conn, doc_id)?;
    }
    Ok(())
}

impl super::device::Device<'_> {
    /// Drops this device's copies of the documents `response` says an erasure rewrote, when
    /// they are of the old history; returns their ids, whose sync state the caller forgets.
    /// Runs before anything else of the response is applied, so the new copies arrive as
    /// documents this device never had. A claim outside the module's bounds is an error and
    /// drops nothing; the account is asked of `account` only when a report is to be dropped.
    pub(crate) fn adopt_rewritten(
        &self,
        response: &SyncResponse,
        client: &Client,
        report: &mut SyncReport,
        account: &mut AccountQuery,
    ) -> Result<Adoption> {
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
        let mut adoption = Adoption {
            dropped: Vec::new(),
            held: Vec::new(),
        };
        if marked.is_empty() {
            return Ok(adoption);
        }
        // Which reports would go: the account that syncs is asked only if there is one.
        let mut reports = false;
        {
            let conn = self.store().read();
            for (doc_id, base) in &marked {
                if let Some(info) = documents::info(&conn, doc_id)?
                    && info.kind == REPORT_KIND
                    && is_old_history(&conn, doc_id, base)?
                {
                    reports = true;
                }
            }
        }
        let me = if reports {
            Some(self.account_user(client, report, account)?)
        } else {
            None
        };
        let mut shas = Vec::new();
        let mut conn = self.store().write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (doc_id, base) in marked {
            if adoption.dropped.iter().any(|d| d == doc_id) || !is_old_history(&tx, doc_id, base)? {
                continue;
            }
            let Some(info) = documents::info(&tx, doc_id)? else {
                continue;
            };
            if info.kind == REPORT_KIND && info.dirty {
                return Err(refused(
                    doc_id,
                    "this device holds changes to that report the server does not have",
                ));
            }
            if info.kind == REPORT_KIND && me.as_deref() == Some(info.owner.as_str()) {
                return Err(refused(doc_id, "this device's account wrote that report"));
            }
            if info.kind != REPORT_KIND && info.kind != crate::reports::case::CASE_KIND {
                return Err(refused(
                    doc_id,
                    "an erasure rewrites only reports and cases",
                ));
            }
            if let Some(doc) = documents::load(&tx, doc_id)? {
                shas.extend(named_shas(&doc));
            }
            if info.kind == crate::reports::case::CASE_KIND
                && info.dirty
                && let Some(doc) = documents::load(&tx, doc_id)?
            {
                adoption.held.push(HeldEvents {
                    doc_id: doc_id.to_string(),
                    events: case_events(&doc)?,
                });
            }
            drop_copy(&tx, doc_id, &info.kind)?;
            adoption.dropped.push(doc_id.to_string());
        }
        tx.commit()?;
        drop(conn);
        // The new copies usually name the same photos; the sweep keeps what anything names.
        self.photos_maybe_unnamed(shas.iter().map(String::as_str));
        Ok(adoption)
    }

    /// Writes the held events of every case whose new copy has arrived into it, those it lacks,
    /// each under its writer's actor; forgets what it wrote. Returns the (id, owner) of the
    /// cases it changed, which the caller sends.
    pub(crate) fn write_held_events(
        &self,
        held: &mut Vec<HeldEvents>,
    ) -> Result<Vec<(String, String)>> {
        let mut changed = Vec::new();
        let mut waiting = Vec::new();
        for h in held.drain(..) {
            let Some(info) = documents::info(&self.store().read(), &h.doc_id)? else {
                waiting.push(h);
                continue;
            };
            let have: Vec<String> = documents::load(&self.store().read(), &h.doc_id)?
                .map(|d| case_events(&d))
                .transpose()?
                .unwrap_or_default()
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let key = DocumentKey {
                doc_id: &h.doc_id,
                kind: &info.kind,
                owner: &info.owner,
            };
            let mut wrote = false;
            for (id, event) in h.events.iter().filter(|(id, _)| !have.contains(id)) {
                let Some(actor) = event_actor(event) else {
                    continue;
                };
                documents::edit(
                    &mut self.store().write(),
                    &key,
                    self.now(),
                    || Err(Error::Internal("the new case copy vanished".into())),
                    |doc| {
                        doc.set_actor(writer_actor(&actor));
                        let events = match doc.get(ROOT, "events").map_err(automerge_error)? {
                            Some((Value::Object(ObjType::Map), obj)) => obj,
                            _ => return Err(Error::Internal("case copy without events".into())),
                        };
                        doc.batch_create_object(&events, id.as_str(), event, false)
                            .map_err(automerge_error)?;
                        Ok(())
                    },
                )?;
                wrote = true;
            }
            if wrote {
                changed.push((h.doc_id, info.owner));
            }
        }
        *held = waiting;
        Ok(changed)
    }
}
