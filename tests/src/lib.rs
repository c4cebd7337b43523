//! Shared fixtures for Waystation's end-to-end tests: deterministic synthetic station packs
//! signed with a test key, so tests never depend on wall time or luck.

use serde_json::{Value, json};
use waystation_core::packs::{self, PublisherKeyPair, TrustedKey};
use waystation_core::stations::STATION_PACK_TYPE;

/// A small deterministic PRNG (SplitMix64), so fixtures need no extra crates.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform index below n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The key test packs are signed with.
pub fn test_key() -> PublisherKeyPair {
    PublisherKeyPair::from_seed("test-publisher", [42u8; 32])
}

/// The trusted-key list that accepts [`test_key`].
pub fn trusted() -> Vec<TrustedKey> {
    vec![test_key().trusted_key()]
}

/// Opening-hours strings used by synthetic stations, including unknown and broken ones.
pub const HOURS: &[Option<&str>] = &[
    Some("24/7"),
    Some("Mo-Su 08:00-20:00"),
    Some("Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00"),
    Some("Mo-Su 07:00-22:00"),
    Some("Mo-Fr 08:30-17:30; PH off"),
    Some("Mo-Su 20:00-02:00"),
    Some("Mo-Su unknown"),
    Some("白天营业"),
    None,
];

/// Service name mixes used by synthetic stations.
pub const SERVICE_MIXES: &[&[&str]] = &[
    &["drinking_water", "rest_area", "phone_charging"],
    &[
        "drinking_water",
        "rest_area",
        "phone_charging",
        "ebike_charging",
        "first_aid_kit",
    ],
    &["drinking_water", "microwave", "toilet", "first_aid_kit"],
    &["drinking_water", "rest_area", "legal_aid", "union_desk"],
    &["ebike_charging", "battery_swap"],
];

/// A payload with `n` stations scattered around Xi'an (WGS-84), deterministic in `seed`.
pub fn synthetic_payload(pack_id: &str, version: u64, n: usize, seed: u64) -> Value {
    let mut rng = SplitMix(seed);
    let stations: Vec<Value> = (0..n)
        .map(|i| {
            let hours = HOURS[rng.below(HOURS.len())];
            let mut s = json!({
                "id": format!("{pack_id}-{i:06}"),
                "name": {"zh": format!("测试驿站{i}号"), "en": format!("Test station {i}")},
                "position": {"lat": rng.range(34.0, 34.5), "lon": rng.range(108.6, 109.3), "datum": "wgs84"},
                "address": {"zh": format!("测试路{i}号")},
                "district": "610113",
                "services": SERVICE_MIXES[rng.below(SERVICE_MIXES.len())],
            });
            if let Some(h) = hours {
                s["opening_hours"] = json!(h);
            }
            s
        })
        .collect();
    json!({
        "format": "waystation/station-pack",
        "format_version": 1,
        "pack_id": pack_id,
        "version": version,
        "publisher": "Test publisher",
        "created": "2026-11-01T00:00:00Z",
        "synthetic": true,
        "stations": stations,
    })
}

/// Signs a payload value into pack bytes with [`test_key`].
pub fn sign(payload: &Value) -> Vec<u8> {
    let bytes = serde_json::to_vec(payload).expect("payload serialises");
    packs::seal(&bytes, STATION_PACK_TYPE, &test_key()).expect("sealing works")
}

/// The real Xi'an training pack payload (`data/training/xian-training.payload.json`), parsed.
pub fn real_training_payload() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/training/xian-training.payload.json"
    );
    let bytes = std::fs::read(path).expect("training payload exists (run data/training/build.py)");
    serde_json::from_slice(&bytes).expect("training payload is JSON")
}

/// The real Xi'an training pack as signed with the demo key (`xian-training.pack.json`).
pub fn real_training_pack() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/training/xian-training.pack.json"
    );
    std::fs::read(path).expect("signed training pack exists")
}

