//! Photo evidence: metadata stripping and content-addressed storage.
//!
//! A photo arrives as the camera wrote it (JPEG, PNG or WebP). Before anything is stored every
//! metadata block is removed at the container level with `img-parts` (no pixel is decoded or
//! re-encoded): EXIF (including GPS), XMP, IPTC, comments and text chunks. Only what a
//! decoder needs is kept, by allow-list: for JPEG the JFIF and Adobe segments and the ICC
//! profile; for PNG the critical chunks plus colour, transparency, density and animation
//! chunks; for WebP the image, alpha, animation and ICC chunks. Data after a JPEG's end marker
//! (multi-picture trailers with their own EXIF) is cut off.
//!
//! The stripped bytes are stored once under `photos/<sha256>` in the data directory (written
//! to a temporary file, synced, then renamed), so the same photo attached twice, to one report
//! or several, takes the space of one. EXIF orientation goes with the rest of EXIF, so the shell
//! should hand over photos already upright.

use img_parts::jpeg::{Jpeg, markers};
use img_parts::png::Png;
use img_parts::webp::{self, WebP};
use img_parts::{Bytes, ImageEXIF};
use serde::Serialize;
use std::path::{Path, PathBuf};

use super::{Report, ReportId, ReportRules, document, require_draft};
use crate::error::{Error, Result};
use crate::packs::sha256_hex;

/// Name of the photo folder inside the data directory.
pub const PHOTO_DIR: &str = "photos";

/// A photo attached to a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportPhoto {
    /// SHA-256 of the stored (stripped) bytes, lowercase hex; also the file name.
    pub sha256: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub media_type: String,
    /// Size of the stored file in bytes.
    pub size_bytes: u64,
    /// Width in pixels, when the container says.
    pub width: Option<u32>,
    /// Height in pixels, when the container says.
    pub height: Option<u32>,
}

/// A photo with its metadata removed, ready to store.
pub(crate) struct StrippedPhoto {
    pub bytes: Vec<u8>,
    pub info: ReportPhoto,
}

fn corrupt(kind: &str, e: img_parts::Error) -> Error {
    Error::invalid(format!(
        "photo is not a readable {kind} file ({e}); it may be corrupt or truncated"
    ))
}

const JPEG_KEEP_APP: [&[u8]; 3] = [b"JFIF\0", b"Adobe", b"ICC_PROFILE\0"];

fn strip_jpeg(input: Bytes) -> Result<(Bytes, Option<(u32, u32)>)> {
    let mut jpeg = Jpeg::from_bytes(input).map_err(|e| corrupt("JPEG", e))?;
    let keep = |marker: u8, contents: &Bytes| {
        let app = (markers::APP0..=markers::APP15).contains(&marker);
        if app {
            JPEG_KEEP_APP.iter().any(|p| contents.starts_with(p))
        } else {
            marker != markers::COM
        }
    };
    jpeg.segments_mut()
        .retain(|s| keep(s.marker(), s.contents()));
    if jpeg
        .segments()
        .last()
        .is_none_or(|s| s.marker() != markers::SOS)
    {
        return Err(Error::invalid(
            "photo is a JPEG without image data; it may be corrupt or truncated",
        ));
    }
    let dims = jpeg.dimensions().map(|(w, h)| (u32::from(w), u32::from(h)));
    if dims.is_none() {
        return Err(Error::invalid(
            "photo is a JPEG without a frame header; it may be corrupt",
        ));
    }
    let encoded = jpeg.encoder().bytes();
    let end = jpeg_end(&encoded)?;
    Ok((encoded.slice(..end), dims))
}

/// Where a JPEG's end-of-image marker ends, walking the markers after the first scan (later
/// scans and tables of progressive JPEGs) so that nothing after it is kept. A file without an
/// end marker is truncated.
fn jpeg_end(b: &[u8]) -> Result<usize> {
    // Skip the header segments img-parts already checked: find the first start-of-scan.
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            i += 1;
            continue;
        }
        let m = b[i + 1];
        if m == 0xFF {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        i += 2 + len;
        if m == markers::SOS {
            break;
        }
    }
    // Entropy-coded data: 0xFF is followed by 0x00 (stuffing), a restart marker, or a marker.
    while i + 1 < b.len() {
        if b[i] != 0xFF {
            i += 1;
            continue;
        }
        match b[i + 1] {
            0x00 | 0xFF | 0xD0..=0xD7 => i += 1,
            markers::EOI => return Ok(i + 2),
            _ if i + 3 < b.len() => {
                i += 2 + usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
            }
            _ => break,
        }
    }
    Err(Error::invalid(
        "photo is a JPEG without its end marker; it is truncated",
    ))
}

#[cfg(test)]
pub(crate) fn jpeg_end_for_tests(b: &[u8]) -> Result<usize> {
    jpeg_end(b)
}

const PNG_KEEP: [&[u8; 4]; 14] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

fn strip_png(input: Bytes) -> Result<(Bytes, Option<(u32, u32)>)> {
    let mut png = Png::from_bytes(input).map_err(|e| corrupt("PNG", e))?;
    let complete = png.chunks().first().map(|c| c.kind()) == Some(*b"IHDR")
        && png.chunks().last().map(|c| c.kind()) == Some(*b"IEND")
        && png.chunks().iter().any(|c| &c.kind() == b"IDAT");
    if !complete {
        return Err(Error::invalid(
            "photo is a PNG without a header, image data or end chunk; it is corrupt or truncated",
        ));
    }
    png.chunks_mut().retain(|c| PNG_KEEP.contains(&&c.kind()));
    let dims = png.dimensions();
    Ok((png.encoder().bytes(), dims))
}

