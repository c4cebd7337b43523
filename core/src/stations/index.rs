//! The in-memory spatial index over installed stations.
//!
//! Stations are indexed as points on the unit sphere (x, y, z from their WGS-84 latitude and
//! longitude) in an R*-tree (`rstar`, the version `geo` uses). Straight-line (chord) distance
//! between such points grows monotonically with great-circle angle, so the tree yields
//! candidates nearest-first by angle. Every candidate's true distance is then the ellipsoidal
//! geodesic. Since no geodesic on WGS-84 is shorter than `angle × 6 335 439 m` (the smallest
//! radius of curvature, the meridional one at the equator), the search stops as soon as
//! `angle × 6 335 000 m` exceeds the k-th best geodesic found. The result is exact: strictly
//! sorted by geodesic distance, not by the sphere.
//!
//! Opening hours are parsed once per distinct string, and the state of each distinct string
//! is cached for as long as it holds (until its next change), so an "open now" filter costs a
//! lookup per candidate.

use chrono::{DateTime, Utc};
use rstar::primitives::GeomWithData;
use rstar::{RStarInsertionStrategy, RTree, RTreeParams};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::hours::{Hours, HoursState, OpenStatus};
use super::model::{Station, StationHit};
use super::{ServiceSet, StationFilter};
use crate::geo::{bearing_deg, distance_m};

/// A lower bound, in metres per radian, on geodesic length over spherical angle for WGS-84.
const MIN_RADIUS_M: f64 = 6_335_000.0;

type Node = GeomWithData<[f64; 3], u32>;

/// Nodes of up to 12 entries instead of `rstar`'s default 6. The tree is only ever bulk-loaded,
/// never inserted into, and the bulk load re-partitions every point once per level and axis:
/// 100,000 points make 5 levels instead of 7, and the load takes about 30 % less (21 instead of
/// 30 ms, measured alone). Nearest queries visit fewer, larger nodes and measured the same
/// within noise (docs/benchmarks.md). `MIN_SIZE` and the reinsertion count only matter to
/// inserts.
struct BulkParams;

impl RTreeParams for BulkParams {
    const MIN_SIZE: usize = 4;
    const MAX_SIZE: usize = 12;
    const REINSERTION_COUNT: usize = 2;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (la, lo) = (lat.to_radians(), lon.to_radians());
    [la.cos() * lo.cos(), la.cos() * lo.sin(), la.sin()]
}

/// A hash of a station id, stable within one process (the index is never persisted).
fn id_hash(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

fn chord2_to_angle(chord2: f64) -> f64 {
    2.0 * (chord2.sqrt() / 2.0).min(1.0).asin()
}

struct CachedState {
    from: DateTime<Utc>,
    state: HoursState,
}

/// The spatial index and the parsed hours of every installed station.
pub struct StationIndex {
    tree: RTree<Node, BulkParams>,
    stations: Vec<Arc<Station>>,
    services: Vec<ServiceSet>,
    hours_of: Vec<u32>,
    hours: Vec<Hours>,
    state_cache: Vec<Mutex<Option<CachedState>>>,
    /// (hash of id, station index), sorted: lookups by id without a second copy of every id,
    /// and sorting integers at build time is much cheaper than sorting strings.
    by_id: Vec<(u64, u32)>,
}

impl std::fmt::Debug for StationIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StationIndex")
            .field("stations", &self.stations.len())
            .field("distinct_hours", &self.hours.len())
            .finish()
    }
}

impl StationIndex {
    /// Builds the index from stations (as loaded from SQLite by [`super::load_all`], already
    /// shared: they are kept as they are, not copied).
    pub fn build<S: Into<Arc<Station>>>(stations: impl IntoIterator<Item = S>) -> StationIndex {
        let stations: Vec<Arc<Station>> = stations.into_iter().map(Into::into).collect();
        let mut hours = Vec::new();
        let mut hours_ids: HashMap<Option<&str>, u32> = HashMap::new();
        let mut hours_of = Vec::with_capacity(stations.len());
        let mut services = Vec::with_capacity(stations.len());
        let mut nodes = Vec::with_capacity(stations.len());
        for (i, s) in stations.iter().enumerate() {
            let spec = s.opening_hours.as_deref();
            let h = *hours_ids.entry(spec).or_insert_with(|| {
                hours.push(Hours::parse(spec));
                (hours.len() - 1) as u32
            });
            hours_of.push(h);
            services.push(s.services);
            nodes.push(Node::new(
                unit_vector(s.position.lat, s.position.lon),
                i as u32,
            ));
        }
        let mut by_id: Vec<(u64, u32)> = stations
            .iter()
            .enumerate()
            .map(|(i, s)| (id_hash(&s.id), i as u32))
            .collect();
        by_id.sort_unstable();
        let state_cache = (0..hours.len()).map(|_| Mutex::new(None)).collect();
        StationIndex {
            tree: RTree::bulk_load_with_params(nodes),
            stations,
            services,
            hours_of,
            hours,
            state_cache,
            by_id,
        }
    }

    /// An empty index.
    pub fn empty() -> StationIndex {
        Self::build(Vec::<Arc<Station>>::new())
    }

    /// Number of stations.
    pub fn len(&self) -> usize {
        self.stations.len()
    }

    /// Whether there are no stations.
    pub fn is_empty(&self) -> bool {
        self.stations.is_empty()
    }

