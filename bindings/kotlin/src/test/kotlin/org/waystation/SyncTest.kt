package org.waystation

import java.io.InputStream
import java.io.OutputStream
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.time.Instant
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.thread
import kotlin.concurrent.withLock
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import org.waystation.core.CaseEventKind
import org.waystation.core.CaseRole
import org.waystation.core.CaseStatus
import org.waystation.core.Datum
import org.waystation.core.OutboxState
import org.waystation.core.PositionFix
import org.waystation.core.ReportPatch
import org.waystation.core.ReportRules
import org.waystation.core.SyncObserver
import org.waystation.core.SyncOptions
import org.waystation.core.SyncStatus

/**
 * Sync through the Kotlin bindings against a real `waystation-server` process on loopback:
 * `run` is a suspend function, `statusFlow()` a Flow over `subscribe`, and cancelling the
 * coroutine cancels the sync. The server binary sits next to the native library
 * (`cargo build -p waystation-server`).
 */
class SyncTest {
    companion object {
        const val YANTA = "610113"
        const val RIDER = "rider-7"
        val RULES: ReportRules = defaultReportRules()

        private fun bytes(vararg b: Int) = ByteArray(b.size) { b[it].toByte() }

        private fun segment(marker: Int, body: ByteArray): ByteArray {
            val len = body.size + 2
            return bytes(0xFF, marker, len shr 8, len and 0xFF) + body
        }

        /** A valid 1×1 grey baseline JPEG. */
        val JPEG: ByteArray =
            bytes(0xFF, 0xD8) +
                segment(0xE0, "JFIF\u0000".toByteArray(Charsets.ISO_8859_1) + bytes(1, 1, 0, 0, 1, 0, 1, 0, 0)) +
                segment(0xDB, ByteArray(1) + ByteArray(64) { 1 }) +
                segment(0xC0, bytes(8, 0, 1, 0, 1, 1, 1, 0x11, 0)) +
                segment(0xC4, bytes(0x00, 1) + ByteArray(16)) +
                segment(0xC4, bytes(0x10, 1) + ByteArray(16)) +
                segment(0xDA, bytes(1, 1, 0, 0, 0x3F, 0)) +
                bytes(0x3F, 0xFF, 0xD9)

        fun fix(lat: Double, lon: Double) =
            PositionFix(lat = lat, lon = lon, datum = Datum.WGS84, accuracyM = 10.0, fixTime = Instant.now(), mock = false)
    }

    @TempDir
    lateinit var tmp: Path

    private lateinit var server: Process
    private lateinit var url: String
    private lateinit var riderToken: String
    private lateinit var staffToken: String
    private val opened = mutableListOf<Waystation>()

    private val serverBin: String =
        Paths.get(System.getProperty("jna.library.path"), "waystation-server").toString()

