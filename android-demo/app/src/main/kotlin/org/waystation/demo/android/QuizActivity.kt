package org.waystation.demo.android

import android.os.Bundle
import android.view.View
import android.widget.CheckBox
import android.widget.LinearLayout
import android.widget.RadioButton
import android.widget.RadioGroup
import org.waystation.demo.QuizOutcome
import org.waystation.demo.QuizSession
import org.waystation.demo.TrainingViewModel

/**
 * A quiz: radio buttons for single-choice questions, check boxes for multiple-choice ones;
 * the attempt is graded and recorded when submitted, then each answer is explained.
 */
class QuizActivity : Screen() {
    private lateinit var column: LinearLayout
    private var session: QuizSession? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("测验", "Quiz")
        column = scrollingScreen()
        val quizId = intent.getStringExtra(EXTRA_QUIZ_ID) ?: return finish()
        val vm = TrainingViewModel(graph.core, graph.user, lang)
        work({ vm.quiz(quizId) }) { quiz ->
            session = quiz
            showQuestions(quiz)
        }
    }

    private fun showQuestions(quiz: QuizSession) {
        column.removeAllViews()
        quiz.questions().forEachIndexed { index, q ->
            column.text("${index + 1}. ${q.prompt}", bold = true)
            if (q.multiple) {
                // Only when the prompt does not say it already (the renders showed it twice).
                if (!q.prompt.contains(t("多选", "all that apply"))) {
                    column.text(t("（多选）", "(choose all that apply)"), sizeSp = 13f, color = Palette.MUTED)
                }
                q.choices.forEachIndexed { i, choice ->
                    column.addView(CheckBox(this).apply {
                        text = choice
                        minHeight = dp(TOUCH_DP)
                        isChecked = i in q.chosen
                        setOnCheckedChangeListener { _, _ -> quiz.choose(q.id, i) }
                    })
                }
            } else {
                val group = RadioGroup(this)
                q.choices.forEachIndexed { i, choice ->
                    group.addView(RadioButton(this).apply {
                        id = View.generateViewId()
                        text = choice
                        minHeight = dp(TOUCH_DP)
                        isChecked = i in q.chosen
                        setOnClickListener { quiz.choose(q.id, i) }
                    })
                }
                column.addView(group)
            }
        }
        column.button(t("提交答案", "Submit answers")) {
            val unanswered = quiz.unanswered()
            if (unanswered > 0) toast(t("$unanswered 题未答，按答错计", "$unanswered unanswered: they count as wrong"))
            // Choices live in the session on the main thread; grading runs in the background.
            work({ quiz.submit() }) { outcome ->
                graph.coordinator.onLocalChange()
                showOutcome(outcome)
            }
        }
    }

    private fun showOutcome(outcome: QuizOutcome) {
        column.removeAllViews()
        column.heading(outcome.score)
        column.text(outcome.best, color = if (outcome.passed) Palette.OPEN else Palette.MUTED)
        outcome.questions.forEach { q ->
            column.card {
                text((if (q.correct) "✓ " else "✗ ") + q.prompt, bold = true, color = if (q.correct) Palette.OPEN else Palette.CLOSED)
                text(t("正确答案：", "Right answer: ") + q.rightAnswer, sizeSp = 14f)
                text(q.explanation, sizeSp = 14f, color = Palette.MUTED)
            }
        }
        column.button(t("再做一次", "Try again")) { recreate() }
    }

    companion object {
        const val EXTRA_QUIZ_ID = "quiz_id"
    }
}
