package org.waystation.demo

import java.time.Duration
import java.time.Instant
import java.time.ZoneId
import java.time.format.TextStyle
import java.util.Locale
import kotlin.math.roundToLong
import org.waystation.*
import org.waystation.core.*

/**
 * Formatting of what the screens show: distances, bearings, opening status, accuracy and
 * ages. Pure functions of their arguments (the current time is passed in), so the screens
 * and the tests agree on every string.
 */

/** The language of the interface. Chinese is the default for riders in Xi'an. */
enum class Lang { ZH, EN }

/** Xi'an's time zone: UTC+8 all year. Opening hours and clock times are shown in it. */
val XIAN_ZONE: ZoneId = ZoneId.of("Asia/Shanghai")

/** The text in [lang], falling back to Chinese (the authoritative text) when English is missing. */
fun LocalizedText.pick(lang: Lang): String = when (lang) {
    Lang.ZH -> zh
    Lang.EN -> en?.takeIf { it.isNotBlank() } ?: zh
}

/**
 * A distance as a rider reads it: `8 m`, `850 m` (nearest 10 m from 100 m), `1.2 km` (one
 * decimal below 10 km), `12 km`. Negative, infinite or NaN distances are a bug upstream and
 * throw.
 */
fun formatDistance(metres: Double): String {
    require(metres.isFinite() && metres >= 0.0) { "distance must be finite and not negative: $metres" }
    return when {
        metres < 100.0 -> "${metres.roundToLong()} m"
        // 995 m and above round to 1,000 m: show it as kilometres.
        metres < 995.0 -> "${(metres / 10.0).roundToLong() * 10} m"
        metres < 9_950.0 -> {
            val tenths = (metres / 100.0).roundToLong()
            "${tenths / 10}.${tenths % 10} km"
        }
        else -> "${(metres / 1000.0).roundToLong()} km"
    }
}

/** The eight compass points, clockwise from north, each covering 45°. */
enum class CompassPoint(val en: String, val zh: String, val arrow: String) {
    N("N", "北", "↑"),
    NE("NE", "东北", "↗"),
    E("E", "东", "→"),
    SE("SE", "东南", "↘"),
    S("S", "南", "↓"),
    SW("SW", "西南", "↙"),
    W("W", "西", "←"),
    NW("NW", "西北", "↖"),
    ;

    companion object {
        /** The point a bearing (degrees clockwise from true north, any range) falls in. */
        fun of(bearingDeg: Double): CompassPoint {
            require(bearingDeg.isFinite()) { "bearing must be finite: $bearingDeg" }
            val normalized = ((bearingDeg % 360.0) + 360.0) % 360.0
            // Each sector is centred on its point: N covers [337.5, 22.5).
            val sector = ((normalized + 22.5) / 45.0).toInt() % 8
            return entries[sector]
        }
    }
}

/** A bearing as `↗ NE 45°` (`↗ 东北 45°`), the degrees rounded and normalized to 0..359. */
fun formatBearing(bearingDeg: Double, lang: Lang): String {
    val point = CompassPoint.of(bearingDeg)
    val degrees = (((bearingDeg % 360.0) + 360.0) % 360.0).roundToLong() % 360
    val name = if (lang == Lang.ZH) point.zh else point.en
    return "${point.arrow} $name $degrees°"
}

/**
 * The opening status of a station as one line: `Open · closes 20:00`, `Closed · opens Thu
 * 08:00`, `Hours unknown`. Unknown hours are never shown as open. The time of the next change
 * is shown in Xi'an's time, with the weekday when it is not today and the date when it is a
 * week or more away.
 */
fun formatOpenStatus(status: OpenStatus, nextChange: Instant?, now: Instant, lang: Lang): String {
    val zh = lang == Lang.ZH
    val head = when (status) {
        OpenStatus.OPEN -> if (zh) "营业中" else "Open"
        OpenStatus.CLOSED -> if (zh) "已关闭" else "Closed"
        OpenStatus.UNKNOWN -> return if (zh) "营业时间未知" else "Hours unknown"
    }
    if (nextChange == null || !nextChange.isAfter(now)) return head
    val verb = when (status) {
        OpenStatus.OPEN -> if (zh) "关闭" else "closes"
        else -> if (zh) "开门" else "opens"
    }
    val whenText = formatUpcoming(nextChange, now, lang)
    return if (zh) "$head · $whenText$verb" else "$head · $verb $whenText"
}

/** A future time: `20:00` today, `Thu 08:00` within a week, `2026-12-24 08:00` beyond. */
fun formatUpcoming(at: Instant, now: Instant, lang: Lang): String {
    val local = at.atZone(XIAN_ZONE)
    val today = now.atZone(XIAN_ZONE).toLocalDate()
    val clock = "%02d:%02d".format(local.hour, local.minute)
    val days = java.time.temporal.ChronoUnit.DAYS.between(today, local.toLocalDate())
    return when {
        days == 0L -> clock
        days == 1L -> if (lang == Lang.ZH) "明天 $clock" else "tomorrow $clock"
        days in 2..6 -> {
            val locale = if (lang == Lang.ZH) Locale.CHINA else Locale.ENGLISH
            "${local.dayOfWeek.getDisplayName(TextStyle.SHORT, locale)} $clock"
        }
        else -> "${local.toLocalDate()} $clock"
    }
}

/** A clock time in Xi'an, `HH:mm` today and `yyyy-MM-dd HH:mm` on another day. */
fun formatClock(at: Instant, now: Instant): String {
    val local = at.atZone(XIAN_ZONE)
    val clock = "%02d:%02d".format(local.hour, local.minute)
    return if (local.toLocalDate() == now.atZone(XIAN_ZONE).toLocalDate()) clock else "${local.toLocalDate()} $clock"
}

/** How long ago: `just now` (under a minute), `5 min ago`, `3 h ago`, `2 d ago`. */
fun formatAgo(then: Instant, now: Instant, lang: Lang): String {
    val age = Duration.between(then, now)
    val zh = lang == Lang.ZH
    return when {
        age.isNegative || age < Duration.ofMinutes(1) -> if (zh) "刚刚" else "just now"
        age < Duration.ofHours(1) -> if (zh) "${age.toMinutes()} 分钟前" else "${age.toMinutes()} min ago"
        age < Duration.ofDays(1) -> if (zh) "${age.toHours()} 小时前" else "${age.toHours()} h ago"
        else -> if (zh) "${age.toDays()} 天前" else "${age.toDays()} d ago"
    }
}

/**
 * A fix's horizontal accuracy: `±12 m`, or `accuracy unknown` when the platform gave none
 * (never shown as precise).
 */
fun formatAccuracy(accuracyM: Double?, lang: Lang): String = when {
    accuracyM == null || !accuracyM.isFinite() -> if (lang == Lang.ZH) "精度未知" else "accuracy unknown"
    else -> "±${formatDistance(accuracyM)}"
}
