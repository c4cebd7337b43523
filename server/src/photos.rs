//! Photos: content-addressed by SHA-256, uploaded idempotently, read by their uploaders and
//! by whoever may read a report whose author uploaded them. A hash alone grants nothing: it
//! leaks (reports, feeds, Open311 `media_url`s), so naming it in one's own report links only
//! bytes one uploaded, and a photo one may not read is answered exactly like a missing one.

use rusqlite::{Connection, OptionalExtension, params};
use waystation_core::sync::policy::Account;
use waystation_core::sync::protocol::{MAX_PHOTO_BYTES, is_sha256_hex};

use crate::db::Db;
use crate::error::ApiError;
use crate::sync::{READABLE, readable_flags};

pub use waystation_core::reports::image_type;

/// Checks a photo path segment: 64 lowercase hex digits.
pub fn check_path(sha: &str) -> Result<(), ApiError> {
    check_sha_path(sha, "a photo")
}

/// Checks the path segment of a content-addressed `what`: 64 lowercase hex digits.
pub(crate) fn check_sha_path(sha: &str, what: &str) -> Result<(), ApiError> {
    if is_sha256_hex(sha) {
        Ok(())
    } else {
        Err(ApiError::bad_path(format!(
            "{what} path is its SHA-256 as 64 lowercase hex digits"
        )))
    }
}

pub use waystation_core::packs::sha256_hex;

/// Checks an uploaded photo against its path: size, hash, image type. Returns the media type.
pub fn check_upload(sha: &str, bytes: &[u8]) -> Result<&'static str, ApiError> {
    check_path(sha)?;
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(ApiError::too_large(MAX_PHOTO_BYTES));
    }
    if sha256_hex(bytes) != sha {
        return Err(ApiError::bad_photo(
            "the bytes' SHA-256 is not the one in the path",
        ));
    }
    image_type(bytes).ok_or_else(|| ApiError::bad_photo("the bytes are not a JPEG, PNG or WebP"))
}

/// Stores a checked photo and records `uploader` as one of its uploaders. Returns true when
/// this account was not an uploader of these bytes before (answered `201`), false when it was
/// (`200`).
///
/// Whether someone else uploaded the same bytes first does not show in the answer: the
/// second uploader becomes an uploader too (it holds the bytes), and gets the same `201`.
pub fn put(
    db: &Db,
    uploader: &Account,
    sha: &str,
    mime: &str,
    bytes: &[u8],
    now: &str,
) -> Result<bool, ApiError> {
    let mut conn = db.conn()?;
    if is_uploader(&conn, &uploader.user, sha)? {
        return Ok(false);
    }
    let _gate = db.write_gate()?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    crate::quota::check_photo_upload(&tx, db.quotas(), &uploader.user, bytes.len() as u64)?;
    tx.execute(
        "INSERT OR IGNORE INTO photos (sha256, bytes, mime, size, uploader, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![sha, bytes, mime, bytes.len() as i64, uploader.user, now],
    )?;
    let n = tx.execute(
        "INSERT OR IGNORE INTO photo_uploaders (sha256, user_id, uploaded_at) \
         VALUES (?1, ?2, ?3)",
        params![sha, uploader.user, now],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

/// Whether `user` uploaded the photo `sha`.
fn is_uploader(conn: &Connection, user: &str, sha: &str) -> Result<bool, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM photo_uploaders WHERE sha256 = ?1 AND user_id = ?2)",
        )?
        .query_row([sha, user], |r| r.get(0))?)
}

/// The photos that `reports` (document ids) name and `author` has not uploaded, for reports
/// `author` wrote (others' are not listed). Whether someone else uploaded the same bytes
/// does not count: a report links only photos its author uploaded, and listing by existence
/// would tell which photos exist. A sync reply
/// lists them, so a device that believed a photo uploaded sends it again
/// (`SyncResponse::missing_photos`).
pub fn missing_for_reports<'a>(
    conn: &Connection,
    author: &Account,
    reports: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT rp.sha256 FROM report_photos rp JOIN docs d ON d.doc_id = rp.report_id \
         WHERE rp.report_id = ?1 AND d.owner = ?2 \
         AND NOT EXISTS (SELECT 1 FROM photo_uploaders pu \
         WHERE pu.sha256 = rp.sha256 AND pu.user_id = d.owner) ORDER BY rp.sha256",
    )?;
    let mut missing = Vec::new();
    for report in reports {
        let rows = stmt.query_map(params![report, author.user], |r| r.get::<_, String>(0))?;
        for sha in rows {
            missing.push(sha?);
        }
    }
    missing.sort();
    missing.dedup();
    Ok(missing)
}

