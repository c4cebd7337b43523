package org.waystation.demo.android

import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import org.waystation.demo.InboxScreen
import org.waystation.demo.InboxViewModel

/**
 * The follow-up inbox of a station, supervisor or grid account: its districts' cases by status
 * (new, in progress, dispatched, resolved, rejected), newest problem first, each with its age
 * and what this phone has not sent yet. Offline it shows what the last sync brought; "Sync
 * now" fetches what changed. A case opens in [CaseActivity], with the account's actions.
 */
class InboxActivity : Screen() {
    private lateinit var vm: InboxViewModel
    private lateinit var header: LinearLayout
    private lateinit var list: LinearLayout
    private lateinit var syncNow: Button

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("案件待办", "Case inbox")
        vm = InboxViewModel(graph.core, lang, graph.pendingActions, graph.clock)
        val column = scrollingScreen()
        header = column.region()
        syncNow = column.button(t("立即同步", "Sync now")) { runSync(syncNow) { load() } }
        list = column.region()
    }

    override fun onResume() {
        super.onResume()
        load()
    }

    private fun load() = work({ vm.load() }, ::show)

    private fun show(screen: InboxScreen) {
        syncNow.isEnabled = graph.sync.unavailableReason() == null
        header.removeAllViews()
        header.heading(t("辖区案件", "Cases in your districts"))
        screen.account?.let { header.text(it, bold = true) }
        screen.notice?.let { header.text(it, color = Palette.WARNING) }
        if (screen.counts.isNotEmpty()) header.text(screen.counts, sizeSp = 14f)
        header.text(screen.asOf, sizeSp = 13f, color = Palette.MUTED)
        list.removeAllViews()
        screen.empty?.let { list.text(it, color = Palette.MUTED) }
        screen.sections.forEach { section ->
            list.heading(section.title)
            section.rows.forEach { row ->
                list.card({ openCase(row.reportId) }) {
                    text(row.category, bold = true)
                    text(row.summary, sizeSp = 14f)
                    text(listOfNotNull(row.status, row.grid).joinToString(" · "), sizeSp = 14f)
                    text(listOfNotNull(row.place, row.age).joinToString(" · "), sizeSp = 13f, color = Palette.MUTED)
                    row.waiting?.let { text(it, sizeSp = 13f, color = Palette.WARNING) }
                }
            }
        }
    }

    private fun openCase(id: String) =
        startActivity(CaseActivity.intent(this, id))
}
