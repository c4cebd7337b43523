//! Hazard reports, their photos, case follow-up and nearby duplicates, as the bindings see
//! them: records and enums mirroring `waystation_core::reports`, and thin exports over the
//! core's report API. No rule lives here; every check is the core's.
//!
//! Report ids are UUIDv7 strings made on the device. Times are `SystemTime` (Kotlin
//! `java.time.Instant`, Swift `Date`, Python `datetime`). Category codes such as `food.seal`
//! are plain strings; `reportCategories()` lists them with their labels.

use std::time::SystemTime;

use waystation_core::reports as rp;

use crate::{Result, Waystation, WaystationError};

fn map<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(Into::into).collect()
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A report category: its stable code (also the Open311 `service_code`) and labels.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReportCategory {
    /// Stable code, e.g. `food.seal`, `road.hazard`, `other`.
    pub code: String,
    /// The group: `food`, `road`, `access`, `station` or `other`.
    pub group: String,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// True when a report needs the merchant's name or address before it can be submitted.
    pub needs_merchant: bool,
    /// True when a report needs a description before it can be submitted.
    pub needs_description: bool,
}

impl From<rp::Category> for ReportCategory {
    fn from(c: rp::Category) -> Self {
        let needs = |f: rp::RequiredField| c.required_fields().contains(&f);
        let group = match c.group() {
            rp::CategoryGroup::Food => "food",
            rp::CategoryGroup::Road => "road",
            rp::CategoryGroup::Access => "access",
            rp::CategoryGroup::Station => "station",
            rp::CategoryGroup::Other => "other",
        };
        ReportCategory {
            code: c.code().to_string(),
            group: group.to_string(),
            label_zh: c.label_zh().to_string(),
            label_en: c.label_en().to_string(),
            needs_merchant: needs(rp::RequiredField::MerchantNameOrAddress),
            needs_description: needs(rp::RequiredField::Description),
        }
    }
}

/// One line of a report list, read from the report index without loading the report:
/// cheap enough for lists of thousands.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ReportSummary {
    /// The id.
    pub id: String,
    /// The reporter's user id.
    pub author: String,
    /// The category code, e.g. `food.seal`.
    pub category: String,
    /// Draft, submitted or withdrawn.
    pub status: ReportStatus,
    /// Latitude (WGS-84), when the report has a position.
    pub lat: Option<f64>,
    /// Longitude (WGS-84), when the report has a position.
    pub lon: Option<f64>,
    /// When the draft was created.
    pub created_at: SystemTime,
    /// When it was submitted.
    pub submitted_at: Option<SystemTime>,
    /// When this device last changed it.
    pub updated_at: SystemTime,
    /// GB/T 2260 code of the report's district, once set or filled at submission.
    pub district: Option<String>,
}

impl From<rp::ReportSummary> for ReportSummary {
    fn from(r: rp::ReportSummary) -> Self {
        ReportSummary {
            id: r.id.to_string(),
            author: r.author,
            category: r.category.code().to_string(),
            status: r.status.into(),
            lat: r.lat,
            lon: r.lon,
            created_at: r.created_at.into(),
            submitted_at: r.submitted_at.map(Into::into),
            updated_at: r.updated_at.into(),
            district: r.district,
        }
    }
}

impl From<ReportStatus> for rp::ReportStatus {
    fn from(s: ReportStatus) -> Self {
        match s {
            ReportStatus::Draft => rp::ReportStatus::Draft,
            ReportStatus::Submitted => rp::ReportStatus::Submitted,
            ReportStatus::Withdrawn => rp::ReportStatus::Withdrawn,
        }
    }
}

/// Where a report is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ReportStatus {
    /// Being written; its author can edit and delete it.
    Draft,
    /// Submitted: frozen, in the outbox or sent. Only withdrawal changes it.
    Submitted,
    /// Withdrawn by its author after submission. Kept, never deleted.
    Withdrawn,
}

impl From<rp::ReportStatus> for ReportStatus {
    fn from(s: rp::ReportStatus) -> Self {
        match s {
            rp::ReportStatus::Draft => ReportStatus::Draft,
            rp::ReportStatus::Submitted => ReportStatus::Submitted,
            rp::ReportStatus::Withdrawn => ReportStatus::Withdrawn,
        }
    }
}

