//! Stripping a PNG, chunk by chunk (with `img-parts`, which checks every chunk's CRC).
//!
//! Only what a decoder needs is kept, by allow-list and wherever it stands: the critical chunks
//! plus colour, transparency, density and animation chunks. Text (`tEXt`, `zTXt`, `iTXt`,
//! including XMP, before or after the image data), `eXIf`, `tIME` and every private chunk go,
//! and so does anything after `IEND` (the parser stops there). The ICC profile's name is a
//! free-text keyword a writer may fill with anything; it is replaced by a neutral one. An
//! `eXIf` orientation other than the default is kept in a new `eXIf` chunk that holds only it
//! ([`super::exif`]), placed before the image data as the PNG specification asks.

use img_parts::Bytes;
use img_parts::png::{Png, PngChunk};

use super::{StrippedContainer, corrupt, exif};
use crate::error::{Error, Result};

const KEEP: [&[u8; 4]; 14] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

/// The keyword every kept ICC profile gets.
const ICC_NAME: &[u8] = b"ICC profile";

/// A stripped PNG, its size, and the orientation its new `eXIf` chunk holds (1 for none).
pub(super) fn strip(input: Bytes) -> Result<StrippedContainer> {
    let mut png = Png::from_bytes(input).map_err(|e| corrupt("PNG", e))?;
    let chunks = png.chunks();
    let complete = chunks.first().map(|c| c.kind()) == Some(*b"IHDR")
        && chunks.last().map(|c| c.kind()) == Some(*b"IEND")
        && chunks.iter().any(|c| &c.kind() == b"IDAT");
    if !complete {
        return Err(Error::invalid(
            "photo is a PNG without a header, image data or end chunk; it is corrupt or truncated",
        ));
    }
    let orientation = chunks
        .iter()
        .find(|c| &c.kind() == b"eXIf")
        .and_then(|c| exif::orientation(c.contents()))
        .unwrap_or(1);
    png.chunks_mut().retain(|c| KEEP.contains(&&c.kind()));
    for chunk in png.chunks_mut().iter_mut() {
        if &chunk.kind() == b"iCCP" {
            *chunk = renamed_profile(chunk)?;
        }
    }
    if let Some(tiff) = exif::orientation_only(orientation) {
        // IHDR is first (checked above); eXIf goes right after it, before any IDAT.
        png.chunks_mut()
            .insert(1, PngChunk::new(*b"eXIf", Bytes::from(tiff)));
    }
    let dims = png.dimensions();
    Ok((png.encoder().bytes(), dims, orientation))
}

/// `iCCP` is a keyword (1–79 bytes), a NUL, the compression method and the compressed
/// profile; the keyword is replaced by [`ICC_NAME`].
fn renamed_profile(chunk: &PngChunk) -> Result<PngChunk> {
    let body = chunk.contents();
    let nul = body
        .iter()
        .take(80)
        .position(|&b| b == 0)
        .ok_or_else(|| Error::invalid("photo is a PNG with a malformed ICC profile chunk"))?;
    let mut renamed = ICC_NAME.to_vec();
    renamed.extend_from_slice(&body[nul..]);
    Ok(PngChunk::new(*b"iCCP", Bytes::from(renamed)))
}
