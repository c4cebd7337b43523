//! Sync with a Waystation server, for the shells: the `SyncClient` object
//! (`waystation.sync()`) over the core's sync handle.
//!
//! `run` is async (a Kotlin `suspend` function, Swift `async`, a Python coroutine) on the one
//! executor ([`crate::executor`]). Cancelling the caller's coroutine or task cancels the sync:
//! it stops at its next safe point, an HTTP request in flight is dropped at once, and the sync
//! lock is released, so the next `run` starts straight away. Status observers `subscribe` and
//! keep the returned `Subscription` for as long as they listen; several may listen at once.
//! `HttpClient` lets a shell supply its own HTTP stack instead of the built-in one (reqwest
//! with rustls on one shared runtime).
//!
//! The records (`SyncStatus`, `SyncReport`, `SyncRefusal`, `KnownAccount`), the `SyncObserver`
//! trait and the `Subscription` object are the core's own (`org.waystation.core` in Kotlin).

use std::sync::Arc;
use std::time::Duration;

use waystation_core as core;
use waystation_core::sync::{
    self as core_sync, KnownAccount, Subscription, SyncObserver, SyncRefusal, SyncReport,
    SyncSettings, SyncStatus,
};

use crate::executor::run_blocking;
use crate::{Result, WaystationError};

/// Where and as whom to sync, and how patiently. Only `server` and `token` are required.
#[derive(Clone, Debug, uniffi::Record)]
pub struct SyncOptions {
    /// The server's base URL, e.g. `https://sync.example.org`.
    pub server: String,
    /// The bearer token an administrator issued.
    pub token: String,
    /// Timeout of one HTTP request in milliseconds, 1..=600000; none is 30 seconds.
    #[uniffi(default = None)]
    pub timeout_ms: Option<i64>,
    /// Tries per request before giving up, 1..=20; none is 4. Retries wait with exponential
    /// backoff and jitter.
    #[uniffi(default = None)]
    pub attempts: Option<i32>,
    /// Extra trusted CA certificates in PEM (a private deployment's); none trusts the
    /// platform's only.
    #[uniffi(default = None)]
    pub extra_root_pem: Option<String>,
    /// Allows plain `http://` to a server that is not on this device. Off by default, and it
    /// should stay off on a phone: the token and every report would cross the network in
    /// clear text. `http://` to 127.0.0.1, [::1] or localhost is always allowed.
    #[uniffi(default = false)]
    pub allow_insecure_http: bool,
}

/// A request's timeout when the options name none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

impl SyncOptions {
    /// The core's settings, every option checked.
    pub(crate) fn settings(&self) -> Result<SyncSettings> {
        let mut s = if self.allow_insecure_http {
            SyncSettings::new_allowing_insecure_http(&self.server, &self.token)?
        } else {
            SyncSettings::new(&self.server, &self.token)?
        };
        if let Some(attempts) = self.attempts {
            if !(1..=20).contains(&attempts) {
                return Err(WaystationError::InvalidInput {
                    reason: format!("attempts must be 1..=20, got {attempts}"),
                });
            }
            s.retry.attempts = attempts as u32;
        }
        Ok(s)
    }

    fn timeout(&self) -> Result<Duration> {
        match self.timeout_ms {
            None => Ok(DEFAULT_TIMEOUT),
            Some(ms) if (1..=600_000).contains(&ms) => Ok(Duration::from_millis(ms as u64)),
            Some(ms) => Err(WaystationError::InvalidInput {
                reason: format!("timeout_ms must be 1..=600000, got {ms}"),
            }),
        }
    }

    /// The built-in transport with these options' timeout and certificates.
    pub(crate) fn transport(&self) -> Result<core_sync::ReqwestTransport> {
        core_sync::ReqwestTransport::new(
            self.timeout()?,
            self.extra_root_pem.as_deref().map(str::as_bytes),
        )
        .map_err(|e| WaystationError::InvalidInput {
            reason: e.to_string(),
        })
    }
}

/// Sync with the server: run a sync, the status, refusals, status subscriptions.
#[derive(uniffi::Object)]
pub struct SyncClient {
    ws: Arc<core::Waystation>,
}

impl SyncClient {
    pub(crate) fn new(ws: Arc<core::Waystation>) -> Arc<SyncClient> {
        Arc::new(SyncClient { ws })
    }
}

#[uniffi::export]
impl SyncClient {
    /// Syncs now with the built-in HTTP client: uploads pending photos, sends pending reports,
    /// case events and training progress, and receives what changed for this user. Throws
    /// `Network` when the server cannot be reached (after retries), `Unauthorized` when the
    /// token is refused, `Server` on a server error (its `retryable` says whether trying again
    /// later can help), `Cancelled` when the caller was cancelled. Refused documents are not a
    /// failure (see the report's `refused` and `refusals()`). Safe to call again at any time:
    /// an interrupted sync resumes.
    pub async fn run(&self, options: SyncOptions) -> Result<SyncReport> {
        let settings = options.settings()?;
        let transport = options.transport()?;
        let ws = self.ws.clone();
        run_blocking(move |cancel| ws.sync().run(&settings, &transport, cancel)).await
    }

