//! How sync reaches the server: an [`HttpTransport`] trait, so a shell can supply its
//! platform's HTTP stack (OkHttp, URLSession: the FFI's foreign `HttpTransport`), and the
//! built-in transport on reqwest with rustls and the ring crypto provider (the CLI, Python,
//! desktop; behind the `http` feature, which phone builds leave out).
//!
//! The trait is blocking on purpose: sync, pack fetch and photo fetch run on a worker thread
//! (the FFI's executor) between SQLite transactions and Automerge's CPU work, and a blocking
//! call keeps the retry loop, the locks and the cancel token plain code. The FFI bridges it to
//! the apps' async transports, waiting on its worker thread (docs/decisions/0012-transport.md).
//!
//! A request carries its own timeout and the caller passes the body cap, so every transport
//! is held to the same limits; retries, `Retry-After`, backoff and the mapping of statuses to
//! errors are the core's ([`super::http`]), the same over every transport.
//!
//! The built-in transport runs reqwest's async client on one shared tokio runtime (one thread,
//! `waystation-http`, for the whole process) rather than reqwest's blocking client, which
//! starts a thread per client. The calling thread waits for the answer; a cancelled
//! [`CancelToken`] wakes it at once and drops the request in flight, so a cancelled sync
//! releases its lock without waiting for a slow server's answer or the request's timeout.

use std::time::Duration;

use crate::cancel::CancelToken;

/// A request's timeout when its maker names none (connect, send and read together).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One HTTP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `HEAD`, `PUT` or `POST`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// Body; empty for `GET` and `HEAD`.
    pub body: Vec<u8>,
    /// The whole request's time limit (connect, send and read): the sync settings' timeout
    /// ([`super::SyncSettings::timeout`]), carried here so every transport honours the same.
    pub timeout: Duration,
}

impl HttpRequest {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// One HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why a request got no HTTP response at all.
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
    /// The response body was longer than the caller accepts; what arrived was dropped.
    #[error("the response to {what} is over {limit} bytes; it was not read")]
    TooLarge {
        /// What was asked, e.g. `POST /v1/sync`.
        what: String,
        /// The most bytes accepted.
        limit: usize,
    },
}

/// Sends HTTP requests for sync, pack fetch and photo fetch. Implementations block until the
/// response (or failure) and must be safe to call from any thread. Blocking, not async: the
/// callers run on a worker thread between SQLite transactions and Automerge's CPU work, where
/// a blocking call keeps retries, locks and cancellation plain code and needs no runtime in
/// the phone library; the FFI bridges it to the apps' async transports (OkHttp, URLSession).
pub trait HttpTransport: Send + Sync {
    /// Sends one request and returns the response, whatever its status.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Like [`Self::send`], but a body over `max_body_bytes` is an error
    /// ([`TransportError::TooLarge`]), and a cancelled `cancel` ends it with
    /// [`TransportError::Cancelled`]. Sync always calls this: a server (or whatever answers
    /// in its place) must not make the phone hold an unbounded reply in memory, nor keep a
    /// cancelled sync (and its lock) waiting for a slow answer.
    ///
    /// The default checks the length after [`Self::send`] returned the whole body, and the
    /// token before and after it: a shell's own blocking HTTP stack cannot be interrupted from
    /// here, so a cancelled request's answer is dropped when it arrives. The built-in
    /// transport overrides it to stop reading at the limit, whatever `Content-Length` claims,
    /// and to drop the request in flight at once when the token is cancelled.
    fn send_limited(
        &self,
        request: HttpRequest,
        max_body_bytes: usize,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        if cancel.is_cancelled() {
            return Err(TransportError::Cancelled);
        }
        let what = describe(&request);
        let resp = self.send(request)?;
        if cancel.is_cancelled() {
            return Err(TransportError::Cancelled);
        }
        if resp.body.len() > max_body_bytes {
            return Err(TransportError::TooLarge {
                what,
                limit: max_body_bytes,
            });
        }
        Ok(resp)
    }
}

/// `METHOD /path` of a request, for errors (no host, no query: nothing personal).
pub(crate) fn describe(request: &HttpRequest) -> String {
    let path = request
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or(path);
    format!(
        "{} {}",
        request.method,
        path.chars().take(120).collect::<String>()
    )
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
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.send_limited(request, usize::MAX, &CancelToken::never())
    }

    /// Runs the request on the shared runtime and waits for it here; a cancel ends the wait
    /// at once and drops the request.
    fn send_limited(
        &self,
        request: HttpRequest,
        max_body_bytes: usize,
        cancel: &CancelToken,
    ) -> Result<HttpResponse, TransportError> {
        cancel.check().map_err(|_| TransportError::Cancelled)?;
        let rt = runtime()?;
        let (cancelled_tx, cancelled_rx) = tokio::sync::oneshot::channel::<()>();
        // Deregistered when this request ends (the guard's drop): a sync's many requests do
        // not pile up callbacks on its token.
        let _on_cancel = cancel.on_cancel(move || {
            let _ = cancelled_tx.send(());
        });
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        let client = self.client.clone();
        // Spawned, not `block_on`: this also works from a thread that is inside another tokio
        // runtime (a server's test), where `block_on` would panic.
        rt.spawn(async move {
            let result = tokio::select! {
                r = fetch(client, request, max_body_bytes) => r,
                _ = cancelled_rx => Err(TransportError::Cancelled),
            };
            let _ = done_tx.send(result);
        });
        done_rx.recv().unwrap_or_else(|_| {
            Err(TransportError::Other(
                "the HTTP runtime dropped the request".into(),
            ))
        })
    }
}

/// One request on the async client: reads the body as it streams in and stops past
/// `max_body_bytes`. A `Content-Length` over the limit ends the request before any of the body
/// is read; one under it is not believed, the count of bytes read is what counts.
#[cfg(feature = "http")]
async fn fetch(
    client: reqwest::Client,
    request: HttpRequest,
    max_body_bytes: usize,
) -> Result<HttpResponse, TransportError> {
    let what = describe(&request);
    let too_large = || TransportError::TooLarge {
        what: what.clone(),
        limit: max_body_bytes,
    };
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|e| TransportError::Other(format!("method '{}': {e}", request.method)))?;
    let mut req = client
        .request(method, &request.url)
        .timeout(request.timeout.max(Duration::from_millis(1)));
    for (name, value) in &request.headers {
        req = req.header(name, value);
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
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
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
