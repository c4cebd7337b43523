//! Photo evidence: metadata stripping and content-addressed storage.
//!
//! A photo arrives as the camera wrote it (JPEG, PNG or WebP). Before anything is stored every
//! metadata block is removed at the container level, wherever it stands in the file (no pixel
//! is decoded or re-encoded): EXIF (including GPS), XMP, IPTC, comments, text chunks,
//! thumbnails and trailers. Only what a decoder needs is kept, by allow-list ([`jpeg`],
//! [`png`], [`webp`]), plus the one piece of EXIF that changes how the photo looks: its
//! orientation, rewritten into a new EXIF block that holds nothing else ([`exif`]), so that a
//! portrait photo is still shown upright.
//!
//! The stripped bytes are stored once under `photos/<sha256>` in the data directory (written
//! to a temporary file, synced, then renamed), so the same photo attached twice, to one report
//! or several, takes the space of one. Temporary files a crash left behind, and photos that no
//! document on the device names any more, are removed when the data directory is opened
//! ([`sweep`], which states the rule).

mod exif;
mod jpeg;
mod png;
pub mod sweep;
#[cfg(test)]
mod tests;
mod webp;

use img_parts::Bytes;
use serde::Serialize;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::packs::sha256_hex;

pub use sweep::PhotoSweep;

/// Name of the photo folder inside the data directory (the store's, which writes the files).
pub use crate::store::blobs::PHOTO_DIR;
/// The media type an image's first bytes claim (moved down to the utilities, where training
/// finds it too).
pub use crate::util::image::image_type;

/// A photo attached to a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportPhoto {
    /// SHA-256 of the stored (stripped) bytes, lowercase hex; also the file name.
    pub sha256: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub media_type: String,
    /// Size of the stored file in bytes.
    pub size_bytes: i64,
    /// Width in pixels, when the container says.
    pub width: Option<i32>,
    /// Height in pixels, when the container says.
    pub height: Option<i32>,
}

/// A photo with its metadata removed, ready to store.
pub(crate) struct StrippedPhoto {
    pub bytes: Vec<u8>,
    pub info: ReportPhoto,
    /// The EXIF orientation (1..=8) the stored bytes carry; 1 (the default) when they carry no
    /// EXIF at all.
    #[cfg_attr(not(test), allow(dead_code))]
    pub orientation: u16,
}

/// A stripped PNG or WebP: its bytes, its size when the container says, and the orientation
/// its new EXIF block holds (1 when it has none).
type StrippedContainer = (Bytes, Option<(u32, u32)>, u16);

fn corrupt(kind: &str, e: img_parts::Error) -> Error {
    Error::invalid(format!(
        "photo is not a readable {kind} file ({e}); it may be corrupt or truncated"
    ))
}

/// Where a JPEG's end-of-image marker ends: nothing after it is kept. A file without an end
/// marker is truncated.
#[cfg(test)]
pub(crate) fn jpeg_end_for_tests(b: &[u8]) -> Result<usize> {
    jpeg::strip(b).map(|j| j.end)
}

/// Recognises the format, strips every metadata block and describes the result. Refuses
/// anything that is not a complete JPEG, PNG or WebP file.
pub(crate) fn strip(input: &[u8]) -> Result<StrippedPhoto> {
    let (media_type, out, dims, orientation) = match image_type(input) {
        Some(t @ "image/jpeg") => {
            let j = jpeg::strip(input)?;
            (t, j.bytes, Some(j.dims), j.orientation)
        }
        Some(t @ "image/png") => {
            let (out, dims, o) = png::strip(Bytes::copy_from_slice(input))?;
            (t, out.to_vec(), dims, o)
        }
        Some(t) => {
            let (out, dims, o) = webp::strip(Bytes::copy_from_slice(input))?;
            (t, out.to_vec(), dims, o)
        }
        None => {
            return Err(Error::invalid(
                "photo is not a JPEG, PNG or WebP image (unrecognised file signature)",
            ));
        }
    };
    let info = ReportPhoto {
        sha256: sha256_hex(&out),
        media_type: media_type.to_string(),
        size_bytes: i64::try_from(out.len()).unwrap_or(i64::MAX),
        width: dims.map(|d| i32::try_from(d.0).unwrap_or(i32::MAX)),
        height: dims.map(|d| i32::try_from(d.1).unwrap_or(i32::MAX)),
    };
    Ok(StrippedPhoto {
        bytes: out,
        info,
        orientation,
    })
}

/// The file of a stored photo. Refuses anything but a SHA-256 in lowercase hex.
pub(crate) fn photo_path(data_dir: &Path, sha256: &str) -> Result<PathBuf> {
    crate::store::blobs::blob_path(data_dir, PHOTO_DIR, sha256, "photo")
}

/// Stores the photo under its hash unless it is already there, durably.
pub(crate) fn store(data_dir: &Path, photo: &StrippedPhoto) -> Result<PathBuf> {
    store_bytes(data_dir, &photo.info.sha256, &photo.bytes)
}

/// Writes `bytes` as the photo file named `sha256` (the caller has checked that it is their
/// SHA-256), durably and atomically; a file already there is kept.
pub(crate) fn store_bytes(data_dir: &Path, sha256: &str, bytes: &[u8]) -> Result<PathBuf> {
    crate::store::blobs::write_blob(data_dir, PHOTO_DIR, sha256, bytes)
}
