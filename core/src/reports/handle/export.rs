//! The exports on the [`Reports`] handle; the formats are in [`crate::reports::export`].

use serde_json::{Value, json};

use crate::error::Result;
use crate::reports::export::{Open311Request, feature, open311, refuse_draft};
use crate::reports::{ReportId, ReportStatus, Reports};

impl Reports<'_> {
    /// A submitted or withdrawn report and its case as an Open311 GeoReport v2 service request.
    /// A draft is refused ([`crate::Error::InvalidInput`]); an unknown report is [`crate::Error::NotFound`].
    pub fn export_open311(&self, report_id: &str) -> Result<Open311Request> {
        let report = self.get(report_id)?;
        refuse_draft(&report)?;
        let case = self.ws.cases().get(report.id.as_str())?;
        Ok(open311(&report, &case))
    }

    /// The given reports as a GeoJSON FeatureCollection (RFC 7946: WGS-84, `[lon, lat]`), in
    /// the order given. Any draft or unknown id refuses the whole export.
    pub fn export_geojson(&self, report_ids: &[String]) -> Result<Value> {
        let mut features = Vec::with_capacity(report_ids.len());
        for id in report_ids {
            let id = ReportId::parse(id)?;
            let report = self.get(id.as_str())?;
            refuse_draft(&report)?;
            let case = self.ws.cases().get(id.as_str())?;
            features.push(feature(&report, &case));
        }
        Ok(json!({ "type": "FeatureCollection", "features": features }))
    }

    /// Every submitted or withdrawn report by `author` as a GeoJSON FeatureCollection, newest
    /// first. Drafts are left out.
    pub fn export_geojson_by(&self, author: &str) -> Result<Value> {
        let ids: Vec<String> = self
            .summaries(author, None)?
            .into_iter()
            .filter(|s| s.status != ReportStatus::Draft)
            .map(|s| s.id.to_string())
            .collect();
        self.export_geojson(&ids)
    }
}
