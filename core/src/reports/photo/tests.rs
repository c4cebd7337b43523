//! Photo stripping on real images: baseline and progressive JPEGs (encoded by `jpeg-encoder`),
//! PNGs (`png`) and WebPs (`image-webp`), with metadata inserted in every position a file
//! allows. Each stripped file is decoded by an independent decoder and must show the same
//! pixels, and its EXIF is read back with `kamadak-exif`.

use super::*;
use ::exif::experimental::Writer;
use ::exif::{Field, In, Rational, Tag, Value};
use std::io::Cursor;

mod images;
mod sweeping;

use images::*;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// A camera's EXIF (TIFF body): orientation `o`, make and model, time, and a GPS position.
fn camera_exif(o: u16) -> Vec<u8> {
    let ascii = |tag, s: &str| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![s.as_bytes().to_vec()]),
    };
    let deg = |d: u32, m: u32, s: u32| {
        Value::Rational(vec![
            Rational { num: d, denom: 1 },
            Rational { num: m, denom: 1 },
            Rational { num: s, denom: 100 },
        ])
    };
    let fields = [
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![o]),
        },
        ascii(Tag::Make, "SECRET-MAKE"),
        ascii(Tag::Model, "SECRET-MODEL"),
        ascii(Tag::DateTimeOriginal, "2026:11:30 11:59:00"),
        ascii(Tag::GPSLatitudeRef, "N"),
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: deg(34, 15, 3431),
        },
        ascii(Tag::GPSLongitudeRef, "E"),
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: deg(108, 56, 3246),
        },
    ];
    let mut w = Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut out = Cursor::new(Vec::new());
    w.write(&mut out, o.is_multiple_of(2)).unwrap();
    out.into_inner()
}

/// Every EXIF field the stored bytes carry, read by `kamadak-exif`; empty when there is no EXIF.
fn exif_fields(stored: &[u8]) -> Vec<(Tag, u32)> {
    match ::exif::Reader::new().read_from_container(&mut Cursor::new(stored)) {
        Ok(e) => e
            .fields()
            .map(|f| (f.tag, f.value.get_uint(0).unwrap_or(u32::MAX)))
            .collect(),
        Err(::exif::Error::NotFound(_)) => Vec::new(),
        Err(e) => panic!("stored EXIF does not parse: {e}"),
    }
}

/// The stored EXIF holds exactly the orientation `o` (nothing at all for 1).
fn assert_only_orientation(stored: &[u8], o: u16, what: &str) {
    let want = if o == 1 {
        vec![]
    } else {
        vec![(Tag::Orientation, u32::from(o))]
    };
    assert_eq!(exif_fields(stored), want, "{what}, orientation {o}");
}

/// What no stored photo may contain.
const LEAKS: [&[u8]; 6] = [
    b"SECRET",
    b"http://ns.adobe.com/xap/1.0/",
    b"GPS",
    b"2026:11:30",
    b"Photoshop 3.0",
    b"MPF\0",
];

fn assert_no_leak(stored: &[u8], what: &str) {
    for leak in LEAKS {
        assert!(
            !contains(stored, leak),
            "{what} still holds {:?}",
            String::from_utf8_lossy(leak)
        );
    }
}

