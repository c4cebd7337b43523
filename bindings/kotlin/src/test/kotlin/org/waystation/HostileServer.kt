package org.waystation

import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.InputStream
import java.io.OutputStream
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/**
 * A small HTTP/1.1 server on loopback that answers as [script] says: it forwards a request to
 * the real `waystation-server` at [upstream], or misbehaves (hangs, answers a status, drops the
 * connection halfway through a body, sends a body longer than the client accepts). Every
 * connection carries one request and is closed after it (`Connection: close`), so each request
 * the client makes is one connection here and is counted in [seen].
 *
 * Raw sockets, as SyncTest's proxy: nothing in the real server is changed, and what the client
 * does on the wire (a cancel closing the socket, a read stopped at the cap) is seen here.
 */
class HostileServer(private val upstream: String) : AutoCloseable {
    /** A request as it arrived: `POST /v1/sync`, and when (System.nanoTime). */
    data class Seen(val method: String, val path: String, val atNanos: Long) {
        override fun toString() = "$method $path"
    }

    sealed interface Answer {
        /** Relayed to the real server and its answer back. */
        data object Forward : Answer

        /** These bytes (a status line, headers and a body), then the connection is closed. */
        class Raw(val bytes: ByteArray) : Answer {
            constructor(text: String) : this(text.toByteArray(Charsets.ISO_8859_1))
        }

        /** No answer: the connection stays open until the client closes it. */
        data object Hang : Answer

        /**
         * [head] (status line and headers, ending in a blank line), then [total] body bytes, in
         * chunked framing when [chunked]. Stops early when the client closes the connection.
         */
        class Stream(val head: String, val total: Long, val chunked: Boolean) : Answer
    }

    /** What happened to a [Answer.Hang] or [Answer.Stream] connection. */
    data class Ended(val bodyBytesWritten: Long, val clientClosed: Boolean, val atNanos: Long)

    private val listener = ServerSocket(0, 50, InetAddress.getLoopbackAddress())
    private val upstreamPort = URI(upstream).port
    private val sockets = CopyOnWriteArrayList<Socket>()

    /** How to answer the [index]-th request (0-based) of this server. Forward by default. */
    @Volatile var script: (index: Int, request: Seen) -> Answer = { _, _ -> Answer.Forward }

    /** Every request, in order of arrival. */
    val seen = CopyOnWriteArrayList<Seen>()

    /** One entry per hung or streamed connection, when it ended. */
    val ended = LinkedBlockingQueue<Ended>()

    /** A request arrived (its index), for a test waiting on it. */
    val arrived = LinkedBlockingQueue<Int>()

    val url = "http://127.0.0.1:${listener.localPort}"

    init {
        thread(isDaemon = true, name = "hostile-accept") {
            while (!listener.isClosed) {
                val client = runCatching { listener.accept() }.getOrNull() ?: break
                sockets += client
                thread(isDaemon = true, name = "hostile-conn") { runCatching { serve(client) }; runCatching { client.close() } }
            }
        }
    }

    private class Parsed(val method: String, val path: String, val headers: List<Pair<String, String>>, val body: ByteArray)

    private fun readHead(input: InputStream): String? {
        val out = ByteArrayOutputStream()
        var last4 = 0
        while (true) {
            val b = input.read()
            if (b < 0) return null
            out.write(b)
            last4 = (last4 shl 8) or b
            if (last4 == 0x0D0A0D0A) return out.toString(Charsets.ISO_8859_1)
            if (out.size() > 64 * 1024) throw IOException("request head over 64 KiB")
        }
    }

    private fun parse(input: InputStream): Parsed? {
        val head = readHead(input) ?: return null
        val lines = head.split("\r\n").filter { it.isNotEmpty() }
        val (method, path) = lines.first().split(' ').let { it[0] to it[1] }
        val headers = lines.drop(1).map { it.substringBefore(':').trim() to it.substringAfter(':').trim() }
        val length = headers.firstOrNull { it.first.equals("content-length", true) }?.second?.toInt() ?: 0
        val body = input.readNBytes(length)
        return Parsed(method, path, headers, body)
    }