/// Signs a training pack payload with [`test_key`].
pub fn sign_training(payload: &Value) -> Vec<u8> {
    let bytes = serde_json::to_vec(payload).expect("payload serialises");
    packs::seal(
        &bytes,
        waystation_core::training::TRAINING_PACK_TYPE,
        &test_key(),
    )
    .expect("sealing works")
}

/// A full training pack payload with `lessons` lessons, made from the real lessons: copies of
/// them under new ids, spread over courses of 50 lessons, each with a numbered title so that
/// bodies repeat but rows differ. Deterministic in `seed`.
pub fn synthetic_training_payload(pack_id: &str, version: u64, lessons: usize, seed: u64) -> Value {
    let real = real_training_payload();
    let mut pool: Vec<Value> = Vec::new();
    for c in real["courses"].as_array().expect("courses") {
        pool.extend(c["lessons"].as_array().expect("lessons").iter().cloned());
    }
    let mut rng = SplitMix(seed);
    let mut courses = Vec::new();
    let per_course = 50;
    for ci in 0..lessons.div_ceil(per_course) {
        let n = per_course.min(lessons - ci * per_course);
        let course_id = format!("{pack_id}-c{ci:03}");
        let lessons: Vec<Value> = (0..n)
            .map(|li| {
                let mut l = pool[rng.below(pool.len())].clone();
                let k = ci * per_course + li;
                l["id"] = json!(format!("{course_id}/l{li:03}"));
                l["title"]["zh"] = json!(format!(
                    "{}（第{k}篇）",
                    l["title"]["zh"].as_str().unwrap_or("")
                ));
                l["title"]["en"] = json!(format!(
                    "{} (#{k})",
                    l["title"]["en"].as_str().unwrap_or("")
                ));
                l
            })
            .collect();
        courses.push(json!({
            "id": course_id,
            "title": {"zh": format!("合成课程{ci}"), "en": format!("Synthetic course {ci}")},
            "lessons": lessons,
        }));
    }
    json!({
        "format": "waystation/training-pack",
        "format_version": 1,
        "pack_id": pack_id,
        "version": version,
        "publisher": "Test publisher",
        "created": "2026-11-01T00:00:00Z",
        "courses": courses,
    })
}

/// Answers to a quiz taken from the payload: all right, or all wrong.
pub fn quiz_answers(
    payload: &Value,
    course: usize,
    right: bool,
) -> Vec<waystation_core::training::QuizAnswer> {
    payload["courses"][course]["quiz"]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let correct: Vec<i32> = q["correct"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_i64().unwrap() as i32)
                .collect();
            let n = q["choices"].as_array().unwrap().len() as i32;
            let choices = if right {
                correct
            } else {
                vec![(0..n).find(|c| !correct.contains(c)).unwrap()]
            };
            waystation_core::training::QuizAnswer::new(q["id"].as_str().unwrap(), choices)
        })
        .collect()
}

/// Everything installed for training, as JSON, to check that refusals leave it intact.
pub fn training_snapshot(ws: &waystation_core::Waystation) -> Value {
    let courses = ws.training().courses("nobody").unwrap();
    let lessons: Vec<_> = courses
        .iter()
        .flat_map(|c| ws.training().course("nobody", &c.id).unwrap().lessons)
        .map(|l| ws.training().lesson(&l.id).unwrap())
        .collect();
    let quizzes: Vec<_> = courses
        .iter()
        .filter_map(|c| c.quiz_id.as_ref())
        .map(|q| ws.training().quiz(q).unwrap())
        .collect();
    json!({
        "packs": serde_json::to_value(ws.packs().installed().unwrap()).unwrap(),
        "courses": serde_json::to_value(courses).unwrap(),
        "lessons": serde_json::to_value(lessons).unwrap(),
        "quizzes": serde_json::to_value(quizzes).unwrap(),
    })
}

// ---- hazard-report photos: tiny real images wrapped in every kind of metadata ----

/// Text planted in every metadata block of the test photos; none of it may be stored.
pub const SECRET: &[u8] = b"SECRET";

