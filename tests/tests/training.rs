//! End-to-end tests of safety training: signed packs (full and delta) in, reading, search,
//! graded quizzes, and progress that merges across devices without losing anything.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

use waystation_core::packs;
use waystation_core::training::{QuizAnswer, TRAINING_PACK_TYPE, TrainingProgress};
use waystation_core::{Error, FixedClock, Options, Waystation};
use waystation_tests::{
    quiz_answers, real_training_pack, real_training_payload, sign, sign_training,
    synthetic_payload, training_snapshot, trusted,
};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn noon() -> DateTime<Utc> {
    at("2026-11-30T04:00:00Z")
}

fn open_at(dir: &Path, clock: Arc<FixedClock>) -> Waystation {
    let mut keys = trusted();
    keys.push(packs::demo_trusted_key());
    let config = Options {
        trusted_keys: keys,
        ..Options::default()
    };
    Waystation::open_with_clock(dir, config, clock).unwrap()
}

fn open(dir: &Path) -> Waystation {
    open_at(dir, Arc::new(FixedClock::new(noon())))
}

/// A device with the real pack installed (signed by the test key), and its clock.
fn device(dir: &Path) -> (Waystation, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(noon()));
    let ws = open_at(dir, clock.clone());
    ws.packs()
        .import_training(&sign_training(&real_training_payload()))
        .unwrap();
    (ws, clock)
}

fn pack_err(r: Result<impl std::fmt::Debug, Error>, want: &str) {
    match r {
        Err(Error::PackRejected(msg)) => assert!(msg.contains(want), "{msg} (wanted '{want}')"),
        other => panic!("expected a refused pack with '{want}', got {other:?}"),
    }
}

fn invalid(r: Result<impl std::fmt::Debug, Error>, want: &str) {
    match r {
        Err(Error::InvalidInput(msg)) => assert!(msg.contains(want), "{msg} (wanted '{want}')"),
        other => panic!("expected invalid input with '{want}', got {other:?}"),
    }
}

