//! Export: a report with its case as an Open311 GeoReport v2 service request, and reports as
//! an RFC 7946 GeoJSON FeatureCollection. `docs/formats/export.md` is the reference for every
//! field; this comment is the summary.
//!
//! Only submitted (or withdrawn) reports are exported. A draft has not been sent anywhere and
//! is private to its phone, so exporting one is refused with a clear error.
//!
//! Photos are not embedded. Each is referred to by a content address,
//! `waystation-photo:sha256:<64 hex digits>` ([`photo_uri`]), which a receiver resolves through
//! the Waystation blob store (or [`crate::Waystation::report_photo_path`] on the device).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::case::{CaseView, Open311Status};
use super::{Report, ReportId, ReportStatus};
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
    pub address_string: Option<String>,
    /// The description, with the merchant's name first when there is one.
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

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn refuse_draft(report: &Report) -> Result<()> {
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

pub(super) fn open311(report: &Report, case: &CaseView) -> Open311Request {
    let (status, status_notes) = status(report, case);
    let description = match (&report.merchant_name, &report.description) {
        (Some(m), Some(d)) => Some(format!("{m}: {d}")),
        (Some(m), None) => Some(m.clone()),
        (None, d) => d.clone(),
    };
    let media_urls: Vec<String> = report.photos.iter().map(|p| photo_uri(&p.sha256)).collect();
    Open311Request {
        service_request_id: report.id.to_string(),
        service_code: report.category.code().to_string(),
        service_name: report.category.label_en().to_string(),
        lat: report.position.as_ref().map(|p| p.lat),
        long: report.position.as_ref().map(|p| p.lon),
        address_string: report
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

fn feature(report: &Report, case: &CaseView) -> Value {
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

impl crate::Waystation {
    /// A submitted or withdrawn report and its case as an Open311 GeoReport v2 service request.
    /// A draft is refused ([`Error::InvalidInput`]); an unknown report is [`Error::NotFound`].
    pub fn export_open311(&self, report_id: &str) -> Result<Open311Request> {
        let report = self.report(report_id)?;
        refuse_draft(&report)?;
        let case = self.case(report.id.as_str())?;
        Ok(open311(&report, &case))
    }

    /// The given reports as a GeoJSON FeatureCollection (RFC 7946: WGS-84, `[lon, lat]`), in
    /// the order given. Any draft or unknown id refuses the whole export.
    pub fn export_geojson(&self, report_ids: &[String]) -> Result<Value> {
        let mut features = Vec::with_capacity(report_ids.len());
        for id in report_ids {
            let id = ReportId::parse(id)?;
            let report = self.report(id.as_str())?;
            refuse_draft(&report)?;
            let case = self.case(id.as_str())?;
            features.push(feature(&report, &case));
        }
        Ok(json!({ "type": "FeatureCollection", "features": features }))
    }

    /// Every submitted or withdrawn report by `author` as a GeoJSON FeatureCollection, newest
    /// first. Drafts are left out.
    pub fn export_geojson_by(&self, author: &str) -> Result<Value> {
        let ids: Vec<String> = self
            .report_summaries(author, None)?
            .into_iter()
            .filter(|s| s.status != ReportStatus::Draft)
            .map(|s| s.id.to_string())
            .collect();
        self.export_geojson(&ids)
    }
}
