package org.waystation.demo

import java.net.ServerSocket
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import okhttp3.Interceptor
import okhttp3.OkHttpClient
import okhttp3.Response
import org.waystation.*
import org.waystation.core.*

/**
 * The sync screen, the coordinator and the background worker's decisions on the core's real
 * sync, against a real `waystation-server` process on loopback (built next to the native
 * library by `cargo build -p waystation-server`, as scripts/test-bindings.sh does); the pack
 * tests publish training packs signed with the `waystation` CLI built beside it (with the demo
 * publisher key, or a new key the phone does not trust).
 */
class CoreSyncGatewayTest {
    @TempDir
    lateinit var tmp: Path
    private lateinit var server: TestServer
    private lateinit var url: String
    private lateinit var token: String
    private val opened = mutableListOf<AutoCloseable>()

    @BeforeEach
    fun startServer() {
        server = TestServer(tmp.resolve("server"))
        token = server.addUser(Fixtures.RIDER, "rider")
        url = server.start().url
    }

    @AfterEach
    fun stop() {
        opened.reversed().forEach { it.close() }
        server.close()
    }

    private fun core(http: OkHttpClient = Fixtures.http): Waystation =
        Fixtures.coreWithStations(tmp.resolve("phone"), http).also { opened += it }

    /** What the app's OkHttpClient sent, as an interceptor the app adds would see it. */
    private class CountingInterceptor : Interceptor {
        val requests = CopyOnWriteArrayList<String>()

        override fun intercept(chain: Interceptor.Chain): Response {
            requests += "${chain.request().method} ${chain.request().url.encodedPath}"
            return chain.proceed(chain.request())
        }

        fun count(prefix: String) = requests.count { it.startsWith(prefix) }
    }

    private fun gateway(core: Waystation, account: () -> SyncAccount?) = CoreSyncGateway(core, account = account).also { opened += it }

    @Test
    fun `a submitted report is sent by the real sync, and the screen and observers follow`() = runBlocking {
        // The app's OkHttpClient, with an interceptor counting what goes through it.
        val http = CountingInterceptor()
        val core = core(OkHttpClient.Builder().addInterceptor(http).build())
        val gateway = gateway(core) { SyncAccount(url, token) }
        assertNull(gateway.unavailableReason())
        val id = Fixtures.submitWithPhoto(core)
        val before = gateway.status()
        assertEquals(1, before.pendingDocuments)
        assertEquals(1, before.pendingPhotos)
        assertNull(before.lastSuccess)
        val seen = CopyOnWriteArrayList<SyncSnapshot>()
        val handle = gateway.observe { seen += it }

        val scheduler = mutableListOf<SyncPlan>()
        val coordinator = SyncCoordinator(gateway, { scheduler += it }) { SyncPreferences() }
        coordinator.onLocalChange()
        assertTrue(scheduler.last().enqueue.any { it.uniqueName == SyncPolicy.UPLOAD_WORK })

        val outcome = coordinator.syncNow()
        assertInstanceOf(SyncOutcome.Synced::class.java, outcome, "$outcome")
        assertTrue(core.reports().get(id).outbox is OutboxState.Sent)
        val after = gateway.status()
        assertEquals(0, after.pending)
        assertNotNull(after.lastSuccess)
        assertTrue(seen.any { it.inProgress }, "the core told the observer the sync started")
        assertFalse(seen.last().inProgress)
        assertEquals(listOf(SyncPolicy.UPLOAD_WORK), scheduler.last().cancel, "nothing left to upload")
        assertEquals("Nothing waiting to be sent", presentSync(after, null, java.time.Instant.now(), Lang.EN).headline)
        // Every request of that sync went through OkHttp: the photo's upload, the documents,
        // and the pack fetch that follows a complete sync.
        assertTrue(http.requests.isNotEmpty())
        assertEquals(1, http.count("PUT /v1/photos/"), "${http.requests}")
        assertTrue(http.count("POST /v1/sync") >= 1, "${http.requests}")
        assertTrue(http.count("GET /v1/packs/") >= 1, "${http.requests}")
        // And exactly as many sync requests as the core reports making (a sync with nothing to
        // send, on the same core and client).
        val syncsBefore = http.count("POST /v1/sync")
        val report = core.sync().run(SyncAccount(url, token).toOptions())
        assertTrue(report.requests >= 1)
        assertEquals(report.requests, http.count("POST /v1/sync") - syncsBefore, "${http.requests}")

        handle.close()
        val count = seen.size
        assertInstanceOf(SyncOutcome.Synced::class.java, gateway.syncNow())
        assertEquals(count, seen.size, "a closed observer hears nothing")
    }

