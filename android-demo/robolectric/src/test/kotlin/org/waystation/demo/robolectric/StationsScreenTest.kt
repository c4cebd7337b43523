package org.waystation.demo.robolectric

import android.app.Activity
import android.content.Intent
import android.content.pm.PackageInfo
import android.net.Uri
import android.widget.CheckBox
import java.net.URLDecoder
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.waystation.demo.android.StationsActivity
import org.waystation.*
import org.waystation.core.*

/**
 * The Stations screen, in English: the nearest stations from the demo position, the service
 * filters and "open now" as the core answers them, and "navigate" handing the station to Amap
 * (GCJ-02), Baidu Maps (BD-09) or any map app (geo:, WGS-84), each URI checked against the
 * core's conversions.
 */
@RunWith(RobolectricTestRunner::class)
@Config(qualifiers = "en-rUS")
class StationsScreenTest : ScreenTest() {
    /** What the core answers for the screen's query from the Bell Tower at the fixed time. */
    private fun expected(openOnly: Boolean, services: List<org.waystation.core.Service> = emptyList()): List<StationHit> =
        graph.also { it.ensurePacks() }.core.stations().nearest(
            NearestQuery(BELL_TOWER, 10, StationFilter(services = services, openOnly = openOnly), RobolectricApp.NOW),
        )

    private fun nameOf(hit: StationHit) = hit.station.nameEn ?: hit.station.nameZh

    private fun stationsFromBellTower(): StationsActivity {
        val screen = open(StationsActivity::class.java)
        assertTrue(screen.showsText("No position yet"))
        screen.tap("Search from the Bell Tower (demo)")
        screen.waitForText("Bell Tower (demo position)")
        return screen
    }

    /** The station names the screen lists, in order (each card's first, bold line). */
    private fun Activity.listedNames(expected: List<StationHit>): List<String> {
        waitFor("the list to show ${expected.size} stations") { expected.all { showsText(nameOf(it)) } }
        val names = expected.map(::nameOf).toSet()
        return texts().filter { it in names }
    }

    @Test
    fun `the nearest open stations are listed nearest first, and the filters narrow them as the core does`() {
        val screen = stationsFromBellTower()
        val open = expected(openOnly = true)
        assertTrue("the sample pack has open stations at 11:00", open.isNotEmpty())
        assertEquals(open.map(::nameOf), screen.listedNames(open))
        assertTrue((screen.control("Open now only") as CheckBox).isChecked)

        // "Open now" off: stations that are closed or whose hours are unknown appear too.
        screen.tap("Open now only")
        val all = expected(openOnly = false)
        assertTrue("some stations are closed or unknown at 11:00", all.size > open.size || all != open)
        assertEquals(all.map(::nameOf), screen.listedNames(all))

        // A service filter: stations without it leave the list, the core's next nearest come in.
        val service = allServices().first { info ->
            all.any { info.service !in it.station.services } && expected(false, listOf(info.service)).isNotEmpty()
        }
        screen.tap(service.labelEn)
        val filtered = expected(openOnly = false, services = listOf(service.service))
        val without = all.filter { service.service !in it.station.services }
        screen.waitFor("stations without ${service.labelEn} to leave") { without.none { hit -> screen.showsText(nameOf(hit)) } }
        assertEquals(filtered.map(::nameOf), screen.listedNames(filtered))
        assertTrue(filtered.all { service.service in it.station.services })
    }

    /** The first station's hand-off buttons' intent, after tapping [label]. */
    private fun navigate(screen: StationsActivity, label: String): Intent {
        screen.tap(label)
        val started = shadowOf(screen).nextStartedActivity
        assertNotNull("\"$label\" started nothing", started)
        assertEquals(Intent.ACTION_VIEW, started.action)
        return started
    }

    private fun install(vararg packages: String) {
        val pm = shadowOf(RuntimeEnvironment.getApplication().packageManager)
        packages.forEach { name -> pm.installPackage(PackageInfo().apply { packageName = name }) }
    }

