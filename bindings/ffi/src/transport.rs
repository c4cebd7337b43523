//! The apps' own HTTP stack: the foreign trait [`HttpTransport`] (OkHttp on Android, URLSession
//! on iOS), given once to `Waystation::new`, and the bridge that lets the core's blocking
//! transport trait call it ([`Http`]). The request record is the core's; the response is
//! [`HttpResponse`], with the core's fields (see there why it is this crate's). Without
//! a transport, the built-in reqwest one is used where the library was built with the `http`
//! feature (the CLI, Python, desktop, the JVM tests); phone builds leave it out
//! (docs/decisions/0012-transport.md).
//!
//! Why async at the boundary: a Kotlin `suspend fun` or a Swift `async` method is how OkHttp
//! and URLSession are used without blocking a thread of the app's, and uniffi cancels the
//! coroutine or task when the Rust future is dropped (its foreign-future "dropped" callback
//! calls `Job.cancel()` / `Task.cancel()`). The core stays blocking: its worker thread waits
//! on the foreign future ([`core_sync::wait_for_answer`]) and drops it the moment the sync's
//! `CancelToken` fires, so OkHttp's call or URLSession's task is cancelled at once.

use std::sync::Arc;

use waystation_core::CancelToken;
use waystation_core::sync::{
    self as core_sync, HttpRequest, SyncOptions, SyncSettings, TransportError,
};

use crate::Result;

/// The response, whatever its status (a 401 or 503 is a response, not an error). The core's
/// `HttpResponse` with its fields: uniffi's Kotlin cannot return another crate's record from
/// an async callback (the generated code mixes the two packages' `RustBuffer` classes).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    pub status: i32,
    pub headers: Vec<core_sync::HttpHeader>,
    pub body: Vec<u8>,
}

/// Why the app's transport got no response: no connection (offline, refused, DNS, TLS
/// handshake), the request's timeout, a body over `max_body_bytes`, or anything else. Keep
/// personal data (the token, bodies) out of `reason`: it reaches logs and error messages.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum HttpTransportError {
    #[error("cannot connect: {reason}")]
    Connect { reason: String },
    #[error("timed out: {reason}")]
    Timeout { reason: String },
    #[error("the response body is over {limit} bytes")]
    TooLarge { limit: i64 },
    #[error("transport failed: {reason}")]
    Other { reason: String },
}

/// Any exception the app's transport throws that is not an `HttpTransportException`.
impl From<uniffi::UnexpectedUniFFICallbackError> for HttpTransportError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        HttpTransportError::Other { reason: e.reason }
    }
}

/// The core's error for the app transport's (the core bounds and cleans the text it shows).
impl From<HttpTransportError> for TransportError {
    fn from(e: HttpTransportError) -> Self {
        match e {
            HttpTransportError::Connect { reason } => TransportError::Connect(reason),
            HttpTransportError::Timeout { reason } => TransportError::Timeout(reason),
            HttpTransportError::TooLarge { limit } => TransportError::TooLarge {
                limit: usize::try_from(limit).unwrap_or(0),
            },
            HttpTransportError::Other { reason } => {
                TransportError::Other(format!("the app's HTTP transport failed: {reason}"))
            }
        }
    }
}

/// The app's HTTP stack, for sync, pack fetch and photo fetch. `send` returns the response
/// whatever its status; it may run on any thread and is cancelled (coroutine, task) when
/// Waystation no longer wants the answer. Trust (CAs, pinning), proxies and the user agent are
/// the app's: configure them in the platform stack.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync {
    /// Sends one request and returns the response, whatever its status.
    async fn send(
        &self,
        request: HttpRequest,
    ) -> std::result::Result<HttpResponse, HttpTransportError>;
}

/// Which transport a `Waystation`'s sync, pack fetch and photo fetch use: the app's, or the
/// built-in one. Cheap to clone; every handle holds one.
#[derive(Clone, Default)]
pub(crate) struct Http {
    foreign: Option<Arc<dyn HttpTransport>>,
}

impl Http {
    pub(crate) fn new(foreign: Option<Arc<dyn HttpTransport>>) -> Http {
        Http { foreign }
    }

    /// The checked settings of `options`, and the transport for them: the app's, or the
    /// built-in one ([`SyncOptions::transport`]).
    pub(crate) fn connect(
        &self,
        options: &SyncOptions,
    ) -> Result<(SyncSettings, Arc<dyn core_sync::HttpTransport>)> {
        let app = (self.foreign.clone())
            .map(|app| Arc::new(Bridge(app)) as Arc<dyn core_sync::HttpTransport>);
        Ok((options.settings()?, options.transport(app)?))
    }
}

/// The app's async transport as the core's blocking one.
struct Bridge(Arc<dyn HttpTransport>);

impl core_sync::HttpTransport for Bridge {
    /// Waits on this (worker) thread for the app's answer; a cancel, or the request's timeout
    /// plus the core's grace when the app's transport does not honour it, drops the foreign
    /// future at once (uniffi then cancels the coroutine or task).
    fn send(
        &self,
        request: HttpRequest,
        cancel: &CancelToken,
    ) -> std::result::Result<core_sync::HttpResponse, TransportError> {
        let (what, timeout) = (request.describe(), request.timeout());
        let transport = self.0.clone();
        let answer = async move {
            let HttpResponse {
                status,
                headers,
                body,
            } = transport.send(request).await?;
            Ok(core_sync::HttpResponse {
                status,
                headers,
                body,
            })
        };
        core_sync::wait_for_answer(&what, timeout, answer, cancel)
    }
}
