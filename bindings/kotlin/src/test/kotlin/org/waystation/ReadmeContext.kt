package org.waystation

import java.nio.file.Path
import java.nio.file.Paths
import java.time.Instant
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue

/**
 * What the README's Kotlin examples take as given, as an app would have it: a data directory,
 * the pack bytes the app ships, a photo, a second device of the same user, a coroutine scope,
 * and a sync server with a rider's token. `scripts/check-readme-examples.py` copies each
 * README's ```kotlin blocks, in order, into one test method (generated ReadmeExamplesTest)
 * that runs them inside `with(ReadmeContext(tmp)) { runBlocking { ... } }`, so the names
 * below are in scope and suspend calls may stand at the top level of a block.
 *
 * The server is a real `waystation-server` on loopback, started on first use of [url] or
 * [token] (as SyncTest does).
 */
class ReadmeContext(private val tmp: Path) : AutoCloseable {
    /**
     * The app's one OkHttpClient, which the examples give the library (OkHttpTransport): their
     * syncs go through OkHttp, as an Android app's do.
     */
    val okHttpClient: okhttp3.OkHttpClient = okhttp3.OkHttpClient()

    /** The app's data directory (Android: `context.filesDir.resolve("waystation").path`). */
    val dataDir: String = tmp.resolve("waystation").toString()

    /** The signed station pack the app ships (the Xi'an sample, signed with the demo key). */
    val packBytes: ByteArray get() = WaystationTest.packBytes

    /** The signed training pack the app ships. */
    val trainingPackBytes: ByteArray get() = TrainingTest.trainingBytes

    /** A photo from the camera: a small JPEG with EXIF and a comment. */
    val jpegBytes: ByteArray get() = ReportsTest.JPEG

    /** The fields of `android.location.Location` the reports example reads. */
    class Location(val latitude: Double, val longitude: Double, val accuracy: Float, val time: Long, val isMock: Boolean)

    /** A fix near the Bell Tower, taken at a fixed time (not the clock). */
    val location = Location(34.2595, 108.9424, 12f, Instant.parse("2026-12-01T02:30:00Z").toEpochMilli(), false)

    /** Where the app's coroutines run (Android: `viewModelScope`); cancelled at the end. */
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /** The same user's second device, with its own data directory. */
    val other: Waystation get() = otherDevice.value

    private val otherDevice = lazy {
        Waystation(tmp.resolve("other-device").toString(), Options(trustedKeys = listOf(demoPublisherKey())), OkHttpTransport(okHttpClient))
    }

    private val server: Process by lazy { startServer() }
    private var riderToken: String? = null

    /** The sync server's base URL (loopback, so plain http is allowed). */
    val url: String by lazy {
        val line = server.inputStream.bufferedReader().readLine()
        assertTrue(line != null && line.startsWith("listening on "), "waystation-server said: $line")
        line.substringAfterLast(' ')
    }

    /** The bearer token an administrator issued to the rider `rider-7`. */
    val token: String
        get() {
            url // starts the server, which adds the rider first
            return checkNotNull(riderToken)
        }

    private fun serverBin(): String =
        Paths.get(System.getProperty("jna.library.path"), "waystation-server").toString()

    private fun startServer(): Process {
        val db = tmp.resolve("server.db")
        val add = ProcessBuilder(
            serverBin(), "user", "add", "--db", db.toString(), "--name", "rider-7", "--role", "rider",
        ).redirectError(ProcessBuilder.Redirect.DISCARD).start()
        val out = add.inputStream.bufferedReader().readText()
        assertEquals(0, add.waitFor(), "waystation-server user add failed")
        riderToken = out.trim().lines().last()
        return ProcessBuilder(serverBin(), "serve", "--db", db.toString(), "--listen", "127.0.0.1:0")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start()
    }

    override fun close() {
        scope.cancel()
        // The README installs a logger; put back one that keeps quiet for the other tests.
        setLogger(
            object : Logger {
                override fun log(level: LogLevel, target: String, message: String) {}
            },
            LogLevel.ERROR,
        )
        if (otherDevice.isInitialized()) otherDevice.value.close()
        if (riderToken != null) {
            server.destroy()
            server.waitFor(10, TimeUnit.SECONDS)
        }
    }
}
