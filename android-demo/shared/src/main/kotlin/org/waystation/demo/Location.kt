package org.waystation.demo

import java.time.Duration
import java.time.Instant
import org.waystation.*
import org.waystation.core.*

/**
 * A position as the platform's location API gave it, before it reaches the core: Android's
 * `android.location.Location` or iOS's `CLLocation`, copied field by field so that this code
 * needs neither.
 *
 * Android's LocationManager (GPS and network providers) gives WGS-84. A fix from a Chinese map
 * SDK (Amap, Tencent) would be GCJ-02 and is passed with that datum: the core converts it.
 */
data class PlatformFix(
    val lat: Double,
    val lon: Double,
    /** `Location.getAccuracy()` when `hasAccuracy()`, else null: "accuracy unknown". */
    val accuracyM: Double?,
    /** `Location.getTime()`, milliseconds since the epoch (UTC). */
    val timeMillis: Long,
    /** `Location.isMock()` (API 31+) or `isFromMockProvider()` before it. */
    val mock: Boolean,
    /** `gps`, `network`, `fused`, … for display only. */
    val provider: String?,
    val datum: Datum = Datum.WGS84,
) {
    /** The fix for [org.waystation.WaystationInterface.setReportPosition]. */
    fun toLocationFix(): PositionFix = PositionFix(
        lat = lat,
        lon = lon,
        datum = datum,
        accuracyM = accuracyM?.takeIf { it.isFinite() && it >= 0.0 },
        fixTime = Instant.ofEpochMilli(timeMillis),
        mock = mock,
    )
}

/** How usable a fix is for a report, judged before it is stored. */
enum class FixQuality {
    /** Within the warning threshold. */
    GOOD,

    /** Stored and submittable, with a warning (above `warnAccuracyM`, or accuracy unknown). */
    IMPRECISE,

    /** Above `maxAccuracyM`: the report cannot be submitted with it. Wait for a better fix. */
    TOO_IMPRECISE,
}

/** What the report form says about a fix. */
data class FixDescription(val quality: FixQuality, val summary: String, val warnings: List<String>)

/**
 * Picks the fix to use from what the providers returned (last known GPS and network fixes,
 * fresh updates): fixes older than [maxAge] are ignored; among the rest, a fix with a known
 * accuracy beats one without, the smaller accuracy wins, and the newer fix breaks ties. A mock
 * fix is not ignored (it is kept and flagged, as the core does), but loses to a real one.
 */
fun chooseFix(candidates: List<PlatformFix>, now: Instant, maxAge: Duration = Duration.ofMinutes(2)): PlatformFix? =
    candidates
        .filter { Duration.between(Instant.ofEpochMilli(it.timeMillis), now) <= maxAge }
        .filter { it.lat.isFinite() && it.lon.isFinite() }
        .minWithOrNull(
            compareBy<PlatformFix> { it.mock }
                .thenBy { it.accuracyM == null }
                .thenBy { it.accuracyM ?: Double.MAX_VALUE }
                .thenByDescending { it.timeMillis },
        )

/**
 * Describes a fix against the report rules: `±12 m · gps · just now`, with warnings for an
 * imprecise, unknown-accuracy or mock fix. The core makes the same judgement when the report
 * is checked; this is what the form shows while the rider is still waiting for a fix.
 */
fun describeFix(fix: PlatformFix, rules: ReportRules, now: Instant, lang: Lang): FixDescription {
    val zh = lang == Lang.ZH
    val accuracy = fix.accuracyM?.takeIf { it.isFinite() && it >= 0.0 }
    val quality = when {
        accuracy == null -> FixQuality.IMPRECISE
        accuracy > rules.maxAccuracyM -> FixQuality.TOO_IMPRECISE
        accuracy > rules.warnAccuracyM -> FixQuality.IMPRECISE
        else -> FixQuality.GOOD
    }
    val parts = listOfNotNull(
        formatAccuracy(accuracy, lang),
        fix.provider,
        formatAgo(Instant.ofEpochMilli(fix.timeMillis), now, lang),
    )
    val warnings = buildList {
        when (quality) {
            FixQuality.TOO_IMPRECISE -> add(
                if (zh) "定位误差超过 ${formatDistance(rules.maxAccuracyM)}，无法提交；请到开阔处等待更好的定位"
                else "Accuracy is worse than ${formatDistance(rules.maxAccuracyM)}: the report cannot be sent. Wait for a better fix in the open.",
            )
            FixQuality.IMPRECISE -> add(
                if (accuracy == null) {
                    if (zh) "定位精度未知" else "The phone did not say how precise this fix is"
                } else if (zh) {
                    "定位误差较大（超过 ${formatDistance(rules.warnAccuracyM)}）"
                } else {
                    "Imprecise fix (worse than ${formatDistance(rules.warnAccuracyM)})"
                },
            )
            FixQuality.GOOD -> {}
        }
        if (fix.mock) {
            add(if (zh) "模拟定位：报告会被标记" else "Mock location: the report will be flagged")
        }
    }
    return FixDescription(quality, parts.joinToString(" · "), warnings)
}