    @Test
    fun `a refused token stops background retries, and nothing is lost`() = runBlocking {
        val core = core()
        val gateway = gateway(core) { SyncAccount(url, "wst_not-a-token") }
        val id = Fixtures.submitWithPhoto(core)
        val coordinator = SyncCoordinator(gateway, {}) { SyncPreferences() }
        assertEquals(WorkerDecision.FAILURE, coordinator.runInBackground(runAttemptCount = 0))
        assertEquals(OutboxState.Pending, core.reports().get(id).outbox)
        val status = gateway.status()
        assertEquals(1, status.pendingDocuments)
        assertNotNull(status.lastError)
        assertTrue(presentSync(status, null, java.time.Instant.now(), Lang.EN).attention)
    }

    @Test
    fun `an unreachable server is retried later`() = runBlocking {
        val core = core()
        // A port nobody listens on: bound, then closed.
        val port = ServerSocket(0).use { it.localPort }
        val account = SyncAccount("http://127.0.0.1:$port", token)
        val gateway = CoreSyncGateway(core) { account }.also { opened += it }
        Fixtures.submitWithPhoto(core)
        val coordinator = SyncCoordinator(gateway, {}) { SyncPreferences() }
        assertEquals(WorkerDecision.RETRY, coordinator.runInBackground(runAttemptCount = 0))
        assertEquals(1, gateway.status().pendingDocuments)
    }

    @Test
    fun `without an account there is nothing to schedule, and the screen says why`() = runBlocking {
        val core = core()
        val gateway = gateway(core) { null }
        Fixtures.submitWithPhoto(core)
        assertEquals("no sync server is set up", gateway.unavailableReason())
        assertInstanceOf(SyncOutcome.Unavailable::class.java, gateway.syncNow())
        val plans = mutableListOf<SyncPlan>()
        SyncCoordinator(gateway, { plans += it }) { SyncPreferences() }.onAppStart()
        assertTrue(plans.single().enqueue.isEmpty())
        assertFalse(presentSync(gateway.status(), gateway.unavailableReason(), java.time.Instant.now(), Lang.EN).canSyncNow)
    }

    /** `waystation-server pack publish` into the test server's database. */
    private fun publish(kind: String, pack: Path, vararg extra: String) {
        val publish = ProcessBuilder(
            listOf(server.bin, "pack", "publish", "--db", server.db.toString(), "--kind", kind, pack.toString()) +
                listOf("--trust-key", Fixtures.demoPublisherKeyFile.toString()) + extra,
        ).redirectErrorStream(true).start()
        val out = publish.inputStream.bufferedReader().readText()
        assertEquals(0, publish.waitFor(), "pack publish failed: $out")
    }

    private fun training(core: Waystation) = core.packs().installed().single { it.kind == "training" }

    @Test
    fun `a sync sends the reports, then installs a newer training pack and its lesson image`() = runBlocking {
        // The server has version 2 of the training pack, with an image on the seals lesson.
        val pack = Fixtures.trainingPackWithImage(tmp.resolve("pack"), altZh = "完好的封签", altEn = "An intact seal", version = 2)
        val jpeg = tmp.resolve("seal.jpg")
        Files.write(jpeg, Fixtures.JPEG)
        publish("training", pack, "--image", jpeg.toString())

        // The phone has the bundled packs (training version 1, no images) and a report to send.
        val core = Fixtures.coreWithPacks(tmp.resolve("phone")).also { opened += it }
        assertEquals(1L, training(core).version)
        val gateway = gateway(core) { SyncAccount(url, token) }
        val id = Fixtures.submitWithPhoto(core)
        val before = TrainingViewModel(core, Fixtures.RIDER, Lang.EN).lesson(Fixtures.SEALS_LESSON)
        assertEquals(emptyList<LessonPicture>(), before.images)

        val outcome = gateway.syncNow()
        assertInstanceOf(SyncOutcome.Synced::class.java, outcome, "$outcome")
        outcome as SyncOutcome.Synced
        assertTrue(core.reports().get(id).outbox is OutboxState.Sent, "the report went too")
        assertEquals(PackUpdate(training = 2L, imagesFetched = 1), outcome.packs)
        assertEquals(2L, training(core).version)
        val image = TrainingViewModel(core, Fixtures.RIDER, Lang.EN).lesson(Fixtures.SEALS_LESSON).images.single()
        assertEquals("An intact seal", image.alt)
        assertNotNull(image.path)
        assertTrue(Fixtures.JPEG.contentEquals(Files.readAllBytes(Paths.get(image.path!!))), "the file is the published image")
        assertEquals(image.path, core.training().imagePath(Fixtures.sha256Hex(Fixtures.JPEG)))

        // The sync screen says what the fetch brought, in both languages.
        val now = java.time.Instant.now()
        val en = presentSync(outcome.snapshot, null, now, Lang.EN, outcome.packs)
        assertEquals("Nothing waiting to be sent", en.headline)
        assertEquals(listOf("Training updated to version 2", "1 lesson image downloaded"), en.lines.takeLast(2))
        assertFalse(en.attention)
        val zh = presentSync(outcome.snapshot, null, now, Lang.ZH, outcome.packs)
        assertEquals(listOf("培训内容已更新到第 2 版", "已下载 1 张课程图片"), zh.lines.takeLast(2))

        // Nothing changed since: the conditional requests bring nothing, and the screen adds no line.
        val again = gateway.syncNow()
        assertEquals(SyncOutcome.Synced(gateway.status(), PackUpdate()), again)
        assertEquals(emptyList<String>(), presentPackUpdate((again as SyncOutcome.Synced).packs, Lang.EN))
        assertEquals(2L, training(core).version)
        assertEquals(emptyList<Any>(), core.training().missingImages())
    }

