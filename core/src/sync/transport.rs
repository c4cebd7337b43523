//! How sync reaches the server: an [`HttpTransport`] trait, so a shell can supply its
//! platform's HTTP stack (OkHttp, URLSession: the FFI's foreign `HttpTransport`), and the
//! built-in transport on reqwest with rustls and the ring crypto provider (the CLI, Python,
//! desktop; behind the `http` feature, which phone builds leave out).
//!
//! The trait is blocking on purpose: sync, pack fetch and photo fetch run on a worker thread
//! (the FFI's executor) between SQLite transactions and Automerge's CPU work, and a blocking
//! call keeps the retry loop, the locks and the cancel token plain code. Async HTTP stacks, the
//! built-in one and the apps' (bridged by the FFI), are waited on by [`wait_for_answer`] on
//! that thread (docs/decisions/0012-transport.md). The request and response records are the
//! ones the apps' transports see.
//!
//! A request carries its own timeout and body cap, so every transport is held to the same
//! limits; retries, `Retry-After`, backoff and the mapping of statuses to errors are the core's ([`super::http`]), the same over every transport.
//!
//! The built-in transport runs reqwest's async client on one shared tokio runtime (one thread,
//! `waystation-http`, for the whole process) rather than reqwest's blocking client, which
//! starts a thread per client. The calling thread waits for the answer; a cancelled
//! [`CancelToken`] wakes it at once and drops the request in flight, so a cancelled sync
//! releases its lock without waiting for a slow server's answer or the request's timeout.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::cancel::{CancelToken, Waited};

/// A request's timeout when its maker names none (connect, send and read together).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long past a request's own timeout the device waits for an async transport that does
/// not honour it (an app's), before giving up with a timeout of its own.
pub const TRANSPORT_GRACE: Duration = Duration::from_secs(5);

/// One HTTP header. A name may repeat.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HttpHeader {
    /// The header's name, in any case.
    pub name: String,
    /// Its value.
    pub value: String,
}

impl HttpHeader {
    /// A header.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> HttpHeader {
        HttpHeader {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// One HTTP request, as every transport receives it: the built-in one, and an app's own
/// (OkHttp, URLSession) through the FFI, which sees this same record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HttpRequest {
    /// `GET`, `HEAD`, `PUT` or `POST`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// The headers to send.
    pub headers: Vec<HttpHeader>,
    /// Body; empty for `GET` and `HEAD`.
    pub body: Vec<u8>,
    /// The whole call's time limit in milliseconds (connect, send and read), at least 1: the
    /// sync settings' timeout ([`super::SyncSettings::timeout`]), so every transport honours
    /// the same.
    pub timeout_ms: i64,
    /// Stop reading the body past this many bytes and fail with "too large", whatever
    /// `Content-Length` says; at least 1. The device holds the transport to it as well.
    pub max_body_bytes: i64,
}

impl HttpRequest {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// [`Self::timeout_ms`] as a duration (at least 1 ms).
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.timeout_ms).unwrap_or(0).max(1))
    }

    /// [`Self::max_body_bytes`] as a length (0 when negative).
    pub fn max_body(&self) -> usize {
        usize::try_from(self.max_body_bytes.max(0)).unwrap_or(usize::MAX)
    }

    /// `METHOD /path`, for errors and logs: no host, no query, nothing personal.
    pub fn describe(&self) -> String {
        let path = (self.url.split_once("://"))
            .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("/");
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let path: String = path.chars().take(120).collect();
        format!("{} {path}", self.method)
    }
}

