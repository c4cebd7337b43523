//! The apps' own HTTP stack: the foreign trait [`HttpTransport`] (OkHttp on Android, URLSession
//! on iOS), given once to `Waystation::new`, and the bridge that lets the core's blocking
//! transport trait call it ([`Http`]). Without one, the built-in reqwest transport is used
//! where the library was built with the `http` feature (the CLI, Python, desktop, the JVM
//! tests); phone builds leave it out (docs/decisions/0012-transport.md).
//!
//! Why async at the boundary: a Kotlin `suspend fun` or a Swift `async` method is how OkHttp
//! and URLSession are used without blocking a thread of the app's, and uniffi cancels the
//! coroutine or task when the Rust future is dropped (its foreign-future "dropped" callback
//! calls `Job.cancel()` / `Task.cancel()`). The core stays blocking: its worker thread waits
//! on the foreign future here, and drops it the moment the sync's [`CancelToken`] fires, so
//! OkHttp's call or URLSession's task is cancelled at once.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use waystation_core::CancelToken;
use waystation_core::sync as core_sync;

use crate::Result;
use crate::error::invalid;
use crate::sync::SyncOptions;

/// One HTTP header. A name may repeat.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// One request for the app's [`HttpTransport`]. `method` is `GET`, `HEAD`, `PUT` or `POST`;
/// `url` is absolute; `body` is empty for `GET` and `HEAD`. `timeout_ms` (> 0) bounds the
/// whole call (connect, send and read). `max_body_bytes` (> 0): stop reading past it and fail
/// with `TooLarge`, whatever `Content-Length` says.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
    pub timeout_ms: i64,
    pub max_body_bytes: i64,
}

/// The response, whatever its status (a 401 or 503 is a response, not an error: the core
/// retries and maps statuses the same for every transport).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    pub status: i32,
    pub headers: Vec<HttpHeader>,
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

    /// The transport for a call with `options`: the app's (which refuses `extra_root_pem`:
    /// trust is the platform's business there), or the built-in one with the options'
    /// certificates, or, in a build without it, an error naming the fix.
    pub(crate) fn transport(
        &self,
        options: &SyncOptions,
    ) -> Result<Arc<dyn core_sync::HttpTransport>> {
        if let Some(foreign) = &self.foreign {
            if options.extra_root_pem.is_some() {
                return Err(invalid(
                    "extra_root_pem applies only to the built-in HTTP transport; with an \
                     HttpTransport, trust is configured in the platform's HTTP stack (Android's \
                     network security config, iOS's App Transport Security, the OkHttpClient or \
                     URLSession the app passes)",
                ));
            }
            return Ok(Arc::new(Bridge(foreign.clone())));
        }
        builtin(options)
    }
}

#[cfg(feature = "http")]
fn builtin(options: &SyncOptions) -> Result<Arc<dyn core_sync::HttpTransport>> {
    let pem = options.extra_root_pem.as_deref().map(str::as_bytes);
    let transport = core_sync::ReqwestTransport::new(pem).map_err(|e| invalid(e.to_string()))?;
    Ok(Arc::new(transport))
}

#[cfg(not(feature = "http"))]
fn builtin(_options: &SyncOptions) -> Result<Arc<dyn core_sync::HttpTransport>> {
    Err(invalid(
        "this library was built without the built-in HTTP transport; pass an HttpTransport to \
         Waystation.open (OkHttpTransport on Android, URLSessionTransport on iOS)",
    ))
}

/// How long past the request's own timeout the bridge waits for an app transport that ignores
/// it, before giving up with a timeout of its own.
const GRACE: Duration = Duration::from_secs(5);

/// The app's async transport as the core's blocking one.
struct Bridge(Arc<dyn HttpTransport>);

impl core_sync::HttpTransport for Bridge {
    fn send(
        &self,
        request: core_sync::HttpRequest,
    ) -> std::result::Result<core_sync::HttpResponse, core_sync::TransportError> {
        self.send_limited(request, usize::MAX, &CancelToken::never())
    }

    /// Waits on this (worker) thread for the app's answer; a cancelled `cancel` drops the
    /// foreign future at once (uniffi then cancels the coroutine or task), and so does the
    /// request's timeout plus [`GRACE`] when the app's transport does not honour it.
    fn send_limited(
        &self,
        request: core_sync::HttpRequest,
        max_body_bytes: usize,
        cancel: &CancelToken,
    ) -> std::result::Result<core_sync::HttpResponse, core_sync::TransportError> {
        use core_sync::TransportError as E;
        let what = describe(&request);
        let timeout = request.timeout.max(Duration::from_millis(1));
        let foreign = HttpRequest {
            method: request.method,
            url: request.url,
            headers: (request.headers.into_iter())
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: request.body,
            timeout_ms: i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX),
            max_body_bytes: i64::try_from(max_body_bytes).unwrap_or(i64::MAX),
        };
        let transport = self.0.clone();
        let answer = wait(
            async move { transport.send(foreign).await },
            cancel,
            Instant::now() + timeout + GRACE,
        );
        let resp = match answer {
            Waited::Cancelled => return Err(E::Cancelled),
            Waited::TimedOut => {
                return Err(E::Timeout(format!(
                    "the app's HTTP transport did not answer {what} within its timeout of {} ms",
                    timeout.as_millis()
                )));
            }
            Waited::Done(Ok(resp)) => resp,
            Waited::Done(Err(e)) => return Err(transport_error(e, what, max_body_bytes)),
        };
        let status = u16::try_from(resp.status)
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| {
                E::Other(format!(
                    "the app's HTTP transport answered {what} with status {}, which is not an \
                     HTTP status",
                    resp.status
                ))
            })?;
        if resp.body.len() > max_body_bytes {
            return Err(E::TooLarge {
                what,
                limit: max_body_bytes,
            });
        }
        Ok(core_sync::HttpResponse {
            status,
            headers: resp
                .headers
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect(),
            body: resp.body,
        })
    }
}

