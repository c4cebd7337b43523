//! Stripping a WebP, chunk by chunk (with `img-parts` for the RIFF container).
//!
//! Kept: the extended header (`VP8X`), the image (`VP8 `, `VP8L`, `ALPH`), animation (`ANIM`,
//! `ANMF`) and the ICC profile (`ICCP`). Inside each animation frame only the frame's image
//! chunks are kept; the container allows unknown chunks there too. `EXIF`, `XMP ` and every
//! other chunk go, and so does anything after the RIFF size (the parser stops there). An EXIF
//! orientation other than the default is kept in a new `EXIF` chunk that holds only it
//! ([`super::exif`]).
//!
//! The `VP8X` flags are rewritten to match what stays: ICC set exactly when `ICCP` is kept,
//! EXIF exactly when the orientation chunk is written, XMP never; alpha and animation as the
//! camera wrote them; the reserved bits cleared. (An earlier version kept the XMP flag set
//! after removing the chunk, because `img-parts` only rewrites the ICC and EXIF flags.)

use img_parts::Bytes;
use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::{self, WebP};

use super::{StrippedContainer, corrupt, exif};
use crate::error::{Error, Result};

const KEEP: [[u8; 4]; 7] = [
    webp::CHUNK_VP8X,
    webp::CHUNK_VP8,
    webp::CHUNK_VP8L,
    webp::CHUNK_ALPH,
    webp::CHUNK_ANIM,
    webp::CHUNK_ANMF,
    webp::CHUNK_ICCP,
];

/// `VP8X` flag bits (first byte of the chunk).
pub(super) const FLAG_ICC: u8 = 0x20;
pub(super) const FLAG_ALPHA: u8 = 0x10;
pub(super) const FLAG_EXIF: u8 = 0x08;
#[cfg_attr(not(test), allow(dead_code))]
pub(super) const FLAG_XMP: u8 = 0x04;
pub(super) const FLAG_ANIMATION: u8 = 0x02;

/// The header of an `ANMF` chunk before its frame data: position, size, duration, flags.
const ANMF_HEADER: usize = 16;

/// A stripped WebP, its size, and the orientation its new `EXIF` chunk holds (1 for none).
pub(super) fn strip(input: Bytes) -> Result<StrippedContainer> {
    let mut webp = WebP::from_bytes(input).map_err(|e| corrupt("WebP", e))?;
    let has_image = [webp::CHUNK_VP8, webp::CHUNK_VP8L, webp::CHUNK_ANMF]
        .iter()
        .any(|id| webp.has_chunk(*id));
    if !has_image {
        return Err(Error::invalid(
            "photo is a WebP file without image data; it is corrupt or truncated",
        ));
    }
    let extended = webp.has_chunk(webp::CHUNK_VP8X);
    // Only the extended format may carry EXIF; a simple file's stray chunk is ignored.
    let orientation = webp
        .chunk_by_id(webp::CHUNK_EXIF)
        .filter(|_| extended)
        .and_then(|c| c.content().data())
        .and_then(|d| exif::orientation(d))
        .unwrap_or(1);
    webp.chunks_mut().retain(|c| KEEP.contains(&c.id()));
    for chunk in webp.chunks_mut().iter_mut() {
        if chunk.id() == webp::CHUNK_ANMF {
            *chunk = frame_without_extras(chunk)?;
        }
    }
    let exif_chunk = exif::orientation_only(orientation).filter(|_| extended);
    let has_icc = webp.has_chunk(webp::CHUNK_ICCP);
    let has_exif = exif_chunk.is_some();
    if let Some(tiff) = exif_chunk {
        // EXIF comes after the image data (WebP container specification).
        webp.chunks_mut().push(RiffChunk::new(
            webp::CHUNK_EXIF,
            RiffContent::Data(Bytes::from(tiff)),
        ));
    }
    for chunk in webp.chunks_mut().iter_mut() {
        if chunk.id() != webp::CHUNK_VP8X {
            continue;
        }
        let Some(data) = chunk.content().data() else {
            continue;
        };
        if data.len() < 10 {
            return Err(Error::invalid(
                "photo is a WebP file with a malformed extended header; it is corrupt",
            ));
        }
        let mut header = data.to_vec();
        let mut flags = header[0] & (FLAG_ALPHA | FLAG_ANIMATION);
        if has_icc {
            flags |= FLAG_ICC;
        }
        if has_exif {
            flags |= FLAG_EXIF;
        }
        header[0] = flags;
        header[1..4].fill(0);
        *chunk = RiffChunk::new(webp::CHUNK_VP8X, RiffContent::Data(Bytes::from(header)));
    }
    let dims = webp.dimensions();
    Ok((webp.encoder().bytes(), dims, orientation))
}

/// An `ANMF` chunk with only `ALPH`, `VP8 ` and `VP8L` left in its frame data.
fn frame_without_extras(chunk: &RiffChunk) -> Result<RiffChunk> {
    let bad = || Error::invalid("photo is a WebP file with a malformed animation frame");
    let data = chunk.content().data().ok_or_else(bad)?;
    let header = data.get(..ANMF_HEADER).ok_or_else(bad)?;
    let mut out = header.to_vec();
    let mut rest = &data[ANMF_HEADER..];
    while !rest.is_empty() {
        let id: [u8; 4] = rest
            .get(..4)
            .ok_or_else(bad)?
            .try_into()
            .map_err(|_| bad())?;
        let len: [u8; 4] = rest
            .get(4..8)
            .ok_or_else(bad)?
            .try_into()
            .map_err(|_| bad())?;
        let len = usize::try_from(u32::from_le_bytes(len)).map_err(|_| bad())?;
        let padded = len.checked_add(len % 2).ok_or_else(bad)?;
        let end = padded.checked_add(8).ok_or_else(bad)?;
        // The last chunk's padding byte may be missing; take what is there.
        let whole = rest.get(..end.min(rest.len())).ok_or_else(bad)?;
        if whole.len() < 8 + len {
            return Err(bad());
        }
        if [webp::CHUNK_ALPH, webp::CHUNK_VP8, webp::CHUNK_VP8L].contains(&id) {
            out.extend_from_slice(&whole[..8 + len]);
            if len % 2 == 1 {
                out.push(0);
            }
        }
        rest = &rest[whole.len()..];
    }
    Ok(RiffChunk::new(
        webp::CHUNK_ANMF,
        RiffContent::Data(Bytes::from(out)),
    ))
}
