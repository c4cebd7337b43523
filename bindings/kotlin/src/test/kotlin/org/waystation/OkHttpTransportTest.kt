package org.waystation

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.security.cert.X509Certificate
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import okhttp3.Call
import okhttp3.EventListener
import okhttp3.Interceptor
import okhttp3.OkHttpClient
import okhttp3.tls.HandshakeCertificates
import okhttp3.tls.HeldCertificate
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import org.waystation.HostileServer.Answer
import org.waystation.core.CaseEventKind
import org.waystation.core.CaseRole
import org.waystation.core.CaseStatus
import org.waystation.core.HttpHeader
import org.waystation.core.HttpRequest
import org.waystation.core.OutboxState
import org.waystation.core.ReportPatch
import org.waystation.core.SyncOptions

/**
 * The sync suite's core cases through [OkHttpTransport], against a real `waystation-server`
 * on loopback (plain, and TLS with a test CA), and the faults a phone meets, from a
 * [HostileServer] in front of it: a server that never answers, 401, 429 with `Retry-After`,
 * 5xx, a connection dropped halfway through a body, a body over the cap, and a cancelled sync.
 * After every fault nothing is lost: the report and its photo still wait in the outbox, and a
 * sync to the real server then delivers them.
 *
 * Every Waystation here is opened with an OkHttpTransport whose client counts the requests
 * ([Counter]), so that each test also shows its HTTP went through OkHttp, not the built-in
 * transport the JVM build of the library still has.
 */
class OkHttpTransportTest {
    companion object {
        const val YANTA = "610113"
        const val RIDER = "rider-7"
    }

    @TempDir
    lateinit var tmp: Path

    private val processes = mutableListOf<Process>()
    private val opened = mutableListOf<AutoCloseable>()
    private lateinit var url: String
    private lateinit var riderToken: String
    private lateinit var staffToken: String

    private val binDir = System.getProperty("jna.library.path")
    private val serverBin: String = Paths.get(binDir, "waystation-server").toString()

