//! # Waystation core
//!
//! The offline-first core that the riders' and volunteers' apps embed. It owns every rule of
//! the domain, the local SQLite store and sync; it knows nothing about FFI (its plain types
//! carry uniffi derives behind the `uniffi` feature, for the bindings crate). The bindings
//! crate wraps [`Waystation`] for Kotlin, Swift and Python; the `waystation` command wraps it
//! for the terminal.
//!
//! Start with [`Waystation::open`], import a signed station pack with
//! `ws.packs().import_stations(..)` ([`packs::Packs`]), then ask
//! `ws.stations().nearest(..)` ([`stations::Stations`]). Each area has its handle, borrowed
//! from the [`Waystation`]: `stations()`, `packs()`, `reports()`, `cases()`, `training()` and
//! `sync()`.

mod cancel;
pub mod clock;
mod error;
pub mod geo;
pub mod packs;
pub mod reports;
pub mod stations;
pub mod store;
pub mod sync;
pub mod training;
#[cfg(feature = "uniffi")]
mod uniffi_support;
mod util;

// The core's own uniffi component: its plain types, for the FFI crate (uniffi_support).
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("waystation_core");

pub use cancel::{CancelOnDrop, CancelToken, OnCancel, Waited};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, Result};
pub use util::files::read_bounded;

use chrono::{DateTime, Utc};
use std::path::Path;
use std::sync::{Arc, RwLock};

use packs::TrustedKey;
use stations::StationIndex;
use store::Store;

/// How a [`Waystation`] is set up. The default trusts no publisher (no pack can be imported)
/// and accepts packs up to [`packs::DEFAULT_MAX_PACK_BYTES`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Publisher keys whose packs this device accepts. Empty means no pack can be imported.
    pub trusted_keys: Vec<TrustedKey>,
    /// Largest pack file accepted, in bytes.
    pub max_pack_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            trusted_keys: Vec::new(),
            max_pack_bytes: packs::DEFAULT_MAX_PACK_BYTES,
        }
    }
}

/// The Waystation core over one data directory.
pub struct Waystation {
    store: Store,
    index: RwLock<Arc<StationIndex>>,
    options: Options,
    clock: Arc<dyn Clock>,
    sync: sync::SyncRuntime,
}

impl std::fmt::Debug for Waystation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waystation")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Waystation {
    /// Opens the data directory (created when missing), migrates the database, builds the
    /// station index from what is installed, and sweeps leftover photo files
    /// ([`reports::Reports::sweep_photos`]).
    pub fn open(data_dir: &Path, options: Options) -> Result<Waystation> {
        Self::open_with_clock(data_dir, options, Arc::new(SystemClock))
    }

    /// Like [`Self::open`] with an injected clock (tests, replay).
    pub fn open_with_clock(
        data_dir: &Path,
        options: Options,
        clock: Arc<dyn Clock>,
    ) -> Result<Waystation> {
        let store = Store::open(data_dir)?;
        let index = {
            let conn = store.read();
            StationIndex::build(stations::load_all(&conn)?)
        };
        let ws = Waystation {
            store,
            index: RwLock::new(Arc::new(index)),
            options,
            clock,
            sync: Default::default(),
        };
        // Housekeeping: temporary files a crash left and photos no document names
        // (reports::photo::sweep). A failure here costs space, not data: the next open tries
        // again, so it does not stop the device from opening.
        let _ = ws.reports().sweep_photos();
        Ok(ws)
    }

    /// The options this instance was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The current time by this instance's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The red-station directory: nearest, radius, by id, text search
    /// ([`stations::Stations`]).
    pub fn stations(&self) -> stations::Stations<'_> {
        stations::Stations::new(self)
    }

    /// Signed packs: import, what is installed, fetching from a server ([`packs::Packs`]).
    pub fn packs(&self) -> packs::Packs<'_> {
        packs::Packs::new(self)
    }

    /// The current station index: a snapshot a later import does not change.
    pub(crate) fn station_index(&self) -> Arc<StationIndex> {
        self.index.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reloads the station index from SQLite after a station pack changed what is installed.
    pub(crate) fn rebuild_station_index(&self) -> Result<()> {
        let fresh = {
            let conn = self.store.read();
            StationIndex::build(stations::load_all(&conn)?)
        };
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        Ok(())
    }

    /// A rider's reports: drafts, evidence, submission, the outbox, duplicates and export.
    pub fn reports(&self) -> reports::Reports<'_> {
        reports::Reports::new(self)
    }

    /// The follow-up of submitted reports: the inbox, a case, its events.
    pub fn cases(&self) -> reports::Cases<'_> {
        reports::Cases::new(self)
    }

    /// Safety training: courses, lessons, search, quizzes and progress ([`training::Training`]).
    pub fn training(&self) -> training::Training<'_> {
        training::Training::new(self)
    }

    /// Sync with a server: run, status, refusals, subscriptions ([`sync::SyncHandle`]).
    pub fn sync(&self) -> sync::SyncHandle<'_> {
        sync::SyncHandle::new(self)
    }

    pub(crate) fn sync_runtime(&self) -> &sync::SyncRuntime {
        &self.sync
    }

    /// The underlying store (cross-module use inside the core and tests).
    pub fn store(&self) -> &Store {
        &self.store
    }
}
