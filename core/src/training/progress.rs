//! A user's training progress: one Automerge document per user, `progress:<user id>`.
//!
//! ## Layout
//!
//! ```text
//! ROOT
//! ├─ schema:    "waystation/training-progress"
//! ├─ user:      "<user id>"
//! ├─ completed: { <lesson id>: Timestamp(ms), … }          first completion per lesson
//! └─ attempts:  { <attempt id>: { quiz, score, passed, at, device, answers }, … }
//! ```
//!
//! ## Why it merges safely
//!
//! - **Same genesis everywhere.** Every device creates the document from the same first
//!   change (fixed actor derived from the user id, time 0), so `completed` and `attempts` are
//!   the *same* Automerge objects on every phone. Two devices that each created their own maps
//!   offline would otherwise conflict on the key and hide one map's entries. Readers still take
//!   the union of every map found under those keys, so even a document built elsewhere loses
//!   nothing.
//! - **Completions are a grow-only map.** A lesson is written once, when first completed on
//!   that device. If two devices complete it concurrently both values survive as an Automerge
//!   conflict; the reader takes the earliest. Nothing ever deletes a completion.
//! - **Attempts are a grow-only map keyed by a unique id** (`<device id>.<n>`), not a list:
//!   concurrent attempts never conflict and their order is derived (by time, then id), not
//!   stored.
//! - **The best score is derived, never stored**: it is the maximum score over all attempts for
//!   the quiz, so a merge can add attempts but can never lower it (a stored "best" field would
//!   be a racing register where a stale device could write a lower value).
//!
//! The result is a fold that gives the same answer on every device whatever order the changes
//! arrived in.

use automerge::{
    ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
    transaction::{CommitOptions, Transactable},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::packs::sha256_hex;
use crate::store::documents::automerge_error;

/// Document kind in the document store.
pub const PROGRESS_KIND: &str = "training-progress";
/// Value of the document's `schema` field.
pub const PROGRESS_SCHEMA: &str = "waystation/training-progress";

/// The document id of a user's progress.
pub fn progress_doc_id(user_id: &str) -> String {
    format!("progress:{user_id}")
}

/// When a lesson was first completed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LessonCompletion {
    /// The lesson.
    pub lesson_id: String,
    /// The earliest completion on any device this one merged.
    pub completed_at: DateTime<Utc>,
}

/// One recorded quiz attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QuizAttempt {
    /// Unique id: `<device id>.<n>`.
    pub id: String,
    /// The quiz.
    pub quiz_id: String,
    /// Percent of questions answered right, 0..=100.
    pub score_percent: i32,
    /// Whether the score reached the quiz's pass mark at the time.
    pub passed: bool,
    /// When it was answered.
    pub at: DateTime<Utc>,
    /// The device it was answered on.
    pub device: String,
    /// The answers given, `question=choice,choice;…` (choices 0-based).
    pub answers: String,
}

/// The best result for one quiz, derived from every attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct BestScore {
    /// The quiz.
    pub quiz_id: String,
    /// Highest score over all attempts, percent.
    pub score_percent: i32,
    /// Whether any attempt passed.
    pub passed: bool,
    /// How many attempts there were.
    pub attempts: i32,
}

/// A user's training progress, as merged from every device this one has heard from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TrainingProgress {
    /// Completed lessons, by lesson id.
    pub completed_lessons: Vec<LessonCompletion>,
    /// Every attempt, oldest first.
    pub attempts: Vec<QuizAttempt>,
    /// Best score per quiz, by quiz id.
    pub best_scores: Vec<BestScore>,
}

impl TrainingProgress {
    /// When `lesson_id` was first completed, if it was.
    pub fn completed_at(&self, lesson_id: &str) -> Option<DateTime<Utc>> {
        self.completed_lessons
            .iter()
            .find(|c| c.lesson_id == lesson_id)
            .map(|c| c.completed_at)
    }

    /// The best result for `quiz_id`, if it was attempted.
    pub fn best(&self, quiz_id: &str) -> Option<&BestScore> {
        self.best_scores.iter().find(|b| b.quiz_id == quiz_id)
    }
}

