//! End-to-end tests of hazard reports through the public API, on a real SQLite data directory:
//! categories, drafts with autosave, position evidence, submission and the outbox, every kind
//! of bad input, and durability across reopening and a killed process.

use chrono::Duration;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde_json::json;
use waystation_core::geo::Datum;
use waystation_core::reports::{
    ALL_CATEGORIES, CaseEventKind, CaseRole, Category, MAX_DESCRIPTION_CHARS, OutboxState,
    PositionFix, Report, ReportPatch, ReportRules, ReportStatus,
};
use waystation_core::{Error, FixedClock, Options, Waystation};
use waystation_tests::reports::{DISTRICT, invalid, noon, not_found};
use waystation_tests::{
    SECRET, jpeg_with_metadata as jpeg, png_with_metadata as png, sign, synthetic_payload, trusted,
    webp_with_metadata as webp,
};

fn open_at(dir: &Path, clock: Arc<FixedClock>) -> Waystation {
    Waystation::open_with_clock(dir, Options::default(), clock).unwrap()
}

fn open(dir: &Path) -> Waystation {
    open_at(dir, Arc::new(FixedClock::new(noon())))
}

fn text(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// Bell Tower, WGS-84, 8 m accuracy, fixed a minute ago.
fn place(ws: &Waystation, id: &str) -> Report {
    ws.reports()
        .set_position(
            id,
            &PositionFix {
                lat: 34.25953,
                lon: 108.94235,
                datum: Datum::Wgs84,
                accuracy_m: Some(8.0),
                fix_time: noon() - Duration::minutes(1),
                mock: false,
            },
        )
        .unwrap()
}

/// A food-safety draft that can be submitted.
fn ready_food_report(ws: &Waystation, author: &str) -> String {
    let id = ws.reports().create_draft(author, "food.seal").unwrap();
    ws.reports()
        .update_draft(
            id.as_str(),
            &ReportPatch {
                merchant_name: text("老孙家泡馍"),
                description: text("外卖封签被撕开"),
                district: text(DISTRICT),
                ..Default::default()
            },
        )
        .unwrap();
    place(ws, id.as_str());
    id.to_string()
}

fn integrity_ok(dir: &Path) {
    let conn = rusqlite::Connection::open(dir.join("waystation.sqlite3")).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn every_category_has_labels_and_a_stable_code() {
    assert_eq!(ALL_CATEGORIES.len(), 17);
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    for c in ALL_CATEGORIES {
        let id = ws.reports().create_draft("rider-1", c.code()).unwrap();
        assert_eq!(ws.reports().get(id.as_str()).unwrap().category, c);
        assert!(!c.label_zh().is_empty() && !c.label_en().is_empty());
    }
    assert_eq!(ws.reports().drafts("rider-1").unwrap().len(), 17);
    assert_eq!("food.seal".parse::<Category>().unwrap(), Category::FoodSeal);
}

#[test]
fn unknown_category_is_refused_naming_it_and_the_draft_stays_intact() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    invalid(
        ws.reports().create_draft("rider-1", "food.poisoning"),
        "'food.poisoning'",
    );
    invalid(ws.reports().create_draft("rider-1", "nope"), "food.seal, ");
    assert!(ws.reports().drafts("rider-1").unwrap().is_empty());

    let id = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
    let before = ws
        .reports()
        .update_draft(
            id.as_str(),
            &ReportPatch {
                description: text("井盖缺失"),
                ..Default::default()
            },
        )
        .unwrap();
    invalid(
        ws.reports().update_draft(
            id.as_str(),
            &ReportPatch {
                category: text("road.pothole"),
                description: text("changed"),
                ..Default::default()
            },
        ),
        "unknown report category 'road.pothole'",
    );
    assert_eq!(ws.reports().get(id.as_str()).unwrap(), before);
    let after = ws
        .reports()
        .update_draft(
            id.as_str(),
            &ReportPatch {
                category: text("road.junction"),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(after.category, Category::RoadJunction);
    assert_eq!(after.description.as_deref(), Some("井盖缺失"));
}

#[test]
fn drafts_autosave_list_clear_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(noon()));
    let (a, b);
    {
        let ws = open_at(dir.path(), clock.clone());
        a = ws
            .reports()
            .create_draft("rider-1", "access.no_parking")
            .unwrap();
        clock.set(noon() + Duration::seconds(1));
        b = ws
            .reports()
            .create_draft("rider-1", "food.hygiene")
            .unwrap();
        ws.reports().create_draft("rider-2", "other").unwrap();
        ws.reports()
            .update_draft(
                a.as_str(),
                &ReportPatch {
                    address: text("小寨东路 1 号"),
                    description: text("  no place to park  "),
                    ..Default::default()
                },
            )
            .unwrap();
        ws.reports()
            .update_draft(
                b.as_str(),
                &ReportPatch {
                    merchant_name: text("某餐馆"),
                    merchant_address: text("长安路 2 号"),
                    ..Default::default()
                },
            )
            .unwrap();
        // An empty string clears a field; None leaves it alone.
        ws.reports()
            .update_draft(
                b.as_str(),
                &ReportPatch {
                    merchant_address: text(""),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    let ws = open(dir.path());
    let drafts = ws.reports().drafts("rider-1").unwrap();
    let ids: Vec<&str> = drafts.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [b.as_str(), a.as_str()], "newest first");
    assert_eq!(drafts[1].address.as_deref(), Some("小寨东路 1 号"));
    assert_eq!(drafts[1].description.as_deref(), Some("no place to park"));
    assert_eq!(drafts[0].merchant_name.as_deref(), Some("某餐馆"));
    assert_eq!(drafts[0].merchant_address, None);
    assert!(drafts.iter().all(|r| r.status == ReportStatus::Draft));
    assert!(drafts.iter().all(|r| r.outbox.is_none()));
    assert_eq!(ws.reports().drafts("rider-2").unwrap().len(), 1);
    integrity_ok(dir.path());
}

/// The app and, say, a home-screen widget open the same data directory. Each keeps the draft
/// it last saved loaded for its next autosave; neither may then write over the other's edit,
/// in the document, in the listed row or across compaction.
#[test]
fn two_handles_on_one_data_directory_autosave_one_draft_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path());
    let widget = open(dir.path());
    let id = app.reports().create_draft("rider-1", "food.seal").unwrap();
    // Enough turns to pass the draft's compaction several times.
    for i in 0..30 {
        let (writer, field) = if i % 2 == 0 {
            (&app, "description")
        } else {
            (&widget, "merchant")
        };
        let patch = if field == "description" {
            ReportPatch {
                description: text(&format!("seal torn, turn {i}")),
                ..Default::default()
            }
        } else {
            ReportPatch {
                merchant_name: text(&format!("老孙家 {i}")),
                ..Default::default()
            }
        };
        let seen = writer.reports().update_draft(id.as_str(), &patch).unwrap();
        if i > 0 {
            // The other handle's last edit is in what this one saved and returned.
            let (desc, merchant) = if i % 2 == 0 {
                (format!("seal torn, turn {i}"), format!("老孙家 {}", i - 1))
            } else {
                (format!("seal torn, turn {}", i - 1), format!("老孙家 {i}"))
            };
            assert_eq!(seen.description.as_deref(), Some(desc.as_str()), "turn {i}");
            assert_eq!(
                seen.merchant_name.as_deref(),
                Some(merchant.as_str()),
                "turn {i}"
            );
            for ws in [&app, &widget] {
                let listed = ws.reports().drafts("rider-1").unwrap();
                assert_eq!(listed[0].description.as_deref(), Some(desc.as_str()));
                assert_eq!(listed[0].merchant_name.as_deref(), Some(merchant.as_str()));
            }
        }
    }
    drop((app, widget));
    let ws = open(dir.path());
    let r = ws.reports().get(id.as_str()).unwrap();
    assert_eq!(r.description.as_deref(), Some("seal torn, turn 28"));
    assert_eq!(r.merchant_name.as_deref(), Some("老孙家 29"));
    integrity_ok(dir.path());
}

/// A device that trusts the test key, with three stations around the Bell Tower: one 50 m away
/// whose district code is not one of Xi'an's (a pack is checked for the code's shape only), one
/// 600 m north in Xincheng, and one by the Big Wild Goose Pagoda in Yanta.
fn device_with_stations(dir: &Path) -> Waystation {
    let config = Options {
        trusted_keys: trusted(),
        ..Options::default()
    };
    let ws = Waystation::open_with_clock(dir, config, Arc::new(FixedClock::new(noon()))).unwrap();
    let mut payload = synthetic_payload("xa", 1, 3, 1);
    for (i, (lat, lon, district)) in [
        (34.2600, 108.9424, "610199"),
        (34.2650, 108.9430, "610102"),
        (34.2190, 108.9640, "610113"),
    ]
    .into_iter()
    .enumerate()
    {
        payload["stations"][i]["position"] = json!({"lat": lat, "lon": lon, "datum": "wgs84"});
        payload["stations"][i]["district"] = json!(district);
    }
    ws.packs().import_stations(&sign(&payload)).unwrap();
    ws
}

#[test]
fn submission_takes_the_district_of_the_nearest_station_within_5_km() {
    let dir = tempfile::tempdir().unwrap();
    let ws = device_with_stations(dir.path());
    let rules = ReportRules::default();
    let draft = |district: Option<&str>| {
        let id = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
        ws.reports()
            .update_draft(
                id.as_str(),
                &ReportPatch {
                    district: district.map(str::to_string),
                    ..Default::default()
                },
            )
            .unwrap();
        id.to_string()
    };

    // At the Bell Tower: the nearest station's code is not Xi'an's, so the next one's is used.
    let near = draft(None);
    place(&ws, &near);
    assert!(ws.reports().check(&near, &rules).unwrap().can_submit());
    assert_eq!(
        ws.reports().get(&near).unwrap().district,
        None,
        "not filled before submission"
    );
    let sent = ws.reports().submit("rider-1", &near, &rules).unwrap();
    assert_eq!(sent.district.as_deref(), Some("610102"));
    let row = ws
        .reports()
        .summaries("rider-1", Some(ReportStatus::Submitted))
        .unwrap();
    assert_eq!(row[0].district.as_deref(), Some("610102"));
    ws.cases()
        .record(
            &near,
            "staff-1",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
            "",
        )
        .unwrap();
    assert_eq!(
        ws.reports()
            .export_open311(&near)
            .unwrap()
            .agency_responsible
            .as_deref(),
        Some("610102")
    );

    // A district the author set wins over the stations.
    let chosen = draft(Some(DISTRICT));
    place(&ws, &chosen);
    let sent = ws.reports().submit("rider-1", &chosen, &rules).unwrap();
    assert_eq!(sent.district.as_deref(), Some(DISTRICT));

    // In Zhouzhi, far from every station: the district is listed with every other problem,
    // and the draft stays as it was.
    let far = ws
        .reports()
        .create_draft("rider-1", "food.hygiene")
        .unwrap();
    let before = ws
        .reports()
        .set_position(
            far.as_str(),
            &PositionFix {
                lat: 34.16,
                lon: 108.22,
                datum: Datum::Wgs84,
                accuracy_m: Some(8.0),
                fix_time: noon(),
                mock: false,
            },
        )
        .unwrap();
    let check = ws.reports().check(far.as_str(), &rules).unwrap();
    let fields: Vec<&str> = check.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["merchant_name", "district"]);
    invalid(
        ws.reports().submit("rider-1", far.as_str(), &rules),
        "merchant_name: a 'food.hygiene' report needs the merchant's name or address; \
         district: unknown: no installed red station within 5 km of the position names one; \
         set the district",
    );
    assert_eq!(ws.reports().get(far.as_str()).unwrap(), before);
    ws.reports()
        .update_draft(
            far.as_str(),
            &ReportPatch {
                merchant_name: text("无名小吃"),
                district: text("610124"),
                ..Default::default()
            },
        )
        .unwrap();
    let sent = ws
        .reports()
        .submit("rider-1", far.as_str(), &rules)
        .unwrap();
    assert_eq!(sent.district.as_deref(), Some("610124"));

    // Without a position there is nothing to take the district from.
    let nowhere = draft(None);
    let check = ws.reports().check(&nowhere, &rules).unwrap();
    let district = check
        .problems
        .iter()
        .find(|p| p.field == "district")
        .unwrap();
    assert!(district.message.contains("or the position"), "{district:?}");
    integrity_ok(dir.path());
}

