//! The `Stations` object (`waystation.stations()`) over the core's handle: plain calls (they
//! take microseconds to milliseconds). Only [`StationHit`] is this crate's: the core's shares
//! its station with the index (`Arc<Station>`), which uniffi cannot carry in a record.

use std::sync::Arc;
use std::time::SystemTime;

use waystation_core as core;
use waystation_core::stations::{NearestQuery, OpenStatus, Station, WithinQuery};

use crate::Result;

/// One search result: the station, its geodesic distance (metres) and initial bearing
/// (degrees from true north) from the rider, whether it is open at the time asked about
/// (show `Unknown` as "hours unknown", never as open), and when that next changes.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct StationHit {
    pub station: Station,
    pub distance_m: f64,
    pub bearing_deg: f64,
    pub status: OpenStatus,
    pub next_change: Option<SystemTime>,
}

fn hits(found: Vec<core::stations::StationHit>) -> Vec<StationHit> {
    found
        .into_iter()
        .map(|h| StationHit {
            station: Station::clone(&h.station),
            distance_m: h.distance_m,
            bearing_deg: h.bearing_deg,
            status: h.status,
            next_change: h.next_change.map(Into::into),
        })
        .collect()
}

/// The red-station directory on this device; works offline.
#[derive(uniffi::Object)]
pub struct Stations {
    pub(crate) ws: Arc<core::Waystation>,
}

#[uniffi::export]
impl Stations {
    /// The nearest stations that pass the query's filters, nearest first.
    pub fn nearest(&self, query: NearestQuery) -> Result<Vec<StationHit>> {
        Ok(hits(self.ws.stations().nearest(&query)?))
    }

    /// Every station within the query's radius that passes the filters, nearest first.
    pub fn within(&self, query: WithinQuery) -> Result<Vec<StationHit>> {
        Ok(hits(self.ws.stations().within(&query)?))
    }

    /// A station by id; `NotFound` when none is installed.
    pub fn get(&self, id: String) -> Result<Station> {
        let station = self.ws.stations().get(&id)?;
        Ok(Station::clone(&station))
    }

    /// Stations whose name or address contains `text`, best first, at most `limit`.
    pub fn search(&self, text: String, limit: i32) -> Result<Vec<Station>> {
        let found = self.ws.stations().search(&text, limit)?;
        Ok(found.iter().map(|s| Station::clone(s)).collect())
    }

    /// Number of installed stations.
    pub fn count(&self) -> i64 {
        self.ws.stations().count()
    }
}
