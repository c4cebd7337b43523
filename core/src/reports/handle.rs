//! The two handles a [`Waystation`] hands out for this module: [`Reports`] (a rider's reports,
//! from draft to outbox) and [`Cases`] (the follow-up of submitted reports), with the store
//! plumbing both share.
//!
//! A handle only borrows the [`Waystation`]: it is free to make (`ws.reports()`), holds no
//! state of its own, and every call on it is as durable as the call it replaced on the facade.
//!
//! The handles' calls live in the files below, one job each; they sit above the domain files
//! of this module (which take a connection, a data directory or a time, never the
//! `Waystation`) and may call sync, like the facade (`core/tests/layering.rs`).

mod cases;
mod draft;
mod duplicates;
mod export;
mod fetch;
mod list;
mod outbox;
mod photos;

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use std::path::Path;

use super::document::{self, REPORT_KIND};
use super::model::not_found;
use super::{Report, ReportId, index};
use crate::Waystation;
use crate::error::Result;
use crate::store::Store;
use crate::store::documents::{self, DocumentKey};

/// A rider's reports on this device: drafts with autosave, evidence (position, photos),
/// submission and withdrawal, the outbox, nearby duplicates and export. Get one with
/// [`Waystation::reports`].
#[derive(Clone, Copy, Debug)]
pub struct Reports<'a> {
    pub(super) ws: &'a Waystation,
}

/// The follow-up of submitted reports: a district's inbox ([`Cases::list`]), one case with its
/// timeline ([`Cases::get`]), recording events ([`Cases::record`]) and merging another
/// device's copy. Get one with [`Waystation::cases`].
#[derive(Clone, Copy, Debug)]
pub struct Cases<'a> {
    pub(super) ws: &'a Waystation,
}

impl<'a> Reports<'a> {
    /// The reports of `ws`.
    pub(crate) fn new(ws: &'a Waystation) -> Reports<'a> {
        Reports { ws }
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.ws.now()
    }

    pub(super) fn store(&self) -> &'a Store {
        self.ws.store()
    }

    pub(super) fn data_dir(&self) -> &'a Path {
        self.ws.data_dir()
    }

    /// The owner of an existing report document, or [`crate::Error::NotFound`].
    fn owner(&self, id: &ReportId) -> Result<String> {
        documents::info(&self.store().read(), &id.doc_id())?
            .filter(|i| i.kind == REPORT_KIND)
            .map(|i| i.owner)
            .ok_or_else(|| not_found(id))
    }

    /// Runs `f` on an existing report's document, durably; the report must exist.
    pub(super) fn edit<T>(
        &self,
        id: &ReportId,
        f: impl FnOnce(&mut AutoCommit, &Report) -> Result<T>,
    ) -> Result<T> {
        self.edit_compacting(id, false, f)
    }

    /// [`Self::edit`]; with `draft_now` a draft is rebuilt without history whatever its change
    /// count ([`index::after_report_edit_compacting`]).
    pub(super) fn edit_compacting<T>(
        &self,
        id: &ReportId,
        draft_now: bool,
        f: impl FnOnce(&mut AutoCommit, &Report) -> Result<T>,
    ) -> Result<T> {
        let now = self.now();
        let owner = self.owner(id)?;
        let doc_id = id.doc_id();
        let key = DocumentKey {
            doc_id: &doc_id,
            kind: REPORT_KIND,
            owner: &owner,
        };
        self.ws.ensure_report_index()?;
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
}

impl<'a> Cases<'a> {
    /// The cases of `ws`.
    pub(crate) fn new(ws: &'a Waystation) -> Cases<'a> {
        Cases { ws }
    }
}
