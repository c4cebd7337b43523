//! Export: a report with its case as an Open311 GeoReport v2 service request, and reports as
//! an RFC 7946 GeoJSON FeatureCollection. `docs/formats/export.md` is the reference for every
//! field; this comment is the summary.
//!
//! Only submitted (or withdrawn) reports are exported. A draft has not been sent anywhere and
//! is private to its phone, so exporting one is refused with a clear error.
//!
//! Photos are not embedded. Each is referred to by a content address,
//! `waystation-photo:sha256:<64 hex digits>` ([`photo_uri`]), which a receiver resolves through
//! the Waystation blob store (or [`crate::reports::Reports::photo_path`] on the device).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::case::{CaseView, Open311Status};
use super::{Report, ReportStatus};
use crate::error::{Error, Result};

/// Scheme prefix of a photo reference in exports.
pub const PHOTO_URI_PREFIX: &str = "waystation-photo:sha256:";

/// The export reference of a stored photo: `waystation-photo:sha256:<hex>`.
pub fn photo_uri(sha256: &str) -> String {
    format!("{PHOTO_URI_PREFIX}{sha256}")
}

/// A report and its case as an Open311 GeoReport v2 service request (the JSON form of one
/// element of `GET /requests`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Open311Request {
    /// The report id (a UUID).
    pub service_request_id: String,
    /// The category code, e.g. `food.seal`.
    pub service_code: String,
    /// The category's English label.
    pub service_name: String,
    /// Latitude, WGS-84.
    pub lat: Option<f64>,
    /// Longitude, WGS-84.
    pub long: Option<f64>,
    /// Where the problem is in words: the report's address, else the merchant's address.
    /// GeoReport v2 names this `address` in a service request; `address_string` is only the
    /// name of the parameter a client POSTs.
    pub address: Option<String>,
    /// The description, with the merchant's name first when there is one, cut to
    /// [`OPEN311_DESCRIPTION_CHARS`] characters (GeoReport v2's limit) and then ending in `…`.
    pub description: Option<String>,
    /// `open` or `closed`.
    pub status: Open311Status,
    /// What the status means and, when closed, why (from the case fold, or the withdrawal).
    pub status_notes: String,
    /// The grid the case is dispatched to; otherwise the report's district (a GB/T 2260 code);
    /// `null` only for a report submitted before reports had districts.
    pub agency_responsible: Option<String>,
    /// When the report was submitted (RFC 3339, UTC).
    pub requested_datetime: String,
    /// The newest of submission, withdrawal and case events (RFC 3339, UTC).
    pub updated_datetime: String,
    /// The first photo's reference, if any (Open311 has a single `media_url`).
    pub media_url: Option<String>,
    /// Every photo's reference, oldest first (a Waystation extension).
    pub media_urls: Vec<String>,
}

/// GeoReport v2 limits a service request's `description` to 4,000 characters. A report's own
/// description may reach that limit on its own, and the merchant's name is put in front of it,
/// so the export cuts what goes beyond, rather than hand a city system text it may refuse.
pub const OPEN311_DESCRIPTION_CHARS: usize = 4000;

