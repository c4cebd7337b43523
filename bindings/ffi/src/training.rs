//! The `Training` object (`waystation.training()`) over the core's handle; the records are
//! the core's. Training packs install through `packs().importTraining(..)`.

use std::sync::Arc;

use waystation_core as core;
use waystation_core::training::{
    CourseDetail, CourseSummary, LessonCompletion, LessonHit, LessonImage, LessonView, QuizAnswer,
    QuizResult, QuizView, TrainingProgress,
};

use crate::Result;

/// The installed courses and a user's progress in them, offline. Getters of an unknown id
/// throw `NotFound`; actions on one throw `InvalidInput` and record nothing.
#[derive(uniffi::Object)]
pub struct Training {
    pub(crate) ws: Arc<core::Waystation>,
}

#[uniffi::export]
impl Training {
    /// Every installed course, in the publisher's order, with `user_id`'s progress.
    pub fn courses(&self, user_id: String) -> Result<Vec<CourseSummary>> {
        Ok(self.ws.training().courses(&user_id)?)
    }

    /// One course with its lessons in reading order and `user_id`'s progress in each.
    pub fn course(&self, user_id: String, course_id: String) -> Result<CourseDetail> {
        Ok(self.ws.training().course(&user_id, &course_id)?)
    }

    /// A lesson to read, with the laws it cites; opening it records nothing.
    pub fn lesson(&self, lesson_id: String) -> Result<LessonView> {
        Ok(self.ws.training().lesson(&lesson_id)?)
    }

    /// The local file of a lesson image, or null until the pack fetch has downloaded it.
    pub fn image_path(&self, sha256: String) -> Result<Option<String>> {
        let path = self.ws.training().image_path(&sha256)?;
        Ok(path.map(|p| p.display().to_string()))
    }

    /// Images that installed lessons show and this device does not have yet.
    pub fn missing_images(&self) -> Result<Vec<LessonImage>> {
        Ok(self.ws.training().missing_images()?)
    }

    /// Lessons matching every term of `text`, best first, at most `limit` (1..=100).
    pub fn search(&self, text: String, limit: i32) -> Result<Vec<LessonHit>> {
        Ok(self.ws.training().search(&text, limit)?)
    }

    /// A quiz as the learner sees it before answering, without the answers.
    pub fn quiz(&self, quiz_id: String) -> Result<QuizView> {
        Ok(self.ws.training().quiz(&quiz_id)?)
    }

    /// Grades `answers`, records the attempt durably, and returns the score with the right
    /// answers and explanations.
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

    /// Records that `user_id` completed a lesson, durably (the first time stays).
    pub fn complete_lesson(&self, user_id: String, lesson_id: String) -> Result<LessonCompletion> {
        Ok(self.ws.training().complete_lesson(&user_id, &lesson_id)?)
    }

    /// `user_id`'s progress on this device: completed lessons, every attempt, best scores.
    pub fn progress(&self, user_id: String) -> Result<TrainingProgress> {
        Ok(self.ws.training().progress(&user_id)?)
    }

    /// `user_id`'s progress document, for another device's `mergeProgressFrom`.
    pub fn progress_document_bytes(&self, user_id: String) -> Result<Vec<u8>> {
        Ok(self.ws.training().progress_document_bytes(&user_id)?)
    }

    /// Merges another device's copy of `user_id`'s progress, durably; never loses a result.
    pub fn merge_progress_from(&self, user_id: String, bytes: Vec<u8>) -> Result<TrainingProgress> {
        Ok(self.ws.training().merge_progress_from(&user_id, &bytes)?)
    }
}
