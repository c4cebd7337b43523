//! Case follow-up: one Automerge document per submitted report, `case:<report uuid>`.
//!
//! A report is written only by its reporter; what happens to it afterwards is written only by
//! the follow-up roles (station staff, volunteer supervisors, grid workers), often offline, in a
//! separate document so the two never race. `docs/formats/case-status.md` is the reference for
//! the rules below; this comment is the summary.
//!
//! ## Layout
//!
//! ```text
//! ROOT
//! ├─ schema:  "waystation/case"
//! ├─ report:  "<report uuid>"
//! └─ events:  { <event id>: { kind, actor, role, at: Timestamp(ms), note?,
//! │                           grid_id? (dispatch), of? (mark_duplicate), reason? (reject),
//! │                           photos? (note, resolve: "<sha256> <sha256>…") }, … }
//! ```
//!
//! - **Same genesis everywhere**, as for training progress: the first change is made with a
//!   fixed actor derived from the report id at time 0, so `events` is the same Automerge object
//!   on every device and concurrent events land in one map. Readers still take the union of
//!   every map under `events`, so a document built elsewhere loses nothing. The server accepts
//!   only this exact genesis ([`integrity`]).
//! - **Events are a grow-only map keyed by a unique id** (a UUIDv7 from the injected clock and
//!   74 random bits), never a list: concurrent events never conflict, nothing is ever deleted.
//!   Each event is written once, by a fresh actor tagged with its writer's account
//!   ([`integrity::writer_actor`]).
//! - **A disputed event is not believed**: two values under one event id (or under one field
//!   of an event) can only come from a forgery, since ids are unique. The server refuses such a
//!   document; a device that meets one anyway shows the case without that event and lists its
//!   id in [`CaseView::disputed_events`], the same on every device.
//! - **The status is derived, never stored**: a fold over the events sorted by `(at, id)`
//!   ([`fold`]). An event that is invalid where it lands (a second close, a role that may not
//!   write it) stays in the timeline marked as not applied.
//! - An event's `at` is the device clock, but never earlier than the newest event the device
//!   already holds (then it is that plus 1 ms), so an event always sorts after every event its
//!   writer had seen, even on a phone whose clock is behind.

use automerge::AutoCommit;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

use super::{Category, CategoryGroup, MAX_REASON_CHARS, ReportId, check_text};

pub mod integrity;
mod remote;
mod stored;

pub use remote::{applies_in, record_on_document, view_document};

use crate::error::{Error, Result};
use stored::write_event;
pub(crate) use stored::{ReadEvents, read_event, read_events};
pub(super) use stored::{genesis, load_foreign};

/// Document kind in the document store.
pub const CASE_KIND: &str = "case";
/// Value of the document's `schema` field.
pub const CASE_SCHEMA: &str = "waystation/case";
/// Longest note on a case event, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Longest grid id, in characters.
pub const MAX_GRID_ID_CHARS: usize = 64;
/// Most photos one case event may name: an inspection shows the place, the problem and the
/// fix; more belongs in another event, and every follow-up device of the district may fetch
/// them on a metered plan.
pub const MAX_EVENT_PHOTOS: usize = 4;

/// Whether an event of `kind` may name photos: a note (an inspection note with what the
/// inspector saw) and a resolve (the fix). The other kinds change the status or route the case;
/// a photo there would be evidence nobody is asked to look at.
pub fn kind_takes_photos(kind: &CaseEventKind) -> bool {
    matches!(kind, CaseEventKind::Note | CaseEventKind::Resolve)
}

/// Checks the photos an event of `kind` names: only on a kind that takes photos, at most
/// [`MAX_EVENT_PHOTOS`], each a SHA-256 as 64 lowercase hex digits, none twice.
pub fn check_event_photos(kind: &CaseEventKind, photos: &[String]) -> Result<()> {
    if photos.is_empty() {
        return Ok(());
    }
    if !kind_takes_photos(kind) {
        return Err(Error::invalid(format!(
            "a {} event cannot carry photos; only a note or a resolve can",
            kind.name()
        )));
    }
    if photos.len() > MAX_EVENT_PHOTOS {
        return Err(Error::invalid(format!(
            "a case event names {} photos; at most {MAX_EVENT_PHOTOS} are allowed",
            photos.len()
        )));
    }
    for (i, sha) in photos.iter().enumerate() {
        if !crate::util::hash::is_sha256_hex(sha) {
            return Err(Error::invalid(format!(
                "photo {} of the case event is not a SHA-256 as 64 lowercase hex digits",
                i + 1
            )));
        }
        if photos[..i].contains(sha) {
            return Err(Error::invalid(format!(
                "photo {} of the case event is named twice",
                i + 1
            )));
        }
    }
    Ok(())
}

