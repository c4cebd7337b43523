//! The write gate: this process's writers take SQLite's write lock one after the other, in
//! the order they arrived, instead of spinning on the busy handler.
//!
//! The queue is bounded twice. At most [`WriteQueue::max_waiting`] writers wait at once, and
//! none waits longer than [`WriteQueue::max_wait`]: past either bound the request is answered
//! `503 busy` with `Retry-After` at once, and did nothing. Without the bounds, a slow write (or
//! another process holding SQLite's lock) let waiting requests pile up without limit, each
//! holding a blocking thread and a connection, until the server stopped answering anyone.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// How this process's writers queue for the write gate (`serve --write-queue`,
/// `--write-wait-ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteQueue {
    /// Most writers waiting at once (the one writing is not counted); one more is answered
    /// `503 busy` at once. 0: a writer that finds the gate taken is answered so at once.
    pub max_waiting: usize,
    /// Longest a writer waits for its turn before it is answered `503 busy`.
    pub max_wait: Duration,
}

/// The default queue: 256 writers, 5 s. A first sync's write transaction took about 11 ms in
/// the load test (200 first syncs at once drained in 2.3 s), so a full queue drains in about
/// 3 s, under the wait, which stays under SQLite's busy timeout. A smaller count turned that
/// burst into 503s for most of it (64: 831 of 1,129 syncs refused, docs/benchmarks.md).
pub const DEFAULT_WRITE_QUEUE: WriteQueue = WriteQueue {
    max_waiting: 256,
    max_wait: Duration::from_secs(5),
};

impl Default for WriteQueue {
    fn default() -> WriteQueue {
        DEFAULT_WRITE_QUEUE
    }
}

/// Tickets in arrival order; `serving` is the next one let in.
#[derive(Debug, Default)]
struct Tickets {
    held: bool,
    next: u64,
    serving: u64,
    waiting: usize,
    /// Tickets whose writer stopped waiting before its turn: skipped when reached.
    abandoned: HashSet<u64>,
}

impl Tickets {
    /// Moves `serving` past tickets whose writers left.
    fn skip_abandoned(&mut self) {
        while self.abandoned.remove(&self.serving) {
            self.serving += 1;
        }
    }
}

/// A bounded first-come, first-served lock.
#[derive(Debug)]
pub(crate) struct WriteGate {
    queue: WriteQueue,
    tickets: Mutex<Tickets>,
    turn: Condvar,
}

/// Held for the length of one write transaction; the next writer's turn comes when it drops.
#[derive(Debug)]
pub struct WriteGuard<'a> {
    gate: &'a WriteGate,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        let mut t = self.gate.lock();
        t.held = false;
        t.skip_abandoned();
        drop(t);
        self.gate.turn.notify_all();
    }
}