/// Delivery of a submitted report to the server; show it beside the report.
#[derive(Clone, Debug, PartialEq, uniffi::Enum)]
pub enum OutboxState {
    /// Waiting to be sent.
    Pending,
    /// The server accepted it.
    Sent {
        /// When the acceptance was recorded.
        at: SystemTime,
    },
    /// The server refused it. The report is kept; show the reason.
    Refused {
        /// The server's reason.
        reason: String,
        /// When the refusal was recorded.
        at: SystemTime,
    },
}

impl From<rp::OutboxState> for OutboxState {
    fn from(s: rp::OutboxState) -> Self {
        match s {
            rp::OutboxState::Pending => OutboxState::Pending,
            rp::OutboxState::Sent { at } => OutboxState::Sent { at: at.into() },
            rp::OutboxState::Refused { reason, at } => OutboxState::Refused {
                reason,
                at: at.into(),
            },
        }
    }
}

impl From<OutboxState> for rp::OutboxState {
    fn from(s: OutboxState) -> Self {
        match s {
            OutboxState::Pending => rp::OutboxState::Pending,
            OutboxState::Sent { at } => rp::OutboxState::Sent { at: at.into() },
            OutboxState::Refused { reason, at } => rp::OutboxState::Refused {
                reason,
                at: at.into(),
            },
        }
    }
}

/// A position fix as the platform's location provider gave it.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct LocationFix {
    /// Latitude in `datum`.
    pub lat: f64,
    /// Longitude in `datum`.
    pub lon: f64,
    /// The datum the provider used (Amap and Tencent give GCJ-02, Baidu BD-09, GPS WGS-84).
    pub datum: crate::Datum,
    /// Horizontal accuracy in metres; `None` when the platform gave none ("accuracy unknown",
    /// never treated as precise).
    #[uniffi(default = None)]
    pub accuracy_m: Option<f64>,
    /// When the fix was taken.
    pub fix_time: SystemTime,
    /// True when the platform says the fix came from a mock location provider. It is kept and
    /// flagged in the report, never dropped.
    #[uniffi(default = false)]
    pub mock: bool,
}

/// Where a report was made, as stored: WGS-84 beside the coordinates as they arrived.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ReportPosition {
    /// Latitude, WGS-84.
    pub lat: f64,
    /// Longitude, WGS-84.
    pub lon: f64,
    /// The datum the fix arrived in.
    pub datum: crate::Datum,
    /// Latitude as it arrived, in `datum`.
    pub source_lat: f64,
    /// Longitude as it arrived, in `datum`.
    pub source_lon: f64,
    /// Accuracy in metres; `None` is "accuracy unknown".
    pub accuracy_m: Option<f64>,
    /// When the fix was taken.
    pub fix_time: SystemTime,
    /// True when it came from a mock location provider.
    pub mock: bool,
}

impl From<rp::ReportPosition> for ReportPosition {
    fn from(p: rp::ReportPosition) -> Self {
        ReportPosition {
            lat: p.lat,
            lon: p.lon,
            datum: p.datum.into(),
            source_lat: p.source_lat,
            source_lon: p.source_lon,
            accuracy_m: p.accuracy_m,
            fix_time: p.fix_time.into(),
            mock: p.mock,
        }
    }
}

/// A photo attached to a report, its metadata already stripped (all but its orientation).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReportPhoto {
    /// SHA-256 of the stored bytes, lowercase hex; pass it to `reportPhotoPath`.
    pub sha256: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub media_type: String,
    /// Size of the stored file in bytes.
    pub size_bytes: u64,
    /// Width in pixels, when the file says.
    pub width: Option<u32>,
    /// Height in pixels, when the file says.
    pub height: Option<u32>,
}

impl From<rp::ReportPhoto> for ReportPhoto {
    fn from(p: rp::ReportPhoto) -> Self {
        ReportPhoto {
            sha256: p.sha256,
            media_type: p.media_type,
            size_bytes: p.size_bytes,
            width: p.width,
            height: p.height,
        }
    }
}

