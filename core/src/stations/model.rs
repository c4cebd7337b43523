//! What a station is, as the app shows it, and the queries that find stations.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::{OpenStatus, Service, ServiceSet};
use crate::geo::Position;

/// Most results one nearest or radius query returns.
pub const MAX_RESULTS: usize = 1000;

/// The id of the pack a station came from. One allocation is shared by all of a pack's
/// stations (100,000 stations hold one copy, not 100,000); it reads as a `&str` and crosses
/// the FFI as a plain string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PackId(pub(crate) Arc<str>);

#[cfg(feature = "uniffi")]
uniffi::custom_type!(PackId, String, {
    lower: |id| id.0.to_string(),
    try_lift: |s| Ok(PackId(Arc::from(s))),
});

impl PackId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for PackId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for PackId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for PackId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

/// A calendar date without a time zone. It crosses the FFI as a `YYYY-MM-DD` string (no date
/// type is shared by Kotlin, Swift and Python).
pub type CalendarDate = NaiveDate;

#[cfg(feature = "uniffi")]
uniffi::custom_type!(CalendarDate, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| Ok(s.parse::<NaiveDate>()?),
});

/// A red station (红色驿站): a rest stop for outdoor workers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Station {
    /// Stable id from the pack, e.g. `XA-0001`.
    pub id: String,
    /// Which installed pack it came from.
    pub pack_id: PackId,
    /// Chinese name.
    pub name_zh: String,
    /// English name, when published.
    pub name_en: Option<String>,
    /// Where it is, in WGS-84.
    pub position: Position,
    /// Where the pack said it is, in the pack's datum (often GCJ-02 for Chinese map data).
    pub source_position: Position,
    /// Chinese address.
    pub address_zh: String,
    /// English address, when published.
    pub address_en: Option<String>,
    /// GB/T 2260 code of the district or county, e.g. `610113` for Yanta.
    pub district: String,
    /// What it offers (a list of services, in their stable order).
    pub services: ServiceSet,
    /// OSM `opening_hours` string as published; `None` when not published.
    pub opening_hours: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Who runs it (a union branch, a community, a company).
    pub operator: Option<String>,
    /// When someone last checked the entry on the ground (`YYYY-MM-DD` across the FFI).
    pub last_verified: Option<CalendarDate>,
}

/// One search result: a station and how it relates to where the rider is and when.
///
/// The station is shared with the index (no copy per query); the FFI hands out its own
/// record holding a [`Station`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StationHit {
    /// The station.
    pub station: Arc<Station>,
    /// Ellipsoidal (WGS-84 geodesic) distance in metres.
    pub distance_m: f64,
    /// Initial bearing from the rider to the station, degrees clockwise from true north.
    pub bearing_deg: f64,
    /// Open, Closed or Unknown at the time asked about.
    pub status: OpenStatus,
    /// When `status` next changes, when the hours say.
    pub next_change: Option<DateTime<Utc>>,
}

/// Filters for nearest and radius searches. The default passes every station.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StationFilter {
    /// Only stations offering all of these.
    #[cfg_attr(feature = "uniffi", uniffi(default = []))]
    pub services: Vec<Service>,
    /// Only stations known to be open at the query time (Unknown is excluded).
    #[cfg_attr(feature = "uniffi", uniffi(default = false))]
    pub open_only: bool,
    /// Only stations at most this far, in metres.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub max_distance_m: Option<f64>,
}

/// A nearest-stations query ([`super::Stations::nearest`]).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NearestQuery {
    /// Where the rider is, in any datum.
    pub position: Position,
    /// How many stations, 1..=1000 ([`MAX_RESULTS`]).
    #[cfg_attr(feature = "uniffi", uniffi(default = 5))]
    pub limit: i32,
    /// Service, open-now and distance filters.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub filter: StationFilter,
    /// When to evaluate opening hours; `None` is now.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub at: Option<DateTime<Utc>>,
}

/// A radius query ([`super::Stations::within`]): every station within `radius_m` of `center`
/// that passes the filter, nearest first, at most [`MAX_RESULTS`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct WithinQuery {
    /// The centre, in any datum.
    pub center: Position,
    /// The radius in metres, finite and >= 0.
    pub radius_m: f64,
    /// Service, open-now and distance filters.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub filter: StationFilter,
    /// When to evaluate opening hours; `None` is now.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub at: Option<DateTime<Utc>>,
}
