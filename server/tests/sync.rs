//! The sync protocol end to end against a real server on loopback: reports, cases and
//! progress reach exactly the accounts that may read them; refusals are per document and
//! store nothing; the feed pages without skipping; replays and no-op syncs are harmless and
//! small; long histories are compacted.

mod common;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use common::*;
use waystation_core::reports::{CaseEventKind, CaseRole};
use waystation_core::store::documents::root_str;
use waystation_core::sync::protocol::{self, MAX_FEED_PER_RESPONSE, SyncRequest};
use waystation_server::{Role, UserChange};

#[test]
fn a_report_reaches_its_area_and_the_case_comes_back_to_the_rider() {
    let server = TestServer::start();
    let f = Factory::new();
    let report = f.report("rider-1", "food.seal");
    let report_doc = f.report_doc(&report);
    let district = district_of(&report_doc);
    let report_id = format!("report:{report}");

    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    let mut staff = Device::new(server.user("staff-1", Role::Station, &[&district]));
    let mut outsider = Device::new(server.user("staff-2", Role::Station, &[OTHER_DISTRICT]));
    let mut admin = Device::new(server.user("admin", Role::Admin, &[]));

    rider.put(&report_id, "report", report_doc);
    let first = rider.sync();
    assert!(first[0].docs[0].refused.is_none(), "{:?}", first[0].docs[0]);
    assert!(!rider.docs[&report_id].dirty, "the report converged");
    assert_eq!(
        server_heads(&server.db, &report_id),
        rider.heads(&report_id)
    );

    // The staff member of the report's district learns of it from the feed and fetches it.
    staff.sync();
    assert_eq!(staff.heads(&report_id), rider.heads(&report_id));
    assert_eq!(
        root_str(&staff.docs[&report_id].doc, "author").as_deref(),
        Some("rider-1")
    );
    // The admin sees it too; a station outside the district does not.
    admin.sync();
    assert!(admin.docs.contains_key(&report_id));
    outsider.sync();
    assert!(outsider.docs.is_empty(), "not in an outsider's feed");

    // The staff member acknowledges: the case goes up and reaches the rider.
    f.case_event(
        &report,
        "staff-1",
        CaseRole::StationStaff,
        CaseEventKind::Acknowledge,
    );
    let case_id = format!("case:{report}");
    staff.put(&case_id, "case", f.doc(&case_id));
    let r = staff.sync();
    assert!(r[0].docs[0].refused.is_none(), "{:?}", r[0].docs[0]);
    rider.sync();
    assert_eq!(rider.heads(&case_id), staff.heads(&case_id));
    let changed = rider.api.sync(&SyncRequest::default()).unwrap().changed;
    let case_entry = changed.iter().find(|c| c.doc_id == case_id).unwrap();
    assert_eq!(case_entry.kind, "case");
    assert_eq!(
        case_entry.owner, "rider-1",
        "a case's owner is its reporter"
    );
    outsider.sync();
    assert!(outsider.docs.is_empty());
}