/// The core's error for the app transport's: its reason bounded and printable (an exception's
/// text is the app's, and ends up in logs and on a status screen).
fn transport_error(e: HttpTransportError, what: String, limit: usize) -> core_sync::TransportError {
    use core_sync::TransportError as E;
    let shown = |reason: String| -> String {
        let text: String = reason.chars().take(300).collect();
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    match e {
        HttpTransportError::Connect { reason } => E::Connect(shown(reason)),
        HttpTransportError::Timeout { reason } => E::Timeout(shown(reason)),
        HttpTransportError::TooLarge { .. } => E::TooLarge { what, limit },
        HttpTransportError::Other { reason } => E::Other(format!(
            "the app's HTTP transport failed on {what}: {}",
            shown(reason)
        )),
    }
}

/// `METHOD /path` of a request, for errors (no host, no query: nothing personal).
fn describe(request: &core_sync::HttpRequest) -> String {
    let path = (request.url.split_once("://"))
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let path: String = path.chars().take(120).collect();
    format!("{} {path}", request.method)
}

enum Waited<T> {
    Done(T),
    Cancelled,
    TimedOut,
}

/// Wakes the waiting thread.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `future` on this thread until it completes, `cancel` fires or `deadline` passes;
/// in the last two cases the future is dropped unfinished (which, for a foreign future, makes
/// uniffi cancel the foreign coroutine or task). A cancel wakes the thread at once through
/// [`CancelToken::on_cancel`], deregistered when the wait ends.
fn wait<F: Future>(future: F, cancel: &CancelToken, deadline: Instant) -> Waited<F::Output> {
    let thread = std::thread::current();
    let unpark = thread.clone();
    let _on_cancel = cancel.on_cancel(move || unpark.unpark());
    let waker = Waker::from(Arc::new(Unpark(thread)));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if cancel.is_cancelled() {
            return Waited::Cancelled;
        }
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Waited::Done(out);
        }
        let now = Instant::now();
        if now >= deadline {
            return Waited::TimedOut;
        }
        // A spurious wake-up only costs another poll.
        std::thread::park_timeout(deadline - now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A future that never completes and records being dropped.
    struct Pending(Arc<AtomicBool>);

    impl Future for Pending {
        type Output = ();
        fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }

    impl Drop for Pending {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_cancel_ends_the_wait_at_once_and_drops_the_future() {
        let token = CancelToken::new();
        let dropped = Arc::new(AtomicBool::new(false));
        let canceller = token.clone();
        let started = Instant::now();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            canceller.cancel();
        });
        let far = Instant::now() + Duration::from_secs(600);
        let waited = wait(Pending(dropped.clone()), &token, far);
        assert!(matches!(waited, Waited::Cancelled));
        assert!(dropped.load(Ordering::SeqCst), "the future was dropped");
        assert!(started.elapsed() < Duration::from_secs(60));
        t.join().unwrap();
    }

    #[test]
    fn the_deadline_ends_a_wait_on_a_transport_that_never_answers() {
        let dropped = Arc::new(AtomicBool::new(false));
        let soon = Instant::now() + Duration::from_millis(20);
        let waited = wait(Pending(dropped.clone()), &CancelToken::never(), soon);
        assert!(matches!(waited, Waited::TimedOut));
        assert!(dropped.load(Ordering::SeqCst));
    }

    #[test]
    fn a_ready_future_is_its_answer_and_a_cancelled_token_never_starts_one() {
        let far = Instant::now() + Duration::from_secs(600);
        assert!(matches!(
            wait(async { 7 }, &CancelToken::never(), far),
            Waited::Done(7)
        ));
        let token = CancelToken::new();
        token.cancel();
        assert!(matches!(wait(async { 7 }, &token, far), Waited::Cancelled));
    }

    fn options(pem: Option<&str>) -> SyncOptions {
        SyncOptions {
            server: "https://sync.example.org".into(),
            token: "wst_t".into(),
            timeout_ms: None,
            attempts: None,
            extra_root_pem: pem.map(str::to_string),
            allow_insecure_http: false,
        }
    }

    /// Without an app transport: the built-in one, or in a phone build (no `http` feature,
    /// `cargo test -p waystation-ffi --no-default-features`) an error naming the fix.
    #[test]
    fn no_transport_is_the_built_in_one_where_it_is_compiled_in() {
        let got = Http::new(None).transport(&options(None));
        #[cfg(feature = "http")]
        assert!(got.is_ok());
        #[cfg(not(feature = "http"))]
        match got {
            Err(crate::WaystationError::InvalidInput { reason }) => {
                assert!(
                    reason.contains("built without the built-in HTTP transport"),
                    "{reason}"
                );
                assert!(reason.contains("pass an HttpTransport"), "{reason}");
            }
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("a transport without the http feature"),
        }
    }

    #[test]
    fn exception_text_is_bounded_and_printable() {
        let e = HttpTransportError::Other {
            reason: format!("boom\n\x1b[31m{}", "x".repeat(5000)),
        };
        let shown = transport_error(e, "POST /v1/sync".into(), 10).to_string();
        assert!(shown.len() < 500, "{shown}");
        assert!(!shown.chars().any(char::is_control), "{shown}");
        let e = HttpTransportError::TooLarge { limit: 3 };
        assert!(matches!(
            transport_error(e, "GET /v1/me".into(), 10),
            core_sync::TransportError::TooLarge { limit: 10, .. }
        ));
    }
}
