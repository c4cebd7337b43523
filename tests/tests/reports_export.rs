//! The report index (kept in the same transaction as every report edit, rebuilt after an
//! upgrade) and the Open311 / GeoJSON exports, through the public API on a real data directory.

use chrono::Duration;

use waystation_core::reports::{
    CaseEventKind, CaseRole, DuplicateRules, Open311Status, ReportPatch, ReportRules, ReportStatus,
    ReportSummary,
};
use waystation_core::{Error, Waystation};
use waystation_tests::jpeg_with_metadata as jpeg;
use waystation_tests::reports::{DISTRICT, draft_at, invalid, noon, open_at, submitted_at};

/// Bell Tower, Xi'an, WGS-84.
const BELL_TOWER: (f64, f64) = (34.25953, 108.94235);
/// About one metre of latitude, in degrees.
const M: f64 = 1.0 / 111_000.0;

/// The index must say exactly what the documents say.
fn assert_index_matches_documents(ws: &Waystation, author: &str) {
    let summaries = ws.reports().summaries(author, None).unwrap();
    let reports = ws.reports().by_author(author).unwrap();
    assert_eq!(summaries.len(), reports.len());
    for (s, r) in summaries.iter().zip(&reports) {
        assert_eq!(s.id, r.id);
        assert_eq!(s.author, r.author);
        assert_eq!(s.category, r.category);
        assert_eq!(s.status, r.status);
        assert_eq!(s.lat, r.position.as_ref().map(|p| p.lat));
        assert_eq!(s.lon, r.position.as_ref().map(|p| p.lon));
        assert_eq!(s.created_at, r.created_at);
        assert_eq!(s.submitted_at, r.submitted_at);
        assert_eq!(s.district, r.district);
    }
    let drafts: Vec<_> = ws
        .reports()
        .summaries(author, Some(ReportStatus::Draft))
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let want: Vec<_> = ws
        .reports()
        .drafts(author)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(drafts, want);
}

fn summary(ws: &Waystation, author: &str, id: &str) -> ReportSummary {
    ws.reports()
        .summaries(author, None)
        .unwrap()
        .into_iter()
        .find(|s| s.id.as_str() == id)
        .unwrap()
}

#[test]
fn index_follows_every_edit_delete_withdrawal_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = open_at(dir.path(), noon());
    let (lat, lon) = BELL_TOWER;
    let a = draft_at(&ws, "rider-1", "food.seal", lat, lon);
    clock.set(noon() + Duration::seconds(1));
    let b = submitted_at(&ws, "rider-1", "road.hazard", lat + 100.0 * M, lon);
    clock.set(noon() + Duration::seconds(2));
    let c = submitted_at(&ws, "rider-1", "road.hazard", lat + 200.0 * M, lon);
    clock.set(noon() + Duration::seconds(3));
    let gone = ws.reports().create_draft("rider-1", "other").unwrap();
    let bare = ws.reports().create_draft("rider-1", "other").unwrap();
    let theirs = ws.reports().create_draft("rider-2", "other").unwrap();

    assert_eq!(summary(&ws, "rider-1", bare.as_str()).lat, None);
    assert_eq!(summary(&ws, "rider-1", &b).status, ReportStatus::Submitted);
    ws.reports()
        .update_draft(
            &a,
            &ReportPatch {
                category: Some("food.hygiene".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(summary(&ws, "rider-1", &a).category.code(), "food.hygiene");
    ws.reports().withdraw("rider-1", &c, "误报").unwrap();
    assert_eq!(summary(&ws, "rider-1", &c).status, ReportStatus::Withdrawn);
    ws.reports().delete_draft("rider-1", gone.as_str()).unwrap();
    assert_index_matches_documents(&ws, "rider-1");
    assert_index_matches_documents(&ws, "rider-2");
    assert_eq!(ws.reports().summaries("rider-1", None).unwrap().len(), 4);
    assert_eq!(
        ws.reports().summaries("rider-2", None).unwrap()[0]
            .id
            .as_str(),
        theirs.as_str()
    );

    // A refused edit changes neither the document nor the index.
    invalid(
        ws.reports().update_draft(
            &b,
            &ReportPatch {
                category: Some("other".into()),
                ..Default::default()
            },
        ),
        "submitted",
    );
    assert_eq!(summary(&ws, "rider-1", &b).category.code(), "road.hazard");

    drop(ws);
    let (ws, _) = open_at(dir.path(), noon() + Duration::seconds(10));
    assert_index_matches_documents(&ws, "rider-1");
    assert_eq!(ws.reports().summaries("rider-1", None).unwrap().len(), 4);
}

#[test]
fn index_is_rebuilt_from_the_documents_after_an_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open_at(dir.path(), noon());
    let (lat, lon) = BELL_TOWER;
    let a = submitted_at(&ws, "rider-1", "road.hazard", lat, lon);
    let b = draft_at(&ws, "rider-1", "food.seal", lat, lon);
    let before = ws.reports().summaries("rider-1", None).unwrap();
    drop(ws);
    {
        // What a v5 database looks like after the v6 migration: documents, no index rows,
        // the rebuild flag set.
        let conn = rusqlite::Connection::open(dir.path().join("waystation.sqlite3")).unwrap();
        conn.execute_batch(
            "DELETE FROM report_index; INSERT INTO report_index_rebuild (id) VALUES (1);",
        )
        .unwrap();
    }
    let (ws, _) = open_at(dir.path(), noon());
    assert_eq!(ws.reports().summaries("rider-1", None).unwrap(), before);
    let ids: Vec<String> = before.iter().map(|s| s.id.to_string()).collect();
    assert!(ids.contains(&a) && ids.contains(&b));
    // Nearby duplicates also see the rebuilt index.
    let mine = draft_at(&ws, "rider-2", "road.hazard", lat + 5.0 * M, lon);
    let hits = ws
        .reports()
        .nearby_duplicates(&mine, &DuplicateRules::default())
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].report.id.as_str(), a);
}

