//! Ellipsoidal distance and bearing on WGS-84 (Karney 2013, via `geo::Geodesic`).

use geo::{Bearing, Distance, Geodesic, Point};

/// Geodesic distance in metres between two WGS-84 points given as (lat, lon) degrees.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    Geodesic.distance(Point::new(lon1, lat1), Point::new(lon2, lat2))
}

/// Initial bearing in degrees clockwise from true north, in `[0, 360)`, of the geodesic from
/// the first WGS-84 point to the second.
pub fn bearing_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let b = Geodesic.bearing(Point::new(lon1, lat1), Point::new(lon2, lat2));
    let b = b.rem_euclid(360.0);
    if b >= 360.0 { 0.0 } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_geographiclib_reference_values() {
        // GeographicLib's documented example, `GeodSolve -i` from JFK (40.6, -73.8) to
        // LHR (51.6, -0.5): azi1 = 51.198882845 deg, s12 = 5551759.400 m.
        let d = distance_m(40.6, -73.8, 51.6, -0.5);
        assert!((d - 5_551_759.400).abs() < 0.01, "{d}");
        let b = bearing_deg(40.6, -73.8, 51.6, -0.5);
        assert!((b - 51.198_882_845).abs() < 1e-6, "{b}");
        // Due north along a meridian: bearing 0, one degree of latitude at 34N ~ 110.9 km.
        let d = distance_m(34.0, 108.94, 35.0, 108.94);
        assert!((d - 110_922.0).abs() < 50.0, "{d}");
        assert!(bearing_deg(34.0, 108.94, 35.0, 108.94).abs() < 1e-9);
        let east = bearing_deg(34.0, 108.0, 34.0, 108.01);
        assert!((east - 90.0).abs() < 0.01, "{east}");
        let west = bearing_deg(34.0, 108.01, 34.0, 108.0);
        assert!((west - 270.0).abs() < 0.01, "{west}");
    }
}
