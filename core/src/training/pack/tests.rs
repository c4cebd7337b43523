use super::fixtures::*;
use super::*;
use crate::training::validate::validate_content;

fn delta(base: u64) -> TrainingPack {
    TrainingPack {
        format: TRAINING_PACK_FORMAT.into(),
        format_version: 1,
        pack_id: "p".into(),
        version: base + 1,
        publisher: "pub".into(),
        created: DateTime::from_timestamp(0, 0).unwrap(),
        base_version: Some(base),
        notice: None,
        courses: vec![],
        lessons: vec![],
        questions: vec![],
        removed: Removed::default(),
    }
}

#[test]
fn delta_applies_in_place_and_appends() {
    let mut d = delta(1);
    let mut l = course().lessons[0].clone();
    l.title = text("改过的第一课");
    d.lessons.push(DeltaLesson {
        course: "c".into(),
        lesson: l,
    });
    let mut l2 = course().lessons[0].clone();
    l2.id = "c/l2".into();
    d.lessons.push(DeltaLesson {
        course: "c".into(),
        lesson: l2,
    });
    d.questions.push(DeltaQuestion {
        course: "c".into(),
        question: question("c/q2", "multiple", vec![0, 2]),
    });
    d.validate_header().unwrap();
    let out = d.apply_to(vec![course()]).unwrap();
    validate_content(&out).unwrap();
    assert_eq!(out[0].lessons.len(), 2);
    assert_eq!(out[0].lessons[0].title.zh, "改过的第一课");
    assert_eq!(out[0].quiz.as_ref().unwrap().questions.len(), 2);

    let mut d = delta(1);
    d.removed.lessons.push("c/l1".into());
    let out = d.apply_to(vec![course()]).unwrap();
    // Removing the lesson a question tests leaves the result invalid, so it is refused.
    let err = validate_content(&out).unwrap_err().to_string();
    assert!(err.contains("has no lessons"), "{err}");

    let mut d = delta(1);
    d.removed.questions.push("c/q9".into());
    let err = d.apply_to(vec![course()]).unwrap_err().to_string();
    assert!(err.contains("removes question 'c/q9', which is not installed"));

    let mut d = delta(1);
    d.removed.courses.push("c".into());
    d.courses.push(course());
    let err = d.apply_to(vec![course()]).unwrap_err().to_string();
    assert!(err.contains("both removes and adds 'c'"), "{err}");
}

#[test]
fn header_shape_is_checked() {
    let mut d = delta(3);
    d.version = 3;
    assert!(
        d.validate_header()
            .unwrap_err()
            .to_string()
            .contains("must be newer than its base_version 3")
    );
    let mut full = delta(1);
    full.base_version = None;
    full.courses.push(course());
    full.removed.lessons.push("x".into());
    assert!(
        full.validate_header()
            .unwrap_err()
            .to_string()
            .contains("whole courses only")
    );
}