/// The document every device starts from: byte-identical for the same user.
pub(crate) fn genesis(user_id: &str) -> Result<AutoCommit> {
    let seed = sha256_hex(format!("waystation/training-progress genesis\n{user_id}").as_bytes());
    let actor = ActorId::from(seed.as_bytes()[..16].to_vec());
    let mut doc = AutoCommit::new().with_actor(actor);
    doc.put(ROOT, "schema", PROGRESS_SCHEMA)
        .map_err(automerge_error)?;
    doc.put(ROOT, "user", user_id).map_err(automerge_error)?;
    doc.put_object(ROOT, "completed", ObjType::Map)
        .map_err(automerge_error)?;
    doc.put_object(ROOT, "attempts", ObjType::Map)
        .map_err(automerge_error)?;
    doc.commit_with(CommitOptions::default().with_time(0));
    // Local edits use a fresh actor; the genesis actor is only ever used for this one change.
    doc.set_actor(ActorId::random());
    Ok(doc)
}

/// Every map stored under a root key (one, unless documents were created independently).
fn maps(doc: &AutoCommit, key: &str) -> Vec<ObjId> {
    doc.get_all(ROOT, key)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::Map)).then_some(id))
        .collect()
}

fn scalar(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ScalarValue> {
    match doc.get(obj, key).ok().flatten() {
        Some((Value::Scalar(s), _)) => Some(s.into_owned()),
        _ => None,
    }
}

fn time_from_ms(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// Checks that bytes from elsewhere are this user's progress document, and loads them.
pub(crate) fn load_foreign(bytes: &[u8], user_id: &str) -> Result<AutoCommit> {
    crate::store::documents::check_foreign_size("progress", bytes)?;
    // Measured before automerge reads it: 4 MB of deflated columns can inflate to gigabytes,
    // and automerge 0.12 inflates them with no cap (`util::bounds`).
    crate::util::bounds::check_chunks(bytes, &crate::util::bounds::MessageBounds::default())
        .map_err(|e| Error::invalid(format!("progress document is refused: {e}")))?;
    // automerge 0.12 panics on some malformed input its decoder accepts (found by the server's
    // fuzz target); bytes from another device are data, so a panic is a refusal like any other.
    let doc = std::panic::catch_unwind(|| AutoCommit::load(bytes))
        .map_err(|_| Error::invalid("not an Automerge progress document: it does not decode"))?
        .map_err(|e| Error::invalid(format!("not an Automerge progress document: {e}")))?;
    let root_str = |k: &str| crate::store::documents::root_str(&doc, k);
    if root_str("schema").as_deref() != Some(PROGRESS_SCHEMA) {
        return Err(Error::invalid(format!(
            "document is not a training progress document (schema is not '{PROGRESS_SCHEMA}')"
        )));
    }
    if root_str("user").as_deref() != Some(user_id) {
        return Err(Error::invalid(
            "progress document belongs to another user; progress is private to its owner",
        ));
    }
    Ok(doc)
}

/// Folds the document into the user's progress (see the module docs).
pub(crate) fn read(doc: &AutoCommit) -> TrainingProgress {
    let mut completed: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for map in maps(doc, "completed") {
        for lesson in doc.keys(&map) {
            for (v, _) in doc.get_all(&map, lesson.as_str()).unwrap_or_default() {
                let Value::Scalar(s) = v else { continue };
                let ScalarValue::Timestamp(ms) = s.as_ref() else {
                    continue;
                };
                let Some(at) = time_from_ms(*ms) else {
                    continue;
                };
                completed
                    .entry(lesson.clone())
                    .and_modify(|t| *t = (*t).min(at))
                    .or_insert(at);
            }
        }
    }

    let mut attempts: BTreeMap<String, QuizAttempt> = BTreeMap::new();
    for map in maps(doc, "attempts") {
        for id in doc.keys(&map) {
            for (v, obj) in doc.get_all(&map, id.as_str()).unwrap_or_default() {
                if !matches!(v, Value::Object(ObjType::Map)) {
                    continue;
                }
                if let Some(a) = read_attempt(doc, &obj, &id) {
                    attempts.entry(id.clone()).or_insert(a);
                }
            }
        }
    }
    let mut attempts: Vec<QuizAttempt> = attempts.into_values().collect();
    attempts.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));

    let mut best: BTreeMap<&str, BestScore> = BTreeMap::new();
    for a in &attempts {
        let b = best.entry(&a.quiz_id).or_insert_with(|| BestScore {
            quiz_id: a.quiz_id.clone(),
            score_percent: 0,
            passed: false,
            attempts: 0,
        });
        b.score_percent = b.score_percent.max(a.score_percent);
        b.passed |= a.passed;
        b.attempts = b.attempts.saturating_add(1);
    }
    let best_scores = best.into_values().collect();

    TrainingProgress {
        completed_lessons: completed
            .into_iter()
            .map(|(lesson_id, completed_at)| LessonCompletion {
                lesson_id,
                completed_at,
            })
            .collect(),
        attempts,
        best_scores,
    }
}

