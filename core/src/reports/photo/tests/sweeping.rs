//! The sweep at open, on a real data directory.

use super::super::sweep::{Attaching, GRACE};
use super::super::*;
use super::images::{encode_jpeg, encode_png, jpeg_with_metadata_everywhere};
use crate::reports::ReportRules;
use crate::store::documents::{self, DocumentKey};
use crate::{FixedClock, Options, Waystation};
use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
}

fn open_at(dir: &Path, at: DateTime<Utc>) -> Waystation {
    Waystation::open_with_clock(dir, Options::default(), Arc::new(FixedClock::new(at))).unwrap()
}

/// A distinct, valid photo for each `n`.
fn photo(n: u16) -> Vec<u8> {
    jpeg_with_metadata_everywhere(&encode_jpeg(n.is_multiple_of(2)), n % 8 + 1)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(PHOTO_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn has_photo(dir: &Path, sha: &str) -> bool {
    dir.join(PHOTO_DIR).join(sha).is_file()
}

fn dated(path: &Path, at: DateTime<Utc>) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(at.into())
        .unwrap();
}

/// Stores a copy of another device's report document, as sync stores one received for
/// follow-up (the photo is then fetched on demand).
fn receive(ws: &Waystation, from: &Waystation, report: &str, now: DateTime<Utc>) {
    let doc_id = format!("report:{report}");
    let bytes = documents::document_bytes(&from.store().read(), &doc_id)
        .unwrap()
        .unwrap();
    let mut doc = automerge::AutoCommit::load(&bytes).unwrap();
    let key = DocumentKey {
        doc_id: &doc_id,
        kind: "report",
        owner: "rider-9",
    };
    documents::insert(&ws.store().write(), &key, &mut doc, now, false).unwrap();
}

/// A case document whose event names a photo deep inside (an inspection photo), written as a
/// follow-up device would hold it.
fn case_naming(ws: &Waystation, sha: &str, now: DateTime<Utc>) {
    use automerge::transaction::Transactable;
    let mut doc = automerge::AutoCommit::new();
    let events = doc
        .put_object(automerge::ROOT, "events", automerge::ObjType::Map)
        .unwrap();
    let e = doc
        .put_object(&events, "e1", automerge::ObjType::Map)
        .unwrap();
    let photos = doc
        .put_object(&e, "photos", automerge::ObjType::List)
        .unwrap();
    doc.insert(&photos, 0, sha).unwrap();
    let key = DocumentKey {
        doc_id: "case:inspection",
        kind: "case",
        owner: "supervisor-1",
    };
    documents::insert(&ws.store().write(), &key, &mut doc, now, false).unwrap();
}

#[test]
fn open_sweeps_crash_leftovers_and_unnamed_photos_but_never_a_named_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = ReportRules::default();
    let other_dir = tempfile::tempdir().unwrap();
    let (named, shared, removed, deleted, crashed, followed, inspected, temp);
    {
        let ws = open_at(d, t0());
        let a = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
        named = ws
            .reports()
            .attach_photo(a.as_str(), &photo(1), &rules)
            .unwrap();
        shared = ws
            .reports()
            .attach_photo(a.as_str(), &photo(2), &rules)
            .unwrap();
        removed = ws
            .reports()
            .attach_photo(a.as_str(), &photo(3), &rules)
            .unwrap();
        ws.reports()
            .remove_photo(a.as_str(), &removed.sha256)
            .unwrap();
        // A deleted draft: one photo only it named, one also named by draft `a`.
        let c = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
        deleted = ws
            .reports()
            .attach_photo(c.as_str(), &photo(4), &rules)
            .unwrap();
        ws.reports()
            .attach_photo(c.as_str(), &photo(2), &rules)
            .unwrap();
        ws.reports().delete_draft("rider-1", c.as_str()).unwrap();
        // A crash between storing a photo and naming it in the draft.
        let s = strip(&photo(5)).unwrap();
        let attaching = Attaching::begin(d, &s.info.sha256, t0()).unwrap();
        let path = store(d, &s).unwrap();
        sweep::touch(&path, t0()).unwrap();
        drop(attaching);
        crashed = s.info;
        // A report received for follow-up, and its photo fetched; an inspection photo.
        let other = open_at(other_dir.path(), t0());
        let r = other
            .reports()
            .create_draft("rider-9", "food.seal")
            .unwrap();
        followed = other
            .reports()
            .attach_photo(r.as_str(), &photo(6), &rules)
            .unwrap();
        receive(&ws, &other, r.as_str(), t0());
        let bytes = std::fs::read(other.reports().photo_path(&followed.sha256).unwrap()).unwrap();
        store_bytes(d, &followed.sha256, &bytes).unwrap();
        inspected = strip(&encode_png()).unwrap();
        store(d, &inspected).unwrap();
        case_naming(&ws, &inspected.info.sha256, t0());
        // A crash in the middle of writing a photo.
        temp = d
            .join(PHOTO_DIR)
            .join(format!(".{}.0123456789abcdef.tmp", "ab".repeat(32)));
        std::fs::write(&temp, b"half a photo").unwrap();
        dated(&temp, t0());
    }
    // Received and fetched photos carry no marker; give them one (as a deleted draft that
    // also named them would) so that the sweep must look for what names them.
    for sha in [&followed.sha256, &inspected.info.sha256] {
        sweep::mark_unnamed(d, sha, t0()).unwrap();
    }
    for name in names(d) {
        if name != ".swept" && name != ".lock" {
            dated(&d.join(PHOTO_DIR).join(&name), t0());
        }
    }
    let photos_before = names(d).iter().filter(|n| n.len() == 64).count();
    assert_eq!(photos_before, 7);

    // Within the grace period nothing goes: an attach may still be under way.
    let ws = open_at(d, t0() + GRACE - chrono::Duration::minutes(1));
    assert!(temp.exists());
    for sha in [&removed.sha256, &deleted.sha256, &crashed.sha256] {
        assert!(has_photo(d, sha));
    }
    drop(ws);

    let later = t0() + GRACE + chrono::Duration::minutes(1);
    let ws = open_at(d, later);
    assert!(!temp.exists(), "the temporary file is gone");
    for sha in [&removed.sha256, &deleted.sha256, &crashed.sha256] {
        assert!(!has_photo(d, sha), "unnamed photo {sha} is gone");
    }
    for sha in [
        &named.sha256,
        &shared.sha256,
        &followed.sha256,
        &inspected.info.sha256,
    ] {
        assert!(has_photo(d, sha), "named photo {sha} stays");
        ws.reports().photo_path(sha).unwrap();
    }
    let left = names(d);
    assert!(
        left.iter()
            .all(|n| n.len() == 64 || n == ".swept" || n == ".lock"),
        "no marker or temporary file is left: {left:?}"
    );
    // Nothing left to check: the next open reads no document.
    let again = ws.reports().sweep_photos().unwrap();
    assert_eq!(again, PhotoSweep::default());
}