#[test]
fn an_unknown_district_is_refused_naming_it_and_the_draft_stays_intact() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let id = ready_food_report(&ws, "rider-1");
    let before = ws.reports().get(&id).unwrap();
    assert_eq!(before.district.as_deref(), Some(DISTRICT));
    for (bad, shown) in [
        ("610199", "'610199'"),
        ("西安", "'西安'"),
        ("6101", "'6101'"),
    ] {
        invalid(
            ws.reports().update_draft(
                &id,
                &ReportPatch {
                    district: text(bad),
                    description: text("changed"),
                    ..Default::default()
                },
            ),
            &format!("district {shown} is not a GB/T 2260 code of a district of Xi'an"),
        );
        assert_eq!(ws.reports().get(&id).unwrap(), before);
    }
    let sent = ws
        .reports()
        .submit("rider-1", &id, &ReportRules::default())
        .unwrap();
    invalid(
        ws.reports().update_draft(
            &id,
            &ReportPatch {
                district: text("610113"),
                ..Default::default()
            },
        ),
        "was submitted and cannot be edited",
    );
    assert_eq!(ws.reports().get(&id).unwrap(), sent);
}

#[test]
fn over_limit_text_is_refused_naming_the_field_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let id = ws
        .reports()
        .create_draft("rider-1", "food.spoiled")
        .unwrap();
    let max = "字".repeat(MAX_DESCRIPTION_CHARS);
    let ok = ws
        .reports()
        .update_draft(
            id.as_str(),
            &ReportPatch {
                description: Some(max.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(ok.description.as_deref(), Some(max.as_str()));
    let cases = [
        (
            ReportPatch {
                description: Some(format!("{max}x")),
                merchant_name: text("changed"),
                ..Default::default()
            },
            "description is 4001 characters; at most 4000",
        ),
        (
            ReportPatch {
                merchant_name: Some("x".repeat(201)),
                ..Default::default()
            },
            "merchant_name is 201 characters",
        ),
        (
            ReportPatch {
                merchant_address: Some("x".repeat(501)),
                ..Default::default()
            },
            "merchant_address",
        ),
        (
            ReportPatch {
                address: Some("x".repeat(501)),
                ..Default::default()
            },
            "address is 501",
        ),
        (
            ReportPatch {
                merchant_name: text("bad\u{0}name"),
                ..Default::default()
            },
            "merchant_name contains a control character",
        ),
    ];
    for (patch, want) in &cases {
        invalid(ws.reports().update_draft(id.as_str(), patch), want);
        assert_eq!(ws.reports().get(id.as_str()).unwrap(), ok);
    }
    invalid(ws.reports().create_draft("", "other"), "author is empty");
    invalid(
        ws.reports().create_draft(&"a".repeat(129), "other"),
        "author is longer",
    );
}

#[test]
fn invalid_coordinates_are_refused_and_the_draft_stays_intact() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let id = ws
        .reports()
        .create_draft("rider-1", "road.traffic_light")
        .unwrap();
    let placed = place(&ws, id.as_str());
    let fix = noon();
    let bad = [
        (f64::NAN, 108.9, Some(5.0), fix, "latitude is not a finite"),
        (
            34.2,
            f64::INFINITY,
            Some(5.0),
            fix,
            "longitude is not a finite",
        ),
        (91.0, 108.9, Some(5.0), fix, "latitude 91 is outside"),
        (34.2, -181.0, Some(5.0), fix, "longitude -181 is outside"),
        (0.0, 0.0, Some(5.0), fix, "(0, 0) is not a real fix"),
        (34.2, 108.9, Some(-1.0), fix, "accuracy must be"),
        (34.2, 108.9, Some(f64::NAN), fix, "accuracy must be"),
        (34.2, 108.9, Some(0.0), fix, "accuracy must be"),
        (34.2, 108.9, None, fix + Duration::hours(1), "in the future"),
    ];
    for (lat, lon, acc, at, want) in bad {
        invalid(
            ws.reports().set_position(
                id.as_str(),
                &PositionFix {
                    lat,
                    lon,
                    datum: Datum::Wgs84,
                    accuracy_m: acc,
                    fix_time: at,
                    mock: false,
                },
            ),
            want,
        );
        assert_eq!(ws.reports().get(id.as_str()).unwrap(), placed);
    }
    // A BD-09 fix is stored in WGS-84 with its source datum; a mock fix is kept and flagged.
    let r = ws
        .reports()
        .set_position(
            id.as_str(),
            &PositionFix {
                lat: 34.2650,
                lon: 108.9560,
                datum: Datum::Bd09,
                accuracy_m: None,
                fix_time: fix,
                mock: true,
            },
        )
        .unwrap();
    let p = r.position.unwrap();
    assert_eq!(p.datum, Datum::Bd09);
    assert!(p.mock);
    assert_eq!(p.accuracy_m, None);
    assert!((p.lat - 34.2650).abs() > 1e-3);
}

#[test]
fn accuracy_gate_warns_refuses_and_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let id = ready_food_report(&ws, "rider-1");
    let rules = ReportRules::default();
    let set = |acc: Option<f64>| {
        ws.reports()
            .set_position(
                &id,
                &PositionFix {
                    lat: 34.25,
                    lon: 108.94,
                    datum: Datum::Wgs84,
                    accuracy_m: acc,
                    fix_time: noon(),
                    mock: false,
                },
            )
            .unwrap();
    };
    set(Some(3000.0));
    let check = ws.reports().check(&id, &rules).unwrap();
    assert!(!check.can_submit());
    assert!(check.problems[0].message.contains("worse than 500 m"));
    invalid(
        ws.reports().submit("rider-1", &id, &rules),
        "worse than 500 m",
    );
    let lax = ReportRules {
        warn_accuracy_m: 100.0,
        max_accuracy_m: 5000.0,
        ..ReportRules::default()
    };
    assert!(ws.reports().check(&id, &lax).unwrap().can_submit());
    set(Some(120.0));
    let check = ws.reports().check(&id, &rules).unwrap();
    assert!(check.can_submit());
    assert!(check.warnings[0].message.contains("worse than 50 m"));
    set(None);
    let check = ws.reports().check(&id, &rules).unwrap();
    assert!(check.can_submit());
    assert_eq!(check.warnings[0].message, "accuracy unknown");
    let broken = ReportRules {
        warn_accuracy_m: -1.0,
        max_accuracy_m: 10.0,
        ..ReportRules::default()
    };
    invalid(ws.reports().check(&id, &broken), "thresholds");
}

