"""Safety training through the Python bindings, on the signed training pack in data/training.

Every test opens its own data directory (a phone) with only the training pack installed.
"""

import base64
import json
import os
from pathlib import Path

import pytest

import waystation as w
from conftest import REPO_ROOT, demo_options, run

TRAINING_PACK = Path(
    os.environ.get(
        "WAYSTATION_TRAINING_PACK", REPO_ROOT / "data" / "training" / "xian-training.pack.json"
    )
)
PACK_ID = "xian-training"
COURSES = ["food-safety-delivery", "ebike-traffic-safety", "workers-rights", "first-aid-basics"]
QUIZ = "food-safety-delivery/quiz"
SEALS = "food-safety-delivery/seals"
HELMET = "ebike-traffic-safety/helmet"
USER = "rider-7"


@pytest.fixture(scope="session")
def training_bytes() -> bytes:
    return TRAINING_PACK.read_bytes()


def open_device(path: Path, training_bytes: bytes) -> w.Waystation:
    ws = w.Waystation(str(path), demo_options())
    result = run(ws.packs().import_training(training_bytes))
    assert not result.unchanged
    return ws


@pytest.fixture
def tws(tmp_path, training_bytes) -> w.Waystation:
    """A fresh data directory with the training pack installed."""
    return open_device(tmp_path / "phone", training_bytes)


def first_choice_answers(ws):
    return [w.QuizAnswer(question_id=q.id, choices=[0]) for q in ws.training().quiz(QUIZ).questions]


def right_answers(result):
    return [
        w.QuizAnswer(question_id=q.question_id, choices=list(q.correct_choices))
        for q in result.questions
    ]


def tampered(pack: bytes) -> bytes:
    """The pack with one byte of its payload changed and the signature kept."""
    envelope = json.loads(pack)
    payload = base64.b64decode(envelope["payload"])
    payload = payload.replace("外卖配送食品安全".encode(), "外卖配送食品安全!".encode(), 1)
    envelope["payload"] = base64.b64encode(payload).decode()
    return json.dumps(envelope).encode()


# --- import ------------------------------------------------------------------------------


def test_import_installs_4_courses_20_lessons(tmp_path, training_bytes):
    ws = w.Waystation(str(tmp_path / "d"), demo_options())
    result = run(ws.packs().import_training(training_bytes))
    assert result.pack_id == PACK_ID
    assert result.version >= 1
    assert result.previous_version is None
    assert result.base_version is None
    assert (result.courses, result.lessons) == (4, 20)
    assert result.questions >= 40
    assert not result.unchanged
    again = run(ws.packs().import_training(training_bytes))
    assert again.unchanged
    assert [p.kind for p in ws.packs().installed()] == ["training"]


def test_import_from_file(tmp_path):
    ws = w.Waystation(str(tmp_path / "d"), demo_options())
    assert run(ws.packs().import_training_file(str(TRAINING_PACK))).lessons == 20
    with pytest.raises(w.WaystationError.InvalidInput):
        run(ws.packs().import_training_file(str(tmp_path / "missing.pack.json")))


def test_tampered_or_unsigned_pack_is_refused_and_content_stays(tws, training_bytes):
    before = tws.training().courses(USER)
    with pytest.raises(w.WaystationError.PackRejected):
        run(tws.packs().import_training(tampered(training_bytes)))
    unsigned = json.loads(training_bytes)
    unsigned["signatures"] = []
    with pytest.raises(w.WaystationError.PackRejected):
        run(tws.packs().import_training(json.dumps(unsigned).encode()))
    with pytest.raises(w.WaystationError.PackRejected):
        run(tws.packs().import_training(b"not a pack"))
    assert tws.training().courses(USER) == before
    assert tws.training().lesson(SEALS).id == SEALS
    assert len(tws.training().search("头盔", 10)) > 0


def test_untrusted_key_refuses_the_pack(tmp_path, training_bytes):
    ws = w.Waystation(str(tmp_path / "d"), w.Options(trusted_keys=[]))
    with pytest.raises(w.WaystationError.PackRejected):
        run(ws.packs().import_training(training_bytes))
    assert ws.training().courses(USER) == []


# --- reading -----------------------------------------------------------------------------


def test_course_list_and_detail(tws):
    courses = tws.training().courses(USER)
    assert [c.id for c in courses] == COURSES
    assert sum(c.lesson_count for c in courses) == 20
    assert sum(c.question_count for c in courses) >= 40
    for c in courses:
        assert c.pack_id == PACK_ID
        assert c.title.zh and c.title.en
        assert c.completed_lessons == 0
        assert c.quiz_id is not None and c.pass_percent is not None
        assert c.best_score_percent is None and not c.passed
        assert c.minutes > 0
    detail = tws.training().course(USER, "food-safety-delivery")
    assert detail.course == courses[0]
    assert len(detail.lessons) == 5
    assert detail.lessons[0].id == SEALS
    assert all(lesson.completed_at is None for lesson in detail.lessons)
    with pytest.raises(w.WaystationError.NotFound):
        tws.training().course(USER, "no-such-course")