    /// A station by id.
    pub fn get(&self, id: &str) -> Option<Arc<Station>> {
        let h = id_hash(id);
        let start = self.by_id.partition_point(|&(k, _)| k < h);
        self.by_id[start..]
            .iter()
            .take_while(|&&(k, _)| k == h)
            .map(|&(_, i)| &self.stations[i as usize])
            .find(|s| s.id == id)
            .cloned()
    }

    /// All stations, in no particular order.
    pub fn stations(&self) -> &[Arc<Station>] {
        &self.stations
    }

    /// Hours state of station `i` at `at`, from the cache when it still holds.
    fn state(&self, i: u32, at: DateTime<Utc>) -> HoursState {
        let h = self.hours_of[i as usize] as usize;
        let mut slot = self.state_cache[h]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(c) = slot.as_ref() {
            let still_valid = c.from <= at && c.state.next_change.is_none_or(|n| at < n);
            if still_valid {
                return c.state;
            }
        }
        let state = self.hours[h].state_at(at);
        *slot = Some(CachedState { from: at, state });
        state
    }

    fn hit(&self, i: u32, lat: f64, lon: f64, d: f64, state: HoursState) -> StationHit {
        let s = &self.stations[i as usize];
        StationHit {
            station: s.clone(),
            distance_m: d,
            bearing_deg: bearing_deg(lat, lon, s.position.lat, s.position.lon),
            status: state.status,
            next_change: state.next_change,
        }
    }

    /// Walks candidates nearest-first, keeping those that pass `filter`, until `limit` are
    /// found and no unseen station can be nearer, or the distance bound is passed.
    fn search(
        &self,
        lat: f64,
        lon: f64,
        limit: usize,
        radius_m: Option<f64>,
        filter: &StationFilter,
        at: DateTime<Utc>,
    ) -> Vec<StationHit> {
        if limit == 0 {
            return Vec::new();
        }
        let required = ServiceSet::of(&filter.services);
        let bound = match (radius_m, filter.max_distance_m) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(f64::INFINITY),
        };
        let q = unit_vector(lat, lon);
        // (distance, index, state), kept sorted; at most `limit` long.
        let mut best: Vec<(f64, u32, HoursState)> = Vec::with_capacity(limit.min(64) + 1);
        for (node, chord2) in self.tree.nearest_neighbor_iter_with_distance_2(&q) {
            let lower = chord2_to_angle(chord2) * MIN_RADIUS_M;
            let kth = if best.len() == limit {
                best[limit - 1].0
            } else {
                f64::INFINITY
            };
            if lower > bound || lower > kth {
                break;
            }
            let i = node.data;
            if !self.services[i as usize].contains_all(required) {
                continue;
            }
            // The cached open state is far cheaper than a geodesic: filter on it first.
            let state = self.state(i, at);
            if filter.open_only && state.status != OpenStatus::Open {
                continue;
            }
            let s = &self.stations[i as usize];
            let d = distance_m(lat, lon, s.position.lat, s.position.lon);
            if d > bound || d > kth {
                continue;
            }
            let key = (d, s.id.as_str());
            let pos = best.partition_point(|(bd, bi, _)| {
                (*bd, self.stations[*bi as usize].id.as_str()) < key
            });
            best.insert(pos, (d, i, state));
            best.truncate(limit);
        }
        best.into_iter()
            .map(|(d, i, st)| self.hit(i, lat, lon, d, st))
            .collect()
    }

    /// The `k` nearest stations to a WGS-84 point that pass `filter`, nearest first.
    pub fn nearest(
        &self,
        lat: f64,
        lon: f64,
        k: usize,
        filter: &StationFilter,
        at: DateTime<Utc>,
    ) -> Vec<StationHit> {
        self.search(lat, lon, k, None, filter, at)
    }

    /// Every station within `radius_m` of a WGS-84 point that passes `filter`, nearest first.
    pub fn within(
        &self,
        lat: f64,
        lon: f64,
        radius_m: f64,
        filter: &StationFilter,
        at: DateTime<Utc>,
    ) -> Vec<StationHit> {
        self.search(lat, lon, usize::MAX, Some(radius_m), filter, at)
    }

    /// The same query as [`Self::nearest`] by scanning every station: the reference the index
    /// is tested and benchmarked against.
    pub fn nearest_brute_force(
        &self,
        lat: f64,
        lon: f64,
        k: usize,
        filter: &StationFilter,
        at: DateTime<Utc>,
    ) -> Vec<StationHit> {
        let required = ServiceSet::of(&filter.services);
        let bound = filter.max_distance_m.unwrap_or(f64::INFINITY);
        let mut all: Vec<(f64, u32)> = (0..self.stations.len() as u32)
            .filter(|&i| self.services[i as usize].contains_all(required))
            .map(|i| {
                let s = &self.stations[i as usize];
                (distance_m(lat, lon, s.position.lat, s.position.lon), i)
            })
            .filter(|(d, _)| *d <= bound)
            .filter(|(_, i)| !filter.open_only || self.state(*i, at).status == OpenStatus::Open)
            .collect();
        all.sort_by(|a, b| {
            a.0.total_cmp(&b.0).then_with(|| {
                self.stations[a.1 as usize]
                    .id
                    .cmp(&self.stations[b.1 as usize].id)
            })
        });
        all.truncate(k);
        all.into_iter()
            .map(|(d, i)| self.hit(i, lat, lon, d, self.state(i, at)))
            .collect()
    }
}
