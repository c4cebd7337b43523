package org.waystation

import com.sun.net.httpserver.HttpServer
import java.net.InetAddress
import java.net.InetSocketAddress
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.attribute.PosixFilePermissions
import java.time.Instant
import java.util.Base64
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.CsvSource
import org.junit.jupiter.params.provider.NullSource
import org.junit.jupiter.params.provider.ValueSource
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.waystation.core.*

/**
 * The Kotlin bindings against the real library (loaded by JNA from `jna.library.path`) and the
 * signed Xi'an sample pack. Every test opens its own data directory; times are fixed.
 */
class WaystationTest {
    companion object {
        const val PACK_ID = "xian-red-stations"
        const val YANTA = "610113"

        /** The Bell Tower of Xi'an, WGS-84. */
        val BELL_TOWER = Position(34.25953, 108.94235, Datum.WGS84)

        /** Wednesday 2 December 2026, 11:00 in Xi'an (UTC+8): most stations are open. */
        val WEDNESDAY_11H: Instant = Instant.parse("2026-12-02T03:00:00Z")

        /** Thursday 3 December 2026, 03:00 in Xi'an: most stations are closed. */
        val THURSDAY_03H: Instant = Instant.parse("2026-12-02T19:00:00Z")

        /** Saturday 5 December 2026, 11:00 in Xi'an. */
        val SATURDAY_11H: Instant = Instant.parse("2026-12-05T03:00:00Z")

        private val samplePack: Path by lazy {
            System.getenv("WAYSTATION_SAMPLE_PACK")?.let { Paths.get(it) }
                ?: Paths.get(
                    System.getProperty("waystation.repo.root")
                        ?: fail("system property waystation.repo.root is not set"),
                    "data", "stations", "xian-sample.pack.json",
                )
        }

        /** The signed sample pack's bytes. */
        val packBytes: ByteArray by lazy {
            val bytes = Files.readAllBytes(samplePack)
            if (!String(bytes, Charsets.UTF_8).contains("\"payload\"")) {
                fail<Unit>("$samplePack is not a signed pack (is it still a placeholder?)")
            }
            bytes
        }

        fun demoOptions() = Options(trustedKeys = listOf(demoPublisherKey()))

        fun coord(lat: Double, lon: Double, datum: Datum = Datum.WGS84) = Position(lat, lon, datum)

        /** The pack with one byte of its payload flipped; still valid JSON and valid base64. */
        fun tampered(pack: ByteArray): ByteArray {
            val text = String(pack, Charsets.UTF_8)
            val match = Regex("\"payload\"\\s*:\\s*\"([A-Za-z0-9+/=]+)\"").find(text)
                ?: fail("no payload in the sample pack")
            val group = match.groups[1]!!
            val payload = Base64.getDecoder().decode(group.value)
            payload[payload.size / 2] = (payload[payload.size / 2].toInt() xor 1).toByte()
            val encoded = Base64.getEncoder().encodeToString(payload)
            return text.replaceRange(group.range, encoded).toByteArray(Charsets.UTF_8)
        }
    }

    @TempDir
    lateinit var tmp: Path

    private val opened = mutableListOf<Waystation>()

    @AfterEach
    fun closeAll() {
        opened.forEach { it.close() }
    }

    private fun open(dir: Path = tmp.resolve("data"), options: Options = demoOptions()): Waystation =
        Waystation(dir.toString(), options).also { opened += it }

    /** A Waystation over a fresh data directory with the sample pack installed. */
    private fun withPack(): Waystation = open().also {
        val result = runBlocking { it.packs().importStations(packBytes) }
        assertFalse(result.unchanged)
    }

    private fun Waystation.nearest(
        limit: Int = 5,
        services: List<Service> = listOf(),
        openOnly: Boolean = false,
        maxDistanceM: Double? = null,
        at: Instant? = WEDNESDAY_11H,
        position: Position = BELL_TOWER,
    ): List<StationHit> = stations().nearest(
        NearestQuery(
            position = position,
            limit = limit,
            filter = StationFilter(services = services, openOnly = openOnly, maxDistanceM = maxDistanceM),
            at = at,
        ),
    )