/// One JPEG marker segment with its length.
pub fn jpeg_segment(marker: u8, contents: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((contents.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(contents);
    s
}

/// A real 1×1 grey baseline JPEG (`q` varies the quantisation table, so different `q` give
/// different photos) wrapped in EXIF with GPS, XMP, a comment and a multi-picture trailer.
pub fn jpeg_with_metadata(q: u8) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    j.extend(jpeg_segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    j.extend(jpeg_segment(
        0xE1,
        b"Exif\0\0MM\0*GPS 34.25953 108.94235 SECRET",
    ));
    j.extend(jpeg_segment(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>SECRET</x:xmpmeta>",
    ));
    j.extend(jpeg_segment(0xED, b"Photoshop 3.0\0SECRET IPTC"));
    j.extend(jpeg_segment(0xFE, b"SECRET comment"));
    let mut dqt = vec![0u8];
    dqt.extend([q.max(1); 64]);
    j.extend(jpeg_segment(0xDB, &dqt));
    j.extend(jpeg_segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
    let dht = |class: u8| {
        let mut t = vec![class];
        t.push(1);
        t.extend([0u8; 15]);
        t.push(0);
        jpeg_segment(0xC4, &t)
    };
    j.extend(dht(0x00));
    j.extend(dht(0x10));
    j.extend(jpeg_segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    j.push(0x3F); // DC difference 0, end of block, padded with ones
    j.extend([0xFF, 0xD9]);
    // A multi-picture trailer: a second image with its own EXIF after the end marker.
    j.extend([0xFF, 0xD8]);
    j.extend(jpeg_segment(0xE1, b"Exif\0\0MM\0*SECRET trailer"));
    j.extend([0xFF, 0xD9]);
    j
}

/// CRC-32 as PNG uses it.
pub fn crc32(bytes: &[u8]) -> u32 {
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

/// One PNG chunk with its length and CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    c.extend_from_slice(&body);
    c.extend_from_slice(&crc32(&body).to_be_bytes());
    c
}

/// A real 1×1 grey PNG with text, XMP and EXIF chunks.
pub fn png_with_metadata() -> Vec<u8> {
    let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
    p.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
    p.extend(png_chunk(b"tEXt", b"Comment\0SECRET"));
    p.extend(png_chunk(
        b"iTXt",
        b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>SECRET</x:xmpmeta>",
    ));
    p.extend(png_chunk(b"eXIf", b"MM\0*SECRET GPS"));
    p.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x60, 0, 0, 0, 2, 0, 1],
    ));
    p.extend(png_chunk(b"IEND", b""));
    p
}

/// One RIFF chunk, padded to an even length.
pub fn riff_chunk(id: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// An extended 1×1 lossless WebP with EXIF and XMP chunks (flags set in VP8X).
pub fn webp_with_metadata() -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    body.extend(riff_chunk(
        b"VP8L",
        &[
            0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0,
        ],
    ));
    body.extend(riff_chunk(b"EXIF", b"MM\0*SECRET GPS"));
    body.extend(riff_chunk(b"XMP ", b"<x:xmpmeta>SECRET</x:xmpmeta>"));
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&(body.len() as u32).to_le_bytes());
    w.extend(body);
    w
}

/// Fixtures shared by the hazard-report test files.
pub mod net;

pub mod reports {
    use chrono::{DateTime, Utc};
    use std::path::Path;
    use std::sync::Arc;
    use waystation_core::geo::Datum;
    use waystation_core::reports::{PositionFix, ReportPatch, ReportRules};
    use waystation_core::{Error, FixedClock, Options, Waystation};

