package org.waystation.demo

import java.nio.file.Files
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.waystation.*
import org.waystation.core.*

/** Training screens over the real core and the signed training pack. */
class TrainingViewModelTest : CoreTest() {
    override fun core(name: String): Waystation = opened(Fixtures.coreWithTraining(tmp.resolve(name)))

    @Test
    fun `courses with progress, lessons in order, completing a lesson`() {
        val core = core()
        val vm = TrainingViewModel(core, Fixtures.RIDER, Lang.EN)
        val courses = vm.courses()
        assertEquals(4, courses.size)
        val food = courses.first { it.id == "food-safety-delivery" }
        assertTrue(food.progress.startsWith("0/5 lessons"), food.progress)
        assertEquals("Quiz: not taken", food.quiz)
        assertFalse(food.complete)

        val lessons = vm.lessons(food.id)
        assertEquals(5, lessons.size)
        assertTrue(lessons.none { it.completed })
        val first = vm.lesson(lessons[0].id)
        assertNull(first.previousId)
        assertEquals(lessons[1].id, first.nextId)
        assertTrue(first.body.isNotBlank())
        assertFalse(first.body.contains("**"), "Markdown emphasis is gone")
        assertTrue(first.sources.isNotEmpty(), "each lesson cites its law or standard")
        assertEquals(emptyList<LessonPicture>(), first.images, "the bundled pack's lessons have no images")

        vm.complete(lessons[0].id)
        vm.complete(lessons[0].id) // twice is once
        assertTrue(vm.lessons(food.id)[0].completed)
        assertTrue(vm.courses().first { it.id == food.id }.progress.startsWith("1/5 lessons"))
        // Another user's progress is separate.
        assertTrue(TrainingViewModel(core, "rider-8", Lang.EN).courses().first { it.id == food.id }.progress.startsWith("0/5"))
    }

    @Test
    fun `a lesson image not downloaded yet is its alt text, in the interface language`() {
        val core = opened(Fixtures.core(tmp.resolve("phone")))
        val pack = Fixtures.trainingPackWithImage(tmp.resolve("pack"), altZh = "完好的封签", altEn = "An intact seal")
        with(Fixtures) { core.installTraining(pack) }
        val sha = Fixtures.sha256Hex(Fixtures.JPEG)
        assertEquals(listOf(sha), core.training().missingImages().map { it.sha256 }, "installed, not downloaded")

        val zh = TrainingViewModel(core, Fixtures.RIDER, Lang.ZH).lesson(Fixtures.SEALS_LESSON)
        assertEquals(listOf(LessonPicture(sha, "完好的封签", path = null)), zh.images)
        val en = TrainingViewModel(core, Fixtures.RIDER, Lang.EN).lesson(Fixtures.SEALS_LESSON)
        assertEquals(listOf(LessonPicture(sha, "An intact seal", path = null)), en.images)
        assertTrue(en.body.isNotBlank())
        // The other lessons are as they were.
        assertEquals(emptyList<LessonPicture>(), TrainingViewModel(core, Fixtures.RIDER, Lang.EN).lesson(en.nextId!!).images)
    }

    @Test
    fun `quiz choices follow the question kind, and a passing attempt is recorded`() {
        val core = core()
        val vm = TrainingViewModel(core, Fixtures.RIDER, Lang.ZH)
        val quizId = vm.courses().first { it.id == "food-safety-delivery" }.quizId
        assertNotNull(quizId)
        val session = vm.quiz(quizId!!)
        val questions = session.questions()
        assertTrue(questions.size >= 5)
        assertEquals(questions.size, session.unanswered())

        val single = questions.first { !it.multiple }
        session.choose(single.id, 0)
        session.choose(single.id, 1)
        assertEquals(setOf(1), session.questions().first { it.id == single.id }.chosen, "single choice replaces")
        questions.firstOrNull { it.multiple }?.let { multiple ->
            session.choose(multiple.id, 0)
            session.choose(multiple.id, 1)
            session.choose(multiple.id, 0)
            assertEquals(setOf(1), session.questions().first { it.id == multiple.id }.chosen, "multiple choice toggles")
        }
        assertThrows<IllegalArgumentException> { session.choose(single.id, 99) }
        assertThrows<IllegalArgumentException> { session.choose("no-such-question", 0) }

        // A first attempt with one answer fails; its grading tells the right answers.
        val first = session.submit()
        assertFalse(first.passed)
        assertEquals(questions.size, first.questions.size)
        val courseAfterFail = vm.courses().first { it.id == "food-safety-delivery" }
        assertTrue(courseAfterFail.quiz!!.contains("未通过"), courseAfterFail.quiz)

        // A second attempt with the right answers passes; the best score is kept.
        val quiz = core.training().quiz(quizId)
        val graded = core.training().progress(Fixtures.RIDER).attempts.single()
        assertEquals(quizId, graded.quizId)
        val retry = vm.quiz(quizId)
        val answers = core.training().answerQuiz("probe", quizId, emptyList()).questions.associate { it.questionId to it.correctChoices }
        quiz.questions.forEach { q -> answers.getValue(q.id).forEach { retry.choose(q.id, it) } }
        assertEquals(0, retry.unanswered())
        val second = retry.submit()
        assertTrue(second.passed, second.score)
        assertTrue(second.score.startsWith("100%"), second.score)
        assertTrue(second.questions.all { it.correct })
        assertEquals("最高分 100%", second.best)
        val course = vm.courses().first { it.id == "food-safety-delivery" }
        assertEquals("测验：最高 100%，已通过", course.quiz)
    }
}
