package org.waystation

import java.io.ByteArrayOutputStream
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.time.Instant
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.waystation.core.*

/**
 * Hazard reports through the Kotlin bindings: drafts, evidence, photos, submission, cases,
 * Open311 export, merging case documents between devices and nearby duplicates. Every test
 * opens its own data directories (phones); reports need no pack, only a district, which the
 * tests set (with a station pack installed it comes from the nearest station).
 */
class ReportsTest {
    companion object {
        const val RIDER = "rider-7"
        const val UNKNOWN_ID = "0190b0a0-0000-7000-8000-000000000000"
        const val BEILIN = "610103"
        val RULES: ReportRules = defaultReportRules()

        private fun segment(marker: Int, body: ByteArray): ByteArray {
            val out = ByteArrayOutputStream()
            val len = body.size + 2
            out.write(0xFF); out.write(marker); out.write(len shr 8); out.write(len and 0xFF)
            out.write(body)
            return out.toByteArray()
        }

        private fun bytes(vararg b: Int) = ByteArray(b.size) { b[it].toByte() }

        /** The EXIF (APP1) body put in the photo; it must not survive storing. */
        val EXIF: ByteArray = "Exif\u0000\u0000MM".toByteArray(Charsets.ISO_8859_1) +
            bytes(0, 0x2a, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0)

        /** A valid 1×1 grey baseline JPEG with an EXIF segment and a comment. */
        val JPEG: ByteArray by lazy {
            val out = ByteArrayOutputStream()
            out.write(bytes(0xFF, 0xD8))
            out.write(segment(0xE0, "JFIF\u0000".toByteArray(Charsets.ISO_8859_1) + bytes(1, 1, 0, 0, 1, 0, 1, 0, 0)))
            out.write(segment(0xE1, EXIF))
            out.write(segment(0xFE, "secret comment".toByteArray()))
            out.write(segment(0xDB, ByteArray(1) + ByteArray(64) { 1 }))
            out.write(segment(0xC0, bytes(8, 0, 1, 0, 1, 1, 1, 0x11, 0)))
            out.write(segment(0xC4, bytes(0x00, 1) + ByteArray(16)))
            out.write(segment(0xC4, bytes(0x10, 1) + ByteArray(16)))
            out.write(segment(0xDA, bytes(1, 1, 0, 0, 0x3F, 0)))
            out.write(bytes(0x3F, 0xFF, 0xD9))
            out.toByteArray()
        }

        fun demoOptions() = Options(trustedKeys = listOf(demoPublisherKey()))

        /** When the fixes were taken: a fixed time, not the clock. */
        val FIX_TIME: Instant = Instant.parse("2026-12-01T02:30:00Z")

        fun fix(lat: Double, lon: Double, datum: Datum = Datum.WGS84, accuracy: Double? = 10.0) =
            PositionFix(lat = lat, lon = lon, datum = datum, accuracyM = accuracy, fixTime = FIX_TIME, mock = false)

        fun ByteArray.contains(needle: ByteArray): Boolean =
            (0..size - needle.size).any { i -> needle.indices.all { this[i + it] == needle[it] } }
    }

    @TempDir
    lateinit var tmp: Path

    private val opened = mutableListOf<Waystation>()

    @AfterEach
    fun closeAll() {
        opened.forEach { it.close() }
    }

    private fun open(name: String = "phone"): Waystation =
        Waystation(tmp.resolve(name).toString(), demoOptions()).also { opened += it }

    /** A complete food-seal report, submitted. */
    private fun Waystation.submitted(lat: Double = 34.25, lon: Double = 108.95): String {
        val reports = reports()
        val id = reports.createDraft(RIDER, "food.seal")
        reports.updateDraft(id, ReportPatch(merchantName = "Lao Wang", district = BEILIN))
        reports.setPosition(id, fix(lat, lon))
        reports.submit(RIDER, id, RULES)
        return id
    }

