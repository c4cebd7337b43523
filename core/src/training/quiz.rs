//! Quizzes: what the learner sees (without the answers) and how an attempt is graded.
//!
//! Grading is all-or-nothing per question: a multiple-choice question counts as right only when
//! exactly the right set of choices is picked. The score is the percent of questions right,
//! rounded down (so 79.9 % never passes an 80 % mark). A question left unanswered (no choices)
//! is wrong. Answers that cannot be graded (an unknown question, a choice out of range, several
//! choices for a single-choice question, a question answered twice) are refused as a whole and
//! nothing is recorded.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

use super::pack::{LocalizedText, Question, Quiz};
use crate::error::{Error, Result};

/// Single or multiple choice: show radio buttons or check boxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// Exactly one choice is right.
    Single,
    /// One or more choices are right; the learner must pick all of them.
    Multiple,
}

impl QuestionKind {
    fn of(q: &Question) -> QuestionKind {
        if q.kind == "single" {
            QuestionKind::Single
        } else {
            QuestionKind::Multiple
        }
    }
}

/// A question as shown before answering: no answers, no explanation.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QuizQuestion {
    /// Question id; answer with it in [`QuizAnswer::question_id`].
    pub id: String,
    /// The lesson it tests, for a "read again" link.
    pub lesson_id: Option<String>,
    /// Single or multiple choice.
    pub kind: QuestionKind,
    /// The question.
    pub prompt: LocalizedText,
    /// The choices, in display order; answers refer to them by 0-based index.
    pub choices: Vec<LocalizedText>,
}

/// A quiz as shown before answering.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QuizView {
    /// Quiz id.
    pub id: String,
    /// The course it belongs to.
    pub course_id: String,
    /// Score needed to pass, percent.
    pub pass_percent: i32,
    /// The questions, in order.
    pub questions: Vec<QuizQuestion>,
}

impl QuizView {
    pub(crate) fn new(course_id: String, quiz: &Quiz) -> QuizView {
        QuizView {
            id: quiz.id.clone(),
            course_id,
            pass_percent: percent(quiz.pass_percent),
            questions: quiz
                .questions
                .iter()
                .map(|q| QuizQuestion {
                    id: q.id.clone(),
                    lesson_id: q.lesson.clone(),
                    kind: QuestionKind::of(q),
                    prompt: q.prompt.clone(),
                    choices: q.choices.clone(),
                })
                .collect(),
        }
    }
}

/// The learner's answer to one question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QuizAnswer {
    /// Question id.
    pub question_id: String,
    /// The chosen choices, 0-based. Empty means unanswered (graded as wrong).
    pub choices: Vec<i32>,
}

impl QuizAnswer {
    /// Shorthand constructor.
    pub fn new(question_id: impl Into<String>, choices: impl Into<Vec<i32>>) -> QuizAnswer {
        QuizAnswer {
            question_id: question_id.into(),
            choices: choices.into(),
        }
    }
}

/// One graded question, to show after an attempt.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct GradedQuestion {
    /// Question id.
    pub question_id: String,
    /// What the learner chose, ascending.
    pub chosen: Vec<i32>,
    /// The right choices, ascending.
    pub correct_choices: Vec<i32>,
    /// Whether exactly the right choices were chosen.
    pub correct: bool,
    /// Why the right answer is right.
    pub explanation: LocalizedText,
}

/// The graded result of one attempt, already recorded in the user's progress.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct QuizResult {
    /// Id of the recorded attempt.
    pub attempt_id: String,
    /// Quiz id.
    pub quiz_id: String,
    /// Percent of questions right, rounded down.
    pub score_percent: i32,
    /// Whether the score reached the pass mark.
    pub passed: bool,
    /// The pass mark, percent.
    pub pass_percent: i32,
    /// Questions answered right.
    pub correct_count: i32,
    /// Questions in the quiz.
    pub question_count: i32,
    /// Every question of the quiz, in order, graded and explained.
    pub questions: Vec<GradedQuestion>,
    /// Best score for this quiz over every attempt this device knows of, this one included.
    /// A worse attempt never lowers it.
    pub best_score_percent: i32,
    /// When it was answered.
    pub at: DateTime<Utc>,
}

/// The grading of an attempt, before it is recorded.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Graded {
    pub score_percent: i32,
    pub passed: bool,
    pub pass_percent: i32,
    pub correct_count: i32,
    pub questions: Vec<GradedQuestion>,
    /// `question=choice,choice;…`, in quiz order, for the attempt record.
    pub answers: String,
}

/// A published pass mark as the API carries it (the format allows 1..=100).
fn percent(p: u32) -> i32 {
    i32::try_from(p.min(100)).unwrap_or(100)
}

