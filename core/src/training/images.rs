//! Lesson images: the bytes a lesson's `images` reference by SHA-256, stored as
//! content-addressed files in `training-images/` under the data directory.
//!
//! A training pack carries only the references, so a pack stays small and an image shared by
//! two lessons or two pack versions is stored once. The device fetches the images it lacks
//! after installing a pack ([`crate::Waystation::fetch_packs`]) and again at each later fetch
//! until it has them all; a lesson opens without them, and the shell shows each image's
//! alternative text until [`crate::Waystation::training_image_path`] finds its file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::pack::Image;
use crate::error::{Error, Result};
use crate::store::blobs::blob_path;

/// The folder of training images in the data directory.
pub const TRAINING_IMAGE_DIR: &str = "training-images";

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
    crate::reports::image_type(bytes)
        .ok_or_else(|| Error::invalid(format!("{what} is not a JPEG, PNG or WebP file")))
}

/// Checks downloaded image bytes against the reference they were fetched for: the size limit
/// and an image signature ([`lesson_image_type`]), the SHA-256, and the media type the lesson
/// declares, if it does. Returns the media type. The error names what is wrong.
pub fn check_image_bytes(image: &Image, bytes: &[u8]) -> Result<&'static str> {
    let sha = &image.sha256;
    let kind = lesson_image_type(&format!("training image {sha}"), bytes)?;
    let got = crate::packs::sha256_hex(bytes);
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

impl crate::Waystation {
    /// The file of a lesson image, once it is on the device; `None` until it is fetched. A
    /// `sha256` that is not 64 lowercase hex digits is [`Error::InvalidInput`].
    pub fn training_image_path(&self, sha256: &str) -> Result<Option<PathBuf>> {
        let path = blob_path(self.data_dir(), TRAINING_IMAGE_DIR, sha256, "image")?;
        Ok(path.is_file().then_some(path))
    }

    /// The images that installed lessons reference and the device does not have yet, each
    /// once, by SHA-256.
    pub fn missing_training_images(&self) -> Result<Vec<Image>> {
        let conn = self.store().read();
        let mut stmt = conn.prepare_cached("SELECT id, images FROM training_lessons")?;
        let mut rows = stmt.query([])?;
        let mut wanted = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let lesson: String = row.get(0)?;
            let json: String = row.get(1)?;
            let images: Vec<Image> = serde_json::from_str(&json)
                .map_err(|e| Error::Internal(format!("stored images of lesson '{lesson}': {e}")))?;
            for image in images {
                wanted.entry(image.sha256.clone()).or_insert(image);
            }
        }
        drop(rows);
        let mut missing = Vec::new();
        for (sha, image) in wanted {
            if self.training_image_path(&sha)?.is_none() {
                missing.push(image);
            }
        }
        Ok(missing)
    }

    /// Stores fetched image bytes after [`check_image_bytes`]. Returns the file.
    pub(crate) fn store_training_image(&self, image: &Image, bytes: &[u8]) -> Result<PathBuf> {
        check_image_bytes(image, bytes)?;
        crate::store::blobs::write_blob(self.data_dir(), TRAINING_IMAGE_DIR, &image.sha256, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::LocalizedText;

    fn image(bytes: &[u8], media_type: Option<&str>) -> Image {
        Image {
            sha256: crate::packs::sha256_hex(bytes),
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
        let ws = crate::Waystation::open(dir.path(), crate::Config::default()).unwrap();
        for bad in ["../x", "", &"A".repeat(64)] {
            assert!(matches!(
                ws.training_image_path(bad),
                Err(Error::InvalidInput(_))
            ));
        }
        assert_eq!(ws.training_image_path(&"a".repeat(64)).unwrap(), None);
        assert!(ws.missing_training_images().unwrap().is_empty());
    }
}
