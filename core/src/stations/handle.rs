//! [`Stations`], the handle a [`Waystation`] hands out for the red-station directory
//! (`ws.stations()`): nearest, radius, lookup by id and text search.
//!
//! The handle only borrows the [`Waystation`]: it is free to make and holds no state. Every
//! query reads the in-memory index (the facade swaps in a fresh one after each pack import),
//! except text search, which asks SQLite's FTS5 index.

use std::sync::Arc;

use super::{
    MAX_RESULTS, NearestQuery, Station, StationFilter, StationHit, StationIndex, WithinQuery,
};
use crate::Waystation;
use crate::error::{Error, Result};

/// The red-station directory on this device. Every query works offline. Get one with
/// [`Waystation::stations`].
#[derive(Clone, Copy, Debug)]
pub struct Stations<'a> {
    ws: &'a Waystation,
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

impl<'a> Stations<'a> {
    /// The stations of `ws`.
    pub(crate) fn new(ws: &'a Waystation) -> Stations<'a> {
        Stations { ws }
    }

    /// The nearest stations that pass the filter, strictly sorted by geodesic distance.
    /// A limit outside 1..=[`MAX_RESULTS`], a bad position or a bad distance filter is
    /// [`Error::InvalidInput`].
    pub fn nearest(&self, query: &NearestQuery) -> Result<Vec<StationHit>> {
        let limit = usize::try_from(query.limit)
            .ok()
            .filter(|l| (1..=MAX_RESULTS).contains(l))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "limit must be between 1 and {MAX_RESULTS}, got {}",
                    query.limit
                ))
            })?;
        check_filter(&query.filter)?;
        let p = query.position.to_wgs84()?;
        let at = query.at.unwrap_or_else(|| self.ws.now());
        Ok(self.index().nearest(p.lat, p.lon, limit, &query.filter, at))
    }

    /// Every station within the query's radius that passes the filter, nearest first (at most
    /// [`MAX_RESULTS`]). A radius that is negative or not finite is [`Error::InvalidInput`].
    pub fn within(&self, query: &WithinQuery) -> Result<Vec<StationHit>> {
        let radius_m = query.radius_m;
        if !radius_m.is_finite() || radius_m < 0.0 {
            return Err(Error::invalid(format!(
                "radius must be a finite number of metres >= 0, got {radius_m}"
            )));
        }
        check_filter(&query.filter)?;
        let p = query.center.to_wgs84()?;
        let at = query.at.unwrap_or_else(|| self.ws.now());
        let mut hits = self
            .index()
            .within(p.lat, p.lon, radius_m, &query.filter, at);
        hits.truncate(MAX_RESULTS);
        Ok(hits)
    }

    /// A station by id; [`Error::NotFound`] when none is installed.
    pub fn get(&self, id: &str) -> Result<Arc<Station>> {
        self.index()
            .get(id)
            .ok_or_else(|| Error::NotFound(format!("no station with id '{}'", shown(id))))
    }

    /// Stations whose name or address contains `text` (Chinese or English), best match first;
    /// `limit` is 1..=200 ([`super::MAX_SEARCH_RESULTS`]).
    pub fn search(&self, text: &str, limit: i32) -> Result<Vec<Arc<Station>>> {
        let ids = super::search(&self.ws.store().read(), text, limit)?;
        let index = self.index();
        Ok(ids.iter().filter_map(|id| index.get(id)).collect())
    }

    /// Number of installed stations.
    pub fn count(&self) -> i64 {
        i64::try_from(self.index().len()).unwrap_or(i64::MAX)
    }

    /// The station index itself (benchmarks and diagnostics): a snapshot that a later import
    /// does not change.
    pub fn index(&self) -> Arc<StationIndex> {
        self.ws.station_index()
    }
}

/// At most 80 characters of an id, for an error message (an id can be any text).
fn shown(id: &str) -> String {
    id.chars().take(80).collect()
}