/// A report as the device holds it.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Report {
    /// The id (a UUIDv7 made on this device).
    pub id: String,
    /// The reporter's user id.
    pub author: String,
    /// The category code, e.g. `food.seal`.
    pub category: String,
    /// Draft, submitted or withdrawn.
    pub status: ReportStatus,
    /// What the problem is.
    pub description: Option<String>,
    /// The merchant's name (food-safety reports).
    pub merchant_name: Option<String>,
    /// The merchant's address (food-safety reports).
    pub merchant_address: Option<String>,
    /// Where the problem is, in words.
    pub address: Option<String>,
    /// Where the report was made.
    pub position: Option<ReportPosition>,
    /// GB/T 2260 code of the district the report is in (see `xianDistricts()`): set by the
    /// author, or filled at submission from the nearest red station within 5 km. `None` only
    /// on a draft.
    pub district: Option<String>,
    /// When the draft was created.
    pub created_at: SystemTime,
    /// When it was submitted.
    pub submitted_at: Option<SystemTime>,
    /// When it was withdrawn.
    pub withdrawn_at: Option<SystemTime>,
    /// Why it was withdrawn.
    pub withdraw_reason: Option<String>,
    /// Attached photos, oldest first.
    pub photos: Vec<ReportPhoto>,
    /// Delivery state; `None` for a draft.
    pub outbox: Option<OutboxState>,
}

impl From<rp::Report> for Report {
    fn from(r: rp::Report) -> Self {
        Report {
            id: r.id.to_string(),
            author: r.author,
            category: r.category.code().to_string(),
            status: r.status.into(),
            description: r.description,
            merchant_name: r.merchant_name,
            merchant_address: r.merchant_address,
            address: r.address,
            position: r.position.map(Into::into),
            district: r.district,
            created_at: r.created_at.into(),
            submitted_at: r.submitted_at.map(Into::into),
            withdrawn_at: r.withdrawn_at.map(Into::into),
            withdraw_reason: r.withdraw_reason,
            photos: map(r.photos),
            outbox: r.outbox.map(Into::into),
        }
    }
}

/// Changes to a draft. `None` leaves a field as it is; an empty string clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct ReportPatch {
    /// A category code, e.g. `food.seal`.
    #[uniffi(default = None)]
    pub category: Option<String>,
    /// What the problem is (at most 4,000 characters, as Open311 allows).
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// The merchant's name (at most 200 characters).
    #[uniffi(default = None)]
    pub merchant_name: Option<String>,
    /// The merchant's address (at most 500 characters).
    #[uniffi(default = None)]
    pub merchant_address: Option<String>,
    /// Where the problem is, in words (at most 500 characters).
    #[uniffi(default = None)]
    pub address: Option<String>,
    /// A district code from `xianDistricts()`, e.g. `610113`; an unknown code throws
    /// `InvalidInput`. Empty clears it (submission then takes it from the nearest red station).
    #[uniffi(default = None)]
    pub district: Option<String>,
}

impl From<ReportPatch> for rp::ReportPatch {
    fn from(p: ReportPatch) -> Self {
        rp::ReportPatch {
            category: p.category,
            description: p.description,
            merchant_name: p.merchant_name,
            merchant_address: p.merchant_address,
            address: p.address,
            district: p.district,
        }
    }
}

/// The thresholds a report is judged by. The defaults suit a phone; an app may tighten them.
#[derive(Clone, Copy, Debug, PartialEq, uniffi::Record)]
pub struct ReportRules {
    /// Above this accuracy (metres) the report gets a warning.
    #[uniffi(default = 50.0)]
    pub warn_accuracy_m: f64,
    /// Above this accuracy (metres) the report cannot be submitted.
    #[uniffi(default = 500.0)]
    pub max_accuracy_m: f64,
    /// Largest photo accepted, in bytes as the camera wrote it (default 10 MiB).
    #[uniffi(default = 10485760)]
    pub max_photo_bytes: u64,
    /// Most photos one report can carry.
    #[uniffi(default = 6)]
    pub max_photos: u32,
}

impl Default for ReportRules {
    fn default() -> Self {
        rp::ReportRules::default().into()
    }
}

impl From<rp::ReportRules> for ReportRules {
    fn from(r: rp::ReportRules) -> Self {
        ReportRules {
            warn_accuracy_m: r.warn_accuracy_m,
            max_accuracy_m: r.max_accuracy_m,
            max_photo_bytes: r.max_photo_bytes as u64,
            max_photos: u32::try_from(r.max_photos).unwrap_or(u32::MAX),
        }
    }
}

impl From<ReportRules> for rp::ReportRules {
    fn from(r: ReportRules) -> Self {
        rp::ReportRules {
            warn_accuracy_m: r.warn_accuracy_m,
            max_accuracy_m: r.max_accuracy_m,
            max_photo_bytes: usize_of(r.max_photo_bytes),
            max_photos: r.max_photos as usize,
        }
    }
}

