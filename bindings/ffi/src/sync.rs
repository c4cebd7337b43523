//! The `SyncClient` object (`waystation.sync()`) over the core's sync handle. `run` is async
//! on the one executor ([`crate::executor`]); a cancelled run stops at its next safe point and
//! releases the sync lock. `HttpClient` lets a shell bring its own HTTP stack.

use std::sync::Arc;
use std::time::Duration;

use waystation_core as core;
use waystation_core::sync::{
    self as core_sync, KnownAccount, Subscription, SyncObserver, SyncRefusal, SyncReport,
    SyncSettings, SyncStatus,
};

use crate::Result;
use crate::error::invalid;
use crate::executor::run_blocking;

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
    /// Tries per request (backoff with jitter between), 1..=20; none is 4.
    #[uniffi(default = None)]
    pub attempts: Option<i32>,
    /// Extra trusted CA certificates in PEM; none trusts the platform's only.
    #[uniffi(default = None)]
    pub extra_root_pem: Option<String>,
    /// Allows plain `http://` to a server off this device (the token would travel in clear
    /// text): keep it off on a phone. Loopback `http://` is always allowed.
    #[uniffi(default = false)]
    pub allow_insecure_http: bool,
}

/// A request's timeout when the options name none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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
        Ok(s)
    }

    /// The built-in transport with these options' timeout and certificates.
    pub(crate) fn transport(&self) -> Result<core_sync::ReqwestTransport> {
        let timeout = match self.timeout_ms {
            None => DEFAULT_TIMEOUT,
            Some(ms @ 1..=600_000) => Duration::from_millis(ms as u64),
            Some(ms) => return Err(invalid(format!("timeout_ms must be 1..=600000, got {ms}"))),
        };
        let pem = self.extra_root_pem.as_deref().map(str::as_bytes);
        core_sync::ReqwestTransport::new(timeout, pem).map_err(|e| invalid(e.to_string()))
    }
}

/// Sync with the server: run, status, refusals, status subscriptions.
#[derive(uniffi::Object)]
pub struct SyncClient {
    pub(crate) ws: Arc<core::Waystation>,
}

#[uniffi::export]
impl SyncClient {
    /// Syncs now with the built-in HTTP client: sends what is pending, receives what changed.
    /// Refused documents are not a failure (`refusals()`); an interrupted sync resumes.
    pub async fn run(&self, options: SyncOptions) -> Result<SyncReport> {
        let (settings, transport) = (options.settings()?, options.transport()?);
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

/// One HTTP header.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// One HTTP request, for a shell's `HttpClient`: `method` is `GET`, `HEAD`, `PUT` or `POST`,
/// `url` absolute, `body` empty for `GET`.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

/// One HTTP response, from a shell's `HttpClient`, whatever its status.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HttpResponse {
    pub status: i32,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

/// Why a shell's HTTP client got no response: no connection (offline, refused, DNS, TLS),
/// a timeout, or anything else.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HttpClientError {
    #[error("cannot connect: {reason}")]
    Connect { reason: String },
    #[error("timed out: {reason}")]
    Timeout { reason: String },
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
        use core_sync::TransportError as E;
        let headers = r.headers.into_iter();
        let (method, url, body) = (r.method, r.url, r.body);
        let headers = headers
            .map(|(name, value)| HttpHeader { name, value })
            .collect();
        let resp = match self.0.send(HttpRequest {
            method,
            url,
            headers,
            body,
        }) {
            Ok(resp) => resp,
            Err(HttpClientError::Connect { reason }) => return Err(E::Connect(reason)),
            Err(HttpClientError::Timeout { reason }) => return Err(E::Timeout(reason)),
            Err(HttpClientError::Other { reason }) => return Err(E::Other(reason)),
        };
        let bad = |_| E::Other(format!("the HTTP client gave status {}", resp.status));
        let status = u16::try_from(resp.status).map_err(bad)?;
        let headers = resp
            .headers
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect();
        Ok(core_sync::HttpResponse {
            status,
            headers,
            body: resp.body,
        })
    }
}
