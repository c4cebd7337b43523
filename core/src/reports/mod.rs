//! Hazard reports and their follow-up: categories, drafts, evidence, submission, the outbox
//! and cases.
//!
//! The API is two handles ([`handle`]): [`Reports`] (`ws.reports()`) for the life of a report
//! on its author's phone, and [`Cases`] (`ws.cases()`) for its follow-up. Their calls live in
//! `handle/` (one file per job: drafts, photos, outbox, list, duplicates, export, photo fetch,
//! cases); the files beside this one are the domain they call, taking a connection, a data
//! directory or a time, never the `Waystation`.
//!
//! - **Model** ([`model`]): [`ReportId`], [`Report`], [`ReportPatch`], [`PositionFix`], the
//!   limits and the checks every entry point shares.
//! - **Categories** ([`category`]): the closed list of what can be reported, with stable codes
//!   that double as Open311 `service_code`s and the fields each category needs.
//! - **Drafts** ([`document`], `handle/draft.rs`): one Automerge document per report,
//!   `report:<uuid>`, stored through [`crate::store::documents`]. Every call that changes a
//!   report is durable before it returns (autosave). Ids are UUIDv7 created on the device, so a
//!   retried submission can never create a second report. Many drafts can be open at once.
//! - **Evidence** ([`evidence`], [`photo`]): the position (WGS-84 plus the datum it came in,
//!   accuracy, fix time, mock flag), the accuracy gate of [`ReportRules`], and photos stripped
//!   of all metadata and stored once per content under `photos/<sha256>`. A follow-up role
//!   fetches a photo it lacks from the server ([`Reports::fetch_photo`]).
//! - **Submission**: [`Reports::check`] lists every problem at once; [`Reports::submit`]
//!   freezes the report (only withdrawal changes it afterwards) and puts it in the outbox.
//! - **Outbox** ([`outbox`]): what the server said about each submitted report
//!   ([`OutboxState`]). Sync records it through the functions of that module, never by SQL of
//!   its own.
//! - **Cases** ([`case`], `handle/cases.rs`): follow-up by station staff, supervisors and grid
//!   workers, one grow-only Automerge document per submitted report, its status derived by a
//!   documented fold; a district's inbox is [`Cases::list`].
//! - **Nearby duplicates** ([`duplicates`]): same-category reports near a report, nearest first.
//! - **Index** ([`index`]): one `report_index` row per report, written in the same transaction
//!   as every edit of the report's document; list screens ([`Reports::summaries`]), the case
//!   inbox and the duplicate check read it instead of loading documents.
//! - **Export** ([`export`]): Open311 GeoReport v2 service requests and GeoJSON
//!   (`docs/formats/export.md`). Drafts are never exported.
//!
//! - **District**: every submitted report carries the GB/T 2260 code of its district
//!   ([`crate::geo::XIAN_DISTRICTS`]), by which the server scopes who follows it up. The author
//!   may set it on the draft; otherwise submission takes it from the nearest installed red
//!   station within [`DISTRICT_FROM_STATION_WITHIN_M`], and a report whose district cannot be
//!   known is not submitted.
//!
//! Deleting is the only way a report disappears, and only a draft, only by its author
//! ([`Reports::delete_draft`]). Refused input never changes the stored report.
//!
//! A draft is private to the device: its document is kept clean (never `dirty`), so a sync of
//! dirty documents never sends it, and it is compacted without history (`document`'s module
//! docs, `docs/decisions/0006-draft-compaction.md`). Submission makes it dirty, and sync
//! sends it from then on. [`read_report_document`], [`report_author`] and [`report_district`]
//! read a report document wherever it comes from (the sync server). Photo files are never
//! deleted here: a deleted draft's photos stay until the sweep at the next open has checked
//! that no document names them ([`photo::sweep`]).

pub mod case;
pub(crate) mod category;
pub(crate) mod document;
pub(crate) mod duplicates;
pub mod erasure;
pub(crate) mod evidence;
pub(crate) mod export;
pub(crate) mod handle;
pub(crate) mod index;
pub(crate) mod model;
pub(crate) mod outbox;
pub mod photo;

pub use case::{
    CaseEvent, CaseEventKind, CaseRole, CaseStatus, CaseView, Open311Status, TimelineEntry,
};
pub use category::{
    ALL_CATEGORIES, Category, CategoryGroup, CategoryInfo, RequiredField, categories,
};
pub use document::{read_report_document, report_author, report_district};
pub use duplicates::{DuplicateCandidate, DuplicateRules};
pub use evidence::{
    AccuracyVerdict, DEFAULT_MAX_PHOTO_BYTES, DEFAULT_MAX_PHOTOS, ReportCheck, ReportPosition,
    ReportProblem, ReportRules,
};
pub use export::{
    GEOREPORT_V2_FIELDS, OPEN311_REQUIRED_FIELDS, Open311Request, open311_field_problems, photo_uri,
};
pub use handle::{Cases, Reports};
pub use index::{CaseQuery, CaseSummary, ReportSummary};
pub use model::{
    DISTRICT_FROM_STATION_WITHIN_M, MAX_ADDRESS_CHARS, MAX_AUTHOR_CHARS, MAX_DESCRIPTION_CHARS,
    MAX_MERCHANT_NAME_CHARS, MAX_REASON_CHARS, OutboxState, PositionFix, Report, ReportId,
    ReportPatch, ReportStatus,
};
pub(crate) use model::{check_district, check_text};
pub use photo::{PhotoSweep, ReportPhoto, image_type};

#[cfg(test)]
mod tests;