#[test]
fn index_is_unchanged_by_case_events_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = open_at(dir.path(), noon());
    let id = submitted_at(&ws, "rider-1", "road.hazard", BELL_TOWER.0, BELL_TOWER.1);
    let before = ws.reports().summaries("rider-1", None).unwrap();
    ws.cases()
        .record(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Acknowledge,
            "",
        )
        .unwrap();
    let early = ws.cases().document_bytes(&id).unwrap();
    clock.set(noon() + Duration::minutes(5));
    ws.cases()
        .record(
            &id,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Resolve,
            "",
        )
        .unwrap();
    let merged = ws.cases().merge_from(&id, &early).unwrap();
    assert_eq!(merged.open311_status, Open311Status::Closed);
    assert_eq!(ws.reports().summaries("rider-1", None).unwrap(), before);
    assert_index_matches_documents(&ws, "rider-1");
}

#[test]
fn nearby_duplicates_use_the_index_and_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open_at(dir.path(), noon());
    // At 60° N a degree of longitude is half as long: the box must widen in longitude.
    let (lat, lon): (f64, f64) = (60.0, 30.0);
    let lon_m = M / lat.to_radians().cos();
    let east_45 = submitted_at(&ws, "rider-1", "road.hazard", lat, lon + 45.0 * lon_m);
    let east_55 = submitted_at(&ws, "rider-1", "road.hazard", lat, lon + 55.0 * lon_m);
    let north_20 = submitted_at(&ws, "rider-1", "road.hazard", lat + 20.0 * M, lon);
    let withdrawn = submitted_at(&ws, "rider-1", "road.hazard", lat, lon + lon_m);
    ws.reports()
        .withdraw("rider-1", &withdrawn, "误报")
        .unwrap();
    let mine = draft_at(&ws, "rider-2", "road.hazard", lat, lon);
    let hits = ws
        .reports()
        .nearby_duplicates(&mine, &DuplicateRules::default())
        .unwrap();
    let got: Vec<&str> = hits.iter().map(|c| c.report.id.as_str()).collect();
    assert_eq!(got, [north_20.as_str(), east_45.as_str()]);
    assert!(!got.contains(&east_55.as_str()));
    assert!(
        (hits[1].distance_m - 45.0).abs() < 0.5,
        "{}",
        hits[1].distance_m
    );
}

#[test]
fn open311_maps_every_field_and_closed_cases_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = open_at(dir.path(), noon());
    let (lat, lon) = BELL_TOWER;
    let id = draft_at(&ws, "rider-1", "food.seal", lat, lon);
    let photo = ws
        .reports()
        .attach_photo(&id, &jpeg(80), &ReportRules::default())
        .unwrap();
    ws.reports()
        .submit("rider-1", &id, &ReportRules::default())
        .unwrap();

    let open = ws.reports().export_open311(&id).unwrap();
    assert_eq!(open.service_request_id, id);
    assert_eq!(open.service_code, "food.seal");
    assert!(!open.service_name.is_empty());
    assert_eq!((open.lat, open.long), (Some(lat), Some(lon)));
    assert_eq!(open.address.as_deref(), Some("钟楼东南角"));
    assert_eq!(
        open.description.as_deref(),
        Some("老孙家泡馍: 外卖封签被撕开")
    );
    assert_eq!(open.status, Open311Status::Open);
    // Not dispatched yet: the agency is the report's district.
    assert_eq!(open.agency_responsible.as_deref(), Some(DISTRICT));
    assert_eq!(open.requested_datetime, "2026-11-30T04:00:00.000Z");
    assert_eq!(open.updated_datetime, open.requested_datetime);
    let uri = format!("waystation-photo:sha256:{}", photo.sha256);
    assert_eq!(open.media_url.as_deref(), Some(uri.as_str()));
    assert_eq!(open.media_urls, std::slice::from_ref(&uri));

    clock.set(noon() + Duration::hours(1));
    ws.cases()
        .record(
            &id,
            "staff-1",
            CaseRole::StationStaff,
            CaseEventKind::Dispatch {
                grid_id: "XA-BL-07".into(),
            },
            "",
        )
        .unwrap();
    clock.set(noon() + Duration::hours(2));
    ws.cases()
        .record(
            &id,
            "grid-1",
            CaseRole::GridWorker,
            CaseEventKind::Resolve,
            "商户已整改",
        )
        .unwrap();
    let closed = ws.reports().export_open311(&id).unwrap();
    assert_eq!(closed.status, Open311Status::Closed);
    assert!(
        closed.status_notes.contains("resolved"),
        "{}",
        closed.status_notes
    );
    assert!(closed.status_notes.contains("商户已整改"));
    assert_eq!(closed.agency_responsible.as_deref(), Some("XA-BL-07"));
    assert_eq!(closed.updated_datetime, "2026-11-30T06:00:00.000Z");

    // As JSON, with Open311's field names.
    let json = serde_json::to_value(&closed).unwrap();
    assert_eq!(json["status"], "closed");
    assert_eq!(json["long"], lon);
    assert_eq!(json["service_code"], "food.seal");
}

