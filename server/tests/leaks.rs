//! What the server must not give away: a photo to whoever learnt its SHA-256, or, through
//! the answer to a probe, whether a photo, a user id or a report exists and where a report was
//! made. Real server on loopback, real documents made by a device.

mod common;

use automerge::AutoCommit;
use common::*;
use waystation_core::reports::{CaseEventKind, CaseRole};
use waystation_core::sync::protocol::SyncRequest;
use waystation_server::Role;

/// An answer's status, headers (name and value, sorted, but the date) and body.
type WholeAnswer = (u16, Vec<(String, Vec<u8>)>, Vec<u8>);

/// Status, headers (but the date) and body of an answer.
fn whole_answer(r: reqwest::blocking::Response) -> WholeAnswer {
    let status = r.status().as_u16();
    let mut headers: Vec<(String, Vec<u8>)> = r
        .headers()
        .iter()
        .filter(|(k, _)| k.as_str() != "date")
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect();
    headers.sort();
    (status, headers, r.bytes().unwrap().to_vec())
}

/// A photo's SHA-256 leaks (feeds, Open311 `media_url`s): naming it in one's own report must
/// not make the photo readable, and a photo one may not read is answered exactly like a
/// missing one, so the answer does not tell that it exists.
#[test]
fn a_photo_hash_is_not_a_capability() {
    let server = TestServer::start();
    // rider-1 takes a photo and uploads it; their report is not on the server yet.
    let f1 = Factory::new();
    let (report_1, photo) = f1.report_with_photo("rider-1");
    let sha = sha256_hex(&photo);
    let path = format!("/v1/photos/{sha}");
    let rider_1 = server.user("rider-1", Role::Rider, &[]);
    assert_eq!(rider_1.put(&path, photo.clone()).status().as_u16(), 201);
    // rider-2 learnt the hash and names it in a report of their own, without the bytes (a
    // second device attaches the same bytes, so the report is a real one), and syncs it.
    let f2 = Factory::new();
    let (report_2, same) = f2.report_with_photo("rider-2");
    assert_eq!(sha256_hex(&same), sha);
    let doc_2 = f2.report_doc(&report_2);
    let district = district_of(&doc_2);
    let rider_2 = server.user("rider-2", Role::Rider, &[]);
    let mut device_2 = Device::new(rider_2.with_token(&rider_2.token));
    device_2.put(&format!("report:{report_2}"), "report", doc_2);
    let replies = device_2.sync();
    assert!(replies[0].docs[0].refused.is_none(), "{replies:?}");
    // The sync tells rider-2's device that it has not uploaded that photo.
    assert_eq!(replies[0].missing_photos, vec![sha.clone()]);

    // Neither rider-2 nor the station staff of the district (who may read rider-2's report)
    // can read the photo, and the answer is the one for a photo that does not exist.
    let staff = server.user("staff-1", Role::Station, &[&district]);
    let never = format!("/v1/photos/{}", sha256_hex(b"never uploaded"));
    for who in [&rider_2, &staff] {
        assert_eq!(
            whole_answer(who.get(&path)),
            whole_answer(who.get(&never)),
            "GET of a forbidden and of a missing photo differ"
        );
        assert_eq!(
            whole_answer(who.head(&path)),
            whole_answer(who.head(&never))
        );
        assert_error(who.get(&path), 404, "not_found");
    }

    // rider-1's report, whose author uploaded the bytes, links them: the staff reads it.
    let mut device_1 = Device::new(rider_1);
    device_1.put(
        &format!("report:{report_1}"),
        "report",
        f1.report_doc(&report_1),
    );
    device_1.sync();
    assert_eq!(staff.get(&path).bytes().unwrap().to_vec(), photo);
    assert_error(rider_2.get(&path), 404, "not_found");

    // Uploading the same bytes makes rider-2 an uploader too (it holds them), answered like a
    // first upload, so a PUT does not tell either that the photo was there.
    assert_eq!(rider_2.put(&path, photo.clone()).status().as_u16(), 201);
    assert_eq!(rider_2.put(&path, photo.clone()).status().as_u16(), 200);
    assert_eq!(rider_2.get(&path).bytes().unwrap().to_vec(), photo);
    assert_eq!(server.count("SELECT count(*) FROM photos"), 1);
    assert_eq!(server.count("SELECT count(*) FROM photo_uploaders"), 2);
}