impl WriteGate {
    pub(crate) fn new(queue: WriteQueue) -> WriteGate {
        WriteGate {
            queue,
            tickets: Mutex::new(Tickets::default()),
            turn: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Tickets> {
        // The counters are updated before anything can panic: a poisoned lock holds no
        // half-done change.
        self.tickets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for this writer's turn: `503 busy` when the queue is full or the wait too long.
    pub(crate) fn enter(&self) -> Result<WriteGuard<'_>, ApiError> {
        self.enter_within(self.queue.max_wait)
    }

    /// [`WriteGate::enter`], waiting at most `max_wait`.
    fn enter_within(&self, max_wait: Duration) -> Result<WriteGuard<'_>, ApiError> {
        let mut t = self.lock();
        if !t.held && t.waiting == 0 {
            t.held = true;
            t.abandoned.clear();
            t.next += 1;
            t.serving = t.next;
            return Ok(WriteGuard { gate: self });
        }
        if t.waiting >= self.queue.max_waiting {
            return Err(ApiError::write_queue_full(
                t.waiting,
                retry_secs(self.queue.max_wait),
            ));
        }
        let ticket = t.next;
        t.next += 1;
        t.waiting += 1;
        let deadline = Instant::now() + max_wait;
        loop {
            if !t.held && t.serving == ticket {
                t.held = true;
                t.serving += 1;
                t.waiting -= 1;
                return Ok(WriteGuard { gate: self });
            }
            let now = Instant::now();
            if now >= deadline {
                t.waiting -= 1;
                if t.serving == ticket {
                    t.serving += 1;
                    t.skip_abandoned();
                } else {
                    t.abandoned.insert(ticket);
                }
                drop(t);
                // The writer behind this one may be next now.
                self.turn.notify_all();
                return Err(ApiError::write_wait_too_long(
                    max_wait,
                    retry_secs(self.queue.max_wait),
                ));
            }
            t = self
                .turn
                .wait_timeout(t, deadline - now)
                .map(|(t, _)| t)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().waiting
    }
}

/// The `Retry-After` for a writer turned away: the time a full queue takes to drain at most,
/// in whole seconds, at least 1.
fn retry_secs(max_wait: Duration) -> u64 {
    (max_wait.as_secs() + u64::from(max_wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn wait_until(gate: &WriteGate, waiting: usize) {
        let started = Instant::now();
        while gate.waiting() != waiting {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no waiter came"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn writers_take_turns_in_arrival_order() {
        let gate = Arc::new(WriteGate::new(WriteQueue {
            max_waiting: 8,
            max_wait: Duration::from_secs(60),
        }));
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = gate.enter().unwrap();
        let mut threads = Vec::new();
        for n in 0..4 {
            let (gate2, order) = (gate.clone(), order.clone());
            threads.push(std::thread::spawn(move || {
                let _turn = gate2.enter().unwrap();
                order.lock().unwrap().push(n);
            }));
            // Each writer is queued before the next arrives.
            wait_until(&gate, n + 1);
        }
        drop(first);
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
        // Free again: the next writer enters at once.
        drop(gate.enter().unwrap());
    }

    #[test]
    fn a_full_queue_turns_writers_away_at_once_with_a_retry_time() {
        let gate = Arc::new(WriteGate::new(WriteQueue {
            max_waiting: 1,
            max_wait: Duration::from_secs(60),
        }));
        let first = gate.enter().unwrap();
        let gate2 = gate.clone();
        let queued = std::thread::spawn(move || gate2.enter().map(drop));
        wait_until(&gate, 1);
        let e = gate.enter().unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (503, "busy"));
        assert_eq!(e.retry_after_secs, Some(60));
        assert!(e.message.contains("queued"), "{}", e.message);
        drop(first);
        queued.join().unwrap().unwrap();
    }

    #[test]
    fn a_writer_waits_at_most_the_queue_s_wait_and_the_next_one_still_gets_its_turn() {
        let gate = Arc::new(WriteGate::new(WriteQueue {
            max_waiting: 4,
            max_wait: Duration::from_millis(200),
        }));
        let first = gate.enter().unwrap();
        let started = Instant::now();
        let e = gate.enter().unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!((e.status.as_u16(), e.code), (503, "busy"));
        assert_eq!(e.retry_after_secs, Some(1));
        assert_eq!(gate.waiting(), 0);
        // The ticket it left behind does not block the writers after it.
        drop(first);
        drop(gate.enter().unwrap());
    }

    #[test]
    fn a_ticket_abandoned_in_the_middle_of_the_queue_is_skipped() {
        let gate = Arc::new(WriteGate::new(WriteQueue {
            max_waiting: 4,
            max_wait: Duration::from_secs(60),
        }));
        let first = gate.enter().unwrap();
        let queue = |wait: Duration| {
            let g = gate.clone();
            std::thread::spawn(move || g.enter_within(wait).map(drop).is_ok())
        };
        // X queues, then A behind it gives up while X still waits, then B queues behind A.
        let x = queue(Duration::from_secs(60));
        wait_until(&gate, 1);
        let a = queue(Duration::from_millis(50));
        assert!(!a.join().unwrap(), "A gave up");
        assert_eq!(gate.waiting(), 1);
        let b = queue(Duration::from_secs(60));
        wait_until(&gate, 2);
        drop(first);
        assert!(x.join().unwrap());
        assert!(b.join().unwrap(), "B got its turn past A's ticket");
    }
}
