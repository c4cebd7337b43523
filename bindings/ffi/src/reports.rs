//! Hazard reports as the apps see them: the `Reports` object (`waystation.reports()`) over the
//! core's `Reports` handle, and the pickers' lists (categories, districts). No rule lives
//! here; every check is the core's, and the records (`Report`, `ReportPatch`, `PositionFix`,
//! `ReportRules`, …) are the core's own types (`org.waystation.core` in Kotlin).
//!
//! Report ids are UUIDv7 strings made on the device. Category codes such as `food.seal` are
//! strings; `reportCategories()` lists them with their labels. Attaching a photo, fetching one
//! and the exports are `suspend` / `async`: they run on the one executor
//! ([`crate::executor`]), never on the caller's thread, and cancelling the caller's coroutine
//! or task stops them before they store anything.

use std::path::PathBuf;
use std::sync::Arc;

use waystation_core as core;
use waystation_core::reports::{
    self as rp, CategoryInfo, DuplicateCandidate, DuplicateRules, Open311Request, OutboxState,
    PositionFix, Report, ReportCheck, ReportId, ReportPatch, ReportPhoto, ReportRules,
    ReportStatus, ReportSummary,
};

use crate::executor::run_blocking;
use crate::{Result, SyncOptions, WaystationError};

/// A district or county of Xi'an, for a district picker.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct District {
    /// GB/T 2260 code, e.g. `610113`: what `ReportPatch.district` takes.
    pub code: String,
    /// Chinese name, e.g. `雁塔区`.
    pub name_zh: String,
    /// English name, e.g. `Yanta`.
    pub name_en: String,
    /// True for a county (县), false for a district (区).
    pub is_county: bool,
}

/// Xi'an's 11 districts and 2 counties, in code order: the codes a report's district can take.
#[uniffi::export]
pub fn xian_districts() -> Vec<District> {
    core::geo::XIAN_DISTRICTS
        .iter()
        .map(|d| District {
            code: d.code.to_string(),
            name_zh: d.name_zh.to_string(),
            name_en: d.name_en.to_string(),
            is_county: d.kind == core::geo::DistrictKind::County,
        })
        .collect()
}

/// Every report category with its labels, in display order, for a category picker.
#[uniffi::export]
pub fn report_categories() -> Vec<CategoryInfo> {
    rp::categories()
}

/// The default report rules: warn above 50 m accuracy, refuse above 500 m, photos up to
/// 10 MiB, at most 6 photos.
#[uniffi::export]
pub fn default_report_rules() -> ReportRules {
    ReportRules::default()
}

/// The default duplicate search: 50 m over the last 7 days.
#[uniffi::export]
pub fn default_duplicate_rules() -> DuplicateRules {
    DuplicateRules::default()
}

pub(crate) fn path_text(path: PathBuf) -> Result<String> {
    path.into_os_string()
        .into_string()
        .map_err(|_| WaystationError::Internal {
            reason: "the data directory's path is not valid UTF-8".into(),
        })
}

/// A rider's reports on this device, from draft to outbox. Get it with
/// `waystation.reports()`; it is cheap and shares the `Waystation`.
#[derive(uniffi::Object)]
pub struct Reports {
    ws: Arc<core::Waystation>,
}

impl Reports {
    pub(crate) fn new(ws: Arc<core::Waystation>) -> Arc<Reports> {
        Arc::new(Reports { ws })
    }
}

#[uniffi::export]
impl Reports {
    /// Creates a draft report by `author` in `category` (a code such as `food.seal`) and
    /// returns its new id. The draft is stored durably before this returns. Throws
    /// `InvalidInput` for an unknown category or an empty author.
    pub fn create_draft(&self, author: String, category: String) -> Result<ReportId> {
        Ok(self.ws.reports().create_draft(&author, &category)?)
    }

    /// Applies `patch` to a draft, durably (call it on every keystroke pause: autosave), and
    /// returns the updated draft. Text over a limit, an unknown category or a report that is
    /// no longer a draft throws `InvalidInput` and changes nothing; an unknown id `NotFound`.
    pub fn update_draft(&self, id: String, patch: ReportPatch) -> Result<Report> {
        Ok(self.ws.reports().update_draft(&id, &patch)?)
    }

    /// Records where a draft was made, durably. The fix is given as the provider gave it
    /// (any datum) and stored in WGS-84 beside the source coordinates. Invalid coordinates,
    /// accuracies and future fix times throw `InvalidInput` and change nothing.
    pub fn set_position(&self, id: String, fix: PositionFix) -> Result<Report> {
        Ok(self.ws.reports().set_position(&id, &fix)?)
    }

    /// A report by id, with its outbox state once submitted. Throws `NotFound`.
    pub fn get(&self, id: String) -> Result<Report> {
        Ok(self.ws.reports().get(&id)?)
    }

    /// Every report by `author` on this device (drafts, submitted, withdrawn), newest first.
    pub fn by_author(&self, author: String) -> Result<Vec<Report>> {
        Ok(self.ws.reports().by_author(&author)?)
    }

    /// `author`'s reports as list rows, newest first, only those in `status` when given.
    /// Reads the report index only, so it stays fast with thousands of reports; open one with
    /// `get(id)`.
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

    /// Deletes a draft: the only way a report disappears. Only a draft, only by its author;
    /// anything else throws and changes nothing.
    pub fn delete_draft(&self, author: String, id: String) -> Result<()> {
        Ok(self.ws.reports().delete_draft(&author, &id)?)
    }