/// Checks `answers` against `quiz` and grades them.
pub(crate) fn grade(quiz: &Quiz, answers: &[QuizAnswer]) -> Result<Graded> {
    let by_id: HashMap<&str, &Question> =
        quiz.questions.iter().map(|q| (q.id.as_str(), q)).collect();
    let mut given: HashMap<&str, Vec<i32>> = HashMap::new();
    for a in answers {
        let shown: String = a.question_id.chars().take(80).collect();
        let Some(q) = by_id.get(a.question_id.as_str()) else {
            return Err(Error::invalid(format!(
                "question '{shown}' is not in quiz '{}'",
                quiz.id
            )));
        };
        let n = q.choices.len();
        let mut seen = HashSet::new();
        for &c in &a.choices {
            if !usize::try_from(c).is_ok_and(|c| c < n) {
                return Err(Error::invalid(format!(
                    "question '{shown}': choice {c} is out of range (it has {n} choices, 0 to {})",
                    n.saturating_sub(1)
                )));
            }
            if !seen.insert(c) {
                return Err(Error::invalid(format!(
                    "question '{shown}': choice {c} is given twice"
                )));
            }
        }
        if QuestionKind::of(q) == QuestionKind::Single && a.choices.len() > 1 {
            return Err(Error::invalid(format!(
                "question '{shown}' is single-choice but was answered with {} choices",
                a.choices.len()
            )));
        }
        let mut chosen = a.choices.clone();
        chosen.sort_unstable();
        if given.insert(a.question_id.as_str(), chosen).is_some() {
            return Err(Error::invalid(format!(
                "question '{shown}' is answered twice"
            )));
        }
    }

    let mut questions = Vec::with_capacity(quiz.questions.len());
    let mut parts = Vec::with_capacity(quiz.questions.len());
    for q in &quiz.questions {
        let chosen = given.remove(q.id.as_str()).unwrap_or_default();
        let mut correct_choices: Vec<i32> = q
            .correct
            .iter()
            .filter_map(|&i| i32::try_from(i).ok())
            .collect();
        correct_choices.sort_unstable();
        let joined: Vec<String> = chosen.iter().map(i32::to_string).collect();
        parts.push(format!("{}={}", q.id, joined.join(",")));
        questions.push(GradedQuestion {
            question_id: q.id.clone(),
            correct: chosen == correct_choices,
            chosen,
            correct_choices,
            explanation: q.explanation.clone(),
        });
    }
    // At most MAX_QUESTIONS (500) questions, so neither count nor `* 100` can overflow.
    let total = questions.len().max(1);
    let correct = questions.iter().filter(|q| q.correct).count();
    let correct_count = i32::try_from(correct).unwrap_or(i32::MAX);
    let score_percent = i32::try_from(correct * 100 / total).unwrap_or(0);
    let pass_percent = percent(quiz.pass_percent);
    Ok(Graded {
        score_percent,
        passed: score_percent >= pass_percent,
        pass_percent,
        correct_count,
        questions,
        answers: parts.join(";"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> LocalizedText {
        LocalizedText {
            zh: s.into(),
            en: None,
        }
    }

    fn quiz() -> Quiz {
        let q = |id: &str, kind: &str, correct: Vec<i64>| Question {
            id: id.into(),
            lesson: None,
            kind: kind.into(),
            prompt: t("?"),
            choices: vec![t("a"), t("b"), t("c"), t("d")],
            correct,
            explanation: t("because"),
        };
        Quiz {
            id: "z".into(),
            pass_percent: 80,
            questions: vec![
                q("s1", "single", vec![1]),
                q("m1", "multiple", vec![0, 2]),
                q("s2", "single", vec![3]),
            ],
        }
    }

    #[test]
    fn grades_all_or_nothing_and_rounds_down() {
        let g = grade(
            &quiz(),
            &[
                QuizAnswer::new("s1", [1]),
                QuizAnswer::new("m1", [2, 0]),
                QuizAnswer::new("s2", [0]),
            ],
        )
        .unwrap();
        assert_eq!((g.correct_count, g.score_percent, g.passed), (2, 66, false));
        assert_eq!(g.questions[1].chosen, vec![0, 2]);
        assert!(g.questions[1].correct);
        assert_eq!(g.questions[2].correct_choices, vec![3]);
        assert_eq!(g.answers, "s1=1;m1=0,2;s2=0");

        let g = grade(&quiz(), &[QuizAnswer::new("m1", [0])]).unwrap();
        assert_eq!((g.correct_count, g.score_percent), (0, 0));
        let g = grade(
            &quiz(),
            &[
                QuizAnswer::new("s1", [1]),
                QuizAnswer::new("m1", [0, 2]),
                QuizAnswer::new("s2", [3]),
            ],
        )
        .unwrap();
        assert_eq!((g.score_percent, g.passed), (100, true));
    }

    #[test]
    fn bad_answers_are_refused() {
        let cases: &[(&[QuizAnswer], &str)] = &[
            (
                &[QuizAnswer::new("x9", [0])],
                "question 'x9' is not in quiz 'z'",
            ),
            (
                &[QuizAnswer::new("s1", [4])],
                "choice 4 is out of range (it has 4 choices, 0 to 3)",
            ),
            (
                &[QuizAnswer::new("s1", [-1])],
                "choice -1 is out of range (it has 4 choices, 0 to 3)",
            ),
            (
                &[QuizAnswer::new("s1", [0, 1])],
                "single-choice but was answered with 2",
            ),
            (&[QuizAnswer::new("m1", [1, 1])], "choice 1 is given twice"),
            (
                &[QuizAnswer::new("s1", [0]), QuizAnswer::new("s1", [1])],
                "answered twice",
            ),
        ];
        for (answers, want) in cases {
            let err = grade(&quiz(), answers).unwrap_err();
            assert!(matches!(err, Error::InvalidInput(_)));
            assert!(err.to_string().contains(want), "{err} (wanted '{want}')");
        }
    }
}