#[test]
fn writes_outside_ones_role_or_area_are_refused_per_document_and_store_nothing() {
    let server = TestServer::start();
    let f = Factory::new();
    let mine = f.report("rider-1", "food.seal");
    let theirs = f.report("rider-2", "food.seal");
    let mine_doc = f.report_doc(&mine);
    let district = district_of(&mine_doc);
    let rider = server.user("rider-1", Role::Rider, &[]);
    let outsider = server.user("staff-2", Role::Station, &[OTHER_DISTRICT]);

    // One request: the rider's own report (accepted) and someone else's (refused).
    let mut theirs_doc = f.report_doc(&theirs);
    let mut mine_doc2 = mine_doc.clone();
    let response = rider
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![
                doc_message(
                    &format!("report:{mine}"),
                    "report",
                    encoded_since(&mut mine_doc2, &[]),
                ),
                doc_message(
                    &format!("report:{theirs}"),
                    "report",
                    encoded_since(&mut theirs_doc, &[]),
                ),
            ],
        })
        .unwrap();
    assert!(response.docs[0].refused.is_none());
    let why = response.docs[1].refused.as_deref().unwrap();
    assert!(why.contains("only its author"), "{why}");
    assert!(server_heads(&server.db, &format!("report:{theirs}")).is_empty());
    assert_eq!(server.count("SELECT count(*) FROM docs"), 1);

    // A rider cannot write a case, even one of their own report.
    f.case_event(
        &mine,
        "rider-1",
        CaseRole::StationStaff,
        CaseEventKind::Note,
    );
    let case_id = format!("case:{mine}");
    let mut case = f.doc(&case_id);
    let r = rider
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(&case_id, "case", encoded_since(&mut case, &[]))],
        })
        .unwrap();
    let why = r.docs[0].refused.as_deref().unwrap();
    assert!(why.contains("cannot write case events"), "{why}");

    // Station staff outside the report's district cannot write its case.
    f.case_event(
        &mine,
        "staff-2",
        CaseRole::StationStaff,
        CaseEventKind::Acknowledge,
    );
    let mut case = f.doc(&case_id);
    let r = outsider
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(&case_id, "case", encoded_since(&mut case, &[]))],
        })
        .unwrap();
    let why = r.docs[0].refused.as_deref().unwrap();
    assert!(why.contains("outside this account's areas"), "{why}");
    assert!(
        r.changed.is_empty(),
        "the report is not in the outsider's feed"
    );
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'case'"),
        0
    );

    // Staff of the district may, but not in someone else's name.
    let staff = server.user("staff-1", Role::Station, &[&district]);
    let r = staff
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(&case_id, "case", encoded_since(&mut case, &[]))],
        })
        .unwrap();
    let why = r.docs[0].refused.as_deref().unwrap();
    assert!(why.contains("claims actor"), "{why}");
    assert_eq!(
        server.count("SELECT count(*) FROM docs WHERE kind = 'case'"),
        0
    );
    // The refused reply still tells the device what the server has (nothing).
    assert!(r.docs[0].message.is_some());
}

#[test]
fn a_case_needs_its_report_on_the_server_and_reading_needs_access() {
    let server = TestServer::start();
    let f = Factory::new();
    let report = f.report("rider-1", "road.hazard");
    let doc = f.report_doc(&report);
    let district = district_of(&doc);
    f.case_event(
        &report,
        "staff-1",
        CaseRole::StationStaff,
        CaseEventKind::Acknowledge,
    );
    let case_id = format!("case:{report}");
    let staff = server.user("staff-1", Role::Station, &[&district]);
    let mut case = f.doc(&case_id);
    let r = staff
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(&case_id, "case", encoded_since(&mut case, &[]))],
        })
        .unwrap();
    let why = r.docs[0].refused.as_deref().unwrap();
    assert!(why.contains("not on the server yet"), "{why}");

    // Once the report is there, an outsider asking for it gets nothing of it.
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    rider.put(&format!("report:{report}"), "report", doc);
    rider.sync();
    let other_rider = server.user("rider-2", Role::Rider, &[]);
    let mut empty = AutoCommit::new();
    let r = other_rider
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(
                &format!("report:{report}"),
                "report",
                encoded_since(&mut empty, &[]),
            )],
        })
        .unwrap();
    assert!(r.docs[0].message.is_none(), "no content, no heads");
    assert!(
        r.docs[0]
            .refused
            .as_deref()
            .unwrap()
            .contains("not readable")
    );
    assert!(r.changed.is_empty());
}

