//! Nearby duplicates on the [`Reports`] handle; the rules and the search are in
//! [`crate::reports::duplicates`] and [`crate::reports::index`].

use chrono::Duration;

use crate::error::{Error, Result};
use crate::reports::case::{self, case_doc_id};
use crate::reports::duplicates::{DuplicateCandidate, DuplicateRules};
use crate::reports::index::{self, NearbyQuery};
use crate::reports::model::not_found;
use crate::reports::outbox::load;
use crate::reports::{ReportId, Reports};
use crate::store::documents;

impl Reports<'_> {
    /// Reports that may duplicate `report_id`: same category, submitted and not withdrawn,
    /// within `rules.radius_m` of it, submitted within the last `rules.max_age_days`, nearest
    /// first (ties by id). The report must have a position. An unknown report is
    /// [`Error::NotFound`].
    pub fn nearby_duplicates(
        &self,
        report_id: &str,
        rules: &DuplicateRules,
    ) -> Result<Vec<DuplicateCandidate>> {
        rules.check()?;
        let id = ReportId::parse(report_id)?;
        self.ws.ensure_report_index()?;
        let conn = self.store().read();
        let report = load(&conn, &id)?.ok_or_else(|| not_found(&id))?;
        let Some(here) = report.position else {
            return Err(Error::invalid(format!(
                "report '{id}' has no position yet; set one to look for duplicates"
            )));
        };
        let since = self.now() - Duration::days(i64::from(rules.max_age_days));
        let query = NearbyQuery {
            exclude: &id,
            category: report.category,
            since,
            lat: here.lat,
            lon: here.lon,
            radius_m: rules.radius_m,
        };
        let mut out = Vec::new();
        for (other_id, d) in index::nearby(&conn, &query)? {
            let Some(other) = load(&conn, &other_id)? else {
                continue;
            };
            let doc = documents::load(&conn, &case_doc_id(&other_id))?;
            let case_status = case::view(doc.as_ref(), &other_id, other.category).status;
            out.push(DuplicateCandidate {
                report: other,
                distance_m: d,
                case_status,
            });
        }
        out.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then_with(|| a.report.id.cmp(&b.report.id))
        });
        Ok(out)
    }
}