/// One HTTP response, whatever its status (a 401 or 503 is a response, not a transport error:
/// the device retries and maps statuses the same for every transport). The FFI's own
/// `HttpResponse` has the same fields: uniffi's Kotlin cannot return another crate's record
/// from an async callback (the generated code mixes the two packages' `RustBuffer` classes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code. One outside 100..=599 is the transport's fault, and refused as such.
    pub status: i32,
    /// The headers received.
    pub headers: Vec<HttpHeader>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [HttpHeader], name: &str) -> Option<&'a str> {
    (headers.iter())
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Why a request got no HTTP response at all. The device shows the reason (bounded, control
/// characters removed) in errors and logs: keep tokens and bodies out of it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection could be made (no network, refused, DNS, TLS handshake).
    #[error("cannot reach the server: {0}")]
    Connect(String),
    /// The request or the response took too long.
    #[error("the server did not answer in time: {0}")]
    Timeout(String),
    /// Anything else that went wrong on the way.
    #[error("HTTP transport failed: {0}")]
    Other(String),
    /// The caller cancelled ([`CancelToken`]) before the answer arrived; the request was
    /// dropped.
    #[error("cancelled")]
    Cancelled,
    /// The response body was longer than the request's `max_body_bytes`; what arrived was
    /// dropped.
    #[error("the response body is over {limit} bytes; it was not read")]
    TooLarge {
        /// The most bytes accepted.
        limit: usize,
    },
}

/// Sends HTTP requests for sync, pack fetch and photo fetch. Blocking, not async: the callers
/// run on a worker thread between SQLite transactions and Automerge's CPU work, where a
/// blocking call keeps retries, locks and cancellation plain code. Async HTTP stacks (the
/// built-in reqwest one, an app's OkHttp or URLSession through the FFI) are waited on with
/// [`wait_for_answer`].
pub trait HttpTransport: Send + Sync {
    /// Sends one request and returns the response, whatever its status. A body over the
    /// request's `max_body_bytes` should end the read with [`TransportError::TooLarge`], and a
    /// cancelled `cancel` should end the wait with [`TransportError::Cancelled`]: sync must not
    /// hold an unbounded reply in memory, nor keep a cancelled sync (and its lock) waiting for
    /// a slow answer. A transport that cannot do either is still held to both by the caller,
    /// which checks the token before and after the call and the body's length after it.
    fn send(
        &self,
        request: HttpRequest,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError>;
}

/// Waits on this thread for an async transport's `answer` to `request`: a cancelled `cancel`
/// ends the wait at once and drops the future (the request in flight with it), and so does the
/// request's timeout plus [`TRANSPORT_GRACE`] when the transport does not honour its timeout.
pub fn wait_for_answer<F>(
    request_was: &str,
    timeout: Duration,
    answer: F,
    cancel: &CancelToken,
) -> Result<HttpResponse, TransportError>
where
    F: Future<Output = Result<HttpResponse, TransportError>>,
{
    match cancel.block_on(answer, Instant::now() + timeout + TRANSPORT_GRACE) {
        Waited::Done(answer) => answer,
        Waited::Cancelled => Err(TransportError::Cancelled),
        Waited::TimedOut => Err(TransportError::Timeout(format!(
            "the transport gave no answer to {request_was} within its timeout of {} ms",
            timeout.as_millis()
        ))),
    }
}

/// The built-in transport: reqwest's async client with rustls (ring provider) and the
/// platform's certificate verifier, driven by the one shared runtime ([`runtime`]).
#[cfg(feature = "http")]
#[derive(Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

/// The process's one HTTP runtime: a current-thread tokio runtime driven by one thread of its
/// own (`waystation-http`), made on the first request. Every [`ReqwestTransport`] shares it
/// (and so its connection handling); no request starts a thread. Current-thread rather than
/// the multi-thread scheduler: one thread is all it runs, and the multi-thread scheduler costs
/// the phone library about its weight in code (docs/benchmarks.md, "Library size").
#[cfg(feature = "http")]
fn runtime() -> Result<tokio::runtime::Handle, TransportError> {
    static HANDLE: std::sync::Mutex<Option<tokio::runtime::Handle>> = std::sync::Mutex::new(None);
    let mut handle = HANDLE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(h) = handle.as_ref() {
        return Ok(h.clone());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| TransportError::Other(format!("starting the HTTP runtime: {e}")))?;
    let h = rt.handle().clone();
    // The thread owns the runtime and drives every task spawned on it, for the process's life.
    std::thread::Builder::new()
        .name("waystation-http".into())
        .spawn(move || rt.block_on(std::future::pending::<()>()))
        .map_err(|e| TransportError::Other(format!("starting the HTTP thread: {e}")))?;
    *handle = Some(h.clone());
    Ok(h)
}

#[cfg(feature = "http")]
impl ReqwestTransport {
    /// The built-in transport. `extra_root_pem` adds trusted CA certificates (a private
    /// deployment's), besides the platform's. Each request's timeout is its own
    /// ([`HttpRequest::timeout`]).
    pub fn new(extra_root_pem: Option<&[u8]>) -> Result<ReqwestTransport, TransportError> {
        // reqwest is built without a default crypto provider; ring keeps the library small.
        // Installing fails only when the process already has one, which is then used.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            // At most this for the connection; the request's own timeout bounds the whole.
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("waystation/", env!("CARGO_PKG_VERSION")))
            // The protocol has no redirects. A captive portal answers with one to its login
            // page; followed, its page would be read as the server's answer.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = extra_root_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| TransportError::Other(format!("extra root certificates: {e}")))?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|e| TransportError::Other(format!("building the HTTP client: {e}")))?;
        Ok(ReqwestTransport { client })
    }
}