/// `text` unchanged when it fits GeoReport v2's limit, else its first 3,999 characters and `…`.
fn bound_description(text: &str) -> String {
    if text.chars().count() <= OPEN311_DESCRIPTION_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(OPEN311_DESCRIPTION_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn refuse_draft(report: &Report) -> Result<()> {
    if report.status == ReportStatus::Draft {
        return Err(Error::invalid(format!(
            "report '{}' is a draft; only submitted reports can be exported",
            report.id
        )));
    }
    Ok(())
}

/// When the report or its case last changed.
fn updated(report: &Report, case: &CaseView) -> DateTime<Utc> {
    [report.submitted_at, report.withdrawn_at, case.updated_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(report.created_at)
}

/// The Open311 status and notes: a withdrawn report is closed, whatever its case says.
fn status(report: &Report, case: &CaseView) -> (Open311Status, String) {
    if report.status == ReportStatus::Withdrawn {
        let notes = match &report.withdraw_reason {
            Some(r) => format!("closed: withdrawn by the reporter: {r}"),
            None => "closed: withdrawn by the reporter".to_string(),
        };
        return (Open311Status::Closed, notes);
    }
    (case.open311_status, case.status_notes.clone())
}

impl Open311Request {
    /// The service request of a report and its case (the fold of the case document), for a
    /// reader that holds both, such as the sync server's Open311 feed (the console's
    /// `requests.json`); on a device, `ws.reports().export_open311(id)` gives the same. A draft
    /// is refused, as by every export.
    pub fn of(report: &Report, case: &CaseView) -> Result<Open311Request> {
        refuse_draft(report)?;
        Ok(open311(report, case))
    }
}

/// The fields of one element of a GeoReport v2 `GET /requests` answer, with the JSON type
/// each has there (every one a string except `lat` and `long`), from the specification at
/// <https://wiki.open311.org/GeoReport_v2/#get-service-requests>.
pub const GEOREPORT_V2_FIELDS: [(&str, &str); 17] = [
    ("service_request_id", "string"),
    ("status", "string"),
    ("status_notes", "string"),
    ("service_name", "string"),
    ("service_code", "string"),
    ("description", "string"),
    ("agency_responsible", "string"),
    ("service_notice", "string"),
    ("requested_datetime", "string"),
    ("updated_datetime", "string"),
    ("expected_datetime", "string"),
    ("address", "string"),
    ("address_id", "string"),
    ("zipcode", "string"),
    ("lat", "number"),
    ("long", "number"),
    ("media_url", "string"),
];

/// The fields every service request Waystation exports carries, never `null`.
pub const OPEN311_REQUIRED_FIELDS: [&str; 8] = [
    "service_request_id",
    "status",
    "service_name",
    "service_code",
    "requested_datetime",
    "updated_datetime",
    "lat",
    "long",
];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The field check of an exported service request, as JSON: every key is a GeoReport v2 field
/// with the specification's JSON type ([`GEOREPORT_V2_FIELDS`]; `null` where Waystation does
/// not know the value), or `media_urls`, the one documented extension (an array of strings);
/// every field of [`OPEN311_REQUIRED_FIELDS`] is there and not `null`; `status` is `open` or
/// `closed`. Returns every problem found, each naming the field; empty when the request passes.
/// The core's export test and the server's `requests.json` test both run it, so a city system
/// reading either gets the same shape.
pub fn open311_field_problems(request: &Value) -> Vec<String> {
    let Some(fields) = request.as_object() else {
        return vec![format!(
            "a service request is a JSON object, not {}",
            json_type(request)
        )];
    };
    let mut problems = Vec::new();
    for (name, value) in fields {
        if name == "media_urls" {
            if !value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string))
            {
                problems.push("'media_urls' is not an array of strings".to_string());
            }
            continue;
        }
        match GEOREPORT_V2_FIELDS.iter().find(|(n, _)| n == name) {
            None => problems.push(format!(
                "'{name}' is not a field of a GeoReport v2 service request"
            )),
            Some((_, want)) if !value.is_null() && json_type(value) != *want => {
                problems.push(format!(
                    "'{name}' is a {}, GeoReport v2 has a {want}",
                    json_type(value)
                ))
            }
            Some(_) => {}
        }
    }
    for required in OPEN311_REQUIRED_FIELDS {
        if fields.get(required).is_none_or(Value::is_null) {
            problems.push(format!("'{required}' is missing or null"));
        }
    }
    if let Some(status) = fields.get("status").and_then(Value::as_str)
        && status != "open"
        && status != "closed"
    {
        problems.push(format!(
            "'status' is '{status}', GeoReport v2 has open or closed"
        ));
    }
    problems
}

pub(super) fn open311(report: &Report, case: &CaseView) -> Open311Request {
    let (status, status_notes) = status(report, case);
    let description = match (&report.merchant_name, &report.description) {
        (Some(m), Some(d)) => Some(format!("{m}: {d}")),
        (Some(m), None) => Some(m.clone()),
        (None, d) => d.clone(),
    }
    .map(|d| bound_description(&d));
    let media_urls: Vec<String> = report.photos.iter().map(|p| photo_uri(&p.sha256)).collect();
    Open311Request {
        service_request_id: report.id.to_string(),
        service_code: report.category.code().to_string(),
        service_name: report.category.label_en().to_string(),
        lat: report.position.as_ref().map(|p| p.lat),
        long: report.position.as_ref().map(|p| p.lon),
        address: report
            .address
            .clone()
            .or_else(|| report.merchant_address.clone()),
        description,
        status,
        status_notes,
        agency_responsible: case.grid_id.clone().or_else(|| report.district.clone()),
        requested_datetime: time(report.submitted_at.unwrap_or(report.created_at)),
        updated_datetime: time(updated(report, case)),
        media_url: media_urls.first().cloned(),
        media_urls,
    }
}

pub(super) fn feature(report: &Report, case: &CaseView) -> Value {
    let geometry = match &report.position {
        // RFC 7946: longitude first.
        Some(p) => json!({ "type": "Point", "coordinates": [p.lon, p.lat] }),
        None => Value::Null,
    };
    let (open311_status, _) = status(report, case);
    json!({
        "type": "Feature",
        "id": report.id.as_str(),
        "geometry": geometry,
        "properties": {
            "category": report.category.code(),
            "category_en": report.category.label_en(),
            "category_zh": report.category.label_zh(),
            "status": report.status,
            "case_status": case.status,
            "open311_status": open311_status,
            "created_at": time(report.created_at),
            "submitted_at": report.submitted_at.map(time),
            "withdrawn_at": report.withdrawn_at.map(time),
            "updated_at": time(updated(report, case)),
            "photos": report.photos.len(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Datum;
    use crate::reports::{PositionFix, ReportPatch, ReportPhoto, ReportRules};
    use crate::{FixedClock, Options, Waystation};
    use chrono::TimeZone;
    use std::sync::Arc;

    fn submitted(ws: &Waystation, description: &str) -> Report {
        let id = ws.reports().create_draft("rider-1", "food.seal").unwrap();
        ws.reports()
            .update_draft(
                id.as_str(),
                &ReportPatch {
                    merchant_name: Some("老孙家泡馍".into()),
                    description: Some(description.into()),
                    address: Some("钟楼东南角".into()),
                    district: Some("610103".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        ws.reports()
            .set_position(
                id.as_str(),
                &PositionFix {
                    lat: 34.25953,
                    lon: 108.94235,
                    datum: Datum::Wgs84,
                    accuracy_m: Some(8.0),
                    fix_time: ws.now(),
                    mock: false,
                },
            )
            .unwrap();
        ws.reports()
            .submit("rider-1", id.as_str(), &ReportRules::default())
            .unwrap()
    }

    fn open() -> (tempfile::TempDir, Waystation) {
        let dir = tempfile::tempdir().unwrap();
        let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 4, 0, 0).unwrap();
        let clock = Arc::new(FixedClock::new(t0));
        let ws = Waystation::open_with_clock(dir.path(), Options::default(), clock).unwrap();
        (dir, ws)
    }

    #[test]
    fn every_open311_field_has_its_georeport_v2_name_and_type() {
        let (_dir, ws) = open();
        let mut report = submitted(&ws, "外卖封签被撕开");
        report.photos.push(ReportPhoto {
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            media_type: "image/jpeg".into(),
            size_bytes: 1000,
            width: Some(1),
            height: Some(1),
        });
        let case = ws.cases().get(report.id.as_str()).unwrap();
        let json = serde_json::to_value(open311(&report, &case)).unwrap();
        assert_eq!(open311_field_problems(&json), Vec::<String>::new());
        assert_eq!(json["address"], "钟楼东南角");
        assert_eq!(json["status"], "open");
        assert_eq!(json["agency_responsible"], "610103");
        assert_eq!(json["requested_datetime"], "2026-11-30T04:00:00.000Z");
        let fields = json.as_object().unwrap();
        for required in OPEN311_REQUIRED_FIELDS {
            assert!(fields.contains_key(required), "{required} missing");
        }
        // This report knows every value it sends: none is left null.
        for (name, value) in fields {
            assert!(!value.is_null(), "'{name}' is null");
        }
    }

    #[test]
    fn the_field_check_names_every_problem() {
        let (_dir, ws) = open();
        let report = submitted(&ws, "外卖封签被撕开");
        let case = ws.cases().get(report.id.as_str()).unwrap();
        let good = serde_json::to_value(Open311Request::of(&report, &case).unwrap()).unwrap();
        assert!(open311_field_problems(&good).is_empty());
        let mut bad = good.clone();
        bad["author"] = json!("rider-1");
        bad["lat"] = json!("34.2");
        bad["status"] = json!("acknowledged");
        bad["media_urls"] = json!([1]);
        bad.as_object_mut().unwrap().remove("service_code");
        bad["updated_datetime"] = Value::Null;
        let problems = open311_field_problems(&bad).join("\n");
        for needle in [
            "'author' is not a field",
            "'lat' is a string, GeoReport v2 has a number",
            "'status' is 'acknowledged'",
            "'media_urls' is not an array of strings",
            "'service_code' is missing",
            "'updated_datetime' is missing or null",
        ] {
            assert!(problems.contains(needle), "{needle} in {problems}");
        }
        assert!(!open311_field_problems(&json!([])).is_empty());
    }

    #[test]
    fn a_description_longer_than_georeport_allows_is_cut_with_an_ellipsis() {
        let (_dir, ws) = open();
        // The report's own limit is 4,000 characters; the merchant's name goes in front.
        let report = submitted(&ws, &"封".repeat(crate::reports::MAX_DESCRIPTION_CHARS));
        let case = ws.cases().get(report.id.as_str()).unwrap();
        let d = open311(&report, &case).description.unwrap();
        assert_eq!(d.chars().count(), OPEN311_DESCRIPTION_CHARS);
        assert!(d.starts_with("老孙家泡馍: 封"), "{}", &d[..30]);
        assert!(d.ends_with('…'));

        let short = submitted(&ws, "外卖封签被撕开");
        let case = ws.cases().get(short.id.as_str()).unwrap();
        assert_eq!(
            open311(&short, &case).description.as_deref(),
            Some("老孙家泡馍: 外卖封签被撕开")
        );
    }
}