#[test]
fn submit_lists_every_problem_then_freezes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let rules = ReportRules::default();
    let id = ws.reports().create_draft("rider-1", "food.other").unwrap();
    invalid(
        ws.reports().submit("rider-1", id.as_str(), &rules),
        "position: missing; every report needs where it was made; merchant_name: a 'food.other' \
         report needs the merchant's name or address; description: a 'food.other' report needs \
         a description",
    );
    assert_eq!(
        ws.reports().get(id.as_str()).unwrap().status,
        ReportStatus::Draft
    );

    let id = ready_food_report(&ws, "rider-1");
    invalid(
        ws.reports().submit("rider-2", &id, &rules),
        "another author",
    );
    let r = ws.reports().submit("rider-1", &id, &rules).unwrap();
    assert_eq!(r.status, ReportStatus::Submitted);
    assert_eq!(r.submitted_at, Some(noon()));
    assert_eq!(r.outbox, Some(OutboxState::Pending));
    invalid(
        ws.reports().submit("rider-1", &id, &rules),
        "already submitted",
    );
    invalid(
        ws.reports().update_draft(
            &id,
            &ReportPatch {
                description: text("later"),
                ..Default::default()
            },
        ),
        "was submitted and cannot be edited",
    );
    invalid(
        ws.reports().set_position(
            &id,
            &PositionFix {
                lat: 34.2,
                lon: 108.9,
                datum: Datum::Wgs84,
                accuracy_m: None,
                fix_time: noon(),
                mock: false,
            },
        ),
        "cannot be edited",
    );
    assert_eq!(ws.reports().get(&id).unwrap(), r);
    assert!(ws.reports().drafts("rider-1").unwrap().len() == 1);
    assert_eq!(ws.reports().by_author("rider-1").unwrap().len(), 2);

    invalid(ws.reports().withdraw("rider-2", &id, "x"), "another author");
    let w = ws.reports().withdraw("rider-1", &id, "拍错了").unwrap();
    assert_eq!(w.status, ReportStatus::Withdrawn);
    assert_eq!(w.withdraw_reason.as_deref(), Some("拍错了"));
    assert_eq!(w.description, r.description);
    invalid(
        ws.reports().withdraw("rider-1", &id, ""),
        "already withdrawn",
    );
    invalid(
        ws.reports()
            .withdraw("rider-1", id.as_str(), &"x".repeat(1001)),
        "reason is 1001",
    );
    let draft = ws.reports().drafts("rider-1").unwrap()[0].id.clone();
    invalid(
        ws.reports().withdraw("rider-1", draft.as_str(), ""),
        "delete it instead",
    );
}