/// One finding about a report: which field, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReportProblem {
    /// The field, e.g. `position`, `merchant_name`, `description`.
    pub field: String,
    /// What is wrong, in English, without the field's content.
    pub message: String,
}

impl From<rp::ReportProblem> for ReportProblem {
    fn from(p: rp::ReportProblem) -> Self {
        ReportProblem {
            field: p.field,
            message: p.message,
        }
    }
}

/// Everything that stops a report being submitted, and everything worth a warning.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ReportCheck {
    /// True when nothing stops submission.
    pub can_submit: bool,
    /// Problems that stop submission, all at once.
    pub problems: Vec<ReportProblem>,
    /// Warnings to show the reporter (imprecise or mock fix); they do not stop submission.
    pub warnings: Vec<ReportProblem>,
}

impl From<rp::ReportCheck> for ReportCheck {
    fn from(c: rp::ReportCheck) -> Self {
        ReportCheck {
            can_submit: c.can_submit(),
            problems: map(c.problems),
            warnings: map(c.warnings),
        }
    }
}

/// Who writes a case event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum CaseRole {
    /// A rider. Riders report; they never write case events.
    Rider,
    /// Red-station staff: acknowledge and handle what they can.
    StationStaff,
    /// A volunteer food-safety supervisor: triages and follows up.
    Supervisor,
    /// A community grid worker: takes cases that need the community, and closes them.
    GridWorker,
}

impl From<CaseRole> for rp::CaseRole {
    fn from(r: CaseRole) -> Self {
        match r {
            CaseRole::Rider => rp::CaseRole::Rider,
            CaseRole::StationStaff => rp::CaseRole::StationStaff,
            CaseRole::Supervisor => rp::CaseRole::Supervisor,
            CaseRole::GridWorker => rp::CaseRole::GridWorker,
        }
    }
}

impl From<rp::CaseRole> for CaseRole {
    fn from(r: rp::CaseRole) -> Self {
        match r {
            rp::CaseRole::Rider => CaseRole::Rider,
            rp::CaseRole::StationStaff => CaseRole::StationStaff,
            rp::CaseRole::Supervisor => CaseRole::Supervisor,
            rp::CaseRole::GridWorker => CaseRole::GridWorker,
        }
    }
}

/// What a case event does.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum CaseEventKind {
    /// Someone has seen the report and takes it on.
    Acknowledge,
    /// A remark; never changes the status.
    Note,
    /// More information is needed (from the reporter or on site).
    RequestInfo,
    /// Handed to a community grid.
    Dispatch {
        /// The grid's id.
        grid_id: String,
    },
    /// The same problem as another report, which is followed instead.
    MarkDuplicate {
        /// The id of the report this one duplicates.
        of: String,
    },
    /// The problem was fixed.
    Resolve,
    /// Not acted on; the reason is required.
    Reject {
        /// Why.
        reason: String,
    },
    /// A closed case is open again.
    Reopen,
}

impl CaseEventKind {
    fn into_core(self) -> Result<rp::CaseEventKind> {
        Ok(match self {
            CaseEventKind::Acknowledge => rp::CaseEventKind::Acknowledge,
            CaseEventKind::Note => rp::CaseEventKind::Note,
            CaseEventKind::RequestInfo => rp::CaseEventKind::RequestInfo,
            CaseEventKind::Dispatch { grid_id } => rp::CaseEventKind::Dispatch { grid_id },
            CaseEventKind::MarkDuplicate { of } => rp::CaseEventKind::MarkDuplicate {
                of: rp::ReportId::parse(&of)?,
            },
            CaseEventKind::Resolve => rp::CaseEventKind::Resolve,
            CaseEventKind::Reject { reason } => rp::CaseEventKind::Reject { reason },
            CaseEventKind::Reopen => rp::CaseEventKind::Reopen,
        })
    }
}

impl From<rp::CaseEventKind> for CaseEventKind {
    fn from(k: rp::CaseEventKind) -> Self {
        match k {
            rp::CaseEventKind::Acknowledge => CaseEventKind::Acknowledge,
            rp::CaseEventKind::Note => CaseEventKind::Note,
            rp::CaseEventKind::RequestInfo => CaseEventKind::RequestInfo,
            rp::CaseEventKind::Dispatch { grid_id } => CaseEventKind::Dispatch { grid_id },
            rp::CaseEventKind::MarkDuplicate { of } => {
                CaseEventKind::MarkDuplicate { of: of.to_string() }
            }
            rp::CaseEventKind::Resolve => CaseEventKind::Resolve,
            rp::CaseEventKind::Reject { reason } => CaseEventKind::Reject { reason },
            rp::CaseEventKind::Reopen => CaseEventKind::Reopen,
        }
    }
}

