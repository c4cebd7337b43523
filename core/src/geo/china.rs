//! GCJ-02 and BD-09, the datums of Chinese map services, and their inverses.
//!
//! The forward transforms are the published ones (the GCJ-02 polynomial on the Krasovsky
//! ellipsoid, and Baidu's BD-09 offset on top of GCJ-02). There is no closed-form inverse.
//! The common one-step inverse, `wgs ≈ gcj - (f(gcj) - gcj)`, is off by one to two metres,
//! so [`transform`] iterates the fixed point `w ← w - (f(w) - target)` until the round trip is
//! within 1e-10 degrees (about 0.01 mm), which takes three or four steps.
//!
//! # Boundary
//!
//! GCJ-02 is applied only inside mainland China. [`in_mainland_china`] is a coarse test made
//! of inclusion rectangles minus exclusion rectangles (Taiwan, Hong Kong, Macau, and the parts
//! of Mongolia, Russia, Korea, Vietnam and Laos the inclusion rectangles overlap). It is right
//! everywhere except within a few tens of kilometres of a land border and for offshore islands
//! such as Kinmen; see `docs/decisions/0003-china-boundary.md`.

use super::Datum;

const A: f64 = 6_378_245.0; // Krasovsky 1940 semi-major axis, as used by GCJ-02.
const EE: f64 = 0.006_693_421_622_965_943; // Krasovsky eccentricity squared.
const X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;
const PI: f64 = std::f64::consts::PI;
/// Convergence threshold of the inverse iteration, in degrees (~0.01 mm).
const INVERSE_EPS_DEG: f64 = 1e-10;
const INVERSE_MAX_STEPS: usize = 30;

/// (south, west, north, east) in degrees.
type Rect = (f64, f64, f64, f64);

const INCLUDE: &[Rect] = &[
    (42.8899, 79.4462, 49.2204, 96.3300),   // Xinjiang north
    (39.3742, 109.6872, 54.1415, 135.0002), // north-east and Inner Mongolia east
    (29.5297, 73.1246, 42.8899, 124.1433),  // the west, north and centre
    (26.7186, 82.9684, 29.5297, 97.0352),   // Tibet south
    (20.4141, 97.0253, 29.5297, 124.3674),  // the south and east coast
    (17.8715, 107.9758, 20.4141, 111.7441), // Hainan
];

const EXCLUDE: &[Rect] = &[
    (21.7850, 119.2000, 25.4000, 122.4976), // Taiwan and Penghu
    (22.1300, 113.8300, 22.4300, 114.4500), // Hong Kong: islands, Kowloon, most of the NT
    (22.4300, 113.9000, 22.5100, 114.3500), // Hong Kong: NT up to the Shenzhen River
    (22.1000, 113.5200, 22.2200, 113.6100), // Macau
    (20.0988, 101.8652, 22.2840, 106.6650), // Laos and northern Vietnam
    (20.4878, 106.4525, 21.5422, 108.0510), // Vietnam coast
    (49.5574, 127.4568, 55.8175, 137.0227), // Russia beyond the Amur
    (42.5692, 131.2662, 44.8922, 137.0227), // Russian Primorye
    (50.3257, 109.0323, 55.8175, 119.1270), // Russia (Transbaikal)
    (37.5000, 124.3000, 42.0000, 131.0000), // Korean peninsula
];

fn inside(r: &Rect, lat: f64, lon: f64) -> bool {
    lat >= r.0 && lat <= r.2 && lon >= r.1 && lon <= r.3
}

