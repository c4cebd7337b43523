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

        fun demoConfig() = WaystationConfig(trustedKeys = listOf(demoPublisherKey()))

        fun fix(lat: Double, lon: Double, datum: Datum = Datum.WGS84, accuracy: Double? = 10.0) =
            LocationFix(lat = lat, lon = lon, datum = datum, accuracyM = accuracy, fixTime = Instant.now(), mock = false)

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
        Waystation(tmp.resolve(name).toString(), demoConfig()).also { opened += it }

    /** A complete food-seal report, submitted. */
    private fun Waystation.submitted(lat: Double = 34.25, lon: Double = 108.95): String {
        val id = createReportDraft(RIDER, "food.seal")
        updateReportDraft(id, ReportPatch(merchantName = "Lao Wang", district = BEILIN))
        setReportPosition(id, fix(lat, lon))
        submitReport(RIDER, id, RULES)
        return id
    }

    @Test
    fun `a draft is created, updated and positioned from GCJ-02`() {
        assertTrue(reportCategories().any { it.code == "food.seal" && it.needsMerchant })
        assertEquals(ReportRules(), RULES)
        val ws = open()
        val id = ws.createReportDraft(RIDER, "food.seal")
        assertEquals(ReportStatus.DRAFT, ws.report(id).status)
        val r = ws.updateReportDraft(id, ReportPatch(description = "seal torn", merchantName = "Lao Wang"))
        assertEquals("seal torn", r.description)
        assertEquals("Lao Wang", r.merchantName)
        val p = ws.setReportPosition(id, fix(34.2, 108.9, Datum.GCJ02)).position!!
        assertEquals(Datum.GCJ02, p.datum)
        assertEquals(34.2, p.sourceLat)
        assertTrue(Math.abs(p.lat - 34.2) > 1e-4, "stored in WGS-84, not GCJ-02")
        assertEquals(listOf(id), ws.listReportDrafts(RIDER).map { it.id })
        // No station pack: the district must be chosen before submitting.
        assertEquals(listOf("district"), ws.checkReport(id, RULES).problems.map { it.field })
        assertEquals(BEILIN, ws.updateReportDraft(id, ReportPatch(district = BEILIN)).district)
        assertTrue(ws.checkReport(id, RULES).canSubmit)
    }

    @Test
    fun `a district is checked, or taken from the nearest red station`() {
        val districts = xianDistricts()
        assertEquals(13, districts.size)
        assertEquals("雁塔区", districts.single { it.code == "610113" }.nameZh)
        assertEquals(listOf("610122", "610124"), districts.filter { it.isCounty }.map { it.code })

        val ws = open()
        ws.importStationPack(WaystationTest.packBytes)
        val id = ws.createReportDraft(RIDER, "road.hazard")
        val before = ws.updateReportDraft(id, ReportPatch(district = "610113"))
        val bad = assertThrows<WaystationException.InvalidInput> {
            ws.updateReportDraft(id, ReportPatch(district = "610199", description = "changed"))
        }
        assertTrue(bad.reason.contains("district '610199' is not"), bad.reason)
        assertEquals(before, ws.report(id))
        assertNull(ws.updateReportDraft(id, ReportPatch(district = "")).district)

        ws.setReportPosition(id, fix(34.25953, 108.94235))
        assertTrue(ws.checkReport(id, RULES).canSubmit)
        val nearest = ws.nearestStations(
            NearestQuery(
                position = Coordinate(34.25953, 108.94235, Datum.WGS84),
                limit = 1u,
                filter = StationFilter(services = emptyList(), openOnly = false, maxDistanceM = null),
            ),
        ).single().station
        val sent = ws.submitReport(RIDER, id, RULES)
        assertEquals(nearest.district, sent.district)
        assertEquals(nearest.district, ws.reportSummaries(RIDER, ReportStatus.SUBMITTED).single().district)
    }

    @Test
    fun `a photo is stored without its EXIF segment`() {
        val ws = open()
        val id = ws.createReportDraft(RIDER, "road.hazard")
        assertTrue(JPEG.contains(EXIF))
        val photo = ws.attachReportPhoto(id, JPEG, RULES)
        assertEquals("image/jpeg", photo.mediaType)
        assertEquals(1u, photo.width)
        val stored = Files.readAllBytes(Paths.get(ws.reportPhotoPath(photo.sha256)))
        assertArrayEquals(bytes(0xFF, 0xD8), stored.copyOfRange(0, 2))
        assertFalse(stored.contains("Exif".toByteArray()))
        assertFalse(stored.contains("secret".toByteArray()))
        assertEquals(photo, ws.attachReportPhoto(id, JPEG, RULES))
        assertEquals(1, ws.report(id).photos.size)
        val e = assertThrows<WaystationException.InvalidInput> {
            ws.attachReportPhoto(id, "not a picture".toByteArray(), RULES)
        }
        assertTrue(e.reason.contains("not a JPEG, PNG or WebP"), e.reason)
        assertThrows<WaystationException.InvalidInput> { ws.attachReportPhoto(id, JPEG.copyOf(JPEG.size - 2), RULES) }
        assertThrows<WaystationException.InvalidInput> {
            ws.attachReportPhoto(id, JPEG, ReportRules(maxPhotoBytes = 100UL))
        }
        assertEquals(1, ws.report(id).photos.size)
    }

    @Test
    fun `bad input is refused and the draft kept`() {
        val ws = open()
        assertThrows<WaystationException.InvalidInput> { ws.createReportDraft(RIDER, "food.nope") }
        val id = ws.createReportDraft(RIDER, "food.seal")
        ws.updateReportDraft(id, ReportPatch(description = "kept"))
        val long = assertThrows<WaystationException.InvalidInput> {
            ws.updateReportDraft(id, ReportPatch(description = "x".repeat(4001)))
        }
        assertTrue(long.reason.contains("4000"), long.reason)
        assertThrows<WaystationException.InvalidInput> { ws.setReportPosition(id, fix(91.0, 108.9)) }
        assertThrows<WaystationException.InvalidInput> { ws.setReportPosition(id, fix(0.0, 0.0)) }
        assertThrows<WaystationException.NotFound> { ws.report(UNKNOWN_ID) }
        val problems = ws.checkReport(id, RULES).problems.map { it.field }.sorted()
        assertEquals(listOf("district", "merchant_name", "position"), problems)
        val e = assertThrows<WaystationException.InvalidInput> { ws.submitReport(RIDER, id, RULES) }
        assertTrue(e.reason.contains("position:") && e.reason.contains("merchant_name:"), e.reason)
        assertTrue(e.reason.contains("district:"), e.reason)
        val r = ws.report(id)
        assertEquals("kept", r.description)
        assertNull(r.position)
        assertEquals(ReportStatus.DRAFT, r.status)
    }

    @Test
    fun `submit once, outbox state, withdraw`() {
        val ws = open()
        val id = ws.submitted()
        assertEquals(OutboxState.Pending, ws.report(id).outbox)
        val twice = assertThrows<WaystationException.InvalidInput> { ws.submitReport(RIDER, id, RULES) }
        assertTrue(twice.reason.contains("already submitted"), twice.reason)
        val at = Instant.parse("2026-11-29T01:00:00Z")
        ws.recordReportDelivery(id, OutboxState.Refused(reason = "bad photo", at = at))
        assertEquals(OutboxState.Refused(reason = "bad photo", at = at), ws.report(id).outbox)
        val r = ws.withdrawReport(RIDER, id, "fixed already")
        assertEquals(ReportStatus.WITHDRAWN, r.status)
        assertEquals(Open311Status.CLOSED, ws.exportOpen311(id).status)
    }

    @Test
    fun `case events follow the role rules and give the Open311 status`() {
        val ws = open()
        val id = ws.submitted()
        assertEquals(CaseStatus.OPEN, ws.reportCase(id).status)
        // Not dispatched yet: the agency responsible is the report's district.
        assertEquals(BEILIN, ws.exportOpen311(id).agencyResponsible)
        val ack = ws.recordCaseEvent(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Acknowledge, "on it")
        assertEquals(CaseStatus.ACKNOWLEDGED, ack.status)
        assertEquals(CaseRole.STATION_STAFF, ack.timeline[0].event.role)
        val wrong = assertThrows<WaystationException.InvalidInput> {
            ws.recordCaseEvent(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Resolve, "")
        }
        assertTrue(wrong.reason.contains("may not resolve"), wrong.reason)
        assertThrows<WaystationException.InvalidInput> {
            ws.recordCaseEvent(id, RIDER, CaseRole.RIDER, CaseEventKind.Note, "")
        }
        assertThrows<WaystationException.NotFound> {
            ws.recordCaseEvent(UNKNOWN_ID, "sup", CaseRole.SUPERVISOR, CaseEventKind.Note, "")
        }
        val dispatched = ws.recordCaseEvent(id, "sup", CaseRole.SUPERVISOR, CaseEventKind.Dispatch(gridId = "yanta-07"), "")
        assertEquals(CaseStatus.IN_PROGRESS, dispatched.status)
        assertEquals("yanta-07", ws.exportOpen311(id).agencyResponsible)
        val resolved = ws.recordCaseEvent(id, "grid-1", CaseRole.GRID_WORKER, CaseEventKind.Resolve, "fixed")
        assertEquals(CaseStatus.RESOLVED, resolved.status)
        assertEquals(Open311Status.CLOSED, resolved.open311Status)
        val o = ws.exportOpen311(id)
        assertEquals("food.seal", o.serviceCode)
        assertEquals(Open311Status.CLOSED, o.status)
        assertEquals(108.95, o.long)
        assertTrue(ws.exportGeojson(listOf(id)).contains("FeatureCollection"))
    }

    @Test
    fun `two devices merge case documents to the same timeline`() {
        val a = open("a")
        val id = a.submitted()
        a.recordCaseEvent(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Acknowledge, "")
        a.close()
        opened.remove(a)
        // The second follow-up device holds the same report, as sync would leave it.
        tmp.resolve("a").toFile().copyRecursively(tmp.resolve("b").toFile())
        val a2 = open("a")
        val b = open("b")
        a2.recordCaseEvent(id, "grid-1", CaseRole.GRID_WORKER, CaseEventKind.Resolve, "")
        b.recordCaseEvent(id, "sup-1", CaseRole.SUPERVISOR, CaseEventKind.Reject(reason = "not food"), "")
        val onB = b.mergeCaseFrom(id, a2.caseDocumentBytes(id))
        val onA = a2.mergeCaseFrom(id, b.caseDocumentBytes(id))
        assertEquals(onA, onB)
        assertEquals(3, onA.timeline.size)
        assertEquals(listOf(true, true, false), onA.timeline.map { it.applied })
        assertNotNull(onA.timeline[2].notAppliedBecause)
        assertThrows<WaystationException.InvalidInput> { a2.mergeCaseFrom(id, "junk".toByteArray()) }
    }

    @Test
    fun `nearby duplicates are nearest first`() {
        val ws = open()
        val first = ws.submitted(34.25, 108.95)
        val far = ws.submitted(34.26, 108.95)
        val near = ws.submitted(34.2501, 108.95)
        assertEquals(listOf(near), ws.nearbyDuplicates(first, DuplicateRules()).map { it.report.id })
        assertEquals(listOf(near, far), ws.nearbyDuplicates(first, DuplicateRules(radiusM = 5000.0)).map { it.report.id })
        assertThrows<WaystationException.InvalidInput> { ws.nearbyDuplicates(first, DuplicateRules(radiusM = -1.0)) }
        val dup = ws.recordCaseEvent(near, "sup", CaseRole.SUPERVISOR, CaseEventKind.MarkDuplicate(of = first), "")
        assertEquals(CaseStatus.DUPLICATE, dup.status)
        assertEquals(first, dup.duplicateOf)
    }
}