    @Test
    fun `a draft is created, updated and positioned from GCJ-02`() {
        assertTrue(reportCategories().any { it.code == "food.seal" && it.needsMerchant })
        assertEquals(ReportRules(), RULES)
        val ws = open()
        val id = ws.reports().createDraft(RIDER, "food.seal")
        assertEquals(ReportStatus.DRAFT, ws.reports().get(id).status)
        val r = ws.reports().updateDraft(id, ReportPatch(description = "seal torn", merchantName = "Lao Wang"))
        assertEquals("seal torn", r.description)
        assertEquals("Lao Wang", r.merchantName)
        val p = ws.reports().setPosition(id, fix(34.2, 108.9, Datum.GCJ02)).position!!
        assertEquals(Datum.GCJ02, p.datum)
        assertEquals(34.2, p.sourceLat)
        assertTrue(Math.abs(p.lat - 34.2) > 1e-4, "stored in WGS-84, not GCJ-02")
        assertEquals(listOf(id), ws.reports().drafts(RIDER).map { it.id })
        // No station pack: the district must be chosen before submitting.
        assertEquals(listOf("district"), ws.reports().check(id, RULES).problems.map { it.field })
        assertEquals(BEILIN, ws.reports().updateDraft(id, ReportPatch(district = BEILIN)).district)
        assertTrue(ws.reports().check(id, RULES).problems.isEmpty())
    }

    @Test
    fun `a district is checked, or taken from the nearest red station`() {
        val districts = xianDistricts()
        assertEquals(13, districts.size)
        assertEquals("雁塔区", districts.single { it.code == "610113" }.nameZh)
        assertEquals(listOf("610122", "610124"), districts.filter { it.isCounty }.map { it.code })

        val ws = open()
        runBlocking { ws.packs().importStations(WaystationTest.packBytes) }
        val id = ws.reports().createDraft(RIDER, "road.hazard")
        val before = ws.reports().updateDraft(id, ReportPatch(district = "610113"))
        val bad = assertThrows<WaystationException.InvalidInput> {
            ws.reports().updateDraft(id, ReportPatch(district = "610199", description = "changed"))
        }
        assertTrue(bad.reason.contains("district '610199' is not"), bad.reason)
        assertEquals(before, ws.reports().get(id))
        assertNull(ws.reports().updateDraft(id, ReportPatch(district = "")).district)

        ws.reports().setPosition(id, fix(34.25953, 108.94235))
        assertTrue(ws.reports().check(id, RULES).problems.isEmpty())
        val nearest = ws.stations().nearest(
            NearestQuery(position = Position(34.25953, 108.94235, Datum.WGS84), limit = 1),
        ).single().station
        val sent = ws.reports().submit(RIDER, id, RULES)
        assertEquals(nearest.district, sent.district)
        assertEquals(nearest.district, ws.reports().summaries(RIDER, ReportStatus.SUBMITTED).single().district)
    }

    @Test
    fun `a photo is stored without its EXIF segment`(): Unit = runBlocking {
        val ws = open()
        val id = ws.reports().createDraft(RIDER, "road.hazard")
        assertTrue(JPEG.contains(EXIF))
        val photo = ws.reports().attachPhoto(id, JPEG, RULES)
        assertEquals("image/jpeg", photo.mediaType)
        assertEquals(1, photo.width)
        val stored = Files.readAllBytes(Paths.get(ws.reports().photoPath(photo.sha256)))
        assertArrayEquals(bytes(0xFF, 0xD8), stored.copyOfRange(0, 2))
        assertFalse(stored.contains("Exif".toByteArray()))
        assertFalse(stored.contains("secret".toByteArray()))
        assertEquals(photo, ws.reports().attachPhoto(id, JPEG, RULES))
        assertEquals(1, ws.reports().get(id).photos.size)
        val e = assertThrows<WaystationException.InvalidInput> {
            ws.reports().attachPhoto(id, "not a picture".toByteArray(), RULES)
        }
        assertTrue(e.reason.contains("not a JPEG, PNG or WebP"), e.reason)
        assertThrows<WaystationException.InvalidInput> { ws.reports().attachPhoto(id, JPEG.copyOf(JPEG.size - 2), RULES) }
        assertThrows<WaystationException.InvalidInput> {
            ws.reports().attachPhoto(id, JPEG, ReportRules(maxPhotoBytes = 100L))
        }
        assertEquals(1, ws.reports().get(id).photos.size)
    }