    private fun assertSortedByDistance(hits: List<StationHit>) {
        val distances = hits.map { it.distanceM }
        assertEquals(distances.sorted(), distances)
    }

    // --- the Waystation object, its handles and options ----------------------------------

    @Test
    fun `the handles share one core and outlive the Waystation object`() {
        val ws = Waystation(tmp.resolve("data").toString(), demoOptions())
        val stations = ws.stations()
        val packs = ws.packs()
        assertEquals(0L, stations.count())
        runBlocking { packs.importStations(packBytes) }
        // Every handle, old or new, sees what another one did: they are views of one core.
        assertEquals(stations.count(), ws.stations().count())
        assertTrue(stations.count() > 1000L)
        assertEquals(listOf(PACK_ID), ws.packs().installed().map { it.packId })
        val handles: List<AutoCloseable> = listOf(ws.reports(), ws.cases(), ws.training(), ws.sync())
        assertEquals(listOf("Reports", "Cases", "Training", "SyncClient"), handles.map { it.javaClass.simpleName })
        val count = stations.count()
        // A handle keeps the core open after the app closed its Waystation.
        ws.close()
        assertEquals(count, stations.count())
        assertEquals(5, stations.nearest(NearestQuery(position = BELL_TOWER)).size)
        assertEquals(listOf(PACK_ID), packs.installed().map { it.packId })
        (handles + stations + packs).forEach { it.close() }
    }

    @Test
    fun `options and queries have defaults instead of magic values`() {
        // Only what matters must be given; the rest has documented defaults.
        assertNull(Options(trustedKeys = listOf()).maxPackBytes)
        assertEquals(StationFilter(services = listOf(), openOnly = false, maxDistanceM = null), StationFilter())
        val query = NearestQuery(position = BELL_TOWER)
        assertEquals(NearestQuery(position = BELL_TOWER, limit = 5, filter = StationFilter(), at = null), query)
        assertEquals(
            WithinQuery(center = BELL_TOWER, radiusM = 500.0, filter = StationFilter(), at = null),
            WithinQuery(center = BELL_TOWER, radiusM = 500.0),
        )
        val sync = SyncOptions(server = "https://sync.example.org", token = "wst_x")
        assertNull(sync.timeoutMs)
        assertNull(sync.attempts)
        assertNull(sync.extraRootPem)
        assertFalse(sync.allowInsecureHttp)
        assertEquals(defaultReportRules(), ReportRules())
        assertEquals(defaultDuplicateRules(), DuplicateRules())
        assertEquals(CaseQuery(districts = listOf(), statuses = listOf(), includeWithdrawn = false), CaseQuery())
        // No time given: now. Five hits, the same stations as when asking explicitly for now.
        val ws = withPack()
        val hits = ws.stations().nearest(query)
        assertEquals(5, hits.size)
        assertSortedByDistance(hits)
        assertEquals(hits.map { it.station.id }, ws.nearest(limit = 5, at = null).map { it.station.id })
        assertTrue(ws.stations().within(WithinQuery(center = BELL_TOWER, radiusM = 500.0)).isNotEmpty())
    }

