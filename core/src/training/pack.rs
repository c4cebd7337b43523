//! The training pack format (payload of a signed envelope), its header checks, and how a delta
//! pack applies to the installed content. Documented in `docs/formats/training-pack.md`.
//!
//! Content validation (`validate.rs`) runs on the *resulting* content: a full pack is validated
//! as it is; a delta is first applied to the installed courses ([`TrainingPack::apply_to`]) and
//! the outcome is validated as if it were a full pack. So whatever a delta does, the installed
//! content always satisfies every rule.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use crate::error::{Error, Result};

/// DSSE payload type of training packs.
pub const TRAINING_PACK_TYPE: &str = "application/vnd.waystation.training-pack+json";
/// Value of the payload's `format` field.
pub const TRAINING_PACK_FORMAT: &str = "waystation/training-pack";
/// Newest payload `format_version` this build reads.
pub const TRAINING_PACK_FORMAT_VERSION: u32 = 1;

/// Most courses installed from one pack.
pub const MAX_COURSES: usize = 500;
/// Most lessons in one course.
pub const MAX_LESSONS_PER_COURSE: usize = 500;
/// Most lessons installed from one pack.
pub const MAX_LESSONS: usize = 10_000;
/// Most questions in one quiz.
pub const MAX_QUESTIONS: usize = 500;
/// Fewest and most choices a question offers.
pub const CHOICES: std::ops::RangeInclusive<usize> = 2..=10;

pub(super) const MAX_ID: usize = 128;
pub(super) const MAX_TITLE: usize = 200;
pub(super) const MAX_SUMMARY: usize = 2_000;
pub(super) const MAX_BODY: usize = 50_000;
pub(super) const MAX_PROMPT: usize = 1_000;
pub(super) const MAX_CHOICE: usize = 500;
pub(super) const MAX_EXPLANATION: usize = 4_000;
pub(super) const MAX_SOURCE: usize = 500;
pub(super) const MAX_NOTE: usize = 2_000;
pub(super) const MAX_SOURCES: usize = 30;
pub(super) const MAX_IMAGES: usize = 30;
pub(super) const MAX_MINUTES: u32 = 240;

/// Text in Chinese, which every text has, and English, which most have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct LocalizedText {
    /// Chinese (the authoritative text).
    pub zh: String,
    /// English, when the publisher provides it. Fall back to `zh` when it is `null`/`nil`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

/// The payload of a training pack: a full pack (`base_version` absent) or a delta.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingPack {
    /// Always [`TRAINING_PACK_FORMAT`].
    pub format: String,
    /// Payload format version; this build reads up to [`TRAINING_PACK_FORMAT_VERSION`].
    pub format_version: u32,
    /// Stable id of the pack, lowercase letters, digits and dashes.
    pub pack_id: String,
    /// Monotonic version; a device refuses a version older than the installed one.
    pub version: u64,
    /// Who publishes it.
    pub publisher: String,
    /// When it was built.
    pub created: DateTime<Utc>,
    /// `None`: a full pack holding every course. `Some(v)`: a delta that applies only on top
    /// of version `v`.
    #[serde(default)]
    pub base_version: Option<u64>,
    /// Free text shown with the pack (licence, provenance).
    #[serde(default)]
    pub notice: Option<String>,
    /// Full pack: every course, in display order. Delta: courses added or replaced whole
    /// (a replaced course keeps its place; a new one goes last).
    #[serde(default)]
    pub courses: Vec<Course>,
    /// Delta only: lessons added to or replaced in an installed course.
    #[serde(default)]
    pub lessons: Vec<DeltaLesson>,
    /// Delta only: questions added to or replaced in an installed course's quiz.
    #[serde(default)]
    pub questions: Vec<DeltaQuestion>,
    /// Delta only: ids removed since the base version.
    #[serde(default)]
    pub removed: Removed,
}

/// A course: lessons to read and an optional quiz.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Course {
    /// Stable id, unique across installed packs.
    pub id: String,
    /// Title.
    pub title: LocalizedText,
    /// One-paragraph summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<LocalizedText>,
    /// Lessons in reading order.
    pub lessons: Vec<Lesson>,
    /// The course's quiz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiz: Option<Quiz>,
}

/// One lesson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// Stable id, unique across installed packs.
    pub id: String,
    /// Title.
    pub title: LocalizedText,
    /// Estimated reading time in minutes.
    pub minutes: u32,
    /// Markdown body.
    pub body: LocalizedText,
    /// The laws and standards the lesson rests on.
    #[serde(default)]
    pub sources: Vec<LessonSource>,
    /// Images, referenced by the SHA-256 of their bytes.
    #[serde(default)]
    pub images: Vec<LessonImage>,
}