/// A photo's media type and size, for `reader`: `404` when there is none, or when the reader
/// did not upload it and may read no report that links it, alike (see [`readable`]). What a
/// `HEAD` answers, without reading the bytes.
pub fn head(db: &Db, reader: &Account, sha: &str) -> Result<(String, u64), ApiError> {
    check_path(sha)?;
    let conn = db.conn()?;
    readable(&conn, reader, sha)
}

/// A photo's bytes and media type, for `reader`, with [`head`]'s checks.
pub fn get(db: &Db, reader: &Account, sha: &str) -> Result<(Vec<u8>, String), ApiError> {
    check_path(sha)?;
    let conn = db.conn()?;
    let (mime, _) = readable(&conn, reader, sha)?;
    let bytes: Vec<u8> = conn
        .prepare_cached("SELECT bytes FROM photos WHERE sha256 = ?1")?
        .query_row([sha], |r| r.get(0))?;
    Ok((bytes, mime))
}

/// The one answer for a photo this account may not read, whether it exists or not: same
/// status, code, message and headers, so a hash learnt elsewhere (an Open311 `media_url`)
/// does not even tell that the server holds the photo.
fn unreadable() -> ApiError {
    ApiError::not_found("no photo with this SHA-256 that this account may read")
}

/// Which photos a report links, as SQL over `report_photos rp` joined to its report `docs d`:
/// those its author uploaded. Naming a hash in one's own report links nothing one did not
/// upload, so a hash is not a capability.
pub(crate) const LINKED: &str = "EXISTS (SELECT 1 FROM photo_uploaders pu \
     WHERE pu.sha256 = rp.sha256 AND pu.user_id = d.owner)";

/// The media type and size of a photo `reader` may read: one it uploaded, or one linked by a
/// report it may read ([`LINKED`]). Anything else is [`unreadable`].
fn readable(conn: &Connection, reader: &Account, sha: &str) -> Result<(String, u64), ApiError> {
    let row: Option<(String, i64)> = conn
        .prepare_cached("SELECT mime, size FROM photos WHERE sha256 = ?1")?
        .query_row([sha], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((mime, size)) = row else {
        return Err(unreadable());
    };
    if !is_uploader(conn, &reader.user, sha)? {
        let (admin, follow_up) = readable_flags(reader);
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM report_photos rp JOIN docs d ON d.doc_id = rp.report_id \
             WHERE rp.sha256 = ?4 AND {READABLE} AND {LINKED})"
        );
        let allowed: bool = conn
            .prepare_cached(&sql)?
            .query_row(params![reader.user, admin, follow_up, sha], |r| r.get(0))?;
        if !allowed {
            return Err(unreadable());
        }
    }
    Ok((mime, size.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_types_by_magic() {
        assert_eq!(image_type(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8L"), Some("image/webp"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(image_type(b"<svg"), None);
        assert_eq!(image_type(b""), None);
    }

    #[test]
    fn uploads_are_checked_against_their_path() {
        let jpeg = b"\xFF\xD8\xFF\xE0 a tiny jpeg".to_vec();
        let sha = sha256_hex(&jpeg);
        assert_eq!(check_upload(&sha, &jpeg).unwrap(), "image/jpeg");
        assert_eq!(
            check_upload(&sha256_hex(b"x"), &jpeg).unwrap_err().code,
            "bad_photo"
        );
        let text = b"hello".to_vec();
        assert_eq!(
            check_upload(&sha256_hex(&text), &text).unwrap_err().code,
            "bad_photo"
        );
        assert_eq!(
            check_upload("../../etc/passwd", &jpeg).unwrap_err().code,
            "bad_path"
        );
        assert_eq!(
            check_upload(&sha.to_uppercase(), &jpeg).unwrap_err().code,
            "bad_path"
        );
    }
}
