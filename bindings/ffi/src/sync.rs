//! Sync with a Waystation server, for the shells.
//!
//! `sync_now`, `fetch_packs` and `fetch_report_photo` are async: a Kotlin `suspend` function,
//! Swift `async`, a Python coroutine. Each runs the blocking core call on its own thread and
//! completes the foreign future from there, so it works under any executor (coroutines,
//! Swift concurrency, asyncio) and never blocks the caller's thread. `SyncObserver` is a
//! foreign trait the shells implement to refresh their UI; `HttpClient` lets a shell supply its
//! own HTTP stack instead of the built-in one (reqwest with rustls).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use waystation_core::sync as core_sync;

use crate::{Result, Waystation, WaystationError};

/// Where and as whom to sync.
#[derive(Clone, Debug, uniffi::Record)]
pub struct SyncConfig {
    /// The server's base URL, e.g. `https://sync.example.org`.
    pub server: String,
    /// The bearer token an administrator issued.
    pub token: String,
    /// Timeout of one HTTP request, in milliseconds (0 = 30 s).
    pub timeout_ms: u32,
    /// Tries per request before giving up (0 = 4). Retries wait with exponential backoff and
    /// jitter.
    pub attempts: u32,
    /// Extra trusted CA certificates in PEM (a private deployment's), or none.
    pub extra_root_pem: Option<String>,
    /// Allows plain `http://` to a server that is not on this device. Off by default, and it
    /// should stay off on a phone: the token and every report would cross the network in
    /// clear text. `http://` to 127.0.0.1, [::1] or localhost is always allowed.
    #[uniffi(default = false)]
    pub allow_insecure_http: bool,
}

impl SyncConfig {
    fn settings(&self) -> Result<core_sync::SyncSettings> {
        let mut s = if self.allow_insecure_http {
            core_sync::SyncSettings::new_allowing_insecure_http(&self.server, &self.token)?
        } else {
            core_sync::SyncSettings::new(&self.server, &self.token)?
        };
        if self.attempts > 0 {
            s.retry.attempts = self.attempts.min(20);
        }
        Ok(s)
    }

    fn timeout(&self) -> Duration {
        match self.timeout_ms {
            0 => Duration::from_secs(30),
            ms => Duration::from_millis(ms as u64),
        }
    }

    fn transport(&self) -> Result<core_sync::ReqwestTransport> {
        core_sync::ReqwestTransport::new(
            self.timeout(),
            self.extra_root_pem.as_deref().map(str::as_bytes),
        )
        .map_err(|e| WaystationError::InvalidInput {
            reason: e.to_string(),
        })
    }
}

/// What the device knows about syncing.
#[derive(Clone, Debug, uniffi::Record)]
pub struct SyncStatus {
    /// The server last synced with, if any.
    pub server: Option<String>,
    /// A sync is running.
    pub in_progress: bool,
    /// Documents with changes the server does not have and that the next sync sends (never
    /// drafts; refused documents are counted in `refused_documents` instead).
    pub pending_documents: u64,
    /// Photos waiting to upload.
    pub pending_photos: u64,
    /// Documents the server refused at their current state.
    pub refused_documents: u64,
    /// When the last sync started.
    pub last_attempt: Option<SystemTime>,
    /// When a sync last succeeded.
    pub last_success: Option<SystemTime>,
    /// Why the last sync failed; none after a success.
    pub last_error: Option<String>,
    /// When the device last offered everything again because the server said it lost data.
    pub last_reoffer: Option<SystemTime>,
    /// When the server last asked for that again too soon (within 24 h) and the device did
    /// not do it; none when it has not asked since.
    pub reoffer_held_back: Option<SystemTime>,
}

impl From<core_sync::SyncStatus> for SyncStatus {
    fn from(s: core_sync::SyncStatus) -> Self {
        SyncStatus {
            server: s.server,
            in_progress: s.in_progress,
            pending_documents: s.pending_documents,
            pending_photos: s.pending_photos,
            refused_documents: s.refused_documents,
            last_attempt: s.last_attempt.map(Into::into),
            last_success: s.last_success.map(Into::into),
            last_error: s.last_error,
            last_reoffer: s.last_reoffer.map(Into::into),
            reoffer_held_back: s.reoffer_held_back.map(Into::into),
        }
    }
}

