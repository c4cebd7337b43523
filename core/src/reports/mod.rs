//! Hazard reports: categories, drafts, evidence, submission and the outbox.
//!
//! This module owns the life of a report on the device:
//!
//! - **Categories** ([`category`]): the closed list of what can be reported, with stable codes
//!   that double as Open311 `service_code`s and the fields each category needs.
//! - **Drafts** ([`document`]): one Automerge document per report, `report:<uuid>`, stored
//!   through [`crate::store::documents`]. Every call that changes a report is durable before it
//!   returns (autosave). Ids are UUIDv7 created on the device, so a retried submission can
//!   never create a second report. Many drafts can be open at once.
//! - **Evidence** ([`evidence`], [`photo`]): the position (WGS-84 plus the datum it came in,
//!   accuracy, fix time, mock flag), the accuracy gate of [`ReportRules`], and photos stripped
//!   of all metadata and stored once per content under `photos/<sha256>`.
//! - **Submission**: [`Waystation::check_report`](crate::Waystation::check_report) lists every problem at once;
//!   [`Waystation::submit_report`](crate::Waystation::submit_report) freezes the report (only withdrawal changes it afterwards)
//!   and puts it in the outbox, whose state ([`OutboxState`]) sync records.
//! - **Cases** ([`case`]): follow-up by station staff, supervisors and grid workers, one
//!   grow-only Automerge document per submitted report, its status derived by a documented fold.
//! - **Nearby duplicates** ([`duplicates`]): same-category reports near a report, nearest first.
//! - **Index** ([`index`]): one `report_index` row per report, written in the same transaction
//!   as every edit of the report's document; list screens
//!   ([`Waystation::report_summaries`](crate::Waystation::report_summaries)) and the duplicate
//!   check read it instead of loading documents.
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
//! ([`Waystation::delete_report_draft`](crate::Waystation::delete_report_draft)). Refused input never changes the stored report.
//!
//! A draft is private to the device: its document is kept clean (never `dirty`), so a sync of
//! dirty documents never sends it, and it is compacted without history (`document`'s module
//! docs, `docs/decisions/0006-draft-compaction.md`). Submission makes it dirty, and sync
//! sends it from then on. [`read_report_document`], [`report_author`] and [`report_district`]
//! read a report document wherever it comes from (the sync server). Photo files are never
//! deleted here: a deleted draft's photos stay until the sweep at the next open has checked
//! that no document names them ([`photo::sweep`]).

pub mod case;
pub mod category;
pub mod document;
pub mod duplicates;
pub mod erasure;
pub mod evidence;
pub mod export;
pub mod index;
pub mod photo;

pub use case::{
    CaseEvent, CaseEventKind, CaseRole, CaseStatus, CaseView, Open311Status, TimelineEntry,
};
pub use category::{ALL_CATEGORIES, Category, CategoryGroup, RequiredField};
pub use document::{read_report_document, report_author, report_district};
pub use duplicates::{DuplicateCandidate, DuplicateRules};
pub use evidence::{
    AccuracyVerdict, DEFAULT_MAX_PHOTO_BYTES, DEFAULT_MAX_PHOTOS, ReportCheck, ReportPosition,
    ReportProblem, ReportRules,
};
pub use export::{Open311Request, photo_uri};
pub use index::{CaseQuery, CaseSummary, ReportSummary};
pub use photo::{ReportPhoto, image_type};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use std::fmt;

use crate::error::{Error, Result};
use crate::geo::{Datum, District, XIAN_DISTRICTS};
use crate::stations::StationFilter;
use crate::store::documents::{self, DocumentKey};
use document::REPORT_KIND;

/// Longest description, in characters (Open311 GeoReport v2 allows 4,000).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Longest merchant name, in characters.
pub const MAX_MERCHANT_NAME_CHARS: usize = 200;
/// Longest merchant or place address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 500;
/// Longest withdrawal or refusal reason, in characters.
pub const MAX_REASON_CHARS: usize = 1000;
/// Longest author (user) id, in characters.
pub const MAX_AUTHOR_CHARS: usize = 128;
/// How far the nearest red station may be, in metres, for submission to take the report's
/// district from it when the author did not set one.
pub const DISTRICT_FROM_STATION_WITHIN_M: f64 = 5000.0;

