//! Per-account request rate limits: a misbehaving or looping client cannot take the server's
//! time from everyone else.
//!
//! Each account has its own allowance (GCRA, from the `governor` crate): a burst of `N`
//! requests, refilled at `N` per minute. A request over it is answered `429 rate_limited` with
//! a `Retry-After` header in whole seconds, and does no work (no body is read, no database
//! write). Devices retry after the time it names (`docs/sync-protocol.md`).
//!
//! The allowance is counted after the token is checked, so only authenticated requests count,
//! per account, not per address: behind a proxy every rider shares one address. Counts live
//! in this process's memory: two server processes on one database each allow `N` per minute.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ApiError;

/// Default requests per minute per account, also the burst. A device's sync is one to
/// sixteen requests plus one per photo, so this is far above what a working device sends and
/// far below what a client stuck in a loop sends.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 240;

/// Checks between two sweeps of idle accounts' state.
const SWEEP_EVERY: u64 = 4_096;

/// The per-account limiter of a running server.
pub(crate) struct RateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    per_minute: NonZeroU32,
    checks: AtomicU64,
}

impl RateLimit {
    /// `per_minute` requests per account per minute, with a burst of as many.
    pub(crate) fn new(per_minute: NonZeroU32) -> RateLimit {
        RateLimit {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            per_minute,
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one request of `user`: `429 rate_limited` (with the seconds to wait) when the
    /// account is over its allowance.
    pub(crate) fn check(&self, user: &str) -> Result<(), ApiError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            // Accounts whose allowance is full again need no state.
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        let key = user.to_string();
        self.limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Whole seconds, rounded up, at least 1: a client that waits this long is let in.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::rate_limited(self.per_minute.get(), secs.max(1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_account_has_its_own_allowance_and_is_told_how_long_to_wait() {
        let limit = RateLimit::new(NonZeroU32::new(3).unwrap());
        for _ in 0..3 {
            limit.check("rider-1").unwrap();
        }
        let e = limit.check("rider-1").unwrap_err();
        assert_eq!(e.status.as_u16(), 429);
        assert_eq!(e.code, "rate_limited");
        // 3 per minute: one more request is allowed 20 s after the burst.
        let wait = e.retry_after_secs.unwrap();
        assert!((19..=20).contains(&wait), "{wait}");
        assert!(e.message.contains("3 requests per minute"), "{}", e.message);
        // Another account is not affected.
        limit.check("rider-2").unwrap();
    }

    #[test]
    fn sweeping_idle_state_keeps_the_counts_of_busy_accounts() {
        let limit = RateLimit::new(NonZeroU32::new(2).unwrap());
        limit.check("busy").unwrap();
        limit.check("busy").unwrap();
        for n in 0..SWEEP_EVERY {
            let _ = limit.check(&format!("rider-{}", n % 50));
        }
        assert!(limit.check("busy").is_err());
    }
}
