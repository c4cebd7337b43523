//! Records and enums the bindings expose, and their conversions to and from the core's types.

use std::time::SystemTime;

use waystation_core as core;

use crate::{Result, WaystationError};

pub use core::geo::Datum;

/// Latitude and longitude in degrees, in a datum.
#[derive(Clone, Copy, Debug, PartialEq, uniffi::Record)]
pub struct Coordinate {
    /// Latitude, -90..=90.
    pub lat: f64,
    /// Longitude, -180..=180.
    pub lon: f64,
    /// The datum the numbers are in.
    pub datum: Datum,
}

impl Coordinate {
    pub(crate) fn into_core(self) -> Result<core::geo::Position> {
        Ok(core::geo::Position::new(
            self.lat,
            self.lon,
            self.datum.into(),
        )?)
    }
}

impl From<core::geo::Position> for Coordinate {
    fn from(p: core::geo::Position) -> Self {
        Coordinate {
            lat: p.lat,
            lon: p.lon,
            datum: p.datum.into(),
        }
    }
}

macro_rules! mirror_service {
    ($($v:ident),* $(,)?) => {
        /// A service a red station offers.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum Service { $($v),* }

        impl From<Service> for core::stations::Service {
            fn from(s: Service) -> Self {
                match s { $(Service::$v => core::stations::Service::$v),* }
            }
        }

        impl From<core::stations::Service> for Service {
            fn from(s: core::stations::Service) -> Self {
                match s { $(core::stations::Service::$v => Service::$v),* }
            }
        }
    };
}

mirror_service!(
    DrinkingWater,
    RestArea,
    PhoneCharging,
    EbikeCharging,
    BatterySwap,
    FirstAidKit,
    Microwave,
    Toilet,
    LegalAid,
    TaxService,
    UnionDesk,
    Wifi,
    AirConditioning,
    RepairTools,
    UmbrellaLending,
    HotWater,
);

/// A service with its stable name and its labels.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ServiceInfo {
    /// The service.
    pub service: Service,
    /// Stable name, e.g. `ebike_charging`.
    pub name: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
}

impl From<core::stations::Service> for ServiceInfo {
    fn from(s: core::stations::Service) -> Self {
        ServiceInfo {
            service: s.into(),
            name: s.name().to_string(),
            label_zh: s.label_zh().to_string(),
            label_en: s.label_en().to_string(),
        }
    }
}

/// Open, closed, or unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum OpenStatus {
    /// Open by its published hours.
    Open,
    /// Closed by its published hours.
    Closed,
    /// No usable hours. Show "hours unknown", never "open".
    Unknown,
}

impl From<core::stations::OpenStatus> for OpenStatus {
    fn from(s: core::stations::OpenStatus) -> Self {
        match s {
            core::stations::OpenStatus::Open => OpenStatus::Open,
            core::stations::OpenStatus::Closed => OpenStatus::Closed,
            core::stations::OpenStatus::Unknown => OpenStatus::Unknown,
        }
    }
}

/// An opening-hours evaluation.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct HoursStatus {
    /// Status at the time asked.
    pub status: OpenStatus,
    /// When it next changes, when known.
    pub next_change: Option<SystemTime>,
}

impl From<core::stations::HoursState> for HoursStatus {
    fn from(s: core::stations::HoursState) -> Self {
        HoursStatus {
            status: s.status.into(),
            next_change: s.next_change.map(Into::into),
        }
    }
}

/// A publisher key the device trusts for packs.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct TrustedPublisherKey {
    /// The id the publisher signs under.
    pub key_id: String,
    /// Ed25519 public key, standard base64.
    pub public_key: String,
}

/// How to open a [`crate::Waystation`].
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct WaystationConfig {
    /// Publisher keys whose packs are accepted.
    pub trusted_keys: Vec<TrustedPublisherKey>,
    /// Largest pack accepted, in bytes; `None` for the default (32 MiB).
    #[uniffi(default = None)]
    pub max_pack_bytes: Option<u64>,
}

impl WaystationConfig {
    pub(crate) fn into_core(self) -> Result<core::Config> {
        let trusted_keys = self
            .trusted_keys
            .iter()
            .map(|k| core::packs::TrustedKey::new(&k.key_id, &k.public_key))
            .collect::<core::Result<Vec<_>>>()?;
        let max_pack_bytes = match self.max_pack_bytes {
            None => core::packs::DEFAULT_MAX_PACK_BYTES,
            Some(0) => {
                return Err(WaystationError::InvalidInput {
                    reason: "max_pack_bytes must be greater than 0".into(),
                });
            }
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        Ok(core::Config {
            trusted_keys,
            max_pack_bytes,
        })
    }
}

/// Filters for station searches.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct StationFilter {
    /// Only stations that offer all of these.
    #[uniffi(default = [])]
    pub services: Vec<Service>,
    /// Only stations known to be open (Unknown is excluded).
    #[uniffi(default = false)]
    pub open_only: bool,
    /// Only stations at most this many metres away.
    #[uniffi(default = None)]
    pub max_distance_m: Option<f64>,
}

