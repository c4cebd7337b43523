//! What sync needs of the device it runs on: the store, the clock, the data directory (photo
//! files) and the in-memory sync state. The handle ([`super::SyncHandle`], the facade) builds it
//! from the `Waystation`, so that sync itself never names the facade above it (the layering
//! test, `core/tests/layering.rs`).

use chrono::{DateTime, Utc};
use std::path::Path;

use super::status::SyncRuntime;
use crate::store::Store;

/// The device's store, clock, data directory and sync state, borrowed for one call.
#[derive(Clone, Copy)]
pub(crate) struct Device<'a> {
    store: &'a Store,
    clock: &'a (dyn Fn() -> DateTime<Utc> + Sync),
    data_dir: &'a Path,
    runtime: &'a SyncRuntime,
}

impl<'a> Device<'a> {
    pub(crate) fn new(
        store: &'a Store,
        clock: &'a (dyn Fn() -> DateTime<Utc> + Sync),
        data_dir: &'a Path,
        runtime: &'a SyncRuntime,
    ) -> Device<'a> {
        Device {
            store,
            clock,
            data_dir,
            runtime,
        }
    }

    pub(super) fn store(&self) -> &'a Store {
        self.store
    }

    /// The current time by the device's clock.
    pub(super) fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    pub(super) fn data_dir(&self) -> &'a Path {
        self.data_dir
    }

    pub(super) fn sync_runtime(&self) -> &'a SyncRuntime {
        self.runtime
    }

    /// Hands photos that dropped copies named to the photo sweep, which removes those nothing
    /// names any more. Best effort: a photo left unchecked only takes space.
    pub(super) fn photos_maybe_unnamed<'s>(&self, shas: impl IntoIterator<Item = &'s str>) {
        for sha in shas {
            let _ = crate::reports::photo::sweep::mark_unnamed(self.data_dir, sha, self.now());
        }
    }
}