    private fun assertDegrees(what: String, expected: Double, shown: String) {
        assertEquals("$what: six decimals", 6, shown.substringAfter('.').length)
        assertEquals(what, expected, shown.toDouble(), 0.0000005)
    }

    @Test
    fun `with no map app installed, navigate opens a geo URI in WGS-84`() {
        val screen = stationsFromBellTower()
        val first = expected(openOnly = true).first()
        screen.listedNames(listOf(first))
        assertFalse(screen.showsText("Navigate with Amap (高德)"))
        val intent = navigate(screen, "Open in a map app")
        assertNull("any map app may answer a geo: URI", intent.`package`)
        val uri = intent.data!!
        assertEquals("geo", uri.scheme)
        val (lat, lon) = uri.schemeSpecificPart.substringBefore('?').split(',')
        assertDegrees("latitude", first.station.position.lat, lat)
        assertDegrees("longitude", first.station.position.lon, lon)
        assertEquals(Datum.WGS84, first.station.position.datum)
        assertEquals("q=$lat,$lon(${nameOf(first)})", URLDecoder.decode(uri.encodedQuery, Charsets.UTF_8))
    }

    @Test
    fun `with Amap installed, navigate hands off a cycling route in GCJ-02`() {
        install("com.autonavi.minimap")
        val screen = stationsFromBellTower()
        val first = expected(openOnly = true).first()
        screen.listedNames(listOf(first))
        assertFalse("no geo: fallback when a map app is installed", screen.showsText("Open in a map app"))
        val intent = navigate(screen, "Navigate with Amap (高德)")
        assertEquals("com.autonavi.minimap", intent.`package`)
        val uri: Uri = intent.data!!
        assertEquals("amapuri://route/plan/", uri.toString().substringBefore('?'))
        val gcj = convertPosition(first.station.position, Datum.GCJ02)
        assertDegrees("dlat", gcj.lat, uri.getQueryParameter("dlat")!!)
        assertDegrees("dlon", gcj.lon, uri.getQueryParameter("dlon")!!)
        // GCJ-02 is not WGS-84 in Xi'an: hundreds of metres apart.
        assertTrue(Math.abs(gcj.lon - first.station.position.lon) > 0.003)
        assertEquals("0", uri.getQueryParameter("dev"))
        assertEquals("3", uri.getQueryParameter("t"))
        assertEquals(nameOf(first), uri.getQueryParameter("dname"))
        assertEquals("org.waystation.demo", uri.getQueryParameter("sourceApplication"))
    }

    @Test
    fun `with Baidu Maps installed, navigate hands off a riding route in BD-09, and with both Amap comes first`() {
        install("com.baidu.BaiduMap")
        var screen = stationsFromBellTower()
        val first = expected(openOnly = true).first()
        screen.listedNames(listOf(first))
        val intent = navigate(screen, "Navigate with Baidu Maps (百度)")
        assertEquals("com.baidu.BaiduMap", intent.`package`)
        val uri = intent.data!!
        assertEquals("baidumap://map/direction", uri.toString().substringBefore('?'))
        val bd = convertPosition(first.station.position, Datum.BD09)
        val destination = uri.getQueryParameter("destination")!!
        val (latlng, name) = destination.split('|')
        val (lat, lon) = latlng.removePrefix("latlng:").split(',')
        assertDegrees("lat", bd.lat, lat)
        assertDegrees("lon", bd.lon, lon)
        assertEquals("name:${nameOf(first)}", name)
        assertEquals("bd09ll", uri.getQueryParameter("coord_type"))
        assertEquals("riding", uri.getQueryParameter("mode"))
        assertEquals("org.waystation.demo", uri.getQueryParameter("src"))

        install("com.autonavi.minimap")
        screen = stationsFromBellTower()
        screen.listedNames(listOf(first))
        val labels = screen.texts().filter { it.startsWith("Navigate with") }.take(2)
        assertEquals(listOf("Navigate with Amap (高德)", "Navigate with Baidu Maps (百度)"), labels)
    }
}