#[test]
fn jpeg_metadata_is_removed_wherever_it_stands_and_the_pixels_stay() {
    for progressive in [false, true] {
        for o in 1..=8u16 {
            let clean = encode_jpeg(progressive);
            let parts = jpeg_parts(&clean);
            if progressive {
                assert!(
                    parts.iter().filter(|p| p.marker == 0xDA).count() > 2,
                    "a progressive JPEG has several scans"
                );
            }
            let dirty = jpeg_with_metadata_everywhere(&clean, o);
            let what = if progressive {
                "progressive"
            } else {
                "baseline"
            };
            // The test file really carries what must go, including between the scans.
            assert!(count(&dirty, b"Exif\0\0") > parts.len());
            assert!(contains(&dirty, b"SECRET-COMMENT"));
            let s = strip(&dirty).unwrap();
            assert_no_leak(&s.bytes, what);
            assert_only_orientation(&s.bytes, o, what);
            assert_eq!(s.orientation, o);
            assert_eq!(
                count(&s.bytes, b"Exif\0\0"),
                usize::from(o != 1),
                "{what}: one EXIF block, only when the orientation needs it"
            );
            assert_eq!(
                decode_jpeg(&s.bytes),
                decode_jpeg(&clean),
                "{what}: same pixels"
            );
            // The colour profile of the header stays; the one between the scans goes.
            assert_eq!(count(&s.bytes, b"ICC_PROFILE\0"), 1, "{what}");
            let mut d = jpeg_decoder::Decoder::new(&s.bytes[..]);
            d.decode().unwrap();
            assert_eq!(d.icc_profile().as_deref(), Some(ICC_DATA));
            // JFIF stays, without its thumbnail; nothing follows the end marker.
            assert!(s.bytes.starts_with(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\0"));
            assert_eq!(&s.bytes[18..20], &[0, 0], "no JFIF thumbnail");
            assert!(s.bytes.ends_with(&[0xFF, 0xD9]));
            assert_eq!(
                (s.info.width, s.info.height),
                (Some(W as i32), Some(H as i32))
            );
            // Stripping is stable: a stored photo stripped again is the same file.
            assert_eq!(strip(&s.bytes).unwrap().bytes, s.bytes, "{what}");
        }
    }
}

#[test]
fn only_the_headers_exif_orientation_counts() {
    // A later EXIF block (between scans) does not change how viewers turn the photo.
    let clean = encode_jpeg(true);
    let mut parts = jpeg_parts(&clean);
    let between = parts.iter().rposition(|p| p.marker == 0xDA).unwrap();
    parts.insert(between, app1_exif(&camera_exif(3)));
    let mut j: Vec<u8> = vec![0xFF, 0xD8];
    j.extend(app1_exif(&camera_exif(6)).bytes);
    for p in &parts[1..] {
        j.extend(&p.bytes);
    }
    let s = strip(&j).unwrap();
    assert_only_orientation(&s.bytes, 6, "header 6, later 3");
}

#[test]
fn png_metadata_is_removed_wherever_it_stands_and_the_orientation_kept() {
    for o in 1..=8u16 {
        let clean = encode_png();
        let dirty = png_with_metadata_everywhere(&clean, o);
        assert!(contains(&dirty, b"SECRET") && contains(&dirty, b"eXIf"));
        let s = strip(&dirty).unwrap();
        assert_no_leak(&s.bytes, "PNG");
        assert_only_orientation(&s.bytes, o, "PNG");
        assert_eq!(decode_png(&s.bytes), decode_png(&clean), "same pixels");
        assert!(
            s.bytes.ends_with(b"IEND\xAE\x42\x60\x82"),
            "nothing after IEND"
        );
        let chunks = png_chunk_kinds(&s.bytes);
        let idat = chunks.iter().position(|k| k == b"IDAT").unwrap();
        if o != 1 {
            let exif = chunks.iter().position(|k| k == b"eXIf").unwrap();
            assert!(exif < idat, "eXIf before the image data");
        }
        assert_eq!(
            chunks.iter().filter(|k| *k == b"eXIf").count(),
            usize::from(o != 1)
        );
    }
}

#[test]
fn png_colour_profile_stays_under_a_neutral_name() {
    let clean = encode_png();
    let mut chunks = png_split(&clean);
    let mut iccp = b"SECRET-PROFILE-NAME\0\0".to_vec();
    iccp.extend_from_slice(&[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunks.insert(2, png_chunk(b"iCCP", &iccp));
    let s = strip(&chunks.concat()).unwrap();
    assert!(!contains(&s.bytes, b"SECRET"));
    assert!(contains(&s.bytes, b"iCCPICC profile\0\0\x78\x9c"));
}

#[test]
fn webp_metadata_is_removed_and_the_header_flags_match_what_stays() {
    for o in 1..=8u16 {
        let clean = encode_webp();
        let dirty = webp_with_metadata(&clean, o);
        assert_eq!(
            vp8x_flags(&dirty),
            webp::FLAG_ICC | webp::FLAG_EXIF | webp::FLAG_XMP
        );
        let s = strip(&dirty).unwrap();
        assert_no_leak(&s.bytes, "WebP");
        assert_only_orientation(&s.bytes, o, "WebP");
        let chunks = riff_chunk_ids(&s.bytes);
        let mut want = vec![*b"VP8X", *b"ICCP", *b"VP8L"];
        if o != 1 {
            want.push(*b"EXIF");
        }
        assert_eq!(chunks, want, "orientation {o}");
        // The flags announce exactly the chunks that stayed: the profile, and EXIF only when
        // it is there; never XMP.
        let flags = vp8x_flags(&s.bytes);
        assert_eq!(flags & webp::FLAG_XMP, 0, "XMP flag cleared");
        let exif = if o == 1 { 0 } else { webp::FLAG_EXIF };
        assert_eq!(flags, webp::FLAG_ICC | exif, "orientation {o}");
        // The RIFF size is the file's size: the trailer after it is gone.
        let riff = u32::from_le_bytes(s.bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff + 8, s.bytes.len());
        assert_eq!(decode_webp(&s.bytes), decode_webp(&clean), "same pixels");
    }
}

#[test]
fn webp_without_a_profile_does_not_announce_one() {
    let clean = encode_webp();
    let mut dirty = webp_with_metadata(&clean, 1);
    // Drop the ICCP chunk but leave the flag: a file that lies about its profile.
    let ids = riff_chunk_ids(&dirty);
    assert_eq!(ids[1], *b"ICCP");
    dirty = webp_without_chunk(&dirty, *b"ICCP");
    let s = strip(&dirty).unwrap();
    assert_eq!(vp8x_flags(&s.bytes), 0);
    assert_eq!(riff_chunk_ids(&s.bytes), vec![*b"VP8X", *b"VP8L"]);
    assert_eq!(decode_webp(&s.bytes), decode_webp(&clean));
}

#[test]
fn webp_animation_frames_keep_only_their_image() {
    let clean = encode_webp();
    let s = strip(&animated_webp(&clean)).unwrap();
    assert!(!contains(&s.bytes, b"SECRET"));
    assert_eq!(
        vp8x_flags(&s.bytes) & webp::FLAG_ANIMATION,
        webp::FLAG_ANIMATION
    );
    assert!(contains(&s.bytes, b"ANMF") && contains(&s.bytes, b"VP8L"));
}

#[test]
fn broken_jpegs_are_refused_with_the_reason() {
    let clean = encode_jpeg(true);
    let cases: [(Vec<u8>, &str); 4] = [
        (clean[..clean.len() - 2].to_vec(), "truncated"),
        (clean[..clean.len() / 2].to_vec(), "truncated"),
        (
            {
                // The scans without a frame header.
                let parts = jpeg_parts(&clean);
                let mut j = vec![0xFF, 0xD8];
                for p in parts
                    .iter()
                    .filter(|p| !matches!(p.marker, 0xC0..=0xC2 | 0xD8))
                {
                    j.extend(&p.bytes[..]);
                }
                j
            },
            "frame header",
        ),
        (b"\xFF\xD8\xFF\xD9".to_vec(), "without image data"),
    ];
    for (bytes, want) in cases {
        let err = strip(&bytes).err().unwrap().to_string();
        assert!(err.contains(want) && err.contains("JPEG"), "{err}");
    }
}

/// Every truncation and many single-byte corruptions of real files with metadata: stripping
/// answers (a photo or an error naming the format) and never panics. Fixed seed.
#[test]
fn damaged_photos_never_panic() {
    let files = [
        jpeg_with_metadata_everywhere(&encode_jpeg(true), 6),
        jpeg_with_metadata_everywhere(&encode_jpeg(false), 3),
        png_with_metadata_everywhere(&encode_png(), 8),
        webp_with_metadata(&encode_webp(), 6),
        animated_webp(&encode_webp()),
    ];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for file in &files {
        for end in 0..file.len() {
            if let Err(e) = strip(&file[..end]) {
                let e = e.to_string();
                assert!(e.contains("photo"), "{e}");
            }
        }
        for _ in 0..2000 {
            let mut damaged = file.clone();
            let at = (next() as usize) % damaged.len();
            damaged[at] = next() as u8;
            let _ = strip(&damaged);
        }
    }
}
