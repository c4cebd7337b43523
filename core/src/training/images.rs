//! Lesson images: the bytes a lesson's `images` reference by SHA-256, stored as
//! content-addressed files in `training-images/` under the data directory.
//!
//! A training pack carries only the references, so a pack stays small and an image shared by
//! two lessons or two pack versions is stored once. The device fetches the images it lacks
//! after installing a pack (the pack fetch, `ws.packs().fetch(..)`, through [`missing_images`]
//! and [`store_image`]) and again at each later fetch until it has them all; a lesson opens
//! without them, and the shell shows each image's alternative text until
//! [`Training::image_path`](super::Training::image_path) finds its file.

use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::pack::LessonImage;
use crate::error::{Error, Result};
use crate::store::blobs::blob_path;

/// The folder of training images in the data directory (defined with the blob writer, in the
/// store, so that the photo sweep can clear it without depending on training).
pub use crate::store::blobs::TRAINING_IMAGE_DIR;

/// The largest training image a device accepts, in bytes (the server's limit too).
pub const MAX_TRAINING_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// Checks that `bytes` can be a lesson image: at most [`MAX_TRAINING_IMAGE_BYTES`], with a
/// JPEG, PNG or WebP signature. Returns the media type; the error names `what` was checked.
/// The server checks what an admin adds with it, the device what it downloads.
pub fn lesson_image_type(what: &str, bytes: &[u8]) -> Result<&'static str> {
    if bytes.len() > MAX_TRAINING_IMAGE_BYTES {
        return Err(Error::invalid(format!(
            "{what} is {} bytes; a lesson image may have at most {MAX_TRAINING_IMAGE_BYTES}",
            bytes.len()
        )));
    }
    crate::util::image::image_type(bytes)
        .ok_or_else(|| Error::invalid(format!("{what} is not a JPEG, PNG or WebP file")))
}

/// Checks downloaded image bytes against the reference they were fetched for: the size limit
/// and an image signature ([`lesson_image_type`]), the SHA-256, and the media type the lesson
/// declares, if it does. Returns the media type. The error names what is wrong.
pub fn check_image_bytes(image: &LessonImage, bytes: &[u8]) -> Result<&'static str> {
    let sha = &image.sha256;
    let kind = lesson_image_type(&format!("training image {sha}"), bytes)?;
    let got = crate::util::hash::sha256_hex(bytes);
    if &got != sha {
        return Err(Error::invalid(format!(
            "training image {sha} arrived with SHA-256 {got}; not stored"
        )));
    }
    if let Some(declared) = &image.media_type
        && declared != kind
    {
        return Err(Error::invalid(format!(
            "training image {sha} is {kind}, but its lesson declares {declared}"
        )));
    }
    Ok(kind)
}

/// The file of a lesson image under `data_dir`, once it is on the device; `None` until it is
/// fetched. A `sha256` that is not 64 lowercase hex digits is [`Error::InvalidInput`].
pub(crate) fn image_path(data_dir: &Path, sha256: &str) -> Result<Option<PathBuf>> {
    let path = blob_path(data_dir, TRAINING_IMAGE_DIR, sha256, "image")?;
    Ok(path.is_file().then_some(path))
}

/// The images that installed lessons reference and `data_dir` does not hold yet, each once,
/// by SHA-256. The pack fetch downloads these after an import and at every later fetch.
pub(crate) fn missing_images(conn: &Connection, data_dir: &Path) -> Result<Vec<LessonImage>> {
    let mut stmt = conn.prepare_cached("SELECT id, images FROM training_lessons")?;
    let mut rows = stmt.query([])?;
    let mut wanted = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let lesson: String = row.get(0)?;
        let json: String = row.get(1)?;
        let images: Vec<LessonImage> = serde_json::from_str(&json)
            .map_err(|e| Error::Internal(format!("stored images of lesson '{lesson}': {e}")))?;
        for image in images {
            wanted.entry(image.sha256.clone()).or_insert(image);
        }
    }
    drop(rows);
    let mut missing = Vec::new();
    for (sha, image) in wanted {
        if image_path(data_dir, &sha)?.is_none() {
            missing.push(image);
        }
    }
    Ok(missing)
}

/// Stores fetched image bytes under `data_dir` after [`check_image_bytes`]. Returns the file.
/// The pack fetch calls it for each image [`missing_images`] named.
pub(crate) fn store_image(data_dir: &Path, image: &LessonImage, bytes: &[u8]) -> Result<PathBuf> {
    check_image_bytes(image, bytes)?;
    crate::store::blobs::write_blob(data_dir, TRAINING_IMAGE_DIR, &image.sha256, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::LocalizedText;

    fn image(bytes: &[u8], media_type: Option<&str>) -> LessonImage {
        LessonImage {
            sha256: crate::util::hash::sha256_hex(bytes),
            alt: LocalizedText {
                zh: "图".into(),
                en: None,
            },
            media_type: media_type.map(str::to_string),
        }
    }

    #[test]
    fn downloaded_bytes_must_match_their_reference() {
        let png = b"\x89PNG\r\n\x1a\n and the rest".to_vec();
        assert_eq!(
            check_image_bytes(&image(&png, Some("image/png")), &png).unwrap(),
            "image/png"
        );
        assert_eq!(
            check_image_bytes(&image(&png, None), &png).unwrap(),
            "image/png"
        );
        let problems = [
            (image(b"other", None), png.clone(), "arrived with SHA-256"),
            (
                image(&png, Some("image/jpeg")),
                png.clone(),
                "declares image/jpeg",
            ),
            (
                image(b"GIF89a", None),
                b"GIF89a".to_vec(),
                "not a JPEG, PNG or WebP",
            ),
        ];
        for (reference, bytes, why) in problems {
            let err = check_image_bytes(&reference, &bytes).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput(m) if m.contains(why)),
                "{err:?}"
            );
        }
        let big = [png.clone(), vec![0; MAX_TRAINING_IMAGE_BYTES]].concat();
        let err = check_image_bytes(&image(&big, None), &big).unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
    }

    #[test]
    fn image_paths_take_only_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let ws = crate::Waystation::open(dir.path(), Default::default()).unwrap();
        for bad in ["../x", "", &"A".repeat(64)] {
            assert!(matches!(
                ws.training().image_path(bad),
                Err(Error::InvalidInput(_))
            ));
        }
        assert_eq!(ws.training().image_path(&"a".repeat(64)).unwrap(), None);
        assert!(ws.training().missing_images().unwrap().is_empty());
    }
}