    private fun addUser(db: Path, name: String, role: String, vararg areas: String): String {
        val args = mutableListOf(serverBin, "user", "add", "--db", db.toString(), "--name", name, "--role", role)
        areas.forEach { args += listOf("--area", it) }
        val p = ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.DISCARD).start()
        val out = p.inputStream.bufferedReader().readText()
        assertEquals(0, p.waitFor(), "user add failed")
        return out.trim().lines().last()
    }

    /** Starts a real server (with TLS when [tls] names a certificate chain and key). */
    private fun startServer(tls: Pair<Path, Path>? = null) {
        val db = tmp.resolve("server.db")
        riderToken = addUser(db, RIDER, "rider")
        staffToken = addUser(db, "staff-1", "station", YANTA)
        val args = mutableListOf(serverBin, "serve", "--db", db.toString(), "--listen", "127.0.0.1:0")
        if (tls != null) args += listOf("--tls-cert", tls.first.toString(), "--tls-key", tls.second.toString())
        val log = tmp.resolve("server.log").toFile()
        val server = ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.appendTo(log)).start()
        processes += server
        val line = server.inputStream.bufferedReader().readLine()
        assertTrue(line != null && line.startsWith("listening on "), "$line: ${log.readText().take(2000)}")
        url = line.substringAfterLast(' ')
    }

    @AfterEach
    fun stop() {
        opened.reversed().forEach { it.close() }
        processes.forEach {
            it.destroy()
            it.waitFor(10, TimeUnit.SECONDS)
        }
    }

    /**
     * Counts what the app's OkHttpClient sent (`POST /v1/sync`, ...) and the calls OkHttp
     * cancelled: an application interceptor and an event listener, as an app would add them.
     */
    class Counter : Interceptor, EventListener() {
        val requests = CopyOnWriteArrayList<String>()
        val cancelled = CopyOnWriteArrayList<String>()

        override fun intercept(chain: Interceptor.Chain): okhttp3.Response {
            requests += "${chain.request().method} ${chain.request().url.encodedPath}"
            return chain.proceed(chain.request())
        }

        override fun canceled(call: Call) {
            cancelled += "${call.request().method} ${call.request().url.encodedPath}"
        }

        fun count(prefix: String) = requests.count { it.startsWith(prefix) }

        fun client(builder: OkHttpClient.Builder = OkHttpClient.Builder()): OkHttpClient =
            builder.addInterceptor(this).eventListener(this).build()
    }

    private fun open(name: String, client: OkHttpClient): Waystation =
        Waystation(tmp.resolve(name).toString(), Options(trustedKeys = listOf(demoPublisherKey())), OkHttpTransport(client))
            .also { opened += it }

    private fun options(token: String, server: String = url, timeoutMs: Long = 10_000L, attempts: Int = 2) =
        SyncOptions(server = server, token = token, timeoutMs = timeoutMs, attempts = attempts)

    private suspend fun Waystation.reportWithPhoto(): String {
        val reports = reports()
        val id = reports.createDraft(RIDER, "food.seal")
        reports.updateDraft(id, ReportPatch(merchantName = "老孙家泡馍", description = "封签被撕开", district = YANTA))
        reports.setPosition(id, SyncTest.fix(34.2225, 108.948))
        reports.attachPhoto(id, SyncTest.JPEG, SyncTest.RULES)
        reports.submit(RIDER, id, SyncTest.RULES)
        return id
    }

    /**
     * Nothing was lost by the fault: the report and its photo still wait (no error message
     * carries the token), and a sync to the real server through OkHttp then delivers both.
     */
    private suspend fun assertNothingLost(ws: Waystation, id: String, error: Throwable? = null, photoOnServer: Boolean = false) {
        val status = ws.sync().status()
        assertEquals(1L, status.pendingDocuments, "$status")
        // A photo the server proved it holds (another phone sent the same JPEG) is not pending.
        val photos = if (photoOnServer) 0 else 1
        assertEquals(photos.toLong(), status.pendingPhotos, "$status")
        assertEquals(OutboxState.Pending, ws.reports().get(id).outbox)
        for (text in listOfNotNull(error?.message, status.lastError)) {
            assertFalse(text.contains(riderToken), "the token is in: $text")
            assertFalse(text.contains("老孙家"), "the report is in: $text")
        }
        val sent = ws.sync().run(options(riderToken))
        assertEquals(1, sent.documentsSent, "$sent")
        assertEquals(photos, sent.photosUploaded, "$sent")
        assertTrue(ws.reports().get(id).outbox is OutboxState.Sent)
    }

    private val Long.sinceMs: Long get() = (System.nanoTime() - this) / 1_000_000

    /**
     * How often each distinct request (`PUT /v1/photos/<sha>`) reached the server. A sync
     * with a photo asks `HEAD` whether the server has it (an error answer only means "not
     * known"), then `PUT`s it, then `POST`s the documents; a failure stops it there.
     */
    private fun HostileServer.tries(): Map<String, Int> = seen.groupingBy { it.toString() }.eachCount()

    @Test
    fun `a report goes up and its case comes back, every request through OkHttp`() = runBlocking {
        startServer()
        val riderHttp = Counter()
        val rider = open("rider", riderHttp.client())
        val id = rider.reportWithPhoto()
        val sent = rider.sync().run(options(riderToken))
        assertEquals(1, sent.documentsSent)
        assertEquals(1, sent.photosUploaded)
        assertTrue(rider.reports().get(id).outbox is OutboxState.Sent)
        assertEquals(sent.requests, riderHttp.count("POST /v1/sync"), "${riderHttp.requests}")
        assertEquals(1, riderHttp.count("PUT /v1/photos/"), "${riderHttp.requests}")

        val staffHttp = Counter()
        val staff = open("staff", staffHttp.client())
        val received = staff.sync().run(options(staffToken))
        assertEquals(1, received.documentsReceived)
        staff.cases().record(id, "staff-1", CaseRole.STATION_STAFF, CaseEventKind.Acknowledge, "收到")
        staff.sync().run(options(staffToken))
        rider.sync().run(options(riderToken))
        assertEquals(CaseStatus.ACKNOWLEDGED, rider.cases().get(id).status)

        // Photo fetch and pack fetch go through the transport too.
        val sha = rider.reports().get(id).photos.single().sha256
        val path = staff.reports().fetchPhoto(options(staffToken), sha)
        assertArrayEquals(Files.readAllBytes(Paths.get(rider.reports().photoPath(sha))), Files.readAllBytes(Paths.get(path)))
        assertEquals(1, staffHttp.count("GET /v1/photos/$sha"), "${staffHttp.requests}")
        val before = staffHttp.requests.size
        val fetched = staff.packs().fetch(options(staffToken))
        assertNull(fetched.training, "no pack is published")
        assertTrue(staffHttp.requests.drop(before).any { it.startsWith("GET /v1/packs/") }, "${staffHttp.requests}")

        val noop = rider.sync().run(options(riderToken))
        assertEquals(1, noop.requests)
        println("OkHttpTransportTest: rider ${riderHttp.requests.size} requests, staff ${staffHttp.requests.size}")
    }

    @Test
    fun `a refused token through OkHttp is Unauthorized and nothing is lost`() = runBlocking {
        startServer()
        val rider = open("rider", Counter().client())
        val id = rider.reportWithPhoto()
        val e = assertThrows<WaystationException.Unauthorized> {
            runBlocking { rider.sync().run(options("wst_not-a-token")) }
        }
        assertTrue(rider.sync().status().lastError!!.contains("unauthorized"))
        assertNothingLost(rider, id, e)
    }

    @Test
    fun `TLS with a test CA, a client that trusts that CA syncs and one that does not cannot`() = runBlocking {
        val ca = HeldCertificate.Builder().certificateAuthority(0).commonName("Waystation test CA").build()
        // RSA: ring (the server's TLS) reads no PKCS#8 EC key that lacks its public half, as
        // Java writes them.
        val leaf = HeldCertificate.Builder().signedBy(ca).rsa2048().commonName("127.0.0.1")
            .addSubjectAlternativeName("127.0.0.1").addSubjectAlternativeName("localhost").build()
        val chain = tmp.resolve("fullchain.pem")
        val key = tmp.resolve("privkey.pem")
        Files.writeString(chain, leaf.certificatePem() + ca.certificatePem())
        Files.writeString(key, leaf.privateKeyPkcs8Pem())
        startServer(tls = chain to key)
        assertTrue(url.startsWith("https://127.0.0.1:"), url)

        // The system's trust store only (what an app gets without configuring the private CA).
        val untrusting = open("untrusting", OkHttpClient())
        val id0 = untrusting.reportWithPhoto()
        val refused = assertThrows<WaystationException.Network> {
            runBlocking { untrusting.sync().run(options(riderToken)) }
        }
        assertTrue(refused.reason.contains("SSLHandshakeException"), refused.reason)
        assertEquals(1L, untrusting.sync().status().pendingDocuments)
        assertEquals(OutboxState.Pending, untrusting.reports().get(id0).outbox)

        // Trusting the test CA and nothing else; each connection's peer is the server's leaf.
        val trust = HandshakeCertificates.Builder().addTrustedCertificate(ca.certificate).build()
        val peers = CopyOnWriteArrayList<X509Certificate>()
        val counter = Counter()
        val client = counter.client(
            OkHttpClient.Builder()
                .sslSocketFactory(trust.sslSocketFactory(), trust.trustManager)
                .addNetworkInterceptor { chain ->
                    peers += chain.connection()!!.handshake()!!.peerCertificates.first() as X509Certificate
                    chain.proceed(chain.request())
                },
        )
        val rider = open("rider", client)
        val id = rider.reportWithPhoto()
        val sent = rider.sync().run(options(riderToken))
        assertEquals(1, sent.documentsSent)
        assertEquals(1, sent.photosUploaded)
        assertTrue(rider.reports().get(id).outbox is OutboxState.Sent)
        assertEquals(counter.requests.size, peers.size)
        assertTrue(peers.all { it == leaf.certificate }, "every request went over TLS to the test server")
        // The refused phone's report is intact: it goes once that phone trusts the CA too.
        untrusting.close()
        opened.remove(untrusting)
        val retried = Waystation(tmp.resolve("untrusting").toString(), Options(trustedKeys = listOf(demoPublisherKey())), OkHttpTransport(client))
            .also { opened += it }
        assertEquals(1, retried.sync().run(options(riderToken)).documentsSent)
        assertTrue(retried.reports().get(id0).outbox is OutboxState.Sent)
    }

    @Test
    fun `a server that never answers times out on each try, and nothing is lost`() = runBlocking {
        startServer()
        HostileServer(url).use { hostile ->
            hostile.script = { _, _ -> Answer.Hang }
            val rider = open("rider", Counter().client())
            val id = rider.reportWithPhoto()
            val started = System.nanoTime()
            val e = assertThrows<WaystationException.Network> {
                runBlocking { rider.sync().run(options(riderToken, hostile.url, timeoutMs = 1_000, attempts = 2)) }
            }
            val tookMs = started.sinceMs
            assertTrue(e.reason.contains("did not answer in time") && e.reason.contains("2 attempts"), e.reason)
            assertEquals(2, hostile.seen.size, "one request per try: ${hostile.seen}")
            assertEquals(1, hostile.tries().size, "the same request tried twice: ${hostile.seen}")
            // Each try waited its whole timeout, and no longer than it plus the bridge's grace.
            assertTrue(tookMs >= 2_000, "gave up after $tookMs ms")
            assertTrue(tookMs < 20_000, "gave up after $tookMs ms")
            repeat(2) {
                val end = hostile.ended.poll(10, TimeUnit.SECONDS)
                assertTrue(end != null && end.clientClosed, "the client closed the connection it gave up on: $end")
            }
            assertNothingLost(rider, id, e)
        }
    }

    @Test
    fun `a 401 is Unauthorized at once, not retried, and nothing is lost`() = runBlocking {
        startServer()
        HostileServer(url).use { hostile ->
            hostile.script = { _, _ -> HostileServer.status(401, body = "token revoked") }
            val rider = open("rider", Counter().client())
            val id = rider.reportWithPhoto()
            val e = assertThrows<WaystationException.Unauthorized> {
                runBlocking { rider.sync().run(options(riderToken, hostile.url, attempts = 4)) }
            }
            // The HEAD's 401 means "not known there"; the upload's 401 ends the sync, untried again.
            assertEquals(listOf("HEAD", "PUT"), hostile.seen.map { it.method }, "${hostile.seen}")
            assertTrue(hostile.tries().values.all { it == 1 }, "${hostile.tries()}")
            assertTrue(e.reason.contains("token revoked"), e.reason)
            assertNothingLost(rider, id, e)
        }
    }

    @Test
    fun `a 429 with Retry-After is retried after the wait it asks for`() = runBlocking {
        startServer()
        HostileServer(url).use { hostile ->
            hostile.script = { index, _ ->
                if (index == 0) HostileServer.status(429, "Retry-After: 2", body = "slow down") else Answer.Forward
            }
            val counter = Counter()
            val rider = open("rider", counter.client())
            val id = rider.reportWithPhoto()
            val sent = rider.sync().run(options(riderToken, hostile.url, attempts = 2))
            assertEquals(1, sent.documentsSent)
            assertEquals(1, sent.photosUploaded)
            assertTrue(rider.reports().get(id).outbox is OutboxState.Sent)
            val (first, second) = hostile.seen
            assertEquals(first.toString(), second.toString(), "the same request again: ${hostile.seen}")
            // The core waits at least what Retry-After asks (a backoff draw of at most 0.5 s is
            // shorter), counted here from the 429's request to the retry's arrival.
            val waitedMs = (second.atNanos - first.atNanos) / 1_000_000
            assertTrue(waitedMs >= 2_000, "retried after $waitedMs ms")
            assertTrue(waitedMs < 10_000, "retried after $waitedMs ms")
            assertEquals(hostile.seen.size, counter.requests.size, "every request went through OkHttp")
        }
    }

    @Test
    fun `5xx is retried, a server that keeps failing is a retryable Server error, and nothing is lost`() = runBlocking {
        startServer()
        HostileServer(url).use { hostile ->
            val rider = open("rider", Counter().client())
            val id = rider.reportWithPhoto()
            hostile.script = { _, _ -> HostileServer.status(503, body = "maintenance") }
            val e = assertThrows<WaystationException.Server> {
                runBlocking { rider.sync().run(options(riderToken, hostile.url, attempts = 3)) }
            }
            assertEquals(503, e.status)
            assertTrue(e.retryable)
            assertTrue(hostile.tries().values.all { it == 3 }, "each request tried 3 times: ${hostile.tries()}")
            assertEquals(listOf("HEAD", "PUT"), hostile.tries().keys.map { it.substringBefore(' ') })
            assertEquals(1L, rider.sync().status().pendingDocuments)
            assertEquals(1L, rider.sync().status().pendingPhotos)

            // One 500, then the real server: the retry delivers.
            val base = hostile.seen.size
            hostile.script = { index, _ -> if (index == base) HostileServer.status(500, body = "oops") else Answer.Forward }
            val sent = rider.sync().run(options(riderToken, hostile.url, attempts = 2))
            assertEquals(1, sent.documentsSent)
            assertEquals(hostile.seen[base].toString(), hostile.seen[base + 1].toString())
            assertTrue(rider.reports().get(id).outbox is OutboxState.Sent)
            // And the error above carried no personal data.
            assertFalse(e.reason.contains(riderToken) || e.reason.contains("老孙家"), e.reason)
        }
    }

    @Test
    fun `a connection dropped in the middle of a body is a network error, and nothing is lost`() = runBlocking {
        startServer()
        HostileServer(url).use { hostile ->
            // A HEAD answer has no body to drop: forwarded (the server has no such photo yet).
            hostile.script = { _, request ->
                if (request.method == "HEAD") Answer.Forward else Answer.Raw(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nContent-Length: 4096\r\n\r\n" +
                        "\u00a1\u0064half of a CBOR answer",
                )
            }
            val rider = open("rider", Counter().client())
            val id = rider.reportWithPhoto()
            val e = assertThrows<WaystationException.Network> {
                runBlocking { rider.sync().run(options(riderToken, hostile.url, attempts = 2)) }
            }
            assertEquals(listOf("HEAD", "PUT", "PUT"), hostile.seen.map { it.method }, "the upload retried once: ${hostile.seen}")
            assertTrue(e.reason.contains("2 attempts"), e.reason)
            assertNothingLost(rider, id, e)
        }
    }

    @Test
    fun `a body over the cap is refused while it streams, with a lying Content-Length or chunked, and nothing is lost`() = runBlocking {
        startServer()
        // Far over every cap of the protocol (16 MiB for a sync answer, 64 KiB for an upload's).
        val total = 64L * 1024 * 1024
        val heads = mapOf(
            // Says it is small; the chunked framing (which HTTP/1.1 puts first) says otherwise.
            "a lying Content-Length" to
                "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n",
            "chunked" to "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nTransfer-Encoding: chunked\r\n\r\n",
            // No length at all: the body ends when the connection does.
            "no length" to "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nConnection: close\r\n\r\n",
        )
        var phone = 0
        for ((what, head) in heads) {
            HostileServer(url).use { hostile ->
                // Every answer but a HEAD's (which has no body) is the long one.
                hostile.script = { _, request ->
                    if (request.method == "HEAD") Answer.Forward else Answer.Stream(head, total, chunked = "chunked" in head)
                }
                val rider = open("rider-${phone++}", Counter().client())
                val id = rider.reportWithPhoto()
                val e = assertThrows<WaystationException.Server>(what) {
                    runBlocking { rider.sync().run(options(riderToken, hostile.url, attempts = 3)) }
                }
                assertTrue(e.reason.contains("bytes; it was not read"), "$what: ${e.reason}")
                // The first phone's upload meets it (its answer is capped at 64 KiB); the others'
                // photo is on the server by then (the same JPEG), so their sync answer does (16 MiB).
                val capped = hostile.seen.filter { it.method != "HEAD" }
                assertEquals(1, capped.size, "$what: an answer over the cap is not asked again: ${hostile.seen}")
                assertEquals(if (phone == 1) "PUT" else "POST", capped.single().method, "$what: ${hostile.seen}")
                val end = hostile.ended.poll(10, TimeUnit.SECONDS)
                assertNotNull(end, what)
                // The client stopped reading at the cap: what was written past it is at most what
                // the two loopback socket buffers hold (a few MiB), far from the whole body.
                val cap = if (capped.single().method == "PUT") 64L * 1024 else 16L * 1024 * 1024
                assertTrue(end!!.clientClosed && end.bodyBytesWritten < cap + 16L * 1024 * 1024, "$what: the client stopped reading: $end")
                println("OkHttpTransportTest: $what, ${capped.single()}: ${end.bodyBytesWritten} of $total bytes written")
                assertNothingLost(rider, id, e, photoOnServer = phone > 1)
            }
        }
    }

    @Test
    fun `cancelling a sync during a slow request closes its connection, and the next sync succeeds`() = runBlocking {
        startServer()
        HostileServer(url).use { hostile ->
            hostile.script = { _, _ -> Answer.Hang }
            val counter = Counter()
            val rider = open("rider", counter.client())
            val id = rider.reportWithPhoto()
            val sync = rider.sync()
            val first = async(Dispatchers.Default) { sync.run(options(riderToken, hostile.url, timeoutMs = 120_000)) }
            assertTrue(hostile.awaitRequests(1), "the request reached the slow server")

            val cancelledAt = System.nanoTime()
            first.cancel()
            val thrown = runCatching { first.await() }.exceptionOrNull()
            assertInstanceOf(CancellationException::class.java, thrown)
            val cancelMs = cancelledAt.sinceMs
            assertTrue(cancelMs < 5_000, "the sync ended $cancelMs ms after the cancel")
            // The server sees the connection closed: the Rust side dropped the request, uniffi
            // cancelled the transport's coroutine, and OkHttp's call was cancelled.
            val end = hostile.ended.poll(10, TimeUnit.SECONDS)
            assertTrue(end != null && end.clientClosed, "the hung connection was closed by the client: $end")
            assertTrue((end!!.atNanos - cancelledAt) / 1_000_000 < 5_000, "closed ${(end.atNanos - cancelledAt) / 1_000_000} ms after the cancel")
            // OkHttp tells its listener after it closed the socket: wait for it, briefly.
            withTimeout(5_000) { while (counter.cancelled.isEmpty()) kotlinx.coroutines.delay(10) }
            assertEquals(1, counter.cancelled.size, "OkHttp cancelled the call: ${counter.cancelled}")

            val status = sync.status()
            assertEquals(1L, status.pendingDocuments)
            assertEquals(1L, status.pendingPhotos)
            assertNull(status.lastError, "a cancel is not a failure")
            assertEquals(OutboxState.Pending, rider.reports().get(id).outbox)

            // The lock was released: the next sync starts at once and delivers everything.
            hostile.script = { _, _ -> Answer.Forward }
            val second = withTimeout(10_000) { sync.run(options(riderToken, hostile.url)) }
            assertTrue(second.complete, "$second")
            assertEquals(1, second.documentsSent)
            assertEquals(1, second.photosUploaded)
            assertTrue(rider.reports().get(id).outbox is OutboxState.Sent)
            println("OkHttpTransportTest: the cancelled sync ended after $cancelMs ms")
        }
    }

    /** A request of the kind the core sends, with a token that must never show in an error. */
    private fun request(url: String, maxBodyBytes: Long = 1_000, timeoutMs: Long = 5_000) = HttpRequest(
        method = "GET", url = url, headers = listOf(HttpHeader("authorization", "Bearer wst_secret-token")),
        body = ByteArray(0), timeoutMs = timeoutMs, maxBodyBytes = maxBodyBytes,
    )

    @Test
    fun `the transport reads a body up to its cap and not a byte further, whatever Content-Length says`() = runBlocking {
        HostileServer("http://127.0.0.1:9").use { hostile ->
            val transport = OkHttpTransport()
            val ok = "HTTP/1.1 200 OK\r\n"
            val cases = listOf(
                // (head, body bytes, chunked, fits in 1000)
                Triple("${ok}Content-Length: 1000\r\n\r\n", 1000L, false) to true,
                Triple("${ok}Content-Length: 1001\r\n\r\n", 1001L, false) to false,
                Triple("${ok}Transfer-Encoding: chunked\r\n\r\n", 1000L, true) to true,
                Triple("${ok}Transfer-Encoding: chunked\r\n\r\n", 1001L, true) to false,
                Triple("${ok}Content-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n", 5000L, true) to false,
                Triple("${ok}Connection: close\r\n\r\n", 1000L, false) to true,
                Triple("${ok}Connection: close\r\n\r\n", 1001L, false) to false,
                // Says more than the cap: refused before the body is read.
                Triple("${ok}Content-Length: 99999999\r\n\r\n", 10L, false) to false,
            )
            for ((case, fits) in cases) {
                val (head, total, chunked) = case
                hostile.script = { _, _ -> Answer.Stream(head, total, chunked) }
                val what = "${head.trim().replace("\r\n", " | ")} with $total bytes"
                if (fits) {
                    val resp = transport.send(request(hostile.url + "/fits"))
                    assertEquals(200, resp.status, what)
                    assertEquals(total.toInt(), resp.body.size, what)
                } else {
                    val e = assertThrows<HttpTransportException.TooLarge>(what) { runBlocking { transport.send(request(hostile.url + "/big")) } }
                    assertEquals(1000L, e.limit, what)
                }
                assertNotNull(hostile.ended.poll(10, TimeUnit.SECONDS), what)
            }
        }
    }

    @Test
    fun `the transport's failures are Connect, Timeout or Other, and never name the token`() = runBlocking {
        HostileServer("http://127.0.0.1:9").use { hostile ->
            val transport = OkHttpTransport()
            fun HttpTransportException.text() = "$message ${(this as? HttpTransportException.Other)?.reason.orEmpty()}"

            // Nothing listens on a port just closed.
            val port = java.net.ServerSocket(0).use { it.localPort }
            val refused = assertThrows<HttpTransportException.Connect> { runBlocking { transport.send(request("http://127.0.0.1:$port/v1/me")) } }
            assertTrue(refused.reason.contains("ConnectException"), refused.reason)

            hostile.script = { _, _ -> Answer.Hang }
            val started = System.nanoTime()
            val timeout = assertThrows<HttpTransportException.Timeout> {
                runBlocking { transport.send(request(hostile.url + "/v1/me", timeoutMs = 300)) }
            }
            assertTrue(started.sinceMs in 300..10_000, "timed out after ${started.sinceMs} ms")
            assertTrue(hostile.ended.poll(10, TimeUnit.SECONDS)!!.clientClosed)

            hostile.script = { _, _ -> Answer.Raw("NOT HTTP AT ALL\r\n\r\n") }
            val garbage = assertThrows<HttpTransportException.Other> { runBlocking { transport.send(request(hostile.url + "/v1/me")) } }

            // A header value OkHttp refuses (a line break): named by its name only.
            val bad = request(hostile.url).copy(headers = listOf(HttpHeader("authorization", "Bearer wst_secret-token\nX-Evil: 1")))
            val header = assertThrows<HttpTransportException.Other> { runBlocking { transport.send(bad) } }
            assertTrue(header.reason.contains("'authorization'"), header.reason)
            val notUrl = assertThrows<HttpTransportException.Other> { runBlocking { transport.send(request("wst_secret-token")) } }

            for (e in listOf(refused, timeout, garbage, header, notUrl)) {
                assertFalse(e.text().contains("secret"), "${e.javaClass.simpleName}: ${e.text()}")
            }

            // Statuses, repeated headers and the body come back as they were sent.
            hostile.script = { _, _ ->
                Answer.Raw("HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nX-Seen: a\r\nX-Seen: b\r\nContent-Length: 4\r\n\r\nbusy")
            }
            val resp = transport.send(request(hostile.url + "/v1/sync").copy(method = "POST", body = byteArrayOf(1, 2, 3)))
            assertEquals(503, resp.status)
            assertEquals(listOf("a", "b"), resp.headers.filter { it.name.equals("x-seen", true) }.map { it.value })
            assertEquals("7", resp.headers.single { it.name.equals("retry-after", true) }.value)
            assertArrayEquals("busy".toByteArray(), resp.body)
            assertEquals("POST /v1/sync", hostile.seen.last().toString())
        }
    }
}