/// A law, regulation or standard a lesson rests on. Show it under the lesson.
///
/// (Named `LessonSource`, not `Source`, so that it clashes with nothing an app imports.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct LessonSource {
    /// Title in Chinese, e.g. 中华人民共和国食品安全法.
    pub title: String,
    /// Title in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    /// The article cited, e.g. 第三十三条.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    /// What the source says, briefly, in Chinese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The note in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_en: Option<String>,
}

/// An image a lesson shows. The bytes travel separately, addressed by their SHA-256: a pack
/// carries only this reference, and the device fetches the file after installing the pack.
///
/// (Named `LessonImage`, not `Image`, so that it does not clash with SwiftUI's `Image`.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[serde(deny_unknown_fields)]
pub struct LessonImage {
    /// Lowercase hex SHA-256 of the image bytes (64 digits).
    pub sha256: String,
    /// Alternative text, for screen readers and while the image is missing.
    pub alt: LocalizedText,
    /// `image/jpeg`, `image/png` or `image/webp`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// A course's quiz.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    /// Stable id.
    pub id: String,
    /// Score (percent of questions right) needed to pass, 1..=100.
    pub pass_percent: u32,
    /// Questions in order.
    pub questions: Vec<Question>,
}

/// A quiz question as published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable id, unique across installed packs.
    pub id: String,
    /// The lesson of the same course it tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson: Option<String>,
    /// `single` (exactly one right choice) or `multiple` (one or more).
    pub kind: String,
    /// The question.
    pub prompt: LocalizedText,
    /// The choices, in display order.
    pub choices: Vec<LocalizedText>,
    /// Indices of the right choices (0-based).
    pub correct: Vec<i64>,
    /// Why the right answer is right.
    pub explanation: LocalizedText,
}

/// In a delta: a lesson added to (at the end) or replaced in (in place) an installed course.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaLesson {
    /// The course it belongs to.
    pub course: String,
    /// The lesson.
    pub lesson: Lesson,
}

/// In a delta: a question added to (at the end) or replaced in (in place) a course's quiz.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaQuestion {
    /// The course whose quiz it belongs to.
    pub course: String,
    /// The question.
    pub question: Question,
}

/// In a delta: ids removed since the base version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Removed {
    /// Whole courses (with their lessons and quiz).
    #[serde(default)]
    pub courses: Vec<String>,
    /// Lessons.
    #[serde(default)]
    pub lessons: Vec<String>,
    /// Quiz questions.
    #[serde(default)]
    pub questions: Vec<String>,
}

impl Removed {
    fn is_empty(&self) -> bool {
        self.courses.is_empty() && self.lessons.is_empty() && self.questions.is_empty()
    }
}

/// Whether `id` is 1-128 ASCII letters, digits, `-`, `_`, `.` or `/`.
pub(super) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

pub(super) fn shown_id(id: &str) -> String {
    id.chars().take(80).collect()
}

pub(super) fn check_id(what: &str, id: &str) -> Result<()> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(Error::pack(format!(
            "{what} id '{}' must be 1-{MAX_ID} letters, digits, '-', '_', '.' or '/'",
            shown_id(id)
        )))
    }
}

/// Checks one text field: not blank when required, within `max` characters, no control
/// characters (line breaks and tabs only where `multiline`).
pub(super) fn check_text(
    at: &str,
    field: &str,
    value: &str,
    max: usize,
    multiline: bool,
) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::pack(format!("{at}: {field} is empty")));
    }
    let n = value.chars().count();
    if n > max {
        return Err(Error::pack(format!(
            "{at}: {field} is {n} characters, more than {max}"
        )));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t' | '\r')))
    {
        return Err(Error::pack(format!(
            "{at}: {field} contains a control character"
        )));
    }
    Ok(())
}

pub(super) fn check_localized(
    at: &str,
    field: &str,
    t: &LocalizedText,
    max: usize,
    multiline: bool,
) -> Result<()> {
    if t.zh.trim().is_empty() {
        return Err(Error::pack(format!(
            "{at}: {field}.zh (Chinese text) is missing"
        )));
    }
    check_text(at, &format!("{field}.zh"), &t.zh, max, multiline)?;
    if let Some(en) = &t.en {
        check_text(at, &format!("{field}.en"), en, max, multiline)?;
    }
    Ok(())
}

pub(super) fn check_optional(at: &str, field: &str, v: &Option<String>, max: usize) -> Result<()> {
    match v {
        Some(v) => check_text(at, field, v, max, false),
        None => Ok(()),
    }
}