/// A report's id: a UUIDv7 made on the device, in lowercase hyphenated form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ReportId(String);

impl ReportId {
    /// A fresh id whose time part is `now` and whose other 74 bits are random.
    pub fn generate(now: DateTime<Utc>) -> Result<ReportId> {
        let mut random = [0u8; 10];
        getrandom::fill(&mut random)
            .map_err(|e| Error::Internal(format!("no random numbers for a report id: {e}")))?;
        let ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let id = uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid();
        Ok(ReportId(id.hyphenated().to_string()))
    }

    /// Parses an id given by a caller; anything but a UUID is refused.
    pub fn parse(s: &str) -> Result<ReportId> {
        let s = s.trim();
        let s = s.strip_prefix("report:").unwrap_or(s);
        uuid::Uuid::try_parse(s)
            .map(|u| ReportId(u.hyphenated().to_string()))
            .map_err(|_| {
                let shown: String = s.chars().take(60).collect();
                Error::invalid(format!("'{shown}' is not a report id (a UUID)"))
            })
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the report's document in the document store.
    pub fn doc_id(&self) -> String {
        format!("report:{}", self.0)
    }
}

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a report is in its life, derived from the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportStatus {
    /// Being written; can be edited and deleted by its author.
    Draft,
    /// Submitted: frozen, in the outbox or sent.
    Submitted,
    /// Withdrawn by its author after submission. Kept, never deleted.
    Withdrawn,
}

/// Delivery of a submitted report to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting to be sent.
    Pending,
    /// The server accepted it.
    Sent {
        /// When the server's acceptance was recorded.
        at: DateTime<Utc>,
    },
    /// The server refused it. The report is kept and shown with the reason.
    Refused {
        /// The server's reason.
        reason: String,
        /// When the refusal was recorded.
        at: DateTime<Utc>,
    },
}

/// A report as the device holds it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The id.
    pub id: ReportId,
    /// The reporter's user id.
    pub author: String,
    /// The category.
    pub category: Category,
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
    /// GB/T 2260 code of the district the report is in (one of
    /// [`crate::geo::XIAN_DISTRICTS`]): set by the author, or filled at submission from the
    /// nearest red station. `None` only on a draft.
    pub district: Option<String>,
    /// When the draft was created.
    pub created_at: DateTime<Utc>,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it was withdrawn.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Why it was withdrawn.
    pub withdraw_reason: Option<String>,
    /// Attached photos, oldest first.
    pub photos: Vec<ReportPhoto>,
    /// Delivery state; `None` for a draft.
    pub outbox: Option<OutboxState>,
}

/// Changes to a draft. `None` leaves a field as it is; an empty string clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportPatch {
    /// A category code, e.g. `food.seal`.
    pub category: Option<String>,
    /// What the problem is (at most [`MAX_DESCRIPTION_CHARS`]).
    pub description: Option<String>,
    /// The merchant's name (at most [`MAX_MERCHANT_NAME_CHARS`]).
    pub merchant_name: Option<String>,
    /// The merchant's address (at most [`MAX_ADDRESS_CHARS`]).
    pub merchant_address: Option<String>,
    /// Where the problem is, in words (at most [`MAX_ADDRESS_CHARS`]).
    pub address: Option<String>,
    /// A district code of [`crate::geo::XIAN_DISTRICTS`], e.g. `610113`. Empty clears it (then
    /// submission takes it from the nearest red station).
    pub district: Option<String>,
}

/// Refuses a district code that is not one of Xi'an's, naming the field and the value.
pub(crate) fn check_district(code: &str) -> Result<()> {
    if District::by_code(code).is_some() {
        return Ok(());
    }
    let shown: String = code.chars().take(20).flat_map(char::escape_debug).collect();
    let known: Vec<&str> = XIAN_DISTRICTS.iter().map(|d| d.code).collect();
    Err(Error::invalid(format!(
        "district '{shown}' is not a GB/T 2260 code of a district of Xi'an; expected one of {}",
        known.join(", ")
    )))
}

fn check_author(author: &str) -> Result<()> {
    if author.trim().is_empty() {
        return Err(Error::invalid("author is empty"));
    }
    if author.chars().count() > MAX_AUTHOR_CHARS {
        return Err(Error::invalid(format!(
            "author is longer than {MAX_AUTHOR_CHARS} characters"
        )));
    }
    if author.chars().any(char::is_control) {
        return Err(Error::invalid("author contains a control character"));
    }
    Ok(())
}