    @Test
    fun `numbers are Int and Long in Kotlin, not unsigned`() {
        // Compile-time first: each declaration below only compiles while the binding's type is
        // the plain Kotlin one (a UInt or ULong would need a conversion).
        val ws = withPack()
        val limit: Int = NearestQuery(position = BELL_TOWER).limit
        val found: List<Station> = ws.stations().search("雁塔", limit)
        val imported: Int = runBlocking { ws.packs().importStations(packBytes) }.stations
        val maxPackBytes: Long? = Options(listOf(), maxPackBytes = 1L shl 20).maxPackBytes
        val timeoutMs: Long? = SyncOptions("https://sync.example.org", "wst_x", timeoutMs = 5_000L).timeoutMs
        val attempts: Int? = SyncOptions("https://sync.example.org", "wst_x", attempts = 2).attempts
        val maxPhotoBytes: Long = ReportRules().maxPhotoBytes
        val maxPhotos: Int = ReportRules().maxPhotos
        val maxAgeDays: Int = DuplicateRules().maxAgeDays
        val choice: List<Int> = QuizAnswer(questionId = "q", choices = listOf(0, 2)).choices
        val pending: Long = ws.sync().status().pendingDocuments
        val count: Long = ws.stations().count()
        val version: Long = ws.packs().installed().single().version
        assertTrue(count > 1000L && version >= 1L)
        assertEquals(5, limit)
        assertEquals(5, found.size)
        assertTrue(imported > 1000)
        assertEquals(1_048_576L, maxPackBytes)
        assertEquals(5_000L, timeoutMs)
        assertEquals(2, attempts)
        assertEquals(10L * 1024 * 1024, maxPhotoBytes)
        assertEquals(6, maxPhotos)
        assertEquals(7, maxAgeDays)
        assertEquals(listOf(0, 2), choice)
        assertEquals(0L, pending)
    }

    @ParameterizedTest
    @ValueSource(longs = [0, -1, -(1L shl 40)])
    fun `a pack limit below one is refused by name`(limit: Long) {
        val e = assertThrows<WaystationException.InvalidInput> {
            open(options = Options(trustedKeys = listOf(), maxPackBytes = limit))
        }
        assertTrue("max_pack_bytes" in e.reason && limit.toString() in e.reason, e.reason)
    }

    @Test
    fun `a pack import is a suspend call that leaves the caller's thread free`() {
        val ws = open()
        // One thread: if the import ran on it, the import would be over when `async` returns.
        runBlocking {
            val import = async(start = CoroutineStart.UNDISPATCHED) { ws.packs().importStations(packBytes) }
            assertTrue(import.isActive, "the caller's thread came back only after the import")
            // The caller's thread keeps serving other coroutines meanwhile.
            val ticks = async { var n = 0; while (import.isActive) { n++; yield() }; n }
            assertFalse(import.await().unchanged)
            assertTrue(ticks.await() > 0)
        }
        assertTrue(ws.stations().count() > 1000L)
    }

    @Test
    fun `a cancelled pack import installs all or nothing and the next import stands`() {
        val ws = open()
        runBlocking {
            val import = async(Dispatchers.Default) { ws.packs().importStations(packBytes) }
            yield()
            import.cancelAndJoin()
        }
        // The import checks the token before it starts; once started it is one transaction,
        // which may still be committing in the background. A reader sees none of it or all of
        // it, never part.
        val count = ws.stations().count()
        assertTrue(count == 0L || count > 1000L, "$count stations")
        // The next import waits for that one, if it is still running, and then stands.
        val again = runBlocking { ws.packs().importStations(packBytes) }
        assertEquals(PACK_ID, again.packId)
        assertEquals(again.stations.toLong(), ws.stations().count())
        assertEquals(listOf(PACK_ID), ws.packs().installed().map { it.packId })
    }

    // --- import ------------------------------------------------------------------------

    @Test
    fun `import installs the sample pack`() {
        val ws = withPack()
        val packs = ws.packs().installed()
        assertEquals(listOf(PACK_ID), packs.map { it.packId })
        val pack = packs.single()
        assertEquals("stations", pack.kind)
        assertEquals(demoPublisherKey().keyId, pack.keyId)
        assertTrue(pack.synthetic)
        assertEquals(64, pack.sha256.length)
        assertTrue(ws.stations().count() in 1000L..1500L, "station count ${ws.stations().count()}")
    }

    @Test
    fun `re-import of the same pack is unchanged`() {
        val ws = withPack()
        val count = ws.stations().count()
        val again = runBlocking { ws.packs().importStations(packBytes) }
        assertTrue(again.unchanged)
        assertEquals(PACK_ID, again.packId)
        assertEquals(count, again.stations.toLong())
        assertEquals(count, ws.stations().count())
    }

