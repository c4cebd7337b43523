package org.waystation

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import uniffi.waystation_ffi.CaseEventKind
import uniffi.waystation_ffi.CaseRole
import uniffi.waystation_ffi.CaseStatus
import uniffi.waystation_ffi.OutboxState
import uniffi.waystation_ffi.ReportPatch
import uniffi.waystation_ffi.SyncConfig
import uniffi.waystation_ffi.SyncObserver
import uniffi.waystation_ffi.SyncStatus
import uniffi.waystation_ffi.Waystation
import uniffi.waystation_ffi.WaystationException

/**
 * Sync through the Kotlin bindings against a real `waystation-server` process on loopback:
 * `syncNow` is a suspend function, `SyncObserver` a Kotlin class the core calls back.
 * The server binary sits next to the native library (`cargo build -p waystation-server`).
 */
class SyncTest {
    companion object {
        const val YANTA = "610113"
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
        Waystation(tmp.resolve(name).toString(), ReportsTest.demoConfig()).also { opened += it }

    private fun config(token: String) =
        SyncConfig(server = url, token = token, timeoutMs = 10_000u, attempts = 2u, extraRootPem = null)

    private fun Waystation.reportWithPhoto(): String {
        val id = createReportDraft(ReportsTest.RIDER, "food.seal")
        updateReportDraft(id, ReportPatch(merchantName = "老孙家泡馍", description = "封签被撕开", district = YANTA))
        setReportPosition(id, ReportsTest.fix(34.2225, 108.948))
        attachReportPhoto(id, ReportsTest.JPEG, ReportsTest.RULES)
        submitReport(ReportsTest.RIDER, id, ReportsTest.RULES)
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
        assertEquals(1uL, rider.syncStatus().pendingDocuments)
        assertEquals(1uL, rider.syncStatus().pendingPhotos)
        val recorder = Recorder()
        rider.setSyncObserver(recorder)

        val sent = rider.syncNow(config(riderToken))
        assertEquals(1u, sent.documentsSent)
        assertEquals(1u, sent.photosUploaded)
        assertTrue(rider.report(id).outbox is OutboxState.Sent)
        assertTrue(recorder.seen.first().inProgress)
        assertFalse(recorder.seen.last().inProgress)
        assertNotNull(recorder.seen.last().lastSuccess)

        val staff = open("staff")
        assertEquals(1u, staff.syncNow(config(staffToken)).documentsReceived)
        staff.recordCaseEvent(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Acknowledge, "收到")
        staff.syncNow(config(staffToken))
        rider.syncNow(config(riderToken))
        assertEquals(CaseStatus.ACKNOWLEDGED, rider.reportCase(id).status)

        val sha = rider.report(id).photos.single().sha256
        val path = staff.fetchReportPhoto(config(staffToken), sha)
        assertArrayEquals(Files.readAllBytes(Paths.get(rider.reportPhotoPath(sha))), Files.readAllBytes(Paths.get(path)))

        val noop = rider.syncNow(config(riderToken))
        assertEquals(1u, noop.requests)
        assertTrue(noop.bytesSent < 200uL && noop.bytesReceived < 200uL, "$noop")
    }

    @Test
    fun `a refused token is an Unauthorized exception and nothing is lost`() = runBlocking {
        val rider = open("rider")
        rider.reportWithPhoto()
        assertThrows<WaystationException.Unauthorized> {
            runBlocking { rider.syncNow(config("wst_not-a-token")) }
        }
        val status = rider.syncStatus()
        assertEquals(1uL, status.pendingDocuments)
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
        val sha = java.security.MessageDigest.getInstance("SHA-256").digest(ReportsTest.JPEG)
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
        Files.write(jpeg, ReportsTest.JPEG)
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
        assertEquals(null, phone.trainingImagePath(sha))
        val fetched = phone.fetchPacks(config(riderToken))
        assertNotNull(fetched.training)
        assertEquals(1u, fetched.trainingImagesFetched)
        assertEquals(0, fetched.trainingImageProblems.size)
        assertEquals(listOf(sha), phone.trainingLesson(seals).images.map { it.sha256 })
        assertArrayEquals(ReportsTest.JPEG, Files.readAllBytes(Paths.get(phone.trainingImagePath(sha)!!)))
        assertTrue(phone.missingTrainingImages().isEmpty())
        assertEquals(0u, phone.fetchPacks(config(riderToken)).trainingImagesFetched)
        assertThrows<WaystationException.InvalidInput> { phone.trainingImagePath("../secret") }
        Unit
    }
}
