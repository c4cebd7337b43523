//! Case events written away from a device's store: the sync server's web console (issue 16),
//! where a district office or a grid worker follows a case from a browser.
//!
//! The console writes the case document exactly as the apps do: the same checks on the
//! event's fields ([`super::checked_kind`], the note's length), the same role table
//! ([`super::role_may`]) and fold ([`super::step`]), the same genesis for a case nobody has
//! followed yet, and the same writer actor tagged with the account
//! ([`super::integrity::writer_actor`]). The server then takes the change through the sync
//! endpoint's acceptance path like any device's, and devices sync it like any other change.

use automerge::AutoCommit;
use chrono::{DateTime, Utc};

use super::{CaseEventKind, CaseRole, CaseStatus, CaseView, MAX_NOTE_CHARS, NewEvent};
use crate::error::{Error, Result};
use crate::reports::{Report, ReportStatus, check_text};

/// The case of `report` as `doc` (its case document, `None` when nobody has followed it up
/// yet) holds it: the fold every app shows.
pub fn view_document(doc: Option<&AutoCommit>, report: &Report) -> CaseView {
    super::view(doc, &report.id, report.category)
}

/// Whether an event of `kind` applies to a case in `status` (a second acknowledge, or a
/// resolve of a closed case, does not).
pub fn applies_in(status: CaseStatus, kind: &CaseEventKind) -> bool {
    super::step(status, kind).is_ok()
}

/// Records an event by `actor` writing as `role` on the case of `report`, whose case
/// document is `doc` (`None`: the shared genesis is started, as on a device), at `now`.
/// Returns the changed document and the case after the event. Refused with
/// [`Error::InvalidInput`] naming the reason, with nothing written, like
/// `Cases::record`: a rider, a draft, a bad note, grid id or reason, an event the role may
/// not write for this category, or one the case's status does not allow. Photos are not
/// taken here (the console uploads none).
pub fn record_on_document(
    doc: Option<&AutoCommit>,
    report: &Report,
    actor: &str,
    role: CaseRole,
    kind: CaseEventKind,
    note: &str,
    now: DateTime<Utc>,
) -> Result<(AutoCommit, CaseView)> {
    if role == CaseRole::Rider {
        return Err(Error::invalid(
            "riders cannot write case events; only station staff, supervisors and grid \
             workers follow up reports",
        ));
    }
    if report.status == ReportStatus::Draft {
        return Err(Error::invalid(format!(
            "report '{}' is a draft; only a submitted report has a case",
            report.id
        )));
    }
    let note = note.trim();
    check_text("note", note, MAX_NOTE_CHARS, true)?;
    let kind = super::checked_kind(&report.id, kind)?;
    if !super::role_may(role, &kind, report.category) {
        return Err(Error::invalid(format!(
            "a {role} may not {} a case of category {}",
            kind.name(),
            report.category.code()
        )));
    }
    // The document stores milliseconds, as on a device.
    let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    let mut doc = match doc {
        Some(d) => d.clone(),
        None => super::genesis(&report.id)?,
    };
    let new = NewEvent {
        kind,
        actor,
        role,
        note,
        photos: Vec::new(),
        report_time: report.submitted_at.unwrap_or(report.created_at),
    };
    let view = super::append(&mut doc, &report.id, report.category, new, now)?;
    Ok((doc, view))
}
