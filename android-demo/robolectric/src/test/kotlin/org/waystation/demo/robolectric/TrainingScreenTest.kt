package org.waystation.demo.robolectric

import android.content.Intent
import android.widget.CompoundButton
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.waystation.demo.android.CourseActivity
import org.waystation.demo.android.LessonActivity
import org.waystation.demo.android.QuizActivity
import org.waystation.demo.android.TrainingActivity

/**
 * Training through its screens: the course list, a course, a lesson read and marked done (the
 * next one opens), and a quiz failed, then passed with the answers the failed attempt showed,
 * each recorded in the core.
 */
@RunWith(RobolectricTestRunner::class)
@Config(qualifiers = "en-rUS")
class TrainingScreenTest : ScreenTest() {
    private fun firstCourseWithQuiz() = graph.also { it.ensurePacks() }.core.training().courses(graph.user).first { it.quizId != null }

    @Test
    fun `a lesson is read and done, and the course shows it`() {
        val course = firstCourseWithQuiz()
        val list = open(TrainingActivity::class.java)
        list.waitForText("0/${course.lessonCount} lessons")
        list.tapCard(course.title.en ?: course.title.zh)
        val toCourse = shadowOf(list).nextStartedActivity
        assertEquals(CourseActivity::class.java.name, toCourse.component?.className)

        val courseScreen = open(CourseActivity::class.java, toCourse)
        val lessons = graph.core.training().course(graph.user, course.id).lessons
        val first = lessons.first()
        courseScreen.tapCard(first.title.en ?: first.title.zh)
        val toLesson = shadowOf(courseScreen).nextStartedActivity
        assertEquals(first.id, toLesson.getStringExtra(LessonActivity.EXTRA_LESSON_ID))

        val lesson = open(LessonActivity::class.java, toLesson)
        lesson.waitForText("Done")
        lesson.tap("Done")
        lesson.waitFor("the lesson to be recorded") { lesson.isFinishing }
        assertNotNull(graph.core.training().course(graph.user, course.id).lessons.first().completedAt)
        val next = shadowOf(lesson).nextStartedActivity
        assertEquals(lessons[1].id, next.getStringExtra(LessonActivity.EXTRA_LESSON_ID))

        val again = open(TrainingActivity::class.java)
        again.waitForText("1/${course.lessonCount} lessons")
    }

    @Test
    fun `a quiz failed with no answers, then passed with the right ones`() {
        val course = firstCourseWithQuiz()
        val intent = Intent().putExtra(QuizActivity.EXTRA_QUIZ_ID, course.quizId)
        val quiz = open(QuizActivity::class.java, intent)
        quiz.waitForText("Submit answers")
        quiz.tap("Submit answers")
        quiz.waitForText("Right answer: ")
        assertTrue(quiz.screenText(), quiz.showsText("not passed"))
        assertFalse(graph.core.training().courses(graph.user).first { it.id == course.id }.passed)
        assertTrue(quiz.control("Try again").isEnabled)
        val rightAnswers = quiz.texts().filter { it.startsWith("Right answer: ") }.map { it.removePrefix("Right answer: ") }

        // Try again (a new attempt on a new screen), choosing what the failed attempt showed.
        val retry = open(QuizActivity::class.java, intent)
        retry.waitForText("Submit answers")
        val choices = retry.content.tree().filterIsInstance<CompoundButton>()
        var questionIndex = -1
        retry.content.tree().forEach { view ->
            if (view is android.widget.TextView && view !is CompoundButton && Regex("^\\d+\\. ").containsMatchIn(view.text)) questionIndex++
            if (view is CompoundButton && questionIndex >= 0 && rightAnswers[questionIndex].contains(view.text.toString())) view.performClick()
        }
        assertTrue(choices.any { it.isChecked })
        retry.tap("Submit answers")
        retry.waitForText("Right answer: ")
        assertFalse(retry.screenText(), retry.showsText("not passed"))
        assertTrue(graph.core.training().courses(graph.user).first { it.id == course.id }.passed)
    }
}