const WEBP_KEEP: [[u8; 4]; 7] = [
    webp::CHUNK_VP8X,
    webp::CHUNK_VP8,
    webp::CHUNK_VP8L,
    webp::CHUNK_ALPH,
    webp::CHUNK_ANIM,
    webp::CHUNK_ANMF,
    webp::CHUNK_ICCP,
];

fn strip_webp(input: Bytes) -> Result<(Bytes, Option<(u32, u32)>)> {
    let mut webp = WebP::from_bytes(input).map_err(|e| corrupt("WebP", e))?;
    let has_image = [webp::CHUNK_VP8, webp::CHUNK_VP8L, webp::CHUNK_ANMF]
        .iter()
        .any(|id| webp.has_chunk(*id));
    if !has_image {
        return Err(Error::invalid(
            "photo is a WebP file without image data; it is corrupt or truncated",
        ));
    }
    webp.chunks_mut().retain(|c| WEBP_KEEP.contains(&c.id()));
    // Rewrites the VP8X flags so they no longer announce EXIF or XMP.
    webp.set_exif(None);
    let dims = webp.dimensions();
    Ok((webp.encoder().bytes(), dims))
}

/// The media type of a JPEG, PNG or WebP file, by its signature (first bytes); `None` for
/// anything else. It says what the file claims to be, not that it is complete.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Recognises the format, strips every metadata block and describes the result. Refuses
/// anything that is not a complete JPEG, PNG or WebP file.
pub(crate) fn strip(input: &[u8]) -> Result<StrippedPhoto> {
    let bytes = Bytes::copy_from_slice(input);
    let (media_type, (out, dims)) = match image_type(input) {
        Some(t @ "image/jpeg") => (t, strip_jpeg(bytes)?),
        Some(t @ "image/png") => (t, strip_png(bytes)?),
        Some(t) => (t, strip_webp(bytes)?),
        None => {
            return Err(Error::invalid(
                "photo is not a JPEG, PNG or WebP image (unrecognised file signature)",
            ));
        }
    };
    let out = out.to_vec();
    let info = ReportPhoto {
        sha256: sha256_hex(&out),
        media_type: media_type.to_string(),
        size_bytes: out.len() as u64,
        width: dims.map(|d| d.0),
        height: dims.map(|d| d.1),
    };
    Ok(StrippedPhoto { bytes: out, info })
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

impl crate::Waystation {
    pub(crate) fn data_dir(&self) -> &Path {
        self.store()
            .path()
            .parent()
            .unwrap_or_else(|| Path::new("."))
    }

    /// Attaches a photo (JPEG, PNG or WebP bytes as the camera wrote them) to a draft. All
    /// metadata (EXIF with GPS, XMP, comments) is stripped first; the result is stored once
    /// under its SHA-256, and attaching the same photo again changes nothing. Photos over
    /// `rules.max_photo_bytes`, beyond `rules.max_photos`, or that are not complete images are
    /// refused and the draft is left as it was.
    pub fn attach_report_photo(
        &self,
        id: &str,
        bytes: &[u8],
        rules: &ReportRules,
    ) -> Result<ReportPhoto> {
        rules.check()?;
        let id = ReportId::parse(id)?;
        if bytes.len() > rules.max_photo_bytes {
            return Err(Error::invalid(format!(
                "photo is {} bytes; at most {} bytes are allowed per photo",
                bytes.len(),
                rules.max_photo_bytes
            )));
        }
        let report = self.report(id.as_str())?;
        require_draft(&report, "edited")?;
        let stripped = strip(bytes)?;
        let info = stripped.info.clone();
        let room = |r: &Report| -> Result<()> {
            if !r.photos.iter().any(|p| p.sha256 == info.sha256)
                && r.photos.len() >= rules.max_photos
            {
                return Err(Error::invalid(format!(
                    "report '{id}' already has {} photos; at most {} are allowed",
                    r.photos.len(),
                    rules.max_photos
                )));
            }
            Ok(())
        };
        room(&report)?;
        store(self.data_dir(), &stripped)?;
        let now = self.now();
        self.edit_report(&id, |doc, report| {
            require_draft(report, "edited")?;
            room(report)?;
            document::put_photo(doc, &info, now)
        })?;
        Ok(info)
    }

    /// Detaches a photo from a draft, durably. The stored file stays (another report may use
    /// it). Refused when the draft has no such photo.
    pub fn remove_report_photo(&self, id: &str, sha256: &str) -> Result<Report> {
        let id = ReportId::parse(id)?;
        photo_path(self.data_dir(), sha256)?;
        self.edit_report(&id, |doc, report| {
            require_draft(report, "edited")?;
            if document::remove_photo(doc, sha256)? {
                Ok(())
            } else {
                Err(Error::NotFound(format!(
                    "report '{id}' has no photo {sha256}"
                )))
            }
        })?;
        self.report(id.as_str())
    }

    /// The file holding a stored photo (metadata already stripped).
    pub fn report_photo_path(&self, sha256: &str) -> Result<PathBuf> {
        let path = photo_path(self.data_dir(), sha256)?;
        if !path.is_file() {
            return Err(Error::NotFound(format!("no stored photo {sha256}")));
        }
        Ok(path)
    }
}
