//! What a training progress document may hold, and how it may change: the rules the server
//! applies to every change to `progress:<user>` (`sync::policy::check_progress`), beyond "only
//! its owner writes it".
//!
//! The owner is the only writer, but "the owner" is every phone the account signs in on,
//! including an old or broken app, and a hostile account probing what the server stores. What
//! the city reads out of progress (who completed which lesson, quiz results) and what every other
//! phone of the rider folds must stay well-formed, and nothing a rider once earned may vanish:
//!
//! - **Shape**: `schema` and `user` have one value each; whatever is under `completed` and
//!   `attempts` is a map; no other root field (named in the refusal, cut to 40 characters), as
//!   for reports and cases: a field no reader folds would be storage the rules do not bound
//!   and a channel between phones that nothing shows.
//! - **Completions** are keyed by a pack id (1-128 letters, digits, `-_./`), and every value is
//!   a timestamp. Two values under one lesson are allowed: two phones completing a lesson
//!   offline is the normal case, and the fold keeps the earliest.
//! - **Attempts** are keyed by `<device>.<n>` and hold exactly `quiz`, `score` (0-100),
//!   `passed`, `at`, `device` and `answers`, each with one value and bounded. An attempt id with
//!   two values, or a field with two, can only come from a branch rewriting a recorded result
//!   (attempt ids are unique per device), and is refused, as a case event is.
//! - **Grow-only**: every completion and attempt the stored document folds to is still there,
//!   unchanged (a completion may only move earlier, by merging another phone's), so no change
//!   deletes a quiz result or overwrites the maps with something else.
//! - **Bounded**: at most [`MAX_COMPLETIONS`] lessons and [`MAX_ATTEMPTS`] attempts, so the
//!   fold every phone runs on open stays cheap.
//!
//! What is deliberately not checked: that a lesson or quiz exists (phones hold different pack
//! versions, and a lesson withdrawn later keeps its completion), and times in the future (a
//! phone with a wrong clock would otherwise have all its later progress held back; the times
//! only order and display the rider's own record). Messages name the rule, never an id: attempt
//! ids carry a device id.

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::pack::valid_id;
use super::progress::{PROGRESS_SCHEMA, read};

/// Most lessons one progress document may record as completed (a full pack has at most
/// `pack::MAX_LESSONS`, 10,000).
pub const MAX_COMPLETIONS: usize = 10_000;
/// Most quiz attempts one progress document may hold.
pub const MAX_ATTEMPTS: usize = 20_000;
/// Longest attempt id (`<32 hex digits>.<n>` on an honest device).
pub const MAX_ATTEMPT_ID_CHARS: usize = 80;
/// Longest `device` field (32 hex digits on an honest device).
pub const MAX_DEVICE_CHARS: usize = 64;
/// Longest `answers` field (`question=choice,…;…` for at most 500 questions).
pub const MAX_ANSWERS_CHARS: usize = 16_000;

const ATTEMPT_KEYS: [&str; 6] = ["quiz", "score", "passed", "at", "device", "answers"];
/// Every root field a progress document may have (`training::progress`'s layout).
const ROOT_KEYS: [&str; 4] = ["schema", "user", "completed", "attempts"];

/// Checks `after`, the progress document as it would be stored, against `before`, the stored
/// one (`None` for a new document). The error says which rule was broken.
pub fn check_progress_update(
    before: Option<&AutoCommit>,
    after: &AutoCommit,
) -> Result<(), String> {
    check_shape(after)?;
    if let Some(before) = before {
        check_grow_only(&read(before), &read(after))?;
    }
    Ok(())
}

