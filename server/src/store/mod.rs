//! The store: what the protocol, the access rules, the HTTP handlers and the admin commands ask
//! of a database, as a trait (decision 0011). None of them sees SQL or knows which engine
//! answers; `sqlite` is the embedded default.
//!
//! A [`Store`] hands out transactions. A read transaction is one consistent snapshot (the feed
//! and the documents it lists agree); a write transaction is all or nothing. Every operation of
//! [`StoreTx`] runs inside one, so a sync request is answered in one transaction whatever the
//! engine.
//!
//! The trait is synchronous: the protocol interleaves these calls with Automerge's CPU-bound
//! work, which already runs on the blocking pool, never on the async workers.

use crate::quota::Swept;

pub mod console;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;
pub mod timing;

/// A database the server runs on.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// A read-only transaction over one consistent snapshot.
    fn read(&self) -> Result<Box<dyn StoreTx + '_>, StoreError>;
    /// A write transaction. On SQLite it queues behind this process's other writers (the write
    /// gate), so it can fail with [`StoreError::Busy`] before it starts.
    fn write(&self) -> Result<Box<dyn StoreTx + '_>, StoreError>;
    /// A write transaction for an erasure or a purge: the bytes it deletes are overwritten, not
    /// just unlinked (SQLite's `secure_delete`).
    fn write_erasing(&self) -> Result<Box<dyn StoreTx + '_>, StoreError>;
    /// After an erasure or a purge committed: pushes the deleted bytes out of any log the
    /// engine keeps beside the database (SQLite's WAL).
    fn finish_erasure(&self) -> Result<(), StoreError>;
    /// Where the data lives, for logs and errors (a file path; never a password).
    fn describe(&self) -> String;
}

/// A transaction of a [`Store`]. Dropped without [`StoreTx::commit`], it is rolled back.
pub trait StoreTx: Documents + Accounts + Media + Erasure + console::ConsoleSessions {
    /// Commits. A write transaction's documents take their feed positions here at the latest.
    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.commit_covering(0).map(|_| ())
    }

    /// Commits, for a reader that was listed every readable document up to feed position
    /// `listed`, and returns the position it may move its cursor to: `listed`, or past this
    /// transaction's own documents when no other writer's position lies between (the writer's
    /// next sync then does not list its own documents back to it). Never past a position this
    /// reader was not listed.
    fn commit_covering(self: Box<Self>, listed: u64) -> Result<u64, StoreError>;
}