#[test]
fn training_progress_is_private_to_its_owner() {
    let server = TestServer::start();
    let mut alice = Device::new(server.user("alice", Role::Rider, &[]));
    let bob = server.user("bob", Role::Rider, &[]);
    let admin = server.user("admin", Role::Admin, &[]);
    let supervisor = server.user("sup", Role::Supervisor, &["610103"]);

    alice.put(
        "progress:alice",
        "training-progress",
        progress_doc("alice", 3),
    );
    let r = alice.sync();
    assert!(r[0].docs[0].refused.is_none());

    // Bob can neither write Alice's progress nor read it; nobody else sees it in the feed.
    let mut forged = progress_doc("alice", 1);
    let r = bob
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(
                "progress:alice",
                "training-progress",
                encoded_since(&mut forged, &[]),
            )],
        })
        .unwrap();
    assert!(r.docs[0].message.is_none());
    assert!(r.docs[0].refused.is_some());
    for api in [&bob, &admin, &supervisor] {
        let feed = api.sync(&SyncRequest::default()).unwrap();
        assert!(feed.changed.is_empty(), "{:?}", feed.changed);
    }
    // Bob's own progress document must be his.
    let mut wrong_owner = progress_doc("alice", 0);
    let r = bob
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(
                "progress:bob",
                "training-progress",
                encoded_since(&mut wrong_owner, &[]),
            )],
        })
        .unwrap();
    assert!(
        r.docs[0]
            .refused
            .as_deref()
            .unwrap()
            .contains("not the training progress")
    );

    // A second device of Alice's gets her progress from the feed.
    let mut alice2 = Device::new(alice.api.with_token(&alice.api.token));
    alice2.sync();
    assert_eq!(
        alice2.heads("progress:alice"),
        alice.heads("progress:alice")
    );
}

#[test]
fn replays_and_duplicates_are_harmless_and_a_no_op_sync_is_tiny() {
    let server = TestServer::start();
    let f = Factory::new();
    let report = f.report("rider-1", "food.seal");
    let mut doc = f.report_doc(&report);
    let rider = server.user("rider-1", Role::Rider, &[]);
    let id = format!("report:{report}");
    let request = SyncRequest {
        cursor: 0,
        docs: vec![doc_message(&id, "report", encoded_since(&mut doc, &[]))],
    };
    let first = rider.sync(&request).unwrap();
    let seq_after_first = server.count("SELECT next_seq FROM meta");
    for _ in 0..3 {
        let again = rider.sync(&request).unwrap();
        assert!(again.docs[0].refused.is_none());
        assert_eq!(again.cursor, first.cursor);
    }
    assert_eq!(
        server.count("SELECT next_seq FROM meta"),
        seq_after_first,
        "a replay changes nothing, not even the feed"
    );
    assert_eq!(server.count("SELECT count(*) FROM doc_changes"), 0);

    // Nothing to do: one small round trip.
    let noop = protocol::encode(&SyncRequest {
        cursor: first.cursor,
        docs: vec![],
    });
    assert!(noop.len() < 200);
    let r = rider.post_sync_raw(noop);
    let bytes = r.bytes().unwrap();
    assert!(bytes.len() < 200, "{} bytes", bytes.len());
    let answer: protocol::SyncResponse = protocol::decode(&bytes).unwrap();
    assert!(answer.changed.is_empty() && answer.docs.is_empty() && !answer.more);
    assert_eq!(answer.cursor, first.cursor);

    // A withdrawal is the one change a submitted report may take; a replay of the old
    // message after it changes nothing.
    let shared = doc.get_heads();
    f.ws.reports()
        .withdraw("rider-1", &report, "duplicate of another report")
        .unwrap();
    let mut device = f.doc(&id);
    doc.merge(&mut device).unwrap();
    let r = rider
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(&id, "report", encoded_since(&mut doc, &shared))],
        })
        .unwrap();
    assert!(r.docs[0].refused.is_none(), "{:?}", r.docs[0].refused);
    let mut heads = doc.get_heads();
    heads.sort();
    assert_eq!(server_heads(&server.db, &id), heads);
    rider.sync(&request).unwrap();
    assert_eq!(server_heads(&server.db, &id), heads);
}