/// A document the server refused; the device keeps it.
#[derive(Clone, Debug, uniffi::Record)]
pub struct SyncRefusal {
    /// Document id (`report:…`, `case:…`, `progress:…`).
    pub doc_id: String,
    /// The server's reason.
    pub reason: String,
    /// When.
    pub at: SystemTime,
}

impl From<core_sync::SyncRefusal> for SyncRefusal {
    fn from(r: core_sync::SyncRefusal) -> Self {
        SyncRefusal {
            doc_id: r.doc_id,
            reason: r.reason,
            at: r.at.into(),
        }
    }
}

/// What one sync did.
#[derive(Clone, Debug, uniffi::Record)]
pub struct SyncReport {
    /// Sync requests made.
    pub requests: u32,
    /// Photos uploaded.
    pub photos_uploaded: u32,
    /// Body bytes sent.
    pub bytes_sent: u64,
    /// Body bytes received.
    pub bytes_received: u64,
    /// Documents the server accepted.
    pub documents_sent: u32,
    /// Documents that got changes from the server.
    pub documents_received: u32,
    /// Documents refused in this sync.
    pub refused: Vec<SyncRefusal>,
    /// False when the sync stopped with work left (the next one carries on).
    pub complete: bool,
}

impl From<core_sync::SyncReport> for SyncReport {
    fn from(r: core_sync::SyncReport) -> Self {
        SyncReport {
            requests: r.requests,
            photos_uploaded: r.photos_uploaded,
            bytes_sent: r.bytes_sent,
            bytes_received: r.bytes_received,
            documents_sent: r.documents_sent,
            documents_received: r.documents_received,
            refused: r.refused.into_iter().map(Into::into).collect(),
            complete: r.complete,
        }
    }
}

/// What `fetch_packs` did: pack versions installed (none when unchanged) and lesson images.
#[derive(Clone, Debug, uniffi::Record)]
pub struct PackFetch {
    /// New station pack version.
    pub stations: Option<u64>,
    /// New training pack version.
    pub training: Option<u64>,
    /// Lesson images downloaded and stored.
    pub training_images_fetched: u32,
    /// Why each lesson image still missing could not be stored, one per image (not on the
    /// server, wrong hash, not an image, too large, or another media type than its lesson
    /// declares). The next fetch asks for them again.
    pub training_image_problems: Vec<String>,
}

/// Told about every sync status change. Implemented by the shells to refresh their UI; called
/// on the syncing thread, so hop to the UI thread and return quickly.
#[uniffi::export(with_foreign)]
pub trait SyncObserver: Send + Sync {
    /// The new status.
    fn sync_status_changed(&self, status: SyncStatus);
}

struct ObserverBridge(Arc<dyn SyncObserver>);

impl core_sync::SyncObserver for ObserverBridge {
    fn sync_status_changed(&self, status: core_sync::SyncStatus) {
        self.0.sync_status_changed(status.into());
    }
}

/// One HTTP request, for a shell-supplied `HttpClient`.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HttpRequest {
    /// `GET`, `PUT` or `POST`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<HttpHeader>,
    /// Body (empty for `GET`).
    pub body: Vec<u8>,
}

/// One HTTP header.
#[derive(Clone, Debug, uniffi::Record)]
pub struct HttpHeader {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
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

fn headers_out(h: Vec<(String, String)>) -> Vec<HttpHeader> {
    h.into_iter()
        .map(|(name, value)| HttpHeader { name, value })
        .collect()
}

impl core_sync::HttpTransport for ClientBridge {
    fn send(
        &self,
        r: core_sync::HttpRequest,
    ) -> std::result::Result<core_sync::HttpResponse, core_sync::TransportError> {
        let request = HttpRequest {
            method: r.method,
            url: r.url,
            headers: headers_out(r.headers),
            body: r.body,
        };
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
            Err(HttpClientError::Connect { reason }) => {
                Err(core_sync::TransportError::Connect(reason))
            }
            Err(HttpClientError::Timeout { reason }) => {
                Err(core_sync::TransportError::Timeout(reason))
            }
            Err(HttpClientError::Other { reason }) => Err(core_sync::TransportError::Other(reason)),
        }
    }
}

