use super::*;
use crate::error::Error;
use crate::geo::Datum;
use crate::store::documents;
use crate::{FixedClock, Options, Waystation};
use chrono::TimeZone;
use chrono::{DateTime, Utc};
use std::sync::Arc;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
}

fn open(dir: &std::path::Path) -> (Waystation, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(t0()));
    let ws = Waystation::open_with_clock(dir, Options::default(), clock.clone()).unwrap();
    (ws, clock)
}

#[test]
fn ids_are_uuid_v7_with_the_clock_time_and_parse_back() {
    let a = ReportId::generate(t0()).unwrap();
    let b = ReportId::generate(t0()).unwrap();
    assert_ne!(a, b, "the random part differs");
    let u = uuid::Uuid::parse_str(a.as_str()).unwrap();
    assert_eq!(u.get_version_num(), 7);
    let (secs, _) = u.get_timestamp().unwrap().to_unix();
    assert_eq!(secs as i64, t0().timestamp());
    assert_eq!(ReportId::parse(&a.doc_id()).unwrap(), a);
    assert_eq!(ReportId::parse(&a.as_str().to_uppercase()).unwrap(), a);
    let err = ReportId::parse("not-an-id").unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
}

#[test]
fn accuracy_gate_and_rules_checks() {
    let rules = ReportRules::default();
    assert_eq!(rules.accuracy(Some(5.0)), AccuracyVerdict::Good);
    assert_eq!(rules.accuracy(Some(50.0)), AccuracyVerdict::Good);
    assert_eq!(rules.accuracy(Some(51.0)), AccuracyVerdict::Imprecise);
    assert_eq!(rules.accuracy(Some(3000.0)), AccuracyVerdict::TooImprecise);
    assert_eq!(rules.accuracy(None), AccuracyVerdict::Unknown);
    let bad = ReportRules {
        warn_accuracy_m: 600.0,
        max_accuracy_m: 500.0,
        ..ReportRules::default()
    };
    assert!(bad.check().is_err());
    let nan = ReportRules {
        warn_accuracy_m: f64::NAN,
        ..rules
    };
    assert!(nan.check().is_err());
}

#[test]
fn gcj02_position_is_stored_as_wgs84_with_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open(dir.path());
    let id = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
    let r = ws
        .reports()
        .set_position(
            id.as_str(),
            &PositionFix {
                lat: 34.2230,
                lon: 108.9530,
                datum: Datum::Gcj02,
                accuracy_m: Some(8.0),
                fix_time: t0(),
                mock: false,
            },
        )
        .unwrap();
    let p = r.position.unwrap();
    assert_eq!(p.datum, Datum::Gcj02);
    assert_eq!((p.source_lat, p.source_lon), (34.2230, 108.9530));
    // GCJ-02 is offset by a few hundred metres in Xi'an.
    let d = crate::geo::distance_m(p.lat, p.lon, p.source_lat, p.source_lon);
    assert!(d > 100.0 && d < 1000.0, "{d}");
}

