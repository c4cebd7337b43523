package org.waystation.demo

import java.net.ServerSocket
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
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
import uniffi.waystation_ffi.OutboxState
import uniffi.waystation_ffi.Waystation

/**
 * The sync screen, the coordinator and the background worker's decisions on the core's real
 * sync, against a real `waystation-server` process on loopback (built next to the native
 * library by `cargo build -p waystation-server`, as scripts/test-bindings.sh does); the lesson
 * image test also signs a training pack with the `waystation` CLI built beside it.
 */
class CoreSyncGatewayTest {
    @TempDir
    lateinit var tmp: Path
    private lateinit var server: Process
    private lateinit var url: String
    private lateinit var token: String
    private val opened = mutableListOf<AutoCloseable>()

    private val serverBin: String = Paths.get(System.getProperty("jna.library.path"), "waystation-server").toString()

    @BeforeEach
    fun startServer() {
        val db = tmp.resolve("server.db")
        val add = ProcessBuilder(serverBin, "user", "add", "--db", db.toString(), "--name", Fixtures.RIDER, "--role", "rider")
            .redirectError(ProcessBuilder.Redirect.DISCARD).start()
        val out = add.inputStream.bufferedReader().readText()
        assertEquals(0, add.waitFor(), "user add failed")
        token = out.trim().lines().last()
        server = ProcessBuilder(serverBin, "serve", "--db", db.toString(), "--listen", "127.0.0.1:0")
            .redirectError(ProcessBuilder.Redirect.DISCARD).start()
        val line = server.inputStream.bufferedReader().readLine()
        assertTrue(line.startsWith("listening on "), line)
        url = line.substringAfterLast(' ')
    }

    @AfterEach
    fun stop() {
        opened.reversed().forEach { it.close() }
        server.destroy()
        server.waitFor(10, TimeUnit.SECONDS)
    }

    private fun core(): Waystation = Fixtures.coreWithStations(tmp.resolve("phone")).also { opened += it }

    private fun gateway(core: Waystation, account: () -> SyncAccount?) = CoreSyncGateway(core, account).also { opened += it }

    private fun submit(core: Waystation): String {
        val form = ReportForm(core, Fixtures.RIDER, Lang.EN)
        val id = form.start("other").id
        form.edit(ReportField.DESCRIPTION, "井盖缺失")
        form.setLocation(Fixtures.gpsFix(34.2230, 108.9530))
        form.attachPhoto(Fixtures.JPEG)
        assertInstanceOf(SubmitResult.Submitted::class.java, form.submit())
        return id
    }

    @Test
    fun `a submitted report is sent by the real sync, and the screen and observers follow`() = runBlocking {
        val core = core()
        val gateway = gateway(core) { SyncAccount(url, token) }
        assertNull(gateway.unavailableReason())
        val id = submit(core)
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
        assertTrue(core.report(id).outbox is OutboxState.Sent)
        val after = gateway.status()
        assertEquals(0, after.pending)
        assertNotNull(after.lastSuccess)
        assertTrue(seen.any { it.inProgress }, "the core told the observer the sync started")
        assertFalse(seen.last().inProgress)
        assertEquals(listOf(SyncPolicy.UPLOAD_WORK), scheduler.last().cancel, "nothing left to upload")
        assertEquals("Nothing waiting to be sent", presentSync(after, null, java.time.Instant.now(), Lang.EN).headline)

        handle.close()
        val count = seen.size
        assertInstanceOf(SyncOutcome.Synced::class.java, gateway.syncNow())
        assertEquals(count, seen.size, "a closed observer hears nothing")
    }

    @Test
    fun `a refused token stops background retries, and nothing is lost`() = runBlocking {
        val core = core()
        val gateway = gateway(core) { SyncAccount(url, "wst_not-a-token") }
        val id = submit(core)
        val coordinator = SyncCoordinator(gateway, {}) { SyncPreferences() }
        assertEquals(WorkerDecision.FAILURE, coordinator.runInBackground(runAttemptCount = 0))
        assertEquals(OutboxState.Pending, core.report(id).outbox)
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
        submit(core)
        val coordinator = SyncCoordinator(gateway, {}) { SyncPreferences() }
        assertEquals(WorkerDecision.RETRY, coordinator.runInBackground(runAttemptCount = 0))
        assertEquals(1, gateway.status().pendingDocuments)
    }

    @Test
    fun `without an account there is nothing to schedule, and the screen says why`() = runBlocking {
        val core = core()
        val gateway = gateway(core) { null }
        submit(core)
        assertEquals("no sync server is set up", gateway.unavailableReason())
        assertInstanceOf(SyncOutcome.Unavailable::class.java, gateway.syncNow())
        val plans = mutableListOf<SyncPlan>()
        SyncCoordinator(gateway, { plans += it }) { SyncPreferences() }.onAppStart()
        assertTrue(plans.single().enqueue.isEmpty())
        assertFalse(presentSync(gateway.status(), gateway.unavailableReason(), java.time.Instant.now(), Lang.EN).canSyncNow)
    }

    @Test
    fun `a lesson image fetched from the server is shown from its file`() = runBlocking {
        // A training pack with an image on the seals lesson, published with the image.
        val pack = Fixtures.trainingPackWithImage(tmp.resolve("pack"), altZh = "完好的封签", altEn = "An intact seal")
        val jpeg = tmp.resolve("seal.jpg")
        Files.write(jpeg, Fixtures.JPEG)
        val publish = ProcessBuilder(
            serverBin, "pack", "publish", "--db", tmp.resolve("server.db").toString(),
            "--kind", "training", pack.toString(), "--image", jpeg.toString(),
        ).redirectErrorStream(true).start()
        val out = publish.inputStream.bufferedReader().readText()
        assertEquals(0, publish.waitFor(), "pack publish failed: $out")

        val core = core()
        val fetched = core.fetchPacks(SyncAccount(url, token).toConfig())
        assertNotNull(fetched.training)
        assertEquals(1u, fetched.trainingImagesFetched)
        assertEquals(0u, fetched.trainingImagesMissing)
        assertEquals(emptyList<String>(), fetched.trainingImageProblems)
        val image = TrainingViewModel(core, Fixtures.RIDER, Lang.EN).lesson(Fixtures.SEALS_LESSON).images.single()
        assertEquals("An intact seal", image.alt)
        assertNotNull(image.path)
        assertTrue(Fixtures.JPEG.contentEquals(Files.readAllBytes(Paths.get(image.path!!))), "the file is the published image")
    }

    @Test
    fun `an account needs an http URL and a token`() {
        assertThrows<IllegalArgumentException> { SyncAccount("sync.example.org", "t") }
        assertThrows<IllegalArgumentException> { SyncAccount("https://sync.example.org", " ") }
        assertEquals("https://sync.example.org", SyncAccount("https://sync.example.org/", "t").toConfig().server)
    }
}
