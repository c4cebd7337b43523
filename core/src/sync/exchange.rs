//! The exchange: one sync's requests to the server, and applying what comes back.
//!
//! See `docs/sync-protocol.md` for the protocol. In short, one sync is a few `POST /v1/sync`
//! requests: the first carries every dirty document (each as an Automerge sync message that
//! already holds all changes since the heads last shared with the server), the next ones the
//! documents the server's change feed listed. Everything the device learns is stored durably
//! before it moves on, and the feed cursor only after the documents it covers, so killing the
//! app anywhere in a sync and syncing again converges with no duplicates.
//!
//! [`Exchange`] holds one sync's state; each request is one [`Exchange::round`] of named steps:
//! choose the documents (with their photos), make their messages, send, adopt an erasure's
//! new histories, apply the replies, write held case events again, follow the feed. A
//! cancelled token stops it between two rounds, between two photos, or in a request's wait;
//! what earlier rounds stored stays stored.

use automerge::sync::{State, SyncDoc};
use rusqlite::TransactionBehavior;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::str::FromStr;

mod reply;

pub use reply::starting_state;
use reply::{Applied, apply_reply, converged, fetching_state};

use super::account::AccountQuery;
use super::device::Device;
use super::erasure::HeldEvents;
use super::http::Client;
use super::ledger::{self, LocalDoc, pending_docs, shared_heads};
use super::photos::PhotoBatch;
use super::protocol::{
    self, ChangedDoc, DocMessage, DocReply, MAX_DOCS_PER_REQUEST, SyncRequest, SyncResponse,
};
use super::status::{self, SyncRefusal, SyncReport};
use super::{policy, reply_check};
use crate::error::{Error, Result};
use crate::reports::case::CASE_KIND;
use crate::reports::document::REPORT_KIND;
use crate::store::documents::{self, encode_heads};

/// Most sync requests in one sync; the next sync carries on.
pub const MAX_REQUESTS_PER_SYNC: i32 = 16;

/// Shortest time between two full re-offers (everything this device writes, sent again because
/// the server said it lost data; decision 0008). A real restore from a backup happens rarely;
/// a server that claims one at every sync would otherwise make a phone upload everything it
/// holds every time. [`super::SyncStatus::reoffer_held_back`] says when a claim was not acted
/// on.
pub const REOFFER_INTERVAL: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// What one round ended with.
enum Round {
    /// More to exchange: another round.
    Again,
    /// Nothing left.
    Done,
    /// The server lost what it had acknowledged; everything was marked to be offered again,
    /// and the sync starts over.
    StartOver,
}

/// One sync's exchange with the server.
pub(super) struct Exchange<'a> {
    ws: Device<'a>,
    client: &'a Client<'a>,
    account: &'a mut AccountQuery,
    /// Documents per request.
    per_request: usize,
    report: SyncReport,
    /// The feed cursor the server knows this device by.
    cursor: u64,
    /// In memory for this sync only: each document's exchange state.
    states: HashMap<String, State>,
    /// This device's news, sent up to a request's worth at a time.
    dirty: VecDeque<LocalDoc>,
    /// Documents the feed listed, and documents not converged yet, for the next request.
    next: BTreeMap<String, LocalDoc>,
    /// The feed has nothing more for the cursor. Only then does a request carry more of this
    /// device's news: documents stored on the server while the feed is still paging would come
    /// back in its later pages.
    feed_drained: bool,
    /// The server has another feed page.
    more: bool,
    /// The cursor to store once the documents of the last feed page are applied.
    cursor_after_feed: Option<u64>,
    /// Reports sent again in this sync because the server lacked their photos.
    photo_retries: HashSet<String>,
    /// Case events held from copies an erasure replaced, until the new copies arrive.
    held: Vec<HeldEvents>,
}