    @Test
    fun `import from a file`() {
        val file = tmp.resolve("pack.json")
        Files.write(file, packBytes)
        val ws = open()
        val result = runBlocking { ws.packs().importStationsFile(file.toString()) }
        assertEquals(PACK_ID, result.packId)
        assertNull(result.previousVersion)
        assertEquals(ws.stations().count(), result.stations.toLong())
        assertFalse(result.unchanged)
    }

    @Test
    fun `data survives reopening`() {
        val dir = tmp.resolve("data")
        val count = open(dir).use {
            runBlocking { it.packs().importStations(packBytes) }
            it.stations().count()
        }
        val again = open(dir)
        assertEquals(count, again.stations().count())
        assertEquals(3, again.nearest(limit = 3).size)
    }

    // --- nearest -----------------------------------------------------------------------

    @Test
    fun `nearest is sorted by distance and respects the limit`() {
        val ws = withPack()
        for (limit in listOf(1, 3, 10, 50)) {
            val hits = ws.nearest(limit = limit)
            assertEquals(limit, hits.size)
            assertSortedByDistance(hits)
            assertTrue(hits.all { it.distanceM >= 0.0 })
        }
        val hits = ws.nearest(limit = 10)
        for (h in hits) {
            assertEquals(Datum.WGS84, h.station.position.datum)
            assertEquals(geodesicDistance(BELL_TOWER, h.station.position), h.distanceM, 1e-3)
            assertTrue(h.bearingDeg >= 0.0 && h.bearingDeg < 360.0)
        }
        assertTrue(hits.first().distanceM < 2000.0)
    }

    @Test
    fun `a query in another datum gives the same answer`() {
        val ws = withPack()
        val gcj = convertPosition(BELL_TOWER, Datum.GCJ02)
        assertEquals(Datum.GCJ02, gcj.datum)
        val fromWgs = ws.nearest(limit = 5)
        val fromGcj = ws.nearest(limit = 5, position = gcj)
        assertEquals(fromWgs.map { it.station.id }, fromGcj.map { it.station.id })
        fromWgs.zip(fromGcj).forEach { (a, b) -> assertEquals(a.distanceM, b.distanceM, 0.01) }
    }

    @Test
    fun `every hit has all requested services`() {
        val ws = withPack()
        val wanted = listOf(Service.EBIKE_CHARGING, Service.TOILET)
        val hits = ws.nearest(limit = 20, services = wanted)
        assertEquals(20, hits.size)
        hits.forEach { assertTrue(it.station.services.containsAll(wanted), it.station.id) }
        assertSortedByDistance(hits)
        assertNotEquals(ws.nearest(limit = 20).map { it.station.id }, hits.map { it.station.id })
    }

    @Test
    fun `open only at a fixed time returns only open stations`() {
        val ws = withPack()
        for (at in listOf(WEDNESDAY_11H, THURSDAY_03H, SATURDAY_11H)) {
            val hits = ws.nearest(limit = 100, openOnly = true, at = at)
            assertTrue(hits.isNotEmpty(), "no open station at $at")
            for (h in hits) {
                assertEquals(OpenStatus.OPEN, h.status)
                assertEquals(OpenStatus.OPEN, hoursStatus(h.station.openingHours, at).status)
            }
        }
        val day = ws.nearest(limit = 1000, openOnly = true, at = WEDNESDAY_11H)
        val night = ws.nearest(limit = 1000, openOnly = true, at = THURSDAY_03H)
        assertTrue(night.size < day.size, "open at night ${night.size}, by day ${day.size}")
    }

    @Test
    fun `max distance is respected`() {
        val ws = withPack()
        val hits = ws.nearest(limit = 1000, maxDistanceM = 1500.0)
        assertTrue(hits.isNotEmpty())
        assertTrue(hits.all { it.distanceM <= 1500.0 })
        val everything = ws.nearest(limit = 1000)
        assertEquals(
            everything.filter { it.distanceM <= 1500.0 }.map { it.station.id },
            hits.map { it.station.id },
        )
        assertEquals(listOf<StationHit>(), ws.nearest(limit = 5, maxDistanceM = 0.0))
    }

