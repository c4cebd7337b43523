package org.waystation.demo.android

import android.content.Intent
import android.os.Bundle
import android.widget.LinearLayout
import org.waystation.demo.Delivery
import org.waystation.demo.OutboxScreen
import org.waystation.demo.OutboxViewModel

/** Drafts to finish, and submitted reports with their delivery state and case status. */
class OutboxActivity : Screen() {
    private lateinit var vm: OutboxViewModel
    private lateinit var list: LinearLayout

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("发件箱", "Outbox")
        vm = OutboxViewModel(graph.core, graph.user, lang, graph.clock)
        list = scrollingScreen()
    }

    override fun onResume() {
        super.onResume()
        work({ vm.load() }, ::show)
    }

    private fun show(screen: OutboxScreen) {
        list.removeAllViews()
        list.heading(t("草稿", "Drafts"))
        if (screen.drafts.isEmpty()) list.text(t("没有草稿", "No drafts"), color = Palette.MUTED)
        screen.drafts.forEach { row ->
            list.card({ openReport(row.reportId) }) {
                text(row.category, bold = true)
                text(row.summary, sizeSp = 14f)
                text("${row.deliveryText} · ${row.when_}", sizeSp = 13f, color = Palette.MUTED)
            }
        }
        list.heading(t("已提交（${screen.waitingCount} 条等待发送）", "Submitted (${screen.waitingCount} waiting)"))
        if (screen.submitted.isEmpty()) list.text(t("还没有提交过报告", "Nothing submitted yet"), color = Palette.MUTED)
        screen.submitted.forEach { row ->
            list.card({ openCase(row.reportId) }) {
                text(row.category, bold = true)
                text(row.summary, sizeSp = 14f)
                val colour = when (row.delivery) {
                    Delivery.REFUSED -> Palette.CLOSED
                    Delivery.WAITING -> Palette.WARNING
                    Delivery.SENT -> Palette.OPEN
                    else -> Palette.MUTED
                }
                text(row.deliveryText, sizeSp = 14f, color = colour)
                row.caseStatus?.let { text("${t("处理", "Case")}: $it · ${row.when_}", sizeSp = 13f, color = Palette.MUTED) }
            }
        }
    }

    private fun openReport(id: String) =
        startActivity(Intent(this, ReportActivity::class.java).putExtra(ReportActivity.EXTRA_REPORT_ID, id))

    private fun openCase(id: String) =
        startActivity(CaseActivity.intent(this, id))
}
