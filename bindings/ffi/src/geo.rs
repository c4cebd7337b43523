//! Free functions on positions, services and opening hours (no data directory needed).

use std::time::SystemTime;

use waystation_core as core;
use waystation_core::geo::{Datum, Position};
use waystation_core::stations::{Hours, HoursState, Service, ServiceInfo};

use crate::Result;

/// Converts a position to another datum (inverses iterate to sub-millimetre accuracy).
#[uniffi::export]
pub fn convert_position(position: Position, to: Datum) -> Result<Position> {
    Ok(position.to_datum(to)?)
}

/// Ellipsoidal (WGS-84 geodesic) distance in metres between two positions in any datums.
#[uniffi::export]
pub fn geodesic_distance(from: Position, to: Position) -> Result<f64> {
    let a = from.to_wgs84()?;
    let b = to.to_wgs84()?;
    Ok(core::geo::distance_m(a.lat, a.lon, b.lat, b.lon))
}

/// Parses a datum name (`wgs84`, `gcj02`, `bd09`), for input from text.
#[uniffi::export]
pub fn parse_datum(name: String) -> Result<Datum> {
    Ok(name.parse()?)
}

/// Parses a service name such as `ebike_charging`, for input from text.
#[uniffi::export]
pub fn parse_service(name: String) -> Result<Service> {
    Ok(name.parse()?)
}

/// Every service with its stable name and labels, for building filter chips.
#[uniffi::export]
pub fn all_services() -> Vec<ServiceInfo> {
    Service::ALL.iter().map(|s| s.info()).collect()
}

/// Evaluates an OSM `opening_hours` string at `at` in Asia/Shanghai; bad hours are `Unknown`.
#[uniffi::export]
pub fn hours_status(opening_hours: Option<String>, at: SystemTime) -> HoursState {
    Hours::parse(opening_hours.as_deref()).state_at(at.into())
}
