//! The `SyncClient` object (`waystation.sync()`) over the core's sync handle. `run` is async
//! on the one executor ([`crate::executor`]); a cancelled run stops at its next safe point and
//! releases the sync lock. Requests go through the `Waystation`'s transport
//! ([`crate::transport`]).

use std::sync::Arc;

use waystation_core as core;
use waystation_core::sync::{
    KnownAccount, Subscription, SyncObserver, SyncOptions, SyncRefusal, SyncReport, SyncStatus,
};

use crate::Result;
use crate::executor::run_blocking;
use crate::transport::Http;

/// Sync with the server: run, status, refusals, status subscriptions.
#[derive(uniffi::Object)]
pub struct SyncClient {
    pub(crate) ws: Arc<core::Waystation>,
    pub(crate) http: Http,
}

#[uniffi::export]
impl SyncClient {
    /// Syncs now through the `Waystation`'s transport: sends what is pending, receives what
    /// changed. Refused documents are not a failure (`refusals()`); an interrupted sync
    /// resumes.
    pub async fn run(&self, options: SyncOptions) -> Result<SyncReport> {
        let (settings, transport) = self.http.connect(&options)?;
        let ws = self.ws.clone();
        run_blocking(move |cancel| ws.sync().run(&settings, &*transport, cancel)).await
    }

    /// The sync status (pending, refusals, last success and error).
    pub fn status(&self) -> Result<SyncStatus> {
        Ok(self.ws.sync().status()?)
    }

    /// Documents the server refused at their current state, with reasons.
    pub fn refusals(&self) -> Result<Vec<SyncRefusal>> {
        Ok(self.ws.sync().refusals()?)
    }

    /// Dismisses the refusal of `doc_id` (nothing is deleted; a new edit sends it again).
    pub fn dismiss(&self, doc_id: String) -> Result<()> {
        Ok(self.ws.sync().dismiss(&doc_id)?)
    }

    /// Tells `observer` (on the syncing thread) about every status change until the returned
    /// subscription is closed or released. Several may listen at once. `statusFlow()`
    /// (Kotlin) and `statusStream()` (Swift) wrap this.
    pub fn subscribe(&self, observer: Arc<dyn SyncObserver>) -> Arc<Subscription> {
        Arc::new(self.ws.sync().subscribe(observer))
    }

    /// The account this device syncs as, as its server last described it.
    pub fn account(&self) -> Result<Option<KnownAccount>> {
        Ok(self.ws.sync().account()?)
    }
}
