//! Positions, datums and distances.
//!
//! Everything inside Waystation is WGS-84. A position that arrives in GCJ-02 (Amap, Tencent)
//! or BD-09 (Baidu) is converted once, at the edge, and the datum it came in is kept beside it
//! so that nobody later wonders which grid a number was on. Distances and bearings are
//! ellipsoidal WGS-84 geodesics (Karney's algorithm, as in GeographicLib, through `geo`),
//! never a sphere.
//!
//! [`district`] lists Xi'an's districts and counties by GB/T 2260 code.

mod china;
pub mod district;
mod geodesic;

pub use china::{in_mainland_china, transform};
pub use district::{District, DistrictInfo, DistrictKind, XIAN_DISTRICTS};
pub use geodesic::{bearing_deg, distance_m};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A geodetic datum (coordinate system) a latitude/longitude pair can be expressed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    /// WGS-84: GPS, OpenStreetMap, Open311. Waystation's internal datum.
    Wgs84,
    /// GCJ-02, the obfuscated datum required for maps published in mainland China
    /// (Amap/Gaode, Tencent).
    Gcj02,
    /// BD-09, Baidu's further offset on top of GCJ-02.
    Bd09,
}

impl Datum {
    /// The short lowercase name used in packs, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Datum::Wgs84 => "wgs84",
            Datum::Gcj02 => "gcj02",
            Datum::Bd09 => "bd09",
        }
    }
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Datum {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        // The canonical names (`as_str`, what the store holds: one per loaded station) without
        // the normalising copies below.
        if let Some(d) = [Datum::Wgs84, Datum::Gcj02, Datum::Bd09]
            .into_iter()
            .find(|d| d.as_str() == s)
        {
            return Ok(d);
        }
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "wgs84" => Ok(Datum::Wgs84),
            "gcj02" => Ok(Datum::Gcj02),
            "bd09" | "bd09ll" => Ok(Datum::Bd09),
            _ => Err(Error::invalid(format!(
                "unknown datum '{s}': expected wgs84, gcj02 or bd09"
            ))),
        }
    }
}

/// A latitude/longitude pair in degrees, tagged with the datum it is expressed in.
///
/// Across the FFI it is a plain record; every call that takes one checks it (NaN, infinities
/// and out-of-range values are refused by name) before using it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Position {
    /// Latitude in degrees, -90..=90.
    pub lat: f64,
    /// Longitude in degrees, -180..=180.
    pub lon: f64,
    /// The datum `lat` and `lon` are expressed in.
    pub datum: Datum,
}

impl Position {
    /// A position, checked: NaN, infinite and out-of-range values are refused.
    pub fn new(lat: f64, lon: f64, datum: Datum) -> Result<Self> {
        check_lat_lon(lat, lon)?;
        Ok(Position { lat, lon, datum })
    }

    /// A WGS-84 position, checked.
    pub fn wgs84(lat: f64, lon: f64) -> Result<Self> {
        Self::new(lat, lon, Datum::Wgs84)
    }

    /// This position converted to `to`. Inverse conversions iterate to sub-millimetre
    /// accuracy; positions outside mainland China are returned unchanged.
    pub fn to_datum(self, to: Datum) -> Result<Position> {
        check_lat_lon(self.lat, self.lon)?;
        let (lat, lon) = transform(self.lat, self.lon, self.datum, to);
        Ok(Position {
            lat,
            lon,
            datum: to,
        })
    }

    /// This position in WGS-84.
    pub fn to_wgs84(self) -> Result<Position> {
        self.to_datum(Datum::Wgs84)
    }
}

/// Refuses NaN, infinities and values outside -90..=90 / -180..=180, naming the problem.
pub fn check_lat_lon(lat: f64, lon: f64) -> Result<()> {
    if !lat.is_finite() {
        return Err(Error::invalid(format!(
            "latitude is not a finite number ({lat})"
        )));
    }
    if !lon.is_finite() {
        return Err(Error::invalid(format!(
            "longitude is not a finite number ({lon})"
        )));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(Error::invalid(format!(
            "latitude {lat} is outside -90..=90"
        )));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(Error::invalid(format!(
            "longitude {lon} is outside -180..=180"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datum_names_parse_and_unknown_is_named() {
        assert_eq!("WGS-84".parse::<Datum>().unwrap(), Datum::Wgs84);
        assert_eq!("gcj_02".parse::<Datum>().unwrap(), Datum::Gcj02);
        assert_eq!("bd09".parse::<Datum>().unwrap(), Datum::Bd09);
        let err = "mars".parse::<Datum>().unwrap_err().to_string();
        assert!(err.contains("unknown datum 'mars'"), "{err}");
    }

    #[test]
    fn bad_coordinates_are_refused_with_reason() {
        for (lat, lon, needle) in [
            (f64::NAN, 1.0, "latitude is not a finite"),
            (1.0, f64::INFINITY, "longitude is not a finite"),
            (90.5, 1.0, "latitude 90.5"),
            (1.0, -180.1, "longitude -180.1"),
        ] {
            let err = Position::wgs84(lat, lon).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
