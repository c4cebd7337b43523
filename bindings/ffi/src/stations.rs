//! The red-station directory for the shells: the `Stations` object (`waystation.stations()`)
//! over the core's handle. Every call reads the in-memory index or SQLite's text index and
//! returns in microseconds to milliseconds, so they are plain (not async) calls.
//!
//! The records (`Station`, `NearestQuery`, `WithinQuery`, `StationFilter`, `Service`,
//! `OpenStatus`) are the core's own (`org.waystation.core` in Kotlin). Only [`StationHit`] is
//! this crate's: the core's hit shares its station with the index (`Arc<Station>`), which
//! uniffi cannot carry as a record.

use std::sync::Arc;
use std::time::SystemTime;

use waystation_core as core;
use waystation_core::stations::{NearestQuery, OpenStatus, Station, WithinQuery};

use crate::Result;

/// One search result: a station and how it relates to where the rider is and when.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct StationHit {
    /// The station.
    pub station: Station,
    /// Ellipsoidal (WGS-84 geodesic) distance in metres.
    pub distance_m: f64,
    /// Initial bearing from the rider to the station, degrees clockwise from true north.
    pub bearing_deg: f64,
    /// Open, Closed or Unknown at the time asked about. Show Unknown as "hours unknown",
    /// never as open.
    pub status: OpenStatus,
    /// When `status` next changes, when the hours say.
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

/// The red-station directory on this device; works offline. Get it with
/// `waystation.stations()`.
#[derive(uniffi::Object)]
pub struct Stations {
    ws: Arc<core::Waystation>,
}

impl Stations {
    pub(crate) fn new(ws: Arc<core::Waystation>) -> Arc<Stations> {
        Arc::new(Stations { ws })
    }
}

#[uniffi::export]
impl Stations {
    /// The nearest stations that pass the query's filters, nearest first by ellipsoidal
    /// distance. Reads only memory. `InvalidInput` for a limit outside 1..=1000, a bad
    /// position or a bad distance filter.
    pub fn nearest(&self, query: NearestQuery) -> Result<Vec<StationHit>> {
        Ok(hits(self.ws.stations().nearest(&query)?))
    }

    /// Every station within the query's radius (metres) that passes the filters, nearest
    /// first, at most 1,000.
    pub fn within(&self, query: WithinQuery) -> Result<Vec<StationHit>> {
        Ok(hits(self.ws.stations().within(&query)?))
    }

    /// A station by id; `NotFound` when none is installed.
    pub fn get(&self, id: String) -> Result<Station> {
        let station = self.ws.stations().get(&id)?;
        Ok(Station::clone(&station))
    }

    /// Stations whose name or address contains `text` (Chinese or English), best first.
    /// `limit` must be 1..=200.
    pub fn search(&self, text: String, limit: i32) -> Result<Vec<Station>> {
        let found = self.ws.stations().search(&text, limit)?;
        Ok(found.iter().map(|s| Station::clone(s)).collect())
    }

    /// Number of installed stations.
    pub fn count(&self) -> u64 {
        self.ws.stations().count()
    }
}