#[test]
fn the_real_signed_pack_imports_and_reads() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let out = ws.packs().import_training(&real_training_pack()).unwrap();
    assert_eq!(
        (out.courses, out.lessons, out.questions, out.unchanged),
        (4, 20, 52, false)
    );
    assert_eq!(out.pack_id, "xian-training");
    let again = ws.packs().import_training(&real_training_pack()).unwrap();
    assert!(again.unchanged);
    assert_eq!(again.lessons, 20);

    let courses = ws.training().courses("rider-1").unwrap();
    assert_eq!(courses.len(), 4);
    assert_eq!(courses[0].id, "food-safety-delivery");
    assert!(courses.iter().all(|c| c.lesson_count == 5
        && c.completed_lessons == 0
        && c.best_score_percent.is_none()
        && c.minutes > 0));
    assert_eq!(courses.iter().map(|c| c.question_count).sum::<i32>(), 52);

    let detail = ws
        .training()
        .course("rider-1", "ebike-traffic-safety")
        .unwrap();
    assert_eq!(detail.lessons[0].id, "ebike-traffic-safety/helmet");
    let lesson = ws.training().lesson("ebike-traffic-safety/helmet").unwrap();
    assert!(lesson.body.zh.contains("GB 811-2022"));
    assert!(lesson.body.en.as_deref().unwrap().contains("chin strap"));
    assert!(!lesson.sources.is_empty());
    assert_eq!(lesson.previous_lesson_id, None);
    assert_eq!(
        lesson.next_lesson_id.as_deref(),
        Some("ebike-traffic-safety/signals-lanes")
    );
    // Opening a lesson records nothing.
    assert!(
        ws.training()
            .progress("rider-1")
            .unwrap()
            .completed_lessons
            .is_empty()
    );

    let quiz = ws.training().quiz("food-safety-delivery/quiz").unwrap();
    assert_eq!(quiz.course_id, "food-safety-delivery");
    assert_eq!(quiz.pass_percent, 80);
    assert!(quiz.questions.len() >= 10);

    assert!(matches!(
        ws.training().lesson("no/such"),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        ws.training().quiz("no/such"),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        ws.training().course("rider-1", "no-such"),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn tampered_unsigned_and_wrong_type_packs_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = device(dir.path());
    let before = training_snapshot(&ws);

    let mut v2 = real_training_payload();
    v2["version"] = json!(2);
    v2["courses"][0]["lessons"][0]["title"]["zh"] = json!("被篡改的标题");
    let sealed = sign_training(&v2);

    // Tampered: one character of the payload changed after signing.
    let mut env: Value = serde_json::from_slice(&sealed).unwrap();
    let mut b64: Vec<char> = env["payload"].as_str().unwrap().chars().collect();
    let i = b64.len() / 2;
    b64[i] = if b64[i] == 'A' { 'B' } else { 'A' };
    env["payload"] = json!(b64.into_iter().collect::<String>());
    pack_err(
        ws.packs()
            .import_training(&serde_json::to_vec(&env).unwrap()),
        "forged or tampered",
    );

    // Unsigned.
    let mut env: Value = serde_json::from_slice(&sealed).unwrap();
    env["signatures"] = json!([]);
    pack_err(
        ws.packs()
            .import_training(&serde_json::to_vec(&env).unwrap()),
        "unsigned",
    );

    // Signed by a key the device does not trust.
    let stranger = packs::PublisherKeyPair::from_seed("stranger", [3u8; 32]);
    let foreign = packs::seal(
        &serde_json::to_vec(&v2).unwrap(),
        TRAINING_PACK_TYPE,
        &stranger,
    )
    .unwrap();
    pack_err(
        ws.packs().import_training(&foreign),
        "not a trusted publisher key",
    );

    // A station pack is not a training pack, and the other way round.
    pack_err(
        ws.packs()
            .import_training(&sign(&synthetic_payload("x", 1, 3, 1))),
        "expected 'application/vnd.waystation.training-pack+json'",
    );
    pack_err(ws.packs().import_stations(&sealed), "payload type");

    // Truncated.
    pack_err(
        ws.packs().import_training(&sealed[..sealed.len() / 2]),
        "truncated",
    );

    // A signed payload that breaks a rule.
    let mut bad = v2.clone();
    bad["courses"][1]["quiz"]["questions"][0]["correct"] = json!([0, 1]);
    bad["courses"][1]["quiz"]["questions"][0]["kind"] = json!("single");
    pack_err(
        ws.packs().import_training(&sign_training(&bad)),
        "exactly 1 correct choice, it has 2",
    );
    let mut bad = v2.clone();
    bad["courses"][2]["quiz"]["questions"][3]["lesson"] = json!("workers-rights/nope");
    pack_err(
        ws.packs().import_training(&sign_training(&bad)),
        "lesson 'workers-rights/nope' is not a lesson of course 'workers-rights'",
    );

    assert_eq!(before, training_snapshot(&ws));
    // And the good one still goes in afterwards.
    ws.packs().import_training(&sealed).unwrap();
    assert_eq!(
        ws.training()
            .lesson("food-safety-delivery/seals")
            .unwrap()
            .title
            .zh,
        "被篡改的标题"
    );
}

fn delta(base: u64, version: u64) -> Value {
    json!({
        "format": "waystation/training-pack",
        "format_version": 1,
        "pack_id": "xian-training",
        "version": version,
        "publisher": "Waystation demo publisher (not the City of Xi'an)",
        "created": "2026-12-01T00:00:00Z",
        "base_version": base,
    })
}

#[test]
fn full_then_delta_updates_content_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = device(dir.path());
    let real = real_training_payload();

    let mut d = delta(1, 2);
    let mut seals = real["courses"][0]["lessons"][0].clone();
    seals["body"]["zh"] = json!("## 新规定\n取餐时检查防撬封口贴是否完好。");
    let mut extra = real["courses"][1]["lessons"][0].clone();
    extra["id"] = json!("ebike-traffic-safety/night-riding");
    extra["title"] = json!({"zh": "夜间骑行要开灯", "en": "Use your lights at night"});
    extra["body"] =
        json!({"zh": "夜间骑行必须开启车灯，穿反光背心。", "en": "Turn your lights on."});
    d["lessons"] = json!([
        {"course": "food-safety-delivery", "lesson": seals},
        {"course": "ebike-traffic-safety", "lesson": extra},
    ]);
    d["questions"] = json!([{
        "course": "ebike-traffic-safety",
        "question": {
            "id": "ebike-traffic-safety/q-night",
            "lesson": "ebike-traffic-safety/night-riding",
            "kind": "single",
            "prompt": {"zh": "夜间骑行应当？", "en": "At night you should?"},
            "choices": [{"zh": "开灯"}, {"zh": "关灯"}],
            "correct": [0],
            "explanation": {"zh": "开灯让别人看见你。"}
        }
    }]);
    let removed_q = real["courses"][3]["quiz"]["questions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    d["removed"] = json!({"questions": [removed_q.clone()]});

    let out = ws.packs().import_training(&sign_training(&d)).unwrap();
    assert_eq!(
        (out.version, out.previous_version, out.base_version),
        (2, Some(1), Some(1))
    );
    assert_eq!((out.courses, out.lessons, out.questions), (4, 21, 52));
    // Re-importing the same delta is a no-op.
    assert!(
        ws.packs()
            .import_training(&sign_training(&d))
            .unwrap()
            .unchanged
    );

    // Replaced in place, added at the end.
    let course = ws.training().course("u", "ebike-traffic-safety").unwrap();
    assert_eq!(course.lessons.len(), 6);
    assert_eq!(
        course.lessons.last().unwrap().id,
        "ebike-traffic-safety/night-riding"
    );
    let fs = ws.training().course("u", "food-safety-delivery").unwrap();
    assert_eq!(fs.lessons[0].id, "food-safety-delivery/seals");
    let quiz = ws.training().quiz("first-aid-basics/quiz").unwrap();
    assert!(quiz.questions.iter().all(|q| q.id != removed_q));

    // The search index follows: new text is found, replaced text is gone.
    let hits = ws.training().search("防撬封口贴", 10).unwrap();
    assert_eq!(hits[0].lesson_id, "food-safety-delivery/seals");
    let hits = ws.training().search("反光背心", 10).unwrap();
    assert_eq!(hits[0].lesson_id, "ebike-traffic-safety/night-riding");
    let old = ws.training().search("食安封签", 20).unwrap();
    assert!(old.iter().all(|h| h.lesson_id != "food-safety-delivery/seals"
        || h.title.zh.contains("食安封签")));

    // A later full pack replaces everything again.
    let mut v3 = real.clone();
    v3["version"] = json!(3);
    let out = ws.packs().import_training(&sign_training(&v3)).unwrap();
    assert_eq!(
        (out.lessons, out.questions, out.previous_version),
        (20, 52, Some(2))
    );
    assert!(ws.training().search("反光背心", 10).unwrap().is_empty());
}

#[test]
fn deltas_against_the_wrong_base_and_old_versions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());

    // Nothing installed yet.
    pack_err(
        ws.packs().import_training(&sign_training(&delta(1, 2))),
        "delta against version 1 but no version is installed",
    );
    ws.packs()
        .import_training(&sign_training(&real_training_payload()))
        .unwrap();
    let mut v2 = real_training_payload();
    v2["version"] = json!(2);
    ws.packs().import_training(&sign_training(&v2)).unwrap();
    let before = training_snapshot(&ws);

    pack_err(
        ws.packs().import_training(&sign_training(&delta(1, 3))),
        "delta against version 1 but version 2 is installed",
    );
    pack_err(
        ws.packs()
            .import_training(&sign_training(&real_training_payload())),
        "version 1 is older than the installed version 2",
    );
    let mut same_version = v2.clone();
    same_version["notice"] = json!("changed");
    pack_err(
        ws.packs().import_training(&sign_training(&same_version)),
        "already installed with different content",
    );
    let mut d = delta(2, 3);
    d["removed"] = json!({"lessons": ["food-safety-delivery/nope"]});
    pack_err(
        ws.packs().import_training(&sign_training(&d)),
        "removes lesson 'food-safety-delivery/nope', which is not installed",
    );
    // A delta whose result breaks a rule: a question would test a removed lesson.
    let mut d = delta(2, 3);
    d["removed"] = json!({"lessons": ["food-safety-delivery/seals"]});
    pack_err(
        ws.packs().import_training(&sign_training(&d)),
        "after applying the delta",
    );
    let mut d = delta(2, 3);
    d["lessons"] = json!([{"course": "no-such-course", "lesson":
        real_training_payload()["courses"][0]["lessons"][0].clone()}]);
    pack_err(
        ws.packs().import_training(&sign_training(&d)),
        "course 'no-such-course', which is not installed",
    );
    let mut full_with_removals = v2.clone();
    full_with_removals["version"] = json!(3);
    full_with_removals["removed"] = json!({"lessons": ["x"]});
    pack_err(
        ws.packs()
            .import_training(&sign_training(&full_with_removals)),
        "whole courses only",
    );

    assert_eq!(before, training_snapshot(&ws));
    // The right base goes in.
    ws.packs()
        .import_training(&sign_training(&delta(2, 3)))
        .unwrap();
}