/// Another account's training progress, and the case of a report the caller may not read, get
/// one answer whether they exist or not: probing ids tells neither which user ids exist nor
/// where a report was made.
#[test]
fn probing_document_ids_tells_nothing() {
    let server = TestServer::start();
    let mut alice = Device::new(server.user("alice", Role::Rider, &[]));
    alice.put(
        "progress:alice",
        "training-progress",
        progress_doc("alice", 3),
    );
    assert!(alice.sync()[0].docs[0].refused.is_none());
    let bob = server.user("bob", Role::Rider, &[]);
    server.user("carol", Role::Rider, &[]);
    let answer = |api: &Api, id: &str, kind: &str, mut doc: AutoCommit| {
        let r = api
            .sync(&SyncRequest {
                cursor: 0,
                docs: vec![doc_message(id, kind, encoded_since(&mut doc, &[]))],
            })
            .unwrap();
        (r.docs[0].message.clone(), r.docs[0].refused.clone())
    };
    // Alice's (stored), Carol's (an account without progress) and a user id nobody has.
    for user in ["alice", "carol", "nobody"] {
        let id = format!("progress:{user}");
        for doc in [AutoCommit::new(), progress_doc(user, 1)] {
            let (message, refused) = answer(&bob, &id, "training-progress", doc);
            assert_eq!(message, None, "{id}");
            assert_eq!(
                refused.as_deref(),
                Some("training progress is private to its owner"),
                "{id}"
            );
        }
    }

    // A case written by station staff of another district, for a report on the server and for
    // one that is not: the same refusal, which names no district.
    let f = Factory::new();
    let on_server = f.report("rider-1", "road.hazard");
    let doc = f.report_doc(&on_server);
    let district = district_of(&doc);
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    rider.put(&format!("report:{on_server}"), "report", doc);
    rider.sync();
    let elsewhere = f.report("rider-1", "road.hazard");
    let outsider = server.user("staff-2", Role::Station, &[OTHER_DISTRICT]);
    let mut answers = Vec::new();
    for report in [&on_server, &elsewhere] {
        f.case_event(
            report,
            "staff-2",
            CaseRole::StationStaff,
            CaseEventKind::Acknowledge,
        );
        let id = format!("case:{report}");
        answers.push(answer(&outsider, &id, "case", f.doc(&id)));
        answers.push(answer(&outsider, &id, "case", AutoCommit::new()));
    }
    for (message, refused) in &answers {
        assert_eq!(message, &None);
        let refused = refused.as_deref().unwrap();
        assert!(!refused.contains(&district), "{refused}");
        assert_eq!(refused, answers[0].1.as_deref().unwrap());
    }
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'case'"),
        0
    );
}

/// An inspection photo (a photo named by a case event) is read by the case's readers — the
/// district's follow-up accounts and the rider whose report it is — once the event's writer
/// has uploaded it, and by nobody else. Naming a hash in an event, without having uploaded
/// the bytes, links nothing (the same rule as a report's photos).
#[test]
fn an_inspection_photo_is_read_by_the_cases_readers_only() {
    let server = TestServer::start();
    let f = Factory::new();
    let report = f.report("rider-1", "food.unlicensed");
    let report_doc = f.report_doc(&report);
    let district = district_of(&report_doc);
    let rider_1 = server.user("rider-1", Role::Rider, &[]);
    let mut rider_device = Device::new(rider_1.with_token(&rider_1.token));
    rider_device.put(&format!("report:{report}"), "report", report_doc);
    assert!(rider_device.sync()[0].docs[0].refused.is_none());

    // rider-2 holds a photo of their own on the server; the follow-up device stores the same
    // bytes for an inspection.
    let stored = f.ws.cases().store_photo(&png_1x1()).expect("photo stored");
    let sha = stored.sha256.clone();
    let photo = std::fs::read(f.ws.reports().photo_path(&sha).unwrap()).unwrap();
    let path = format!("/v1/photos/{sha}");
    let rider_2 = server.user("rider-2", Role::Rider, &[]);
    assert_eq!(rider_2.put(&path, photo.clone()).status().as_u16(), 201);

    // staff-1 names the hash in a note without uploading the bytes: the case is accepted,
    // and links nothing.
    let case_id = format!("case:{report}");
    let shas = vec![sha.clone()];
    let note = |actor: &str, role| {
        f.ws.cases()
            .record_with_photos(&report, actor, role, CaseEventKind::Note, "", &shas)
            .expect("inspection note recorded");
    };
    note("staff-1", CaseRole::StationStaff);
    let staff = server.user("staff-1", Role::Station, &[&district]);
    let mut staff_device = Device::new(staff.with_token(&staff.token));
    staff_device.put(&case_id, "case", f.doc(&case_id));
    assert!(staff_device.sync()[0].docs[0].refused.is_none());
    let sup = server.user("sup-1", Role::Supervisor, &[&district]);
    for who in [&staff, &sup, &rider_1] {
        assert_error(who.get(&path), 404, "not_found");
    }

    // sup-1 uploads the photo and names it in an inspection note: the case links it.
    assert_eq!(sup.put(&path, photo.clone()).status().as_u16(), 201);
    note("sup-1", CaseRole::Supervisor);
    let mut sup_device = Device::new(sup.with_token(&sup.token));
    sup_device.put(&case_id, "case", f.doc(&case_id));
    assert!(sup_device.sync()[0].docs[0].refused.is_none());
    for who in [&staff, &rider_1] {
        assert_eq!(who.get(&path).bytes().unwrap().to_vec(), photo);
    }
    // Nobody else: another rider, station staff of another district.
    let rider_3 = server.user("rider-3", Role::Rider, &[]);
    let elsewhere = server.user("staff-9", Role::Station, &["610113"]);
    for who in [&rider_3, &elsewhere] {
        assert_error(who.get(&path), 404, "not_found");
    }
}