impl StationFilter {
    pub(crate) fn into_core(self) -> core::stations::StationFilter {
        core::stations::StationFilter {
            services: self.services.into_iter().map(Into::into).collect(),
            open_only: self.open_only,
            max_distance_m: self.max_distance_m,
        }
    }
}

/// A nearest-stations query.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct NearestQuery {
    /// Where the rider is, in any datum.
    pub position: Coordinate,
    /// How many, 1..=1000.
    #[uniffi(default = 5)]
    pub limit: u32,
    /// Filters.
    pub filter: StationFilter,
    /// When to evaluate opening hours; `None` is now.
    #[uniffi(default = None)]
    pub at: Option<SystemTime>,
}

impl NearestQuery {
    pub(crate) fn into_core(self) -> Result<core::NearestQuery> {
        Ok(core::NearestQuery {
            position: self.position.into_core()?,
            limit: self.limit as usize,
            filter: self.filter.into_core(),
            at: self.at.map(Into::into),
        })
    }
}

/// A red station.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Station {
    /// Stable id.
    pub id: String,
    /// Pack it came from.
    pub pack_id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: Option<String>,
    /// Position in WGS-84.
    pub position: Coordinate,
    /// Position as published, in its original datum.
    pub source_position: Coordinate,
    /// Chinese address.
    pub address_zh: String,
    /// English address.
    pub address_en: Option<String>,
    /// GB/T 2260 district code.
    pub district: String,
    /// Services offered.
    pub services: Vec<Service>,
    /// OSM opening_hours as published.
    pub opening_hours: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Operator.
    pub operator: Option<String>,
    /// Last verified on the ground, `YYYY-MM-DD`.
    pub last_verified: Option<String>,
}

impl From<&core::stations::Station> for Station {
    fn from(s: &core::stations::Station) -> Self {
        Station {
            id: s.id.clone(),
            pack_id: s.pack_id.to_string(),
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            position: s.position.into(),
            source_position: s.source_position.into(),
            address_zh: s.address_zh.clone(),
            address_en: s.address_en.clone(),
            district: s.district.clone(),
            services: s.services.iter().map(Into::into).collect(),
            opening_hours: s.opening_hours.clone(),
            phone: s.phone.clone(),
            operator: s.operator.clone(),
            last_verified: s.last_verified.map(|d| d.to_string()),
        }
    }
}

/// A search result.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct StationHit {
    /// The station.
    pub station: Station,
    /// Geodesic distance in metres.
    pub distance_m: f64,
    /// Initial bearing, degrees clockwise from true north.
    pub bearing_deg: f64,
    /// Open status at the query time.
    pub status: OpenStatus,
    /// When the status next changes, when known.
    pub next_change: Option<SystemTime>,
}

impl From<core::stations::StationHit> for StationHit {
    fn from(h: core::stations::StationHit) -> Self {
        StationHit {
            station: h.station.as_ref().into(),
            distance_m: h.distance_m,
            bearing_deg: h.bearing_deg,
            status: h.status.into(),
            next_change: h.next_change.map(Into::into),
        }
    }
}

/// What a pack import did.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ImportResult {
    /// Pack id.
    pub pack_id: String,
    /// Version now installed.
    pub version: u64,
    /// Version replaced.
    pub previous_version: Option<u64>,
    /// Stations in the pack.
    pub stations: u64,
    /// Stations whose hours did not parse (shown as Unknown).
    pub unparseable_hours: u64,
    /// True when the same pack was already installed.
    pub unchanged: bool,
}

impl From<core::stations::ImportOutcome> for ImportResult {
    fn from(o: core::stations::ImportOutcome) -> Self {
        ImportResult {
            pack_id: o.pack_id,
            version: o.version,
            previous_version: o.previous_version,
            stations: o.stations as u64,
            unparseable_hours: o.unparseable_hours as u64,
            unchanged: o.unchanged,
        }
    }
}

/// An installed pack.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct InstalledPack {
    /// Pack id.
    pub pack_id: String,
    /// `stations` or `training`.
    pub kind: String,
    /// Version.
    pub version: u64,
    /// Publisher.
    pub publisher: String,
    /// Signing key id.
    pub key_id: String,
    /// Build time (RFC 3339).
    pub created: String,
    /// SHA-256 of the pack's payload.
    pub sha256: String,
    /// Install time (RFC 3339).
    pub installed_at: String,
    /// Positions are synthetic.
    pub synthetic: bool,
    /// Notice text.
    pub notice: Option<String>,
}

impl From<core::stations::InstalledPack> for InstalledPack {
    fn from(p: core::stations::InstalledPack) -> Self {
        InstalledPack {
            pack_id: p.pack_id,
            kind: p.kind,
            version: p.version,
            publisher: p.publisher,
            key_id: p.key_id,
            created: p.created,
            sha256: p.sha256,
            installed_at: p.installed_at,
            synthetic: p.synthetic,
            notice: p.notice,
        }
    }
}
