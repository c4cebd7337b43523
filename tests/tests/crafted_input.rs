//! Crafted input against the parts reviewed after issue 11's numbered findings: real devices
//! and a real `waystation-server` on loopback, every clock fixed.
//!
//! A training progress has one writer, its owner, but the owner is every phone the account
//! signs in on: an old or broken app, or a rider trying to turn a failed quiz into a pass. The
//! server checks what the progress holds and that a change only adds to it
//! (`training::progress_check`), so no phone can take a result from the rider's other phones or
//! rewrite one.

use std::sync::Arc;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, ScalarValue, Value};
use waystation_core::store::documents::{self, DocumentKey};
use waystation_core::sync::{ReqwestTransport, RetryPolicy, SyncReport, SyncSettings};
use waystation_core::{Error, FixedClock, Options, Waystation};
use waystation_server::{Role, ServerConfig};
use waystation_tests::net::Net;
use waystation_tests::reports::noon;
use waystation_tests::{quiz_answers, real_training_payload, sign_training};

const RIDER: &str = "rider-1";
const PROGRESS: &str = "progress:rider-1";

struct Phone {
    _dir: tempfile::TempDir,
    ws: Waystation,
    settings: SyncSettings,
}

impl Phone {
    fn new(net: &Net, token: &str) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let config = Options {
            trusted_keys: waystation_tests::trusted(),
            ..Options::default()
        };
        let clock = Arc::new(FixedClock::new(noon()));
        let ws = Waystation::open_with_clock(dir.path(), config, clock).unwrap();
        ws.packs()
            .import_training(&sign_training(&real_training_payload()))
            .unwrap();
        let mut settings = SyncSettings::new(&net.url(), token).unwrap();
        settings.retry = RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(50),
        };
        Phone {
            _dir: dir,
            ws,
            settings,
        }
    }

    fn sync(&self) -> SyncReport {
        let http = ReqwestTransport::new(None).unwrap();
        let r = self
            .ws
            .sync()
            .run(
                &self.settings,
                &http,
                &waystation_core::CancelToken::never(),
            )
            .unwrap();
        assert!(r.complete, "{r:?}");
        r
    }

    /// Edits this phone's copy of the rider's progress behind the core's back, as a broken or
    /// modified app would, and marks it for sending.
    fn tamper(&self, edit: impl FnOnce(&mut automerge::AutoCommit)) {
        let mut conn = self.ws.store().write();
        let key = DocumentKey {
            doc_id: PROGRESS,
            kind: "training-progress",
            owner: RIDER,
        };
        documents::edit(
            &mut conn,
            &key,
            noon(),
            || Err(Error::Internal("the progress is synced already".into())),
            |doc| {
                edit(doc);
                Ok(())
            },
        )
        .unwrap();
    }
}

fn attempts_map(doc: &automerge::AutoCommit) -> automerge::ObjId {
    match doc.get(ROOT, "attempts").unwrap() {
        Some((Value::Object(ObjType::Map), id)) => id,
        other => panic!("no attempts map: {other:?}"),
    }
}

fn refusal(report: &SyncReport) -> String {
    report
        .refused
        .iter()
        .find(|r| r.doc_id == PROGRESS)
        .map(|r| r.reason.clone())
        .unwrap_or_else(|| panic!("the progress was not refused: {report:?}"))
}