/// Runs `f` on a new thread and awaits its result without blocking the caller's executor.
async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = futures_channel::oneshot::channel();
    std::thread::Builder::new()
        .name("waystation-sync".into())
        .spawn(move || {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
                    Err(WaystationError::Internal {
                        reason: "sync panicked".into(),
                    })
                });
            let _ = tx.send(result);
        })
        .map_err(|e| WaystationError::Internal {
            reason: format!("cannot start the sync thread: {e}"),
        })?;
    rx.await.unwrap_or_else(|_| {
        Err(WaystationError::Internal {
            reason: "the sync thread ended without an answer".into(),
        })
    })
}

#[uniffi::export]
impl Waystation {
    /// Syncs now with the built-in HTTP client: uploads pending photos, sends pending reports,
    /// case events and training progress, and receives what changed for this user. Fails with
    /// `Network` when the server cannot be reached (after retries), `Unauthorized` when the
    /// token is refused, `Server` on a server error; refused documents are not a failure (see
    /// the report's `refused` and `sync_refusals`). Safe to call again at any time: an
    /// interrupted sync resumes.
    pub async fn sync_now(self: Arc<Self>, config: SyncConfig) -> Result<SyncReport> {
        let settings = config.settings()?;
        let transport = config.transport()?;
        off_thread(move || Ok(self.inner.sync_now(&settings, &transport)?.into())).await
    }

    /// `sync_now` through the shell's own HTTP client.
    pub async fn sync_now_with(
        self: Arc<Self>,
        config: SyncConfig,
        client: Arc<dyn HttpClient>,
    ) -> Result<SyncReport> {
        let settings = config.settings()?;
        let transport = ClientBridge(client);
        off_thread(move || Ok(self.inner.sync_now(&settings, &transport)?.into())).await
    }

    /// The sync status (pending documents and photos, refusals, last success and error).
    pub fn sync_status(&self) -> Result<SyncStatus> {
        Ok(self.inner.sync_status()?.into())
    }

    /// Documents the server refused at their current state, with reasons.
    pub fn sync_refusals(&self) -> Result<Vec<SyncRefusal>> {
        Ok(self
            .inner
            .sync_refusals()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Dismisses the refusal of `doc_id` the user cannot fix by editing: it leaves the status
    /// and `sync_refusals`, and the document stops waiting to be sent. Nothing is deleted; a
    /// refused report keeps its refused state and reason, and a new edit sends it again.
    pub fn dismiss_sync_refusal(&self, doc_id: String) -> Result<()> {
        Ok(self.inner.dismiss_sync_refusal(&doc_id)?)
    }

    /// Registers the observer told about sync status changes; none removes it.
    pub fn set_sync_observer(&self, observer: Option<Arc<dyn SyncObserver>>) {
        self.inner.set_sync_observer(
            observer.map(|o| Arc::new(ObserverBridge(o)) as Arc<dyn core_sync::SyncObserver>),
        );
    }

    /// Fetches and installs newer station and training packs from the server (conditional
    /// requests; signature-checked import), then the lesson images the device lacks, each
    /// checked against its SHA-256 (`trainingImagePath` finds them). A bad image is skipped
    /// and named in the result; no network, a refused token, 429 or a 5xx throw after the packs
    /// it installed (they stay).
    pub async fn fetch_packs(self: Arc<Self>, config: SyncConfig) -> Result<PackFetch> {
        let settings = config.settings()?;
        let transport = config.transport()?;
        off_thread(move || {
            let f = self.inner.fetch_packs(&settings, &transport)?;
            Ok(PackFetch {
                stations: f.stations,
                training: f.training,
                training_images_fetched: f.training_images_fetched,
                training_image_problems: f.training_image_problems,
            })
        })
        .await
    }

    /// Downloads a report photo this device lacks (follow-up roles), checks its hash, and
    /// returns the local file path.
    pub async fn fetch_report_photo(
        self: Arc<Self>,
        config: SyncConfig,
        sha256: String,
    ) -> Result<String> {
        let settings = config.settings()?;
        let transport = config.transport()?;
        off_thread(move || {
            let path = self
                .inner
                .fetch_report_photo(&settings, &transport, &sha256)?;
            Ok(path.display().to_string())
        })
        .await
    }
}
