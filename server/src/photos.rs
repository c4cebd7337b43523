//! Photos: content-addressed by SHA-256, uploaded idempotently, read by their uploaders and
//! by whoever may read a report whose author uploaded them. A hash alone grants nothing: it
//! leaks (reports, feeds, Open311 `media_url`s), so naming it in one's own report links only
//! bytes one uploaded, and a photo one may not read is answered exactly like a missing one.

use waystation_core::sync::policy::Account;
use waystation_core::sync::protocol::{MAX_PHOTO_BYTES, is_sha256_hex};

use crate::db::Db;
use crate::error::ApiError;
use crate::store::{NewPhoto, StoreTx};
use crate::sync::reader;

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
    if db.read()?.is_uploader(&uploader.user, sha)? {
        return Ok(false);
    }
    let tx = db.write()?;
    crate::quota::check_photo_upload(tx.as_ref(), db.quotas(), &uploader.user, bytes.len() as u64)?;
    let n = tx.insert_photo(&NewPhoto {
        sha,
        bytes,
        mime,
        uploader: &uploader.user,
        now,
    })?;
    tx.commit()?;
    Ok(n)
}

/// The photos that `reports` (document ids) name and `author` has not uploaded, for reports
/// `author` wrote (others' are not listed). Whether someone else uploaded the same bytes
/// does not count: a report links only photos its author uploaded, and listing by existence
/// would tell which photos exist. A sync reply
/// lists them, so a device that believed a photo uploaded sends it again
/// (`SyncResponse::missing_photos`). One store query for all of them, none when there are
/// none.
pub fn missing_for_reports<'a>(
    tx: &dyn StoreTx,
    author: &Account,
    reports: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, ApiError> {
    let reports: Vec<&str> = reports.into_iter().collect();
    if reports.is_empty() {
        return Ok(Vec::new());
    }
    Ok(tx.missing_photos(&reports, &author.user)?)
}

/// A photo's media type and size, for `reader`: `404` when there is none, or when the reader
/// did not upload it and may read no report that links it, alike (see [`readable`]). What a
/// `HEAD` answers, without reading the bytes.
pub fn head(db: &Db, reader: &Account, sha: &str) -> Result<(String, u64), ApiError> {
    check_path(sha)?;
    readable(db.read()?.as_ref(), reader, sha)
}

/// A photo's bytes and media type, for `reader`, with [`head`]'s checks.
pub fn get(db: &Db, reader: &Account, sha: &str) -> Result<(Vec<u8>, String), ApiError> {
    check_path(sha)?;
    let tx = db.read()?;
    let (mime, _) = readable(tx.as_ref(), reader, sha)?;
    let bytes = tx.photo_bytes(sha)?.ok_or_else(unreadable)?;
    Ok((bytes, mime))
}

/// The one answer for a photo this account may not read, whether it exists or not: same
/// status, code, message and headers, so a hash learnt elsewhere (an Open311 `media_url`)
/// does not even tell that the server holds the photo.
fn unreadable() -> ApiError {
    ApiError::not_found("no photo with this SHA-256 that this account may read")
}

/// The media type and size of a photo `reader` may read: one it uploaded, or one linked by a
/// report it may read (the author uploaded it). Anything else is [`unreadable`].
fn readable(tx: &dyn StoreTx, reader_: &Account, sha: &str) -> Result<(String, u64), ApiError> {
    let Some((mime, size)) = tx.photo_meta(sha)? else {
        return Err(unreadable());
    };
    if !tx.is_uploader(&reader_.user, sha)?
        && !tx.photo_readable_through_reports(&reader(reader_), sha)?
    {
        return Err(unreadable());
    }
    Ok((mime, size))
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
