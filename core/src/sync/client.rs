//! The device's side of a sync: which documents and photos to send, the exchange with the
//! server, applying what comes back, and the sync status the shells show.
//!
//! See `docs/sync-protocol.md` for the protocol. In short, one sync is a few `POST /v1/sync`
//! requests: the first carries every dirty document (each as an Automerge sync message that
//! already holds all changes since the heads last shared with the server), the next ones the
//! documents the server's change feed listed. Everything the device learns is stored durably
//! before it moves on, and the feed cursor only after the documents it covers, so killing the
//! app anywhere in a sync and syncing again converges with no duplicates.
//!
//! The photos a sync uploads live in `photos`, what an outcome leaves for the user (status,
//! refusals, acceptance) in `outcome`.

use automerge::sync::{BloomFilter, Capability, Have, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::account::AccountQuery;
use super::exchange::Client;
use super::policy;
use super::protocol::{
    self, ChangedDoc, DocMessage, MAX_DOCS_PER_REQUEST, SyncRequest, SyncResponse,
};
use super::reply_check;
pub use super::settings::{RetryPolicy, SyncSettings};
use super::transport::HttpTransport;
use crate::error::{Error, Result};
use crate::reports::case::CASE_KIND;
use crate::reports::document::REPORT_KIND;
use crate::store::documents::{self, DocumentKey, decode_heads, encode_heads};
use crate::training::progress::PROGRESS_KIND;
use std::str::FromStr;

mod outcome;
mod photos;

use outcome::{record_accepted, record_change_refused, record_refusal};
pub use photos::MAX_PHOTOS_PER_REQUEST;
use photos::PhotoBatch;
pub(super) use photos::record_photo_on_server;

/// Most sync requests in one [`crate::Waystation::sync_now`]; the next sync carries on.
pub const MAX_REQUESTS_PER_SYNC: u32 = 16;

/// Shortest time between two full re-offers (everything this device writes, sent again because
/// the server said it lost data; decision 0008). A real restore from a backup happens rarely;
/// a server that claims one at every sync would otherwise make a phone upload everything it
/// holds every time. [`SyncStatus::reoffer_held_back`] says when a claim was not acted on.
pub const REOFFER_INTERVAL: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// What the device knows about syncing, for a status screen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// The server last synced with (or tried).
    pub server: Option<String>,
    /// A sync is running now.
    pub in_progress: bool,
    /// Documents with changes the server does not have yet (submitted reports, cases,
    /// progress; never drafts), refused ones included.
    pub pending_documents: u64,
    /// Photos of pending reports not uploaded yet.
    pub pending_photos: u64,
    /// Documents the server refused at their current state (see [`SyncRefusal`]).
    pub refused_documents: u64,
    /// When the last sync started.
    pub last_attempt: Option<DateTime<Utc>>,
    /// When a sync last finished without error.
    pub last_success: Option<DateTime<Utc>>,
    /// Why the last sync failed; `None` after a success.
    pub last_error: Option<String>,
    /// When this device last offered the server everything it writes again, because the
    /// server said it had lost data (restored from a backup).
    pub last_reoffer: Option<DateTime<Utc>>,
    /// When the server last said so again within [`REOFFER_INTERVAL`] of the previous
    /// re-offer, and this device did not send everything again (it will once the interval has
    /// passed, if the server still says so). `None` when the server has not asked since.
    pub reoffer_held_back: Option<DateTime<Utc>>,
}

/// A document the server refused. Nothing is dropped: the device keeps it, dirty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRefusal {
    /// Document id.
    pub doc_id: String,
    /// The server's reason.
    pub reason: String,
    /// When it was refused.
    pub at: DateTime<Utc>,
}