#[test]
fn check_lists_every_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open(dir.path());
    let id = ws.reports().create_draft("rider-1", "food.other").unwrap();
    let check = ws
        .reports()
        .check(id.as_str(), &ReportRules::default())
        .unwrap();
    let fields: Vec<&str> = check.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        ["position", "merchant_name", "description", "district"]
    );
    assert!(!check.can_submit());

    ws.reports()
        .set_position(
            id.as_str(),
            &PositionFix {
                lat: 34.25,
                lon: 108.94,
                datum: Datum::Wgs84,
                accuracy_m: None,
                fix_time: t0(),
                mock: true,
            },
        )
        .unwrap();
    // No station is installed, so the district cannot come from one.
    let check = ws
        .reports()
        .check(id.as_str(), &ReportRules::default())
        .unwrap();
    let district = check.problems.iter().find(|p| p.field == "district");
    assert!(
        district.unwrap().message.contains("within 5 km"),
        "{check:?}"
    );
    ws.reports()
        .update_draft(
            id.as_str(),
            &ReportPatch {
                merchant_address: Some("某路 1 号".into()),
                description: Some("后厨无证".into()),
                district: Some("610103".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let check = ws
        .reports()
        .check(id.as_str(), &ReportRules::default())
        .unwrap();
    assert!(check.can_submit(), "{check:?}");
    let warnings: Vec<&str> = check.warnings.iter().map(|p| p.message.as_str()).collect();
    assert!(warnings.iter().any(|w| w.contains("accuracy unknown")));
    assert!(warnings.iter().any(|w| w.contains("mock")));
}

#[test]
fn outbox_moves_from_pending_to_refused_to_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = open(dir.path());
    let id = ws
        .reports()
        .create_draft("rider-1", "station.closed")
        .unwrap();
    let err = ws
        .reports()
        .record_delivery(id.as_str(), &OutboxState::Pending)
        .unwrap_err();
    assert!(err.to_string().contains("draft"), "{err}");
    ws.reports()
        .set_position(
            id.as_str(),
            &PositionFix {
                lat: 34.25,
                lon: 108.94,
                datum: Datum::Wgs84,
                accuracy_m: Some(10.0),
                fix_time: t0(),
                mock: false,
            },
        )
        .unwrap();
    ws.reports()
        .update_draft(
            id.as_str(),
            &ReportPatch {
                district: Some("610113".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let r = ws
        .reports()
        .submit("rider-1", id.as_str(), &ReportRules::default())
        .unwrap();
    assert_eq!(r.outbox, Some(OutboxState::Pending));
    clock.set(t0() + chrono::Duration::minutes(5));
    let refused = OutboxState::Refused {
        reason: "schema".into(),
        at: ws.now(),
    };
    ws.reports().record_delivery(id.as_str(), &refused).unwrap();
    assert_eq!(ws.reports().get(id.as_str()).unwrap().outbox, Some(refused));
    let sent = OutboxState::Sent { at: ws.now() };
    ws.reports().record_delivery(id.as_str(), &sent).unwrap();
    assert_eq!(ws.reports().get(id.as_str()).unwrap().outbox, Some(sent));
}

fn seg(marker: u8, contents: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((contents.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(contents);
    s
}

#[test]
fn jpeg_end_walks_later_scans_and_cuts_the_trailer() {
    let mut j = vec![0xFF, 0xD8];
    j.extend(seg(0xC2, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
    j.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
    // Entropy data with byte stuffing and a restart marker.
    j.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
    // A table between scans whose contents happen to hold FF D9.
    j.extend(seg(0xC4, &[0x00, 0xFF, 0xD9, 0x01]));
    j.extend(seg(0xDA, &[1, 1, 0, 1, 63, 0]));
    j.extend([0x78, 0xFF, 0xD9]);
    let end = j.len();
    j.extend([0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xD9]);
    assert_eq!(photo::jpeg_end_for_tests(&j).unwrap(), end);
    let err = photo::jpeg_end_for_tests(&j[..end - 2]).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn stored_photo_file_is_named_by_the_sha256_of_its_bytes() {
    use img_parts::png::PngChunk;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [
        (*b"IHDR", &[0u8, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0][..]),
        (*b"tIME", &[7, 234, 11, 30, 12, 0, 0][..]),
        (*b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0, 0, 0, 2, 0, 1][..]),
        (*b"IEND", &[][..]),
    ] {
        let chunk = PngChunk::new(kind, img_parts::Bytes::copy_from_slice(data));
        png.extend_from_slice(&chunk.encoder().bytes());
    }
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open(dir.path());
    let id = ws.reports().create_draft("rider-1", "other").unwrap();
    let p = ws
        .reports()
        .attach_photo(id.as_str(), &png, &ReportRules::default())
        .unwrap();
    let path = ws.reports().photo_path(&p.sha256).unwrap();
    let stored = std::fs::read(&path).unwrap();
    assert_eq!(crate::packs::sha256_hex(&stored), p.sha256);
    assert_eq!(path.file_name().unwrap().to_str().unwrap(), p.sha256);
    assert!(stored.len() < png.len(), "the tIME chunk is gone");
}

#[test]
fn district_is_checked_cleared_and_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open(dir.path());
    let id = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
    let set = |code: &str| {
        ws.reports().update_draft(
            id.as_str(),
            &ReportPatch {
                district: Some(code.into()),
                description: Some("changed".into()),
                ..Default::default()
            },
        )
    };
    let r = set(" 610113 ").unwrap();
    assert_eq!(r.district.as_deref(), Some("610113"));
    for bad in ["610199", "6101", "yanta", "6101130", "610113\u{0}"] {
        let err = set(bad).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::InvalidInput(_)), "{msg}");
        assert!(msg.contains("district '"), "{msg}");
        assert!(msg.contains("610102, 610103"), "{msg}");
        assert_eq!(
            ws.reports().get(id.as_str()).unwrap(),
            r,
            "the draft is intact"
        );
    }
    assert!(set("610199").unwrap_err().to_string().contains("'610199'"));
    let summary = |ws: &Waystation| ws.reports().summaries("rider-1", None).unwrap()[0].clone();
    assert_eq!(summary(&ws).district.as_deref(), Some("610113"));
    let r = set("").unwrap();
    assert_eq!(r.district, None);
    assert_eq!(summary(&ws).district, None);
}

#[test]
fn a_draft_stays_clean_and_compacts_without_history_and_submission_makes_it_dirty() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open(dir.path());
    let id = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
    let info = |ws: &Waystation| {
        documents::info(&ws.store().read(), &id.doc_id())
            .unwrap()
            .unwrap()
    };
    let history = |ws: &Waystation| {
        documents::load(&ws.store().read(), &id.doc_id())
            .unwrap()
            .unwrap()
            .get_changes(&[])
            .len()
    };
    assert!(!info(&ws).dirty);
    for i in 0..=index::REPORT_COMPACT_AFTER_CHANGES {
        ws.reports()
            .update_draft(
                id.as_str(),
                &ReportPatch {
                    description: Some(format!("edit {i}")),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(!info(&ws).dirty, "a draft is never dirty");
    }
    // The ninth stored change compacted the draft into one change, without history.
    assert_eq!(info(&ws).pending_changes, 0);
    assert_eq!(history(&ws), 1);
    ws.reports()
        .update_draft(
            id.as_str(),
            &ReportPatch {
                district: Some("610104".into()),
                ..Default::default()
            },
        )
        .unwrap();
    ws.reports()
        .set_position(
            id.as_str(),
            &PositionFix {
                lat: 34.25,
                lon: 108.94,
                datum: Datum::Wgs84,
                accuracy_m: Some(5.0),
                fix_time: t0(),
                mock: false,
            },
        )
        .unwrap();
    assert_eq!(history(&ws), 3);
    let draft = ws.reports().get(id.as_str()).unwrap();
    let r = ws
        .reports()
        .submit("rider-1", id.as_str(), &ReportRules::default())
        .unwrap();
    // Rebuilt just before the submission change: what sync sends is two changes.
    assert_eq!(history(&ws), 2);
    let i = info(&ws);
    assert!(i.dirty);
    let doc = documents::load(&ws.store().read(), &id.doc_id())
        .unwrap()
        .unwrap();
    let mut heads = doc.clone().get_heads();
    heads.sort();
    assert_eq!(i.heads, heads);
    assert_eq!(r.description.as_deref(), Some("edit 8"));
    assert_eq!(r.district.as_deref(), Some("610104"));
    assert_eq!(
        Report {
            status: ReportStatus::Draft,
            submitted_at: None,
            outbox: None,
            ..r.clone()
        },
        draft
    );
    // A submitted report keeps its history when it compacts.
    ws.reports()
        .withdraw("rider-1", id.as_str(), "拍错了")
        .unwrap();
    assert_eq!(history(&ws), 3);
}

/// A road-hazard draft by `rider-1` with everything submission needs.
fn ready_draft(ws: &Waystation) -> ReportId {
    let id = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
    let patch = ReportPatch {
        description: Some("井盖缺失".into()),
        district: Some("610103".into()),
        ..ReportPatch::default()
    };
    ws.reports().update_draft(id.as_str(), &patch).unwrap();
    let fix = PositionFix {
        lat: 34.2595,
        lon: 108.9424,
        datum: Datum::Wgs84,
        accuracy_m: Some(8.0),
        fix_time: t0(),
        mock: false,
    };
    ws.reports().set_position(id.as_str(), &fix).unwrap();
    id
}

#[test]
fn the_outbox_functions_sync_calls_keep_drafts_and_other_documents_out() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = open(dir.path());
    let id = ready_draft(&ws);
    let doc_id = id.doc_id();
    let outbox_of = |ws: &Waystation| ws.reports().get(id.as_str()).unwrap().outbox;
    {
        let conn = ws.store().read();
        // A draft never leaves the phone, and sync's answers cannot give it an outbox state.
        assert!(!outbox::is_sendable(&conn, &doc_id).unwrap());
        assert!(outbox::is_sendable(&conn, "case:whatever").unwrap());
        outbox::record_accepted(&conn, &doc_id, true, t0()).unwrap();
        outbox::record_refused(&conn, "progress:rider-1", "no", t0()).unwrap();
    }
    assert_eq!(outbox_of(&ws), None);

    ws.reports()
        .submit("rider-1", id.as_str(), &ReportRules::default())
        .unwrap();
    assert!(outbox::is_sendable(&ws.store().read(), &doc_id).unwrap());
    assert_eq!(outbox_of(&ws), Some(OutboxState::Pending));
    outbox::record_refused(&ws.store().write(), &doc_id, "district closed", t0()).unwrap();
    let refused = OutboxState::Refused {
        reason: "district closed".into(),
        at: t0(),
    };
    assert_eq!(outbox_of(&ws), Some(refused));

    // Accepted: sent, and a later acceptance of a copy without news keeps the first time.
    outbox::record_accepted(&ws.store().write(), &doc_id, false, t0()).unwrap();
    assert_eq!(outbox_of(&ws), Some(OutboxState::Sent { at: t0() }));
    clock.set(t0() + chrono::Duration::minutes(5));
    let later = ws.now();
    outbox::record_accepted(&ws.store().write(), &doc_id, false, later).unwrap();
    assert_eq!(outbox_of(&ws), Some(OutboxState::Sent { at: t0() }));
    outbox::record_accepted(&ws.store().write(), &doc_id, true, later).unwrap();
    assert_eq!(outbox_of(&ws), Some(OutboxState::Sent { at: later }));

    // A restore sends its author's reports again; another author's are left alone.
    outbox::resend_all_of(&ws.store().write(), "rider-2").unwrap();
    assert_eq!(outbox_of(&ws), Some(OutboxState::Sent { at: later }));
    outbox::resend_all_of(&ws.store().write(), "rider-1").unwrap();
    assert_eq!(outbox_of(&ws), Some(OutboxState::Pending));

    // Forgetting the copy (an erasure drops it) leaves no index row to list it by.
    outbox::record_refused(&ws.store().write(), &doc_id, "again", later).unwrap();
    outbox::forget(&ws.store().write(), &doc_id).unwrap();
    assert!(ws.reports().summaries("rider-1", None).unwrap().is_empty());
    assert_eq!(
        outbox::state(&ws.store().read(), &id).unwrap(),
        OutboxState::Pending
    );
    // A malformed report id is refused, naming it as not a report id.
    let err = outbox::record_refused(&ws.store().write(), "report:nope", "x", later).unwrap_err();
    assert!(err.to_string().contains("not a report id"), "{err}");
}
