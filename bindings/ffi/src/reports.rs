//! The `Reports` object (`waystation.reports()`) over the core's handle, and the pickers'
//! lists. Every rule and record is the core's. Photo attach and fetch and the exports are
//! async on the one executor ([`crate::executor`]); a cancelled call stores nothing.

use std::path::PathBuf;
use std::sync::Arc;

use waystation_core as core;
use waystation_core::reports::{
    self as rp, CategoryInfo, DuplicateCandidate, DuplicateRules, Open311Request, OutboxState,
    PositionFix, Report, ReportCheck, ReportId, ReportPatch, ReportPhoto, ReportRules,
    ReportStatus, ReportSummary,
};
use waystation_core::sync::SyncOptions;

use crate::executor::run_blocking;
use crate::transport::Http;
use crate::{Result, WaystationError};

/// Xi'an's 11 districts and 2 counties, in code order.
#[uniffi::export]
pub fn xian_districts() -> Vec<core::geo::DistrictInfo> {
    core::geo::XIAN_DISTRICTS.iter().map(|d| d.info()).collect()
}

/// Every report category with its labels, in display order.
#[uniffi::export]
pub fn report_categories() -> Vec<CategoryInfo> {
    rp::categories()
}

/// The default report rules.
#[uniffi::export]
pub fn default_report_rules() -> ReportRules {
    ReportRules::default()
}

/// The default duplicate search.
#[uniffi::export]
pub fn default_duplicate_rules() -> DuplicateRules {
    DuplicateRules::default()
}

fn path_text(path: PathBuf) -> Result<String> {
    let reason = "the data directory's path is not valid UTF-8".into();
    path.into_os_string()
        .into_string()
        .map_err(|_| WaystationError::Internal { reason })
}

/// A rider's reports on this device, from draft to outbox.
#[derive(uniffi::Object)]
pub struct Reports {
    pub(crate) ws: Arc<core::Waystation>,
    pub(crate) http: Http,
}

#[uniffi::export]
impl Reports {
    /// Creates a draft by `author` in `category` (e.g. `food.seal`), durably; its new id.
    pub fn create_draft(&self, author: String, category: String) -> Result<ReportId> {
        Ok(self.ws.reports().create_draft(&author, &category)?)
    }

    /// Applies `patch` to a draft, durably (autosave), and returns the draft.
    pub fn update_draft(&self, id: String, patch: ReportPatch) -> Result<Report> {
        Ok(self.ws.reports().update_draft(&id, &patch)?)
    }

    /// Records where a draft was made (any datum; stored in WGS-84 too), durably.
    pub fn set_position(&self, id: String, fix: PositionFix) -> Result<Report> {
        Ok(self.ws.reports().set_position(&id, &fix)?)
    }

    /// A report by id, with its outbox state once submitted.
    pub fn get(&self, id: String) -> Result<Report> {
        Ok(self.ws.reports().get(&id)?)
    }

    /// Every report by `author` on this device, newest first.
    pub fn by_author(&self, author: String) -> Result<Vec<Report>> {
        Ok(self.ws.reports().by_author(&author)?)
    }

    /// `author`'s reports as list rows (the index only: fast), newest first, in `status`.
    #[uniffi::method(default(status = None))]
    pub fn summaries(
        &self,
        author: String,
        status: Option<ReportStatus>,
    ) -> Result<Vec<ReportSummary>> {
        Ok(self.ws.reports().summaries(&author, status)?)
    }

    /// `author`'s drafts, newest first.
    pub fn drafts(&self, author: String) -> Result<Vec<Report>> {
        Ok(self.ws.reports().drafts(&author)?)
    }

    /// Deletes `author`'s draft: the only way a report disappears.
    pub fn delete_draft(&self, author: String, id: String) -> Result<()> {
        Ok(self.ws.reports().delete_draft(&author, &id)?)
    }

    /// Everything that stops the report being submitted under `rules`, and the warnings.
    pub fn check(&self, id: String, rules: ReportRules) -> Result<ReportCheck> {
        Ok(self.ws.reports().check(&id, &rules)?)
    }

    /// Checks, freezes and queues `author`'s draft, durably; `InvalidInput` lists every
    /// problem.
    pub fn submit(&self, author: String, id: String, rules: ReportRules) -> Result<Report> {
        Ok(self.ws.reports().submit(&author, &id, &rules)?)
    }

    /// Withdraws `author`'s submitted report with a reason, durably; the report is kept.
    pub fn withdraw(&self, author: String, id: String, reason: String) -> Result<Report> {
        Ok(self.ws.reports().withdraw(&author, &id, &reason)?)
    }

    /// Records a delivery outcome, for a shell that delivers reports another way.
    pub fn record_delivery(&self, id: String, state: OutboxState) -> Result<()> {
        Ok(self.ws.reports().record_delivery(&id, &state)?)
    }

    /// Attaches a JPEG, PNG or WebP photo to a draft, its metadata stripped but for the
    /// orientation.
    pub async fn attach_photo(
        self: Arc<Self>,
        id: String,
        photo: Vec<u8>,
        rules: ReportRules,
    ) -> Result<ReportPhoto> {
        run_blocking(move |_| self.ws.reports().attach_photo(&id, &photo, &rules)).await
    }

    /// Detaches a photo from a draft, durably.
    pub fn remove_photo(&self, id: String, sha256: String) -> Result<Report> {
        Ok(self.ws.reports().remove_photo(&id, &sha256)?)
    }

    /// The path of a stored photo; `NotFound` when not held (`fetchPhoto` gets it).
    pub fn photo_path(&self, sha256: String) -> Result<String> {
        path_text(self.ws.reports().photo_path(&sha256)?)
    }

    /// Downloads a report photo this device lacks, checks its SHA-256, stores it and returns
    /// its path. Cancelling the call interrupts the download.
    pub async fn fetch_photo(
        self: Arc<Self>,
        options: SyncOptions,
        sha256: String,
    ) -> Result<String> {
        let (settings, http) = self.http.connect(&options)?;
        let fetch = move |c: &_| self.ws.reports().fetch_photo(&settings, &*http, &sha256, c);
        path_text(run_blocking(fetch).await?)
    }

    /// Reports that may be the same problem as `report_id`, nearest first.
    pub fn nearby_duplicates(
        &self,
        report_id: String,
        rules: DuplicateRules,
    ) -> Result<Vec<DuplicateCandidate>> {
        Ok(self.ws.reports().nearby_duplicates(&report_id, &rules)?)
    }

    /// A submitted report with its case as an Open311 GeoReport v2 service request.
    pub async fn export_open311(self: Arc<Self>, report_id: String) -> Result<Open311Request> {
        run_blocking(move |_| self.ws.reports().export_open311(&report_id)).await
    }

    /// The given submitted reports as GeoJSON FeatureCollection text (RFC 7946).
    pub async fn export_geojson(self: Arc<Self>, report_ids: Vec<String>) -> Result<String> {
        run_blocking(move |_| Ok(self.ws.reports().export_geojson(&report_ids)?.to_string())).await
    }

    /// Every submitted or withdrawn report by `author` as GeoJSON text, newest first.
    pub async fn export_geojson_by(self: Arc<Self>, author: String) -> Result<String> {
        run_blocking(move |_| Ok(self.ws.reports().export_geojson_by(&author)?.to_string())).await
    }
}