/// What one sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// `POST /v1/sync` requests made (retries not counted).
    pub requests: u32,
    /// Photo uploads made.
    pub photos_uploaded: u32,
    /// Request bytes sent (bodies, retries included).
    pub bytes_sent: u64,
    /// Response bytes received (bodies).
    pub bytes_received: u64,
    /// Documents whose changes the server accepted in this sync.
    pub documents_sent: u32,
    /// Documents that got new changes from the server.
    pub documents_received: u32,
    /// Documents refused in this sync.
    pub refused: Vec<SyncRefusal>,
    /// False when the sync stopped at [`MAX_REQUESTS_PER_SYNC`] with work left.
    pub complete: bool,
}

/// Told whenever the sync status changes (a sync starts, makes progress, ends). The Kotlin and
/// Swift shells implement it to refresh their UI. Called on the syncing thread; keep it quick.
pub trait SyncObserver: Send + Sync {
    /// The new status.
    fn sync_status_changed(&self, status: SyncStatus);
}

/// Per-instance sync bookkeeping that lives in memory only.
#[derive(Default)]
pub(crate) struct SyncRuntime {
    running: Mutex<()>,
    in_progress: AtomicBool,
    observer: RwLock<Option<Arc<dyn SyncObserver>>>,
}

impl std::fmt::Debug for SyncRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncRuntime")
            .field("in_progress", &self.in_progress.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// `sync_meta`'s server, last attempt, last success and last error.
type MetaRow = (String, Option<String>, Option<String>, Option<String>);

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The sync state to start a document's exchange from: we assume the server holds exactly the
/// heads we last shared, so the first message already carries every change since.
fn starting_state(shared: Vec<ChangeHash>) -> State {
    let mut state = State::new();
    state.shared_heads = shared.clone();
    state.their_heads = Some(shared.clone());
    state.their_need = Some(Vec::new());
    state.their_have = Some(vec![Have {
        last_sync: shared,
        bloom: BloomFilter::from_hashes(std::iter::empty::<ChangeHash>()),
    }]);
    state.their_capabilities = Some(vec![Capability::MessageV2, Capability::SyncReset]);
    state
}

/// A locally stored document to sync, with what sync knows about it.
struct LocalDoc {
    doc_id: String,
    kind: String,
    owner: String,
}

/// A document with changes the server does not have yet.
struct PendingDoc {
    doc: LocalDoc,
    /// The server refused it at its current heads: it waits for a new local edit.
    refused: bool,
}

/// Dirty documents (never drafts), reports first, with whether each was refused at its
/// current heads. Sync sends the ones not refused; the status counts them all.
fn pending_docs(conn: &Connection) -> Result<Vec<PendingDoc>> {
    // `substr(d.doc_id, 8)` is the report id after 'report:', so the report index is searched
    // by its primary key.
    let mut stmt = conn.prepare(
        "SELECT d.doc_id, d.kind, d.owner, \
                s.refused_heads IS NOT NULL AND s.refused_heads = d.heads \
         FROM documents d \
         LEFT JOIN sync_docs s ON s.doc_id = d.doc_id \
         LEFT JOIN report_index r ON d.kind = 'report' AND r.report_id = substr(d.doc_id, 8) \
         WHERE d.dirty = 1 AND (d.kind <> 'report' OR r.status IN ('submitted', 'withdrawn')) \
         ORDER BY CASE d.kind WHEN 'report' THEN 0 ELSE 1 END, d.doc_id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(PendingDoc {
                doc: LocalDoc {
                    doc_id: r.get(0)?,
                    kind: r.get(1)?,
                    owner: r.get(2)?,
                },
                refused: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn shared_heads(conn: &Connection, doc_id: &str) -> Result<Vec<ChangeHash>> {
    let bytes: Option<Vec<u8>> = conn
        .query_row(
            "SELECT shared_heads FROM sync_docs WHERE doc_id = ?1",
            [doc_id],
            |r| r.get(0),
        )
        .optional()?;
    match bytes {
        Some(b) => decode_heads(doc_id, &b),
        None => Ok(Vec::new()),
    }
}

/// Reads the meta row for `server`, starting over (cursor 0, nothing shared) when the device
/// last synced with another server.
pub(super) fn meta_for(conn: &mut Connection, server: &str) -> Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row: Option<(String, i64)> = tx
        .query_row(
            "SELECT server, cursor FROM sync_meta WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let cursor = match row {
        Some((s, c)) if s == server => c.max(0) as u64,
        Some(_) => {
            // Another server: what it holds says nothing about this one.
            tx.execute("DELETE FROM sync_docs", [])?;
            tx.execute("DELETE FROM photo_uploads", [])?;
            tx.execute("DELETE FROM pack_etags", [])?;
            tx.execute(
                "UPDATE sync_meta SET server = ?1, cursor = 0, last_success = NULL, \
                 last_error = NULL, server_generation = NULL WHERE id = 1",
                [server],
            )?;
            0
        }
        None => {
            tx.execute(
                "INSERT INTO sync_meta (id, server, cursor) VALUES (1, ?1, 0)",
                [server],
            )?;
            0
        }
    };
    tx.commit()?;
    Ok(cursor)
}

/// What applying the server's reply did to one document.
enum Applied {
    /// Nothing new.
    Nothing,
    /// New changes, stored.
    New,
    /// New changes the device refuses (the reason): nothing of them was stored.
    Refused(String),
}

/// Applies the server's reply message for one document, durably, in one transaction: new
/// changes are appended (a document the device did not have is created, clean), the report
/// index follows report documents, and the shared heads are recorded.
///
/// A report's new changes are checked first ([`reply_check::check_report_update`]): the server
/// may deliver a report, or its author's withdrawal (made on another phone of the same
/// account, or a follow-up role's copy), but never edit one. Changes that break this are
/// [`Applied::Refused`], for this document alone. So are a training progress's new changes
/// that delete or rewrite a recorded result, or break its layout
/// ([`reply_check::check_progress_update`], the server's own rule).
fn apply_reply(
    tx: &Connection,
    doc: &LocalDoc,
    state: &mut State,
    message: automerge::sync::Message,
    now: DateTime<Utc>,
) -> Result<Applied> {
    // Measured before automerge reads it (sync::bounds): a hostile server's compressed change
    // or deflated column would otherwise inflate without limit and kill the app.
    super::bounds::check_message(&message, &super::bounds::MessageBounds::default()).map_err(
        |e| Error::Server {
            status: 200,
            message: format!("the server's changes to '{}' are refused: {e}", doc.doc_id),
        },
    )?;
    let stored = documents::load(tx, &doc.doc_id)?;
    let existed = stored.is_some();
    let mut am = stored.unwrap_or_default();
    let before = am.get_heads();
    // automerge 0.12 panics on some malformed input that its decoder accepts (found by the
    // server's fuzz target, `docs/sync-protocol.md`). A server's reply is data from the
    // network, so a panic is an error like a reply that does not apply; the transaction rolls
    // back and the document stays as it was.
    let received = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        am.sync().receive_sync_message(state, message)
    }));
    let failed = |e: String| Error::Server {
        status: 200,
        message: format!("the server's changes to '{}' do not apply: {e}", doc.doc_id),
    };
    received
        .map_err(|_| failed("automerge could not process them".into()))?
        .map_err(|e| failed(e.to_string()))?;
    let new_changes = am.get_changes(&before);
    let got_new = !new_changes.is_empty();
    if got_new && (doc.kind == REPORT_KIND || doc.kind == PROGRESS_KIND) {
        // Loaded again only in this rare case: `am` has the server's changes in it now.
        let stored = if existed {
            documents::load(tx, &doc.doc_id)?
        } else {
            None
        };
        let checked = if doc.kind == REPORT_KIND {
            reply_check::check_report_update(&doc.doc_id, &doc.owner, stored.as_ref(), &am)
        } else {
            reply_check::check_progress_update(&doc.doc_id, stored.as_ref(), &am)
        };
        if let Err(why) = checked {
            return Ok(Applied::Refused(why));
        }
    }
    if got_new {
        if !existed {
            let key = DocumentKey {
                doc_id: &doc.doc_id,
                kind: &doc.kind,
                owner: &doc.owner,
            };
            documents::insert(tx, &key, &mut AutoCommit::new(), now, false)?;
        }
        documents::append_changes(tx, &doc.doc_id, &mut am, &new_changes, now, false)?;
        if doc.kind == REPORT_KIND {
            crate::reports::index::write_row_from_doc(tx, &am)?;
        }
    }
    if existed || got_new {
        tx.execute(
            "INSERT INTO sync_docs (doc_id, shared_heads) VALUES (?1, ?2) \
             ON CONFLICT(doc_id) DO UPDATE SET shared_heads = excluded.shared_heads",
            params![doc.doc_id, encode_heads(&state.shared_heads)],
        )?;
    }
    Ok(if got_new {
        Applied::New
    } else {
        Applied::Nothing
    })
}