#[test]
fn only_a_draft_and_only_by_its_author_can_be_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let mine = ws
        .reports()
        .create_draft("rider-1", "access.signage")
        .unwrap();
    invalid(
        ws.reports().delete_draft("rider-2", mine.as_str()),
        "belongs to another author",
    );
    assert_eq!(ws.reports().drafts("rider-1").unwrap().len(), 1);

    let sent = ready_food_report(&ws, "rider-1");
    ws.reports()
        .submit("rider-1", &sent, &ReportRules::default())
        .unwrap();
    invalid(
        ws.reports().delete_draft("rider-1", &sent),
        "was submitted and cannot be deleted",
    );
    assert_eq!(
        ws.reports().get(&sent).unwrap().status,
        ReportStatus::Submitted
    );

    ws.reports().delete_draft("rider-1", mine.as_str()).unwrap();
    not_found(ws.reports().get(mine.as_str()));
    not_found(ws.reports().delete_draft("rider-1", mine.as_str()));
    assert!(ws.reports().drafts("rider-1").unwrap().is_empty());
    assert_eq!(ws.reports().by_author("rider-1").unwrap().len(), 1);
    integrity_ok(dir.path());
}

#[test]
fn unknown_and_malformed_report_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let ghost = "0190f5c0-0000-7000-8000-000000000000";
    not_found(ws.reports().get(ghost));
    not_found(ws.reports().update_draft(ghost, &ReportPatch::default()));
    not_found(ws.reports().set_position(
        ghost,
        &PositionFix {
            lat: 34.2,
            lon: 108.9,
            datum: Datum::Wgs84,
            accuracy_m: None,
            fix_time: noon(),
            mock: false,
        },
    ));
    not_found(ws.reports().delete_draft("rider-1", ghost));
    not_found(
        ws.reports()
            .submit("rider-1", ghost, &ReportRules::default()),
    );
    not_found(ws.reports().withdraw("rider-1", ghost, ""));
    not_found(ws.reports().check(ghost, &ReportRules::default()));
    not_found(ws.reports().record_delivery(ghost, &OutboxState::Pending));
    invalid(ws.reports().get("XA-0001"), "not a report id");
    invalid(ws.reports().get(""), "not a report id");
    // A station or progress document is never mistaken for a report.
    assert!(ws.reports().by_author("rider-1").unwrap().is_empty());
}