/// The document id of a report's case.
pub fn case_doc_id(report: &ReportId) -> String {
    format!("case:{report}")
}

/// Who writes a case event. The snake_case name ([`CaseRole::as_str`]) is stored and stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
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

impl CaseRole {
    /// Every role.
    pub const ALL: [CaseRole; 4] = [
        CaseRole::Rider,
        CaseRole::StationStaff,
        CaseRole::Supervisor,
        CaseRole::GridWorker,
    ];

    /// The stable name: `rider`, `station_staff`, `supervisor`, `grid_worker`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseRole::Rider => "rider",
            CaseRole::StationStaff => "station_staff",
            CaseRole::Supervisor => "supervisor",
            CaseRole::GridWorker => "grid_worker",
        }
    }
}

impl fmt::Display for CaseRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CaseRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<CaseRole> {
        CaseRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                let shown: String = s.chars().take(40).collect();
                Error::invalid(format!(
                    "unknown role '{shown}'; expected rider, station_staff, supervisor or \
                     grid_worker"
                ))
            })
    }
}

/// What a case event does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(tag = "kind", rename_all = "snake_case")]
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
        /// The id of the report this one duplicates. Text, not a `ReportId`, so that a bad id
        /// from an app is a clear `InvalidInput` from `record` (a custom type's failed lift
        /// would reach the app as an internal error).
        of: String,
    },
    /// The problem was fixed.
    Resolve,
    /// Not acted on, with the reason (required).
    Reject {
        /// Why.
        reason: String,
    },
    /// A closed case is open again.
    Reopen,
}

impl CaseEventKind {
    /// The stable name stored in the document: `acknowledge`, `note`, `request_info`,
    /// `dispatch`, `mark_duplicate`, `resolve`, `reject`, `reopen`.
    pub fn name(&self) -> &'static str {
        match self {
            CaseEventKind::Acknowledge => "acknowledge",
            CaseEventKind::Note => "note",
            CaseEventKind::RequestInfo => "request_info",
            CaseEventKind::Dispatch { .. } => "dispatch",
            CaseEventKind::MarkDuplicate { .. } => "mark_duplicate",
            CaseEventKind::Resolve => "resolve",
            CaseEventKind::Reject { .. } => "reject",
            CaseEventKind::Reopen => "reopen",
        }
    }
}

/// Where a case stands, derived by [`fold`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
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

impl CaseStatus {
    /// Resolved, rejected or duplicate.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            CaseStatus::Resolved | CaseStatus::Rejected | CaseStatus::Duplicate
        )
    }

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Acknowledged => "acknowledged",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Duplicate => "duplicate",
        }
    }

    /// The Open311 GeoReport v2 status: only resolved, rejected and duplicate are `closed`.
    pub fn open311(self) -> Open311Status {
        if self.is_closed() {
            Open311Status::Closed
        } else {
            Open311Status::Open
        }
    }
}

/// Open311 GeoReport v2 has only two statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "lowercase")]
pub enum Open311Status {
    /// `open`.
    Open,
    /// `closed`; the view's `status_notes` always say why.
    Closed,
}

/// One event, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CaseEvent {
    /// Unique id (a UUIDv7).
    pub id: String,
    /// What it does.
    pub kind: CaseEventKind,
    /// Who wrote it (user id).
    pub actor: String,
    /// In which role.
    pub role: CaseRole,
    /// When (milliseconds; see the module docs for how it is ordered).
    pub at: DateTime<Utc>,
    /// The writer's note, if any.
    pub note: Option<String>,
    /// The photos the event shows (SHA-256s, metadata stripped like report photos; only a
    /// note or a resolve has any). A follow-up device fetches them on demand with
    /// `reports().fetch_photo`; the writer's device holds them (`cases().store_photo`).
    pub photos: Vec<String>,
}

/// An event in the timeline, with whether the fold applied it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TimelineEntry {
    /// The event.
    pub event: CaseEvent,
    /// False when it arrived where it could not apply (e.g. a resolve after the case was
    /// already closed). It is still shown; nothing is lost.
    pub applied: bool,
    /// Why it was not applied.
    pub not_applied_because: Option<String>,
}

/// A report's case, folded from every event this device holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CaseView {
    /// The report followed.
    pub report_id: ReportId,
    /// The derived status.
    pub status: CaseStatus,
    /// `open` or `closed` for Open311.
    pub open311_status: Open311Status,
    /// Open311 `status_notes`: what the status means, and for `closed`, why.
    pub status_notes: String,
    /// The grid the case is dispatched to, if any.
    pub grid_id: Option<String>,
    /// The report this one duplicates, while the status is duplicate.
    pub duplicate_of: Option<ReportId>,
    /// Time of the newest event, if any (Open311 `updated_datetime`).
    pub updated_at: Option<DateTime<Utc>>,
    /// Every event, sorted by `(at, id)`.
    pub timeline: Vec<TimelineEntry>,
    /// Ids of events this version cannot read (e.g. written by a newer app). They are kept in
    /// the document and do not change the status.
    pub unreadable_events: Vec<String>,
    /// Ids of events with more than one value (a forgery the server should have refused:
    /// see the module docs). None of their values is shown or changes the status.
    pub disputed_events: Vec<String>,
}