#[test]
fn search_finds_chinese_substrings_and_english_ranked() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = device(dir.path());

    let hits = ws.training().search("食安封签", 10).unwrap();
    assert_eq!(hits[0].lesson_id, "food-safety-delivery/seals");
    assert!(
        hits[0]
            .snippet
            .iter()
            .any(|p| p.highlighted && p.text == "食安封签"),
        "{:?}",
        hits[0].snippet
    );

    // Two characters: the substring scan, titles first.
    let hits = ws.training().search("头盔", 10).unwrap();
    assert_eq!(hits[0].lesson_id, "ebike-traffic-safety/helmet");
    assert!(hits.len() >= 3);
    assert!(hits.iter().all(|h| h.snippet.iter().any(|p| p.highlighted)));

    // English, case-insensitive, and several terms that must all occur.
    let hits = ws.training().search("HELMET", 10).unwrap();
    assert_eq!(hits[0].lesson_id, "ebike-traffic-safety/helmet");
    let hits = ws.training().search("helmet strap", 10).unwrap();
    assert_eq!(hits[0].lesson_id, "ebike-traffic-safety/helmet");
    let hits = ws.training().search("12333", 10).unwrap();
    assert!(hits.iter().any(|h| h.course_id == "workers-rights"));
    let one = ws.training().search("盔", 10).unwrap();
    assert!(
        one.iter()
            .any(|h| h.lesson_id == "ebike-traffic-safety/helmet")
    );

    assert!(ws.training().search("量子计算机", 10).unwrap().is_empty());
    assert_eq!(ws.training().search("头盔", 1).unwrap().len(), 1);
    // Query syntax is text, not FTS5 operators.
    assert!(ws.training().search("\"OR\" NEAR(", 10).is_ok());
    assert!(ws.training().search("100%", 10).is_ok());
    invalid(ws.training().search("  ", 10), "empty");
    invalid(ws.training().search(&"长".repeat(101), 10), "longer than");
}