    /// `run` through the shell's own HTTP client. A request it is sending when the caller is
    /// cancelled is not interrupted (the client is blocking); its answer is dropped.
    pub async fn run_with(
        &self,
        options: SyncOptions,
        client: Arc<dyn HttpClient>,
    ) -> Result<SyncReport> {
        let settings = options.settings()?;
        let transport = ClientBridge(client);
        let ws = self.ws.clone();
        run_blocking(move |cancel| ws.sync().run(&settings, &transport, cancel)).await
    }

    /// The sync status (pending documents and photos, refusals, last success and error).
    pub fn status(&self) -> Result<SyncStatus> {
        Ok(self.ws.sync().status()?)
    }

    /// Documents the server refused at their current state, with reasons.
    pub fn refusals(&self) -> Result<Vec<SyncRefusal>> {
        Ok(self.ws.sync().refusals()?)
    }

    /// Dismisses the refusal of `doc_id` the user cannot fix by editing: it leaves the status
    /// and `refusals()`, and the document stops waiting to be sent. Nothing is deleted; a
    /// refused report keeps its refused state and reason, and a new edit sends it again.
    pub fn dismiss(&self, doc_id: String) -> Result<()> {
        Ok(self.ws.sync().dismiss(&doc_id)?)
    }

    /// Tells `observer` about every status change until the returned subscription is closed
    /// (Kotlin `close()`, or `unsubscribe()`) or released. Several observers may listen at
    /// once. The observer is called on the syncing thread: hop to the UI thread and return
    /// quickly. `statusFlow()` (Kotlin) and `statusStream()` (Swift) wrap this.
    pub fn subscribe(&self, observer: Arc<dyn SyncObserver>) -> Arc<Subscription> {
        Arc::new(self.ws.sync().subscribe(observer))
    }

    /// The account this device syncs as (user, role, districts), as its server last
    /// described it; none before the first complete sync.
    pub fn account(&self) -> Result<Option<KnownAccount>> {
        Ok(self.ws.sync().account()?)
    }
}

/// One HTTP header.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HttpHeader {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// One HTTP request, for a shell-supplied `HttpClient`.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HttpRequest {
    /// `GET`, `HEAD`, `PUT` or `POST`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<HttpHeader>,
    /// Body (empty for `GET`).
    pub body: Vec<u8>,
}

/// One HTTP response, from a shell-supplied `HttpClient`.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<HttpHeader>,
    /// Body.
    pub body: Vec<u8>,
}

/// Why a shell's HTTP client got no response.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HttpClientError {
    /// No connection (offline, refused, DNS, TLS).
    #[error("cannot connect: {reason}")]
    Connect { reason: String },
    /// Timed out.
    #[error("timed out: {reason}")]
    Timeout { reason: String },
    /// Anything else.
    #[error("transport failed: {reason}")]
    Other { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for HttpClientError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HttpClientError::Other { reason: e.reason }
    }
}

/// A shell's own HTTP stack (OkHttp, URLSession) for sync. Blocking: `send` returns when the
/// response has arrived; it is called on a background thread.
#[uniffi::export(with_foreign)]
pub trait HttpClient: Send + Sync {
    /// Sends one request and returns the response, whatever its status.
    fn send(&self, request: HttpRequest) -> std::result::Result<HttpResponse, HttpClientError>;
}

struct ClientBridge(Arc<dyn HttpClient>);

impl core_sync::HttpTransport for ClientBridge {
    fn send(
        &self,
        r: core_sync::HttpRequest,
    ) -> std::result::Result<core_sync::HttpResponse, core_sync::TransportError> {
        let pair = |(name, value)| HttpHeader { name, value };
        let request = HttpRequest {
            method: r.method,
            url: r.url,
            headers: r.headers.into_iter().map(pair).collect(),
            body: r.body,
        };
        use core_sync::TransportError as E;
        match self.0.send(request) {
            Ok(resp) => Ok(core_sync::HttpResponse {
                status: resp.status,
                headers: resp
                    .headers
                    .into_iter()
                    .map(|h| (h.name, h.value))
                    .collect(),
                body: resp.body,
            }),
            Err(HttpClientError::Connect { reason }) => Err(E::Connect(reason)),
            Err(HttpClientError::Timeout { reason }) => Err(E::Timeout(reason)),
            Err(HttpClientError::Other { reason }) => Err(E::Other(reason)),
        }
    }
}