/// Whether `role` may write `kind` on a report of `category`. The table, with reasons, is in
/// `docs/formats/case-status.md`.
pub fn role_may(role: CaseRole, kind: &CaseEventKind, category: Category) -> bool {
    use CaseEventKind as K;
    use CaseRole as R;
    match role {
        R::Rider => false,
        R::Supervisor => true,
        R::StationStaff => match kind {
            K::Acknowledge | K::Note | K::RequestInfo | K::Dispatch { .. } => true,
            K::Resolve | K::Reopen => category.group() == CategoryGroup::Station,
            K::MarkDuplicate { .. } | K::Reject { .. } => false,
        },
        R::GridWorker => !matches!(kind, K::Dispatch { .. }),
    }
}

/// What `kind` does in `status`: the next status, or why it cannot apply there.
fn step(status: CaseStatus, kind: &CaseEventKind) -> std::result::Result<CaseStatus, String> {
    use CaseEventKind as K;
    use CaseStatus as S;
    let closed = status.is_closed();
    match kind {
        K::Note => Ok(status),
        K::Acknowledge if status == S::Open => Ok(S::Acknowledged),
        K::Acknowledge => Err(format!("the case was already {}", status.as_str())),
        K::Reopen if closed => Ok(S::Open),
        K::Reopen => Err(format!("the case was {}, not closed", status.as_str())),
        _ if closed => Err(format!("the case was already {}", status.as_str())),
        K::RequestInfo | K::Dispatch { .. } => Ok(S::InProgress),
        K::MarkDuplicate { .. } => Ok(S::Duplicate),
        K::Resolve => Ok(S::Resolved),
        K::Reject { .. } => Ok(S::Rejected),
    }
}

fn with_note(head: String, note: Option<&str>) -> String {
    match note {
        Some(n) if !n.is_empty() => format!("{head}: {n}"),
        _ => head,
    }
}

/// Folds events (any order; they are sorted by `(at, id)` here) into the case's view. Events
/// by a role that may not write them, or invalid in the status they land in, are kept in the
/// timeline and not applied. `disputed_events` is empty; [`view`] fills it from the document.
pub fn fold(
    report_id: &ReportId,
    category: Category,
    mut events: Vec<CaseEvent>,
    unreadable_events: Vec<String>,
) -> CaseView {
    events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    let mut status = CaseStatus::Open;
    let mut grid_id = None;
    let mut duplicate_of = None;
    let mut notes = String::from("open: not yet acknowledged");
    let mut timeline = Vec::with_capacity(events.len());
    for event in events {
        let outcome = if role_may(event.role, &event.kind, category) {
            step(status, &event.kind)
        } else {
            Err(format!(
                "a {} may not {}",
                event.role.as_str(),
                event.kind.name()
            ))
        };
        let not_applied_because = match outcome {
            Ok(next) => {
                let note = event.note.as_deref();
                match &event.kind {
                    CaseEventKind::Note => {}
                    CaseEventKind::Acknowledge => notes = "acknowledged".into(),
                    CaseEventKind::RequestInfo => {
                        notes = with_note("more information requested".into(), note)
                    }
                    CaseEventKind::Dispatch { grid_id: g } => {
                        grid_id = Some(g.clone());
                        notes = format!("dispatched to grid {g}");
                    }
                    CaseEventKind::MarkDuplicate { of } => {
                        // Stored events hold checked ids (`stored` drops any other).
                        duplicate_of = ReportId::parse(of).ok();
                        notes = with_note(format!("closed as a duplicate of report {of}"), note);
                    }
                    CaseEventKind::Resolve => {
                        notes = with_note("closed: resolved".into(), note);
                    }
                    CaseEventKind::Reject { reason } => {
                        notes = format!("closed: rejected, not acted on: {reason}");
                    }
                    CaseEventKind::Reopen => {
                        duplicate_of = None;
                        notes = with_note("reopened".into(), note);
                    }
                }
                status = next;
                None
            }
            Err(why) => Some(why),
        };
        timeline.push(TimelineEntry {
            applied: not_applied_because.is_none(),
            not_applied_because,
            event,
        });
    }
    CaseView {
        report_id: report_id.clone(),
        status,
        open311_status: status.open311(),
        status_notes: notes,
        grid_id,
        duplicate_of,
        updated_at: timeline.last().map(|t| t.event.at),
        timeline,
        unreadable_events,
        disputed_events: Vec::new(),
    }
}

