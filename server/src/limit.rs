//! Per-account request rate limits: a misbehaving or looping client cannot take the server's
//! time from everyone else. And per-address limits on failed logins ([`FailedLogins`]).
//!
//! Each account has its own allowance (GCRA, from the `governor` crate): a burst of `N`
//! requests, refilled at `N` per minute. A request over it is answered `429 rate_limited` with
//! a `Retry-After` header in whole seconds, and does no work (no body is read, no database
//! write). Devices retry after the time it names (`docs/sync-protocol.md`).
//!
//! The allowance is counted after the token is checked, so only authenticated requests count,
//! per account, not per address: behind a proxy every rider shares one address. Counts live
//! in this process's memory: two server processes on one database each allow `N` per minute.

use chrono::{DateTime, Utc};
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

/// Default failed logins per minute per address (also the burst): a device with a bad token
/// fails once per sync, and dozens of riders behind one station's Wi-Fi stay far below it,
/// while a client trying tokens is held to one a second.
pub const DEFAULT_FAILED_LOGINS_PER_MINUTE: u32 = 60;

/// Addresses tracked at most; past it a failure from a new address is not counted until the
/// old ones are swept (a flood of addresses cannot exhaust memory).
const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// Failed logins per address: a client that keeps sending missing, unknown, revoked or
/// expired tokens is answered `429 login_limited` (with `Retry-After`) for every request,
/// before its token is even looked up, so tokens cannot be tried at speed and bad ones cost
/// no database work.
///
/// The same GCRA as the per-account limit, kept here by hand because it runs on the server's
/// injected clock (tests move it; they never wait). IPv6 addresses count by their /64, which a
/// single client usually holds whole. Behind a reverse proxy every client has the proxy's
/// address: turn it off there (`serve --failed-logins-per-minute 0`) and limit at the proxy.
pub(crate) struct FailedLogins {
    per_minute: NonZeroU32,
    /// Per address, the theoretical arrival time of its next failure.
    tat: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, DateTime<Utc>>>,
    records: AtomicU64,
}

impl FailedLogins {
    /// `per_minute` failures per address per minute, with a burst of as many.
    pub(crate) fn new(per_minute: NonZeroU32) -> FailedLogins {
        FailedLogins {
            per_minute,
            tat: std::sync::Mutex::new(std::collections::HashMap::new()),
            records: AtomicU64::new(0),
        }
    }

    fn interval(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(60_000 / i64::from(self.per_minute.get()))
    }

    fn key(ip: std::net::IpAddr) -> std::net::IpAddr {
        use std::net::{IpAddr, Ipv6Addr};
        match ip {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<std::net::IpAddr, DateTime<Utc>>> {
        // Each update is one insert: a poisoned map holds no half-done change.
        self.tat.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `429 login_limited` when `ip` used up its failures at `now`.
    pub(crate) fn check(&self, ip: std::net::IpAddr, now: DateTime<Utc>) -> Result<(), ApiError> {
        let Some(tat) = self.lock().get(&Self::key(ip)).copied() else {
            return Ok(());
        };
        let tolerance = self.interval() * (self.per_minute.get() as i32 - 1);
        let allowed_at = tat - tolerance;
        if allowed_at <= now {
            return Ok(());
        }
        let wait = (allowed_at - now).num_milliseconds().max(0) as u64;
        let secs = (wait / 1000 + u64::from(!wait.is_multiple_of(1000))).max(1);
        Err(ApiError::login_limited(self.per_minute.get(), secs))
    }

    /// Counts a failed login from `ip` at `now`.
    pub(crate) fn record_failure(&self, ip: std::net::IpAddr, now: DateTime<Utc>) {
        let interval = self.interval();
        let mut map = self.lock();
        if self.records.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1
            || map.len() >= MAX_TRACKED_ADDRESSES
        {
            // Addresses whose allowance is full again need no state.
            map.retain(|_, tat| *tat > now);
            map.shrink_to_fit();
        }
        let key = Self::key(ip);
        if map.len() >= MAX_TRACKED_ADDRESSES && !map.contains_key(&key) {
            return;
        }
        let tat = map.get(&key).copied().unwrap_or(now).max(now) + interval;
        // Never further ahead than a full burst: a clock set back does not lock an address
        // out for the difference.
        let most = now + interval * self.per_minute.get() as i32;
        map.insert(key, tat.min(most));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_logins_are_limited_per_address_on_the_injected_clock() {
        let limit = FailedLogins::new(NonZeroU32::new(3).unwrap());
        let t0 = DateTime::parse_from_rfc3339("2026-11-30T04:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let ip: std::net::IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..3 {
            limit.check(ip, t0).unwrap();
            limit.record_failure(ip, t0);
        }
        let e = limit.check(ip, t0).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (429, "login_limited"));
        // 3 per minute: one more after 20 s.
        assert_eq!(e.retry_after_secs, Some(20));
        assert!(limit.check(ip, t0 + chrono::Duration::seconds(19)).is_err());
        limit.check(ip, t0 + chrono::Duration::seconds(20)).unwrap();
        // Another address is not affected; an IPv6 /64 counts as one address.
        limit.check("203.0.113.8".parse().unwrap(), t0).unwrap();
        let a: std::net::IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        for _ in 0..3 {
            limit.record_failure(a, t0);
        }
        assert!(limit.check(b, t0).is_err());
        limit.check("2001:db8:1:3::1".parse().unwrap(), t0).unwrap();
    }

    #[test]
    fn a_clock_set_back_locks_an_address_out_for_one_burst_at_most() {
        let limit = FailedLogins::new(NonZeroU32::new(2).unwrap());
        let t0 = DateTime::parse_from_rfc3339("2026-11-30T04:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let ip: std::net::IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..2 {
            limit.record_failure(ip, t0);
        }
        let back = t0 - chrono::Duration::days(1);
        limit.record_failure(ip, back);
        let e = limit.check(ip, back).unwrap_err();
        assert!(e.retry_after_secs.unwrap() <= 60, "{e}");
    }

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
