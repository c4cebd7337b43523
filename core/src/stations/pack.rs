//! The station pack format (payload of a signed envelope) and its validation.
//! The format is documented in `docs/formats/station-pack.md`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use super::{Service, ServiceSet};
use crate::error::{Error, Result};
use crate::geo::{Datum, Position};

/// DSSE payload type of station packs.
pub const STATION_PACK_TYPE: &str = "application/vnd.waystation.station-pack+json";
/// Value of the payload's `format` field.
pub const STATION_PACK_FORMAT: &str = "waystation/station-pack";
/// Newest payload `format_version` this build reads.
pub const STATION_PACK_FORMAT_VERSION: u32 = 1;
/// Most stations one pack may hold.
pub const MAX_STATIONS: usize = 200_000;

/// The payload of a station pack.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StationPack {
    /// Always [`STATION_PACK_FORMAT`].
    pub format: String,
    /// Payload format version; this build reads up to [`STATION_PACK_FORMAT_VERSION`].
    pub format_version: u32,
    /// Stable id of the pack (one city's directory), lowercase letters, digits and dashes.
    pub pack_id: String,
    /// Monotonic version; a device refuses a version older than the installed one.
    pub version: u64,
    /// Who publishes it.
    pub publisher: String,
    /// When it was built.
    pub created: DateTime<Utc>,
    /// True when positions are made up (sample data).
    #[serde(default)]
    pub synthetic: bool,
    /// Free text shown with the pack (licence, provenance, synthetic-data warning).
    #[serde(default)]
    pub notice: Option<String>,
    /// The stations.
    pub stations: Vec<PackStation>,
}

/// Text in Chinese and, optionally, English.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LocalizedText {
    /// Chinese.
    pub zh: String,
    /// English.
    #[serde(default)]
    pub en: Option<String>,
}

/// A position as published, with its datum.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PackPosition {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// `wgs84`, `gcj02` or `bd09`.
    pub datum: String,
}

/// One station as published in a pack.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PackStation {
    /// Stable id.
    pub id: String,
    /// Names.
    pub name: LocalizedText,
    /// Position with datum.
    pub position: PackPosition,
    /// Addresses.
    pub address: LocalizedText,
    /// GB/T 2260 six-digit code.
    pub district: String,
    /// Service names from the closed vocabulary.
    #[serde(default)]
    pub services: Vec<String>,
    /// OSM opening_hours.
    #[serde(default)]
    pub opening_hours: Option<String>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Operator.
    #[serde(default)]
    pub operator: Option<String>,
    /// Last verified on the ground, `YYYY-MM-DD`.
    #[serde(default)]
    pub last_verified: Option<NaiveDate>,
}

/// A station after validation, ready to store.
#[derive(Clone, Debug)]
pub struct ValidStation {
    pub(crate) src: PackStation,
    pub(crate) source: Position,
    pub(crate) wgs84: Position,
    pub(crate) services: ServiceSet,
}

fn check_len(what: &str, id: &str, value: &str, max: usize, required: bool) -> Result<()> {
    let n = value.chars().count();
    if required && value.trim().is_empty() {
        return Err(Error::pack(format!("station '{id}': {what} is empty")));
    }
    if n > max {
        return Err(Error::pack(format!(
            "station '{id}': {what} is {n} characters, more than {max}"
        )));
    }
    Ok(())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl StationPack {
    /// Parses a verified payload.
    pub fn from_json(bytes: &[u8]) -> Result<StationPack> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::pack(format!("station pack payload is malformed: {e}")))
    }

    /// Checks the header and every station, converting positions to WGS-84. The first problem
    /// found is reported with the station id and field.
    pub fn validate(&self) -> Result<Vec<ValidStation>> {
        crate::packs::PackHeader {
            kind: "station",
            format: &self.format,
            expected_format: STATION_PACK_FORMAT,
            format_version: self.format_version,
            max_format_version: STATION_PACK_FORMAT_VERSION,
            pack_id: &self.pack_id,
            version: self.version,
        }
        .check()?;
        if self.publisher.trim().is_empty() {
            return Err(Error::pack("pack publisher is empty"));
        }
        if self.stations.len() > MAX_STATIONS {
            return Err(Error::pack(format!(
                "pack has {} stations, more than the limit of {MAX_STATIONS}",
                self.stations.len()
            )));
        }
        let mut seen = HashSet::with_capacity(self.stations.len());
        self.stations
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if !valid_id(&s.id) {
                    return Err(Error::pack(format!(
                        "station #{i}: id '{}' must be 1-64 letters, digits, '-', '_' or '.'",
                        s.id.chars().take(80).collect::<String>()
                    )));
                }
                if !seen.insert(s.id.as_str()) {
                    return Err(Error::pack(format!("station id '{}' appears twice", s.id)));
                }
                s.validate()
            })
            .collect()
    }
}

impl PackStation {
    fn validate(&self) -> Result<ValidStation> {
        let id = self.id.as_str();
        check_len("name.zh", id, &self.name.zh, 100, true)?;
        check_len(
            "name.en",
            id,
            self.name.en.as_deref().unwrap_or(""),
            200,
            false,
        )?;
        check_len("address.zh", id, &self.address.zh, 200, true)?;
        check_len(
            "address.en",
            id,
            self.address.en.as_deref().unwrap_or(""),
            300,
            false,
        )?;
        check_len("phone", id, self.phone.as_deref().unwrap_or(""), 32, false)?;
        check_len(
            "operator",
            id,
            self.operator.as_deref().unwrap_or(""),
            100,
            false,
        )?;
        check_len(
            "opening_hours",
            id,
            self.opening_hours.as_deref().unwrap_or(""),
            255,
            false,
        )?;
        if self.district.len() != 6 || !self.district.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::pack(format!(
                "station '{id}': district '{}' is not a six-digit GB/T 2260 code",
                self.district
            )));
        }
        let datum: Datum = self
            .position
            .datum
            .parse()
            .map_err(|e: Error| Error::pack(format!("station '{id}': {e}")))?;
        let source = Position::new(self.position.lat, self.position.lon, datum)
            .map_err(|e| Error::pack(format!("station '{id}': position: {e}")))?;
        let wgs84 = source.to_wgs84()?;
        let services = ServiceSet::parse(&self.services)
            .map_err(|e| Error::pack(format!("station '{id}': {e}")))?;
        Ok(ValidStation {
            src: self.clone(),
            source,
            wgs84,
            services,
        })
    }
}

/// The services of a station as a sorted, de-duplicated list (for display).
pub fn service_list(set: ServiceSet) -> Vec<Service> {
    set.to_vec()
}
