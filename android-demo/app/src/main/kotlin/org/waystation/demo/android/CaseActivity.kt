package org.waystation.demo.android

import android.os.Bundle
import android.widget.LinearLayout
import org.waystation.demo.CaseScreen
import org.waystation.demo.OutboxViewModel

/** A submitted report's case: the derived status and every event, oldest first. */
class CaseActivity : Screen() {
    private lateinit var column: LinearLayout

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("处理进度", "Case timeline")
        column = scrollingScreen()
        val id = intent.getStringExtra(EXTRA_REPORT_ID) ?: return finish()
        val vm = OutboxViewModel(graph.core, graph.user, lang, graph.clock)
        work({ vm.case(id) }, ::show)
    }

    private fun show(case: CaseScreen) {
        column.removeAllViews()
        column.heading(case.status)
        column.text(case.open311, sizeSp = 14f, color = Palette.MUTED)
        case.grid?.let { column.text(it) }
        if (case.rows.isEmpty()) column.text(t("还没有人跟进", "Nobody has followed it up yet"), color = Palette.MUTED)
        case.rows.forEach { row ->
            column.card {
                text("${row.time} · ${row.who}", sizeSp = 13f, color = Palette.MUTED)
                text(row.what, bold = true)
                row.note?.let { text(it, sizeSp = 14f) }
                if (!row.applied) {
                    text(t("未生效：", "Not applied: ") + row.notAppliedBecause.orEmpty(), sizeSp = 13f, color = Palette.WARNING)
                }
            }
        }
        if (case.unreadable > 0) {
            column.text(
                t("${case.unreadable} 条记录来自更新的版本，请更新应用", "${case.unreadable} events come from a newer app version: update the app"),
                color = Palette.WARNING,
            )
        }
    }

    companion object {
        const val EXTRA_REPORT_ID = "report_id"
    }
}