    @Test
    fun `bad input is refused and the draft kept`() {
        val ws = open()
        assertThrows<WaystationException.InvalidInput> { ws.reports().createDraft(RIDER, "food.nope") }
        val id = ws.reports().createDraft(RIDER, "food.seal")
        ws.reports().updateDraft(id, ReportPatch(description = "kept"))
        val long = assertThrows<WaystationException.InvalidInput> {
            ws.reports().updateDraft(id, ReportPatch(description = "x".repeat(4001)))
        }
        assertTrue(long.reason.contains("4000"), long.reason)
        assertThrows<WaystationException.InvalidInput> { ws.reports().setPosition(id, fix(91.0, 108.9)) }
        assertThrows<WaystationException.InvalidInput> { ws.reports().setPosition(id, fix(0.0, 0.0)) }
        assertThrows<WaystationException.NotFound> { ws.reports().get(UNKNOWN_ID) }
        val problems = ws.reports().check(id, RULES).problems.map { it.field }.sorted()
        assertEquals(listOf("district", "merchant_name", "position"), problems)
        val e = assertThrows<WaystationException.InvalidInput> { ws.reports().submit(RIDER, id, RULES) }
        assertTrue(e.reason.contains("position:") && e.reason.contains("merchant_name:"), e.reason)
        assertTrue(e.reason.contains("district:"), e.reason)
        val r = ws.reports().get(id)
        assertEquals("kept", r.description)
        assertNull(r.position)
        assertEquals(ReportStatus.DRAFT, r.status)
    }

    @Test
    fun `submit once, outbox state, withdraw`(): Unit = runBlocking {
        val ws = open()
        val id = ws.submitted()
        assertEquals(OutboxState.Pending, ws.reports().get(id).outbox)
        val twice = assertThrows<WaystationException.InvalidInput> { ws.reports().submit(RIDER, id, RULES) }
        assertTrue(twice.reason.contains("already submitted"), twice.reason)
        val at = Instant.parse("2026-11-29T01:00:00Z")
        ws.reports().recordDelivery(id, OutboxState.Refused(reason = "bad photo", at = at))
        assertEquals(OutboxState.Refused(reason = "bad photo", at = at), ws.reports().get(id).outbox)
        val r = ws.reports().withdraw(RIDER, id, "fixed already")
        assertEquals(ReportStatus.WITHDRAWN, r.status)
        assertEquals(Open311Status.CLOSED, ws.reports().exportOpen311(id).status)
    }

    @Test
    fun `case events follow the role rules and give the Open311 status`(): Unit = runBlocking {
        val ws = open()
        val id = ws.submitted()
        assertEquals(CaseStatus.OPEN, ws.cases().get(id).status)
        // Not dispatched yet: the agency responsible is the report's district.
        assertEquals(BEILIN, ws.reports().exportOpen311(id).agencyResponsible)
        val ack = ws.cases().record(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Acknowledge, "on it")
        assertEquals(CaseStatus.ACKNOWLEDGED, ack.status)
        assertEquals(CaseRole.STATION_STAFF, ack.timeline[0].event.role)
        val wrong = assertThrows<WaystationException.InvalidInput> {
            ws.cases().record(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Resolve, "")
        }
        assertTrue(wrong.reason.contains("may not resolve"), wrong.reason)
        assertThrows<WaystationException.InvalidInput> {
            ws.cases().record(id, RIDER, CaseRole.RIDER, CaseEventKind.Note, "")
        }
        assertThrows<WaystationException.NotFound> {
            ws.cases().record(UNKNOWN_ID, "sup", CaseRole.SUPERVISOR, CaseEventKind.Note, "")
        }
        val dispatched = ws.cases().record(id, "sup", CaseRole.SUPERVISOR, CaseEventKind.Dispatch(gridId = "yanta-07"), "")
        assertEquals(CaseStatus.IN_PROGRESS, dispatched.status)
        assertEquals("yanta-07", ws.reports().exportOpen311(id).agencyResponsible)
        val resolved = ws.cases().record(id, "grid-1", CaseRole.GRID_WORKER, CaseEventKind.Resolve, "fixed")
        assertEquals(CaseStatus.RESOLVED, resolved.status)
        assertEquals(Open311Status.CLOSED, resolved.open311Status)
        val o = ws.reports().exportOpen311(id)
        assertEquals("food.seal", o.serviceCode)
        assertEquals(Open311Status.CLOSED, o.status)
        assertEquals(108.95, o.long)
        assertTrue(ws.reports().exportGeojson(listOf(id)).contains("FeatureCollection"))
    }

