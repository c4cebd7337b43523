package org.waystation.demo.android

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.location.Location
import android.location.LocationListener
import android.location.LocationManager
import android.os.Build
import android.os.Bundle
import android.os.CancellationSignal
import android.os.Looper
import java.time.Clock
import kotlin.coroutines.resume
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withTimeoutOrNull
import org.waystation.demo.PlatformFix
import org.waystation.demo.chooseFix

/**
 * Positions from the platform's LocationManager (GPS and network providers), not Google's
 * fused provider: Google Play services are missing on most phones sold in China. Fixes are
 * WGS-84; each keeps its accuracy (or its absence) and the mock flag.
 */
class PlatformLocation(private val context: Context, private val clock: Clock = Clock.systemUTC()) {
    private val manager: LocationManager = context.getSystemService(LocationManager::class.java)
        ?: throw IllegalStateException("this device has no location service")

    /** Whether the app may ask for a position (fine or coarse). */
    fun permitted(): Boolean = PERMISSIONS.any { context.checkSelfPermission(it) == PackageManager.PERMISSION_GRANTED }

    /**
     * The best fix within [timeoutMs]: a fresh one from each enabled provider, raced against
     * the timeout, plus the last known ones; [chooseFix] picks. Null when nothing recent came.
     */
    suspend fun locate(timeoutMs: Long = 20_000): PlatformFix? {
        if (!permitted()) return null
        val providers = listOf(LocationManager.GPS_PROVIDER, LocationManager.NETWORK_PROVIDER)
            .filter { runCatching { manager.isProviderEnabled(it) }.getOrDefault(false) }
        val known = providers.mapNotNull { lastKnown(it) }
        val fresh = coroutineScope {
            providers.map { provider -> async { withTimeoutOrNull(timeoutMs) { current(provider) } } }.awaitAll()
        }
        return chooseFix(known + fresh.filterNotNull(), clock.instant())
    }

    private fun lastKnown(provider: String): PlatformFix? = try {
        manager.getLastKnownLocation(provider)?.let(::toFix)
    } catch (e: SecurityException) {
        null
    }

    private suspend fun current(provider: String): PlatformFix? = suspendCancellableCoroutine { cont ->
        try {
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                val signal = CancellationSignal()
                cont.invokeOnCancellation { signal.cancel() }
                manager.getCurrentLocation(provider, signal, context.mainExecutor) { location ->
                    if (cont.isActive) cont.resume(location?.let(::toFix))
                }
            } else {
                lateinit var listener: OneFixListener
                listener = OneFixListener { location ->
                    manager.removeUpdates(listener)
                    if (cont.isActive) cont.resume(toFix(location))
                }
                cont.invokeOnCancellation { manager.removeUpdates(listener) }
                manager.requestLocationUpdates(provider, 0L, 0f, listener, Looper.getMainLooper())
            }
        } catch (e: SecurityException) {
            if (cont.isActive) cont.resume(null)
        } catch (e: IllegalArgumentException) { // provider gone
            if (cont.isActive) cont.resume(null)
        }
    }

    /**
     * Android 10 and older call every LocationListener method (they were abstract before
     * API 30), so all are implemented.
     */
    private class OneFixListener(private val onFix: (Location) -> Unit) : LocationListener {
        override fun onLocationChanged(location: Location) = onFix(location)

        @Deprecated("Deprecated in API 29, still called on older devices")
        override fun onStatusChanged(provider: String?, status: Int, extras: Bundle?) {}

        override fun onProviderEnabled(provider: String) {}

        override fun onProviderDisabled(provider: String) {}
    }

    companion object {
        /**
         * What a screen asks for before locating (`requestPermissions`): fine and coarse, as
         * Android 12 and later let the person grant coarse only, which is enough.
         */
        val PERMISSIONS: Array<String> = arrayOf(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)

        /** Whether the answer to a request for [PERMISSIONS] allows a position (either of them). */
        fun granted(grantResults: IntArray): Boolean = grantResults.any { it == PackageManager.PERMISSION_GRANTED }

        /** The platform's fix, field by field, with "accuracy unknown" kept as null. */
        fun toFix(location: Location): PlatformFix = PlatformFix(
            lat = location.latitude,
            lon = location.longitude,
            accuracyM = if (location.hasAccuracy()) location.accuracy.toDouble() else null,
            timeMillis = location.time,
            mock = isMock(location),
            provider = location.provider,
        )

        private fun isMock(location: Location): Boolean =
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
                location.isMock
            } else {
                @Suppress("DEPRECATION")
                location.isFromMockProvider
            }
    }
}