def test_read_a_lesson(tws):
    lesson = tws.training().lesson(SEALS)
    assert lesson.course_id == "food-safety-delivery"
    assert lesson.position == 0
    assert lesson.previous_lesson_id is None
    assert lesson.next_lesson_id == "food-safety-delivery/delivery-box"
    assert "封签" in lesson.body.zh
    assert lesson.body.en and "seal" in lesson.body.en.lower()
    assert lesson.minutes > 0
    assert lesson.sources and all(s.title for s in lesson.sources)
    # Reading records nothing.
    assert tws.training().progress(USER).completed_lessons == []
    with pytest.raises(w.WaystationError.NotFound):
        tws.training().lesson("no-such/lesson")


@pytest.mark.parametrize(
    "query,lesson_id",
    [("头盔", HELMET), ("食安封签", SEALS), ("helmet", HELMET), ("seal", SEALS)],
)
def test_search_chinese_and_english(tws, query, lesson_id):
    hits = tws.training().search(query, 10)
    assert 0 < len(hits) <= 10
    assert lesson_id in [h.lesson_id for h in hits]
    for h in hits:
        assert h.title.zh
        assert h.course_id in COURSES
        assert h.snippet
    assert any(part.highlighted for part in hits[0].snippet)


def test_search_limit_and_bad_text(tws):
    assert len(tws.training().search("头盔", 1)) == 1
    assert tws.training().search("zzqqxx-nothing", 10) == []
    with pytest.raises(w.WaystationError.InvalidInput):
        tws.training().search("   ", 10)
    # The limit is a plain signed int: a negative one is refused by name, not wrapped around.
    for bad in (0, -1, 101):
        with pytest.raises(w.WaystationError.InvalidInput) as e:
            tws.training().search("头盔", bad)
        assert "search limit must be between 1 and 100" in e.value.reason


# --- quizzes -----------------------------------------------------------------------------


def test_quiz_view_has_no_answers(tws):
    quiz = tws.training().quiz(QUIZ)
    assert quiz.id == QUIZ
    assert quiz.course_id == "food-safety-delivery"
    assert 0 < quiz.pass_percent <= 100
    assert len(quiz.questions) >= 10
    kinds = {q.kind for q in quiz.questions}
    assert kinds == {w.QuestionKind.SINGLE, w.QuestionKind.MULTIPLE}
    for q in quiz.questions:
        assert len(q.choices) >= 2
        assert q.prompt.zh
        assert not hasattr(q, "correct_choices") and not hasattr(q, "explanation")
    with pytest.raises(w.WaystationError.NotFound):
        tws.training().quiz("no-such/quiz")


def test_failing_then_passing_attempt_and_best_never_lowered(tws):
    failing = tws.training().answer_quiz(USER, QUIZ, first_choice_answers(tws))
    assert not failing.passed
    assert failing.score_percent < failing.pass_percent
    assert failing.question_count == len(failing.questions)
    assert failing.correct_count < failing.question_count
    assert all(q.explanation.zh for q in failing.questions)
    assert failing.best_score_percent == failing.score_percent

    passing = tws.training().answer_quiz(USER, QUIZ, right_answers(failing))
    assert passing.passed
    assert passing.score_percent == 100
    assert passing.correct_count == passing.question_count
    assert passing.best_score_percent == 100
    assert passing.attempt_id != failing.attempt_id

    # A worse attempt (one question answered, the rest unanswered) keeps the best score.
    worse = tws.training().answer_quiz(USER, QUIZ, [w.QuizAnswer(question_id="food-safety-delivery/q01",
                                                      choices=[])])
    assert not worse.passed
    assert worse.best_score_percent == 100

    progress = tws.training().progress(USER)
    assert [a.id for a in progress.attempts] == [
        failing.attempt_id, passing.attempt_id, worse.attempt_id]
    assert [a.score_percent for a in progress.attempts] == [
        failing.score_percent, 100, worse.score_percent]
    [best] = progress.best_scores
    assert (best.quiz_id, best.score_percent, best.passed, best.attempts) == (QUIZ, 100, True, 3)
    course = tws.training().courses(USER)[0]
    assert course.best_score_percent == 100 and course.passed
    # Another user's progress is separate.
    assert tws.training().progress("someone-else").attempts == []


def test_ungradable_answers_are_refused_and_record_nothing(tws):
    q01 = "food-safety-delivery/q01"
    bad = [
        [w.QuizAnswer(question_id="food-safety-delivery/q99", choices=[0])],
        [w.QuizAnswer(question_id=q01, choices=[9])],
        [w.QuizAnswer(question_id=q01, choices=[0, 1])],  # q01 is single choice
        [w.QuizAnswer(question_id=q01, choices=[0]), w.QuizAnswer(question_id=q01, choices=[1])],
    ]
    for answers in bad:
        with pytest.raises(w.WaystationError.InvalidInput):
            tws.training().answer_quiz(USER, QUIZ, answers)
    with pytest.raises(w.WaystationError.InvalidInput):
        tws.training().answer_quiz(USER, "no-such/quiz", [])
    with pytest.raises(w.WaystationError.InvalidInput):
        tws.training().answer_quiz("", QUIZ, [])
    assert tws.training().progress(USER).attempts == []