/// Where a case stands, derived from its events by a documented fold
/// (`docs/formats/case-status.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum CaseStatus {
    /// Nobody has taken it on yet (or it was reopened).
    Open,
    /// Someone has taken it on.
    Acknowledged,
    /// Dispatched to a grid, or more information was requested.
    InProgress,
    /// Fixed. Closed.
    Resolved,
    /// Not acted on, with a reason. Closed.
    Rejected,
    /// Followed as another report. Closed.
    Duplicate,
}

impl From<rp::CaseStatus> for CaseStatus {
    fn from(s: rp::CaseStatus) -> Self {
        match s {
            rp::CaseStatus::Open => CaseStatus::Open,
            rp::CaseStatus::Acknowledged => CaseStatus::Acknowledged,
            rp::CaseStatus::InProgress => CaseStatus::InProgress,
            rp::CaseStatus::Resolved => CaseStatus::Resolved,
            rp::CaseStatus::Rejected => CaseStatus::Rejected,
            rp::CaseStatus::Duplicate => CaseStatus::Duplicate,
        }
    }
}

/// Open311 GeoReport v2 has only two statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Open311Status {
    /// `open`.
    Open,
    /// `closed`; the case's `statusNotes` say why.
    Closed,
}

impl From<rp::Open311Status> for Open311Status {
    fn from(s: rp::Open311Status) -> Self {
        match s {
            rp::Open311Status::Open => Open311Status::Open,
            rp::Open311Status::Closed => Open311Status::Closed,
        }
    }
}

/// One case event, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CaseEvent {
    /// Unique id (a UUIDv7).
    pub id: String,
    /// What it does.
    pub kind: CaseEventKind,
    /// Who wrote it (user id).
    pub actor: String,
    /// In which role.
    pub role: CaseRole,
    /// When (millisecond precision).
    pub at: SystemTime,
    /// The writer's note, if any.
    pub note: Option<String>,
}

impl From<rp::CaseEvent> for CaseEvent {
    fn from(e: rp::CaseEvent) -> Self {
        CaseEvent {
            id: e.id,
            kind: e.kind.into(),
            actor: e.actor,
            role: e.role.into(),
            at: e.at.into(),
            note: e.note,
        }
    }
}

/// An event in a case's timeline, with whether the fold applied it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct TimelineEntry {
    /// The event.
    pub event: CaseEvent,
    /// False when it landed where it could not apply (e.g. two people resolved the same case
    /// offline). It is still shown; nothing is lost.
    pub applied: bool,
    /// Why it was not applied.
    pub not_applied_because: Option<String>,
}

impl From<rp::TimelineEntry> for TimelineEntry {
    fn from(t: rp::TimelineEntry) -> Self {
        TimelineEntry {
            event: t.event.into(),
            applied: t.applied,
            not_applied_because: t.not_applied_because,
        }
    }
}

/// A submitted report's case, folded from every event this device holds.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CaseView {
    /// The report followed.
    pub report_id: String,
    /// The derived status.
    pub status: CaseStatus,
    /// `open` or `closed`, for Open311.
    pub open311_status: Open311Status,
    /// Open311 `status_notes`: what the status means, and for `closed`, why.
    pub status_notes: String,
    /// The grid the case is dispatched to, if any.
    pub grid_id: Option<String>,
    /// The report this one duplicates, while the status is `Duplicate`.
    pub duplicate_of: Option<String>,
    /// Time of the newest event (Open311 `updated_datetime`).
    pub updated_at: Option<SystemTime>,
    /// Every event, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// Ids of events this version cannot read (written by a newer app); kept, not applied.
    pub unreadable_events: Vec<String>,
}

impl From<rp::CaseView> for CaseView {
    fn from(c: rp::CaseView) -> Self {
        CaseView {
            report_id: c.report_id.to_string(),
            status: c.status.into(),
            open311_status: c.open311_status.into(),
            status_notes: c.status_notes,
            grid_id: c.grid_id,
            duplicate_of: c.duplicate_of.map(|d| d.to_string()),
            updated_at: c.updated_at.map(Into::into),
            timeline: map(c.timeline),
            unreadable_events: c.unreadable_events,
        }
    }
}