/// Whether a point (in any of the three datums; they differ by < 1 km) lies in mainland China,
/// where GCJ-02 and BD-09 apply. See the module documentation for how coarse this is.
pub fn in_mainland_china(lat: f64, lon: f64) -> bool {
    INCLUDE.iter().any(|r| inside(r, lat, lon)) && !EXCLUDE.iter().any(|r| inside(r, lat, lon))
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 offset, applied without the boundary test.
fn wgs_to_gcj_raw(lat: f64, lon: f64) -> (f64, f64) {
    let mut d_lat = transform_lat(lon - 105.0, lat - 35.0);
    let mut d_lon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    d_lon = (d_lon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (lat + d_lat, lon + d_lon)
}

fn gcj_to_bd_raw(lat: f64, lon: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000_003 * (lon * X_PI).cos();
    (z * theta.sin() + 0.006, z * theta.cos() + 0.0065)
}

/// Inverts `forward` by fixed-point iteration from `target`.
fn invert(target: (f64, f64), forward: impl Fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut lat, mut lon) = target;
    for _ in 0..INVERSE_MAX_STEPS {
        let (f_lat, f_lon) = forward(lat, lon);
        let (e_lat, e_lon) = (f_lat - target.0, f_lon - target.1);
        lat -= e_lat;
        lon -= e_lon;
        if e_lat.abs() < INVERSE_EPS_DEG && e_lon.abs() < INVERSE_EPS_DEG {
            break;
        }
    }
    (lat, lon)
}

fn to_wgs84(lat: f64, lon: f64, from: Datum) -> (f64, f64) {
    match from {
        Datum::Wgs84 => (lat, lon),
        Datum::Gcj02 => invert((lat, lon), wgs_to_gcj_raw),
        Datum::Bd09 => invert((lat, lon), |la, lo| {
            let (g_lat, g_lon) = wgs_to_gcj_raw(la, lo);
            gcj_to_bd_raw(g_lat, g_lon)
        }),
    }
}

fn from_wgs84(lat: f64, lon: f64, to: Datum) -> (f64, f64) {
    match to {
        Datum::Wgs84 => (lat, lon),
        Datum::Gcj02 => wgs_to_gcj_raw(lat, lon),
        Datum::Bd09 => {
            let (g_lat, g_lon) = wgs_to_gcj_raw(lat, lon);
            gcj_to_bd_raw(g_lat, g_lon)
        }
    }
}

/// Converts (lat, lon) degrees from one datum to another. Points outside mainland China are
/// returned unchanged, since no Chinese offset applies there. Inputs must be finite and in
/// range; [`super::Position::to_datum`] checks that.
pub fn transform(lat: f64, lon: f64, from: Datum, to: Datum) -> (f64, f64) {
    if from == to || !in_mainland_china(lat, lon) {
        return (lat, lon);
    }
    let (w_lat, w_lon) = to_wgs84(lat, lon, from);
    from_wgs84(w_lat, w_lon, to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::distance_m;

    const BELL_TOWER_WGS: (f64, f64) = (34.259_53, 108.942_35);

    #[test]
    fn forward_shift_in_xian_is_hundreds_of_metres() {
        let (lat, lon) = BELL_TOWER_WGS;
        let (g_lat, g_lon) = transform(lat, lon, Datum::Wgs84, Datum::Gcj02);
        let shift = distance_m(lat, lon, g_lat, g_lon);
        assert!((300.0..700.0).contains(&shift), "GCJ shift {shift} m");
        let (b_lat, b_lon) = transform(lat, lon, Datum::Wgs84, Datum::Bd09);
        let shift_bd = distance_m(lat, lon, b_lat, b_lon);
        assert!(shift_bd > shift, "BD-09 adds to GCJ-02: {shift_bd} m");
    }

    #[test]
    fn inverses_round_trip_below_a_millimetre() {
        for &(lat, lon) in &[
            BELL_TOWER_WGS,
            (39.908_7, 116.397_5), // Beijing
            (31.230_4, 121.473_7), // Shanghai
            (43.825_6, 87.616_8),  // Urumqi
            (29.652_5, 91.172_1),  // Lhasa
            (18.252_8, 109.512_0), // Sanya
            (45.803_8, 126.534_9), // Harbin
        ] {
            for datum in [Datum::Gcj02, Datum::Bd09] {
                let (f_lat, f_lon) = transform(lat, lon, Datum::Wgs84, datum);
                let (w_lat, w_lon) = transform(f_lat, f_lon, datum, Datum::Wgs84);
                let err = distance_m(lat, lon, w_lat, w_lon);
                assert!(err < 0.001, "{datum} round trip at {lat},{lon}: {err} m");
                // and GCJ <-> BD directly
                let (x_lat, x_lon) = transform(f_lat, f_lon, datum, Datum::Gcj02);
                let (g_lat, g_lon) = transform(lat, lon, Datum::Wgs84, Datum::Gcj02);
                assert!(distance_m(x_lat, x_lon, g_lat, g_lon) < 0.001);
            }
        }
    }

    #[test]
    fn one_step_inverse_would_be_off_by_metres() {
        // Shows why we iterate: the naive inverse misses by more than 0.5 m somewhere in Xi'an.
        let (lat, lon) = BELL_TOWER_WGS;
        let (g_lat, g_lon) = wgs_to_gcj_raw(lat, lon);
        let (f_lat, f_lon) = wgs_to_gcj_raw(g_lat, g_lon);
        let naive = (g_lat - (f_lat - g_lat), g_lon - (f_lon - g_lon));
        let err = distance_m(lat, lon, naive.0, naive.1);
        assert!(err > 0.1, "naive inverse error {err} m");
    }

    #[test]
    fn outside_mainland_china_passes_through() {
        for &(lat, lon) in &[
            (22.319_3, 114.169_4),  // Hong Kong
            (22.198_7, 113.543_9),  // Macau
            (25.033_0, 121.565_4),  // Taipei
            (37.566_5, 126.978_0),  // Seoul
            (21.027_8, 105.834_2),  // Hanoi
            (35.676_2, 139.650_3),  // Tokyo
            (51.507_4, -0.127_8),   // London
            (-33.868_8, 151.209_3), // Sydney
        ] {
            assert!(!in_mainland_china(lat, lon), "{lat},{lon}");
            for datum in [Datum::Gcj02, Datum::Bd09] {
                assert_eq!(transform(lat, lon, Datum::Wgs84, datum), (lat, lon));
                assert_eq!(transform(lat, lon, datum, Datum::Wgs84), (lat, lon));
            }
        }
        for &(lat, lon) in &[
            BELL_TOWER_WGS,
            (39.9, 116.4),
            (43.8, 87.6),
            (29.65, 91.17),
            (18.25, 109.5),
            (22.54, 114.05),
        ] {
            assert!(in_mainland_china(lat, lon), "{lat},{lon}");
        }
    }
}
