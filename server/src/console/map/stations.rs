//! The red stations on the console map: the station pack the server publishes to devices
//! (`waystation-server publish-pack stations`), read with the core's own pack format and
//! datum conversion, so the map shows the stations the riders' phones list, in WGS-84.
//!
//! The pack was verified when it was published (the same checks as a device's import), so it
//! is only parsed here. Parsing ~1,000 stations takes milliseconds, but the map asks on every
//! view: the parsed list is kept, keyed by the pack's ETag, until another pack is published.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::sync::{Arc, Mutex};
use waystation_core::geo::{Datum, Position};
use waystation_core::packs::Envelope;
use waystation_core::stations::StationPack;

use crate::error::ApiError;
use crate::store::StoreTx;

/// A station as the map draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct MapStation {
    /// The station's id in the pack.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name, when the pack has one.
    pub name_en: Option<String>,
    /// GB/T 2260 district code.
    pub district: String,
    /// WGS-84 latitude.
    pub lat: f64,
    /// WGS-84 longitude.
    pub lon: f64,
}

/// The last pack parsed: its ETag and stations.
static CACHE: Mutex<Option<(String, Arc<Vec<MapStation>>)>> = Mutex::new(None);

/// The stations of the published station pack (none when no pack is published).
pub fn published(tx: &dyn StoreTx) -> Result<Arc<Vec<MapStation>>, ApiError> {
    let Some(row) = tx.pack("stations")? else {
        return Ok(Arc::new(Vec::new()));
    };
    if let Some((etag, list)) = CACHE.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
        && *etag == row.etag
    {
        return Ok(list.clone());
    }
    let bytes = tx
        .pack_bytes("stations")?
        .ok_or_else(|| ApiError::internal("a published pack lost its bytes"))?;
    let list = Arc::new(parse(&bytes).map_err(|e| {
        ApiError::internal(format!("the published station pack does not read: {e}"))
    })?);
    *CACHE.lock().unwrap_or_else(|p| p.into_inner()) = Some((row.etag, list.clone()));
    Ok(list)
}

/// The stations of a signed station pack file, positions converted to WGS-84 by the core.
/// A station whose datum or position the core refuses is left out (a published pack has none).
pub fn parse(envelope: &[u8]) -> Result<Vec<MapStation>, String> {
    let env: Envelope = serde_json::from_slice(envelope).map_err(|e| e.to_string())?;
    let payload = STANDARD
        .decode(env.payload.as_bytes())
        .map_err(|e| format!("payload is not base64: {e}"))?;
    let pack = StationPack::from_json(&payload).map_err(|e| e.to_string())?;
    Ok(pack
        .stations
        .into_iter()
        .filter_map(|s| {
            let datum: Datum = s.position.datum.parse().ok()?;
            let p = Position::new(s.position.lat, s.position.lon, datum)
                .and_then(Position::to_wgs84)
                .ok()?;
            Some(MapStation {
                id: s.id,
                name_zh: s.name.zh,
                name_en: s.name.en,
                district: s.district,
                lat: p.lat,
                lon: p.lon,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_pack_reads_in_wgs84() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/stations/xian-sample.pack.json"
        );
        let stations = parse(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(stations.len(), 1120);
        let s = stations.iter().find(|s| s.id == "XA-0001").unwrap();
        assert_eq!(s.district, "610102");
        // Published in GCJ-02 at (34.295209, 108.950378): WGS-84 is west and north of it.
        assert!(
            s.lon < 108.950378 - 0.003 && s.lat > 34.295209 + 0.001,
            "{s:?}"
        );
        assert!(parse(b"{}").is_err());
        assert!(parse(b"not json").is_err());
    }
}