fn read_attempt(doc: &AutoCommit, obj: &ObjId, id: &str) -> Option<QuizAttempt> {
    let str_of = |k: &str| match scalar(doc, obj, k)? {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    };
    let score = match scalar(doc, obj, "score")? {
        // Clamped to 0..=100 first, so the conversions cannot fail.
        ScalarValue::Uint(u) => i32::try_from(u.min(100)).unwrap_or(100),
        ScalarValue::Int(i) => i32::try_from(i.clamp(0, 100)).unwrap_or(0),
        _ => return None,
    };
    let passed = matches!(scalar(doc, obj, "passed"), Some(ScalarValue::Boolean(true)));
    let at = match scalar(doc, obj, "at")? {
        ScalarValue::Timestamp(ms) => time_from_ms(ms)?,
        _ => return None,
    };
    Some(QuizAttempt {
        id: id.to_string(),
        quiz_id: str_of("quiz")?,
        score_percent: score,
        passed,
        at,
        device: str_of("device").unwrap_or_default(),
        answers: str_of("answers").unwrap_or_default(),
    })
}

/// Records a lesson completion unless one is already recorded. Returns the first completion
/// time and whether this call recorded it.
pub(crate) fn complete(
    doc: &mut AutoCommit,
    lesson_id: &str,
    at: DateTime<Utc>,
) -> Result<(DateTime<Utc>, bool)> {
    if let Some(first) = read(doc)
        .completed_lessons
        .iter()
        .find(|c| c.lesson_id == lesson_id)
    {
        return Ok((first.completed_at, false));
    }
    let map = writable_map(doc, "completed")?;
    doc.put(
        &map,
        lesson_id,
        ScalarValue::Timestamp(at.timestamp_millis()),
    )
    .map_err(automerge_error)?;
    Ok((at, true))
}

/// The next attempt id for `device`: one past the attempts this device already recorded.
pub(crate) fn next_attempt_id(doc: &AutoCommit, device: &str) -> String {
    let prefix = format!("{device}.");
    let n = maps(doc, "attempts")
        .iter()
        .flat_map(|m| doc.keys(m).collect::<Vec<_>>())
        .filter_map(|k| k.strip_prefix(&prefix).and_then(|n| n.parse::<u64>().ok()))
        .max()
        .unwrap_or(0);
    format!("{prefix}{:06}", n + 1)
}

/// Appends an attempt.
pub(crate) fn record_attempt(doc: &mut AutoCommit, a: &QuizAttempt) -> Result<()> {
    let map = writable_map(doc, "attempts")?;
    let obj = doc
        .put_object(&map, a.id.as_str(), ObjType::Map)
        .map_err(automerge_error)?;
    let fields: [(&str, ScalarValue); 6] = [
        ("quiz", ScalarValue::Str(a.quiz_id.as_str().into())),
        (
            "score",
            ScalarValue::Uint(u64::try_from(a.score_percent.clamp(0, 100)).unwrap_or(0)),
        ),
        ("passed", ScalarValue::Boolean(a.passed)),
        ("at", ScalarValue::Timestamp(a.at.timestamp_millis())),
        ("device", ScalarValue::Str(a.device.as_str().into())),
        ("answers", ScalarValue::Str(a.answers.as_str().into())),
    ];
    for (k, v) in fields {
        doc.put(&obj, k, v).map_err(automerge_error)?;
    }
    Ok(())
}

