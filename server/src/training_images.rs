//! Lesson images: content-addressed bytes that training packs reference by SHA-256. An admin
//! adds them with `pack publish --image`; any signed-in account downloads them.

use waystation_core::packs::sha256_hex;
use waystation_core::training::images::lesson_image_type;

use crate::db::Db;
use crate::error::{AdminError, ApiError};
use crate::store::StoreTx;

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
    tx: &dyn StoreTx,
    sha: &str,
    mime: &str,
    bytes: &[u8],
    now: &str,
) -> Result<bool, AdminError> {
    Ok(tx.put_training_image(sha, mime, bytes, now)?)
}
/// The media type of a stored image, `None` when the server does not have it.
pub fn stored_type(tx: &dyn StoreTx, sha: &str) -> Result<Option<String>, AdminError> {
    Ok(tx.training_image_type(sha)?)
}
/// An image's bytes and media type: `400` for a path that is not a SHA-256, `404` when the
/// server has none.
pub fn get(db: &Db, sha: &str) -> Result<(Vec<u8>, String), ApiError> {
    check_path(sha)?;
    db.read()?
        .training_image(sha)?
        .ok_or_else(|| ApiError::not_found("no training image with this SHA-256"))
}
/// Checks an image path segment: 64 lowercase hex digits.
pub fn check_path(sha: &str) -> Result<(), ApiError> {
    crate::photos::check_sha_path(sha, "a training image")
}
