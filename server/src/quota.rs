//! Per-account quotas, and the sweep of photos no report links.
//!
//! One account must not be able to fill the server's disk for everyone: it may hold at most
//! so many documents (its reports and its training progress; a case belongs to its report's
//! author but is written by others, and each report has one, so cases are not counted), so
//! many stored bytes (those documents, and the photos it uploaded), and so many uploaded
//! photos that none of its reports links. Each breach has its own error code
//! (`docs/sync-protocol.md`): a photo upload is answered `403 quota_photos` or
//! `403 quota_bytes`; a document in a sync request is refused alone, with a reason that starts
//! with `quota_documents:` or `quota_bytes:`, and the rest of the request is applied. Nothing
//! already stored is touched by a quota.
//!
//! A photo is uploaded before the report that names it, so a photo no report of its uploader
//! links is normal for a while. After a grace period ([`Quotas::unlinked_photo_grace`], a
//! week by default) the server forgets such uploads ([`sweep_unlinked_photos`], which the
//! running server calls periodically): the account stops being an uploader, and bytes that no
//! uploader and no report name any more are deleted. Bytes a report names are never deleted.

use chrono::{DateTime, Duration, Utc};

use crate::auth::rfc3339;
use crate::error::ApiError;
use crate::store::StoreTx;

/// What one account may hold. `None` turns a limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Most documents (reports and training progress) an account owns.
    pub documents: Option<u64>,
    /// Most bytes an account's documents and uploaded photos take.
    pub stored_bytes: Option<u64>,
    /// Most uploaded photos that no report of the uploader links.
    pub unlinked_photos: Option<u64>,
    /// How long an upload no report links is kept before the sweep forgets it.
    pub unlinked_photo_grace: Duration,
}

/// The default quotas: 20,000 documents (a rider reporting 20 a day for three years), 4 GiB
/// (400 photos of the largest size, far more of the usual 100–500 KB ones), 500 photos waiting
/// for their report, kept for 7 days. A device sends its photos in batches tied to the reports
/// of one sync request, at most 64 a request
/// (`waystation_core::sync::MAX_PHOTOS_PER_REQUEST`), so an honest backlog keeps far
/// fewer than 500 unlinked at a time; the margin covers requests that failed after their
/// photos went up, whose photos wait for the retry.
pub const DEFAULT_QUOTAS: Quotas = Quotas {
    documents: Some(20_000),
    stored_bytes: Some(4 * 1024 * 1024 * 1024),
    unlinked_photos: Some(500),
    unlinked_photo_grace: Duration::days(7),
};

impl Default for Quotas {
    fn default() -> Quotas {
        DEFAULT_QUOTAS
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Checks a new upload of `size` bytes by `user` against the photo and byte quotas. Runs in
/// the write gate, before the upload is recorded.
pub fn check_photo_upload(
    tx: &dyn StoreTx,
    quotas: &Quotas,
    user: &str,
    size: u64,
) -> Result<(), ApiError> {
    if let Some(max) = quotas.unlinked_photos {
        let n = tx.unlinked_photos(user)?;
        if n >= max {
            return Err(ApiError::quota(
                "quota_photos",
                format!(
                    "this account has uploaded {n} photos that none of its reports names yet, \
                     the most the server keeps; send those reports first (photos no report \
                     names are forgotten after {} days)",
                    quotas.unlinked_photo_grace.num_days()
                ),
            ));
        }
    }
    if let Some(max) = quotas.stored_bytes {
        let used = tx.stored_bytes(user)?;
        if used.saturating_add(size) > max {
            return Err(ApiError::quota(
                "quota_bytes",
                format!(
                    "this account stores {} on the server; this photo ({}) would take it over \
                     its quota of {}",
                    mib(used),
                    mib(size),
                    mib(max)
                ),
            ));
        }
    }
    Ok(())
}

/// One sync request's view of its account's usage: read from the database the first time a
/// document needs it, then kept up to date as the request stores documents, so a request of
/// many documents reads it once.
#[derive(Debug)]
pub struct Usage<'a> {
    quotas: &'a Quotas,
    user: &'a str,
    counted: Option<(u64, u64)>,
}

impl<'a> Usage<'a> {
    /// The usage of `user` under `quotas`, not read yet.
    pub fn new(quotas: &'a Quotas, user: &'a str) -> Usage<'a> {
        Usage {
            quotas,
            user,
            counted: None,
        }
    }

    /// Checks storing `new_bytes` more of a document the account owns (`new_document` when
    /// the server has no copy yet), and counts them when allowed. `Ok(Some(reason))` refuses
    /// the document alone; the reason starts with the quota's code.
    pub fn admit(
        &mut self,
        tx: &dyn StoreTx,
        new_document: bool,
        new_bytes: u64,
    ) -> Result<Option<String>, ApiError> {
        if self.quotas.documents.is_none() && self.quotas.stored_bytes.is_none() {
            return Ok(None);
        }
        let (documents, bytes) = match self.counted {
            Some(c) => c,
            None => (tx.owned_documents(self.user)?, tx.stored_bytes(self.user)?),
        };
        self.counted = Some((documents, bytes));
        if let Some(max) = self.quotas.documents
            && new_document
            && documents >= max
        {
            return Ok(Some(format!(
                "quota_documents: this account has {documents} documents on the server, the \
                 most it may keep; this one was not stored"
            )));
        }
        if let Some(max) = self.quotas.stored_bytes
            && bytes.saturating_add(new_bytes) > max
        {
            return Ok(Some(format!(
                "quota_bytes: this account stores {} on the server; these changes ({}) would \
                 take it over its quota of {}; they were not stored",
                mib(bytes),
                mib(new_bytes),
                mib(max)
            )));
        }
        self.counted = Some((
            documents + u64::from(new_document),
            bytes.saturating_add(new_bytes),
        ));
        Ok(None)
    }
}

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Uploads (account, photo) forgotten: older than the grace, linked by no report of their
    /// uploader.
    pub uploads: u64,
    /// Photos deleted: no uploader left and no report names them.
    pub photos: u64,
}

/// Forgets uploads that no report of their uploader has linked for `grace`, then deletes the
/// bytes that no uploader and no report name any more. Bytes any report names are kept (the
/// report's author may still upload them). One write transaction.
pub fn sweep_unlinked_photos(
    db: &crate::db::Db,
    grace: Duration,
    now: DateTime<Utc>,
) -> Result<Swept, ApiError> {
    let tx = db.write()?;
    let swept = sweep_in(tx.as_ref(), grace, now)?;
    tx.commit()?;
    Ok(swept)
}
/// [`sweep_unlinked_photos`]'s rule, inside the caller's transaction: the one rule for what
/// may go of the photos no report links, so that `db purge-withdrawn`
/// (`crate::erasure::purge_withdrawn`) removes no upload the running server's sweep would
/// keep (a photo uploaded an hour ago, whose report has not arrived yet).
pub(crate) fn sweep_in(
    tx: &dyn StoreTx,
    grace: Duration,
    now: DateTime<Utc>,
) -> Result<Swept, crate::store::StoreError> {
    tx.sweep_unlinked_photos(&rfc3339(now - grace))
}
