//! Safety training as the apps see it: the `Training` object (`waystation.training()`) over
//! the core's `Training` handle. Reading, search, quizzes graded on the device, and the
//! user's progress, all offline. The records (`CourseSummary`, `LessonView`, `QuizView`,
//! `QuizResult`, `TrainingProgress`, …) are the core's own types.
//!
//! A training pack is installed through `waystation.packs().importTraining(..)`, like every
//! signed pack; lesson images arrive with the pack fetch.

use std::sync::Arc;

use waystation_core as core;
use waystation_core::training::{
    CourseDetail, CourseSummary, LessonCompletion, LessonHit, LessonImage, LessonView, QuizAnswer,
    QuizResult, QuizView, TrainingProgress,
};

use crate::Result;

/// The installed courses and a user's progress in them. Get it with
/// `waystation.training()`. Every method works offline and returns in milliseconds.
///
/// Getters of an id that is not installed throw `NotFound`; actions on one (completing a
/// lesson, answering a quiz) throw `InvalidInput` and record nothing. A user id that is empty,
/// longer than 128 characters or holds a control character throws `InvalidInput`.
#[derive(uniffi::Object)]
pub struct Training {
    ws: Arc<core::Waystation>,
}

impl Training {
    pub(crate) fn new(ws: Arc<core::Waystation>) -> Arc<Training> {
        Arc::new(Training { ws })
    }
}

#[uniffi::export]
impl Training {
    /// Every installed course, in the publisher's order, with `user_id`'s progress: lessons
    /// completed, best quiz score, passed.
    pub fn courses(&self, user_id: String) -> Result<Vec<CourseSummary>> {
        Ok(self.ws.training().courses(&user_id)?)
    }

    /// One course with its lessons in reading order and `user_id`'s progress in each.
    /// Throws `NotFound` when no such course is installed.
    pub fn course(&self, user_id: String, course_id: String) -> Result<CourseDetail> {
        Ok(self.ws.training().course(&user_id, &course_id)?)
    }

    /// A lesson to read, with the laws it cites. Opening a lesson records nothing; call
    /// `completeLesson` when the learner finishes it. Throws `NotFound` for an unknown id.
    pub fn lesson(&self, lesson_id: String) -> Result<LessonView> {
        Ok(self.ws.training().lesson(&lesson_id)?)
    }

    /// The local file of a lesson image, or null until the pack fetch has downloaded it
    /// (show the image's alt text meanwhile). Throws `InvalidInput` unless `sha256` is 64
    /// lowercase hex digits.
    pub fn image_path(&self, sha256: String) -> Result<Option<String>> {
        let path = self.ws.training().image_path(&sha256)?;
        Ok(path.map(|p| p.display().to_string()))
    }

    /// Images that installed lessons show and this device does not have yet.
    pub fn missing_images(&self) -> Result<Vec<LessonImage>> {
        Ok(self.ws.training().missing_images()?)
    }

    /// Lessons whose title or body contains every space-separated term of `text` (Chinese
    /// such as 头盔, or English), best match first, at most `limit` (1..=100; anything else
    /// throws `InvalidInput`), each with a highlighted snippet. A few milliseconds, offline.
    pub fn search(&self, text: String, limit: i32) -> Result<Vec<LessonHit>> {
        Ok(self.ws.training().search(&text, limit)?)
    }

    /// A quiz as the learner sees it before answering: questions and choices, without the
    /// answers. Throws `NotFound` for an unknown id.
    pub fn quiz(&self, quiz_id: String) -> Result<QuizView> {
        Ok(self.ws.training().quiz(&quiz_id)?)
    }

    /// Grades `answers` to a quiz, records the attempt in `user_id`'s progress (durably,
    /// before returning) and returns the score with the right answers and explanations.
    /// Unanswered questions count as wrong. Throws `InvalidInput`, recording nothing, for an
    /// unknown quiz, an unknown question, a choice out of range, several choices on a
    /// single-choice question or a question answered twice.
    pub fn answer_quiz(
        &self,
        user_id: String,
        quiz_id: String,
        answers: Vec<QuizAnswer>,
    ) -> Result<QuizResult> {
        Ok(self
            .ws
            .training()
            .answer_quiz(&user_id, &quiz_id, &answers)?)
    }

    /// Records that `user_id` completed a lesson, durably, before returning. Completing it
    /// again keeps the first completion time. Throws `InvalidInput` for a lesson that is not
    /// installed.
    pub fn complete_lesson(&self, user_id: String, lesson_id: String) -> Result<LessonCompletion> {
        Ok(self.ws.training().complete_lesson(&user_id, &lesson_id)?)
    }

    /// `user_id`'s progress on this device: completed lessons, every attempt, best scores.
    pub fn progress(&self, user_id: String) -> Result<TrainingProgress> {
        Ok(self.ws.training().progress(&user_id)?)
    }

    /// `user_id`'s whole progress document, as bytes, for another device of the same user to
    /// pass to `mergeProgressFrom`. A user with no progress gets the empty starting document.
    pub fn progress_document_bytes(&self, user_id: String) -> Result<Vec<u8>> {
        Ok(self.ws.training().progress_document_bytes(&user_id)?)
    }

    /// Merges another device's copy of `user_id`'s progress document (from
    /// `progressDocumentBytes`) into this one, durably, and returns the merged progress.
    /// Merging never loses a completion or an attempt and never lowers a best score; it is
    /// idempotent and order-independent. Throws `InvalidInput`, storing nothing, for bytes
    /// that are not that user's progress document or whose merge would delete or rewrite a
    /// recorded result.
    pub fn merge_progress_from(&self, user_id: String, bytes: Vec<u8>) -> Result<TrainingProgress> {
        Ok(self.ws.training().merge_progress_from(&user_id, &bytes)?)
    }
}
