package org.waystation.demo.android

import android.content.Intent
import android.os.Bundle
import android.widget.Button
import android.widget.TextView
import org.waystation.demo.accountRoleLabel
import org.waystation.demo.followUp

/**
 * Home: the rider's five screens, what is installed, and for a station, supervisor or grid
 * account (as the server told the phone at its last sync) the case inbox.
 */
class MainActivity : Screen() {
    private lateinit var info: TextView
    private lateinit var inbox: Button

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("红色驿站", "Waystation")
        val column = scrollingScreen()
        column.heading(t("骑手驿站助手（演示）", "Waystation demo"))
        info = column.text(t("正在准备离线数据…", "Preparing offline data…"), sizeSp = 14f, color = Palette.MUTED)
        // First for a follow-up account, whose work it is; a rider (or a phone that has not
        // learned its account yet) never sees it.
        inbox = column.button(t("案件待办", "Case inbox")) { open(InboxActivity::class.java) }
        inbox.show(false)
        column.button(t("附近开放的驿站", "Nearest open stations")) { open(StationsActivity::class.java) }
        column.button(t("新建隐患报告", "New hazard report")) { open(ReportActivity::class.java) }
        column.button(t("发件箱与处理进度", "Outbox and cases")) { open(OutboxActivity::class.java) }
        column.button(t("安全培训", "Safety training")) { open(TrainingActivity::class.java) }
        column.button(t("同步状态", "Sync status")) { open(SyncActivity::class.java) }
    }

    override fun onResume() {
        super.onResume()
        work({
            graph.ensurePacks()
            val packs = graph.core.packs().installed()
            val stations = graph.core.stations().count()
            Triple(packs, stations, graph.core.sync().account())
        }) { (packs, stations, account) ->
            val user = account?.user ?: graph.user
            val synthetic = packs.any { it.synthetic }
            info.text = buildString {
                append(t("用户 $user · 驿站 $stations 个", "User $user · $stations stations"))
                packs.forEach { pack ->
                    val kind = when (pack.kind) {
                        "stations" -> t("驿站目录", "Stations")
                        "training" -> t("培训课程", "Training")
                        else -> pack.kind
                    }
                    append(t("\n$kind：${pack.packId} 第 ${pack.version} 版", "\n$kind: ${pack.packId} v${pack.version}"))
                }
                if (synthetic) append(t("\n示例数据：位置和名称为虚构", "\nSample data: positions and names are synthetic"))
                account?.let { append("\n" + t("账户：", "Account: ") + accountRoleLabel(it.role, lang)) }
            }
            inbox.show(account?.followUp() != null)
        }
    }

    private fun open(screen: Class<*>) = startActivity(Intent(this, screen))
}
