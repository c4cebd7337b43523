package org.waystation.demo

import java.net.URLEncoder
import java.util.Locale
import org.waystation.*
import org.waystation.core.*

/**
 * "Go there": handing a station to the map apps riders in China actually use, each in the
 * datum it expects. Amap (高德) comes first and Baidu Maps second (CONTEXT.md); Google Maps
 * is missing on most phones sold there, so the fallback is a plain `geo:` URI, which any map
 * app may answer and which is defined in WGS-84 (RFC 5870).
 *
 * Every conversion is the core's ([convertPosition]): one implementation, tested in Rust,
 * for the list, the report and the hand-off. Stations are stored in WGS-84.
 */
enum class MapApp(
    /** The app's Android package, or null for the `geo:` fallback. */
    val packageName: String?,
    /** The datum its URI takes. */
    val datum: Datum,
) {
    /** Amap, GCJ-02 (`dev=0`: the coordinates are already GCJ-02, Amap must not shift them). */
    AMAP("com.autonavi.minimap", Datum.GCJ02),

    /**
     * Baidu Maps, BD-09 (`coord_type=bd09ll`). Baidu also accepts `coord_type=wgs84` and
     * `gcj02`, but converting here keeps every hand-off on the core's tested conversion, and
     * `bd09ll` is the type every Baidu Maps version has accepted.
     */
    BAIDU("com.baidu.BaiduMap", Datum.BD09),

    /** Any map app, WGS-84, when neither Amap nor Baidu Maps is installed. */
    GEO(null, Datum.WGS84),
}

/** One way to go to a station: the app, the URI to view, and the button's label. */
data class MapHandoff(val app: MapApp, val uri: String, val label: String)

/** Who asks, as Amap's `sourceApplication` and Baidu's `src` (both want the caller named). */
const val MAP_SOURCE = "org.waystation.demo"

/**
 * The hand-offs to offer for a station named [name] at [position] (any datum; converted by
 * the core): one per installed map app, Amap first, or the `geo:` URI alone when neither is
 * installed. [installed] says whether a package is on the phone.
 */
fun mapHandoffs(name: String, position: Position, lang: Lang, installed: (String) -> Boolean): List<MapHandoff> {
    val apps = listOf(MapApp.AMAP, MapApp.BAIDU).filter { app -> app.packageName?.let(installed) == true }
    return (apps.ifEmpty { listOf(MapApp.GEO) }).map { mapHandoff(it, name, position, lang) }
}

/** The hand-off to [app] for a station named [name] at [position]. */
fun mapHandoff(app: MapApp, name: String, position: Position, lang: Lang): MapHandoff {
    val at = convertPosition(position, app.datum)
    val lat = degrees(at.lat)
    val lon = degrees(at.lon)
    val n = encode(name)
    val zh = lang == Lang.ZH
    return when (app) {
        // t=3: cycling, the closest of Amap's route types to an e-bike limited to 25 km/h.
        MapApp.AMAP -> MapHandoff(
            app,
            "amapuri://route/plan/?sourceApplication=$MAP_SOURCE&dlat=$lat&dlon=$lon&dname=$n&dev=0&t=3",
            if (zh) "用高德地图导航" else "Navigate with Amap (高德)",
        )
        // mode=riding: Baidu's cycling route. The '|' between the position and the name is
        // percent-encoded (%7C): a raw '|' is not legal in a URI (RFC 3986), and Baidu decodes
        // the parameter.
        MapApp.BAIDU -> MapHandoff(
            app,
            "baidumap://map/direction?destination=latlng:$lat,$lon%7Cname:$n&coord_type=bd09ll&mode=riding&src=$MAP_SOURCE",
            if (zh) "用百度地图导航" else "Navigate with Baidu Maps (百度)",
        )
        MapApp.GEO -> MapHandoff(
            app,
            "geo:$lat,$lon?q=$lat,$lon($n)",
            if (zh) "在地图应用中打开" else "Open in a map app",
        )
    }
}

/** Six decimals: about 0.1 m, finer than any station's position. Never a comma. */
private fun degrees(value: Double): String = String.format(Locale.ROOT, "%.6f", value)

/** A URI component: UTF-8, percent-encoded, spaces as %20 (not '+', which map apps show). */
private fun encode(text: String): String = URLEncoder.encode(text, Charsets.UTF_8).replace("+", "%20")