    private fun serve(client: Socket) {
        client.soTimeout = 60_000
        val input = client.getInputStream().buffered()
        val request = parse(input) ?: return
        val seenNow = Seen(request.method, request.path, System.nanoTime())
        val index = synchronized(seen) { seen += seenNow; seen.size - 1 }
        arrived += index
        val out = client.getOutputStream()
        when (val answer = script(index, seenNow)) {
            Answer.Forward -> forward(request, out)
            is Answer.Raw -> runCatching { out.write(answer.bytes); out.flush() }
            Answer.Hang -> {
                // Reads until the client closes (or the 60 s guard passes).
                val closed = runCatching { input.read() }.map { it < 0 }.getOrDefault(true)
                ended += Ended(0, closed, System.nanoTime())
            }
            is Answer.Stream -> stream(answer, out)
        }
    }

    private fun stream(answer: Answer.Stream, out: OutputStream) {
        var written = 0L
        val chunk = ByteArray(64 * 1024) { 'x'.code.toByte() }
        val clientClosed = try {
            out.write(answer.head.toByteArray(Charsets.ISO_8859_1))
            while (written < answer.total) {
                val n = minOf(chunk.size.toLong(), answer.total - written).toInt()
                if (answer.chunked) out.write("${Integer.toHexString(n)}\r\n".toByteArray())
                out.write(chunk, 0, n)
                if (answer.chunked) out.write("\r\n".toByteArray())
                written += n
            }
            if (answer.chunked) out.write("0\r\n\r\n".toByteArray())
            out.flush()
            false
        } catch (e: IOException) {
            true
        }
        ended += Ended(written, clientClosed, System.nanoTime())
    }

    /** Relays [request] to the real server with `Connection: close` and its answer back. */
    private fun forward(request: Parsed, out: OutputStream) {
        Socket(InetAddress.getLoopbackAddress(), upstreamPort).use { up ->
            val head = StringBuilder("${request.method} ${request.path} HTTP/1.1\r\n")
            request.headers.filterNot { it.first.equals("connection", true) }
                .forEach { (n, v) -> head.append("$n: $v\r\n") }
            head.append("Connection: close\r\n\r\n")
            up.getOutputStream().apply {
                write(head.toString().toByteArray(Charsets.ISO_8859_1))
                write(request.body)
                flush()
            }
            val upIn = up.getInputStream().buffered()
            val answerHead = readHead(upIn) ?: return
            // The client must not reuse this connection: one request per connection here.
            val lines = answerHead.trimEnd().split("\r\n").filterNot { it.startsWith("connection:", ignoreCase = true) }
            out.write((lines.joinToString("\r\n") + "\r\nConnection: close\r\n\r\n").toByteArray(Charsets.ISO_8859_1))
            upIn.transferTo(out)
            out.flush()
        }
    }

    /** Waits for the [n]-th request (1-based) to arrive. */
    fun awaitRequests(n: Int, seconds: Long = 30): Boolean {
        val until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)
        while (seen.size < n) {
            val left = until - System.nanoTime()
            if (left <= 0) return false
            arrived.poll(left, TimeUnit.NANOSECONDS)
        }
        return true
    }

    override fun close() {
        listener.close()
        sockets.forEach { runCatching { it.close() } }
    }

    companion object {
        /** An answer of [status] with [headers], a small text body, and the connection closed. */
        fun status(status: Int, vararg headers: String, body: String = "hostile"): Answer.Raw {
            val lines = listOf("HTTP/1.1 $status Hostile") + headers.toList() +
                listOf("Content-Type: text/plain", "Content-Length: ${body.toByteArray().size}", "Connection: close")
            return Answer.Raw(lines.joinToString("\r\n") + "\r\n\r\n" + body)
        }
    }
}