/// How the exchange of one document stands after a reply.
fn converged(conn: &Connection, doc_id: &str, state: &State) -> Result<Option<Vec<ChangeHash>>> {
    let Some(info) = documents::info(conn, doc_id)? else {
        // The server has nothing either (an empty document): nothing to do.
        return Ok(state
            .their_heads
            .as_ref()
            .filter(|h| h.is_empty())
            .map(|_| Vec::new()));
    };
    let mut theirs = state.their_heads.clone().unwrap_or_default();
    theirs.sort();
    Ok((theirs == info.heads).then_some(info.heads))
}

impl crate::Waystation {
    /// Registers the observer told about every sync status change (`None` removes it).
    pub fn set_sync_observer(&self, observer: Option<Arc<dyn SyncObserver>>) {
        *self
            .sync_runtime()
            .observer
            .write()
            .unwrap_or_else(|p| p.into_inner()) = observer;
    }

    fn notify_sync_observer(&self) {
        let observer = self
            .sync_runtime()
            .observer
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(observer) = observer
            && let Ok(status) = self.sync_status()
        {
            observer.sync_status_changed(status);
        }
    }

    /// Syncs with the server now: uploads pending photos, sends every pending document,
    /// receives what changed for this user, and records the outcome in the sync status.
    /// One sync runs at a time per instance; a second caller waits for the first.
    pub fn sync_now(
        &self,
        settings: &SyncSettings,
        transport: &dyn HttpTransport,
    ) -> Result<SyncReport> {
        settings.check_server()?;
        let rt = self.sync_runtime();
        let _one_at_a_time = rt.running.lock().unwrap_or_else(|p| p.into_inner());
        let started = self.now();
        {
            let conn = self.store().write();
            conn.execute(
                "INSERT INTO sync_meta (id, server, cursor, last_attempt) VALUES (1, ?1, 0, ?2) \
                 ON CONFLICT(id) DO UPDATE SET last_attempt = excluded.last_attempt",
                params![settings.server, rfc3339(started)],
            )?;
        }
        rt.in_progress.store(true, Ordering::SeqCst);
        self.notify_sync_observer();
        // `GET /v1/me`, asked at most once in this sync, by whichever step needs it first.
        let mut account = AccountQuery::default();
        let mut result = self.sync_inner(settings, transport, true, &mut account);
        // Who this device is, for the core's own checks of case events (sync::account).
        if let Ok(r) = &mut result {
            self.learn_account(settings, transport, r, &mut account);
        }
        let recorded = {
            let conn = self.store().write();
            match &result {
                Ok(_) => conn.execute(
                    "UPDATE sync_meta SET last_success = ?1, last_error = NULL WHERE id = 1",
                    [rfc3339(self.now())],
                ),
                Err(e) => conn.execute(
                    "UPDATE sync_meta SET last_error = ?1 WHERE id = 1",
                    [e.to_string()],
                ),
            }
        };
        rt.in_progress.store(false, Ordering::SeqCst);
        self.notify_sync_observer();
        recorded?;
        result
    }