#[cfg(feature = "http")]
impl HttpTransport for ReqwestTransport {
    /// Runs the request on the shared runtime and waits for it here; a cancel ends the wait
    /// at once and aborts the request.
    fn send(
        &self,
        request: HttpRequest,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        cancel.check().map_err(|_| TransportError::Cancelled)?;
        let (what, timeout) = (request.describe(), request.timeout());
        // Spawned, not `block_on`: this also works from a thread that is inside another tokio
        // runtime (a server's test), where `block_on` would panic.
        let task = runtime()?.spawn(fetch(self.client.clone(), request));
        let _abort = Abort(task.abort_handle());
        let answer = async move {
            task.await
                .unwrap_or_else(|e| Err(TransportError::Other(format!("the HTTP task ended: {e}"))))
        };
        wait_for_answer(&what, timeout, answer, cancel)
    }
}

/// Aborts the request's task when the wait for it ends, however it ends (a no-op once done).
#[cfg(feature = "http")]
struct Abort(tokio::task::AbortHandle);

#[cfg(feature = "http")]
impl Drop for Abort {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One request on the async client: reads the body as it streams in and stops past
/// `max_body_bytes`. A `Content-Length` over the limit ends the request before any of the body
/// is read; one under it is not believed, the count of bytes read is what counts.
#[cfg(feature = "http")]
async fn fetch(
    client: reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, TransportError> {
    let (what, max_body_bytes) = (request.describe(), request.max_body());
    let too_large = || TransportError::TooLarge {
        limit: max_body_bytes,
    };
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|e| TransportError::Other(format!("method '{}': {e}", request.method)))?;
    let mut req = client
        .request(method, &request.url)
        .timeout(request.timeout());
    for h in &request.headers {
        req = req.header(&h.name, &h.value);
    }
    if !request.body.is_empty() {
        req = req.body(request.body);
    }
    let classify = |e: reqwest::Error| {
        if e.is_timeout() {
            TransportError::Timeout(e.to_string())
        } else if e.is_connect() {
            TransportError::Connect(format!("{e}: {}", source_chain(&e)))
        } else {
            TransportError::Other(format!("{e}: {}", source_chain(&e)))
        }
    };
    let mut resp = req.send().await.map_err(classify)?;
    let status = i32::from(resp.status().as_u16());
    let headers = (resp.headers().iter())
        .filter_map(|(n, v)| Some(HttpHeader::new(n.as_str(), v.to_str().ok()?)))
        .collect();
    if resp
        .content_length()
        .is_some_and(|len| len > max_body_bytes as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        let chunk = resp.chunk().await.map_err(|e| {
            if e.is_timeout() {
                TransportError::Timeout(format!("reading the response to {what}: {e}"))
            } else {
                TransportError::Other(format!("reading the response to {what}: {e}"))
            }
        })?;
        let Some(chunk) = chunk else { break };
        if body.len().saturating_add(chunk.len()) > max_body_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

#[cfg(feature = "http")]
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}