#[test]
fn many_edits_compact_and_every_acknowledged_edit_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(noon()));
    let ids: Vec<String> = {
        let ws = open_at(dir.path(), clock.clone());
        let ids: Vec<String> = (0..5)
            .map(|i| {
                clock.set(noon() + Duration::seconds(i));
                ws.reports()
                    .create_draft("rider-1", "road.hazard")
                    .unwrap()
                    .to_string()
            })
            .collect();
        for round in 0..40 {
            for id in &ids {
                ws.reports()
                    .update_draft(
                        id,
                        &ReportPatch {
                            description: Some(format!("{id} edit {round}")),
                            ..Default::default()
                        },
                    )
                    .unwrap();
            }
        }
        ids
    };
    let ws = open(dir.path());
    for id in &ids {
        let r = ws.reports().get(id).unwrap();
        assert_eq!(r.description, Some(format!("{id} edit 39")));
        let info =
            waystation_core::store::documents::info(&ws.store().read(), &format!("report:{id}"))
                .unwrap()
                .unwrap();
        assert!(info.pending_changes <= waystation_core::store::documents::COMPACT_AFTER_CHANGES);
        // A draft is never sent, so never dirty (docs/decisions/0006-draft-compaction.md).
        assert!(!info.dirty);
    }
    integrity_ok(dir.path());
}

