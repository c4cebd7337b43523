package org.waystation.demo.android

import android.graphics.Typeface
import android.os.Bundle
import android.text.InputType
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import org.waystation.demo.PackUpdate
import org.waystation.demo.SealedTokenException
import org.waystation.demo.SyncAccount
import org.waystation.demo.SyncOutcome
import org.waystation.demo.SyncSnapshot
import org.waystation.demo.presentSync

/**
 * Sync status: what waits, the last success and the last error, and what the last "Sync now"
 * fetched (new station or training packs, lesson images); "Sync now"; and the background sync
 * choices that drive the WorkManager schedule.
 */
class SyncActivity : Screen() {
    private lateinit var headline: TextView
    private lateinit var lines: LinearLayout
    private lateinit var syncNow: Button
    private var observation: AutoCloseable? = null

    /** What this screen's last "Sync now" fetched (new packs, lesson images), shown under the status. */
    private var lastPacks: PackUpdate? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("同步", "Sync")
        val column = scrollingScreen()
        headline = column.heading("")
        lines = column.region()
        syncNow = column.button(t("立即同步", "Sync now")) {
            runSync(syncNow) { outcome ->
                lastPacks = (outcome as? SyncOutcome.Synced)?.packs
                refresh()
            }
        }

        column.heading(t("同步服务器", "Sync server"))
        val account = graph.syncAccount
        var server = account?.server.orEmpty()
        var token = account?.token.orEmpty()
        column.field("https://sync.example.org", server) { server = it.trim() }
        column.field(t("令牌（管理员发放）", "Token (from an administrator)"), token) { token = it.trim() }.apply {
            inputType = InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_VARIATION_PASSWORD
            // A password type switches to monospace, which clipped the hint at 1.3x font
            // (seen in the Robolectric screenshots); the dots do not need it.
            typeface = Typeface.DEFAULT
        }
        column.button(t("保存", "Save")) {
            if (server.isEmpty() && token.isEmpty()) {
                graph.syncAccount = null
            } else {
                try {
                    graph.syncAccount = SyncAccount(server, token)
                } catch (e: IllegalArgumentException) {
                    toast(e.message ?: "")
                    return@button
                } catch (e: SealedTokenException) {
                    // The Keystore refused to seal it; nothing was saved.
                    toast(t("无法安全保存令牌：", "The token could not be stored securely: ") + e.message)
                    return@button
                }
            }
            reschedule()
            refresh()
        }

        val prefs = graph.syncPreferences
        column.checkBox(t("后台自动同步（有网络且电量充足时）", "Sync in the background (on a network, battery not low)"), prefs.backgroundSync) {
            graph.syncPreferences = graph.syncPreferences.copy(backgroundSync = it)
            reschedule()
        }
        column.checkBox(t("只用 Wi-Fi 同步（节省流量）", "Only on Wi-Fi (saves mobile data)"), prefs.wifiOnly) {
            graph.syncPreferences = graph.syncPreferences.copy(wifiOnly = it)
            reschedule()
        }
    }

    private fun reschedule() = work({ graph.coordinator.onPreferencesChanged() }) {}

    override fun onStart() {
        super.onStart()
        observation = graph.sync.observe { snapshot -> runOnUiThread { show(snapshot) } }
        refresh()
    }

    override fun onStop() {
        observation?.close()
        observation = null
        super.onStop()
    }

    private fun refresh() = work({ graph.sync.status() }, ::show)

    private fun show(snapshot: SyncSnapshot) {
        // The gateway's only reason is "not set up", in English.
        val unavailable = graph.sync.unavailableReason()?.let { t("尚未设置同步服务器", it) }
        val screen = presentSync(snapshot, unavailable, now(), lang, lastPacks)
        headline.text = screen.headline
        headline.setTextColor(if (screen.attention) Palette.WARNING else Palette.OPEN)
        lines.removeAllViews()
        screen.lines.forEach { lines.text(it, sizeSp = 14f) }
        syncNow.isEnabled = screen.canSyncNow
    }
}