/// The map to write under `key`: the winning one, created if absent (only in a document not
/// made from [`genesis`]).
fn writable_map(doc: &mut AutoCommit, key: &str) -> Result<ObjId> {
    match doc.get(ROOT, key).map_err(automerge_error)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => doc
            .put_object(ROOT, key, ObjType::Map)
            .map_err(automerge_error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn attempt(id: &str, quiz: &str, score: i32, t: i64) -> QuizAttempt {
        QuizAttempt {
            id: id.into(),
            quiz_id: quiz.into(),
            score_percent: score,
            passed: score >= 80,
            at: at(t),
            device: id.split('.').next().unwrap().into(),
            answers: String::new(),
        }
    }

    #[test]
    fn genesis_is_identical_on_every_device() {
        let mut a = genesis("rider-1").unwrap();
        let mut b = genesis("rider-1").unwrap();
        assert_eq!(a.get_heads(), b.get_heads());
        assert_ne!(a.get_heads(), genesis("rider-2").unwrap().get_heads());
        assert_ne!(a.get_actor(), b.get_actor(), "local edits use fresh actors");
    }

    #[test]
    fn concurrent_edits_converge_and_keep_the_earliest_and_the_best() {
        let mut a = genesis("u").unwrap();
        let mut b = genesis("u").unwrap();
        complete(&mut a, "l1", at(50)).unwrap();
        complete(&mut b, "l1", at(10)).unwrap();
        complete(&mut b, "l2", at(20)).unwrap();
        record_attempt(&mut a, &attempt("A.000001", "q", 90, 5)).unwrap();
        record_attempt(&mut b, &attempt("B.000001", "q", 40, 6)).unwrap();
        a.commit();
        b.commit();

        let mut ab = a.fork();
        ab.merge(&mut b.clone()).unwrap();
        let mut ba = b.fork();
        ba.merge(&mut a.clone()).unwrap();
        let (pa, pb) = (read(&ab), read(&ba));
        assert_eq!(pa, pb);
        assert_eq!(pa.completed_at("l1"), Some(at(10)));
        assert_eq!(pa.completed_lessons.len(), 2);
        assert_eq!(pa.attempts.len(), 2);
        let best = pa.best("q").unwrap();
        assert_eq!(
            (best.score_percent, best.passed, best.attempts),
            (90, true, 2)
        );

        // Completing again never moves the first time.
        let (first, new) = complete(&mut ab, "l1", at(99)).unwrap();
        assert_eq!((first, new), (at(10), false));
        assert_eq!(next_attempt_id(&ab, "A"), "A.000002");
        assert_eq!(next_attempt_id(&ab, "C"), "C.000001");
    }

    #[test]
    fn independently_created_documents_lose_nothing() {
        // Documents that did not start from the shared genesis: their maps conflict, and the
        // reader takes the union.
        let mut a = AutoCommit::new();
        let mut b = AutoCommit::new();
        complete(&mut a, "l1", at(1)).unwrap();
        complete(&mut b, "l2", at(2)).unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(read(&a).completed_lessons.len(), 2);
    }

    #[test]
    fn oversized_foreign_documents_are_refused_before_parsing() {
        let big = vec![0u8; crate::store::documents::MAX_FOREIGN_DOCUMENT_BYTES + 1];
        let err = load_foreign(&big, "u1").unwrap_err().to_string();
        assert!(err.contains("at most"), "{err}");
    }

    #[test]
    fn a_foreign_document_bomb_is_refused_before_it_is_inflated() {
        // A 64 MiB column (about 64 KB on the wire): over the 8 MiB limit, small enough that
        // this test does not hurt the machine if the check is missing.
        let mut bomb = crate::util::bounds::bombs::document_with_deflated_column(64);
        // With a valid checksum (the first 4 bytes of the SHA-256 of type, length and body),
        // as an attacker would make it: automerge would otherwise refuse it before inflating.
        let checksum = sha256_hex(&bomb[8..]);
        for i in 0..4 {
            bomb[4 + i] = u8::from_str_radix(&checksum[2 * i..2 * i + 2], 16).unwrap();
        }
        assert!(bomb.len() < crate::store::documents::MAX_FOREIGN_DOCUMENT_BYTES);
        let err = load_foreign(&bomb, "u1").unwrap_err().to_string();
        assert!(err.contains("inflates to more than"), "{err}");
    }

    #[test]
    fn foreign_documents_are_checked() {
        let mut other = genesis("someone-else").unwrap();
        let err = load_foreign(&other.save(), "me").unwrap_err().to_string();
        assert!(err.contains("another user"), "{err}");
        let err = load_foreign(b"garbage", "me").unwrap_err().to_string();
        assert!(err.contains("not an Automerge"), "{err}");
        let mut plain = AutoCommit::new();
        plain.put(ROOT, "x", 1).unwrap();
        let err = load_foreign(&plain.save(), "me").unwrap_err().to_string();
        assert!(err.contains("not a training progress document"), "{err}");
    }
}
