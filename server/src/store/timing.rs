//! What a request spends waiting for its store, counted per thread: the HTTP layer reports it
//! in the `Server-Timing` header of a sync (`http.rs`), so a load test can tell the server's
//! time from the load generator's, and the store's round trips from the protocol's CPU work
//! (docs/benchmarks.md, issue 14).
//!
//! A store call runs to completion on the thread that asked for it (the store trait is
//! synchronous, decision 0011), so a thread-local count is exact for the request that thread
//! is serving, and costs no lock.

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    static CALLS: Cell<(u32, Duration)> = const { Cell::new((0, Duration::ZERO)) };
    static BEGIN: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// What this thread waited for since the last [`take`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waits {
    /// Waits for the database engine: PostgreSQL round trips and pool waits (none on SQLite,
    /// which runs in the process).
    pub calls: u32,
    /// Their total time.
    pub in_calls: Duration,
    /// Time spent getting a transaction: SQLite's write gate and lock, or a PostgreSQL
    /// connection and its `BEGIN`.
    pub begin: Duration,
}

/// Counts the time from `start` to now as getting a transaction (see [`Waits::begin`]).
pub fn begun(start: Instant) {
    let d = start.elapsed();
    BEGIN.with(|b| b.set(b.get() + d));
}

/// Counts one wait for the database engine (a PostgreSQL round trip, or the wait for a pooled
/// connection) that began at `start`.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))] // only the PostgreSQL store waits
pub(crate) fn record(start: Instant) {
    let d = start.elapsed();
    CALLS.with(|c| {
        let (n, total) = c.get();
        c.set((n.saturating_add(1), total + d));
    });
}

/// The waits counted on this thread since the last call, and resets the count.
pub fn take() -> Waits {
    let (calls, in_calls) = CALLS.with(|c| c.replace((0, Duration::ZERO)));
    let begin = BEGIN.with(|b| b.replace(Duration::ZERO));
    Waits {
        calls,
        in_calls,
        begin,
    }
}

/// CPU time this thread has used so far, where the platform tells (Linux and other Unixes);
/// `None` elsewhere.
pub fn thread_cpu() -> Option<Duration> {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec through a valid pointer to a local.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 && ts.tv_sec >= 0 && ts.tv_nsec >= 0 {
            return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
        }
        None
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_counted_per_thread_and_taken_once() {
        take();
        record(Instant::now());
        record(Instant::now());
        begun(Instant::now() - Duration::from_millis(5));
        std::thread::spawn(|| record(Instant::now()))
            .join()
            .unwrap();
        let w = take();
        assert_eq!(w.calls, 2);
        assert!(w.begin >= Duration::from_millis(5));
        assert_eq!(take(), Waits::default());
    }

    #[cfg(unix)]
    #[test]
    fn thread_cpu_time_grows_with_work() {
        let before = thread_cpu().expect("Unix tells a thread's CPU time");
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu().unwrap() > before);
    }
}
