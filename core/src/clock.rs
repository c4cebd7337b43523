//! Time, injected: production code asks a [`Clock`], tests give it a [`FixedClock`].

use chrono::{DateTime, Utc};
use std::sync::Mutex;

/// In a debug build, an RFC 3339 time in this variable stops [`SystemClock`] at that instant.
/// Tests set it on the binaries they run as subprocesses (`waystation`, `waystation-server`),
/// so that a subprocess shares the test's fixed clock instead of reading the real one. Release
/// builds ignore it: production always reads the wall clock.
pub const TEST_NOW_ENV: &str = "WAYSTATION_TEST_NOW";

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        #[cfg(debug_assertions)]
        if let Some(at) = test_now() {
            return at;
        }
        Utc::now()
    }
}

/// [`TEST_NOW_ENV`], read once. A value that does not parse stops the process with a message
/// naming it: a test that meant to fix the clock must not silently read the real one.
#[cfg(debug_assertions)]
fn test_now() -> Option<DateTime<Utc>> {
    static AT: std::sync::OnceLock<Option<DateTime<Utc>>> = std::sync::OnceLock::new();
    *AT.get_or_init(|| {
        let raw = std::env::var(TEST_NOW_ENV).ok()?;
        match DateTime::parse_from_rfc3339(&raw) {
            Ok(at) => Some(at.with_timezone(&Utc)),
            Err(e) => panic!("{TEST_NOW_ENV}={raw:?} is not an RFC 3339 time: {e}"),
        }
    })
}

/// A clock that says what it is told.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn new(at: DateTime<Utc>) -> FixedClock {
        FixedClock(Mutex::new(at))
    }

    /// Moves the clock.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