    @Test
    fun `two devices merge case documents to the same timeline`() {
        val a = open("a")
        val id = a.submitted()
        a.cases().record(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Acknowledge, "")
        a.close()
        opened.remove(a)
        // The second follow-up device holds the same report, as sync would leave it.
        tmp.resolve("a").toFile().copyRecursively(tmp.resolve("b").toFile())
        val a2 = open("a")
        val b = open("b")
        a2.cases().record(id, "grid-1", CaseRole.GRID_WORKER, CaseEventKind.Resolve, "")
        b.cases().record(id, "sup-1", CaseRole.SUPERVISOR, CaseEventKind.Reject(reason = "not food"), "")
        val onB = b.cases().mergeFrom(id, a2.cases().documentBytes(id))
        val onA = a2.cases().mergeFrom(id, b.cases().documentBytes(id))
        assertEquals(onA, onB)
        assertEquals(3, onA.timeline.size)
        assertEquals(listOf(true, true, false), onA.timeline.map { it.applied })
        assertNotNull(onA.timeline[2].notAppliedBecause)
        assertThrows<WaystationException.InvalidInput> { a2.cases().mergeFrom(id, "junk".toByteArray()) }
    }

    @Test
    fun `nearby duplicates are nearest first`() {
        val ws = open()
        val first = ws.submitted(34.25, 108.95)
        val far = ws.submitted(34.26, 108.95)
        val near = ws.submitted(34.2501, 108.95)
        assertEquals(listOf(near), ws.reports().nearbyDuplicates(first, DuplicateRules()).map { it.report.id })
        assertEquals(listOf(near, far), ws.reports().nearbyDuplicates(first, DuplicateRules(radiusM = 5000.0)).map { it.report.id })
        assertThrows<WaystationException.InvalidInput> { ws.reports().nearbyDuplicates(first, DuplicateRules(radiusM = -1.0)) }
        val dup = ws.cases().record(near, "sup", CaseRole.SUPERVISOR, CaseEventKind.MarkDuplicate(of = first), "")
        assertEquals(CaseStatus.DUPLICATE, dup.status)
        assertEquals(first, dup.duplicateOf)
        // A bad id in `of` is the core's InvalidInput naming the field, not a lift failure.
        val bad = assertThrows<WaystationException.InvalidInput> {
            ws.cases().record(far, "sup", CaseRole.SUPERVISOR, CaseEventKind.MarkDuplicate(of = "not-a-report"), "")
        }
        assertTrue("mark_duplicate 'of'" in bad.reason, bad.reason)
        assertEquals(CaseStatus.OPEN, ws.cases().get(far).status)
    }