#[test]
fn submitted_reports_cannot_be_edited_through_sync() {
    let server = TestServer::start();
    let f = Factory::new();
    let report = f.report("rider-1", "food.seal");
    let mut doc = f.report_doc(&report);
    let id = format!("report:{report}");
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    rider.put(&id, "report", doc.clone());
    rider.sync();
    let before = server_heads(&server.db, &id);

    let shared = doc.get_heads();
    doc.put(ROOT, "category", "road.hazard").unwrap();
    doc.commit();
    let r = rider
        .api
        .sync(&SyncRequest {
            cursor: 0,
            docs: vec![doc_message(&id, "report", encoded_since(&mut doc, &shared))],
        })
        .unwrap();
    let why = r.docs[0].refused.as_deref().unwrap();
    assert!(why.contains("only withdrawal"), "{why}");
    assert_eq!(server_heads(&server.db, &id), before);
}

#[test]
fn the_feed_pages_without_skipping_a_readable_document() {
    let server = TestServer::start();
    let f = Factory::new();
    let mut template = f.report_doc(&f.report("rider-1", "food.seal"));
    let district = district_of(&template);
    let rider = server.user("rider-1", Role::Rider, &[]);
    let other = server.user("rider-2", Role::Rider, &[]);
    let n = MAX_FEED_PER_RESPONSE + 37;
    // Copies of one report under new ids, interleaved with documents the staff may not read.
    let mut ids = Vec::new();
    let mut docs = Vec::new();
    for i in 0..n {
        let mut d = template.fork();
        let rid = format!("0190a8a4-7c1e-7000-8000-{i:012}");
        d.put(ROOT, "id", rid.as_str()).unwrap();
        d.commit();
        let id = format!("report:{rid}");
        docs.push(doc_message(&id, "report", encoded_since(&mut d, &[])));
        ids.push(id);
        if i % 100 == 0 {
            let user = "rider-2";
            let mut p = progress_doc(user, 1);
            other
                .sync(&SyncRequest {
                    cursor: 0,
                    docs: vec![doc_message(
                        &format!("progress:{user}"),
                        "training-progress",
                        encoded_since(&mut p, &[]),
                    )],
                })
                .unwrap();
        }
    }
    for chunk in docs.chunks(200) {
        let r = rider
            .sync(&SyncRequest {
                cursor: 0,
                docs: chunk.to_vec(),
            })
            .unwrap();
        assert!(r.docs.iter().all(|d| d.refused.is_none()));
    }
    let staff = server.user("staff-1", Role::Station, &[&district]);
    // Reads the feed from `cursor` to its end: (ids listed, sorted; pages; the last cursor).
    let read_feed = |mut cursor: u64| {
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let r = staff
                .sync(&SyncRequest {
                    cursor,
                    docs: vec![],
                })
                .unwrap();
            pages += 1;
            assert!(r.changed.len() <= MAX_FEED_PER_RESPONSE);
            seen.extend(r.changed.iter().map(|c| c.doc_id.clone()));
            assert!(r.cursor >= cursor);
            cursor = r.cursor;
            if !r.more {
                seen.sort();
                return (seen, pages, cursor);
            }
        }
    };
    let (seen, pages, cursor) = read_feed(0);
    assert_eq!(pages, 2);
    ids.sort();
    assert_eq!(seen, ids, "every report exactly once");

    // A change of the staff member's areas: the cursor it holds was issued under the old
    // scope, so the feed starts again, and pages under the new one without a restart loop.
    server
        .admin()
        .update_user(
            "staff-1",
            &UserChange {
                areas: Some(vec![district.clone(), OTHER_DISTRICT.to_string()]),
                ..Default::default()
            },
        )
        .unwrap();
    let (again, pages, cursor) = read_feed(cursor);
    assert_eq!(pages, 2);
    assert_eq!(again, ids, "every report exactly once more");
    let (after, pages, _) = read_feed(cursor);
    assert_eq!((after.len(), pages), (0, 1), "then nothing");
}

