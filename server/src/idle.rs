//! Connections that start no request for the idle timeout are closed, over HTTP/1.1 and
//! HTTP/2 alike.
//!
//! hyper bounds how long HTTP/1.1 headers may take (`header_read_timeout`), but has no such
//! bound for HTTP/2: a client can open a connection, send the preface, or a `HEADERS` frame
//! without its end, or nothing at all, and hold the connection (a task, a file descriptor, its
//! buffers) for ever, which is how a slowloris exhausts a server. Pings and settings frames
//! keep arriving, so a read timeout alone would not end it.
//!
//! So every accepted connection is watched here, below TLS and below hyper: the connection is
//! closed when, for the idle timeout, no request was in flight, none started or ended, and the
//! server wrote no response data. A request is in flight from the moment its headers are
//! complete (hyper hands it to the service) until its response body has been handed over, and
//! HTTP/2 then sends what it buffered as the client's window allows, so a slow upload or a
//! slow download on a poor connection is never cut by this. Bytes that arrive without making
//! a request (a header block that never ends, pings) do not count, nor do the server's small
//! control frames (a ping's answer): a client that stops reading for the idle timeout, or
//! never asks for anything, loses its connection.

use axum::body::{Body, HttpBody};
use axum_server::accept::Accept;
use http::{Request, Response};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What the requests of one connection are doing.
#[derive(Debug)]
struct Activity {
    /// When the connection was accepted; `last_ms` counts from it.
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` at which a request last started or ended.
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis().min(u128::from(u64::MAX)) as u64;
        self.last_ms.store(ms, Ordering::Release);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Acquire))
    }
}

/// One request in flight; dropped when its response body is sent (or abandoned).
#[derive(Debug)]
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Wraps another acceptor (plain TCP, or under TLS) so that its connections are closed after
/// `idle` without a request.
#[derive(Clone, Debug)]
pub(crate) struct IdleAcceptor<A> {
    inner: A,
    idle: Duration,
}

impl<A> IdleAcceptor<A> {
    pub(crate) fn new(inner: A, idle: Duration) -> IdleAcceptor<A> {
        IdleAcceptor { inner, idle }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<A, I, S> Accept<I, S> for IdleAcceptor<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = IdleStream<A::Stream>;
    type Service = Tracked<A::Service>;
    type Future = BoxFuture<io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let accepted = self.inner.accept(stream, service);
        let idle = self.idle;
        Box::pin(async move {
            let (stream, service) = accepted.await?;
            let activity = Arc::new(Activity {
                opened: Instant::now(),
                in_flight: AtomicUsize::new(0),
                last_ms: AtomicU64::new(0),
            });
            let stream = IdleStream {
                inner: stream,
                activity: activity.clone(),
                idle,
                timer: Box::pin(tokio::time::sleep(idle)),
            };
            Ok((
                stream,
                Tracked {
                    inner: service,
                    activity,
                },
            ))
        })
    }
}

/// A connection's byte stream, which fails its reads once the connection has been idle.
#[derive(Debug)]
pub(crate) struct IdleStream<T> {
    inner: T,
    activity: Arc<Activity>,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
}

/// Writes of at least this many bytes count as activity: response data, which the client's
/// flow-control window lets through as it reads. Control frames (a ping's answer is 17 bytes)
/// do not, so a client that only pings still has its connection closed.
const ACTIVE_WRITE_BYTES: usize = 512;

impl<T> IdleStream<T> {
    /// Counts a write of response data as activity: HTTP/2 takes a whole response body into
    /// its send buffer (hundreds of KB) and sends it as the client's window allows, so a slow
    /// download is still going when its request has ended.
    fn wrote(&self, written: &Poll<io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = written
            && *n >= ACTIVE_WRITE_BYTES
        {
            self.activity.touch();
        }
    }

    /// Polls the idle timer: `Ready` once the connection has been idle for the timeout.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let now = Instant::now();
            let until = if self.activity.in_flight.load(Ordering::Acquire) > 0 {
                now + self.idle
            } else {
                self.activity.last() + self.idle
            };
            if until <= now {
                return Poll::Ready(());
            }
            // Not idle long enough yet: wait for the rest, and poll again to be woken then.
            self.timer.as_mut().reset(until);
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending => {}
            ready => return ready,
        }
        match this.poll_idle(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no request on this connection for the idle timeout",
            ))),
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.wrote(&written);
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.wrote(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The connection's service: counts each request as in flight until its response body ends.
#[derive(Clone, Debug)]
pub(crate) struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S, B> tower_service::Service<Request<B>> for Tracked<S>
where
    S: tower_service::Service<Request<B>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let in_flight = InFlight::start(&self.activity);
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| {
                Body::new(TrackedBody {
                    inner: body,
                    _in_flight: in_flight,
                })
            }))
        })
    }
}

/// A response body that keeps its request in flight until it is sent or dropped.
struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
