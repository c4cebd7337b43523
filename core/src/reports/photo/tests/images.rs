//! Real test images, generated: encoded by maintained encoders, then given metadata in every
//! position the container allows, as cameras and editing apps write it.

use super::camera_exif;
use std::io::Cursor;

pub const W: u32 = 24;
pub const H: u32 = 16;

/// The ICC profile bytes the JPEG tests carry (the decoder hands them back as they are).
pub const ICC_DATA: &[u8] = b"test colour profile bytes";

/// A deterministic RGB gradient.
pub fn pixels() -> Vec<u8> {
    let mut p = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H {
        for x in 0..W {
            p.extend([(x * 10) as u8, (y * 15) as u8, ((x + y) * 6) as u8]);
        }
    }
    p
}

// ---- JPEG ----

pub fn encode_jpeg(progressive: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = jpeg_encoder::Encoder::new(&mut out, 90);
    e.set_progressive(progressive);
    e.encode(&pixels(), W as u16, H as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

pub fn decode_jpeg(b: &[u8]) -> Vec<u8> {
    jpeg_decoder::Decoder::new(b).decode().unwrap()
}

/// One marker segment (with its entropy-coded data, for a scan), or SOI / EOI.
#[derive(Clone)]
pub struct Part {
    pub marker: u8,
    pub bytes: Vec<u8>,
}

pub fn segment(marker: u8, body: &[u8]) -> Part {
    let mut bytes = vec![0xFF, marker];
    bytes.extend(((body.len() + 2) as u16).to_be_bytes());
    bytes.extend(body);
    Part { marker, bytes }
}

pub fn app1_exif(tiff: &[u8]) -> Part {
    let mut body = b"Exif\0\0".to_vec();
    body.extend(tiff);
    segment(0xE1, &body)
}

/// Splits a JPEG written by an encoder into its parts, SOI to EOI.
pub fn jpeg_parts(b: &[u8]) -> Vec<Part> {
    let mut parts = vec![Part {
        marker: 0xD8,
        bytes: b[..2].to_vec(),
    }];
    let mut i = 2;
    loop {
        assert_eq!(b[i], 0xFF);
        let marker = b[i + 1];
        if marker == 0xD9 {
            parts.push(Part {
                marker,
                bytes: vec![0xFF, 0xD9],
            });
            return parts;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        let mut end = i + 2 + len;
        if marker == 0xDA {
            while b[end] != 0xFF || matches!(b[end + 1], 0x00 | 0xD0..=0xD7) {
                end += 1;
            }
        }
        parts.push(Part {
            marker,
            bytes: b[i..end].to_vec(),
        });
        i = end;
    }
}

/// Everything that must go: EXIF with GPS, XMP, a comment, IPTC, an MPF index and a vendor
/// APPn segment.
fn metadata(o: u16) -> Vec<u8> {
    [
        app1_exif(&camera_exif(o)),
        segment(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>SECRET-XMP</x:xmpmeta>",
        ),
        segment(0xFE, b"SECRET-COMMENT"),
        segment(0xED, b"Photoshop 3.0\08BIM\x04\x04SECRET-IPTC"),
        segment(0xE2, b"MPF\0II*\0SECRET-MPF"),
        segment(0xE4, b"SECRET-VENDOR-APP4"),
        segment(0xEF, b"SECRET-VENDOR-APP15"),
    ]
    .iter()
    .flat_map(|p| p.bytes.clone())
    .collect()
}

fn icc() -> Vec<u8> {
    let mut body = b"ICC_PROFILE\0\x01\x01".to_vec();
    body.extend(ICC_DATA);
    segment(0xE2, &body).bytes
}

/// `clean` with: a JFIF header carrying a thumbnail, the camera's EXIF (orientation `o`) and an
/// ICC profile first; every kind of metadata before each segment (before the frame header,
/// between the tables and the scan header, between scans, before the end marker); a second
/// ICC profile between scans; and a multi-picture trailer with its own EXIF after the end.
pub fn jpeg_with_metadata_everywhere(clean: &[u8], o: u16) -> Vec<u8> {
    let parts = jpeg_parts(clean);
    let mut j = vec![0xFF, 0xD8];
    let mut jfif = b"JFIF\0\x01\x02\0\0\x01\0\x01\x01\x01".to_vec();
    jfif.extend([0xAA, 0xBB, 0xCC]); // a 1×1 RGB thumbnail
    j.extend(segment(0xE0, &jfif).bytes);
    j.extend(app1_exif(&camera_exif(o)).bytes);
    j.extend(icc());
    let mut scans = 0;
    for p in &parts[1..] {
        j.extend(metadata(o));
        if p.marker == 0xDA {
            scans += 1;
            if scans > 1 {
                j.extend(icc());
            }
        }
        j.extend(&p.bytes);
    }
    j.extend([0xFF, 0xD8]);
    j.extend(app1_exif(&camera_exif(o)).bytes);
    j.extend(segment(0xFE, b"SECRET trailer").bytes);
    j.extend([0xFF, 0xD9]);
    j
}

// ---- PNG ----

/// CRC-32 as PNG uses it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend(kind);
    c.extend(data);
    let mut crc_in = kind.to_vec();
    crc_in.extend(data);
    c.extend(crc32(&crc_in).to_be_bytes());
    c
}

pub fn encode_png() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut e = ::png::Encoder::new(&mut out, W, H);
        e.set_color(::png::ColorType::Rgb);
        e.set_depth(::png::BitDepth::Eight);
        let mut w = e.write_header().unwrap();
        w.write_image_data(&pixels()).unwrap();
        w.finish().unwrap();
    }
    out
}

