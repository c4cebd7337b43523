//! # Waystation core
//!
//! The offline-first core that the riders' and volunteers' apps embed. It owns every rule of
//! the domain, the local SQLite store and (in later modules) sync; it knows nothing about FFI.
//! The bindings crate wraps [`Waystation`] for Kotlin, Swift and Python; the `waystation`
//! command wraps it for the terminal.
//!
//! Start with [`Waystation::open`], import a signed station pack with
//! [`Waystation::import_station_pack`], then ask [`Waystation::nearest`].

pub mod cancel;
pub mod clock;
pub mod error;
pub mod geo;
pub mod packs;
pub mod reports;
pub mod stations;
pub mod store;
pub mod sync;
pub mod training;
#[cfg(feature = "uniffi")]
mod uniffi_support;
pub mod util;

// The core's own uniffi component: its plain types, for the FFI crate (uniffi_support).
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("waystation_core");

pub use cancel::{CancelOnDrop, CancelToken};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, Result};

use chrono::{DateTime, Utc};
use std::path::Path;
use std::sync::{Arc, RwLock};

use geo::Position;
use packs::TrustedKey;
use stations::{ImportOutcome, InstalledPack, Station, StationFilter, StationHit, StationIndex};
use store::Store;

/// Most results one nearest or radius query returns.
pub const MAX_RESULTS: usize = 1000;

/// How a [`Waystation`] is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Publisher keys whose packs this device accepts. Empty means no pack can be imported.
    pub trusted_keys: Vec<TrustedKey>,
    /// Largest pack file accepted, in bytes.
    pub max_pack_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            trusted_keys: Vec::new(),
            max_pack_bytes: packs::DEFAULT_MAX_PACK_BYTES,
        }
    }
}

/// A nearest-station query.
#[derive(Clone, Debug, PartialEq)]
pub struct NearestQuery {
    /// Where the rider is, in any datum.
    pub position: Position,
    /// How many stations, 1..=[`MAX_RESULTS`].
    pub limit: usize,
    /// Service, open-now and distance filters.
    pub filter: StationFilter,
    /// When to evaluate opening hours; `None` is now.
    pub at: Option<DateTime<Utc>>,
}

/// The Waystation core over one data directory.
pub struct Waystation {
    store: Store,
    index: RwLock<Arc<StationIndex>>,
    config: Config,
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
    /// ([`Waystation::sweep_photos`]).
    pub fn open(data_dir: &Path, config: Config) -> Result<Waystation> {
        Self::open_with_clock(data_dir, config, Arc::new(SystemClock))
    }

    /// Like [`Self::open`] with an injected clock (tests, replay).
    pub fn open_with_clock(
        data_dir: &Path,
        config: Config,
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
            config,
            clock,
            sync: Default::default(),
        };
        // Housekeeping: temporary files a crash left and photos no document names
        // (reports::photo::sweep). A failure here costs space, not data: the next open tries
        // again, so it does not stop the device from opening.
        let _ = ws.sweep_photos();
        Ok(ws)
    }

    /// The configuration this instance was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current time by this instance's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn index(&self) -> Arc<StationIndex> {
        self.index.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn rebuild_index(&self) -> Result<()> {
        let fresh = {
            let conn = self.store.read();
            StationIndex::build(stations::load_all(&conn)?)
        };
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        Ok(())
    }

    /// Verifies and installs a signed station pack (the bytes of a `.pack.json` file).
    /// Refused packs change nothing; the previous pack stays fully usable.
    pub fn import_station_pack(&self, envelope: &[u8]) -> Result<ImportOutcome> {
        let outcome = {
            let mut conn = self.store.write();
            stations::import_pack(
                &mut conn,
                envelope,
                &self.config.trusted_keys,
                self.config.max_pack_bytes,
                self.clock.now(),
            )?
        };
        if !outcome.unchanged {
            self.rebuild_index()?;
        }
        Ok(outcome)
    }

    /// Every installed pack.
    pub fn installed_packs(&self) -> Result<Vec<InstalledPack>> {
        stations::installed_packs(&self.store.read())
    }

    /// Number of installed stations.
    pub fn station_count(&self) -> usize {
        self.index().len()
    }

    fn check_filter(filter: &StationFilter) -> Result<()> {
        if let Some(d) = filter.max_distance_m
            && (!d.is_finite() || d < 0.0)
        {
            return Err(Error::invalid(format!(
                "maximum distance must be a finite number of metres >= 0, got {d}"
            )));
        }
        Ok(())
    }

    /// The nearest stations that pass the filter, strictly sorted by geodesic distance.
    pub fn nearest(&self, query: &NearestQuery) -> Result<Vec<StationHit>> {
        if query.limit == 0 || query.limit > MAX_RESULTS {
            return Err(Error::invalid(format!(
                "limit must be between 1 and {MAX_RESULTS}, got {}",
                query.limit
            )));
        }
        Self::check_filter(&query.filter)?;
        let p = query.position.to_wgs84()?;
        let at = query.at.unwrap_or_else(|| self.clock.now());
        Ok(self
            .index()
            .nearest(p.lat, p.lon, query.limit, &query.filter, at))
    }

    /// Every station within `radius_m` that passes the filter, nearest first (at most
    /// [`MAX_RESULTS`]).
    pub fn within_radius(
        &self,
        center: Position,
        radius_m: f64,
        filter: &StationFilter,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<StationHit>> {
        if !radius_m.is_finite() || radius_m < 0.0 {
            return Err(Error::invalid(format!(
                "radius must be a finite number of metres >= 0, got {radius_m}"
            )));
        }
        Self::check_filter(filter)?;
        let p = center.to_wgs84()?;
        let at = at.unwrap_or_else(|| self.clock.now());
        let mut hits = self.index().within(p.lat, p.lon, radius_m, filter, at);
        hits.truncate(MAX_RESULTS);
        Ok(hits)
    }

    /// A station by id.
    pub fn station(&self, id: &str) -> Result<Arc<Station>> {
        self.index()
            .get(id)
            .ok_or_else(|| Error::NotFound(format!("no station with id '{id}'")))
    }

    /// Stations whose name or address contains `text` (Chinese or English), best match first;
    /// `limit` is 1..=200.
    pub fn search_stations(&self, text: &str, limit: usize) -> Result<Vec<Arc<Station>>> {
        let ids = stations::search(&self.store.read(), text, limit)?;
        let index = self.index();
        Ok(ids.iter().filter_map(|id| index.get(id)).collect())
    }

    /// The station index (benchmarks and diagnostics).
    pub fn station_index(&self) -> Arc<StationIndex> {
        self.index()
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
