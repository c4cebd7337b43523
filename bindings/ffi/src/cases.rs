//! The follow-up of submitted reports as the apps see it: the `Cases` object
//! (`waystation.cases()`) over the core's `Cases` handle. Station staff, supervisors and grid
//! workers use it for the inbox of their districts, one case with its timeline, and the
//! events they record. The records (`CaseQuery`, `CaseSummary`, `CaseView`, `CaseEventKind`,
//! …) are the core's own types.

use std::sync::Arc;

use waystation_core as core;
use waystation_core::reports::{
    CaseEventKind, CaseQuery, CaseRole, CaseSummary, CaseView, ReportPhoto,
};

use crate::Result;

/// The cases of the reports this device holds (a follow-up account's device holds its
/// districts' reports after a sync). Get it with `waystation.cases()`.
#[derive(uniffi::Object)]
pub struct Cases {
    pub(crate) ws: Arc<core::Waystation>,
}

#[uniffi::export]
impl Cases {
    /// The inbox: the cases of the reports this device holds, newest submission first, each
    /// with its status and age, filtered by `query` (districts, statuses, withdrawn reports).
    /// Offline, as of the last sync. An unknown district code throws `InvalidInput` naming it.
    pub fn list(&self, query: CaseQuery) -> Result<Vec<CaseSummary>> {
        Ok(self.ws.cases().list(&query)?)
    }

    /// A submitted report's case: its status, timeline, and the events it does not believe
    /// (`disputedEvents`: a forged document) or cannot read (`unreadableEvents`). A report
    /// nobody has followed up yet is `Open` with an empty timeline. Throws `NotFound` for an
    /// unknown report and `InvalidInput` for a draft.
    pub fn get(&self, report_id: String) -> Result<CaseView> {
        Ok(self.ws.cases().get(&report_id)?)
    }

    /// Records a follow-up event on a submitted report's case, durably, and returns the case.
    /// Throws `InvalidInput`, storing nothing, for a rider, a role the rules do not allow for
    /// this event and category, an event the current status does not allow, a reject without
    /// a reason, a duplicate of itself, and (once a sync has told the device its account) an
    /// actor, role or district that is not the account's; `NotFound` for an unknown report.
    /// `photos` (a note or a resolve only, at most 4) are `storePhoto`'s SHA-256s; a photo
    /// this device does not hold throws `NotFound`.
    #[uniffi::method(default(note = "", photos = []))]
    pub fn record(
        &self,
        report_id: String,
        actor: String,
        role: CaseRole,
        kind: CaseEventKind,
        note: String,
        photos: Vec<String>,
    ) -> Result<CaseView> {
        let cases = self.ws.cases();
        Ok(cases.record_with_photos(&report_id, &actor, role, kind, &note, &photos)?)
    }

    /// Stores a photo for an inspection note (the bytes the camera or a content URI gave),
    /// stripped of its metadata like a report photo, and returns it: pass its `sha256` in
    /// `record`'s `photos`. Throws `InvalidInput` for an oversized or broken image.
    pub async fn store_photo(self: Arc<Self>, photo: Vec<u8>) -> Result<ReportPhoto> {
        crate::executor::run_blocking(move |cancel| {
            cancel.check()?;
            self.ws.cases().store_photo(&photo)
        })
        .await
    }

    /// The report's whole case document, as bytes, for another device to pass to
    /// `mergeFrom`.
    pub fn document_bytes(&self, report_id: String) -> Result<Vec<u8>> {
        Ok(self.ws.cases().document_bytes(&report_id)?)
    }

    /// Merges another device's copy of a report's case document into this one, durably, and
    /// returns the merged case. Idempotent and order-independent: both devices end with the
    /// same status and timeline. Throws `InvalidInput` for bytes that are not that report's
    /// case document.
    pub fn merge_from(&self, report_id: String, bytes: Vec<u8>) -> Result<CaseView> {
        Ok(self.ws.cases().merge_from(&report_id, &bytes)?)
    }
}