/// [`fold`] over what [`read_events`] found, disputed events listed.
fn fold_read(report_id: &ReportId, category: Category, read: ReadEvents) -> CaseView {
    let mut view = fold(report_id, category, read.events, read.unreadable);
    view.disputed_events = read.disputed;
    view
}

/// A fresh event id: a UUIDv7 whose time part is `now` and whose other 74 bits are random.
fn new_event_id(now: DateTime<Utc>) -> Result<String> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random)
        .map_err(|e| Error::Internal(format!("no random numbers for an event id: {e}")))?;
    let ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    Ok(uuid::Builder::from_unix_timestamp_millis(ms, &random)
        .into_uuid()
        .hyphenated()
        .to_string())
}

/// Trims and checks the event's own fields; returns the kind as it will be stored.
pub(super) fn checked_kind(report: &ReportId, kind: CaseEventKind) -> Result<CaseEventKind> {
    Ok(match kind {
        CaseEventKind::Dispatch { grid_id } => {
            let grid_id = grid_id.trim().to_string();
            if grid_id.is_empty() {
                return Err(Error::invalid("dispatch needs a grid id"));
            }
            integrity::check_grid_id(&grid_id)?;
            CaseEventKind::Dispatch { grid_id }
        }
        CaseEventKind::Reject { reason } => {
            let reason = reason.trim().to_string();
            if reason.is_empty() {
                return Err(Error::invalid(
                    "reject needs a reason; 'closed' must say why",
                ));
            }
            check_text("reason", &reason, MAX_REASON_CHARS, true)?;
            CaseEventKind::Reject { reason }
        }
        CaseEventKind::MarkDuplicate { of } => {
            let of = ReportId::parse(&of).map_err(|e| match e {
                Error::InvalidInput(reason) => {
                    Error::invalid(format!("mark_duplicate 'of': {reason}"))
                }
                other => other,
            })?;
            if &of == report {
                return Err(Error::invalid("a report cannot be a duplicate of itself"));
            }
            CaseEventKind::MarkDuplicate {
                of: of.as_str().to_string(),
            }
        }
        other => other,
    })
}

/// Appends a checked event by `actor` in `role` to the case document at `now` (see the module
/// docs for how `at` is chosen) and returns the case. Refuses an event the current status does
/// not allow; nothing is written then.
pub(super) fn append(
    doc: &mut AutoCommit,
    report: &ReportId,
    category: Category,
    new: NewEvent<'_>,
    now: DateTime<Utc>,
) -> Result<CaseView> {
    let read = read_events(doc);
    let current = fold(report, category, read.events.clone(), read.unreadable);
    if let Err(why) = step(current.status, &new.kind) {
        return Err(Error::invalid(format!(
            "cannot {} this case: {why}",
            new.kind.name()
        )));
    }
    // Never sort before an event this device already holds.
    let mut at = match read.events.iter().map(|e| e.at).max() {
        Some(latest) if latest >= now => latest + Duration::milliseconds(1),
        _ => now,
    };
    // Nor before the report, when this clock is a little behind the reporter's; the server
    // refuses an event dated more than the allowance before it (see `integrity`).
    if new.report_time > at && new.report_time - at <= integrity::CLOCK_SKEW {
        at = new.report_time;
    }
    let event = CaseEvent {
        id: new_event_id(at)?,
        kind: new.kind,
        actor: new.actor.to_string(),
        role: new.role,
        at,
        note: (!new.note.is_empty()).then(|| new.note.to_string()),
        photos: new.photos,
    };
    // A fresh actor tagged with the writer's account: the server refuses changes under
    // another account's actor (see `integrity`).
    doc.set_actor(integrity::writer_actor(new.actor));
    write_event(doc, &event)?;
    Ok(fold_read(report, category, read_events(doc)))
}

/// An event about to be recorded, already checked.
pub(super) struct NewEvent<'a> {
    pub(super) kind: CaseEventKind,
    pub(super) actor: &'a str,
    pub(super) role: CaseRole,
    pub(super) note: &'a str,
    /// Photos already checked ([`check_event_photos`]) and held on this device.
    pub(super) photos: Vec<String>,
    /// When the report was submitted (or created): the event is not dated before it.
    pub(super) report_time: DateTime<Utc>,
}

/// Reads the case document of a report, if any, and folds it.
pub(super) fn view(doc: Option<&AutoCommit>, report: &ReportId, category: Category) -> CaseView {
    fold_read(report, category, doc.map(read_events).unwrap_or_default())
}

#[cfg(test)]
mod tests;