/// How far and how far back to look for duplicates.
#[derive(Clone, Copy, Debug, PartialEq, uniffi::Record)]
pub struct DuplicateRules {
    /// Largest distance, in metres.
    #[uniffi(default = 50.0)]
    pub radius_m: f64,
    /// Oldest submission considered, in days before now (at most 3650).
    #[uniffi(default = 7)]
    pub max_age_days: u32,
}

impl Default for DuplicateRules {
    fn default() -> Self {
        let d = rp::DuplicateRules::default();
        DuplicateRules {
            radius_m: d.radius_m,
            max_age_days: d.max_age_days,
        }
    }
}

impl From<DuplicateRules> for rp::DuplicateRules {
    fn from(r: DuplicateRules) -> Self {
        rp::DuplicateRules {
            radius_m: r.radius_m,
            max_age_days: r.max_age_days,
        }
    }
}

/// An existing report that may be the same problem.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct DuplicateCandidate {
    /// The existing report.
    pub report: Report,
    /// Distance between the two reports' positions, in metres.
    pub distance_m: f64,
    /// Where its case stands (e.g. already resolved).
    pub case_status: CaseStatus,
}

impl From<rp::DuplicateCandidate> for DuplicateCandidate {
    fn from(d: rp::DuplicateCandidate) -> Self {
        DuplicateCandidate {
            report: d.report.into(),
            distance_m: d.distance_m,
            case_status: d.case_status.into(),
        }
    }
}

/// A report and its case as an Open311 GeoReport v2 service request (one element of
/// `GET /requests`). Photos are referred to as `waystation-photo:sha256:<hex>`.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Open311Request {
    /// The report id.
    pub service_request_id: String,
    /// The category code, e.g. `food.seal`.
    pub service_code: String,
    /// The category's English label.
    pub service_name: String,
    /// Latitude, WGS-84.
    pub lat: Option<f64>,
    /// Longitude, WGS-84.
    pub long: Option<f64>,
    /// Where the problem is, in words (GeoReport v2's `address`).
    pub address: Option<String>,
    /// The description, with the merchant's name first when there is one.
    pub description: Option<String>,
    /// `Open` or `Closed`.
    pub status: Open311Status,
    /// What the status means and, when closed, why.
    pub status_notes: String,
    /// The grid the case is dispatched to, else the district when known.
    pub agency_responsible: Option<String>,
    /// When the report was submitted (RFC 3339, UTC).
    pub requested_datetime: String,
    /// When the report or its case last changed (RFC 3339, UTC).
    pub updated_datetime: String,
    /// The first photo's reference, if any.
    pub media_url: Option<String>,
    /// Every photo's reference, oldest first.
    pub media_urls: Vec<String>,
}

impl From<rp::Open311Request> for Open311Request {
    fn from(r: rp::Open311Request) -> Self {
        Open311Request {
            service_request_id: r.service_request_id,
            service_code: r.service_code,
            service_name: r.service_name,
            lat: r.lat,
            long: r.long,
            address: r.address,
            description: r.description,
            status: r.status.into(),
            status_notes: r.status_notes,
            agency_responsible: r.agency_responsible,
            requested_datetime: r.requested_datetime,
            updated_datetime: r.updated_datetime,
            media_url: r.media_url,
            media_urls: r.media_urls,
        }
    }
}

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

impl From<&waystation_core::geo::District> for District {
    fn from(d: &waystation_core::geo::District) -> Self {
        District {
            code: d.code.to_string(),
            name_zh: d.name_zh.to_string(),
            name_en: d.name_en.to_string(),
            is_county: d.kind == waystation_core::geo::DistrictKind::County,
        }
    }
}

/// Xi'an's 11 districts and 2 counties, in code order: the codes a report's district can take.
#[uniffi::export]
pub fn xian_districts() -> Vec<District> {
    waystation_core::geo::XIAN_DISTRICTS
        .iter()
        .map(Into::into)
        .collect()
}