    /// Everything that stops the report being submitted under `rules`, all at once, and the
    /// warnings to show. Use it to enable the submit button. A report without a district is
    /// fine when a red station within 5 km gives one; otherwise `district` is a problem.
    pub fn check(&self, id: String, rules: ReportRules) -> Result<ReportCheck> {
        Ok(self.ws.reports().check(&id, &rules)?)
    }

    /// Submits `author`'s draft: checks it (throwing `InvalidInput` that lists every problem),
    /// freezes it and puts it in the outbox as pending, durably. Submitting twice throws; the
    /// id never changes, so a retry cannot create a second report.
    pub fn submit(&self, author: String, id: String, rules: ReportRules) -> Result<Report> {
        Ok(self.ws.reports().submit(&author, &id, &rules)?)
    }

    /// Withdraws `author`'s submitted report with a reason, durably. The report is kept. A
    /// draft cannot be withdrawn (delete it instead).
    pub fn withdraw(&self, author: String, id: String, reason: String) -> Result<Report> {
        Ok(self.ws.reports().withdraw(&author, &id, &reason)?)
    }

    /// Records what a server said about a submitted report, for a shell that delivers reports
    /// another way (sync records it itself). `Pending` puts it back in the queue.
    pub fn record_delivery(&self, id: String, state: OutboxState) -> Result<()> {
        Ok(self.ws.reports().record_delivery(&id, &state)?)
    }

    /// Attaches a photo (JPEG, PNG or WebP bytes as the camera wrote them) to a draft. Its
    /// metadata (EXIF with GPS, camera and time, XMP, comments, thumbnails) is stripped before
    /// storing, all but the orientation, so a portrait photo still displays upright (no pixel
    /// is re-encoded). The same photo attached twice is stored once. Corrupt, truncated or
    /// non-image bytes, photos over `rules.maxPhotoBytes` and photos beyond `rules.maxPhotos`
    /// throw `InvalidInput`.
    pub async fn attach_photo(
        self: Arc<Self>,
        id: String,
        photo: Vec<u8>,
        rules: ReportRules,
    ) -> Result<ReportPhoto> {
        run_blocking(move |cancel| {
            cancel.check()?;
            self.ws.reports().attach_photo(&id, &photo, &rules)
        })
        .await
    }

    /// Detaches a photo from a draft, durably. Throws `NotFound` when the draft has no such
    /// photo.
    pub fn remove_photo(&self, id: String, sha256: String) -> Result<Report> {
        Ok(self.ws.reports().remove_photo(&id, &sha256)?)
    }

    /// The path of a stored photo (metadata stripped but for the orientation), for display or
    /// upload. Throws `NotFound` when this device does not hold it (`fetchPhoto` gets it).
    pub fn photo_path(&self, sha256: String) -> Result<String> {
        path_text(self.ws.reports().photo_path(&sha256)?)
    }

    /// Downloads a report photo this device lacks (follow-up roles, on demand: a case's
    /// report came through sync without its photos), checks its SHA-256, stores it and returns
    /// its path (at once when it is already here). A photo that arrives with another hash
    /// throws `Server` and is not stored. Cancelling the call interrupts the download.
    pub async fn fetch_photo(
        self: Arc<Self>,
        options: SyncOptions,
        sha256: String,
    ) -> Result<String> {
        let settings = options.settings()?;
        let transport = options.transport()?;
        let path = run_blocking(move |cancel| {
            self.ws
                .reports()
                .fetch_photo(&settings, &transport, &sha256, cancel)
        })
        .await?;
        path_text(path)
    }

    /// Reports that may be the same problem as `report_id`: same category, submitted and not
    /// withdrawn, within `rules.radiusM`, submitted in the last `rules.maxAgeDays`, nearest
    /// first. Show them before submitting. The report needs a position.
    pub fn nearby_duplicates(
        &self,
        report_id: String,
        rules: DuplicateRules,
    ) -> Result<Vec<DuplicateCandidate>> {
        Ok(self.ws.reports().nearby_duplicates(&report_id, &rules)?)
    }

    /// A submitted or withdrawn report with its case as an Open311 GeoReport v2 service
    /// request. Throws `InvalidInput` for a draft and `NotFound` for an unknown report.
    pub async fn export_open311(self: Arc<Self>, report_id: String) -> Result<Open311Request> {
        run_blocking(move |cancel| {
            cancel.check()?;
            self.ws.reports().export_open311(&report_id)
        })
        .await
    }

    /// The given submitted reports as a GeoJSON FeatureCollection (RFC 7946 text: WGS-84,
    /// `[lon, lat]`), in the order given. Any draft or unknown id refuses the whole export.
    pub async fn export_geojson(self: Arc<Self>, report_ids: Vec<String>) -> Result<String> {
        run_blocking(move |cancel| {
            cancel.check()?;
            Ok(self.ws.reports().export_geojson(&report_ids)?.to_string())
        })
        .await
    }

    /// Every submitted or withdrawn report by `author` as GeoJSON FeatureCollection text,
    /// newest first. Drafts are left out.
    pub async fn export_geojson_by(self: Arc<Self>, author: String) -> Result<String> {
        run_blocking(move |cancel| {
            cancel.check()?;
            Ok(self.ws.reports().export_geojson_by(&author)?.to_string())
        })
        .await
    }
}