/// Documents and the feed.
pub trait Documents {
    /// The stored form of `doc_id`: its snapshot and the changes kept beside it, in order.
    fn doc(&self, doc_id: &str) -> Result<Option<DocRow>, StoreError>;
    /// Who may read `doc_id`: its kind, owner and district, without loading it.
    fn doc_access(&self, doc_id: &str) -> Result<Option<DocAccess>, StoreError>;
    /// `doc_id`'s access facts and heads (as stored: sorted hashes, concatenated).
    fn doc_heads(&self, doc_id: &str) -> Result<Option<(DocAccess, Vec<u8>)>, StoreError>;
    /// Stores a new document as one snapshot, at the end of the feed.
    fn insert_doc(&self, doc: &NewDoc<'_>) -> Result<(), StoreError>;
    /// Appends accepted changes to a stored document and moves it to the end of the feed;
    /// returns how many changes are now kept beside its snapshot.
    fn append_changes(&self, update: &DocUpdate<'_>) -> Result<u64, StoreError>;
    /// Replaces a document's snapshot by `snapshot`, which folds in every change kept beside
    /// it, and drops those changes.
    fn compact_doc(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError>;
    /// The photos a stored report names (replacing what it named before).
    fn set_report_photos(&self, report_id: &str, photos: &[String]) -> Result<(), StoreError>;
    /// The highest feed position given so far (0 before the first).
    fn feed_position(&self) -> Result<u64, StoreError>;
    /// [`Documents::feed_position`] and [`Documents::generation`] together: one round trip
    /// on an engine in another process.
    fn feed_head(&self) -> Result<(u64, String), StoreError> {
        Ok((self.feed_position()?, self.generation()?))
    }
    /// The store's generation (decision 0008).
    fn generation(&self) -> Result<String, StoreError>;
    /// Draws a new generation after a backup was restored; returns it.
    fn mark_restored(&self) -> Result<String, StoreError>;
    /// Up to `limit` documents `reader` may read whose feed position is above `after`, in
    /// feed order (rows are checked with `policy::may_read` again by the caller).
    fn feed(
        &self,
        reader: &Reader<'_>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, StoreError>;
    /// Whether `doc_id` was purged after its retention period.
    fn is_purged(&self, doc_id: &str) -> Result<bool, StoreError>;
    /// The base an erasure gave `doc_id`'s new history (decision 0009), if it was rewritten.
    fn replaced_base(&self, doc_id: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Accounts and tokens.
pub trait Accounts {
    /// The account a token (by its SHA-256) belongs to.
    fn token(&self, token_hash: &[u8]) -> Result<Option<TokenRow>, StoreError>;
    /// The districts `user` covers, sorted.
    fn user_areas(&self, user: &str) -> Result<Vec<String>, StoreError>;
    /// `user`'s role and creation time.
    fn user(&self, user: &str) -> Result<Option<UserRow>, StoreError>;
    /// Every account id, sorted.
    fn user_ids(&self) -> Result<Vec<String>, StoreError>;
    /// `user`'s tokens neither revoked nor expired at `now` (Unix seconds).
    fn live_tokens(&self, user: &str, now: i64) -> Result<u64, StoreError>;
    /// Adds an account with its areas.
    fn insert_user(
        &self,
        user: &str,
        role: &str,
        created_at: &str,
        areas: &[String],
    ) -> Result<(), StoreError>;
    /// Gives `user` a new role and areas, and moves its scope epoch.
    fn set_user_scope(&self, user: &str, role: &str, areas: &[String]) -> Result<(), StoreError>;
    /// `user`'s scope epoch.
    fn scope_epoch(&self, user: &str) -> Result<Option<u64>, StoreError>;
    /// Stores a token by its hash; times in Unix seconds.
    fn insert_token(
        &self,
        token_hash: &[u8],
        user: &str,
        created_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
    /// Revokes `user`'s live tokens at `now`; returns how many.
    fn revoke_user_tokens(&self, user: &str, now: i64) -> Result<u64, StoreError>;
    /// Revokes one token (kept revoked at its first revocation); returns 0 when unknown.
    fn revoke_token(&self, token_hash: &[u8], now: i64) -> Result<u64, StoreError>;
}

/// Photos, quotas, packs and lesson images.
pub trait Media {
    /// Whether `user` uploaded the photo `sha`.
    fn is_uploader(&self, user: &str, sha: &str) -> Result<bool, StoreError>;
    /// Stores the photo's bytes (once) and `uploader` as one of its uploaders; returns whether
    /// `uploader` is new.
    fn insert_photo(&self, photo: &NewPhoto<'_>) -> Result<bool, StoreError>;
    /// The photos that the reports among `report_ids` written by `author` name and `author`
    /// has not uploaded, sorted and each once; reports of other authors and ids of no report
    /// add nothing. One query for all of them (a sync request's reports, at most
    /// `MAX_DOCS_PER_REQUEST`): per report, a first sync of 20 reports made 20 round trips to
    /// PostgreSQL for this alone (docs/benchmarks.md, sync_load).
    fn missing_photos(&self, report_ids: &[&str], author: &str) -> Result<Vec<String>, StoreError>;
    /// A photo's type and size.
    fn photo_meta(&self, sha: &str) -> Result<Option<(String, u64)>, StoreError>;
    /// Whether a report `reader` may read names the photo, uploaded by that report's author.
    fn photo_readable_through_reports(
        &self,
        reader: &Reader<'_>,
        sha: &str,
    ) -> Result<bool, StoreError>;
    /// A photo's bytes.
    fn photo_bytes(&self, sha: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Documents `user` owns, cases not counted.
    fn owned_documents(&self, user: &str) -> Result<u64, StoreError>;
    /// Bytes stored for `user`: its documents (cases not counted) and the photos it uploaded.
    fn stored_bytes(&self, user: &str) -> Result<u64, StoreError>;
    /// Photos `user` uploaded that none of its reports names.
    fn unlinked_photos(&self, user: &str) -> Result<u64, StoreError>;
    /// Forgets uploads older than `cutoff` (RFC 3339) that no report of their uploader names,
    /// then deletes bytes no uploader and no report names.
    fn sweep_unlinked_photos(&self, cutoff: &str) -> Result<Swept, StoreError>;

    /// The published pack of `kind`: its ETag, id and version.
    fn pack(&self, kind: &str) -> Result<Option<PackRow>, StoreError>;
    /// The published pack's bytes.
    fn pack_bytes(&self, kind: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Publishes a pack, replacing the one of its kind.
    fn put_pack(&self, pack: &NewPack<'_>) -> Result<(), StoreError>;
    /// Stores a lesson image once; returns whether it is new.
    fn put_training_image(
        &self,
        sha: &str,
        mime: &str,
        bytes: &[u8],
        now: &str,
    ) -> Result<bool, StoreError>;
    /// A stored lesson image's type.
    fn training_image_type(&self, sha: &str) -> Result<Option<String>, StoreError>;
    /// A stored lesson image's bytes and type.
    fn training_image(&self, sha: &str) -> Result<Option<(Vec<u8>, String)>, StoreError>;
}

/// What erasure and purge do (decision 0009).
pub trait Erasure {
    /// Reports and cases as (doc id, kind, owner), in feed order.
    fn reports_and_cases(&self) -> Result<Vec<(String, String, String)>, StoreError>;
    /// Every report's doc id.
    fn report_ids(&self) -> Result<Vec<String>, StoreError>;
    /// Deletes a document, its changes and its photo links; returns whether it existed.
    fn delete_doc(&self, doc_id: &str) -> Result<bool, StoreError>;
    /// Replaces a document by a rewritten history with no changes beside it, records its base,
    /// and moves it to the end of the feed.
    fn replace_doc(&self, doc: &ReplacedDoc<'_>) -> Result<(), StoreError>;
    /// Deletes `user`'s tokens; returns how many.
    fn delete_tokens(&self, user: &str) -> Result<u64, StoreError>;
    /// Gives `user`'s photo uploads to `erased` (the placeholder account).
    fn hand_over_uploads(&self, user: &str, erased: &str) -> Result<(), StoreError>;
    /// Deletes the account and its areas.
    fn delete_user(&self, user: &str) -> Result<(), StoreError>;
    /// (author, photo) of each photo a report names.
    fn report_photo_authors(&self, report_id: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Records that `doc_id` was purged, so it is not stored again.
    fn mark_purged(&self, doc_id: &str, now: &str) -> Result<(), StoreError>;
    /// Forgets `user`'s upload of `sha` unless a report of `user` still names it.
    fn forget_upload_unless_linked(&self, user: &str, sha: &str) -> Result<(), StoreError>;
}

/// The stored form of a document.
#[derive(Clone, Debug)]
pub struct DocRow {
    /// Its last snapshot.
    pub snapshot: Vec<u8>,
    /// The changes accepted since, in order.
    pub changes: Vec<Vec<u8>>,
    /// Kind, owner and district.
    pub access: DocAccess,
}

/// What access decisions need of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocAccess {
    /// `report`, `case` or `progress`.
    pub kind: String,
    /// Its owner.
    pub owner: String,
    /// Its district (reports and cases).
    pub district: Option<String>,
}

/// A new document to store.
#[derive(Debug)]
pub struct NewDoc<'a> {
    /// Its id.
    pub doc_id: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Owner.
    pub owner: &'a str,
    /// District (reports and cases).
    pub district: Option<&'a str>,
    /// Report category code (reports and cases).
    pub category: Option<&'a str>,
    /// The whole document, saved.
    pub snapshot: &'a [u8],
    /// Its heads, sorted and concatenated.
    pub heads: &'a [u8],
    /// RFC 3339.
    pub now: &'a str,
}

/// Changes accepted into a stored document.
#[derive(Debug)]
pub struct DocUpdate<'a> {
    /// Its id.
    pub doc_id: &'a str,
    /// Owner after the change.
    pub owner: &'a str,
    /// District after the change.
    pub district: Option<&'a str>,
    /// Category after the change.
    pub category: Option<&'a str>,
    /// The new changes, raw, in order.
    pub changes: Vec<&'a [u8]>,
    /// Its heads after them.
    pub heads: &'a [u8],
    /// RFC 3339.
    pub now: &'a str,
}

/// A document an erasure rewrote.
#[derive(Debug)]
pub struct ReplacedDoc<'a> {
    /// Its id.
    pub doc_id: &'a str,
    /// Its owner after the erasure.
    pub owner: &'a str,
    /// The new history, saved.
    pub snapshot: &'a [u8],
    /// Its heads.
    pub heads: &'a [u8],
    /// The change every copy of the new history holds.
    pub base: &'a [u8],
    /// RFC 3339.
    pub now: &'a str,
}

/// Who reads the feed or a photo: the parameters of the readable-documents rule
/// (`policy::may_read`).
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    /// The account.
    pub user: &'a str,
    /// An admin reads every report and case.
    pub admin: bool,
    /// A follow-up role reads the reports and cases of its areas.
    pub follow_up: bool,
}

/// One document of the feed.
#[derive(Clone, Debug)]
pub struct FeedEntry {
    /// Its id.
    pub doc_id: String,
    /// Kind, owner and district.
    pub access: DocAccess,
    /// Its feed position.
    pub position: u64,
    /// Its heads.
    pub heads: Vec<u8>,
    /// The base of its rewritten history, if an erasure rewrote it.
    pub replaced: Option<Vec<u8>>,
}

/// A bearer token's account.
#[derive(Clone, Debug)]
pub struct TokenRow {
    /// The account.
    pub user: String,
    /// Its role's name.
    pub role: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds.
    pub revoked_at: Option<i64>,
    /// The account's scope epoch.
    pub scope_epoch: u64,
}

/// An account.
#[derive(Clone, Debug)]
pub struct UserRow {
    /// Its role's name.
    pub role: String,
    /// RFC 3339.
    pub created_at: String,
}

/// A photo upload.
#[derive(Debug)]
pub struct NewPhoto<'a> {
    /// SHA-256, hex.
    pub sha: &'a str,
    /// The bytes.
    pub bytes: &'a [u8],
    /// MIME type.
    pub mime: &'a str,
    /// Who uploads it.
    pub uploader: &'a str,
    /// RFC 3339.
    pub now: &'a str,
}

/// A published pack's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackRow {
    /// The payload's SHA-256 (hex).
    pub etag: String,
    /// The pack's id.
    pub pack_id: String,
    /// Its version.
    pub version: u64,
}

/// A pack to publish.
#[derive(Debug)]
pub struct NewPack<'a> {
    /// `stations` or `training`.
    pub kind: &'a str,
    /// The signed envelope.
    pub bytes: &'a [u8],
    /// The payload's SHA-256 (hex).
    pub etag: &'a str,
    /// The pack's id.
    pub pack_id: &'a str,
    /// Its version.
    pub version: u64,
    /// RFC 3339.
    pub published_at: &'a str,
}

/// A store operation that failed. The message names the operation, never the data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database is locked by other writers for longer than the wait allows, or this
    /// process's queue of writers is full: retry later (`503 busy`).
    #[error("the database is busy: {0}")]
    Busy(String),
    /// This process's write queue turned the writer away (`503 busy` with its own message).
    #[error("{}", .0.message)]
    Queue(crate::error::ApiError),
    /// The database was written by a newer server.
    #[error("the database has schema version {found}; this server reads up to {supported}")]
    SchemaTooNew {
        /// Version found.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// Anything else the engine reported.
    #[error("{0}")]
    Failed(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        if matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        ) {
            return StoreError::Busy(e.to_string());
        }
        StoreError::Failed(e.to_string())
    }
}

/// Whether `db` (a `--db` value) names a PostgreSQL database rather than a SQLite file.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// `db` as logs may show it: a URL without its password.
pub fn shown(db: &str) -> String {
    match (db.find("://"), db.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &db[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &db[..scheme + 3], &db[at + 1..])
        }
        _ => db.to_string(),
    }
}

/// Feed positions as SQL integers: they never pass 2^40 (`sync::CURSOR_POSITION_BITS`).
pub(crate) fn position(n: i64) -> u64 {
    n.max(0) as u64
}
