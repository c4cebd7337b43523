//! Cancellation: a token the caller keeps and the long operations (sync, pack fetch and
//! import, photo attach and fetch, exports) check at their safe points.
//!
//! A safe point is a place where stopping leaves nothing half-done: between two documents of a
//! sync, before a pack is installed, before a photo is written. An operation that sees the
//! token cancelled returns [`Error::Cancelled`] and releases every lock it holds on the way
//! out. Work already committed stays committed (a sync that stored three documents keeps them;
//! the next sync goes on from there).
//!
//! The FFI cancels the token when the foreign future is dropped: a cancelled Kotlin coroutine
//! or Swift task. Waiting code (an HTTP request in flight) registers a waker with
//! [`CancelToken::on_cancel`] so that it is interrupted at once instead of at its timeout;
//! [`CancelToken::block_on`] does that for a future, which is how the blocking core waits on
//! an async HTTP stack (the built-in one, or an app's through the FFI).

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

type Callback = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    /// Registered callbacks by id, and the next id; an [`OnCancel`] removes its own when
    /// dropped.
    callbacks: Mutex<(u64, Vec<(u64, Callback)>)>,
    /// Wakes [`CancelToken::sleep`] on cancel.
    woken: Condvar,
}

/// A cancellation flag shared between the caller and a running operation. Cloning shares it.
#[derive(Clone, Default)]
pub struct CancelToken(Arc<Inner>);

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelToken {
    /// A token nobody has cancelled yet.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// A token that is never cancelled, for callers without a way to cancel (the CLI, tests).
    pub fn never() -> CancelToken {
        CancelToken::default()
    }

    /// Cancels: every later [`Self::check`] fails, and the registered callbacks run now (once).
    pub fn cancel(&self) {
        if self.0.cancelled.swap(true, Ordering::SeqCst) {
            return;
        }
        let callbacks = std::mem::take(&mut lock(&self.0.callbacks).1);
        self.0.woken.notify_all();
        for (_, callback) in callbacks {
            callback();
        }
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// A safe point: `Err(Error::Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Runs `callback` when the token is cancelled, or at once if it already is. Used to
    /// interrupt a wait (an HTTP request in flight) instead of polling. The callback stays
    /// registered while the returned guard lives: a wait that ended drops it, so a sync's many
    /// requests do not pile callbacks up on its token.
    #[must_use = "the callback is deregistered when the guard is dropped"]
    pub fn on_cancel(&self, callback: impl FnOnce() + Send + 'static) -> OnCancel {
        {
            let mut callbacks = lock(&self.0.callbacks);
            if !self.is_cancelled() {
                let id = callbacks.0;
                callbacks.0 += 1;
                callbacks.1.push((id, Box::new(callback)));
                return OnCancel(Some((self.clone(), id)));
            }
        }
        callback();
        OnCancel(None)
    }

    /// How many callbacks are registered (for tests of their deregistration).
    #[cfg(test)]
    fn registered(&self) -> usize {
        lock(&self.0.callbacks).1.len()
    }

    /// Waits `duration` (a retry's backoff), or less when the token is cancelled meanwhile:
    /// then `Err(Error::Cancelled)` at once.
    pub fn sleep(&self, duration: Duration) -> Result<()> {
        let deadline = Instant::now() + duration;
        let mut guard = lock(&self.0.callbacks);
        loop {
            self.check()?;
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            guard = self
                .0
                .woken
                .wait_timeout(guard, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Drives `future` on this thread until it completes, the token is cancelled or `deadline`
    /// passes. In the last two cases the future is dropped unfinished: a request in flight is
    /// abandoned (for an app's transport, uniffi then cancels the Kotlin coroutine or Swift
    /// task). A cancel wakes the thread at once; nothing polls on a timer.
    pub fn block_on<F: Future>(&self, future: F, deadline: Instant) -> Waited<F::Output> {
        let thread = std::thread::current();
        let unpark = thread.clone();
        let _on_cancel = self.on_cancel(move || unpark.unpark());
        let waker = Waker::from(Arc::new(Unpark(thread)));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if self.is_cancelled() {
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

    /// A guard that cancels the token when dropped (unless [`CancelOnDrop::disarm`]ed): the FFI
    /// holds one inside the future it hands to Kotlin or Swift.
    pub fn cancel_on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(Some(self.clone()))
    }
}

/// How a [`CancelToken::block_on`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited<T> {
    /// The future's output.
    Done(T),
    /// The token was cancelled first.
    Cancelled,
    /// The deadline passed first.
    TimedOut,
}

/// Wakes the thread waiting in [`CancelToken::block_on`].
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Keeps a callback registered with [`CancelToken::on_cancel`]; dropping it deregisters the
/// callback (if it has not run).
#[derive(Debug)]
pub struct OnCancel(Option<(CancelToken, u64)>);

impl Drop for OnCancel {
    fn drop(&mut self) {
        if let Some((token, id)) = self.0.take() {
            lock(&token.0.callbacks).1.retain(|(i, _)| *i != id);
        }
    }
}

/// Cancels its token when dropped. See [`CancelToken::cancel_on_drop`].
#[derive(Debug)]
pub struct CancelOnDrop(Option<CancelToken>);

impl CancelOnDrop {
    /// The operation finished: dropping the guard no longer cancels.
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn check_fails_only_after_cancel() {
        let t = CancelToken::new();
        assert!(t.check().is_ok());
        t.clone().cancel();
        assert!(matches!(t.check(), Err(Error::Cancelled)));
    }

    #[test]
    fn callbacks_run_once_on_cancel_or_at_once_when_already_cancelled() {
        let t = CancelToken::new();
        let n = Arc::new(AtomicUsize::new(0));
        let n1 = n.clone();
        let _registered = t.on_cancel(move || {
            n1.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(n.load(Ordering::SeqCst), 0);
        t.cancel();
        t.cancel();
        assert_eq!(n.load(Ordering::SeqCst), 1);
        let n2 = n.clone();
        let _ran = t.on_cancel(move || {
            n2.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_dropped_registration_neither_stays_nor_runs() {
        let t = CancelToken::new();
        let n = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let n = n.clone();
            drop(t.on_cancel(move || {
                n.fetch_add(1, Ordering::SeqCst);
            }));
        }
        assert_eq!(t.registered(), 0, "callbacks of ended waits piled up");
        let n1 = n.clone();
        let kept = t.on_cancel(move || {
            n1.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(t.registered(), 1);
        t.cancel();
        assert_eq!(n.load(Ordering::SeqCst), 1, "only the kept callback ran");
        drop(kept);
    }

    #[test]
    fn a_sleep_ends_at_once_when_cancelled() {
        let t = CancelToken::new();
        assert!(t.sleep(Duration::from_millis(1)).is_ok());
        let canceller = t.clone();
        let started = Instant::now();
        let handle = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            canceller.cancel();
        });
        assert!(matches!(
            t.sleep(Duration::from_secs(60)),
            Err(Error::Cancelled)
        ));
        assert!(started.elapsed() < Duration::from_secs(30));
        handle.join().unwrap();
    }

    #[test]
    fn the_guard_cancels_on_drop_unless_disarmed() {
        let t = CancelToken::new();
        drop(t.cancel_on_drop());
        assert!(t.is_cancelled());
        let t = CancelToken::new();
        t.cancel_on_drop().disarm();
        assert!(!t.is_cancelled());
    }

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
    fn a_cancel_ends_block_on_at_once_and_drops_the_future() {
        let token = CancelToken::new();
        let dropped = Arc::new(AtomicBool::new(false));
        let canceller = token.clone();
        let started = Instant::now();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            canceller.cancel();
        });
        let far = Instant::now() + Duration::from_secs(600);
        assert_eq!(
            token.block_on(Pending(dropped.clone()), far),
            Waited::Cancelled
        );
        assert!(dropped.load(Ordering::SeqCst), "the future was dropped");
        assert!(started.elapsed() < Duration::from_secs(60));
        assert_eq!(
            token.registered(),
            0,
            "the wake-up callback was deregistered"
        );
        t.join().unwrap();
    }

    #[test]
    fn the_deadline_ends_block_on_for_a_future_that_never_completes() {
        let dropped = Arc::new(AtomicBool::new(false));
        let soon = Instant::now() + Duration::from_millis(20);
        let token = CancelToken::never();
        assert_eq!(
            token.block_on(Pending(dropped.clone()), soon),
            Waited::TimedOut
        );
        assert!(dropped.load(Ordering::SeqCst));
        assert_eq!(token.registered(), 0);
    }

    #[test]
    fn block_on_gives_a_ready_output_and_a_cancelled_token_never_polls() {
        let far = Instant::now() + Duration::from_secs(600);
        assert_eq!(
            CancelToken::never().block_on(async { 7 }, far),
            Waited::Done(7)
        );
        let token = CancelToken::new();
        token.cancel();
        assert_eq!(token.block_on(async { 7 }, far), Waited::Cancelled);
    }
}