/// Every report category, in display order, for a category picker.
#[uniffi::export]
pub fn report_categories() -> Vec<ReportCategory> {
    rp::ALL_CATEGORIES.iter().map(|c| (*c).into()).collect()
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

#[uniffi::export]
impl Waystation {
    /// Creates a draft report by `author` in `category` (a code such as `food.seal`) and
    /// returns its new id. The draft is stored durably before this returns. Throws
    /// `InvalidInput` for an unknown category or an empty author.
    pub fn create_report_draft(&self, author: String, category: String) -> Result<String> {
        Ok(self
            .inner
            .create_report_draft(&author, &category)?
            .to_string())
    }

    /// Applies `patch` to a draft, durably (call it on every keystroke pause: autosave), and
    /// returns the updated draft. Text over a limit, an unknown category or a report that is
    /// no longer a draft throws `InvalidInput` and changes nothing; an unknown id `NotFound`.
    pub fn update_report_draft(&self, id: String, patch: ReportPatch) -> Result<Report> {
        Ok(self.inner.update_report_draft(&id, &patch.into())?.into())
    }

    /// Records where a draft was made, durably. The fix is given as the provider gave it
    /// (any datum) and stored in WGS-84 beside the source coordinates. Invalid coordinates,
    /// accuracies and future fix times throw `InvalidInput` and change nothing.
    pub fn set_report_position(&self, id: String, fix: LocationFix) -> Result<Report> {
        Ok(self
            .inner
            .set_report_position(
                &id,
                fix.lat,
                fix.lon,
                fix.datum.into(),
                fix.accuracy_m,
                fix.fix_time.into(),
                fix.mock,
            )?
            .into())
    }

    /// A report by id, with its outbox state once submitted. Throws `NotFound`.
    pub fn report(&self, id: String) -> Result<Report> {
        Ok(self.inner.report(&id)?.into())
    }

    /// Every report by `author` on this device (drafts, submitted, withdrawn), newest first.
    pub fn reports_by(&self, author: String) -> Result<Vec<Report>> {
        Ok(map(self.inner.reports_by(&author)?))
    }

    /// `author`'s reports as list rows, newest first, optionally only those with `status`.
    /// Reads the report index only, so it stays fast with thousands of reports; open one with
    /// `report(id)`.
    pub fn report_summaries(
        &self,
        author: String,
        status: Option<ReportStatus>,
    ) -> Result<Vec<ReportSummary>> {
        let rows = self
            .inner
            .report_summaries(&author, status.map(Into::into))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// `author`'s drafts, newest first.
    pub fn list_report_drafts(&self, author: String) -> Result<Vec<Report>> {
        Ok(map(self.inner.list_report_drafts(&author)?))
    }

    /// Deletes a draft: the only way a report disappears. Only a draft, only by its author;
    /// anything else throws and changes nothing.
    pub fn delete_report_draft(&self, author: String, id: String) -> Result<()> {
        Ok(self.inner.delete_report_draft(&author, &id)?)
    }

    /// Everything that stops the report being submitted under `rules`, all at once, and the
    /// warnings to show. Use it to enable the submit button. A report without a district is
    /// fine when a red station within 5 km gives one; otherwise `district` is a problem.
    pub fn check_report(&self, id: String, rules: ReportRules) -> Result<ReportCheck> {
        Ok(self.inner.check_report(&id, &rules.into())?.into())
    }

    /// Submits `author`'s draft: checks it (throwing `InvalidInput` that lists every problem),
    /// freezes it and puts it in the outbox as pending, durably. Submitting twice throws; the
    /// id never changes, so a retry cannot create a second report.
    pub fn submit_report(&self, author: String, id: String, rules: ReportRules) -> Result<Report> {
        Ok(self
            .inner
            .submit_report(&author, &id, &rules.into())?
            .into())
    }

    /// Withdraws `author`'s submitted report with a reason, durably. The report is kept. A
    /// draft cannot be withdrawn (delete it instead).
    pub fn withdraw_report(&self, author: String, id: String, reason: String) -> Result<Report> {
        Ok(self.inner.withdraw_report(&author, &id, &reason)?.into())
    }

    /// Records what the server said about a submitted report (sync calls this). `Pending`
    /// puts it back in the queue.
    pub fn record_report_delivery(&self, id: String, state: OutboxState) -> Result<()> {
        Ok(self.inner.record_report_delivery(&id, &state.into())?)
    }

    /// Attaches a photo (JPEG, PNG or WebP bytes as the camera wrote them) to a draft. Its
    /// metadata (EXIF with GPS, camera and time, XMP, comments, thumbnails) is stripped before
    /// storing, all but the orientation: a rotated photo keeps a minimal EXIF block holding
    /// only its Orientation tag, so a portrait photo still displays upright (no pixel is
    /// re-encoded). The same photo attached twice is stored once. Corrupt, truncated or
    /// non-image bytes, photos over `rules.maxPhotoBytes` and photos beyond `rules.maxPhotos`
    /// throw `InvalidInput`.
    pub fn attach_report_photo(
        &self,
        id: String,
        photo: Vec<u8>,
        rules: ReportRules,
    ) -> Result<ReportPhoto> {
        Ok(self
            .inner
            .attach_report_photo(&id, &photo, &rules.into())?
            .into())
    }

    /// Detaches a photo from a draft, durably. Throws `NotFound` when the draft has no such
    /// photo.
    pub fn remove_report_photo(&self, id: String, sha256: String) -> Result<Report> {
        Ok(self.inner.remove_report_photo(&id, &sha256)?.into())
    }

    /// The path of a stored photo (metadata stripped but for the orientation), for display or
    /// upload.
    pub fn report_photo_path(&self, sha256: String) -> Result<String> {
        let path = self.inner.report_photo_path(&sha256)?;
        path.into_os_string()
            .into_string()
            .map_err(|_| WaystationError::Internal {
                reason: "photo path is not valid UTF-8".into(),
            })
    }

    /// Records a follow-up event on a submitted report's case, durably, and returns the case.
    /// Throws `InvalidInput`, storing nothing, for a rider, a role the rules do not allow for
    /// this event and category, an event the current status does not allow, a reject without
    /// a reason and a duplicate of itself; `NotFound` for an unknown report. `note` may be
    /// empty.
    pub fn record_case_event(
        &self,
        report_id: String,
        actor: String,
        role: CaseRole,
        kind: CaseEventKind,
        note: String,
    ) -> Result<CaseView> {
        Ok(self
            .inner
            .record_case_event(&report_id, &actor, role.into(), kind.into_core()?, &note)?
            .into())
    }

    /// A submitted report's case (named `reportCase` because `case` is a Swift keyword). A
    /// report nobody has followed up yet is `Open` with an empty timeline. Throws `NotFound`
    /// for an unknown report and `InvalidInput` for a draft.
    pub fn report_case(&self, report_id: String) -> Result<CaseView> {
        Ok(self.inner.case(&report_id)?.into())
    }

    /// The report's whole case document, as bytes, for another device to pass to
    /// `mergeCaseFrom`.
    pub fn case_document_bytes(&self, report_id: String) -> Result<Vec<u8>> {
        Ok(self.inner.case_document_bytes(&report_id)?)
    }

    /// Merges another device's copy of a report's case document into this one, durably, and
    /// returns the merged case. Idempotent and order-independent: both devices end with the
    /// same status and timeline. Throws `InvalidInput` for bytes that are not that report's
    /// case document.
    pub fn merge_case_from(&self, report_id: String, bytes: Vec<u8>) -> Result<CaseView> {
        Ok(self.inner.merge_case_from(&report_id, &bytes)?.into())
    }

    /// Reports that may be the same problem as `report_id`: same category, submitted and not
    /// withdrawn, within `rules.radiusM`, submitted in the last `rules.maxAgeDays`, nearest
    /// first. Show them before submitting. The report needs a position.
    pub fn nearby_duplicates(
        &self,
        report_id: String,
        rules: DuplicateRules,
    ) -> Result<Vec<DuplicateCandidate>> {
        Ok(map(self
            .inner
            .nearby_duplicates(&report_id, &rules.into())?))
    }

    /// A submitted or withdrawn report with its case as an Open311 GeoReport v2 service
    /// request. Throws `InvalidInput` for a draft and `NotFound` for an unknown report.
    pub fn export_open311(&self, report_id: String) -> Result<Open311Request> {
        Ok(self.inner.export_open311(&report_id)?.into())
    }

    /// The given submitted reports as a GeoJSON FeatureCollection (RFC 7946 text: WGS-84,
    /// `[lon, lat]`), in the order given. Any draft or unknown id refuses the whole export.
    pub fn export_geojson(&self, report_ids: Vec<String>) -> Result<String> {
        Ok(self.inner.export_geojson(&report_ids)?.to_string())
    }

    /// Every submitted or withdrawn report by `author` as GeoJSON FeatureCollection text,
    /// newest first. Drafts are left out.
    pub fn export_geojson_by(&self, author: String) -> Result<String> {
        Ok(self.inner.export_geojson_by(&author)?.to_string())
    }
}