pub fn decode_png(b: &[u8]) -> Vec<u8> {
    let mut r = ::png::Decoder::new(Cursor::new(b)).read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    r.next_frame(&mut buf).unwrap();
    buf
}

/// The signature, then each chunk whole.
pub fn png_split(b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![b[..8].to_vec()];
    let mut i = 8;
    while i < b.len() {
        let len = u32::from_be_bytes(b[i..i + 4].try_into().unwrap()) as usize;
        out.push(b[i..i + 12 + len].to_vec());
        i += 12 + len;
    }
    out
}

pub fn png_chunk_kinds(b: &[u8]) -> Vec<[u8; 4]> {
    png_split(b)[1..]
        .iter()
        .map(|c| c[4..8].try_into().unwrap())
        .collect()
}

/// `clean` with EXIF (orientation `o` and GPS), text, XMP, time and a private chunk before the
/// image data, the same kinds again after it, and bytes after `IEND`.
pub fn png_with_metadata_everywhere(clean: &[u8], o: u16) -> Vec<u8> {
    let chunks = png_split(clean);
    let before = [
        png_chunk(b"eXIf", &camera_exif(o)),
        png_chunk(b"tEXt", b"Comment\0SECRET-TEXT"),
        png_chunk(b"tIME", &[7, 234, 11, 30, 11, 59, 0]),
        png_chunk(
            b"iTXt",
            b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>SECRET-XMP</x:xmpmeta>",
        ),
        png_chunk(b"prVt", b"SECRET-PRIVATE"),
    ];
    let after = [
        png_chunk(b"tEXt", b"Author\0SECRET-AUTHOR"),
        png_chunk(b"zTXt", b"Description\0\0SECRET-Z"),
        png_chunk(
            b"iTXt",
            b"XML:com.adobe.xmp\0\0\0\0\0http://ns.adobe.com/xap/1.0/ SECRET",
        ),
        png_chunk(b"eXIf", &camera_exif(3)),
    ];
    let mut p = Vec::new();
    for c in &chunks {
        let kind = c.get(4..8);
        if kind == Some(b"IEND") {
            p.extend(after.concat());
        }
        p.extend(c);
        if kind == Some(b"IHDR") {
            p.extend(before.concat());
        }
    }
    p.extend(b"SECRET after the end");
    p
}

// ---- WebP ----

pub fn encode_webp() -> Vec<u8> {
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(&pixels(), W, H, image_webp::ColorType::Rgb8)
        .unwrap();
    out
}

