//! `ws.sync()`: the device's sync API.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::account::{self, AccountQuery, KnownAccount};
use super::device::Device;
use super::exchange::Exchange;
use super::http::Client;
use super::ledger;
use super::settings::SyncSettings;
use super::status::{self, Subscription, SyncObserver, SyncRefusal, SyncReport, SyncStatus};
use super::transport::HttpTransport;
use crate::Waystation;
use crate::cancel::CancelToken;
use crate::error::{Error, Result};

const LOG: &str = "waystation::sync";

/// Sync with a Waystation server, from [`Waystation::sync`]: run a sync, read the status and
/// the refusals, dismiss a refusal, subscribe to status changes, and the account the server
/// says this device syncs as.
#[derive(Clone, Copy, Debug)]
pub struct SyncHandle<'a> {
    ws: &'a Waystation,
}

impl<'a> SyncHandle<'a> {
    pub(crate) fn new(ws: &'a Waystation) -> SyncHandle<'a> {
        SyncHandle { ws }
    }

    /// Runs `f` with what sync needs of this device.
    fn with_device<T>(&self, f: impl FnOnce(Device<'_>) -> T) -> T {
        let ws = self.ws;
        let clock = move || ws.now();
        f(Device::new(
            ws.store(),
            &clock,
            ws.data_dir(),
            ws.sync_runtime(),
        ))
    }

    /// Syncs with the server now: uploads pending photos, sends every pending document,
    /// receives what changed for this user, and records the outcome in the sync status.
    ///
    /// One sync runs at a time per instance; a second caller waits for the first (and stops
    /// waiting when its own `cancel` is cancelled). A cancelled `cancel` stops the sync at its
    /// next safe point, or at once in a request's wait, with [`Error::Cancelled`]: what it
    /// stored stays, the lock is released, and the next sync carries on from there. Refused
    /// documents are not a failure (see [`SyncReport::refused`] and [`Self::refusals`]).
    pub fn run(
        &self,
        settings: &SyncSettings,
        transport: &dyn HttpTransport,
        cancel: &CancelToken,
    ) -> Result<SyncReport> {
        settings.check_server()?;
        let rt = self.ws.sync_runtime();
        let _one_at_a_time = loop {
            match rt.running.try_lock() {
                Ok(guard) => break guard,
                Err(std::sync::TryLockError::Poisoned(p)) => break p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    cancel.sleep(Duration::from_millis(20))?
                }
            }
        };
        cancel.check()?;
        self.with_device(|device| self.run_locked(device, settings, transport, cancel))
    }

    fn run_locked(
        &self,
        device: Device<'_>,
        settings: &SyncSettings,
        transport: &dyn HttpTransport,
        cancel: &CancelToken,
    ) -> Result<SyncReport> {
        ledger::record_attempt(&self.ws.store().write(), &settings.server, self.ws.now())?;
        let running = InProgress::start(device);
        log::debug!(target: LOG, "sync started");
        let client = Client::new(settings, transport, cancel);
        // `GET /v1/me`, asked at most once in this sync, by whichever step needs it first.
        let mut account = AccountQuery::default();
        let mut result = Exchange::new(device, &client, &mut account).and_then(|e| e.run(true));
        // Who this device is, for the core's own checks of case events (sync::account).
        if let Ok(r) = &mut result {
            device.learn_account(&client, r, &mut account);
        }
        let recorded = match &result {
            Ok(r) => {
                log::info!(
                    target: LOG,
                    "sync done: {} requests, {} documents sent, {} received, {} refused, complete: {}",
                    r.requests,
                    r.documents_sent,
                    r.documents_received,
                    r.refused.len(),
                    r.complete
                );
                ledger::record_outcome(&self.ws.store().write(), None, self.ws.now())
            }
            // Cancelled is the user's choice, not a failure to show.
            Err(Error::Cancelled) => {
                log::info!(target: LOG, "sync cancelled");
                Ok(())
            }
            Err(e) => {
                log::warn!(target: LOG, "sync failed: {e}");
                ledger::record_outcome(
                    &self.ws.store().write(),
                    Some(&e.to_string()),
                    self.ws.now(),
                )
            }
        };
        drop(running);
        recorded?;
        result
    }

    /// The sync status: what is pending, refused, and how the last sync went.
    pub fn status(&self) -> Result<SyncStatus> {
        self.with_device(|d| status::status(&d))
    }

    /// Documents the server refused at their current state, with the reasons.
    pub fn refusals(&self) -> Result<Vec<SyncRefusal>> {
        self.with_device(|d| status::refusals(&d))
    }

    /// The user's answer to a refusal they cannot fix by editing (a case event the server
    /// will not take, a report it will not accept): the refusal leaves the status and
    /// [`Self::refusals`], and the document stops waiting to be sent. Nothing is deleted: the
    /// document keeps every change, a refused report keeps its `refused` outbox state and
    /// reason, and the next local edit of the document sends it all again.
    /// [`Error::NotFound`] when `doc_id` has no refusal at its current state.
    pub fn dismiss(&self, doc_id: &str) -> Result<()> {
        self.with_device(|d| status::dismiss(&d, doc_id))
    }

    /// Tells `observer` about every sync status change until the returned [`Subscription`] is
    /// closed or dropped. Several observers may listen at once.
    pub fn subscribe(&self, observer: Arc<dyn SyncObserver>) -> Subscription {
        self.ws.sync_runtime().observers.add(observer)
    }

    /// The account this device syncs as, as its server last described it (`GET /v1/me`);
    /// `None` before the first complete sync.
    pub fn account(&self) -> Result<Option<KnownAccount>> {
        account::known(&self.ws.store().read())
    }
}

/// Marks a sync as running and tells the observers; on drop (also on an early return or a
/// panic) marks it ended and tells them again.
struct InProgress<'a>(Device<'a>);

impl<'a> InProgress<'a> {
    fn start(device: Device<'a>) -> InProgress<'a> {
        device
            .sync_runtime()
            .in_progress
            .store(true, Ordering::SeqCst);
        status::notify(&device);
        InProgress(device)
    }
}

impl Drop for InProgress<'_> {
    fn drop(&mut self) {
        self.0
            .sync_runtime()
            .in_progress
            .store(false, Ordering::SeqCst);
        status::notify(&self.0);
    }
}
