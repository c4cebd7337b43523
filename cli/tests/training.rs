//! `waystation training …`, run as a user would run it, on the bundled training pack.

use serde_json::Value;
use std::path::Path;
use std::process::Output;

const QUIZ: &str = "food-safety-delivery/quiz";

mod common;
use common::*;

fn first_choices(d: &Path) -> Vec<String> {
    let quiz = json(&waystation(d, &["training", "quiz", QUIZ, "--json"]));
    quiz["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| format!("{}=0", q["id"].as_str().unwrap()))
        .collect()
}

fn answer(d: &Path, user: &str, answers: &[String]) -> Output {
    let mut args = vec!["training", "quiz", QUIZ, "--user", user, "--json"];
    for a in answers {
        args.push("--answer");
        args.push(a);
    }
    waystation(d, &args)
}

fn pack_kinds(d: &Path) -> Vec<String> {
    let packs = json(&waystation(d, &["stations", "packs", "--json"]));
    let mut kinds: Vec<String> = packs
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_string())
        .collect();
    kinds.sort();
    kinds
}

#[test]
fn the_first_training_command_installs_the_bundled_courses() {
    let (_t, d) = fresh();
    // A data directory made by a stations command has only the station pack…
    assert_eq!(pack_kinds(&d), ["stations"]);
    // …and the first training command adds the bundled courses.
    let out = waystation(&d, &["training", "list", "--json"]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Installed the bundled training courses (4 courses, 20 lessons)")
    );
    let courses = json(&out);
    let courses = courses.as_array().unwrap();
    assert_eq!(courses.len(), 4);
    let lessons: u64 = courses
        .iter()
        .map(|c| c["lesson_count"].as_u64().unwrap())
        .sum();
    assert_eq!(lessons, 20);
    assert!(courses.iter().all(|c| c["completed_lessons"] == 0));
    assert_eq!(courses[0]["id"], "food-safety-delivery");

    // Second run: nothing reinstalled; the text listing names every course.
    let out = waystation(&d, &["training", "list"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("bundled training"));
    let text = ok(&out);
    for id in [
        "food-safety-delivery",
        "ebike-traffic-safety",
        "workers-rights",
        "first-aid-basics",
    ] {
        assert!(text.contains(id), "{text}");
    }

    assert_eq!(pack_kinds(&d), ["stations", "training"]);
}

#[test]
fn without_the_demo_key_nothing_is_installed() {
    let (_t, d) = fresh();
    let out = waystation(&d, &["--no-demo-key", "training", "list"]);
    assert!(ok(&out).contains("No training pack is installed"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("bundled training"));
    let out = waystation(&d, &["--no-demo-key", "training", "list", "--json"]);
    assert_eq!(json(&out), Value::Array(vec![]));
}

#[test]
fn read_shows_a_lesson_and_complete_records_it_per_user() {
    let (_t, d) = fresh();
    let lesson = "food-safety-delivery/seals";
    let read = json(&waystation(&d, &["training", "read", lesson, "--json"]));
    assert_eq!(read["lesson"]["id"], lesson);
    assert_eq!(read["lesson"]["course_id"], "food-safety-delivery");
    assert!(read["completion"].is_null());
    assert!(!read["lesson"]["sources"].as_array().unwrap().is_empty());

    // Text, in both languages.
    let zh = ok(&waystation(&d, &["training", "read", lesson]));
    assert!(zh.contains("食品安全法"), "{zh}");
    assert!(zh.contains("not completed"));
    let en = ok(&waystation(
        &d,
        &["training", "read", lesson, "--lang", "en"],
    ));
    assert!(en.contains("Sources:"), "{en}");

    // Reading recorded nothing; --complete records it for that user only.
    let done = json(&waystation(
        &d,
        &[
            "training",
            "read",
            lesson,
            "--complete",
            "--user",
            "alice",
            "--json",
        ],
    ));
    assert_eq!(done["completion"]["lesson_id"], lesson);
    let first_time = done["completion"]["completed_at"].clone();
    let again = json(&waystation(
        &d,
        &[
            "training",
            "read",
            lesson,
            "--complete",
            "--user",
            "alice",
            "--json",
        ],
    ));
    // The first completion time stays (stored to the millisecond).
    let again_time = again["completion"]["completed_at"].as_str().unwrap();
    assert_eq!(again_time[..23], first_time.as_str().unwrap()[..23]);

    let alice = json(&waystation(
        &d,
        &["training", "list", "--user", "alice", "--json"],
    ));
    assert_eq!(alice[0]["completed_lessons"], 1);
    let local = json(&waystation(&d, &["training", "list", "--json"]));
    assert_eq!(local[0]["completed_lessons"], 0);

    // $WAYSTATION_USER picks the user when --user is absent.
    let via_env = json(&waystation_env(
        &d,
        &["training", "progress", "--json"],
        Some("alice"),
    ));
    assert_eq!(via_env["completed_lessons"][0]["lesson_id"], lesson);
    let text = ok(&waystation_env(
        &d,
        &["training", "progress"],
        Some("alice"),
    ));
    assert!(text.contains("alice") && text.contains(lesson), "{text}");
}

#[test]
fn search_finds_chinese_and_english_with_highlights() {
    let (_t, d) = fresh();
    for (query, lesson) in [
        ("头盔", "ebike-traffic-safety/helmet"),
        ("食安封签", "food-safety-delivery/seals"),
        ("helmet", "ebike-traffic-safety/helmet"),
    ] {
        let hits = json(&waystation(
            &d,
            &["training", "search", query, "--limit", "5", "--json"],
        ));
        let hits = hits.as_array().unwrap();
        assert!(!hits.is_empty() && hits.len() <= 5, "{query}");
        assert!(
            hits.iter().any(|h| h["lesson_id"] == lesson),
            "{query}: {hits:?}"
        );
        assert!(
            hits[0]["snippet"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["highlighted"] == true),
            "{query}"
        );
    }
    let text = ok(&waystation(&d, &["training", "search", "头盔"]));
    assert!(text.contains("[头盔]"), "{text}");
    let none = ok(&waystation(
        &d,
        &["training", "search", "zzzzqqqq-no-such-text"],
    ));
    assert!(none.contains("No lessons match"));
}

#[test]
fn quiz_shows_questions_without_answers() {
    let (_t, d) = fresh();
    let quiz = json(&waystation(&d, &["training", "quiz", QUIZ, "--json"]));
    assert_eq!(quiz["id"], QUIZ);
    let questions = quiz["questions"].as_array().unwrap();
    assert!(questions.len() >= 10);
    for q in questions {
        assert!(q.get("correct").is_none() && q.get("explanation").is_none());
        assert!(q["choices"].as_array().unwrap().len() >= 2);
    }
    let text = ok(&waystation(&d, &["training", "quiz", QUIZ]));
    assert!(text.contains("--answer"), "{text}");
    // Showing records nothing.
    let progress = json(&waystation(&d, &["training", "progress", "--json"]));
    assert_eq!(progress["attempts"], Value::Array(vec![]));
}

#[test]
fn quiz_grades_explains_and_never_lowers_the_best_score() {
    let (_t, d) = fresh();
    let all_first = first_choices(&d);

    // Everything on the first choice fails and returns the right answers.
    let failing = json(&answer(&d, "rider", &all_first));
    assert_eq!(failing["passed"], false);
    let graded = failing["questions"].as_array().unwrap();
    assert!(
        graded
            .iter()
            .all(|q| !q["explanation"]["zh"].as_str().unwrap().is_empty())
    );
    let right: Vec<String> = graded
        .iter()
        .map(|q| {
            let choices: Vec<String> = q["correct_choices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect();
            format!(
                "{}={}",
                q["question_id"].as_str().unwrap(),
                choices.join(",")
            )
        })
        .collect();

    // The right answers pass with 100 %.
    let passing = json(&answer(&d, "rider", &right));
    assert_eq!(passing["passed"], true);
    assert_eq!(passing["score_percent"], 100);
    assert_eq!(passing["best_score_percent"], 100);

    // A worse attempt afterwards keeps the best score; short question ids work in text mode.
    let out = waystation(
        &d,
        &[
            "training", "quiz", QUIZ, "--user", "rider", "--answer", "q01=0",
        ],
    );
    let text = ok(&out);
    assert!(text.contains("Best score: 100%"), "{text}");
    assert!(text.contains("✗"), "{text}");

    let progress = json(&waystation(
        &d,
        &["training", "progress", "--user", "rider", "--json"],
    ));
    assert_eq!(progress["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(progress["best_scores"][0]["quiz_id"], QUIZ);
    assert_eq!(progress["best_scores"][0]["score_percent"], 100);
    assert_eq!(progress["best_scores"][0]["passed"], true);
    let list = json(&waystation(
        &d,
        &["training", "list", "--user", "rider", "--json"],
    ));
    assert_eq!(list[0]["best_score_percent"], 100);
    assert_eq!(list[0]["passed"], true);
}

#[test]
fn bad_input_exits_1_with_the_reason_and_records_nothing() {
    let (_t, d) = fresh();
    let quiz = ["training", "quiz", QUIZ, "--user", "rider"];
    let with = |extra: &[&str]| {
        let mut args = quiz.to_vec();
        args.extend_from_slice(extra);
        waystation(&d, &args)
    };
    fails_with(
        &with(&["--answer", "food-safety-delivery/q99=0"]),
        "invalid input: question",
    );
    fails_with(&with(&["--answer", "q01=9"]), "out of range");
    fails_with(&with(&["--answer", "q01=-1"]), "choice -1 is out of range");
    fails_with(
        &with(&["--answer", "q01=0", "--answer", "q01=1"]),
        "invalid input",
    );
    fails_with(&with(&["--answer", "q01"]), "is not QUESTION_ID=CHOICE");
    fails_with(
        &with(&["--answer", "q01=x"]),
        "is not a 0-based choice number",
    );
    fails_with(
        &waystation(&d, &["training", "quiz", "no-such/quiz"]),
        "not found",
    );
    fails_with(
        &waystation(&d, &["training", "read", "no-such/lesson"]),
        "not found: no lesson",
    );
    fails_with(
        &waystation(&d, &["training", "search", "  "]),
        "invalid input",
    );
    fails_with(
        &waystation(&d, &["training", "list", "--user", ""]),
        "invalid input: user id",
    );
    // A refused answer records no attempt.
    let progress = json(&waystation(
        &d,
        &["training", "progress", "--user", "rider", "--json"],
    ));
    assert_eq!(progress["attempts"], Value::Array(vec![]));
    assert_eq!(progress["completed_lessons"], Value::Array(vec![]));
}
