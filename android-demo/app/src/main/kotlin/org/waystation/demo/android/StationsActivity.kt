package org.waystation.demo.android

import android.content.ActivityNotFoundException
import android.content.Intent
import android.net.Uri
import android.content.pm.PackageManager
import android.os.Bundle
import android.widget.LinearLayout
import android.widget.TextView
import kotlinx.coroutines.launch
import org.waystation.demo.MapHandoff
import org.waystation.demo.StationsScreen
import org.waystation.demo.StationsViewModel
import org.waystation.demo.formatAccuracy
import org.waystation.demo.mapHandoffs
import org.waystation.*
import org.waystation.core.*

/**
 * Nearest open stations: service filters, "open now", distance and bearing from the rider, and
 * "navigate" to a station in Amap, Baidu Maps or any map app ([mapHandoffs]).
 */
class StationsActivity : Screen() {
    private lateinit var vm: StationsViewModel
    private lateinit var where: TextView
    private lateinit var results: LinearLayout
    private var position: Position? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = t("附近驿站", "Nearest stations")
        vm = StationsViewModel(graph.core, lang, graph.clock)
        val column = scrollingScreen()

        column.text(t("需要的服务", "Services needed"), bold = true)
        // The chips wrap onto as many lines as they need: a scrolling row hid the last ones
        // past the screen's right edge (seen in the screenshots).
        val chips = FlowLayout(this, spacing = dp(4))
        column.addView(chips, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, LinearLayout.LayoutParams.WRAP_CONTENT))
        vm.serviceChoices().forEach { choice ->
            chips.chip(choice.label, choice.selected) { vm.toggle(choice.service); search() }
        }
        column.checkBox(t("只看现在开放的", "Open now only"), vm.openOnly) { vm.openOnly = it; search() }
        column.button(t("用我的位置", "Use my location")) { locate() }
        column.button(t("以钟楼为中心（演示）", "Search from the Bell Tower (demo)")) {
            position = BELL_TOWER
            where.text = t("钟楼（演示位置）", "Bell Tower (demo position)")
            search()
        }
        where = column.text(t("尚未定位", "No position yet"), sizeSp = 14f, color = Palette.MUTED)
        results = column.region()
        if (savedInstanceState == null && PlatformLocation(this, graph.clock).permitted()) locate()
    }

    private fun locate() {
        val location = PlatformLocation(this, graph.clock)
        if (!location.permitted()) {
            requestPermissions(PlatformLocation.PERMISSIONS, REQUEST_LOCATION)
            return
        }
        where.text = t("正在定位…", "Finding your position…")
        scope.launch {
            val fix = location.locate()
            if (fix == null) {
                where.text = t("无法定位：请到开阔处，或用演示位置", "No position: try in the open, or use the demo position")
                return@launch
            }
            position = Position(fix.lat, fix.lon, Datum.WGS84)
            val mock = if (fix.mock) t(" · 模拟定位", " · mock location") else ""
            where.text = "%.5f, %.5f · %s%s".format(fix.lat, fix.lon, formatAccuracy(fix.accuracyM, lang), mock)
            search()
        }
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        if (requestCode == REQUEST_LOCATION && PlatformLocation.granted(grantResults)) locate()
    }

    private fun search() {
        val at = position ?: return
        work({
            graph.ensurePacks()
            vm.nearest(at)
        }, ::show)
    }

    private fun show(screen: StationsScreen) {
        results.removeAllViews()
        screen.emptyMessage?.let { results.text(it, color = Palette.MUTED) }
        screen.rows.forEach { row ->
            results.card {
                text(row.name, bold = true)
                text("${row.distance} · ${row.bearing}")
                val colour = when (row.openStatus) {
                    OpenStatus.OPEN -> Palette.OPEN
                    OpenStatus.CLOSED -> Palette.CLOSED
                    OpenStatus.UNKNOWN -> Palette.UNKNOWN
                }
                text(row.status, color = colour)
                text(row.address, sizeSp = 14f, color = Palette.MUTED)
                text(row.services, sizeSp = 13f, color = Palette.MUTED)
                row.phone?.let { text("☎ $it", sizeSp = 14f) }
                mapHandoffs(row.name, row.position, lang, ::installed).forEach { handoff ->
                    button(handoff.label) { navigate(handoff) }
                }
            }
        }
    }

    /** Whether a map app is on the phone (the manifest's `<queries>` makes it visible). */
    private fun installed(packageName: String): Boolean = try {
        packageManager.getPackageInfo(packageName, 0)
        true
    } catch (e: PackageManager.NameNotFoundException) {
        false
    }

    /** Hands the station to the map app; an app that cannot take it leaves the `geo:` URI. */
    private fun navigate(handoff: MapHandoff) {
        val intent = Intent(Intent.ACTION_VIEW, Uri.parse(handoff.uri))
        handoff.app.packageName?.let { intent.setPackage(it) }
        try {
            startActivity(intent)
        } catch (e: ActivityNotFoundException) {
            toast(t("没有可以打开这个位置的地图应用", "No map app can open this place"))
        }
    }

    companion object {
        private const val REQUEST_LOCATION = 1
        private val BELL_TOWER = Position(34.25953, 108.94235, Datum.WGS84)
    }
}