const CHILD_ENV: &str = "WAYSTATION_REPORTS_AUTOSAVE_CHILD";

/// In the child: create drafts and autosave edits forever, printing each acknowledgement; now
/// and then submit a report (a draft compacted in one transaction, then submitted in another).
fn autosave_forever(dir: &Path) {
    let ws = open(dir);
    let main = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
    println!("\n@draft {main}");
    for i in 0u64.. {
        if i % 4 == 0 {
            let id = ws.reports().create_draft("rider-1", "other").unwrap();
            println!("@draft {id}");
        }
        if i % 7 == 0 {
            let id = ready_food_report(&ws, "rider-1");
            ws.reports()
                .submit("rider-1", &id, &ReportRules::default())
                .unwrap();
            println!("@sent {id}");
        }
        ws.reports()
            .update_draft(
                main.as_str(),
                &ReportPatch {
                    description: Some(format!("edit {i}")),
                    ..Default::default()
                },
            )
            .unwrap();
        println!("@ack {i}");
    }
}

#[test]
fn killing_the_process_mid_autosave_loses_no_acknowledged_edit() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        autosave_forever(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "killing_the_process_mid_autosave_loses_no_acknowledged_edit",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut drafts = Vec::new();
    let mut sent = Vec::new();
    let mut last_ack = None;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        // The test harness may print its own text before the first line; markers start lines.
        if let Some(id) = line.strip_prefix("@draft ") {
            drafts.push(id.to_string());
        } else if let Some(id) = line.strip_prefix("@sent ") {
            sent.push(id.to_string());
        } else if let Some(n) = line.strip_prefix("@ack ") {
            let n: u64 = n.parse().unwrap();
            last_ack = Some(n);
            if n >= 60 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let last_ack = last_ack.expect("the child acknowledged edits");

    let ws = open(dir.path());
    let main = ws.reports().get(&drafts[0]).unwrap();
    let n: u64 = main
        .description
        .unwrap()
        .strip_prefix("edit ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= last_ack, "edit {last_ack} was acknowledged, found {n}");
    for id in &drafts {
        assert_eq!(ws.reports().get(id).unwrap().status, ReportStatus::Draft);
    }
    assert!(sent.len() >= 8, "{} reports were submitted", sent.len());
    for id in &sent {
        let r = ws.reports().get(id).unwrap();
        assert_eq!(r.status, ReportStatus::Submitted);
        assert_eq!(r.district.as_deref(), Some(DISTRICT));
        assert_eq!(r.description.as_deref(), Some("外卖封签被撕开"));
    }
    integrity_ok(dir.path());
}

// ---- photos ----

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn photo_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("photos"))
        .map(|d| {
            d.filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count()
        })
        .unwrap_or(0)
}