#[test]
fn long_histories_are_compacted_and_still_sync() {
    let server = TestServer::start();
    let mut alice = Device::new(server.user("alice", Role::Rider, &[]));
    alice.put(
        "progress:alice",
        "training-progress",
        progress_doc("alice", 1),
    );
    alice.sync();
    use automerge::ReadDoc;
    // Lesson completions: the progress check allows no other root field.
    let completed = |d: &AutoCommit| match d.get(ROOT, "completed").unwrap() {
        Some((_, id)) => id,
        None => panic!("progress_doc has a completed map"),
    };
    let done = |i: i64| automerge::ScalarValue::Timestamp(1_800_000_000_000 + i);
    let r = alice.docs.get_mut("progress:alice").unwrap();
    let map = completed(&r.doc);
    for i in 0..70 {
        r.doc.put(&map, format!("late{i}"), done(i)).unwrap();
        r.doc.commit();
    }
    r.dirty = true;
    let sent = alice.sync();
    assert!(sent[0].docs[0].refused.is_none(), "{sent:?}");
    assert_eq!(
        server.count("SELECT count(*) FROM doc_changes"),
        0,
        "70 new changes fold into a new snapshot"
    );
    let r = alice.docs.get_mut("progress:alice").unwrap();
    r.doc.put(&map, "after", done(1)).unwrap();
    r.doc.commit();
    r.dirty = true;
    alice.sync();
    assert_eq!(server.count("SELECT count(*) FROM doc_changes"), 1);
    let mut fresh = Device::new(alice.api.with_token(&alice.api.token));
    fresh.sync();
    assert_eq!(fresh.heads("progress:alice"), alice.heads("progress:alice"));
    let doc = &fresh.docs["progress:alice"].doc;
    assert_eq!(doc.keys(completed(doc)).count(), 1 + 70 + 1);
}

#[test]
fn responses_name_the_store_generation_and_a_cursor_beyond_the_feed_asks_for_a_reset() {
    let server = TestServer::start();
    let f = Factory::new();
    let mut rider = Device::new(server.user("rider-1", Role::Rider, &[]));
    let report = f.report("rider-1", "food.seal");
    rider.put(&format!("report:{report}"), "report", f.report_doc(&report));
    rider.sync();
    let noop = rider
        .api
        .sync(&SyncRequest {
            cursor: rider.cursor,
            docs: vec![],
        })
        .unwrap();
    assert_eq!(noop.generation.len(), 16, "{noop:?}");
    assert!(!noop.reset);
    // A cursor the feed never reached: the store is older than what the device saw.
    let beyond = rider
        .api
        .sync(&SyncRequest {
            cursor: rider.cursor + 10,
            docs: vec![],
        })
        .unwrap();
    assert!(beyond.reset, "{beyond:?}");
    assert_eq!(beyond.changed.len(), 1, "the feed from the start");
    // Marking a restore draws a new generation.
    let marked = server.admin().mark_restored().unwrap();
    assert_ne!(marked, noop.generation);
    let after = rider
        .api
        .sync(&SyncRequest {
            cursor: rider.cursor,
            docs: vec![],
        })
        .unwrap();
    assert_eq!(after.generation, marked);
    assert!(!after.reset);
}

/// A submitted report by `author` with `photo` attached, made on `f`; returns its id and the
/// photo's bytes and SHA-256 as the device stored them.
fn report_with(f: &Factory, author: &str, photo: &[u8]) -> (String, Vec<u8>, String) {
    let id = f.draft(author, "food.seal");
    let stored =
        f.ws.reports()
            .attach_photo(
                &id,
                photo,
                &waystation_core::reports::ReportRules::default(),
            )
            .unwrap();
    let bytes = std::fs::read(f.ws.reports().photo_path(&stored.sha256).unwrap()).unwrap();
    f.submit(author, &id);
    (id, bytes, stored.sha256)
}