#[test]
fn a_photo_being_attached_is_not_swept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = strip(&photo(7)).unwrap();
    store(d, &s).unwrap();
    dated(&d.join(PHOTO_DIR).join(&s.info.sha256), t0());
    let ws = open_at(d, t0());
    // Another process begins attaching the same photo an hour later (its marker is fresh)…
    let now = t0() + GRACE + chrono::Duration::minutes(5);
    let attaching = Attaching::begin(d, &s.info.sha256, now).unwrap();
    let ws2 = open_at(d, now);
    assert!(has_photo(d, &s.info.sha256), "a fresh marker protects it");
    drop((ws, ws2));
    // While an attach holds the lock, even an old unnamed photo waits for the next open:
    // opening never waits for an attach.
    let later = now + GRACE + chrono::Duration::minutes(1);
    let holding = Attaching::begin(d, &"cd".repeat(32), now).unwrap();
    assert_eq!(
        open_at(d, later)
            .reports()
            .sweep_photos()
            .unwrap()
            .photos_removed,
        0
    );
    assert!(has_photo(d, &s.info.sha256));
    drop(holding);
    // …and dies: once its marker is old, the photo goes.
    drop(attaching);
    let ws = open_at(d, now + GRACE + chrono::Duration::minutes(1));
    assert!(!has_photo(d, &s.info.sha256));
    drop(ws);
}

#[test]
fn a_photo_folder_from_before_markers_is_checked_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = ReportRules::default();
    let kept = {
        let ws = open_at(d, t0());
        let id = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
        ws.reports()
            .attach_photo(id.as_str(), &photo(1), &rules)
            .unwrap()
    };
    // What an older build left: an orphan without a marker, and no `.swept` yet.
    let orphan = strip(&photo(2)).unwrap();
    store(d, &orphan).unwrap();
    assert!(!d.join(PHOTO_DIR).join(".swept").exists());
    for sha in [&kept.sha256, &orphan.info.sha256] {
        dated(&d.join(PHOTO_DIR).join(sha), t0());
    }
    let ws = open_at(d, t0() + GRACE * 2);
    assert!(has_photo(d, &kept.sha256));
    assert!(!has_photo(d, &orphan.info.sha256));
    assert!(d.join(PHOTO_DIR).join(".swept").is_file());
    assert_eq!(ws.reports().sweep_photos().unwrap().documents_read, 0);
}

/// The cost at open: with many reports and no leftovers, the sweep reads no document; with a
/// leftover it reads each once. Timings are printed for `docs/benchmarks.md`-style notes.
#[test]
fn sweep_at_open_reads_no_document_unless_something_was_left() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = ReportRules::default();
    let n = 300;
    {
        let ws = open_at(d, t0());
        let p = ws.reports().create_draft("rider-1", "road.hazard").unwrap();
        ws.reports()
            .attach_photo(p.as_str(), &photo(1), &rules)
            .unwrap();
        for _ in 1..n {
            ws.reports().create_draft("rider-1", "road.hazard").unwrap();
        }
    }
    let later = t0() + GRACE * 2;
    let started = std::time::Instant::now();
    let ws = open_at(d, later);
    let first = started.elapsed();
    let started = std::time::Instant::now();
    let quiet = ws.reports().sweep_photos().unwrap();
    let quiet_took = started.elapsed();
    assert_eq!(quiet.documents_read, 0, "{quiet:?}");
    // One removal leaves a marker: the next sweep reads the documents once.
    let orphan = strip(&photo(2)).unwrap();
    store(d, &orphan).unwrap();
    dated(&d.join(PHOTO_DIR).join(&orphan.info.sha256), later);
    sweep::mark_unnamed(d, &orphan.info.sha256, later).unwrap();
    drop(ws);
    let started = std::time::Instant::now();
    let ws = open_at(d, later + GRACE * 2);
    let checking = started.elapsed();
    assert!(!has_photo(d, &orphan.info.sha256));
    let started = std::time::Instant::now();
    assert_eq!(ws.reports().sweep_photos().unwrap().documents_read, 0);
    eprintln!(
        "{n} reports: open with the first full check {first:?}; a sweep with nothing to do \
         {quiet_took:?}; open with one unnamed photo to check (reads every document) \
         {checking:?}; then a sweep with nothing to do {:?}",
        started.elapsed()
    );
}