#[test]
fn quizzes_grade_explain_and_record_every_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = device(dir.path());
    let payload = real_training_payload();

    let result = ws
        .training()
        .answer_quiz(
            "rider-1",
            "food-safety-delivery/quiz",
            &quiz_answers(&payload, 0, true),
        )
        .unwrap();
    assert_eq!((result.score_percent, result.passed), (100, true));
    assert_eq!(result.correct_count, result.question_count);
    assert!(
        result
            .questions
            .iter()
            .all(|q| q.correct && !q.explanation.zh.is_empty() && q.explanation.en.is_some())
    );

    clock.set(noon() + Duration::minutes(5));
    let wrong = ws
        .training()
        .answer_quiz(
            "rider-1",
            "food-safety-delivery/quiz",
            &quiz_answers(&payload, 0, false),
        )
        .unwrap();
    assert_eq!((wrong.score_percent, wrong.passed), (0, false));
    assert_eq!(
        wrong.best_score_percent, 100,
        "a worse attempt keeps the best"
    );
    assert!(
        wrong
            .questions
            .iter()
            .all(|q| !q.correct && !q.correct_choices.is_empty())
    );

    // Partly answered: unanswered questions are wrong; 2 of N right rounds down.
    let mut some = quiz_answers(&payload, 1, true);
    let n = some.len() as i32;
    some.truncate(2);
    let partial = ws
        .training()
        .answer_quiz("rider-1", "ebike-traffic-safety/quiz", &some)
        .unwrap();
    assert_eq!(partial.correct_count, 2);
    assert_eq!(partial.score_percent, 200 / n);
    assert!(partial.questions[5].chosen.is_empty());

    let progress = ws.training().progress("rider-1").unwrap();
    assert_eq!(progress.attempts.len(), 3);
    assert_ne!(progress.attempts[0].id, progress.attempts[1].id);
    assert_eq!(
        progress
            .best("food-safety-delivery/quiz")
            .unwrap()
            .score_percent,
        100
    );
    assert_eq!(
        progress.best("food-safety-delivery/quiz").unwrap().attempts,
        2
    );
    let courses = ws.training().courses("rider-1").unwrap();
    assert_eq!(courses[0].best_score_percent, Some(100));
    assert!(courses[0].passed);
    assert_eq!(courses[1].best_score_percent, Some(partial.score_percent));
    assert!(!courses[1].passed);
    // Progress is per user.
    assert!(
        ws.training()
            .progress("rider-2")
            .unwrap()
            .attempts
            .is_empty()
    );
}

