//! Photos: content-addressed by SHA-256, uploaded idempotently, read by their uploader and by
//! whoever may read a report that names them.

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

/// Stores a checked photo. Returns true when it was new, false when it was there already.
pub fn put(
    db: &Db,
    uploader: &Account,
    sha: &str,
    mime: &str,
    bytes: &[u8],
    now: &str,
) -> Result<bool, ApiError> {
    let conn = db.conn()?;
    if exists(&conn, sha)? {
        return Ok(false);
    }
    let _gate = db.write_gate();
    let n = conn.execute(
        "INSERT OR IGNORE INTO photos (sha256, bytes, mime, size, uploader, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![sha, bytes, mime, bytes.len() as i64, uploader.user, now],
    )?;
    Ok(n == 1)
}

/// The photos that `reports` (document ids) name and the server does not hold, for reports
/// `author` wrote (others' are not listed: that would tell which photos exist). A sync reply
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
         AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = rp.sha256) ORDER BY rp.sha256",
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

fn exists(conn: &Connection, sha: &str) -> Result<bool, ApiError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM photos WHERE sha256 = ?1)")?
        .query_row([sha], |r| r.get(0))?)
}

/// A photo's media type and size, for `reader`: `404` when there is none, `403` when the
/// reader did not upload it and may read no report that names it. What a `HEAD` answers,
/// without reading the bytes.
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

/// The media type and size of a photo `reader` may read (see [`head`]).
fn readable(conn: &Connection, reader: &Account, sha: &str) -> Result<(String, u64), ApiError> {
    let row: Option<(String, String, i64)> = conn
        .prepare_cached("SELECT uploader, mime, size FROM photos WHERE sha256 = ?1")?
        .query_row([sha], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((uploader, mime, size)) = row else {
        return Err(ApiError::not_found("no photo with this SHA-256"));
    };
    if uploader != reader.user {
        let (admin, follow_up) = readable_flags(reader);
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM report_photos rp JOIN docs d ON d.doc_id = rp.report_id \
             WHERE rp.sha256 = ?4 AND {READABLE})"
        );
        let allowed: bool = conn
            .prepare_cached(&sql)?
            .query_row(params![reader.user, admin, follow_up, sha], |r| r.get(0))?;
        if !allowed {
            return Err(ApiError::forbidden(
                "this photo is in no report this account may read",
            ));
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