fn all(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Vec<(Value<'static>, ObjId)>, String> {
    doc.get_all(obj, key)
        .map(|vs| vs.into_iter().map(|(v, id)| (v.into_owned(), id)).collect())
        .map_err(|e| format!("the progress document cannot be read: {e}"))
}

fn one_scalar(doc: &AutoCommit, obj: &ObjId, key: &str, at: &str) -> Result<ScalarValue, String> {
    let values = all(doc, obj, key)?;
    match values.as_slice() {
        [(Value::Scalar(s), _)] => Ok(s.clone().into_owned()),
        [] => Err(format!("{at} has no '{key}'")),
        [_] => Err(format!("{at}: '{key}' is not a plain value")),
        _ => Err(format!(
            "{at}: '{key}' has {} conflicting values; a recorded value is never rewritten",
            values.len()
        )),
    }
}

fn maps_under(doc: &AutoCommit, key: &str) -> Result<Vec<ObjId>, String> {
    all(doc, &ROOT, key)?
        .into_iter()
        .map(|(v, id)| match v {
            Value::Object(ObjType::Map) => Ok(id),
            _ => Err(format!("the progress document's '{key}' is not a map")),
        })
        .collect()
}

fn check_shape(doc: &AutoCommit) -> Result<(), String> {
    let at = "the progress document";
    if let Some(field) = doc.keys(ROOT).find(|k| !ROOT_KEYS.contains(&k.as_str())) {
        let shown: String = field
            .chars()
            .take(40)
            .flat_map(char::escape_debug)
            .collect();
        return Err(format!(
            "{at} has an unknown field '{shown}'; it holds only {}",
            ROOT_KEYS.join(", ")
        ));
    }
    match one_scalar(doc, &ROOT, "schema", at)? {
        ScalarValue::Str(s) if s.as_str() == PROGRESS_SCHEMA => {}
        _ => return Err(format!("{at}'s schema is not '{PROGRESS_SCHEMA}'")),
    }
    if !matches!(one_scalar(doc, &ROOT, "user", at)?, ScalarValue::Str(_)) {
        return Err(format!("{at}'s user is not text"));
    }

    // Counted before anything inside is read, so an oversized map costs only its key count.
    let completed = maps_under(doc, "completed")?;
    if completed.iter().map(|m| doc.length(m)).sum::<usize>() > MAX_COMPLETIONS {
        return Err(format!(
            "the progress records more than {MAX_COMPLETIONS} completed lessons"
        ));
    }
    let attempts = maps_under(doc, "attempts")?;
    if attempts.iter().map(|m| doc.length(m)).sum::<usize>() > MAX_ATTEMPTS {
        return Err(format!(
            "the progress holds more than {MAX_ATTEMPTS} quiz attempts"
        ));
    }

    for map in completed {
        for lesson in doc.keys(&map) {
            if !valid_id(&lesson) {
                return Err(
                    "a completed lesson's id is not 1-128 letters, digits, '-', '_', '.' or '/'"
                        .into(),
                );
            }
            for (v, _) in all(doc, &map, &lesson)? {
                let ok = matches!(&v, Value::Scalar(s)
                    if matches!(s.as_ref(), ScalarValue::Timestamp(ms)
                        if chrono::DateTime::from_timestamp_millis(*ms).is_some()));
                if !ok {
                    return Err("a lesson completion is not a time".into());
                }
            }
        }
    }

    for map in attempts {
        for id in doc.keys(&map) {
            if id.is_empty() || id.chars().count() > MAX_ATTEMPT_ID_CHARS {
                return Err(format!(
                    "a quiz attempt's id is not 1-{MAX_ATTEMPT_ID_CHARS} characters"
                ));
            }
            let values = all(doc, &map, &id)?;
            let obj = match values.as_slice() {
                [(Value::Object(ObjType::Map), obj)] => obj.clone(),
                [_] => return Err("a quiz attempt is not a map".into()),
                _ => {
                    return Err(format!(
                        "a quiz attempt has {} conflicting values; a recorded result is never \
                         rewritten",
                        values.len()
                    ));
                }
            };
            check_attempt(doc, &obj)?;
        }
    }
    Ok(())
}

fn check_attempt(doc: &AutoCommit, obj: &ObjId) -> Result<(), String> {
    let at = "a quiz attempt";
    if doc.keys(obj).any(|k| !ATTEMPT_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "{at} holds only {}; it has another field",
            ATTEMPT_KEYS.join(", ")
        ));
    }
    let text = |key: &str, max: usize, id: bool| -> Result<(), String> {
        match one_scalar(doc, obj, key, at)? {
            ScalarValue::Str(s) if id && !valid_id(&s) => Err(format!(
                "{at}'s {key} is not 1-128 letters, digits, '-', '_', '.' or '/'"
            )),
            ScalarValue::Str(s) if s.chars().count() > max => {
                Err(format!("{at}'s {key} is longer than {max} characters"))
            }
            ScalarValue::Str(s) if s.chars().any(char::is_control) => {
                Err(format!("{at}'s {key} contains a control character"))
            }
            ScalarValue::Str(_) => Ok(()),
            _ => Err(format!("{at}'s {key} is not text")),
        }
    };
    text("quiz", usize::MAX, true)?;
    text("device", MAX_DEVICE_CHARS, false)?;
    text("answers", MAX_ANSWERS_CHARS, false)?;
    match one_scalar(doc, obj, "score", at)? {
        ScalarValue::Uint(u) if u <= 100 => {}
        ScalarValue::Int(i) if (0..=100).contains(&i) => {}
        _ => return Err(format!("{at}'s score is not a whole percent from 0 to 100")),
    }
    if !matches!(one_scalar(doc, obj, "passed", at)?, ScalarValue::Boolean(_)) {
        return Err(format!("{at}'s passed is not true or false"));
    }
    match one_scalar(doc, obj, "at", at)? {
        ScalarValue::Timestamp(ms) if chrono::DateTime::from_timestamp_millis(ms).is_some() => {}
        _ => return Err(format!("{at}'s time is not a time")),
    }
    Ok(())
}