#[test]
fn bad_quiz_answers_are_refused_and_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = device(dir.path());
    let before = training_snapshot(&ws);
    let quiz = "food-safety-delivery/quiz";
    let q1 = "food-safety-delivery/q01";

    invalid(
        ws.training().answer_quiz("r", "no-such/quiz", &[]),
        "no quiz with id 'no-such/quiz'",
    );
    invalid(
        ws.training().answer_quiz(
            "r",
            quiz,
            &[QuizAnswer::new("ebike-traffic-safety/q01", [0])],
        ),
        "question 'ebike-traffic-safety/q01' is not in quiz 'food-safety-delivery/quiz'",
    );
    invalid(
        ws.training()
            .answer_quiz("r", quiz, &[QuizAnswer::new(q1, [9])]),
        "choice 9 is out of range (it has 4 choices, 0 to 3)",
    );
    invalid(
        ws.training()
            .answer_quiz("r", quiz, &[QuizAnswer::new(q1, [0, 1])]),
        "single-choice but was answered with 2 choices",
    );
    invalid(
        ws.training().answer_quiz(
            "r",
            quiz,
            &[QuizAnswer::new(q1, [1]), QuizAnswer::new(q1, [1])],
        ),
        "answered twice",
    );
    invalid(ws.training().answer_quiz("", quiz, &[]), "user id is empty");
    invalid(
        ws.training().complete_lesson("r", "no/such-lesson"),
        "no lesson with id 'no/such-lesson' is installed",
    );

    let p = ws.training().progress("r").unwrap();
    assert_eq!(p, TrainingProgress::default());
    assert!(
        waystation_core::store::documents::info(
            &ws.store().read(),
            &waystation_core::training::progress_doc_id("r")
        )
        .unwrap()
        .is_none()
    );
    assert_eq!(before, training_snapshot(&ws));
}

