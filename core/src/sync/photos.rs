//! The photos of the reports a sync sends: which the server lacks, uploading them in batches
//! tied to the reports of one request, and what to do when the server says one went missing.

use automerge::AutoCommit;
use rusqlite::Connection;
use std::collections::HashSet;

use super::SyncReport;
use super::http::{Client, is_photo_quota};
use super::ledger::{self, LocalDoc, record_photo_on_server};
use crate::error::{Error, Result};
use crate::store::documents;

/// Most photos uploaded for one sync request, the photos of the reports it carries. The
/// server keeps a per-account quota of photos no report links yet (500 by default); uploading
/// every photo of a long offline backlog before sending any report would exceed it on every
/// sync, forever. Uploading a request's worth and sending those reports links each batch.
pub const MAX_PHOTOS_PER_REQUEST: usize = 64;

/// The photo uploads of one request: how many more fit, and the server's `quota_photos`
/// answer once it came (then no more uploads in this request).
pub(super) struct PhotoBatch {
    pub(super) left: usize,
    pub(super) full: Option<Error>,
}

impl Default for PhotoBatch {
    fn default() -> Self {
        PhotoBatch {
            left: MAX_PHOTOS_PER_REQUEST,
            full: None,
        }
    }
}

/// Photos of the report document `doc_id` that the server does not have yet.
pub(super) fn photos_to_upload(conn: &Connection, doc: &AutoCommit) -> Result<Vec<String>> {
    let report = crate::reports::document::read(doc)?;
    let mut out = Vec::new();
    for p in report.photos {
        if !ledger::photo_on_server(conn, &p.sha256)? {
            out.push(p.sha256);
        }
    }
    Ok(out)
}

/// Photos named by the events of a case document that this device holds and the server does
/// not have yet: the photos of this device's inspection notes. Photos of others' events that
/// it never fetched are not its to send.
pub(super) fn case_photos_to_upload(
    conn: &Connection,
    data_dir: &std::path::Path,
    doc: &AutoCommit,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for event in crate::reports::case::read_events(doc).events {
        for sha in event.photos {
            let held = crate::reports::photo::photo_path(data_dir, &sha)?.is_file();
            if held && !out.contains(&sha) && !ledger::photo_on_server(conn, &sha)? {
                out.push(sha);
            }
        }
    }
    Ok(out)
}

impl super::device::Device<'_> {
    /// When the server lists photos of report `d` as missing (`SyncResponse::missing_photos`)
    /// and this device holds them: forgets that they were uploaded, so they go again before
    /// the report, and keeps the report pending. Returns whether it did.
    pub(super) fn photos_went_missing(
        &self,
        tx: &Connection,
        d: &LocalDoc,
        missing: &HashSet<String>,
    ) -> Result<bool> {
        let Some(doc) = documents::load(tx, &d.doc_id)? else {
            return Ok(false);
        };
        let mut any = false;
        for photo in crate::reports::document::read(&doc)?.photos {
            let held = crate::reports::photo::photo_path(self.data_dir(), &photo.sha256)?.is_file();
            if held && missing.contains(photo.sha256.as_str()) {
                ledger::forget_photo_on_server(tx, &photo.sha256)?;
                any = true;
            }
        }
        if any {
            tx.execute(
                "UPDATE documents SET dirty = 1 WHERE doc_id = ?1",
                [&d.doc_id],
            )?;
        }
        Ok(any)
    }

    /// Uploads the photos of a report the server does not have, within `batch`; returns
    /// whether the report may go in this request (false: it waits for the next one). A photo
    /// that cannot be read or uploaded ends the sync with that error, before the report is
    /// sent: the report stays pending until a later sync uploads its photos. The server's
    /// `quota_photos` answer is not such an error while the request carries other reports:
    /// sending them links their photos, which frees the quota for the rest.
    ///
    /// Only a report with this device's news (dirty) has photos to upload: another reporter's
    /// report, exchanged because the feed listed it, has none of this device's, so asking the
    /// server about its photos would cost a request each and fail on a photo this device
    /// never had.
    pub(super) fn upload_photos(
        &self,
        client: &Client,
        d: &LocalDoc,
        report: &mut SyncReport,
        batch: &mut PhotoBatch,
        first_in_request: bool,
    ) -> Result<bool> {
        let pending = {
            let conn = self.store().read();
            if !documents::info(&conn, &d.doc_id)?.is_some_and(|i| i.dirty) {
                return Ok(true);
            }
            match documents::load(&conn, &d.doc_id)? {
                Some(doc) if d.kind == crate::reports::case::CASE_KIND => {
                    case_photos_to_upload(&conn, self.data_dir(), &doc)?
                }
                Some(doc) => photos_to_upload(&conn, &doc)?,
                None => return Ok(true),
            }
        };
        if pending.is_empty() {
            return Ok(true);
        }
        if batch.full.is_some() || (!first_in_request && pending.len() > batch.left) {
            return Ok(false);
        }
        for sha in pending {
            client.cancel.check()?;
            // Already there (a retry after a lost answer, a server restored from a backup):
            // a HEAD of a few hundred bytes saves sending the photo again on a metered plan.
            if !client.photo_on_server(&sha, report)? {
                let path = crate::reports::photo::photo_path(self.data_dir(), &sha)?;
                let bytes = std::fs::read(&path).map_err(|e| {
                    Error::Internal(format!("photo {sha} of '{}' cannot be read: {e}", d.doc_id))
                })?;
                match client.put_photo(&sha, bytes, report) {
                    Ok(()) => {}
                    Err(e) if is_photo_quota(&e) => {
                        batch.full = Some(e);
                        return Ok(false);
                    }
                    Err(e) => return Err(e),
                }
                report.photos_uploaded += 1;
            }
            record_photo_on_server(&self.store().write(), &sha, self.now())?;
            batch.left = batch.left.saturating_sub(1);
        }
        Ok(true)
    }
}