impl<'a> Exchange<'a> {
    /// A sync from what the ledger and the store hold now.
    pub(super) fn new(
        ws: Device<'a>,
        client: &'a Client<'a>,
        account: &'a mut AccountQuery,
    ) -> Result<Exchange<'a>> {
        let per_request = client
            .settings
            .max_docs_per_request
            .clamp(1, MAX_DOCS_PER_REQUEST);
        let cursor = ledger::meta_for(&mut ws.store().write(), &client.settings.server)?;
        let dirty = pending_docs(&ws.store().read())?
            .into_iter()
            .filter(|p| !p.refused)
            .map(|p| p.doc)
            .collect();
        Ok(Exchange {
            ws,
            client,
            account,
            per_request,
            report: SyncReport::default(),
            cursor,
            states: HashMap::new(),
            dirty,
            next: BTreeMap::new(),
            feed_drained: true,
            more: false,
            cursor_after_feed: None,
            photo_retries: HashSet::new(),
            held: Vec::new(),
        })
    }

    /// Exchanges until nothing is left or [`MAX_REQUESTS_PER_SYNC`] requests were made. When
    /// the server turns out to have lost what it acknowledged (`may_start_over`, once per
    /// sync), everything is offered again and the sync starts over.
    pub(super) fn run(mut self, may_start_over: bool) -> Result<SyncReport> {
        // The first request always goes: it asks the feed what changed, even with no news.
        let mut first = true;
        loop {
            self.client.cancel.check()?;
            if !first && self.nothing_left() {
                break;
            }
            if self.report.requests >= MAX_REQUESTS_PER_SYNC {
                log::info!(target: "waystation::sync", "request limit reached; the next sync carries on");
                return Ok(self.report);
            }
            match self.round(first, may_start_over)? {
                Round::Again => first = false,
                Round::Done => break,
                Round::StartOver => {
                    let done = self.report;
                    let mut again =
                        Exchange::new(self.ws, self.client, self.account)?.run(false)?;
                    again.add_counts(&done);
                    return Ok(again);
                }
            }
        }
        self.report.complete = true;
        Ok(self.report)
    }

    fn nothing_left(&self) -> bool {
        self.next.is_empty() && self.dirty.is_empty() && !self.more
    }

    /// One request and what follows from its answer.
    fn round(&mut self, first: bool, may_start_over: bool) -> Result<Round> {
        let mut batch = PhotoBatch::default();
        let docs = self.choose(first, &mut batch)?;
        if docs.is_empty()
            && let Some(full) = batch.full
        {
            // Not one report whose photos fit: the quota is taken by uploads this device has
            // no pending report for. The server forgets those after its grace period.
            return Err(full);
        }
        let (messages, sent) = self.messages(docs)?;
        if !first && messages.is_empty() && !self.more && self.dirty.is_empty() {
            if let Some(c) = self.cursor_after_feed.take() {
                ledger::store_cursor(&self.ws.store().write(), c)?;
            }
            return Ok(Round::Done);
        }
        let mut response = self.send(messages, &sent)?;
        // Copies of a history an erasure replaced go first (decision 0009): the feed then
        // lists the new documents as documents this device never had.
        self.adopt_rewritten(&response)?;
        self.check_feed_against_store(&response.changed)?;
        if self.server_lost_data(&response)? && may_start_over && self.may_offer_again()? {
            // This response's replies are dropped: every document goes again, from nothing
            // shared, and Automerge sends the server exactly what it lacks.
            self.offer_everything_again(&response.generation)?;
            return Ok(Round::StartOver);
        }
        let replies = std::mem::take(&mut response.docs);
        let missing: HashSet<String> = std::mem::take(&mut response.missing_photos)
            .into_iter()
            .collect();
        self.apply(sent, replies, &missing)?;
        self.write_held_events()?;
        self.follow_feed(response)?;
        status::notify(&self.ws);
        Ok(Round::Again)
    }

    /// The documents for the next request: those the feed listed or that have not converged,
    /// then (on the first request, or once the feed is drained) this device's news, up to a
    /// request's worth. Photos go first: a report never counts as synced before its photos,
    /// and the photos uploaded for a request are those of the reports it carries, so the
    /// request links them all ([`PhotoBatch`]).
    fn choose(&mut self, first: bool, batch: &mut PhotoBatch) -> Result<Vec<LocalDoc>> {
        let mut docs: Vec<LocalDoc> = Vec::new();
        let mut later: Vec<LocalDoc> = Vec::new();
        let mut queue = std::mem::take(&mut self.next).into_iter();
        for (_, d) in queue.by_ref() {
            if d.kind == REPORT_KIND && !self.photos_fit(&d, batch, docs.is_empty())? {
                later.push(d);
                continue;
            }
            docs.push(d);
            if docs.len() >= self.per_request {
                break;
            }
        }
        // Over one request's worth: the rest go in the next request of this sync.
        self.next.extend(queue);
        self.next
            .extend(later.into_iter().map(|d| (d.doc_id.clone(), d)));
        if first || self.feed_drained {
            let mut later = Vec::new();
            while docs.len() < self.per_request {
                let Some(d) = self.dirty.pop_front() else {
                    break;
                };
                // A case names photos too: a follow-up account's inspection photos.
                let has_photos = d.kind == REPORT_KIND || d.kind == crate::reports::case::CASE_KIND;
                if has_photos && !self.photos_fit(&d, batch, docs.is_empty())? {
                    later.push(d);
                    continue;
                }
                docs.push(d);
            }
            for d in later.into_iter().rev() {
                self.dirty.push_front(d);
            }
        }
        Ok(docs)
    }

    fn photos_fit(&mut self, d: &LocalDoc, batch: &mut PhotoBatch, first: bool) -> Result<bool> {
        self.ws
            .upload_photos(self.client, d, &mut self.report, batch, first)
    }

    /// Each document's sync message; a document with nothing to say is left out.
    fn messages(&mut self, docs: Vec<LocalDoc>) -> Result<(Vec<DocMessage>, Vec<LocalDoc>)> {
        let mut messages = Vec::with_capacity(docs.len());
        let mut sent = Vec::with_capacity(docs.len());
        let conn = self.ws.store().read();
        for d in docs {
            let held = documents::load(&conn, &d.doc_id)?;
            if held.is_none() {
                // Nothing of it here (the feed listed it, or an erasure dropped this copy):
                // ask for it with no changes, whatever an earlier round of this sync left.
                self.states.insert(d.doc_id.clone(), fetching_state());
            }
            let state = match self.states.entry(d.doc_id.clone()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(starting_state(shared_heads(&conn, &d.doc_id)?))
                }
            };
            let mut am = held.unwrap_or_default();
            if let Some(m) = am.sync().generate_sync_message(state) {
                messages.push(DocMessage {
                    doc_id: d.doc_id.clone(),
                    kind: d.kind.clone(),
                    message: m.encode(),
                });
                sent.push(d);
            }
        }
        Ok((messages, sent))
    }

    /// `POST /v1/sync` with `messages`, from the cursor; the response checked against what was
    /// sent.
    fn send(&mut self, messages: Vec<DocMessage>, sent: &[LocalDoc]) -> Result<SyncResponse> {
        let request = SyncRequest {
            cursor: self.cursor_after_feed.unwrap_or(self.cursor),
            docs: messages,
        };
        let mut response = self.client.sync(&request, &mut self.report)?;
        self.report.requests += 1;
        let sent_ids: Vec<&str> = sent.iter().map(|d| d.doc_id.as_str()).collect();
        reply_check::check_response(&mut response, &sent_ids)?;
        Ok(response)
    }

    fn adopt_rewritten(&mut self, response: &SyncResponse) -> Result<()> {
        let adoption =
            self.ws
                .adopt_rewritten(response, self.client, &mut self.report, self.account)?;
        for doc_id in adoption.dropped {
            self.states.insert(doc_id, starting_state(Vec::new()));
        }
        self.held.extend(adoption.held);
        Ok(())
    }

    /// Refuses a feed that lists a document this device holds under another kind or owner: the
    /// server never changes either, so only a forged feed does.
    fn check_feed_against_store(&self, changed: &[ChangedDoc]) -> Result<()> {
        let conn = self.ws.store().read();
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

    /// Whether `response` says the server lost what it had acknowledged: it asks for a reset
    /// (the cursor lies beyond its feed), or its store generation changed (an administrator
    /// marked the database as restored from a backup). The first generation seen is recorded.
    fn server_lost_data(&self, response: &SyncResponse) -> Result<bool> {
        if response.reset {
            return Ok(true);
        }
        ledger::generation_changed(&self.ws.store().write(), &response.generation)
    }

    /// Whether this device may offer everything again now: not within [`REOFFER_INTERVAL`] of
    /// the last time. A server that changes its generation at every sync (broken, or hostile
    /// to a metered data plan) gets one full upload a day; the request held back is recorded
    /// for the sync status, and granted once the interval has passed if the server still
    /// makes it.
    fn may_offer_again(&self) -> Result<bool> {
        ledger::may_offer_again(&self.ws.store().write(), self.ws.now(), REOFFER_INTERVAL)
    }

    /// After the server lost data: forgets everything this device believed the server held
    /// and marks for sending every document this account writes: its reports (which also go
    /// back to pending in the outbox) and training progress, and the cases when it is a
    /// follow-up role (asked of `GET /v1/me`). Documents others wrote are fetched again through
    /// the feed; their writers' devices offer them.
    fn offer_everything_again(&mut self, generation: &str) -> Result<()> {
        log::warn!(target: "waystation::sync", "the server lost data it had acknowledged; offering everything again");
        let me = self.account.get(self.client, &mut self.report)?;
        let follow_up = policy::Role::from_str(&me.role)
            .map(|r| r.case_role().is_some())
            .unwrap_or(false);
        let mut conn = self.ws.store().write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        ledger::forget_server_state(&tx, generation, self.ws.now())?;
        crate::reports::outbox::resend_all_of(&tx, &me.user)?;
        ledger::mark_to_offer_again(&tx, &me.user, follow_up)?;
        tx.commit()?;
        Ok(())
    }

    /// Applies every reply of a response in one transaction: one fsync per request, not per
    /// document.
    fn apply(
        &mut self,
        sent: Vec<LocalDoc>,
        replies: Vec<DocReply>,
        missing: &HashSet<String>,
    ) -> Result<()> {
        let mut messages = Vec::with_capacity(replies.len());
        for (d, reply) in sent.iter().zip(&replies) {
            let message = match &reply.message {
                Some(bytes) => {
                    Some(
                        protocol::decode_sync_message(bytes).map_err(|e| Error::Server {
                            status: 200,
                            message: format!("the server's reply for '{}': {e}", d.doc_id),
                        })?,
                    )
                }
                None => None,
            };
            messages.push(message);
        }
        let now = self.ws.now();
        let mut conn = self.ws.store().write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for ((d, reply), message) in sent.into_iter().zip(replies).zip(messages) {
            let state = self
                .states
                .get_mut(&d.doc_id)
                .ok_or_else(|| Error::Internal("sync state vanished".into()))?;
            let applied = match message {
                Some(message) => apply_reply(&tx, &d, state, message, now)?,
                None => Applied::Nothing,
            };
            match applied {
                Applied::New => self.report.documents_received += 1,
                Applied::Nothing => {}
                Applied::Refused(reason) => {
                    // This document alone: the rest of the response is applied. Its exchange
                    // starts over from what the device holds.
                    *state = starting_state(shared_heads(&tx, &d.doc_id)?);
                    ledger::record_change_refused(&tx, &d, &reason, now)?;
                    log::info!(target: "waystation::sync", "refused the server's changes to {}", d.doc_id);
                    self.report.refused.push(SyncRefusal {
                        doc_id: d.doc_id,
                        reason,
                        at: now,
                    });
                    continue;
                }
            }
            if let Some(reason) = reply.refused {
                // A refusal of what the user dismissed and has not edited since stays
                // dismissed.
                if documents::info(&tx, &d.doc_id)?.is_some_and(|i| i.dirty) {
                    ledger::record_refusal(&tx, &d, &reason, now)?;
                    log::info!(target: "waystation::sync", "the server refused {}", d.doc_id);
                    self.report.refused.push(SyncRefusal {
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
                        && self.ws.photos_went_missing(&tx, &d, missing)?
                    {
                        // Sent again in this sync, once, after its photos; otherwise it stays
                        // pending for the next one.
                        if self.photo_retries.insert(d.doc_id.clone()) {
                            self.states.remove(&d.doc_id);
                            self.next.insert(d.doc_id.clone(), d);
                        }
                        continue;
                    }
                    if ledger::record_accepted(&tx, &d, &heads, now)? {
                        self.report.documents_sent += 1;
                    }
                }
                None => {
                    self.next.insert(d.doc_id.clone(), d);
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Events written offline on a copy an erasure replaced go again on the new copy, in this
    /// sync (decision 0009).
    fn write_held_events(&mut self) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        for (doc_id, owner) in self.ws.write_held_events(&mut self.held)? {
            self.dirty.push_back(LocalDoc {
                doc_id,
                kind: CASE_KIND.to_string(),
                owner,
            });
        }
        Ok(())
    }

    /// Stores the cursor the applied documents cover, and queues the documents the feed lists
    /// for the next request.
    fn follow_feed(&mut self, response: SyncResponse) -> Result<()> {
        // The documents this request carried for the previous feed page are applied.
        if let Some(c) = self.cursor_after_feed.take() {
            ledger::store_cursor(&self.ws.store().write(), c)?;
            self.cursor = c;
        }
        self.more = response.more;
        self.feed_drained = !response.more && response.changed.is_empty();
        if response.changed.is_empty() {
            ledger::store_cursor(&self.ws.store().write(), response.cursor)?;
            self.cursor = response.cursor;
            return Ok(());
        }
        self.cursor_after_feed = Some(response.cursor);
        let conn = self.ws.store().read();
        for ChangedDoc {
            doc_id,
            kind,
            owner,
            heads,
            ..
        } in response.changed
        {
            // A document this device already holds exactly as the server does (it sent it in
            // an earlier request of this sync) needs no exchange.
            let local = documents::info(&conn, &doc_id)?;
            let same = match (&heads, &local) {
                (Some(h), Some(info)) => *h == encode_heads(&info.heads) && !info.dirty,
                _ => false,
            };
            if !same {
                self.next.entry(doc_id.clone()).or_insert(LocalDoc {
                    doc_id,
                    kind,
                    owner,
                });
            }
        }
        Ok(())
    }
}