impl TrainingPack {
    /// Parses a verified payload.
    pub fn from_json(bytes: &[u8]) -> Result<TrainingPack> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::pack(format!("training pack payload is malformed: {e}")))
    }

    /// Whether this is a delta pack.
    pub fn is_delta(&self) -> bool {
        self.base_version.is_some()
    }

    /// Checks the header and the full/delta shape (not the content).
    pub fn validate_header(&self) -> Result<()> {
        crate::packs::PackHeader {
            kind: "training",
            format: &self.format,
            expected_format: TRAINING_PACK_FORMAT,
            format_version: self.format_version,
            max_format_version: TRAINING_PACK_FORMAT_VERSION,
            pack_id: &self.pack_id,
            version: self.version,
        }
        .check()?;
        check_text("pack", "publisher", &self.publisher, 200, false)?;
        if let Some(n) = &self.notice {
            check_text("pack", "notice", n, 2_000, true)?;
        }
        match self.base_version {
            None => {
                if !self.lessons.is_empty()
                    || !self.questions.is_empty()
                    || !self.removed.is_empty()
                {
                    return Err(Error::pack(
                        "a full training pack (no base_version) must carry whole courses only, \
                         not lessons, questions or removed ids",
                    ));
                }
                if self.courses.is_empty() {
                    return Err(Error::pack("a full training pack has no courses"));
                }
            }
            Some(base) => {
                if base == 0 || base >= self.version {
                    return Err(Error::pack(format!(
                        "delta pack version {} must be newer than its base_version {base}",
                        self.version
                    )));
                }
            }
        }
        if self.courses.len() > MAX_COURSES {
            return Err(Error::pack(format!(
                "pack has {} courses, more than the limit of {MAX_COURSES}",
                self.courses.len()
            )));
        }
        Ok(())
    }

    /// The content after this pack: the pack's courses for a full pack, or `installed` with
    /// this delta applied. Not yet validated: the import validates the result as a whole.
    pub fn apply_to(&self, installed: Vec<Course>) -> Result<Vec<Course>> {
        if !self.is_delta() {
            return Ok(self.courses.clone());
        }
        let mut courses = installed;
        let r = &self.removed;

        // An id may be removed or upserted by one delta, not both: the intent would be unclear.
        let upserted: HashSet<&str> = self
            .courses
            .iter()
            .map(|c| c.id.as_str())
            .chain(self.lessons.iter().map(|l| l.lesson.id.as_str()))
            .chain(self.questions.iter().map(|q| q.question.id.as_str()))
            .collect();
        for id in r.courses.iter().chain(&r.lessons).chain(&r.questions) {
            if upserted.contains(id.as_str()) {
                return Err(Error::pack(format!(
                    "delta both removes and adds '{}'",
                    shown_id(id)
                )));
            }
        }

        for id in &r.courses {
            let before = courses.len();
            courses.retain(|c| &c.id != id);
            if courses.len() == before {
                return Err(Error::pack(format!(
                    "delta removes course '{}', which is not installed",
                    shown_id(id)
                )));
            }
        }
        for id in &r.lessons {
            let found = courses.iter_mut().any(|c| {
                let before = c.lessons.len();
                c.lessons.retain(|l| &l.id != id);
                c.lessons.len() != before
            });
            if !found {
                return Err(Error::pack(format!(
                    "delta removes lesson '{}', which is not installed",
                    shown_id(id)
                )));
            }
        }
        for id in &r.questions {
            let found = courses.iter_mut().any(|c| match &mut c.quiz {
                Some(q) => {
                    let before = q.questions.len();
                    q.questions.retain(|x| &x.id != id);
                    q.questions.len() != before
                }
                None => false,
            });
            if !found {
                return Err(Error::pack(format!(
                    "delta removes question '{}', which is not installed",
                    shown_id(id)
                )));
            }
        }

        for course in &self.courses {
            match courses.iter_mut().find(|c| c.id == course.id) {
                Some(c) => *c = course.clone(),
                None => courses.push(course.clone()),
            }
        }
        for dl in &self.lessons {
            let Some(course) = courses.iter_mut().find(|c| c.id == dl.course) else {
                return Err(Error::pack(format!(
                    "delta lesson '{}' is for course '{}', which is not installed",
                    shown_id(&dl.lesson.id),
                    shown_id(&dl.course)
                )));
            };
            match course.lessons.iter_mut().find(|l| l.id == dl.lesson.id) {
                Some(l) => *l = dl.lesson.clone(),
                None => course.lessons.push(dl.lesson.clone()),
            }
        }
        for dq in &self.questions {
            let Some(course) = courses.iter_mut().find(|c| c.id == dq.course) else {
                return Err(Error::pack(format!(
                    "delta question '{}' is for course '{}', which is not installed",
                    shown_id(&dq.question.id),
                    shown_id(&dq.course)
                )));
            };
            let Some(quiz) = course.quiz.as_mut() else {
                return Err(Error::pack(format!(
                    "delta question '{}' is for course '{}', which has no quiz",
                    shown_id(&dq.question.id),
                    shown_id(&dq.course)
                )));
            };
            match quiz.questions.iter_mut().find(|q| q.id == dq.question.id) {
                Some(q) => *q = dq.question.clone(),
                None => quiz.questions.push(dq.question.clone()),
            }
        }
        Ok(courses)
    }
}

#[cfg(test)]
pub(super) mod fixtures;

#[cfg(test)]
mod tests;