    @Test
    fun `a station whose hours are unknown is never open`() {
        val ws = withPack()
        for (at in listOf(WEDNESDAY_11H, THURSDAY_03H, SATURDAY_11H)) {
            val unknown = ws.nearest(limit = 1000, at = at)
                .filter { hoursStatus(it.station.openingHours, at).status == OpenStatus.UNKNOWN }
            // The sample pack has stations without hours and with free-text hours.
            assertTrue(unknown.any { it.station.openingHours == null })
            assertTrue(unknown.any { it.station.openingHours != null })
            for (h in unknown) {
                assertEquals(OpenStatus.UNKNOWN, h.status, h.station.id)
                assertNull(h.nextChange)
            }
            val openIds = ws.nearest(limit = 1000, openOnly = true, at = at).map { it.station.id }.toSet()
            assertTrue(unknown.none { it.station.id in openIds })
        }
    }

    @Test
    fun `stations within a radius`() {
        val ws = withPack()
        val hits = ws.stations().within(WithinQuery(BELL_TOWER, 1000.0, StationFilter(), WEDNESDAY_11H))
        assertTrue(hits.isNotEmpty())
        assertTrue(hits.all { it.distanceM <= 1000.0 })
        assertSortedByDistance(hits)
    }

    // --- lookups -----------------------------------------------------------------------

    @Test
    fun `station by id`() {
        val ws = withPack()
        val hit = ws.nearest(limit = 1).single()
        val station = ws.stations().get(hit.station.id)
        assertEquals(hit.station, station)
        assertEquals(PACK_ID, station.packId)
        assertTrue(station.nameZh.isNotEmpty())
    }

    @Test
    fun `search finds Yanta stations`() {
        val ws = withPack()
        val found = ws.stations().search("雁塔", 10)
        assertTrue(found.size in 1..10, "found ${found.size}")
        for (s in found) {
            assertTrue(s.district == YANTA || "雁塔" in s.nameZh || "雁塔" in s.addressZh, s.id)
        }
        assertEquals(3, ws.stations().search("雁塔", 3).size)
    }

    // --- coordinates and hours -----------------------------------------------------------

    @ParameterizedTest
    @CsvSource("34.25953,108.94235", "39.9042,116.4074", "31.2304,121.4737", "22.5431,114.0579")
    fun `WGS-84 to GCJ-02 and back round-trips under a millimetre`(lat: Double, lon: Double) {
        val original = coord(lat, lon)
        val gcj = convertPosition(original, Datum.GCJ02)
        assertEquals(Datum.GCJ02, gcj.datum)
        assertTrue(geodesicDistance(original, coord(gcj.lat, gcj.lon)) > 50.0)
        val back = convertPosition(gcj, Datum.WGS84)
        assertEquals(Datum.WGS84, back.datum)
        assertTrue(geodesicDistance(original, back) < 0.001)
        assertTrue(geodesicDistance(original, gcj) < 0.001)
    }

    @Test
    fun `BD-09 round-trips under a millimetre`() {
        val original = coord(34.25953, 108.94235)
        val back = convertPosition(convertPosition(original, Datum.BD09), Datum.WGS84)
        assertTrue(geodesicDistance(original, back) < 0.001)
    }

    @Test
    fun `Hong Kong is not shifted`() {
        val gcj = convertPosition(coord(22.3193, 114.1694), Datum.GCJ02)
        assertEquals(Position(22.3193, 114.1694, Datum.GCJ02), gcj)
    }

