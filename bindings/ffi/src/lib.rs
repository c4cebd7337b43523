//! # waystation-ffi
//!
//! The uniffi layer between the Waystation core and the Kotlin, Swift and Python shells. It
//! holds no logic: each export converts its arguments, calls `waystation-core`, and converts
//! the result. Internal errors become the public [`WaystationError`] in one place
//! ([`error`]); a panic becomes a foreign exception (the release profile keeps
//! `panic = "unwind"` so uniffi can catch it), never a crash.

mod error;
mod executor;
mod reports;
mod sync;
mod training;
mod types;

pub use error::WaystationError;
pub use reports::*;
pub use sync::*;
pub use training::*;
pub use types::*;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use waystation_core as core;

uniffi::setup_scaffolding!();

type Result<T> = std::result::Result<T, WaystationError>;

/// The Waystation core over one data directory: the station directory, and soon reports,
/// training and sync. Create one per data directory and keep it for the app's lifetime; it is
/// safe to call from any thread.
#[derive(uniffi::Object)]
pub struct Waystation {
    inner: core::Waystation,
}

#[uniffi::export]
impl Waystation {
    /// Opens (and creates when missing) the data directory, migrating the database if it was
    /// written by an older version. Fails with `DataDirectory` when the directory cannot be
    /// used and `SchemaTooNew` when a newer app wrote it.
    #[uniffi::constructor]
    pub fn new(data_dir: String, config: WaystationConfig) -> Result<Arc<Self>> {
        let config = config.into_core()?;
        let inner = core::Waystation::open(&PathBuf::from(data_dir), config)?;
        Ok(Arc::new(Waystation { inner }))
    }

    /// Verifies and installs a signed station pack (the bytes of a `.pack.json` file).
    /// A refused pack changes nothing.
    pub fn import_station_pack(&self, pack: Vec<u8>) -> Result<ImportResult> {
        Ok(self.inner.import_station_pack(&pack)?.into())
    }

    /// Reads a signed station pack file and installs it.
    pub fn import_station_pack_file(&self, path: String) -> Result<ImportResult> {
        let bytes = std::fs::read(&path).map_err(|e| WaystationError::InvalidInput {
            reason: format!("cannot read pack file: {e}"),
        })?;
        self.import_station_pack(bytes)
    }

    /// Installed packs.
    pub fn installed_packs(&self) -> Result<Vec<InstalledPack>> {
        Ok(self
            .inner
            .installed_packs()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Number of installed stations.
    pub fn station_count(&self) -> u64 {
        self.inner.station_count() as u64
    }

    /// The nearest stations that pass the query's filters, nearest first by ellipsoidal
    /// distance. Works offline; reads only memory.
    pub fn nearest_stations(&self, query: NearestQuery) -> Result<Vec<StationHit>> {
        let q = query.into_core()?;
        Ok(self
            .inner
            .nearest(&q)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Every station within `radius_m` metres that passes the filters, nearest first.
    pub fn stations_within(
        &self,
        center: Coordinate,
        radius_m: f64,
        filter: StationFilter,
        at: Option<SystemTime>,
    ) -> Result<Vec<StationHit>> {
        let hits = self.inner.within_radius(
            center.into_core()?,
            radius_m,
            &filter.into_core(),
            at.map(Into::into),
        )?;
        Ok(hits.into_iter().map(Into::into).collect())
    }

    /// A station by id; `NotFound` when there is none.
    pub fn station(&self, id: String) -> Result<Station> {
        Ok(self.inner.station(&id)?.as_ref().into())
    }

    /// Stations whose name or address contains `text` (Chinese or English), best first.
    /// `limit` must be 1..=200.
    pub fn search_stations(&self, text: String, limit: u32) -> Result<Vec<Station>> {
        let found = self.inner.search_stations(&text, limit as usize)?;
        Ok(found.iter().map(|s| s.as_ref().into()).collect())
    }
}

/// Converts a coordinate to another datum. Inverse conversions (GCJ-02 or BD-09 to WGS-84)
/// iterate to sub-millimetre accuracy; points outside mainland China are returned unchanged.
#[uniffi::export]
pub fn convert_coordinate(coordinate: Coordinate, to: Datum) -> Result<Coordinate> {
    Ok(coordinate.into_core()?.to_datum(to.into())?.into())
}

/// Ellipsoidal (WGS-84 geodesic) distance in metres between two coordinates in any datums.
#[uniffi::export]
pub fn geodesic_distance(from: Coordinate, to: Coordinate) -> Result<f64> {
    let a = from.into_core()?.to_wgs84()?;
    let b = to.into_core()?.to_wgs84()?;
    Ok(core::geo::distance_m(a.lat, a.lon, b.lat, b.lon))
}

/// Parses a datum name (`wgs84`, `gcj02`, `bd09`), for input from text.
#[uniffi::export]
pub fn parse_datum(name: String) -> Result<Datum> {
    Ok(name.parse::<core::geo::Datum>()?.into())
}

/// Parses a service name such as `ebike_charging`, for input from text.
#[uniffi::export]
pub fn parse_service(name: String) -> Result<Service> {
    Ok(name.parse::<core::stations::Service>()?.into())
}

/// Every service with its stable name and labels, for building filter chips.
#[uniffi::export]
pub fn all_services() -> Vec<ServiceInfo> {
    core::stations::Service::ALL
        .iter()
        .map(|s| ServiceInfo::from(*s))
        .collect()
}

/// Evaluates an OSM `opening_hours` string at `at` in Asia/Shanghai. Missing, unparseable
/// and "unknown" hours give `Unknown`, never `Open`.
#[uniffi::export]
pub fn hours_status(opening_hours: Option<String>, at: SystemTime) -> HoursStatus {
    core::stations::Hours::parse(opening_hours.as_deref())
        .state_at(at.into())
        .into()
}

/// The demo publisher's public key, which signs `data/stations/xian-sample.pack.json`.
/// Its secret is public: trust it only in demo and test builds.
#[uniffi::export]
pub fn demo_publisher_key() -> TrustedPublisherKey {
    TrustedPublisherKey {
        key_id: core::packs::DEMO_KEY_ID.to_string(),
        public_key: core::packs::DEMO_PUBLIC_KEY.to_string(),
    }
}

/// Panics inside Rust on purpose, so that binding tests can check a panic reaches Kotlin,
/// Swift or Python as an exception instead of crashing the app. Never call it in an app.
#[uniffi::export]
pub fn diagnostics_force_panic(message: String) -> Result<()> {
    panic!("forced panic for diagnostics: {message}");
}