    @Test
    fun `a server offering the packs the phone already has brings no news`() = runBlocking {
        publish("stations", Fixtures.stationPack)
        publish("training", Fixtures.trainingPack)
        val core = Fixtures.coreWithPacks(tmp.resolve("phone")).also { opened += it }
        val installed = core.packs().installed()
        val gateway = gateway(core) { SyncAccount(url, token) }
        val outcome = gateway.syncNow()
        assertEquals(SyncOutcome.Synced(gateway.status(), PackUpdate()), outcome)
        assertEquals(installed, core.packs().installed(), "nothing was installed again")
    }

    @Test
    fun `a pack the phone refuses stops background retries, keeps the installed pack, and the reports still go`() = runBlocking {
        // Version 2, signed with a key the server was told to trust and the phone does not.
        val (key, public) = Fixtures.publisherKey(tmp.resolve("keys"), "not-the-city")
        val pack = Fixtures.trainingPackWithImage(tmp.resolve("pack"), altZh = "封签", altEn = "A seal", version = 2, key = key)
        val jpeg = tmp.resolve("seal.jpg")
        Files.write(jpeg, Fixtures.JPEG)
        publish("training", pack, "--image", jpeg.toString(), "--trust-key", public.toString())

        val core = Fixtures.coreWithPacks(tmp.resolve("phone")).also { opened += it }
        val gateway = gateway(core) { SyncAccount(url, token) }
        val id = Fixtures.submitWithPhoto(core)
        val outcome = gateway.syncNow()
        assertInstanceOf(SyncOutcome.Failed::class.java, outcome, "$outcome")
        outcome as SyncOutcome.Failed
        assertFalse(outcome.retryable, "the same pack would be refused again")
        assertTrue(outcome.reason.startsWith("the reports were sent, but fetching the packs failed: "), outcome.reason)
        assertTrue(outcome.reason.contains("the server's pack was refused"), outcome.reason)
        assertTrue(outcome.reason.contains("not-the-city"), "the reason names the untrusted key: ${outcome.reason}")

        assertTrue(core.reports().get(id).outbox is OutboxState.Sent, "the reports synced before the packs")
        assertEquals(0, gateway.status().pending)
        assertEquals(1L, training(core).version, "the installed pack stays")
        assertEquals(emptyList<LessonPicture>(), TrainingViewModel(core, Fixtures.RIDER, Lang.EN).lesson(Fixtures.SEALS_LESSON).images)
        val coordinator = SyncCoordinator(gateway, {}) { SyncPreferences() }
        assertEquals(WorkerDecision.FAILURE, coordinator.runInBackground(runAttemptCount = 0))
    }

    @Test
    fun `an account needs an http URL and a token`() {
        assertThrows<IllegalArgumentException> { SyncAccount("sync.example.org", "t") }
        assertThrows<IllegalArgumentException> { SyncAccount("https://sync.example.org", " ") }
        assertEquals("https://sync.example.org", SyncAccount("https://sync.example.org/", "t").toOptions().server)
    }
}