#[test]
fn photos_are_stripped_of_all_metadata_and_stored_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let rules = ReportRules::default();
    let id = {
        let ws = open(dir.path());
        let id = ws
            .reports()
            .create_draft("rider-1", "food.hygiene")
            .unwrap();
        let cases: [(Vec<u8>, &str, &[u8]); 3] = [
            (jpeg(1), "image/jpeg", &[0xFF, 0xD8]),
            (png(), "image/png", b"\x89PNG"),
            (webp(), "image/webp", b"RIFF"),
        ];
        for (input, media_type, magic) in &cases {
            assert!(contains(input, SECRET));
            let p = ws
                .reports()
                .attach_photo(id.as_str(), input, &rules)
                .unwrap();
            assert_eq!(p.media_type, *media_type);
            assert_eq!(p.sha256.len(), 64);
            let path = ws.reports().photo_path(&p.sha256).unwrap();
            assert!(path.starts_with(dir.path().join("photos")));
            let stored = std::fs::read(&path).unwrap();
            assert!(stored.starts_with(magic), "{media_type}");
            assert!(!contains(&stored, SECRET), "{media_type} kept metadata");
            assert_eq!(stored.len() as i64, p.size_bytes);
            assert_eq!((p.width, p.height), (Some(1), Some(1)), "{media_type}");
        }
        // The JPEG keeps everything a decoder needs, and ends at its end marker.
        let stored = std::fs::read(
            ws.reports()
                .photo_path(&ws.reports().get(id.as_str()).unwrap().photos[0].sha256)
                .unwrap(),
        )
        .unwrap();
        assert!(stored.ends_with(&[0x3F, 0xFF, 0xD9]));
        assert!(contains(&stored, b"JFIF"));
        // The WebP no longer announces EXIF or XMP.
        let webp_sha = &ws.reports().get(id.as_str()).unwrap().photos[2].sha256;
        let stored = std::fs::read(ws.reports().photo_path(webp_sha).unwrap()).unwrap();
        assert!(!contains(&stored, b"EXIF") && !contains(&stored, b"XMP "));

        // The same photo again, to this report or another: stored once, listed once.
        let again = ws
            .reports()
            .attach_photo(id.as_str(), &jpeg(1), &rules)
            .unwrap();
        let other = ws.reports().create_draft("rider-1", "food.seal").unwrap();
        let there = ws
            .reports()
            .attach_photo(other.as_str(), &jpeg(1), &rules)
            .unwrap();
        assert_eq!(again, there);
        assert_eq!(ws.reports().get(id.as_str()).unwrap().photos.len(), 3);
        assert_eq!(photo_files(dir.path()), 3);
        id
    };
    let ws = open(dir.path());
    let photos = ws.reports().get(id.as_str()).unwrap().photos;
    let types: Vec<&str> = photos.iter().map(|p| p.media_type.as_str()).collect();
    assert_eq!(types, ["image/jpeg", "image/png", "image/webp"]);
    let r = ws
        .reports()
        .remove_photo(id.as_str(), &photos[1].sha256)
        .unwrap();
    assert_eq!(r.photos.len(), 2);
    assert!(matches!(
        ws.reports().remove_photo(id.as_str(), &photos[1].sha256),
        Err(Error::NotFound(_))
    ));
    invalid(ws.reports().photo_path("../../etc/passwd"), "SHA-256");
    integrity_ok(dir.path());
}

