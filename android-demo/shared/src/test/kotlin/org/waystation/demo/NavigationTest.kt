package org.waystation.demo

import java.net.URI
import java.net.URLDecoder
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.waystation.*
import org.waystation.core.*

/**
 * The "navigate" hand-offs as plain data: which apps are offered, and every URI's coordinates
 * against the core's conversions (the Robolectric StationsScreenTest checks the same through
 * the screen and the intents it starts).
 */
class NavigationTest {
    private val place = Fixtures.BELL_TOWER
    private val name = "钟楼 Bell Tower"

    private fun query(uri: String): Map<String, String> = URI(uri).rawQuery.split('&').associate {
        val (k, v) = it.split('=', limit = 2)
        k to URLDecoder.decode(v, Charsets.UTF_8)
    }

    @Test
    fun `Amap first, Baidu second, geo only when neither is installed`() {
        assertEquals(listOf(MapApp.GEO), mapHandoffs(name, place, Lang.ZH) { false }.map { it.app })
        assertEquals(listOf(MapApp.AMAP, MapApp.BAIDU), mapHandoffs(name, place, Lang.ZH) { true }.map { it.app })
        assertEquals(listOf(MapApp.BAIDU), mapHandoffs(name, place, Lang.EN) { it == "com.baidu.BaiduMap" }.map { it.app })
    }

    @Test
    fun `each URI carries the datum its app expects, from the core`() {
        val amap = query(mapHandoff(MapApp.AMAP, name, place, Lang.ZH).uri)
        val gcj = convertPosition(place, Datum.GCJ02)
        assertEquals(gcj.lat, amap.getValue("dlat").toDouble(), 5e-7)
        assertEquals(gcj.lon, amap.getValue("dlon").toDouble(), 5e-7)
        assertEquals("0", amap["dev"])
        assertEquals(name, amap["dname"])

        val baidu = query(mapHandoff(MapApp.BAIDU, name, place, Lang.ZH).uri)
        val bd = convertPosition(place, Datum.BD09)
        val (latlng, named) = baidu.getValue("destination").split('|')
        val (lat, lon) = latlng.removePrefix("latlng:").split(',').map { it.toDouble() }
        assertEquals(bd.lat, lat, 5e-7)
        assertEquals(bd.lon, lon, 5e-7)
        assertEquals("name:$name", named)
        assertEquals("bd09ll", baidu["coord_type"])

        val geo = mapHandoff(MapApp.GEO, name, place, Lang.ZH).uri
        assertTrue(geo.startsWith("geo:34.259530,108.942350?q=34.259530,108.942350("), geo)
    }
}
