//! The one executor behind every async export: [`run_blocking`] runs the blocking core call
//! on a small shared pool of threads (no thread per call), so no foreign caller's thread
//! blocks. When the foreign coroutine or task is cancelled, uniffi drops the future, its
//! [`CancelOnDrop`] guard cancels the [`CancelToken`], and the core stops at its next safe
//! point, releasing its locks.
//!
//! The pool is ours, on `std` alone, rather than the `blocking` crate's: it does the one
//! thing needed here (run a closure on a reused thread, start another when none is idle, let
//! idle ones exit), and the crate's async plumbing cost the phone library more than this file
//! (docs/benchmarks.md, "Library size").

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use futures_channel::oneshot;
use waystation_core::{CancelOnDrop, CancelToken};

use crate::{Result, WaystationError};

/// Runs `f` on the shared pool with a fresh [`CancelToken`] that is cancelled if the returned
/// future is dropped before it completes; a call cancelled before it starts never starts. A
/// panic in `f` becomes `Internal`, never a crash.
pub(crate) async fn run_blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&CancelToken) -> waystation_core::Result<T> + Send + 'static,
{
    let token = CancelToken::new();
    let guard: CancelOnDrop = token.cancel_on_drop();
    let panicked = || waystation_core::Error::Internal("a background call panicked".into());
    let (tx, rx) = oneshot::channel();
    let job = move || {
        let call = || token.check().and_then(|()| f(&token));
        let result = catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|_| Err(panicked()));
        // The receiver is gone when the caller was cancelled: nobody wants the result.
        let _ = tx.send(result);
    };
    POOL.submit(Box::new(job))?;
    let result = rx.await.unwrap_or_else(|_| Err(panicked()));
    guard.disarm();
    result.map_err(WaystationError::from)
}

type Job = Box<dyn FnOnce() + Send>;

/// How long an idle thread waits for work before it exits.
const IDLE: Duration = Duration::from_secs(10);

/// Most threads at once; beyond, calls queue until a thread is free. Far above what an app
/// runs at once (a sync, a fetch, a few exports), it only bounds a runaway caller.
const MAX_THREADS: usize = 64;

struct Pool {
    state: Mutex<State>,
    work: Condvar,
}

struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

static POOL: Pool = Pool {
    state: Mutex::new(State {
        queue: VecDeque::new(),
        threads: 0,
        idle: 0,
    }),
    work: Condvar::new(),
};

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job`; wakes an idle thread, or starts one when none is idle.
    fn submit(&'static self, job: Job) -> Result<()> {
        let mut state = self.lock();
        state.queue.push_back(job);
        // Enough idle threads for every queued job: one of them takes it.
        if state.idle >= state.queue.len() {
            self.work.notify_one();
            return Ok(());
        }
        if state.threads >= MAX_THREADS {
            return Ok(());
        }
        state.threads += 1;
        let spawned = std::thread::Builder::new()
            .name("waystation-worker".into())
            .spawn(move || self.work_loop());
        if let Err(e) = spawned {
            state.threads -= 1;
            if state.threads == 0 {
                // Nothing would ever run the job: take it back and say why.
                state.queue.pop_back();
                return Err(WaystationError::Internal {
                    reason: format!("cannot start a worker thread: {}", e.kind()),
                });
            }
        }
        Ok(())
    }

    /// Runs queued jobs; exits after [`IDLE`] without work.
    fn work_loop(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                job();
                state = self.lock();
                continue;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, IDLE)
                .unwrap_or_else(|p| p.into_inner());
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.queue.is_empty() {
                state.threads -= 1;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Polls `f` on this thread, parking between wake-ups.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, Wake, Waker};
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
                return out;
            }
            std::thread::park();
        }
    }

    #[test]
    fn calls_run_off_the_callers_thread_and_threads_are_reused() {
        let caller = std::thread::current().id();
        let names = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..20 {
            let names = names.clone();
            let ran_on = block_on(run_blocking(move |_| {
                let me = std::thread::current();
                names.lock().unwrap().push(me.id());
                Ok(me.id())
            }))
            .unwrap();
            assert_ne!(ran_on, caller);
        }
        let mut ids = names.lock().unwrap().clone();
        ids.sort_by_key(|id| format!("{id:?}"));
        ids.dedup();
        assert!(ids.len() < 20, "one thread per call: {}", ids.len());
    }

    #[test]
    fn many_calls_at_once_all_complete_and_a_panic_is_internal() {
        let done = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (done, barrier) = (done.clone(), barrier.clone());
                std::thread::spawn(move || {
                    block_on(run_blocking(move |_| {
                        // All eight wait for each other: they must run at once.
                        barrier.wait();
                        done.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }))
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 8);
        let panicked = block_on(run_blocking::<(), _>(|_| panic!("boom")));
        assert!(matches!(panicked, Err(WaystationError::Internal { .. })));
    }

    #[test]
    fn a_dropped_call_cancels_its_token() {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (saw_tx, saw_rx) = std::sync::mpsc::channel();
        let call = run_blocking(move |token| {
            started_tx.send(()).unwrap();
            saw_tx.send(token.sleep(Duration::from_secs(60))).unwrap();
            Ok(())
        });
        // Poll once so the job is submitted, then drop the future.
        let mut call = Box::pin(call);
        let waker = std::task::Waker::noop();
        let _ = call
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker));
        started_rx.recv().unwrap();
        drop(call);
        let slept = saw_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(matches!(slept, Err(waystation_core::Error::Cancelled)));
    }
}
