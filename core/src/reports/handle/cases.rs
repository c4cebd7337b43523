//! The follow-up API over the case documents ([`super::case`] holds their model, rules and
//! fold): one case with its timeline, recording an event, and exchanging a case document with
//! another device, and the inbox of a district ([`Cases::list`], whose query is in
//! `index/cases.rs`).

use chrono::DateTime;

use crate::error::{Error, Result};
use crate::reports::ReportRules;
use crate::reports::model::{check_author, check_text, not_found};
use crate::reports::outbox::load;
use crate::reports::photo::sweep;
use crate::reports::photo::{ReportPhoto, photo_path, store, strip};
use crate::reports::{
    CaseEventKind, CaseQuery, CaseRole, CaseSummary, CaseView, Cases, Report, ReportId,
    ReportStatus, case, index,
};
use crate::store::documents::{self, DocumentKey};

impl Cases<'_> {
    /// The inbox: the cases of the reports this device holds, newest submission first, each
    /// with its status and age, filtered by `query`: a follow-up account's work list, offline,
    /// as of its last sync. Every district code is checked first; an unknown one is
    /// [`Error::InvalidInput`] naming it.
    pub fn list(&self, query: &CaseQuery) -> Result<Vec<CaseSummary>> {
        self.ws.ensure_report_index()?;
        index::cases::list(&self.ws.store().read(), query, self.ws.now())
    }

    /// A report that has a case (submitted or withdrawn): [`Error::NotFound`] for an unknown
    /// report, [`Error::InvalidInput`] for a draft.
    fn report(&self, id: &ReportId) -> Result<Report> {
        let report = load(&self.ws.store().read(), id)?.ok_or_else(|| not_found(id))?;
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
    pub fn record(
        &self,
        report_id: &str,
        actor: &str,
        role: CaseRole,
        kind: CaseEventKind,
        note: &str,
    ) -> Result<CaseView> {
        self.record_with_photos(report_id, actor, role, kind, note, &[])
    }

    /// [`Cases::record`] with photos: an inspection note (or a resolve) that shows what the
    /// writer saw. Each photo is one this device stored with [`Cases::store_photo`]; a sync
    /// uploads it before the case, and the case's readers fetch it on demand with
    /// `reports().fetch_photo`. Refused besides [`Cases::record`]'s refusals: photos on
    /// another kind of event, more than [`case::MAX_EVENT_PHOTOS`], a value that is not a
    /// SHA-256, one named twice, and one this device does not hold.
    pub fn record_with_photos(
        &self,
        report_id: &str,
        actor: &str,
        role: CaseRole,
        kind: CaseEventKind,
        note: &str,
        photos: &[String],
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
        case::check_event_photos(&kind, photos)?;
        for sha in photos {
            if !photo_path(self.ws.data_dir(), sha)?.is_file() {
                return Err(Error::NotFound(format!(
                    "no stored photo {sha}; store it with cases().store_photo first"
                )));
            }
        }
        let report = self.report(&id)?;
        // What the server would refuse of this device's account, once the device knows it
        // (before, the caller's claim stands and the server judges: `sync::account`).
        if let Some(account) = crate::sync::account::known(&self.ws.store().read())? {
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
            let of = ReportId::parse(of)?;
            load(&self.ws.store().read(), &of)?.ok_or_else(|| not_found(&of))?;
        }
        // The document stores milliseconds; order and return what a later read returns.
        let now = self.ws.now();
        let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let doc_id = case::case_doc_id(&id);
        let key = case_key(&doc_id, &author);
        let new = case::NewEvent {
            kind,
            actor,
            role,
            note,
            photos: photos.to_vec(),
            report_time,
        };
        documents::edit(
            &mut self.ws.store().write(),
            &key,
            now,
            || case::genesis(&id),
            |doc| case::append(doc, &id, category, new, now),
        )
    }

    /// Stores a photo for a case event (JPEG, PNG or WebP bytes as the camera wrote them) the
    /// way a report photo is stored: every piece of metadata but the orientation stripped
    /// (EXIF GPS first of all), at most `ReportRules::default().max_photo_bytes`, kept once
    /// under its SHA-256. Pass the returned `sha256` to [`Cases::record_with_photos`]. A photo
    /// no event ends up naming is removed by a later sweep, like a photo removed from a draft.
    pub fn store_photo(&self, bytes: &[u8]) -> Result<ReportPhoto> {
        let max = ReportRules::default().max_photo_bytes;
        if i64::try_from(bytes.len()).unwrap_or(i64::MAX) > max {
            return Err(Error::invalid(format!(
                "photo is {} bytes; at most {max} bytes are allowed per photo",
                bytes.len()
            )));
        }
        let stripped = strip(bytes)?;
        let now = self.ws.now();
        // The marker is left in place: until an event names the photo, a sweep may take it
        // (after the grace period); once one does, the sweep finds it named.
        let marker = sweep::Attaching::begin(self.ws.data_dir(), &stripped.info.sha256, now)?;
        let path = store(self.ws.data_dir(), &stripped)?;
        sweep::touch(&path, now)?;
        drop(marker);
        Ok(stripped.info)
    }

    /// A submitted report's case. A report nobody has followed up yet is `open` with an empty
    /// timeline. An unknown report is [`Error::NotFound`]; a draft is [`Error::InvalidInput`].
    pub fn get(&self, report_id: &str) -> Result<CaseView> {
        let id = ReportId::parse(report_id)?;
        let category = self.report(&id)?.category;
        let doc = documents::load(&self.ws.store().read(), &case::case_doc_id(&id))?;
        Ok(case::view(doc.as_ref(), &id, category))
    }

    /// The report's whole case document (an Automerge save), for another device to merge. A
    /// case with no events yet gets the shared starting document.
    pub fn document_bytes(&self, report_id: &str) -> Result<Vec<u8>> {
        let id = ReportId::parse(report_id)?;
        self.report(&id)?;
        match documents::document_bytes(&self.ws.store().read(), &case::case_doc_id(&id))? {
            Some(bytes) => Ok(bytes),
            None => Ok(case::genesis(&id)?.save()),
        }
    }

    /// Merges another device's copy of a report's case document into this one, durably, and
    /// returns the merged case. Refuses bytes that are not that report's case document. The
    /// report itself must be on this device. Merging is idempotent and order-independent:
    /// both devices end with the same status and timeline.
    pub fn merge_from(&self, report_id: &str, bytes: &[u8]) -> Result<CaseView> {
        let id = ReportId::parse(report_id)?;
        let mut incoming = case::load_foreign(bytes, &id)?;
        let report = self.report(&id)?;
        let (category, author) = (report.category, report.author);
        let doc_id = case::case_doc_id(&id);
        documents::edit(
            &mut self.ws.store().write(),
            &case_key(&doc_id, &author),
            self.ws.now(),
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