    /// Monday 2026-11-30, 12:00 in Xi'an.
    pub fn noon() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T04:00:00Z")
            .expect("fixed time parses")
            .with_timezone(&Utc)
    }

    /// A device on `dir` whose clock stands at `at`, and that clock.
    pub fn open_at(dir: &Path, at: DateTime<Utc>) -> (Waystation, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::new(at));
        let ws = Waystation::open_with_clock(dir, Options::default(), clock.clone())
            .expect("data directory opens");
        (ws, clock)
    }

    /// Asserts an `InvalidInput` error whose message contains `want`.
    pub fn invalid(r: Result<impl std::fmt::Debug, Error>, want: &str) {
        match r {
            Err(Error::InvalidInput(msg)) => {
                assert!(msg.contains(want), "{msg} (wanted '{want}')")
            }
            other => panic!("expected invalid input with '{want}', got {other:?}"),
        }
    }

    /// Asserts a `NotFound` error about a report.
    pub fn not_found(r: Result<impl std::fmt::Debug, Error>) {
        match r {
            Err(Error::NotFound(msg)) => assert!(msg.contains("no report"), "{msg}"),
            other => panic!("expected not found, got {other:?}"),
        }
    }

    /// The district the shared fixtures put reports in: 碑林区 Beilin, where the Bell Tower is.
    pub const DISTRICT: &str = "610103";

    /// A draft of `category` by `author` at (`lat`, `lon`), with every field any category needs
    /// (the district set to [`DISTRICT`], since no station pack is installed to take it from).
    pub fn draft_at(ws: &Waystation, author: &str, category: &str, lat: f64, lon: f64) -> String {
        let id = ws
            .reports()
            .create_draft(author, category)
            .expect("draft created");
        ws.reports()
            .update_draft(
                id.as_str(),
                &ReportPatch {
                    merchant_name: Some("老孙家泡馍".into()),
                    description: Some("外卖封签被撕开".into()),
                    address: Some("钟楼东南角".into()),
                    district: Some(DISTRICT.into()),
                    ..Default::default()
                },
            )
            .expect("draft updated");
        ws.reports()
            .set_position(
                id.as_str(),
                &PositionFix {
                    lat,
                    lon,
                    datum: Datum::Wgs84,
                    accuracy_m: Some(8.0),
                    fix_time: ws.now(),
                    mock: false,
                },
            )
            .expect("position set");
        id.to_string()
    }

    /// A submitted report of `category` by `author` at (`lat`, `lon`).
    pub fn submitted_at(
        ws: &Waystation,
        author: &str,
        category: &str,
        lat: f64,
        lon: f64,
    ) -> String {
        let id = draft_at(ws, author, category, lat, lon);
        ws.reports()
            .submit(author, &id, &ReportRules::default())
            .expect("report submitted");
        id
    }

    /// A submitted food-safety report by `author` in Yanta (610113), with one photo (a JPEG
    /// carrying metadata, [`crate::jpeg_with_metadata`] of quality `q`): what the photo sync
    /// tests upload and fetch.
    pub fn report_with_photo(ws: &Waystation, author: &str, q: u8) -> String {
        let id = draft_at(ws, author, "food.seal", 34.2225, 108.9480);
        ws.reports()
            .update_draft(
                &id,
                &ReportPatch {
                    district: Some("610113".into()),
                    ..Default::default()
                },
            )
            .expect("district set");
        ws.reports()
            .attach_photo(&id, &crate::jpeg_with_metadata(q), &ReportRules::default())
            .expect("photo attached");
        ws.reports()
            .submit(author, &id, &ReportRules::default())
            .expect("report submitted");
        id
    }

    /// A submitted road-hazard report by `author` in Yanta (610113), numbered `i` in its
    /// description: the smallest report sync tests and load tests need.
    pub fn submitted_road_report(ws: &Waystation, author: &str, i: usize) -> String {
        let id = ws
            .reports()
            .create_draft(author, "road.hazard")
            .expect("draft created")
            .as_str()
            .to_string();
        ws.reports()
            .update_draft(
                &id,
                &ReportPatch {
                    description: Some(format!("井盖缺失 {i}")),
                    district: Some("610113".into()),
                    ..Default::default()
                },
            )
            .expect("draft updated");
        ws.reports()
            .set_position(
                &id,
                &PositionFix {
                    lat: 34.22,
                    lon: 108.94,
                    datum: Datum::Wgs84,
                    accuracy_m: Some(8.0),
                    fix_time: ws.now(),
                    mock: false,
                },
            )
            .expect("position set");
        ws.reports()
            .submit(author, &id, &ReportRules::default())
            .expect("report submitted");
        id
    }
}