    /// One sync. When the server turns out to have lost what it acknowledged (`may_reset`,
    /// once per sync), everything is offered again ([`Self::offer_everything_again`]) and the
    /// sync starts over.
    fn sync_inner(
        &self,
        settings: &SyncSettings,
        transport: &dyn HttpTransport,
        may_reset: bool,
        account: &mut AccountQuery,
    ) -> Result<SyncReport> {
        let client = Client {
            settings,
            transport,
        };
        let per_request = settings.max_docs_per_request.clamp(1, MAX_DOCS_PER_REQUEST);
        let mut report = SyncReport::default();
        let mut cursor = meta_for(&mut self.store().write(), &settings.server)?;
        // In memory for this sync only: each document's exchange state.
        let mut states: HashMap<String, State> = HashMap::new();
        // This device's news, sent up to a request's worth at a time.
        let mut dirty: std::collections::VecDeque<LocalDoc> = pending_docs(&self.store().read())?
            .into_iter()
            .filter(|p| !p.refused)
            .map(|p| p.doc)
            .collect();
        // Documents the feed listed, and documents not converged yet, for the next request.
        let mut next: BTreeMap<String, LocalDoc> = BTreeMap::new();
        // The feed has nothing more for the cursor. Only then does a request carry more of
        // this device's news: documents stored on the server while the feed is still paging
        // would come back in its later pages.
        let mut feed_drained = true;
        // The cursor to store once the documents of the last feed page are applied.
        let mut cursor_after_feed: Option<u64> = None;
        let mut first = true;
        let mut more = false;
        // Reports sent again in this sync because the server lacked their photos.
        let mut photo_retries: HashSet<String> = HashSet::new();
        // Case events held from copies an erasure replaced, until the new copies arrive.
        let mut held = Vec::new();
        loop {
            if !first && next.is_empty() && dirty.is_empty() && !more {
                break;
            }
            if report.requests >= MAX_REQUESTS_PER_SYNC {
                return Ok(report);
            }
            // Photos first: a report never counts as synced before its photos. The photos
            // uploaded for a request are those of the reports it carries, so the request links
            // them all (see `PhotoBatch`).
            let mut batch = PhotoBatch::default();
            let mut docs: Vec<LocalDoc> = Vec::new();
            let mut later: Vec<LocalDoc> = Vec::new();
            let mut queue = std::mem::take(&mut next).into_iter();
            for (_, d) in queue.by_ref() {
                if d.kind == REPORT_KIND
                    && !self.upload_photos(&client, &d, &mut report, &mut batch, docs.is_empty())?
                {
                    later.push(d);
                    continue;
                }
                docs.push(d);
                if docs.len() >= per_request {
                    break;
                }
            }
            // Over one request's worth: the rest go in the next request of this sync.
            next.extend(queue);
            next.extend(later.into_iter().map(|d| (d.doc_id.clone(), d)));
            if first || feed_drained {
                let mut later = Vec::new();
                while docs.len() < per_request {
                    let Some(d) = dirty.pop_front() else { break };
                    if d.kind == REPORT_KIND
                        && !self.upload_photos(
                            &client,
                            &d,
                            &mut report,
                            &mut batch,
                            docs.is_empty(),
                        )?
                    {
                        later.push(d);
                        continue;
                    }
                    docs.push(d);
                }
                for d in later.into_iter().rev() {
                    dirty.push_front(d);
                }
            }
            if docs.is_empty()
                && let Some(full) = batch.full
            {
                // Not one report whose photos fit: the quota is taken by uploads this device
                // has no pending report for. The server forgets those after its grace period.
                return Err(full);
            }
            let mut messages = Vec::with_capacity(docs.len());
            let mut sent_docs = Vec::with_capacity(docs.len());
            {
                let conn = self.store().read();
                for d in docs {
                    let mut am = documents::load(&conn, &d.doc_id)?.unwrap_or_default();
                    let state = match states.entry(d.doc_id.clone()) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(starting_state(shared_heads(&conn, &d.doc_id)?))
                        }
                    };
                    if let Some(m) = am.sync().generate_sync_message(state) {
                        messages.push(DocMessage {
                            doc_id: d.doc_id.clone(),
                            kind: d.kind.clone(),
                            message: m.encode(),
                        });
                        sent_docs.push(d);
                    }
                }
            }
            if !first && messages.is_empty() && !more && dirty.is_empty() {
                if let Some(c) = cursor_after_feed.take() {
                    self.store_cursor(c)?;
                }
                break;
            }
            first = false;
            let request = SyncRequest {
                cursor: cursor_after_feed.unwrap_or(cursor),
                docs: messages,
            };
            let mut response: SyncResponse = client.sync(&request, &mut report)?;
            report.requests += 1;
            let sent_ids: Vec<&str> = sent_docs.iter().map(|d| d.doc_id.as_str()).collect();
            reply_check::check_response(&mut response, &sent_ids)?;
            // Copies of a history an erasure replaced go first (decision 0009): the feed then
            // lists the new documents as documents this device never had.
            let adoption = self.adopt_rewritten(&response, &client, &mut report, account)?;
            for doc_id in adoption.dropped {
                states.insert(doc_id, starting_state(Vec::new()));
            }
            held.extend(adoption.held);
            self.check_feed_against_store(&response.changed)?;
            if self.server_lost_data(&response)? && may_reset && self.may_offer_again()? {
                // This response's replies are dropped: every document goes again, from
                // nothing shared, and Automerge sends the server exactly what it lacks.
                self.offer_everything_again(&client, &response.generation, &mut report, account)?;
                let mut again = self.sync_inner(settings, transport, false, account)?;
                again.requests += report.requests;
                again.bytes_sent += report.bytes_sent;
                again.bytes_received += report.bytes_received;
                again.photos_uploaded += report.photos_uploaded;
                return Ok(again);
            }
            let mut messages = Vec::with_capacity(response.docs.len());
            for (d, reply) in sent_docs.iter().zip(&mut response.docs) {
                let message = match reply.message.take() {
                    Some(bytes) => {
                        Some(
                            protocol::decode_sync_message(&bytes).map_err(|e| Error::Server {
                                status: 200,
                                message: format!("the server's reply for '{}': {e}", d.doc_id),
                            })?,
                        )
                    }
                    None => None,
                };
                messages.push(message);
            }
            let missing: HashSet<&str> =
                response.missing_photos.iter().map(String::as_str).collect();
            // Everything this response says is stored in one transaction: one fsync per
            // request, not per document.
            let now = self.now();
            {
                let mut conn = self.store().write();
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                for ((d, reply), message) in sent_docs.into_iter().zip(response.docs).zip(messages)
                {
                    let state = states
                        .get_mut(&d.doc_id)
                        .ok_or_else(|| Error::Internal("sync state vanished".into()))?;
                    let applied = match message {
                        Some(message) => apply_reply(&tx, &d, state, message, now)?,
                        None => Applied::Nothing,
                    };
                    match applied {
                        Applied::New => report.documents_received += 1,
                        Applied::Nothing => {}
                        Applied::Refused(reason) => {
                            // This document alone: the rest of the response is applied. Its
                            // exchange starts over from what the device holds.
                            *state = starting_state(shared_heads(&tx, &d.doc_id)?);
                            record_change_refused(&tx, &d, &reason, now)?;
                            report.refused.push(SyncRefusal {
                                doc_id: d.doc_id,
                                reason,
                                at: now,
                            });
                            continue;
                        }
                    }
                    if let Some(reason) = reply.refused {
                        // A refusal of what the user dismissed ([`crate::Waystation::
                        // dismiss_sync_refusal`]) and has not edited since stays dismissed.
                        if documents::info(&tx, &d.doc_id)?.is_some_and(|i| i.dirty) {
                            record_refusal(&tx, &d, &reason, now)?;
                            report.refused.push(SyncRefusal {
                                doc_id: d.doc_id,
                                reason,
                                at: now,
                            });
                        }
                        continue;
                    }
                    match converged(&tx, &d.doc_id, state)? {
                        Some(heads) => {
                            if d.kind == REPORT_KIND
                                && !missing.is_empty()
                                && self.photos_went_missing(&tx, &d, &missing)?
                            {
                                // Sent again in this sync, once, after its photos; otherwise it
                                // stays pending for the next one.
                                if photo_retries.insert(d.doc_id.clone()) {
                                    states.remove(&d.doc_id);
                                    next.insert(d.doc_id.clone(), d);
                                }
                                continue;
                            }
                            if record_accepted(&tx, &d, &heads, now)? {
                                report.documents_sent += 1;
                            }
                        }
                        None => {
                            next.insert(d.doc_id.clone(), d);
                        }
                    }
                }
                tx.commit()?;
            }
            // Events written offline on a copy an erasure replaced go again on the new copy,
            // in this sync (decision 0009).
            if !held.is_empty() {
                for (doc_id, owner) in self.write_held_events(&mut held)? {
                    dirty.push_back(LocalDoc {
                        doc_id,
                        kind: crate::reports::case::CASE_KIND.to_string(),
                        owner,
                    });
                }
            }
            // The documents this request carried for the previous feed page are applied.
            if let Some(c) = cursor_after_feed.take() {
                self.store_cursor(c)?;
                cursor = c;
            }
            more = response.more;
            feed_drained = !more && response.changed.is_empty();
            if response.changed.is_empty() {
                self.store_cursor(response.cursor)?;
                cursor = response.cursor;
            } else {
                cursor_after_feed = Some(response.cursor);
                let conn = self.store().read();
                for ChangedDoc {
                    doc_id,
                    kind,
                    owner,
                    heads,
                    ..
                } in response.changed
                {
                    // A document this device already holds exactly as the server does (it
                    // sent it in an earlier request of this sync) needs no exchange.
                    let local = documents::info(&conn, &doc_id)?;
                    let same = match (&heads, &local) {
                        (Some(h), Some(info)) => *h == encode_heads(&info.heads) && !info.dirty,
                        _ => false,
                    };
                    if !same {
                        next.entry(doc_id.clone()).or_insert(LocalDoc {
                            doc_id,
                            kind,
                            owner,
                        });
                    }
                }
            }
            self.notify_sync_observer();
        }
        report.complete = true;
        Ok(report)
    }

    /// Refuses a feed that lists a document this device holds under another kind or owner: the
    /// server never changes either, so only a forged feed does.
    fn check_feed_against_store(&self, changed: &[ChangedDoc]) -> Result<()> {
        let conn = self.store().read();
        for entry in changed {
            if let Some(info) = documents::info(&conn, &entry.doc_id)?
                && (info.kind != entry.kind || info.owner != entry.owner)
            {
                return Err(Error::Server {
                    status: 200,
                    message: format!(
                        "the sync response is refused, nothing of it was stored: its feed lists \
                         '{}' with another kind or owner than the document this device holds",
                        entry.doc_id
                    ),
                });
            }
        }
        Ok(())
    }

    /// Whether this device may offer everything again now: not within [`REOFFER_INTERVAL`] of
    /// the last time. A server that changes its generation at every sync (broken, or hostile
    /// to a metered data plan) gets one full upload a day; a refusal is recorded for the sync
    /// status, and the request is granted once the interval has passed if the server still
    /// makes it.
    fn may_offer_again(&self) -> Result<bool> {
        let now = self.now();
        let conn = self.store().write();
        let last: Option<String> =
            conn.query_row("SELECT reoffered_at FROM sync_meta WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        let allowed = match parse_time(last) {
            None => true,
            // A clock set back by more than the interval does not block re-offers forever.
            Some(at) => (now - at).abs() >= REOFFER_INTERVAL,
        };
        if !allowed {
            conn.execute(
                "UPDATE sync_meta SET reoffer_held_back_at = ?1 WHERE id = 1",
                [rfc3339(now)],
            )?;
        }
        Ok(allowed)
    }

    /// Whether `response` says the server lost what it had acknowledged: it asks for a reset
    /// (the cursor lies beyond its feed), or its store generation changed (an administrator
    /// marked the database as restored from a backup). The first generation seen is recorded.
    fn server_lost_data(&self, response: &SyncResponse) -> Result<bool> {
        if response.reset {
            return Ok(true);
        }
        let conn = self.store().write();
        if response.generation.is_empty() {
            return Ok(false);
        }
        let known: Option<String> = conn.query_row(
            "SELECT server_generation FROM sync_meta WHERE id = 1",
            [],
            |r| r.get(0),
        )?;
        match known {
            Some(g) if g != response.generation => Ok(true),
            Some(_) => {
                // The server no longer asks: a re-offer held back is no longer news.
                conn.execute(
                    "UPDATE sync_meta SET reoffer_held_back_at = NULL \
                     WHERE id = 1 AND reoffer_held_back_at IS NOT NULL",
                    [],
                )?;
                Ok(false)
            }
            None => {
                conn.execute(
                    "UPDATE sync_meta SET server_generation = ?1 WHERE id = 1",
                    [&response.generation],
                )?;
                Ok(false)
            }
        }
    }

    /// After the server lost data: forgets everything this device believed the server held
    /// (shared heads, refusals, uploaded photos, the feed cursor) and marks for sending every
    /// document this account writes: its reports (which also go back to pending in the
    /// outbox) and training progress, and the cases when it is a follow-up role (asked of
    /// `GET /v1/me`). Documents others wrote are fetched again through the feed; their writers'
    /// devices offer them.
    fn offer_everything_again(
        &self,
        client: &Client,
        generation: &str,
        report: &mut SyncReport,
        account: &mut AccountQuery,
    ) -> Result<()> {
        let me = account.get(client, report)?;
        let follow_up = policy::Role::from_str(&me.role)
            .map(|r| r.case_role().is_some())
            .unwrap_or(false);
        let mut conn = self.store().write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM sync_docs", [])?;
        tx.execute("DELETE FROM photo_uploads", [])?;
        tx.execute(
            "UPDATE sync_meta SET cursor = 0, server_generation = NULLIF(?1, ''), \
             reoffered_at = ?2, reoffer_held_back_at = NULL WHERE id = 1",
            params![generation, rfc3339(self.now())],
        )?;
        tx.execute(
            "DELETE FROM report_outbox WHERE report_id IN \
             (SELECT substr(doc_id, 8) FROM documents WHERE kind = ?1 AND owner = ?2)",
            params![REPORT_KIND, me.user],
        )?;
        tx.execute(
            "UPDATE documents SET dirty = 1 WHERE (kind IN (?1, ?2) AND owner = ?3) \
             OR (?4 AND kind = ?5)",
            params![REPORT_KIND, PROGRESS_KIND, me.user, follow_up, CASE_KIND],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn store_cursor(&self, cursor: u64) -> Result<()> {
        self.store().write().execute(
            "UPDATE sync_meta SET cursor = ?1 WHERE id = 1",
            [cursor as i64],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_starting_state_sends_everything_since_the_shared_heads() {
        use automerge::transaction::Transactable;
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "a", 1).unwrap();
        doc.commit();
        let shared = doc.get_heads();
        doc.put(automerge::ROOT, "b", 2).unwrap();
        doc.commit();
        let mut server = doc.fork_at(&shared).unwrap();
        let mut state = starting_state(shared);
        let msg = doc.sync().generate_sync_message(&mut state).unwrap();
        assert_eq!(
            msg.changes.len(),
            1,
            "the change since the shared heads goes at once"
        );
        let mut server_state = State::new();
        server
            .sync()
            .receive_sync_message(&mut server_state, msg)
            .unwrap();
        assert_eq!(server.get_heads(), doc.get_heads());
    }
}