#[test]
fn bad_photos_are_refused_and_the_draft_stays_intact() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let rules = ReportRules::default();
    let id = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
    ws.reports()
        .attach_photo(id.as_str(), &jpeg(1), &rules)
        .unwrap();
    let before = ws.reports().get(id.as_str()).unwrap();

    let full = jpeg(2);
    let eoi = full
        .windows(3)
        .position(|w| w == [0x3F, 0xFF, 0xD9])
        .unwrap();
    let mut bad_crc = png();
    let n = bad_crc.len();
    bad_crc[n - 20] ^= 0xFF;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"hello, not an image".to_vec(), "not a JPEG, PNG or WebP"),
        (Vec::new(), "not a JPEG, PNG or WebP"),
        (
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            "not a JPEG, PNG or WebP",
        ),
        (full[..eoi + 1].to_vec(), "truncated"),
        (full[..40].to_vec(), "JPEG"),
        (png()[..60].to_vec(), "PNG"),
        (bad_crc, "PNG"),
        (webp()[..30].to_vec(), "WebP"),
    ];
    for (bytes, want) in &cases {
        invalid(ws.reports().attach_photo(id.as_str(), bytes, &rules), want);
        assert_eq!(ws.reports().get(id.as_str()).unwrap(), before);
    }

    let small = ReportRules {
        max_photo_bytes: 100,
        ..ReportRules::default()
    };
    invalid(
        ws.reports().attach_photo(id.as_str(), &jpeg(3), &small),
        "at most 100 bytes are allowed per photo",
    );
    let two = ReportRules {
        max_photos: 2,
        ..ReportRules::default()
    };
    ws.reports()
        .attach_photo(id.as_str(), &jpeg(4), &two)
        .unwrap();
    invalid(
        ws.reports().attach_photo(id.as_str(), &jpeg(5), &two),
        "already has 2 photos; at most 2",
    );
    // Attaching one it already has is not a new photo.
    ws.reports()
        .attach_photo(id.as_str(), &jpeg(4), &two)
        .unwrap();
    assert_eq!(ws.reports().get(id.as_str()).unwrap().photos.len(), 2);
    assert_eq!(photo_files(dir.path()), 2);

    let sent = ready_food_report(&ws, "rider-1");
    ws.reports().submit("rider-1", &sent, &rules).unwrap();
    invalid(
        ws.reports().attach_photo(&sent, &jpeg(1), &rules),
        "cannot be edited",
    );
    not_found(
        ws.reports()
            .attach_photo("0190f5c0-0000-7000-8000-000000000000", &jpeg(1), &rules),
    );
}