/// The photos a request's reports name that their author has not uploaded come back in its
/// answer, each once, and only for the account's own reports: a photo someone else uploaded
/// does not count, another author's report adds nothing. The store answers for all of a
/// request's reports in one query (one round trip on PostgreSQL, where it was one per
/// report: 20 for a first sync in sync_load).
#[test]
fn a_requests_missing_photos_are_found_in_one_query() {
    let server = TestServer::start();
    let f = Factory::new();
    let rider_1 = server.user("rider-1", Role::Rider, &[]);
    let rider_2 = server.user("rider-2", Role::Rider, &[]);
    let (uploaded, up_bytes, _) = report_with(&f, "rider-1", &png_grey(10));
    let (lacking, _, lacking_sha) = report_with(&f, "rider-1", &png_grey(20));
    let (others, other_bytes, others_sha) = report_with(&f, "rider-1", &png_grey(30));
    let (twice_a, _, twice_sha) = report_with(&f, "rider-1", &png_grey(40));
    let (twice_b, _, twice_b_sha) = report_with(&f, "rider-1", &png_grey(40));
    assert_eq!(twice_sha, twice_b_sha, "the same photo on two reports");
    let without = f.report("rider-1", "food.seal");
    let (rider_2s, _, _) = report_with(&f, "rider-2", &png_grey(50));
    // rider-1 uploaded one photo; rider-2 uploaded the one rider-1 also names, not its own.
    let put = |api: &Api, bytes: &[u8]| {
        let path = format!("/v1/photos/{}", sha256_hex(bytes));
        assert_eq!(api.put(&path, bytes.to_vec()).status().as_u16(), 201);
    };
    put(&rider_1, &up_bytes);
    put(&rider_2, &other_bytes);

    let ids = |reports: &[&String]| -> Vec<String> {
        reports.iter().map(|r| format!("report:{r}")).collect()
    };
    let mine = ids(&[&uploaded, &lacking, &others, &twice_a, &twice_b, &without]);
    let mut device_1 = Device::new(rider_1);
    for id in &mine {
        let report = id.strip_prefix("report:").unwrap();
        device_1.put(id, "report", f.report_doc(report));
    }
    let answer = device_1.exchange(&mine).unwrap();
    assert!(
        answer.docs.iter().all(|d| d.refused.is_none()),
        "{answer:?}"
    );
    let mut expected = vec![lacking_sha, others_sha, twice_sha];
    expected.sort();
    assert_eq!(answer.missing_photos, expected);

    let theirs = format!("report:{rider_2s}");
    let mut device_2 = Device::new(rider_2);
    device_2.put(&theirs, "report", f.report_doc(&rider_2s));
    let answer = device_2.exchange(std::slice::from_ref(&theirs)).unwrap();
    assert_eq!(answer.missing_photos.len(), 1);

    // The district's station staff holds both riders' reports and offers them again: none of
    // them is theirs, so nothing is missing for them.
    let district = district_of(&f.report_doc(&uploaded));
    let staff = server.user("staff-1", Role::Station, &[&district]);
    let mut device_s = Device::new(staff);
    device_s.sync();
    let mut offered = mine.clone();
    offered.push(theirs.clone());
    for id in &offered {
        assert!(device_s.docs.contains_key(id), "{id} reached the staff");
    }
    let answer = device_s.exchange(&offered).unwrap();
    assert!(
        answer.docs.iter().all(|d| d.refused.is_none()),
        "{answer:?}"
    );
    assert!(answer.missing_photos.is_empty(), "{answer:?}");

    // The store's answer for a mixed list (repeated ids, an unknown one, another author's
    // report), in one query.
    let db = waystation_server::db::Db::open(&server.db).unwrap();
    let tx = db.read().unwrap();
    let mut asked: Vec<&str> = offered.iter().map(String::as_str).collect();
    asked.extend([mine[0].as_str(), mine[1].as_str(), "report:never-stored"]);
    waystation_server::store::timing::take();
    let found = tx.missing_photos(&asked, "rider-1").unwrap();
    let calls = waystation_server::store::timing::take().calls;
    assert_eq!(found, expected);
    // PostgreSQL counts its round trips; SQLite runs in the process and counts none.
    assert_eq!(calls, u32::from(on_postgres()), "store round trips");
    assert!(tx.missing_photos(&[], "rider-1").unwrap().is_empty());
}
