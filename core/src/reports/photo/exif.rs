//! The one piece of EXIF a stored photo keeps: its Orientation.
//!
//! A phone camera writes the sensor's pixels as they came and records in EXIF tag 0x0112 how
//! to turn them for display (6 = rotate 90° clockwise, the usual portrait photo). Dropping EXIF
//! whole therefore stores portrait photos sideways. Instead the orientation is read from the
//! camera's EXIF and a new EXIF block is written that holds that one tag and nothing else: no
//! GPS, no camera make or serial, no time, no thumbnail.
//!
//! Both directions are written here by hand rather than with an EXIF crate: reading needs one
//! IFD entry of the first IFD, writing produces a fixed 26-byte TIFF structure, and the phone
//! library has under 10 KB of its 6 MB budget left (`docs/benchmarks.md`). `kamadak-exif`
//! (read-only, with tag tables for every EXIF field) and `little_exif` (which also pulls in
//! its own compression crates) would each cost more than that for one 2-byte value. The tests
//! read the written block back with `kamadak-exif`, so the format is checked independently.

/// The EXIF Orientation tag.
const ORIENTATION: u16 = 0x0112;
/// TIFF field type SHORT (16-bit unsigned).
const SHORT: u16 = 3;

/// The prefix of an EXIF block inside a JPEG APP1 segment (and, from some writers, a WebP
/// `EXIF` chunk).
pub(super) const EXIF_PREFIX: &[u8] = b"Exif\0\0";

/// The Orientation (1..=8) recorded in a TIFF structure (the body of an EXIF block, without
/// the `Exif\0\0` prefix), or `None` when there is none, it is out of range, or the structure
/// cannot be read. A broken EXIF block is metadata that is dropped anyway, so it is not an
/// error: the photo is then stored as its pixels lie.
pub(super) fn orientation(tiff: &[u8]) -> Option<u16> {
    let tiff = tiff.strip_prefix(EXIF_PREFIX).unwrap_or(tiff);
    let big = match tiff.get(..4)? {
        [b'M', b'M', 0, 42] => true,
        [b'I', b'I', 42, 0] => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|i| {
        let entry = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? != ORIENTATION || u16_at(entry + 2)? != SHORT || u32_at(entry + 4)? != 1 {
            return None;
        }
        // A single SHORT sits in the first two bytes of the value field.
        u16_at(entry + 8).filter(|o| (1..=8).contains(o))
    })
}

/// A TIFF structure (EXIF body, without the `Exif\0\0` prefix) that holds only `orientation`:
/// big-endian header, one IFD with one entry, no next IFD. `None` for orientation 1 (or an
/// out-of-range value): the default needs no EXIF at all.
pub(super) fn orientation_only(orientation: u16) -> Option<Vec<u8>> {
    if !(2..=8).contains(&orientation) {
        return None;
    }
    let mut t = Vec::with_capacity(26);
    t.extend_from_slice(b"MM\0\x2a"); // big-endian TIFF
    t.extend_from_slice(&8u32.to_be_bytes()); // the first IFD follows the header
    t.extend_from_slice(&1u16.to_be_bytes()); // one entry
    t.extend_from_slice(&ORIENTATION.to_be_bytes());
    t.extend_from_slice(&SHORT.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes()); // one value
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0, 0]); // the value field's unused half
    t.extend_from_slice(&0u32.to_be_bytes()); // no next IFD (no thumbnail)
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_block_reads_back_and_holds_nothing_else() {
        for o in 2..=8u16 {
            let t = orientation_only(o).unwrap();
            assert_eq!(t.len(), 26);
            assert_eq!(orientation(&t), Some(o));
            let exif = ::exif::Reader::new().read_raw(t).unwrap();
            let fields: Vec<_> = exif.fields().collect();
            assert_eq!(fields.len(), 1, "only Orientation");
            assert_eq!(fields[0].tag, ::exif::Tag::Orientation);
            assert_eq!(fields[0].value.get_uint(0), Some(u32::from(o)));
        }
        assert_eq!(orientation_only(1), None);
        assert_eq!(orientation_only(9), None);
    }

    #[test]
    fn broken_or_absent_orientation_is_none() {
        assert_eq!(orientation(b""), None);
        assert_eq!(orientation(b"MM\0*GPS 34.25953 108.94235 SECRET"), None);
        let mut t = orientation_only(6).unwrap();
        t[16] = 0;
        t[17] = 9; // out of range
        assert_eq!(orientation(&t), None);
        let t = orientation_only(6).unwrap();
        assert_eq!(orientation(&t[..16]), None, "truncated");
        // Little-endian, as most Android cameras write it, behind the JPEG prefix.
        let mut le = b"Exif\0\0II\x2a\0\x08\0\0\0\x01\0".to_vec();
        le.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(orientation(&le), Some(8));
    }
}
