//! Small valid content for the unit tests of this module and of `validate`.

use super::*;

pub(crate) fn text(zh: &str) -> LocalizedText {
    LocalizedText {
        zh: zh.into(),
        en: Some(format!("{zh} (en)")),
    }
}

pub(crate) fn question(id: &str, kind: &str, correct: Vec<i64>) -> Question {
    Question {
        id: id.into(),
        lesson: Some("c/l1".into()),
        kind: kind.into(),
        prompt: text("问题"),
        choices: vec![text("甲"), text("乙"), text("丙")],
        correct,
        explanation: text("因为"),
    }
}

pub(crate) fn course() -> Course {
    Course {
        id: "c".into(),
        title: text("课程"),
        summary: None,
        lessons: vec![Lesson {
            id: "c/l1".into(),
            title: text("第一课"),
            minutes: 3,
            body: text("正文"),
            sources: vec![],
            images: vec![],
        }],
        quiz: Some(Quiz {
            id: "c/quiz".into(),
            pass_percent: 80,
            questions: vec![question("c/q1", "single", vec![1])],
        }),
    }
}
