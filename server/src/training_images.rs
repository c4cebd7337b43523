//! Lesson images: content-addressed bytes that training packs reference by SHA-256. An admin
//! adds them with `pack publish --image`; any signed-in account downloads them.

use rusqlite::{Connection, OptionalExtension, params};
use waystation_core::packs::sha256_hex;
use waystation_core::training::images::lesson_image_type;

use crate::db::Db;
use crate::error::{AdminError, ApiError};

/// Checks an image an admin adds: size and signature (`lesson_image_type`, as devices check
/// it). Returns its SHA-256 and media type.
pub fn check(bytes: &[u8]) -> Result<(String, &'static str), AdminError> {
    let mime = lesson_image_type("the image", bytes).map_err(|e| match e {
        waystation_core::Error::InvalidInput(why) => AdminError::Invalid(why),
        other => AdminError::Other(other.to_string()),
    })?;
    Ok((sha256_hex(bytes), mime))
}

/// Stores a checked image. Returns whether it was new.
pub fn put(
    conn: &Connection,
    sha: &str,
    mime: &str,
    bytes: &[u8],
    now: &str,
) -> Result<bool, AdminError> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO training_images (sha256, bytes, mime, size, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sha, bytes, mime, bytes.len() as i64, now],
    )?;
    Ok(n == 1)
}

/// The media type of a stored image, `None` when the server does not have it.
pub fn stored_type(conn: &Connection, sha: &str) -> Result<Option<String>, rusqlite::Error> {
    conn.prepare_cached("SELECT mime FROM training_images WHERE sha256 = ?1")?
        .query_row([sha], |r| r.get(0))
        .optional()
}

/// An image's bytes and media type: `400` for a path that is not a SHA-256, `404` when the
/// server has none.
pub fn get(db: &Db, sha: &str) -> Result<(Vec<u8>, String), ApiError> {
    check_path(sha)?;
    let conn = db.conn()?;
    conn.prepare_cached("SELECT bytes, mime FROM training_images WHERE sha256 = ?1")?
        .query_row([sha], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| ApiError::not_found("no training image with this SHA-256"))
}

/// Checks an image path segment: 64 lowercase hex digits.
pub fn check_path(sha: &str) -> Result<(), ApiError> {
    crate::photos::check_sha_path(sha, "a training image")
}