#[test]
fn no_phone_can_delete_or_rewrite_a_quiz_result_the_riders_other_phones_recorded() {
    let net = Net::start_with(|c| ServerConfig {
        clock: Arc::new(FixedClock::new(noon() + chrono::Duration::hours(1))),
        ..c
    });
    let token = net.user_at(RIDER, Role::Rider, &[], noon());
    let payload = real_training_payload();

    // The rider fails the quiz once on their phone, and syncs.
    let honest = Phone::new(&net, &token);
    let quiz = honest.ws.training().courses(RIDER).unwrap()[0]
        .quiz_id
        .clone()
        .unwrap();
    let failed = honest
        .ws
        .training()
        .answer_quiz(RIDER, &quiz, &quiz_answers(&payload, 0, false))
        .unwrap();
    assert!(!failed.passed);
    honest.sync();

    // A second phone of the same account deletes the recorded attempt.
    let deleting = Phone::new(&net, &token);
    deleting.sync();
    assert_eq!(
        deleting
            .ws
            .training()
            .progress(RIDER)
            .unwrap()
            .attempts
            .len(),
        1
    );
    deleting.tamper(|doc| {
        let map = attempts_map(doc);
        let id = doc.keys(&map).next().unwrap();
        doc.delete(&map, id.as_str()).unwrap();
    });
    let reason = refusal(&deleting.sync());
    assert!(
        reason.contains("removes a recorded quiz attempt"),
        "{reason}"
    );

    // A third turns the failure into a pass.
    let forging = Phone::new(&net, &token);
    forging.sync();
    forging.tamper(|doc| {
        let map = attempts_map(doc);
        let id = doc.keys(&map).next().unwrap();
        let Some((_, attempt)) = doc.get(&map, id.as_str()).unwrap() else {
            panic!("no attempt")
        };
        doc.put(&attempt, "score", ScalarValue::Uint(100)).unwrap();
        doc.put(&attempt, "passed", true).unwrap();
    });
    let reason = refusal(&forging.sync());
    assert!(
        reason.contains("rewrites a recorded quiz attempt"),
        "{reason}"
    );

    // A fourth records a new attempt scoring 250 percent.
    let padding = Phone::new(&net, &token);
    padding.sync();
    padding.tamper(|doc| {
        let map = attempts_map(doc);
        let a = doc.put_object(&map, "forged.000001", ObjType::Map).unwrap();
        doc.put(&a, "quiz", quiz.as_str()).unwrap();
        doc.put(&a, "score", ScalarValue::Uint(250)).unwrap();
        doc.put(&a, "passed", true).unwrap();
        doc.put(&a, "at", ScalarValue::Timestamp(0)).unwrap();
        doc.put(&a, "device", "forged").unwrap();
        doc.put(&a, "answers", "").unwrap();
    });
    let reason = refusal(&padding.sync());
    assert!(reason.contains("not a whole percent"), "{reason}");

    // The server still holds the one failed attempt: a fresh phone and the first one agree.
    honest.sync();
    let fresh = Phone::new(&net, &token);
    fresh.sync();
    for p in [&honest, &fresh] {
        let progress = p.ws.training().progress(RIDER).unwrap();
        assert_eq!(progress.attempts.len(), 1, "the failed attempt is kept");
        let best = progress.best(&quiz).unwrap();
        assert_eq!(
            (best.score_percent, best.passed),
            (failed.score_percent, false)
        );
    }
    // An honest new attempt from the first phone still syncs.
    honest
        .ws
        .training()
        .answer_quiz(RIDER, &quiz, &quiz_answers(&payload, 0, true))
        .unwrap();
    assert!(honest.sync().refused.is_empty());
    fresh.sync();
    assert_eq!(
        fresh.ws.training().progress(RIDER).unwrap().attempts.len(),
        2
    );
}

/// The same rules hold when a copy of the progress is handed over directly (another device's
/// `progress_document_bytes`, e.g. through a file): a copy that deletes or rewrites a result is
/// refused and changes nothing, and a copy whose columns inflate to gigabytes is refused
/// before automerge inflates them.
#[test]
fn a_handed_over_progress_copy_cannot_delete_results_or_inflate_without_bound() {
    let dir = tempfile::tempdir().unwrap();
    let config = Options {
        trusted_keys: waystation_tests::trusted(),
        ..Options::default()
    };
    let ws =
        Waystation::open_with_clock(dir.path(), config, Arc::new(FixedClock::new(noon()))).unwrap();
    let payload = real_training_payload();
    ws.packs()
        .import_training(&sign_training(&payload))
        .unwrap();
    let quiz = ws.training().courses(RIDER).unwrap()[0]
        .quiz_id
        .clone()
        .unwrap();
    ws.training()
        .answer_quiz(RIDER, &quiz, &quiz_answers(&payload, 0, false))
        .unwrap();
    let before = ws.training().progress(RIDER).unwrap();
    let stored = || documents::document_bytes(&ws.store().read(), PROGRESS).unwrap();
    let bytes_before = stored();

    // A copy of this very progress with the attempt deleted.
    let mut copy =
        automerge::AutoCommit::load(&ws.training().progress_document_bytes(RIDER).unwrap())
            .unwrap();
    let map = attempts_map(&copy);
    let id = copy.keys(&map).next().unwrap();
    copy.delete(&map, id.as_str()).unwrap();
    let err = ws
        .training()
        .merge_progress_from(RIDER, &copy.save())
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("removes a recorded quiz attempt")),
        "{err:?}"
    );

    // A few kilobytes that inflate to 64 MiB.
    let mut bomb = waystation_core::sync::bounds::bombs::document_with_deflated_column(64);
    // A valid checksum (first 4 bytes of the SHA-256 of type, length and body), as an attacker
    // would make it, so that automerge would go on to inflate the column.
    let checksum = waystation_core::packs::sha256_hex(&bomb[8..]);
    for i in 0..4 {
        bomb[4 + i] = u8::from_str_radix(&checksum[2 * i..2 * i + 2], 16).unwrap();
    }
    let err = ws.training().merge_progress_from(RIDER, &bomb).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput(m) if m.contains("inflates to more than")),
        "{err:?}"
    );

    assert_eq!(ws.training().progress(RIDER).unwrap(), before);
    assert_eq!(stored(), bytes_before, "nothing stored changed");
}