pub fn decode_webp(b: &[u8]) -> Vec<u8> {
    let mut d = image_webp::WebPDecoder::new(Cursor::new(b)).unwrap();
    let mut buf = vec![0; d.output_buffer_size().unwrap()];
    d.read_image(&mut buf).unwrap();
    buf
}

pub fn riff_chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend((data.len() as u32).to_le_bytes());
    c.extend(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// The top-level chunks of a WebP file: id and data.
pub fn riff_chunks(b: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let size = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
    let mut out = Vec::new();
    let mut i = 12;
    while i < 8 + size {
        let id: [u8; 4] = b[i..i + 4].try_into().unwrap();
        let len = u32::from_le_bytes(b[i + 4..i + 8].try_into().unwrap()) as usize;
        out.push((id, b[i + 8..i + 8 + len].to_vec()));
        i += 8 + len + len % 2;
    }
    out
}

pub fn riff_chunk_ids(b: &[u8]) -> Vec<[u8; 4]> {
    riff_chunks(b).into_iter().map(|(id, _)| id).collect()
}

fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    body.extend(chunks.concat());
    let mut w = b"RIFF".to_vec();
    w.extend((body.len() as u32).to_le_bytes());
    w.extend(body);
    w
}

pub fn vp8x_flags(b: &[u8]) -> u8 {
    let chunks = riff_chunks(b);
    assert_eq!(chunks[0].0, *b"VP8X");
    chunks[0].1[0]
}

fn vp8x(flags: u8) -> Vec<u8> {
    let mut d = vec![flags, 0, 0, 0];
    d.extend(&(W - 1).to_le_bytes()[..3]);
    d.extend(&(H - 1).to_le_bytes()[..3]);
    riff_chunk(b"VP8X", &d)
}

fn vp8l(clean: &[u8]) -> Vec<u8> {
    let (id, data) = riff_chunks(clean).remove(0);
    assert_eq!(id, *b"VP8L", "the encoder writes a simple lossless file");
    riff_chunk(b"VP8L", &data)
}

/// The extended form of `clean` with an ICC profile, EXIF (orientation `o` and GPS), XMP and
/// an unknown chunk, all announced in the header, and bytes after the RIFF size.
pub fn webp_with_metadata(clean: &[u8], o: u16) -> Vec<u8> {
    let mut w = riff(&[
        vp8x(0x20 | 0x08 | 0x04),
        riff_chunk(b"ICCP", b"test colour profile"),
        vp8l(clean),
        riff_chunk(b"EXIF", &camera_exif(o)),
        riff_chunk(b"XMP ", b"<x:xmpmeta>SECRET-XMP</x:xmpmeta>"),
        riff_chunk(b"SECR", b"SECRET-UNKNOWN"),
    ]);
    w.extend(b"SECRET after the RIFF size");
    w
}

pub fn webp_without_chunk(b: &[u8], drop: [u8; 4]) -> Vec<u8> {
    let kept: Vec<Vec<u8>> = riff_chunks(b)
        .into_iter()
        .filter(|(id, _)| *id != drop)
        .map(|(id, data)| riff_chunk(&id, &data))
        .collect();
    riff(&kept)
}

/// A one-frame animation whose frame also carries an unknown chunk, plus XMP.
pub fn animated_webp(clean: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; 6];
    frame.extend(&(W - 1).to_le_bytes()[..3]);
    frame.extend(&(H - 1).to_le_bytes()[..3]);
    frame.extend([100, 0, 0, 0]);
    frame.extend(vp8l(clean));
    frame.extend(riff_chunk(b"SECR", b"SECRET-IN-FRAME"));
    riff(&[
        vp8x(0x02 | 0x04),
        riff_chunk(b"ANIM", &[0, 0, 0, 0, 0, 0]),
        riff_chunk(b"ANMF", &frame),
        riff_chunk(b"XMP ", b"<x:xmpmeta>SECRET-XMP</x:xmpmeta>"),
    ])
}
