//! Stripping a JPEG: every marker segment of the file is walked, wherever it stands.
//!
//! A JPEG is a start marker, then segments (a marker and a length-prefixed body), and after
//! each start-of-scan (SOS) header the entropy-coded data of that scan. A baseline JPEG has one
//! scan; a progressive one has several, and any segment may stand between them, before the end
//! marker, or between the tables of one scan and its SOS. An earlier version parsed only up to
//! the first scan (as `img-parts` does) and so kept an EXIF block with GPS, an XMP packet or a
//! comment placed between the scans of a progressive JPEG. This walker reads every segment and
//! keeps, by allow-list, only what a decoder needs:
//!
//! - frame headers (SOFn), Huffman and arithmetic tables (DHT, DAC), quantisation tables (DQT),
//!   restart intervals (DRI), line counts (DNL), hierarchical markers (DHP, EXP), scan headers
//!   (SOS) with their entropy-coded data, and the restart markers inside it;
//! - before the first scan only: the JFIF header (as its first 14 bytes, with the thumbnail
//!   size set to 0×0, because a JFIF thumbnail can show what the photo was before an edit), the
//!   Adobe colour-transform segment (its 12 defined bytes) and the ICC profile (colours);
//! - a new EXIF block holding only the orientation of the camera's first EXIF block, when it
//!   is not the default ([`super::exif`]).
//!
//! Everything else goes, wherever it stands: EXIF, XMP, IPTC/Photoshop, MPF, every other APPn,
//! comments, reserved markers, and anything after the end marker (multi-picture trailers with
//! their own EXIF). No pixel is decoded or re-encoded: the scans are copied byte for byte.

use super::exif;
use crate::error::{Error, Result};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;

const JFIF: &[u8] = b"JFIF\0";
/// "JFIF\0", version (2), units (1), densities (2 + 2), thumbnail width and height (1 + 1).
const JFIF_HEADER_LEN: usize = 14;
const ADOBE: &[u8] = b"Adobe";
/// "Adobe", version (2), flags (2 + 2), colour transform (1).
const ADOBE_LEN: usize = 12;
const ICC: &[u8] = b"ICC_PROFILE\0";

/// A stripped JPEG and what was learnt from it.
pub(super) struct StrippedJpeg {
    pub bytes: Vec<u8>,
    pub dims: (u32, u32),
    /// The orientation kept in the new EXIF block (1 when none was kept).
    pub orientation: u16,
    /// Where the end-of-image marker ends in the input; everything after it was cut.
    #[cfg_attr(not(test), allow(dead_code))]
    pub end: usize,
}

fn truncated() -> Error {
    Error::invalid("photo is a JPEG without its end marker; it is truncated")
}

/// What happens to one marker segment.
enum Keep<'a> {
    /// Copied as it is.
    Whole,
    /// Replaced by these contents (a shortened JFIF or Adobe segment).
    Contents(Vec<u8>),
    /// Left out.
    Drop,
    /// Left out, and its body is the camera's EXIF (read for the orientation).
    Exif(&'a [u8]),
}

/// Whether a marker is one a decoder needs, wherever it stands.
fn is_image_marker(m: u8) -> bool {
    // SOF0..SOF15 (including DHT C4 and DAC CC), except JPG (C8, reserved); DNL, DHP, EXP,
    // DQT, DRI, SOS.
    (matches!(m, 0xC0..=0xCF) && m != 0xC8) || matches!(m, 0xDA..=0xDF)
}

fn is_sof(m: u8) -> bool {
    matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC)
}

fn decide(marker: u8, body: &[u8], before_first_scan: bool, first_segment: bool) -> Keep<'_> {
    if is_image_marker(marker) {
        return Keep::Whole;
    }
    match marker {
        APP0 if first_segment && body.len() >= JFIF_HEADER_LEN && body.starts_with(JFIF) => {
            let mut jfif = body[..JFIF_HEADER_LEN].to_vec();
            jfif[12] = 0;
            jfif[13] = 0;
            Keep::Contents(jfif)
        }
        APP14 if before_first_scan && body.len() >= ADOBE_LEN && body.starts_with(ADOBE) => {
            Keep::Contents(body[..ADOBE_LEN].to_vec())
        }
        APP2 if before_first_scan && body.starts_with(ICC) => Keep::Whole,
        APP1 if before_first_scan && body.starts_with(exif::EXIF_PREFIX) => {
            Keep::Exif(&body[exif::EXIF_PREFIX.len()..])
        }
        _ => Keep::Drop,
    }
}

fn push_segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) -> Result<()> {
    let len = u16::try_from(body.len() + 2)
        .map_err(|_| Error::invalid("photo is a JPEG with a segment too long to keep"))?;
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    Ok(())
}