    @Test
    fun `hours status of weekday hours`() {
        val hours = "Mo-Fr 08:00-18:00"
        val during = hoursStatus(hours, WEDNESDAY_11H)
        assertEquals(OpenStatus.OPEN, during.status)
        assertEquals(Instant.parse("2026-12-02T10:00:00Z"), during.nextChange)
        val night = hoursStatus(hours, THURSDAY_03H)
        assertEquals(OpenStatus.CLOSED, night.status)
        assertEquals(Instant.parse("2026-12-03T00:00:00Z"), night.nextChange)
        val weekend = hoursStatus(hours, SATURDAY_11H)
        assertEquals(OpenStatus.CLOSED, weekend.status)
        assertEquals(Instant.parse("2026-12-07T00:00:00Z"), weekend.nextChange)
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = ["", "unknown", "ask staff", "早九点到晚八点"])
    fun `missing or unparseable hours are unknown`(hours: String?) {
        val status = hoursStatus(hours, WEDNESDAY_11H)
        assertEquals(OpenStatus.UNKNOWN, status.status)
        assertNull(status.nextChange)
    }

    @Test
    fun `services and datums parse by name`() {
        assertEquals(Datum.GCJ02, parseDatum("gcj02"))
        assertEquals(Service.EBIKE_CHARGING, parseService("ebike_charging"))
        val infos = allServices()
        assertEquals(Service.entries.size, infos.size)
        for (info in infos) {
            assertEquals(info.service, parseService(info.name))
            assertTrue(info.labelZh.isNotEmpty() && info.labelEn.isNotEmpty())
        }
    }

    // --- errors --------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource("NaN,108.9", "34.2,NaN", "90.5,108.9", "-91.0,108.9", "34.2,180.5", "Infinity,108.9")
    fun `invalid coordinates are InvalidInput`(lat: Double, lon: Double) {
        // Arguments are checked before any data is read: no pack needed.
        val ws = open()
        val bad = coord(lat, lon)
        assertThrows<WaystationException.InvalidInput> { ws.nearest(position = bad) }
        assertThrows<WaystationException.InvalidInput> { convertPosition(bad, Datum.GCJ02) }
        assertThrows<WaystationException.InvalidInput> { geodesicDistance(bad, BELL_TOWER) }
        assertThrows<WaystationException.InvalidInput> {
            ws.stations().within(WithinQuery(center = bad, radiusM = 100.0))
        }
    }

    @Test
    fun `unknown names are InvalidInput`() {
        val e = assertThrows<WaystationException.InvalidInput> { parseDatum("mars") }
        assertTrue("mars" in e.reason, e.reason)
        assertThrows<WaystationException.InvalidInput> { parseService("spa") }
    }

    @ParameterizedTest
    @ValueSource(ints = [0, 1001])
    fun `limit out of range is InvalidInput`(limit: Int) {
        val ws = open()
        assertThrows<WaystationException.InvalidInput> { ws.nearest(limit = limit) }
    }

    @ParameterizedTest
    @ValueSource(doubles = [-1.0, Double.NaN, Double.POSITIVE_INFINITY])
    fun `bad max distance is InvalidInput`(distance: Double) {
        val ws = open()
        assertThrows<WaystationException.InvalidInput> { ws.nearest(maxDistanceM = distance) }
        assertThrows<WaystationException.InvalidInput> {
            ws.stations().within(WithinQuery(center = BELL_TOWER, radiusM = distance))
        }
    }

    @Test
    fun `unknown station is NotFound`() {
        val ws = withPack()
        assertThrows<WaystationException.NotFound> { ws.stations().get("XA-no-such-station") }
    }

    @Test
    fun `missing pack file is InvalidInput`() {
        val ws = open()
        assertThrows<WaystationException.InvalidInput> {
            runBlocking { ws.packs().importStationsFile(tmp.resolve("missing.pack.json").toString()) }
        }
    }

    @Test
    fun `tampered pack is rejected and installed data still answers`() {
        val ws = withPack()
        val before = ws.nearest(limit = 5).map { it.station.id }
        val count = ws.stations().count()
        val packs = ws.packs().installed()
        assertThrows<WaystationException.PackRejected> { runBlocking { ws.packs().importStations(tampered(packBytes)) } }
        assertEquals(count, ws.stations().count())
        assertEquals(packs, ws.packs().installed())
        assertEquals(before, ws.nearest(limit = 5).map { it.station.id })
    }

