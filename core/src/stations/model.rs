//! What a station is, as the app shows it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::sync::Arc;

use super::{OpenStatus, Service, ServiceSet};
use crate::geo::Position;

/// A red station (红色驿站): a rest stop for outdoor workers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Station {
    /// Stable id from the pack, e.g. `XA-0001`.
    pub id: String,
    /// Which installed pack it came from (shared by all its stations).
    pub pack_id: Arc<str>,
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
    /// What it offers.
    pub services: ServiceSet,
    /// OSM `opening_hours` string as published; `None` when not published.
    pub opening_hours: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Who runs it (a union branch, a community, a company).
    pub operator: Option<String>,
    /// When someone last checked the entry on the ground.
    pub last_verified: Option<NaiveDate>,
}

/// One search result: a station and how it relates to where the rider is and when.
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

/// Filters for nearest and radius searches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StationFilter {
    /// Only stations offering all of these.
    pub services: Vec<Service>,
    /// Only stations known to be open at the query time (Unknown is excluded).
    pub open_only: bool,
    /// Only stations at most this far, in metres.
    pub max_distance_m: Option<f64>,
}
