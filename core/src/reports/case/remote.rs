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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::{Category, ReportId};

    fn report(category: Category) -> Report {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Report {
            id: ReportId::parse("01900000-0000-7000-8000-000000000001").unwrap(),
            author: "rider-1".into(),
            category,
            status: ReportStatus::Submitted,
            description: None,
            merchant_name: None,
            merchant_address: None,
            address: None,
            position: None,
            district: Some("610113".into()),
            created_at: at,
            submitted_at: Some(at),
            withdrawn_at: None,
            withdraw_reason: None,
            photos: vec![],
            outbox: None,
        }
    }

    #[test]
    fn records_like_a_device_and_refuses_what_a_device_refuses() {
        let r = report(Category::FoodSeal);
        let now = r.created_at + chrono::Duration::minutes(5);
        // No case yet: the shared genesis, then the event, by an actor of the writer.
        let (mut doc, view) = record_on_document(
            None,
            &r,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Acknowledge,
            " seen ",
            now,
        )
        .unwrap();
        assert_eq!(view.status, CaseStatus::Acknowledged);
        assert_eq!(view.timeline[0].event.note.as_deref(), Some("seen"));
        let changes = doc.get_changes(&[]);
        assert_eq!(changes.len(), 2, "genesis and the event");
        assert_eq!(
            changes[0].actor_id(),
            &super::super::integrity::genesis_actor(&r.id)
        );
        super::super::integrity::check_authors("sup-1", &r.id, &changes).unwrap();
        assert!(super::super::integrity::check_authors("sup-2", &r.id, &changes).is_err());
        assert_eq!(view_document(Some(&doc), &r), view);

        // On the stored copy: the next event applies; one the status or the role refuses
        // writes nothing.
        let (_, view) = record_on_document(
            Some(&doc),
            &r,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Resolve,
            "",
            now,
        )
        .unwrap();
        assert_eq!(view.status, CaseStatus::Resolved);
        assert!(!applies_in(view.status, &CaseEventKind::Resolve));
        assert!(applies_in(view.status, &CaseEventKind::Note));
        let heads = doc.get_heads();
        for (role, kind) in [
            (CaseRole::Supervisor, CaseEventKind::Acknowledge),
            (CaseRole::StationStaff, CaseEventKind::Resolve),
            (
                CaseRole::GridWorker,
                CaseEventKind::Dispatch {
                    grid_id: "g".into(),
                },
            ),
            (CaseRole::Rider, CaseEventKind::Note),
            (
                CaseRole::Supervisor,
                CaseEventKind::Reject { reason: " ".into() },
            ),
        ] {
            let refused = record_on_document(Some(&doc), &r, "x", role, kind.clone(), "", now);
            assert!(
                matches!(refused, Err(Error::InvalidInput(_))),
                "{role} {kind:?}"
            );
        }
        assert_eq!(doc.get_heads(), heads, "the stored copy is untouched");
    }
}