    @Test
    fun `truncated pack is rejected`() {
        val ws = open()
        assertThrows<WaystationException.PackRejected> {
            runBlocking { ws.packs().importStations(packBytes.copyOf(packBytes.size / 2)) }
        }
        assertThrows<WaystationException.PackRejected> { runBlocking { ws.packs().importStations(ByteArray(0)) } }
        assertEquals(0L, ws.stations().count())
        assertTrue(ws.packs().installed().isEmpty())
    }

    @Test
    fun `pack from an untrusted publisher is rejected`() {
        val ws = open(options = Options(trustedKeys = listOf()))
        assertThrows<WaystationException.PackRejected> { runBlocking { ws.packs().importStations(packBytes) } }
        assertEquals(0L, ws.stations().count())
    }

    @Test
    fun `oversized pack is rejected`() {
        val ws = open(options = Options(listOf(demoPublisherKey()), maxPackBytes = 1024L))
        assertThrows<WaystationException.PackRejected> { runBlocking { ws.packs().importStations(packBytes) } }
    }

    @Test
    fun `bad trusted key is InvalidInput`() {
        val options = Options(listOf(TrustedPublisherKey("k", "not a key")))
        assertThrows<WaystationException.InvalidInput> { open(options = options) }
    }

    @Test
    fun `data dir that is a file is rejected`() {
        val file = tmp.resolve("not-a-dir")
        Files.writeString(file, "x")
        assertThrows<WaystationException.DataDirectory> { open(file) }
    }

    @Test
    fun `read-only data dir is rejected`() {
        val dir = Files.createDirectory(tmp.resolve("read-only"))
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"))
        try {
            assertThrows<WaystationException.DataDirectory> { open(dir) }
        } finally {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"))
        }
    }

    @ParameterizedTest
    @CsvSource("400,text/plain,false", "403,text/plain,false", "429,text/plain,true", "503,text/plain,true", "200,text/html,false")
    fun `a server error keeps its status and says whether a retry can help`(status: Int, contentType: String, retryable: Boolean) {
        // A loopback server that answers every request with `status` (a 200 HTML page is a
        // captive portal's): the sync must give up with that status, and keep what it had.
        val server = HttpServer.create(InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0)
        server.createContext("/") { exchange ->
            exchange.requestBody.readAllBytes()
            val body = "<html>portal</html>".toByteArray()
            exchange.responseHeaders.add("Content-Type", contentType)
            exchange.sendResponseHeaders(status, body.size.toLong())
            exchange.responseBody.use { it.write(body) }
        }
        server.start()
        try {
            val ws = open()
            val reports = ws.reports()
            val id = reports.createDraft("rider-7", "road.hazard")
            reports.updateDraft(id, ReportPatch(description = "pothole", district = YANTA))
            reports.setPosition(id, PositionFix(34.22, 108.95, Datum.WGS84, 10.0, WEDNESDAY_11H))
            reports.submit("rider-7", id, ReportRules())
            val url = "http://127.0.0.1:${server.address.port}"
            val e = assertThrows<WaystationException.Server> {
                runBlocking { ws.sync().run(SyncOptions(server = url, token = "wst_x", attempts = 1)) }
            }
            assertEquals(status, e.status.toInt())
            assertEquals(retryable, e.retryable, e.reason)
            assertTrue(e.reason.isNotEmpty())
            assertTrue(e is WaystationException)
            assertEquals(1L, ws.sync().status().pendingDocuments, "the report is still to be sent")
        } finally {
            server.stop(0)
        }
    }

    // --- panics --------------------------------------------------------------------------

    @Test
    fun `a Rust panic becomes an exception and the library keeps working`() {
        val ws = withPack()
        // uniffi reports a panic as its own InternalException, not as WaystationException.
        val e = assertThrows<InternalException> { diagnosticsForcePanic("x") }
        assertTrue(e.message!!.contains("forced panic"), e.message)
        assertThrows<InternalException> { diagnosticsForcePanic("again") }
        assertEquals(Datum.WGS84, parseDatum("wgs84"))
        assertEquals(3, ws.nearest(limit = 3).size)
        assertTrue(ws.stations().count() > 0L)
    }
}