    @Test
    fun `photo attach and the exports are suspend calls that run concurrently from coroutines`(): Unit = runBlocking {
        val ws = open()
        val reports = ws.reports()
        val drafts = (1..4).map { reports.createDraft(RIDER, "road.hazard") }
        // Four attaches at once on a multi-threaded dispatcher: each draft gets its photo, and the
        // one stored file is shared (photos are stored once per SHA-256).
        val photos = drafts.map { id -> async(Dispatchers.Default) { reports.attachPhoto(id, JPEG, RULES) } }.awaitAll()
        assertEquals(1, photos.toSet().size)
        drafts.forEach { assertEquals(photos[0].sha256, reports.get(it).photos.single().sha256) }
        assertTrue(Files.isRegularFile(Paths.get(reports.photoPath(photos[0].sha256))))

        val ids = (1..3).map { ws.submitted(34.25 + it * 0.001, 108.95) }
        val open311 = ids.map { id -> async(Dispatchers.Default) { reports.exportOpen311(id) } }.awaitAll()
        assertEquals(ids, open311.map { it.serviceRequestId })
        assertTrue(open311.all { it.status == Open311Status.OPEN })
        val (some, byAuthor) = listOf(
            async(Dispatchers.Default) { reports.exportGeojson(ids.take(2)) },
            async(Dispatchers.Default) { reports.exportGeojsonBy(RIDER) },
        ).awaitAll()
        assertEquals(2, Regex("\"Feature\"").findAll(some).count(), some)
        // Every submitted report of the rider; drafts are not exported.
        assertEquals(3, Regex("\"Feature\"").findAll(byAuthor).count(), byAuthor)
        assertThrows<WaystationException.NotFound> { reports.exportOpen311(UNKNOWN_ID) }
    }

    @Test
    fun `a photo is removed, a draft deleted, and the author's reports listed`(): Unit = runBlocking {
        val ws = open()
        val reports = ws.reports()
        val id = reports.createDraft(RIDER, "road.hazard")
        val photo = reports.attachPhoto(id, JPEG, RULES)
        assertTrue(reports.removePhoto(id, photo.sha256).photos.isEmpty())
        val sent = ws.submitted()
        assertEquals(setOf(id, sent), reports.byAuthor(RIDER).map { it.id }.toSet())
        assertEquals(listOf(sent), reports.summaries(RIDER, ReportStatus.SUBMITTED).map { it.id })
        assertEquals(setOf(id, sent), reports.summaries(RIDER).map { it.id }.toSet(), "no status: every report")
        reports.deleteDraft(RIDER, id)
        assertThrows<WaystationException.NotFound> { reports.get(id) }
        assertEquals(listOf(sent), reports.byAuthor(RIDER).map { it.id })
        // Only drafts are deleted, and only by their author.
        assertThrows<WaystationException.InvalidInput> { reports.deleteDraft(RIDER, sent) }
        assertTrue(reports.byAuthor("someone-else").isEmpty())
    }

    @Test
    fun `the case inbox filters by district and status, withdrawn reports only when asked`() {
        val ws = open()
        val cases = ws.cases()
        val beilin = ws.submitted()
        val yanta = ws.reports().createDraft(RIDER, "road.hazard").also { id ->
            ws.reports().updateDraft(id, ReportPatch(description = "pothole", district = "610113"))
            ws.reports().setPosition(id, fix(34.22, 108.95))
            ws.reports().submit(RIDER, id, RULES)
        }
        val withdrawn = ws.submitted(34.251, 108.95)
        ws.reports().withdraw(RIDER, withdrawn, "fixed already")
        assertEquals(setOf(beilin, yanta), cases.list(CaseQuery()).map { it.report.id }.toSet())
        assertEquals(listOf(yanta), cases.list(CaseQuery(districts = listOf("610113"))).map { it.report.id })
        cases.record(beilin, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Acknowledge)
        val acknowledged = cases.list(CaseQuery(statuses = listOf(CaseStatus.ACKNOWLEDGED)))
        assertEquals(listOf(beilin), acknowledged.map { it.report.id })
        assertEquals(CaseStatus.ACKNOWLEDGED, acknowledged.single().status)
        assertEquals(
            setOf(beilin, yanta, withdrawn),
            cases.list(CaseQuery(includeWithdrawn = true)).map { it.report.id }.toSet(),
        )
        assertThrows<WaystationException.InvalidInput> { cases.get(ws.reports().createDraft(RIDER, "other")) }
    }
}
