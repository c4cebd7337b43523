//! The `SyncClient` object (`waystation.sync()`) over the core's sync handle. `run` is async
//! on the one executor ([`crate::executor`]); a cancelled run stops at its next safe point and
//! releases the sync lock. Requests go through the `Waystation`'s transport
//! ([`crate::transport`]).

use std::sync::Arc;
use std::time::Duration;

use waystation_core as core;
use waystation_core::sync::{
    KnownAccount, Subscription, SyncObserver, SyncRefusal, SyncReport, SyncSettings, SyncStatus,
};

use crate::Result;
use crate::error::invalid;
use crate::executor::run_blocking;
use crate::transport::Http;

/// Where and as whom to sync, and how patiently. Only `server` and `token` are required.
#[derive(Clone, Debug, uniffi::Record)]
pub struct SyncOptions {
    /// The server's base URL, e.g. `https://sync.example.org`.
    pub server: String,
    /// The bearer token an administrator issued.
    pub token: String,
    /// Timeout of one HTTP request (connect, send and read) in milliseconds, 1..=600000; none
    /// is 30 seconds. Every transport gets it with the request.
    #[uniffi(default = None)]
    pub timeout_ms: Option<i64>,
    /// Tries per request (backoff with jitter between), 1..=20; none is 4.
    #[uniffi(default = None)]
    pub attempts: Option<i32>,
    /// Extra trusted CA certificates in PEM for the built-in transport; none trusts the
    /// platform's only. Refused with an app's `HttpTransport`: configure trust there.
    #[uniffi(default = None)]
    pub extra_root_pem: Option<String>,
    /// Allows plain `http://` to a server off this device (the token would travel in clear
    /// text): keep it off on a phone. Loopback `http://` is always allowed.
    #[uniffi(default = false)]
    pub allow_insecure_http: bool,
}

impl SyncOptions {
    /// The core's settings, every option checked.
    pub(crate) fn settings(&self) -> Result<SyncSettings> {
        let (server, token) = (&self.server, &self.token);
        let mut s = match self.allow_insecure_http {
            true => SyncSettings::new_allowing_insecure_http(server, token)?,
            false => SyncSettings::new(server, token)?,
        };
        if let Some(n) = self.attempts {
            s.retry.attempts = u32::try_from(n)
                .ok()
                .filter(|n| (1..=20).contains(n))
                .ok_or_else(|| invalid(format!("attempts must be 1..=20, got {n}")))?;
        }
        s.timeout = match self.timeout_ms {
            None => s.timeout,
            Some(ms @ 1..=600_000) => Duration::from_millis(ms as u64),
            Some(ms) => return Err(invalid(format!("timeout_ms must be 1..=600000, got {ms}"))),
        };
        Ok(s)
    }
}

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
        let (settings, transport) = (options.settings()?, self.http.transport(&options)?);
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