#[test]
fn progress_is_durable_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let payload = real_training_payload();
    {
        let (ws, clock) = device(dir.path());
        let c = ws
            .training()
            .complete_lesson("rider-1", "food-safety-delivery/seals")
            .unwrap();
        assert_eq!(c.completed_at, noon());
        clock.set(noon() + Duration::hours(1));
        // Completing again keeps the first time.
        let again = ws
            .training()
            .complete_lesson("rider-1", "food-safety-delivery/seals")
            .unwrap();
        assert_eq!(again.completed_at, noon());
        for i in 0..80 {
            clock.set(noon() + Duration::hours(2) + Duration::seconds(i));
            ws.training()
                .answer_quiz(
                    "rider-1",
                    "food-safety-delivery/quiz",
                    &quiz_answers(&payload, 0, i % 7 == 3),
                )
                .unwrap();
        }
    }
    let ws = open(dir.path());
    let p = ws.training().progress("rider-1").unwrap();
    assert_eq!(p.completed_at("food-safety-delivery/seals"), Some(noon()));
    assert_eq!(p.attempts.len(), 80, "every acknowledged attempt survives");
    assert_eq!(
        p.best("food-safety-delivery/quiz").unwrap().score_percent,
        100
    );
    let courses = ws.training().courses("rider-1").unwrap();
    assert_eq!(courses[0].completed_lessons, 1);
    let detail = ws
        .training()
        .course("rider-1", "food-safety-delivery")
        .unwrap();
    assert_eq!(detail.lessons[0].completed_at, Some(noon()));
    assert_eq!(detail.lessons[1].completed_at, None);
    let ok: String = ws
        .store()
        .read()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn two_devices_merge_in_either_order_to_the_same_progress() {
    let payload = real_training_payload();
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, clock_a) = device(da.path());
    let (b, clock_b) = device(db.path());
    let user = "rider-7";

    // Offline on both phones: overlapping completions, attempts on the same quiz.
    clock_a.set(noon() + Duration::minutes(30));
    a.training()
        .complete_lesson(user, "ebike-traffic-safety/helmet")
        .unwrap();
    a.training()
        .complete_lesson(user, "food-safety-delivery/seals")
        .unwrap();
    clock_b.set(noon() + Duration::minutes(10));
    b.training()
        .complete_lesson(user, "ebike-traffic-safety/helmet")
        .unwrap();
    b.training()
        .complete_lesson(user, "workers-rights/union")
        .unwrap();

    clock_a.set(noon() + Duration::minutes(40));
    a.training()
        .answer_quiz(
            user,
            "food-safety-delivery/quiz",
            &quiz_answers(&payload, 0, true),
        )
        .unwrap();
    // B is stale and later does worse on the same quiz.
    clock_b.set(noon() + Duration::minutes(50));
    let worse = b
        .training()
        .answer_quiz(
            user,
            "food-safety-delivery/quiz",
            &quiz_answers(&payload, 0, false),
        )
        .unwrap();
    assert_eq!(worse.best_score_percent, 0);
    b.training()
        .answer_quiz(
            user,
            "ebike-traffic-safety/quiz",
            &quiz_answers(&payload, 1, true),
        )
        .unwrap();

    // Exchange documents, in opposite orders, twice (idempotent).
    let bytes_a = a.training().progress_document_bytes(user).unwrap();
    let bytes_b = b.training().progress_document_bytes(user).unwrap();
    let pb = b.training().merge_progress_from(user, &bytes_a).unwrap();
    let pa = a.training().merge_progress_from(user, &bytes_b).unwrap();
    assert_eq!(pa, pb);
    assert_eq!(
        pa,
        a.training().merge_progress_from(user, &bytes_b).unwrap()
    );
    assert_eq!(
        a.training().progress(user).unwrap(),
        b.training().progress(user).unwrap()
    );

    let p = a.training().progress(user).unwrap();
    assert_eq!(p.completed_lessons.len(), 3, "no completion is lost");
    assert_eq!(
        p.completed_at("ebike-traffic-safety/helmet"),
        Some(noon() + Duration::minutes(10)),
        "the earliest completion wins"
    );
    assert_eq!(p.attempts.len(), 3);
    let best = p.best("food-safety-delivery/quiz").unwrap();
    assert_eq!(
        (best.score_percent, best.passed, best.attempts),
        (100, true, 2)
    );
    assert!(p.best("ebike-traffic-safety/quiz").unwrap().passed);
    // Attempts come oldest first, with their device.
    assert!(p.attempts.windows(2).all(|w| w[0].at <= w[1].at));
    assert_ne!(p.attempts[0].device, p.attempts[1].device);

    // After the merge B's new attempt is graded against the merged best.
    clock_b.set(noon() + Duration::hours(2));
    let later = b
        .training()
        .answer_quiz(
            user,
            "food-safety-delivery/quiz",
            &quiz_answers(&payload, 0, false),
        )
        .unwrap();
    assert_eq!(later.best_score_percent, 100);

    // Same heads on both devices once each has the other's changes.
    a.training()
        .merge_progress_from(user, &b.training().progress_document_bytes(user).unwrap())
        .unwrap();
    let heads = |ws: &Waystation| {
        waystation_core::store::documents::info(
            &ws.store().read(),
            &waystation_core::training::progress_doc_id(user),
        )
        .unwrap()
        .unwrap()
        .heads
    };
    b.training()
        .merge_progress_from(user, &a.training().progress_document_bytes(user).unwrap())
        .unwrap();
    assert_eq!(heads(&a), heads(&b));
}