    private fun addUser(db: Path, name: String, role: String, vararg areas: String): String {
        val args = mutableListOf(serverBin, "user", "add", "--db", db.toString(), "--name", name, "--role", role)
        areas.forEach { args += listOf("--area", it) }
        val p = ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.DISCARD).start()
        val out = p.inputStream.bufferedReader().readText()
        assertEquals(0, p.waitFor(), "user add failed")
        return out.trim().lines().last()
    }

    @BeforeEach
    fun startServer() {
        val db = tmp.resolve("server.db")
        riderToken = addUser(db, "rider-7", "rider")
        staffToken = addUser(db, "staff-1", "station", YANTA)
        server = ProcessBuilder(serverBin, "serve", "--db", db.toString(), "--listen", "127.0.0.1:0")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start()
        val line = server.inputStream.bufferedReader().readLine()
        assertTrue(line.startsWith("listening on "), line)
        url = line.substringAfterLast(' ')
    }

    @AfterEach
    fun stop() {
        opened.forEach { it.close() }
        server.destroy()
        server.waitFor(10, TimeUnit.SECONDS)
    }

    private fun open(name: String) =
        Waystation(tmp.resolve(name).toString(), Options(trustedKeys = listOf(demoPublisherKey()))).also { opened += it }

    private fun options(token: String, server: String = url) =
        SyncOptions(server = server, token = token, timeoutMs = 10_000L, attempts = 2)

    private suspend fun Waystation.reportWithPhoto(): String {
        val reports = reports()
        val id = reports.createDraft(RIDER, "food.seal")
        reports.updateDraft(id, ReportPatch(merchantName = "老孙家泡馍", description = "封签被撕开", district = YANTA))
        reports.setPosition(id, fix(34.2225, 108.948))
        reports.attachPhoto(id, JPEG, RULES)
        reports.submit(RIDER, id, RULES)
        return id
    }

    class Recorder : SyncObserver {
        val seen = CopyOnWriteArrayList<SyncStatus>()
        override fun syncStatusChanged(status: SyncStatus) {
            seen += status
        }
    }

    @Test
    fun `a report syncs from rider to staff and the case comes back`() = runBlocking {
        val rider = open("rider")
        val id = rider.reportWithPhoto()
        val sync = rider.sync()
        assertEquals(1L, sync.status().pendingDocuments)
        assertEquals(1L, sync.status().pendingPhotos)
        val recorder = Recorder()
        val subscription = sync.subscribe(recorder)

        val sent = sync.run(options(riderToken))
        assertEquals(1, sent.documentsSent)
        assertEquals(1, sent.photosUploaded)
        assertTrue(rider.reports().get(id).outbox is OutboxState.Sent)
        assertTrue(recorder.seen.first().inProgress)
        assertFalse(recorder.seen.last().inProgress)
        assertNotNull(recorder.seen.last().lastSuccess)
        subscription.close()

        val staff = open("staff")
        assertEquals(1, staff.sync().run(options(staffToken)).documentsReceived)
        staff.cases().record(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Acknowledge, "收到")
        staff.sync().run(options(staffToken))
        sync.run(options(riderToken))
        assertEquals(CaseStatus.ACKNOWLEDGED, rider.cases().get(id).status)

        val sha = rider.reports().get(id).photos.single().sha256
        val path = staff.reports().fetchPhoto(options(staffToken), sha)
        assertArrayEquals(Files.readAllBytes(Paths.get(rider.reports().photoPath(sha))), Files.readAllBytes(Paths.get(path)))

        val noop = sync.run(options(riderToken))
        assertEquals(1, noop.requests)
        assertTrue(noop.bytesSent < 200L && noop.bytesReceived < 200L, "$noop")
    }

    @Test
    fun `a refused token is an Unauthorized exception and nothing is lost`() = runBlocking {
        val rider = open("rider")
        rider.reportWithPhoto()
        assertThrows<WaystationException.Unauthorized> {
            runBlocking { rider.sync().run(options("wst_not-a-token")) }
        }
        val status = rider.sync().status()
        assertEquals(1L, status.pendingDocuments)
        assertTrue(status.lastError!!.contains("unauthorized"), status.lastError)
    }

    private fun run(vararg args: String): Pair<Int, String> {
        val p = ProcessBuilder(*args).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        return p.waitFor() to out
    }

    @Test
    fun `fetchPacks brings a lesson's image checked by its hash`() = runBlocking {
        val seals = "food-safety-delivery/seals"
        val sha = java.security.MessageDigest.getInstance("SHA-256").digest(JPEG)
            .joinToString("") { "%02x".format(it) }
        val repo = Paths.get(System.getProperty("waystation.repo.root"))
        // The real training payload with one image on the seals lesson, signed with the demo key.
        val text = Files.readString(repo.resolve("data/training/xian-training.payload.json"))
        val at = text.indexOf("\"images\": []", text.indexOf("\"id\": \"$seals\""))
        assertTrue(at > 0)
        val image = """{"sha256": "$sha", "alt": {"zh": "完好的封签", "en": "An intact seal"}, "media_type": "image/jpeg"}"""
        val payload = tmp.resolve("payload.json")
        Files.writeString(payload, text.replaceRange(at, at + "\"images\": []".length, "\"images\": [$image]"))
        val pack = tmp.resolve("pack.json")
        val cli = Paths.get(System.getProperty("jna.library.path"), "waystation").toString()
        val (signed, signOut) = run(
            cli, "pack", "sign", "--key", repo.resolve("data/keys/demo-publisher.json").toString(),
            "--in", payload.toString(), "--out", pack.toString(),
            "--type", "application/vnd.waystation.training-pack+json",
        )
        assertEquals(0, signed, signOut)
        val jpeg = tmp.resolve("seal.jpg")
        Files.write(jpeg, JPEG)
        val db = tmp.resolve("server.db").toString()
        val publish = arrayOf(
            serverBin, "pack", "publish", "--db", db, "--kind", "training", pack.toString(),
            "--trust-key", repo.resolve("data/keys/demo-publisher.json").toString(),
        )
        val (refused, why) = run(*publish)
        assertEquals(1, refused)
        assertTrue(why.contains(sha), why)
        val (published, out) = run(*publish, "--image", jpeg.toString())
        assertEquals(0, published, out)

        val phone = open("phone")
        val training = phone.training()
        assertEquals(null, training.imagePath(sha))
        val fetched = phone.packs().fetch(options(riderToken))
        assertNotNull(fetched.training)
        assertEquals(1, fetched.trainingImagesFetched)
        assertEquals(0, fetched.trainingImageProblems.size)
        assertEquals(listOf(sha), training.lesson(seals).images.map { it.sha256 })
        assertArrayEquals(JPEG, Files.readAllBytes(Paths.get(training.imagePath(sha)!!)))
        assertTrue(training.missingImages().isEmpty())
        assertEquals(0, phone.packs().fetch(options(riderToken)).trainingImagesFetched)
        assertThrows<WaystationException.InvalidInput> { training.imagePath("../secret") }
        Unit
    }

    /**
     * A TCP proxy on loopback in front of the server that can hold the server's answers back:
     * a slow server, with nothing changed in the server.
     */
    class HoldingProxy(private val upstreamPort: Int) : AutoCloseable {
        private val listener = ServerSocket(0, 50, InetAddress.getLoopbackAddress())
        private val lock = ReentrantLock()
        private val released = lock.newCondition()
        @Volatile private var holding = false
        private val held = CountDownLatch(1)
        val url = "http://127.0.0.1:${listener.localPort}"

        init {
            thread(isDaemon = true) {
                while (!listener.isClosed) {
                    val client = runCatching { listener.accept() }.getOrNull() ?: break
                    thread(isDaemon = true) { relay(client) }
                }
            }
        }

        fun hold() { holding = true }

        fun release() = lock.withLock {
            holding = false
            released.signalAll()
        }

        /** Waits until a request reached the proxy while it was holding. */
        fun awaitHeldRequest(seconds: Long) = held.await(seconds, TimeUnit.SECONDS)

        private fun pump(from: InputStream, to: OutputStream, gated: Boolean) {
            val buf = ByteArray(16 * 1024)
            while (true) {
                val n = runCatching { from.read(buf) }.getOrDefault(-1)
                if (n < 0) break
                if (!gated && holding) held.countDown()
                if (gated) lock.withLock { while (holding) released.await() }
                if (runCatching { to.write(buf, 0, n); to.flush() }.isFailure) break
            }
        }

        private fun relay(client: Socket) {
            val server = runCatching { Socket(InetAddress.getLoopbackAddress(), upstreamPort) }.getOrNull()
                ?: return client.close()
            thread(isDaemon = true) {
                pump(client.getInputStream(), server.getOutputStream(), gated = false)
                runCatching { server.shutdownOutput() }
            }
            pump(server.getInputStream(), client.getOutputStream(), gated = true)
            runCatching { client.close() }
            runCatching { server.close() }
        }

        override fun close() {
            release()
            listener.close()
        }
    }

    @Test
    fun `the status flow follows a sync cancelled halfway, and the next sync starts at once`() = runBlocking {
        val rider = open("rider")
        rider.reportWithPhoto()
        val sync = rider.sync()
        HoldingProxy(url.substringAfterLast(':').toInt()).use { proxy ->
            val seen = CopyOnWriteArrayList<SyncStatus>()
            val collecting = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
                sync.statusFlow().collect { seen += it }
            }
            proxy.hold()
            val first = async(Dispatchers.Default) { sync.run(options(riderToken, proxy.url)) }
            assertTrue(proxy.awaitHeldRequest(30), "the sync's request reached the slow server")
            // Seen through a Flow too: the sync is running, its answer held back.
            withTimeout(10_000) { sync.statusFlow().first { it.inProgress } }

            val cancelledAt = System.nanoTime()
            first.cancelAndJoin()
            // The lock is released: a second sync starts at once and succeeds (the server
            // answering promptly again). Before the fix the first sync's thread kept the lock
            // until its request timed out, and this one waited behind it.
            proxy.release()
            val second = withTimeout(10_000) { sync.run(options(riderToken, proxy.url)) }
            val afterCancelMs = (System.nanoTime() - cancelledAt) / 1_000_000
            assertTrue(second.complete, "$second")
            assertEquals(1, second.documentsSent)
            assertTrue(afterCancelMs < 5_000, "the second sync finished ${afterCancelMs} ms after the cancel")
            println("SyncTest: second sync finished $afterCancelMs ms after the cancel")

            withTimeout(10_000) {
                while (seen.lastOrNull()?.let { !it.inProgress && it.lastSuccess != null } != true) {
                    kotlinx.coroutines.delay(10)
                }
            }
            collecting.cancelAndJoin()
            assertTrue(seen.any { it.inProgress }, "$seen")
            val last = seen.last()
            assertEquals(0L, last.pendingDocuments)
            assertNull(last.lastError, "a cancel is not a failure")
        }
    }

    @Test
    fun `several flows collect at once and each closes its subscription`() = runBlocking {
        val rider = open("rider")
        val sync = rider.sync()
        val a = CopyOnWriteArrayList<SyncStatus>()
        val b = CopyOnWriteArrayList<SyncStatus>()
        val jobA = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { sync.statusFlow().collect { a += it } }
        val jobB = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { sync.statusFlow().collect { b += it } }
        withTimeout(10_000) { while (a.isEmpty() || b.isEmpty()) kotlinx.coroutines.delay(10) }
        sync.run(options(riderToken))
        withTimeout(10_000) {
            while (listOf(a, b).any { it.lastOrNull()?.lastSuccess == null }) kotlinx.coroutines.delay(10)
        }
        val firstAttempt = sync.status().lastAttempt
        jobB.cancelAndJoin()
        sync.run(options(riderToken))
        // Statuses from the second sync carry its own start time.
        val fromSecond = { l: List<SyncStatus> -> l.any { it.lastAttempt != null && it.lastAttempt != firstAttempt } }
        withTimeout(10_000) { while (!fromSecond(a)) kotlinx.coroutines.delay(10) }
        jobA.cancelAndJoin()
        assertFalse(fromSecond(b), "a cancelled collector's subscription is closed: $b")
    }

    @Test
    fun `the core's log lines reach the app's Logger, without the token`() = runBlocking {
        val lines = CopyOnWriteArrayList<Triple<LogLevel, String, String>>()
        setLogger(object : Logger {
            override fun log(level: LogLevel, target: String, message: String) {
                lines += Triple(level, target, message)
            }
        }, LogLevel.DEBUG)
        try {
            val rider = open("rider")
            rider.reportWithPhoto()
            rider.sync().run(options(riderToken))
            assertThrows<WaystationException.Unauthorized> {
                runBlocking { rider.sync().run(options("wst_not-a-token")) }
            }
            assertTrue(lines.any { it.second == "waystation::sync" && it.third.startsWith("sync done") }, "$lines")
            assertTrue(lines.any { it.first == LogLevel.WARN && it.third.contains("unauthorized") }, "$lines")
            assertTrue(lines.none { it.third.contains(riderToken) || it.third.contains("老孙家") }, "$lines")
        } finally {
            setLogger(object : Logger {
                override fun log(level: LogLevel, target: String, message: String) {}
            }, LogLevel.ERROR)
        }
    }
}