# --- progress ----------------------------------------------------------------------------


def test_complete_lessons_and_progress(tws):
    first = tws.training().complete_lesson(USER, SEALS)
    assert first.lesson_id == SEALS
    tws.training().complete_lesson(USER, HELMET)
    progress = tws.training().progress(USER)
    assert sorted(c.lesson_id for c in progress.completed_lessons) == sorted([SEALS, HELMET])
    stored = {c.lesson_id: c.completed_at for c in progress.completed_lessons}
    # Completing again keeps the first completion time.
    again = tws.training().complete_lesson(USER, SEALS)
    assert again.completed_at == stored[SEALS]
    assert tws.training().progress(USER) == progress
    courses = {c.id: c for c in tws.training().courses(USER)}
    assert courses["food-safety-delivery"].completed_lessons == 1
    assert courses["ebike-traffic-safety"].completed_lessons == 1
    assert courses["workers-rights"].completed_lessons == 0
    detail = tws.training().course(USER, "food-safety-delivery")
    assert detail.lessons[0].completed_at == stored[SEALS]
    assert detail.lessons[1].completed_at is None
    with pytest.raises(w.WaystationError.InvalidInput):
        tws.training().complete_lesson(USER, "no-such/lesson")


def test_two_devices_exchange_progress_and_converge(tmp_path, training_bytes):
    phone = open_device(tmp_path / "phone", training_bytes)
    tablet = open_device(tmp_path / "tablet", training_bytes)

    phone.training().complete_lesson(USER, SEALS)
    failing = phone.training().answer_quiz(USER, QUIZ, first_choice_answers(phone))
    tablet.training().complete_lesson(USER, HELMET)
    tablet.training().complete_lesson(USER, SEALS)
    passing = tablet.training().answer_quiz(USER, QUIZ, right_answers(failing))
    assert passing.passed

    phone_bytes = phone.training().progress_document_bytes(USER)
    tablet_bytes = tablet.training().progress_document_bytes(USER)
    assert phone_bytes and tablet_bytes

    # Both orders: each device merges the other's copy.
    merged_on_phone = phone.training().merge_progress_from(USER, tablet_bytes)
    merged_on_tablet = tablet.training().merge_progress_from(USER, phone_bytes)
    assert merged_on_phone == merged_on_tablet
    assert merged_on_phone == phone.training().progress(USER) == tablet.training().progress(USER)
    assert {c.lesson_id for c in merged_on_phone.completed_lessons} == {SEALS, HELMET}
    assert len(merged_on_phone.attempts) == 2
    [best] = merged_on_phone.best_scores
    assert (best.score_percent, best.passed, best.attempts) == (100, True, 2)
    # The earliest completion wins: the phone completed the seals lesson first.
    phone_seals = [c for c in merged_on_phone.completed_lessons if c.lesson_id == SEALS][0]
    assert phone_seals.completed_at <= [
        c for c in tablet.training().progress(USER).completed_lessons if c.lesson_id == SEALS
    ][0].completed_at

    # Merging again is a no-op, and a third device converges whatever the order.
    assert phone.training().merge_progress_from(USER, tablet.training().progress_document_bytes(USER)) == merged_on_phone
    laptop = w.Waystation(str(tmp_path / "laptop"), demo_options())
    desk = w.Waystation(str(tmp_path / "desk"), demo_options())
    laptop.training().merge_progress_from(USER, phone_bytes)
    a = laptop.training().merge_progress_from(USER, tablet_bytes)
    desk.training().merge_progress_from(USER, tablet_bytes)
    b = desk.training().merge_progress_from(USER, phone_bytes)
    assert a == b == merged_on_phone

    # A worse attempt on one device never lowers the best score after a merge.
    phone.training().answer_quiz(USER, QUIZ, [])
    merged = tablet.training().merge_progress_from(USER, phone.training().progress_document_bytes(USER))
    assert merged.best_scores[0].score_percent == 100
    assert len(merged.attempts) == 3


def test_progress_document_of_a_new_user_and_foreign_bytes(tws):
    empty = tws.training().progress_document_bytes("new-user")
    assert isinstance(empty, bytes) and empty
    assert tws.training().merge_progress_from("new-user", empty).completed_lessons == []
    tws.training().complete_lesson(USER, SEALS)
    with pytest.raises(w.WaystationError.InvalidInput):
        tws.training().merge_progress_from("new-user", tws.training().progress_document_bytes(USER))
    with pytest.raises(w.WaystationError.InvalidInput):
        tws.training().merge_progress_from(USER, b"not automerge")
    assert tws.training().progress("new-user").completed_lessons == []
    assert len(tws.training().progress(USER).completed_lessons) == 1