#[test]
fn merging_refuses_other_users_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = device(dir.path());
    ws.training()
        .complete_lesson("alice", "food-safety-delivery/seals")
        .unwrap();
    let alice = ws.training().progress_document_bytes("alice").unwrap();
    invalid(
        ws.training().merge_progress_from("bob", &alice),
        "another user",
    );
    invalid(
        ws.training().merge_progress_from("bob", b"not automerge"),
        "not an Automerge",
    );
    assert!(
        ws.training()
            .progress("bob")
            .unwrap()
            .completed_lessons
            .is_empty()
    );
    // A user with no progress yet still has a document to send, and it merges.
    let empty = ws.training().progress_document_bytes("carol").unwrap();
    assert!(
        ws.training()
            .merge_progress_from("carol", &empty)
            .unwrap()
            .completed_lessons
            .is_empty()
    );
    // Progress survives a content update.
    let mut v2 = real_training_payload();
    v2["version"] = json!(2);
    ws.packs().import_training(&sign_training(&v2)).unwrap();
    assert_eq!(
        ws.training().courses("alice").unwrap()[0].completed_lessons,
        1
    );
}

#[test]
fn the_examples_in_the_format_document_import() {
    let doc = include_str!("../../docs/formats/training-pack.md");
    let section = &doc[doc.find("## 8. Minimal examples").unwrap()..];
    let blocks: Vec<Value> = section
        .split("```json")
        .skip(1)
        .map(|b| serde_json::from_str(&b[..b.find("```").unwrap()]).unwrap())
        .collect();
    assert_eq!(blocks.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let ws = open(dir.path());
    let full = ws
        .packs()
        .import_training(&sign_training(&blocks[0]))
        .unwrap();
    assert_eq!((full.lessons, full.questions), (1, 1));
    let delta = ws
        .packs()
        .import_training(&sign_training(&blocks[1]))
        .unwrap();
    assert_eq!(
        (delta.lessons, delta.questions, delta.base_version),
        (2, 2, Some(1))
    );
    let r = ws
        .training()
        .answer_quiz(
            "u",
            "helmets/quiz",
            &[
                QuizAnswer::new("helmets/q1", [0]),
                QuizAnswer::new("helmets/q2", [1]),
            ],
        )
        .unwrap();
    assert!(r.passed);
}