#[test]
fn rejected_and_withdrawn_reports_export_as_closed_with_notes() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open_at(dir.path(), noon());
    let (lat, lon) = BELL_TOWER;
    let rejected = submitted_at(&ws, "rider-1", "road.hazard", lat, lon);
    ws.cases()
        .record(
            &rejected,
            "sup-1",
            CaseRole::Supervisor,
            CaseEventKind::Reject {
                reason: "不在辖区".into(),
            },
            "",
        )
        .unwrap();
    let r = ws.reports().export_open311(&rejected).unwrap();
    assert_eq!(r.status, Open311Status::Closed);
    assert!(r.status_notes.contains("不在辖区"), "{}", r.status_notes);

    let withdrawn = submitted_at(&ws, "rider-1", "road.hazard", lat, lon);
    ws.reports()
        .withdraw("rider-1", &withdrawn, "已自行处理")
        .unwrap();
    let w = ws.reports().export_open311(&withdrawn).unwrap();
    assert_eq!(w.status, Open311Status::Closed);
    assert!(w.status_notes.contains("withdrawn"), "{}", w.status_notes);
    assert!(w.status_notes.contains("已自行处理"));
}

#[test]
fn drafts_are_not_exportable() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = open_at(dir.path(), noon());
    let draft = draft_at(&ws, "rider-1", "food.seal", BELL_TOWER.0, BELL_TOWER.1);
    let sent = submitted_at(&ws, "rider-1", "road.hazard", BELL_TOWER.0, BELL_TOWER.1);
    invalid(ws.reports().export_open311(&draft), "is a draft");
    invalid(
        ws.reports().export_geojson(&[sent.clone(), draft.clone()]),
        "is a draft",
    );
    match ws
        .reports()
        .export_open311("0190a000-0000-7000-8000-000000000000")
    {
        Err(Error::NotFound(_)) => {}
        other => panic!("expected not found, got {other:?}"),
    }
    // The author-wide export leaves drafts out.
    let all = ws.reports().export_geojson_by("rider-1").unwrap();
    let features = all["features"].as_array().unwrap();
    assert_eq!(features.len(), 1);
    assert_eq!(features[0]["id"], sent);
}

#[test]
fn geojson_is_lon_lat_with_category_status_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = open_at(dir.path(), noon());
    let a = submitted_at(&ws, "rider-1", "road.hazard", 34.25, 108.94);
    clock.set(noon() + Duration::minutes(1));
    let b = submitted_at(&ws, "rider-1", "station.closed", 34.26, 108.95);
    let fc = ws
        .reports()
        .export_geojson(&[a.clone(), b.clone()])
        .unwrap();
    assert_eq!(fc["type"], "FeatureCollection");
    let f = &fc["features"][0];
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["id"], a);
    assert_eq!(f["geometry"]["type"], "Point");
    assert_eq!(
        f["geometry"]["coordinates"],
        serde_json::json!([108.94, 34.25])
    );
    let p = &f["properties"];
    assert_eq!(p["category"], "road.hazard");
    assert_eq!(p["status"], "submitted");
    assert_eq!(p["case_status"], "open");
    assert_eq!(p["open311_status"], "open");
    assert_eq!(p["submitted_at"], "2026-11-30T04:00:00.000Z");
    assert_eq!(fc["features"][1]["id"], b);
    assert_eq!(
        fc["features"][1]["geometry"]["coordinates"],
        serde_json::json!([108.95, 34.26])
    );
    // By author: newest first.
    let by = ws.reports().export_geojson_by("rider-1").unwrap();
    assert_eq!(by["features"][0]["id"], b);
}