fn check_grow_only(
    before: &super::TrainingProgress,
    after: &super::TrainingProgress,
) -> Result<(), String> {
    for c in &before.completed_lessons {
        match after.completed_at(&c.lesson_id) {
            Some(t) if t <= c.completed_at => {}
            Some(_) => {
                return Err(
                    "a change moves a lesson's completion later; completions only merge".into(),
                );
            }
            None => return Err("a change removes a completed lesson; progress only grows".into()),
        }
    }
    for a in &before.attempts {
        match after.attempts.iter().find(|b| b.id == a.id) {
            Some(b) if b == a => {}
            Some(_) => {
                return Err(
                    "a change rewrites a recorded quiz attempt; results never change".into(),
                );
            }
            None => {
                return Err("a change removes a recorded quiz attempt; progress only grows".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::progress::{QuizAttempt, complete, genesis, record_attempt};
    use super::*;
    use automerge::transaction::Transactable;
    use chrono::{DateTime, Utc};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn attempt(id: &str, score: i32) -> QuizAttempt {
        QuizAttempt {
            id: id.into(),
            quiz_id: "food-safety/q1".into(),
            score_percent: score,
            passed: score >= 80,
            at: at(5),
            device: "0123456789abcdef0123456789abcdef".into(),
            answers: "s1=1;m1=0,2".into(),
        }
    }

    /// A progress as an honest device writes it: a completion and an attempt.
    fn honest() -> AutoCommit {
        let mut doc = genesis("rider-1").unwrap();
        complete(&mut doc, "food-safety/l1", at(10)).unwrap();
        record_attempt(&mut doc, &attempt("d.000001", 40)).unwrap();
        doc.commit();
        doc
    }

    fn attempts_map(doc: &AutoCommit) -> ObjId {
        maps_under(doc, "attempts").unwrap().remove(0)
    }

    #[test]
    fn what_an_honest_device_writes_passes_and_merges_pass() {
        let mut before = honest();
        assert_eq!(check_progress_update(None, &before), Ok(()));
        let mut a = before.fork();
        record_attempt(&mut a, &attempt("d.000002", 90)).unwrap();
        let mut b = before.fork();
        complete(&mut b, "food-safety/l2", at(20)).unwrap();
        // Another phone completing l1 earlier, concurrently: two values, the earliest wins.
        let mut c = genesis("rider-1").unwrap();
        complete(&mut c, "food-safety/l1", at(1)).unwrap();
        a.merge(&mut b).unwrap();
        a.merge(&mut c).unwrap();
        assert_eq!(check_progress_update(Some(&before), &a), Ok(()));
    }

    #[test]
    fn a_change_that_deletes_or_rewrites_a_result_is_refused() {
        let mut before = honest();
        let mut gone = before.fork();
        let map = attempts_map(&gone);
        gone.delete(&map, "d.000001").unwrap();
        let err = check_progress_update(Some(&before), &gone).unwrap_err();
        assert!(err.contains("removes a recorded quiz attempt"), "{err}");

        let mut raised = before.fork();
        let map = attempts_map(&raised);
        let (_, obj) = raised.get(&map, "d.000001").unwrap().unwrap();
        raised.put(&obj, "score", 100u64).unwrap();
        let err = check_progress_update(Some(&before), &raised).unwrap_err();
        assert!(err.contains("rewrites a recorded quiz attempt"), "{err}");

        let mut wiped = before.fork();
        wiped.put(ROOT, "completed", "nothing").unwrap();
        let err = check_progress_update(Some(&before), &wiped).unwrap_err();
        assert!(err.contains("'completed' is not a map"), "{err}");

        let mut later = before.fork();
        let map = maps_under(&later, "completed").unwrap().remove(0);
        later
            .put(
                &map,
                "food-safety/l1",
                ScalarValue::Timestamp(at(99).timestamp_millis()),
            )
            .unwrap();
        let err = check_progress_update(Some(&before), &later).unwrap_err();
        assert!(err.contains("moves a lesson's completion later"), "{err}");
    }

    #[test]
    fn a_branch_writing_a_second_value_under_an_attempt_id_is_refused() {
        let mut before = honest();
        // Branch from before the attempt and write another result under its id.
        let mut branch = genesis("rider-1").unwrap();
        record_attempt(&mut branch, &attempt("d.000001", 100)).unwrap();
        let mut after = before.fork();
        after.merge(&mut branch).unwrap();
        let err = check_progress_update(Some(&before), &after).unwrap_err();
        assert!(err.contains("conflicting values"), "{err}");
    }

    /// What the refusal must say, and the edit that breaks the rule.
    type Breach = (&'static str, fn(&mut AutoCommit));

    #[test]
    fn malformed_values_are_refused_each_with_its_rule() {
        let cases: [Breach; 9] = [
            (
                "unknown field 'k0'; it holds only schema, user, completed, attempts",
                |d| {
                    d.put(ROOT, "k0", 1u64).unwrap();
                },
            ),
            ("'attempts' is not a map", |d| {
                d.put(ROOT, "attempts", 100u64).unwrap();
            }),
            ("not a whole percent", |d| {
                let m = attempts_map(d);
                let (_, o) = d.get(&m, "d.000001").unwrap().unwrap();
                d.put(&o, "score", 250u64).unwrap();
            }),
            ("passed is not true or false", |d| {
                let m = attempts_map(d);
                let (_, o) = d.get(&m, "d.000001").unwrap().unwrap();
                d.put(&o, "passed", "yes").unwrap();
            }),
            ("has another field", |d| {
                let m = attempts_map(d);
                let (_, o) = d.get(&m, "d.000001").unwrap().unwrap();
                d.put(&o, "bonus", 1u64).unwrap();
            }),
            ("answers is longer than", |d| {
                let m = attempts_map(d);
                let (_, o) = d.get(&m, "d.000001").unwrap().unwrap();
                d.put(&o, "answers", "x".repeat(MAX_ANSWERS_CHARS + 1))
                    .unwrap();
            }),
            ("not a time", |d| {
                let m = maps_under(d, "completed").unwrap().remove(0);
                d.put(&m, "food-safety/l9", "yesterday").unwrap();
            }),
            ("completed lesson's id", |d| {
                let m = maps_under(d, "completed").unwrap().remove(0);
                d.put(&m, "../../x y", ScalarValue::Timestamp(0)).unwrap();
            }),
            ("schema is not", |d| {
                d.put(ROOT, "schema", "waystation/report").unwrap();
            }),
        ];
        for (needle, edit) in cases {
            let mut doc = honest();
            edit(&mut doc);
            let err = check_progress_update(None, &doc).unwrap_err();
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn more_attempts_than_the_bound_are_refused() {
        let mut doc = genesis("rider-1").unwrap();
        let map = attempts_map(&doc);
        for n in 0..=MAX_ATTEMPTS {
            // Empty maps: the count is checked before any attempt's fields.
            doc.put_object(&map, format!("d.{n:06}").as_str(), ObjType::Map)
                .unwrap();
        }
        let err = check_progress_update(None, &doc).unwrap_err();
        assert!(err.contains("more than 20000 quiz attempts"), "{err}");
    }
}