/// Refuses text over `max` characters, or with control characters (newlines and tabs are
/// allowed only when `multiline`). Names the field, never echoes the text.
fn check_text(field: &str, value: &str, max: usize, multiline: bool) -> Result<()> {
    let n = value.chars().count();
    if n > max {
        return Err(Error::invalid(format!(
            "{field} is {n} characters; at most {max} are allowed"
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')))
    {
        return Err(Error::invalid(format!(
            "{field} contains a control character"
        )));
    }
    Ok(())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn not_found(id: &ReportId) -> Error {
    Error::NotFound(format!("no report with id '{id}'"))
}

fn outbox_of(conn: &Connection, id: &ReportId) -> Result<OutboxState> {
    let row: Option<(String, Option<String>, String)> = conn
        .query_row(
            "SELECT state, reason, updated_at FROM report_outbox WHERE report_id = ?1",
            [id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((state, reason, at)) = row else {
        // No row yet: the submission is the document itself, so a crash right after
        // submitting still leaves the report pending, never lost.
        return Ok(OutboxState::Pending);
    };
    let at = DateTime::parse_from_rfc3339(&at)
        .map_err(|e| Error::Internal(format!("stored outbox time: {e}")))?
        .with_timezone(&Utc);
    match state.as_str() {
        "sent" => Ok(OutboxState::Sent { at }),
        "refused" => Ok(OutboxState::Refused {
            reason: reason.unwrap_or_default(),
            at,
        }),
        _ => Ok(OutboxState::Pending),
    }
}

/// Loads a report with its outbox state, or `None`.
fn load(conn: &Connection, id: &ReportId) -> Result<Option<Report>> {
    let Some(doc) = documents::load(conn, &id.doc_id())? else {
        return Ok(None);
    };
    let mut report = document::read(&doc)?;
    if report.status != ReportStatus::Draft {
        report.outbox = Some(outbox_of(conn, id)?);
    }
    Ok(Some(report))
}

impl crate::Waystation {
    /// The owner of an existing report document, or [`Error::NotFound`].
    fn report_owner(&self, id: &ReportId) -> Result<String> {
        documents::info(&self.store().read(), &id.doc_id())?
            .filter(|i| i.kind == REPORT_KIND)
            .map(|i| i.owner)
            .ok_or_else(|| not_found(id))
    }

    /// Runs `f` on an existing report's document, durably; the report must exist.
    fn edit_report<T>(
        &self,
        id: &ReportId,
        f: impl FnOnce(&mut automerge::AutoCommit, &Report) -> Result<T>,
    ) -> Result<T> {
        self.edit_report_compacting(id, false, f)
    }

    /// [`Self::edit_report`]; with `draft_now` a draft is rebuilt without history whatever
    /// its change count ([`index::after_report_edit_compacting`]).
    fn edit_report_compacting<T>(
        &self,
        id: &ReportId,
        draft_now: bool,
        f: impl FnOnce(&mut automerge::AutoCommit, &Report) -> Result<T>,
    ) -> Result<T> {
        let now = self.now();
        let owner = self.report_owner(id)?;
        let doc_id = id.doc_id();
        let key = DocumentKey {
            doc_id: &doc_id,
            kind: REPORT_KIND,
            owner: &owner,
        };
        self.ensure_report_index()?;
        let store = self.store();
        documents::edit_then_cached(
            &mut store.write(),
            Some(store.edit_cache()),
            &key,
            now,
            || Err(not_found(id)),
            |doc| {
                let report = document::read(doc)?;
                f(doc, &report)
            },
            |conn, doc| index::after_report_edit_compacting(conn, doc, draft_now),
        )
    }

    /// Creates a draft report by `author` in `category` (a code such as `food.seal`) and
    /// returns its new id. The draft is stored durably before this returns.
    pub fn create_report_draft(&self, author: &str, category: &str) -> Result<ReportId> {
        check_author(author)?;
        let category: Category = category.parse()?;
        let now = self.now();
        let id = ReportId::generate(now)?;
        let doc_id = id.doc_id();
        let key = DocumentKey {
            doc_id: &doc_id,
            kind: REPORT_KIND,
            owner: author,
        };
        self.ensure_report_index()?;
        documents::edit_then(
            &mut self.store().write(),
            &key,
            now,
            || document::genesis(&id, author, category, now),
            |_| Ok(()),
            index::after_report_edit,
        )?;
        Ok(id)
    }

    /// Applies `patch` to a draft, durably (autosave), and returns the updated draft. Input
    /// over a limit, an unknown category or a report that is no longer a draft is refused and
    /// changes nothing.
    pub fn update_report_draft(&self, id: &str, patch: &ReportPatch) -> Result<Report> {
        let id = ReportId::parse(id)?;
        let category = patch
            .category
            .as_deref()
            .map(str::parse::<Category>)
            .transpose()?;
        let texts = [
            (
                "description",
                &patch.description,
                MAX_DESCRIPTION_CHARS,
                true,
            ),
            (
                "merchant_name",
                &patch.merchant_name,
                MAX_MERCHANT_NAME_CHARS,
                false,
            ),
            (
                "merchant_address",
                &patch.merchant_address,
                MAX_ADDRESS_CHARS,
                false,
            ),
            ("address", &patch.address, MAX_ADDRESS_CHARS, false),
        ];
        for (field, value, max, multiline) in &texts {
            if let Some(v) = value {
                check_text(field, v, *max, *multiline)?;
            }
        }
        let district = patch.district.as_deref().map(str::trim);
        if let Some(code) = district.filter(|c| !c.is_empty()) {
            check_district(code)?;
        }
        self.edit_report(&id, |doc, report| {
            require_draft(report, "edited")?;
            if let Some(c) = category {
                document::put_category(doc, c)?;
            }
            if let Some(code) = district {
                document::put_district(doc, code)?;
            }
            for (field, value, _, _) in &texts {
                if let Some(v) = value {
                    document::put_text(doc, field, v.trim())?;
                }
            }
            // Still a draft, so no outbox state: read the edited document here rather than
            // loading it again after the commit.
            document::read(doc)
        })
    }

    /// Records where a draft was made, durably. `lat`/`lon` are in `datum` (as the shell got
    /// them) and stored in WGS-84 beside the source datum. `accuracy_m` is `None` when the
    /// platform gave none ("accuracy unknown"). Mock fixes are kept and flagged. Invalid
    /// coordinates, accuracies and future fix times are refused and change nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn set_report_position(
        &self,
        id: &str,
        lat: f64,
        lon: f64,
        datum: Datum,
        accuracy_m: Option<f64>,
        fix_time: DateTime<Utc>,
        mock: bool,
    ) -> Result<Report> {
        let id = ReportId::parse(id)?;
        let position =
            evidence::checked_position(lat, lon, datum, accuracy_m, fix_time, mock, self.now())?;
        self.edit_report(&id, |doc, report| {
            require_draft(report, "edited")?;
            if report.position.as_ref() != Some(&position) {
                document::put_position(doc, &position)?;
            }
            document::read(doc)
        })
    }

    /// A report by id, with its outbox state once submitted.
    pub fn report(&self, id: &str) -> Result<Report> {
        let id = ReportId::parse(id)?;
        load(&self.store().read(), &id)?.ok_or_else(|| not_found(&id))
    }

    /// Every report by `author` on this device (drafts, submitted, withdrawn), newest first.
    pub fn reports_by(&self, author: &str) -> Result<Vec<Report>> {
        self.reports_in(author, None)
    }

    /// `author`'s reports in `status` (all when `None`), found through the index, newest first.
    fn reports_in(&self, author: &str, status: Option<ReportStatus>) -> Result<Vec<Report>> {
        let ids = self.indexed_report_ids(author, status)?;
        let conn = self.store().read();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = load(&conn, &id)? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(out)
    }

    /// `author`'s drafts, newest first.
    pub fn list_report_drafts(&self, author: &str) -> Result<Vec<Report>> {
        self.reports_in(author, Some(ReportStatus::Draft))
    }

    /// Deletes a draft. Only a draft can be deleted, and only by its author; anything else is
    /// refused and nothing changes. This is the only way a report disappears.
    pub fn delete_report_draft(&self, author: &str, id: &str) -> Result<()> {
        check_author(author)?;
        let id = ReportId::parse(id)?;
        let doc_id = id.doc_id();
        let mut conn = self.store().write();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let owner: Option<String> = tx
            .query_row(
                "SELECT owner FROM documents WHERE doc_id = ?1 AND kind = ?2",
                params![doc_id, REPORT_KIND],
                |r| r.get(0),
            )
            .optional()?;
        let owner = owner.ok_or_else(|| not_found(&id))?;
        if owner != author {
            return Err(Error::invalid(format!(
                "report '{id}' belongs to another author; only its author can delete a draft"
            )));
        }
        let doc = documents::load(&tx, &doc_id)?.ok_or_else(|| not_found(&id))?;
        let draft = document::read(&doc)?;
        require_draft(&draft, "deleted")?;
        index::delete_row(&tx, &id)?;
        tx.execute("DELETE FROM document_changes WHERE doc_id = ?1", [&doc_id])?;
        tx.execute("DELETE FROM documents WHERE doc_id = ?1", [&doc_id])?;
        tx.commit()?;
        drop(conn);
        // Its photos may now be named by nothing: the next sweep checks them.
        self.photos_maybe_unnamed(draft.photos.iter().map(|p| p.sha256.as_str()));
        Ok(())
    }

    /// Everything that stops the report being submitted under `rules`, all at once, and the
    /// warnings to show the reporter.
    pub fn check_report(&self, id: &str, rules: &ReportRules) -> Result<ReportCheck> {
        rules.check()?;
        let report = self.report(id)?;
        let district = self.district_for(&report);
        Ok(evidence::check(&report, rules, district.as_deref()))
    }

    /// The district `report` carries or will carry: its own, else the district of the nearest
    /// installed red station within [`DISTRICT_FROM_STATION_WITHIN_M`] of its position whose
    /// code is one of Xi'an's; `None` when neither is known.
    fn district_for(&self, report: &Report) -> Option<String> {
        if let Some(d) = &report.district {
            return Some(d.clone());
        }
        let p = report.position.as_ref()?;
        let filter = StationFilter {
            max_distance_m: Some(DISTRICT_FROM_STATION_WITHIN_M),
            ..StationFilter::default()
        };
        self.station_index()
            .within(
                p.lat,
                p.lon,
                DISTRICT_FROM_STATION_WITHIN_M,
                &filter,
                self.now(),
            )
            .into_iter()
            .find_map(|hit| District::by_code(&hit.station.district))
            .map(|d| d.code.to_string())
    }

    /// Submits `author`'s draft: checks it under `rules` (refusing with every problem listed),
    /// freezes it and puts it in the outbox as pending, durably. Submitting a report twice is
    /// refused; the id stays the same, so a retry can never create a second report.
    ///
    /// A draft without a district gets the nearest red station's (see [`Self::check_report`]).
    /// Just before the submission change the draft is rebuilt without history, in its own
    /// transaction (harmless if the submission then fails or the process dies in between), so
    /// the document sync sends is that one rebuilt change plus the submission.
    pub fn submit_report(&self, author: &str, id: &str, rules: &ReportRules) -> Result<Report> {
        check_author(author)?;
        rules.check()?;
        let id = ReportId::parse(id)?;
        let now = self.now();
        self.edit_report_compacting(&id, true, |_, _| Ok(()))?;
        self.edit_report(&id, |doc, report| {
            require_author(report, author, "submit")?;
            if let Some(at) = report.submitted_at {
                return Err(Error::invalid(format!(
                    "report '{id}' was already submitted at {}; it is in the outbox",
                    rfc3339(at)
                )));
            }
            let district = self.district_for(report);
            let check = evidence::check(report, rules, district.as_deref());
            if !check.can_submit() {
                return Err(Error::invalid(format!(
                    "report '{id}' cannot be submitted: {}",
                    check.summary()
                )));
            }
            if let Some(code) = district {
                document::put_district(doc, &code)?;
            }
            document::put_time(doc, "submitted_at", now)
        })?;
        self.report(id.as_str())
    }

    /// Withdraws `author`'s submitted report, with a reason, durably. The report is kept (and
    /// still synced); a draft cannot be withdrawn (delete it instead).
    pub fn withdraw_report(&self, author: &str, id: &str, reason: &str) -> Result<Report> {
        check_author(author)?;
        check_text("reason", reason, MAX_REASON_CHARS, true)?;
        let id = ReportId::parse(id)?;
        let now = self.now();
        self.edit_report(&id, |doc, report| {
            require_author(report, author, "withdraw")?;
            match report.status {
                ReportStatus::Draft => Err(Error::invalid(format!(
                    "report '{id}' is a draft; delete it instead of withdrawing it"
                ))),
                ReportStatus::Withdrawn => Err(Error::invalid(format!(
                    "report '{id}' is already withdrawn"
                ))),
                ReportStatus::Submitted => {
                    document::put_time(doc, "withdrawn_at", now)?;
                    if !reason.trim().is_empty() {
                        document::put_str(doc, "withdraw_reason", reason.trim())?;
                    }
                    Ok(())
                }
            }
        })?;
        self.report(id.as_str())
    }

    /// Records what the server said about a submitted report (called by sync). `Pending` puts
    /// it back in the queue, e.g. to resend after a fix.
    pub fn record_report_delivery(&self, id: &str, state: &OutboxState) -> Result<()> {
        let id = ReportId::parse(id)?;
        let report = self.report(id.as_str())?;
        if report.status == ReportStatus::Draft {
            return Err(Error::invalid(format!(
                "report '{id}' is a draft; only submitted reports are delivered"
            )));
        }
        write_outbox(&self.store().write(), &id, state)
    }
}

/// Records a report's delivery state, inside the caller's connection or transaction.
pub(crate) fn write_outbox(conn: &Connection, id: &ReportId, state: &OutboxState) -> Result<()> {
    match state {
        OutboxState::Pending => {
            conn.execute(
                "DELETE FROM report_outbox WHERE report_id = ?1",
                [id.as_str()],
            )?;
        }
        OutboxState::Sent { at } => {
            conn.execute(
                "INSERT OR REPLACE INTO report_outbox (report_id, state, reason, updated_at) \
                 VALUES (?1, 'sent', NULL, ?2)",
                params![id.as_str(), rfc3339(*at)],
            )?;
        }
        OutboxState::Refused { reason, at } => {
            let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
            conn.execute(
                "INSERT OR REPLACE INTO report_outbox (report_id, state, reason, updated_at) \
                 VALUES (?1, 'refused', ?2, ?3)",
                params![id.as_str(), reason, rfc3339(*at)],
            )?;
        }
    }
    Ok(())
}

fn require_draft(report: &Report, verb: &str) -> Result<()> {
    match report.status {
        ReportStatus::Draft => Ok(()),
        ReportStatus::Submitted => Err(Error::invalid(format!(
            "report '{}' was submitted and cannot be {verb}; it can only be withdrawn",
            report.id
        ))),
        ReportStatus::Withdrawn => Err(Error::invalid(format!(
            "report '{}' was withdrawn and cannot be {verb}",
            report.id
        ))),
    }
}

fn require_author(report: &Report, author: &str, verb: &str) -> Result<()> {
    if report.author != author {
        return Err(Error::invalid(format!(
            "report '{}' belongs to another author; only its author can {verb} it",
            report.id
        )));
    }
    Ok(())
}

// Case follow-up and nearby duplicates. The document model, rules and fold are in [`case`];
// these are the device API over the document store.
impl crate::Waystation {
    /// A report that has a case (submitted or withdrawn): [`Error::NotFound`] for an unknown
    /// report, [`Error::InvalidInput`] for a draft.
    fn case_report(&self, id: &ReportId) -> Result<Report> {
        let report = load(&self.store().read(), id)?.ok_or_else(|| not_found(id))?;
        if report.status == ReportStatus::Draft {
            return Err(Error::invalid(format!(
                "report '{id}' is a draft; only a submitted report has a case"
            )));
        }
        Ok(report)
    }

    /// Records a follow-up event on a submitted report's case, durably, and returns the case.
    ///
    /// Refused, with nothing stored: a rider (only follow-up roles write cases), a role the
    /// rules do not allow for this event and category ([`case::role_may`]), an event the
    /// current status does not allow (e.g. resolving a resolved case: reopen it first), a
    /// reject without a reason, a duplicate of itself or of an unknown report, and text over
    /// the limits. Once the device has learned its account from a sync
    /// ([`crate::sync::account`]), also refused: an actor other than that account, a role it
    /// does not hold, a report outside its districts. An unknown report is
    /// [`Error::NotFound`]; a draft is [`Error::InvalidInput`]. `note` may be empty.
    pub fn record_case_event(
        &self,
        report_id: &str,
        actor: &str,
        role: CaseRole,
        kind: CaseEventKind,
        note: &str,
    ) -> Result<CaseView> {
        check_author(actor)?;
        if role == CaseRole::Rider {
            return Err(Error::invalid(
                "riders cannot write case events; only station staff, supervisors and grid \
                 workers follow up reports",
            ));
        }
        let id = ReportId::parse(report_id)?;
        let note = note.trim();
        check_text("note", note, case::MAX_NOTE_CHARS, true)?;
        let kind = case::checked_kind(&id, kind)?;
        let report = self.case_report(&id)?;
        // What the server would refuse of this device's account, once the device knows it
        // (before, the caller's claim stands and the server judges: `sync::account`).
        if let Some(account) = crate::sync::account::known(&self.store().read())? {
            account.check_case_writer(actor, role, report.district.as_deref())?;
        }
        let (category, author) = (report.category, report.author);
        let report_time = report.submitted_at.unwrap_or(report.created_at);
        if !case::role_may(role, &kind, category) {
            return Err(Error::invalid(format!(
                "a {role} may not {} a case of category {}",
                kind.name(),
                category.code()
            )));
        }
        if let CaseEventKind::MarkDuplicate { of } = &kind {
            load(&self.store().read(), of)?.ok_or_else(|| not_found(of))?;
        }
        // The document stores milliseconds; order and return what a later read returns.
        let now = self.now();
        let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let doc_id = case::case_doc_id(&id);
        let key = case_key(&doc_id, &author);
        let new = case::NewEvent {
            kind,
            actor,
            role,
            note,
            report_time,
        };
        documents::edit(
            &mut self.store().write(),
            &key,
            now,
            || case::genesis(&id),
            |doc| case::append(doc, &id, category, new, now),
        )
    }

    /// A submitted report's case. A report nobody has followed up yet is `open` with an empty
    /// timeline. An unknown report is [`Error::NotFound`]; a draft is [`Error::InvalidInput`].
    pub fn case(&self, report_id: &str) -> Result<CaseView> {
        let id = ReportId::parse(report_id)?;
        let category = self.case_report(&id)?.category;
        let doc = documents::load(&self.store().read(), &case::case_doc_id(&id))?;
        Ok(case::view(doc.as_ref(), &id, category))
    }

    /// The report's whole case document (an Automerge save), for another device to merge. A
    /// case with no events yet gets the shared starting document.
    pub fn case_document_bytes(&self, report_id: &str) -> Result<Vec<u8>> {
        let id = ReportId::parse(report_id)?;
        self.case_report(&id)?;
        match documents::document_bytes(&self.store().read(), &case::case_doc_id(&id))? {
            Some(bytes) => Ok(bytes),
            None => Ok(case::genesis(&id)?.save()),
        }
    }

    /// Merges another device's copy of a report's case document into this one, durably, and
    /// returns the merged case. Refuses bytes that are not that report's case document. The
    /// report itself must be on this device. Merging is idempotent and order-independent:
    /// both devices end with the same status and timeline.
    pub fn merge_case_from(&self, report_id: &str, bytes: &[u8]) -> Result<CaseView> {
        let id = ReportId::parse(report_id)?;
        let mut incoming = case::load_foreign(bytes, &id)?;
        let report = self.case_report(&id)?;
        let (category, author) = (report.category, report.author);
        let doc_id = case::case_doc_id(&id);
        documents::edit(
            &mut self.store().write(),
            &case_key(&doc_id, &author),
            self.now(),
            || case::genesis(&id),
            |doc| {
                doc.merge(&mut incoming)
                    .map_err(|e| Error::invalid(format!("case document does not merge: {e}")))?;
                Ok(case::view(Some(doc), &id, category))
            },
        )
    }
}

/// A case is stored under the report's author, so it is scoped with the report it follows;
/// its writers are the follow-up roles, never the author.
fn case_key<'a>(doc_id: &'a str, author: &'a str) -> DocumentKey<'a> {
    DocumentKey {
        doc_id,
        kind: case::CASE_KIND,
        owner: author,
    }
}

#[cfg(test)]
mod tests;