/// The end of the entropy-coded data that starts at `i`: the position of the `0xFF` of the
/// next marker that is not a stuffed byte (`FF 00`) or a restart marker (`FF D0`..`FF D7`).
fn entropy_end(b: &[u8], mut i: usize) -> Result<usize> {
    while i + 1 < b.len() {
        if b[i] == 0xFF && !matches!(b[i + 1], 0x00 | 0xFF | 0xD0..=0xD7) {
            return Ok(i);
        }
        i += 1;
    }
    Err(truncated())
}

/// Strips `b` (which starts with the JPEG signature). Refuses a file without a frame header,
/// without a scan, or without its end marker.
pub(super) fn strip(b: &[u8]) -> Result<StrippedJpeg> {
    if b.get(..2) != Some(&[0xFF, SOI]) {
        return Err(Error::invalid("photo is not a readable JPEG file"));
    }
    let mut out = vec![0xFF, SOI];
    // Where the orientation-only EXIF goes: after the JFIF header if there is one, else right
    // after the start marker (both standards want their segment first; JFIF wins by custom).
    let mut exif_at = out.len();
    let mut orientation = None;
    let mut dims = None;
    let mut scans = 0usize;
    let mut first_segment = true;
    let mut i = 2;
    loop {
        // Between segments: skip fill bytes and, as libjpeg does, stray bytes before a marker.
        while i < b.len() && b[i] != 0xFF {
            i += 1;
        }
        while i + 1 < b.len() && b[i + 1] == 0xFF {
            i += 1;
        }
        let Some(&marker) = b.get(i + 1) else {
            return Err(truncated());
        };
        match marker {
            EOI => {
                out.extend_from_slice(&[0xFF, EOI]);
                i += 2;
                break;
            }
            SOI => {
                return Err(Error::invalid(
                    "photo is a JPEG with a second start marker inside it; it is corrupt",
                ));
            }
            // Markers without a body: TEM and stray restart markers carry nothing; drop them.
            0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            _ => {}
        }
        let len = b
            .get(i + 2..i + 4)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
            .ok_or_else(truncated)?;
        if len < 2 {
            return Err(Error::invalid(
                "photo is a JPEG with a malformed segment length; it is corrupt",
            ));
        }
        let body = b.get(i + 4..i + 2 + len).ok_or_else(truncated)?;
        let next = i + 2 + len;
        if marker == SOS && dims.is_none() {
            return Err(Error::invalid(
                "photo is a JPEG without a frame header; it may be corrupt",
            ));
        }
        match decide(marker, body, scans == 0, first_segment) {
            Keep::Whole => push_segment(&mut out, marker, body)?,
            Keep::Contents(c) => {
                push_segment(&mut out, marker, &c)?;
                if marker == APP0 {
                    exif_at = out.len();
                }
            }
            Keep::Drop => {}
            Keep::Exif(tiff) => {
                if orientation.is_none() {
                    orientation = Some(exif::orientation(tiff).unwrap_or(1));
                }
            }
        }
        first_segment = false;
        if is_sof(marker) && dims.is_none() {
            // Precision (1 byte), then height and width. A height of 0 (set later by a DNL
            // segment) is refused like a missing header: the size must be known up front.
            let (h, w) = match body.get(1..5) {
                Some(d) => (
                    u32::from(u16::from_be_bytes([d[0], d[1]])),
                    u32::from(u16::from_be_bytes([d[2], d[3]])),
                ),
                None => (0, 0),
            };
            if w == 0 || h == 0 {
                return Err(Error::invalid(
                    "photo is a JPEG without a usable frame header; it may be corrupt",
                ));
            }
            dims = Some((w, h));
        }
        i = next;
        if marker == SOS {
            scans += 1;
            let end = entropy_end(b, i)?;
            out.extend_from_slice(&b[i..end]);
            i = end;
        }
    }
    if scans == 0 {
        return Err(Error::invalid(
            "photo is a JPEG without image data; it may be corrupt or truncated",
        ));
    }
    let dims = dims.ok_or_else(|| {
        Error::invalid("photo is a JPEG without a frame header; it may be corrupt")
    })?;
    let orientation = orientation.unwrap_or(1);
    if let Some(tiff) = exif::orientation_only(orientation) {
        let mut body = exif::EXIF_PREFIX.to_vec();
        body.extend_from_slice(&tiff);
        let mut seg = Vec::with_capacity(body.len() + 4);
        push_segment(&mut seg, APP1, &body)?;
        out.splice(exif_at..exif_at, seg);
    }
    Ok(StrippedJpeg {
        bytes: out,
        dims,
        orientation,
        end: i,
    })
}
