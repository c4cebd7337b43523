package org.waystation

import java.io.IOException
import java.io.InterruptedIOException
import java.net.ConnectException
import java.net.NoRouteToHostException
import java.net.UnknownHostException
import java.util.concurrent.TimeUnit
import javax.net.ssl.SSLHandshakeException
import javax.net.ssl.SSLPeerUnverifiedException
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException
import kotlinx.coroutines.suspendCancellableCoroutine
import okhttp3.Call
import okhttp3.Callback
import okhttp3.Headers
import okhttp3.HttpUrl.Companion.toHttpUrlOrNull
import okhttp3.Interceptor
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody.Companion.toRequestBody
import okhttp3.Response
import okio.Buffer
import org.waystation.core.HttpHeader
import org.waystation.core.HttpRequest

/**
 * The core's [HttpTransport] on OkHttp: sync, pack fetch and photo fetch go through the
 * [OkHttpClient] the app passes, so they use the proxy, the trust store (the system's, the
 * user's and an organisation's installed CAs, as Android's network security config allows),
 * the connection pool, the interceptors and the event listener the app already configured.
 *
 * ```
 * val ws = Waystation(dataDir, options, OkHttpTransport(appOkHttpClient))
 * ```
 *
 * **Why OkHttp rather than `HttpURLConnection`.** Both honour the system proxy and the network
 * security config. OkHttp is what most Android apps already ship (Retrofit, Coil, Glide's
 * integration), so it costs them nothing and their client's configuration applies to sync
 * too; and it does what the transport needs without threads of our own: [Call.enqueue] with
 * [Call.cancel] stops a request at once from any thread, so a cancelled coroutine closes the
 * socket, while `HttpURLConnection` blocks a thread per request and can be interrupted only by
 * `disconnect()` racing its stream. OkHttp also has a whole-call timeout ([Call.timeout]:
 * connect, send and read together, what [HttpRequest.timeoutMs] means), where
 * `HttpURLConnection` has only per-read and connect timeouts; and the same code runs on the
 * JVM, so the tests here exercise exactly what ships in the app. What it costs an app that does
 * not use OkHttp yet: the OkHttp 5.5.1 and Okio 3.18 jars (0.96 MB and 0.39 MB compressed, before
 * R8 removes what the app does not call), against the built-in Rust HTTP and TLS stack that phone
 * builds of the library leave out.
 *
 * What the transport does to the app's client ([OkHttpClient.newBuilder], which shares its
 * connection pool and dispatcher): it follows no redirect (the protocol has none, and a captive
 * portal's redirect to its login page must not be read as the server's answer, as in the
 * built-in transport), and each request's [HttpRequest.timeoutMs] is the call timeout and the
 * read and write timeouts (the connect timeout is the client's when shorter), so a slow but
 * live server is given the whole timeout the core asked for. Retries, `Retry-After` and
 * backoff stay in the core, the same for every transport; OkHttp's own silent retry of a
 * stale pooled connection ([OkHttpClient.retryOnConnectionFailure]) is left as the app set it.
 *
 * A response body is read as it arrives and never past [HttpRequest.maxBodyBytes]: one byte
 * more ends the request with [HttpTransportException.TooLarge], whatever `Content-Length` said
 * (a `Content-Length` over the limit ends it before any of the body is read). Failures map to
 * [HttpTransportException.Connect] (DNS, refused, no route, TLS handshake or certificate),
 * [HttpTransportException.Timeout] and [HttpTransportException.Other]; their reasons name the
 * exception and OkHttp's message, never a header value (the token) or the body.
 */
class OkHttpTransport(client: OkHttpClient = OkHttpClient()) : HttpTransport {
    private val client: OkHttpClient = client.newBuilder()
        .followRedirects(false)
        .followSslRedirects(false)
        .addInterceptor(RequestTimeouts)
        .build()

    override suspend fun send(request: HttpRequest): HttpResponse {
        val call = client.newCall(toOkHttp(request))
        call.timeout().timeout(request.timeoutMs, TimeUnit.MILLISECONDS)
        return suspendCancellableCoroutine { continuation ->
            // The core dropped the request (its sync was cancelled): uniffi cancels this
            // coroutine, and the socket is closed at once.
            continuation.invokeOnCancellation { call.cancel() }
            call.enqueue(object : Callback {
                override fun onFailure(call: Call, e: IOException) {
                    continuation.resumeWithException(failure(e))
                }

                // On OkHttp's dispatcher thread: reading the body here blocks no coroutine.
                override fun onResponse(call: Call, response: Response) {
                    val result = try {
                        response.use { read(call, it, request.maxBodyBytes) }
                    } catch (e: HttpTransportException) {
                        return continuation.resumeWithException(e)
                    } catch (e: IOException) {
                        return continuation.resumeWithException(failure(e))
                    } catch (e: RuntimeException) {
                        // Never left unanswered: the core would wait out the request's timeout.
                        return continuation.resumeWithException(HttpTransportException.Other(e.javaClass.simpleName))
                    }
                    continuation.resume(result)
                }
            })
        }
    }

    /** The per-request timeouts, carried to [RequestTimeouts] as the request's tag. */
    private class Timeouts(val millis: Int)

    /**
     * Sets the read and write timeouts of each call to its request's timeout, and the connect
     * timeout to the shorter of it and the client's, so that the call timeout is what limits
     * a request.
     */
    private object RequestTimeouts : Interceptor {
        override fun intercept(chain: Interceptor.Chain): Response {
            val millis = chain.request().tag(Timeouts::class.java)?.millis ?: return chain.proceed(chain.request())
            val connect = chain.connectTimeoutMillis().let { if (it in 1 until millis) it else millis }
            return chain
                .withConnectTimeout(connect, TimeUnit.MILLISECONDS)
                .withReadTimeout(millis, TimeUnit.MILLISECONDS)
                .withWriteTimeout(millis, TimeUnit.MILLISECONDS)
                .proceed(chain.request())
        }
    }

    private companion object {
        /** The most characters of an exception's message that go into a reason. */
        const val MAX_REASON = 300

        fun toOkHttp(request: HttpRequest): Request {
            if (request.timeoutMs <= 0) throw HttpTransportException.Other("timeoutMs must be > 0, got ${request.timeoutMs}")
            if (request.maxBodyBytes <= 0) throw HttpTransportException.Other("maxBodyBytes must be > 0, got ${request.maxBodyBytes}")
            val url = request.url.toHttpUrlOrNull()
                ?: throw HttpTransportException.Other("the URL is not an absolute http(s) URL")
            val headers = Headers.Builder()
            for (h in request.headers) {
                try {
                    headers.add(h.name, h.value)
                } catch (e: IllegalArgumentException) {
                    // OkHttp's message may quote the value: name the header only.
                    throw HttpTransportException.Other("header '${h.name.take(60)}' is not a valid HTTP header")
                }
            }
            val method = request.method.uppercase()
            val body = when {
                method != "GET" && method != "HEAD" -> request.body.toRequestBody(null)
                request.body.isEmpty() -> null
                else -> throw HttpTransportException.Other("a $method request carries no body")
            }
            return try {
                Request.Builder()
                    .url(url)
                    .headers(headers.build())
                    .method(method, body)
                    .tag(Timeouts::class.java, Timeouts(request.timeoutMs.coerceAtMost(Int.MAX_VALUE.toLong()).toInt()))
                    .build()
            } catch (e: IllegalArgumentException) {
                throw HttpTransportException.Other("method '${method.take(20)}' is not valid here")
            }
        }

        /**
         * The status, headers and body of [response], the body read up to [max] bytes: one more
         * is [HttpTransportException.TooLarge], and [call] is cancelled, which closes the
         * connection at once (closing the body alone would make OkHttp read on, up to 100 ms,
         * to keep the connection).
         */
        fun read(call: Call, response: Response, max: Long): HttpResponse {
            val headers = response.headers.map { (name, value) -> HttpHeader(name, value) }
            val body = response.body
            val tooLarge = {
                call.cancel()
                HttpTransportException.TooLarge(max)
            }
            if (body.contentLength() > max) throw tooLarge()
            val source = body.source()
            val buffer = Buffer()
            while (true) {
                // Asks for at most one byte past the limit, so a longer body is never held.
                val n = source.read(buffer, minOf(64L * 1024, max + 1 - buffer.size))
                if (n == -1L) break
                if (buffer.size > max) throw tooLarge()
            }
            return HttpResponse(status = response.code, headers = headers, body = buffer.readByteArray())
        }

        /** OkHttp's failure as the core's kind of transport error. */
        fun failure(e: IOException): HttpTransportException {
            val reason = "${e.javaClass.simpleName}: ${e.message.orEmpty().take(MAX_REASON)}"
            return when (e) {
                is UnknownHostException, is ConnectException, is NoRouteToHostException,
                is SSLHandshakeException, is SSLPeerUnverifiedException,
                -> HttpTransportException.Connect(reason)
                // SocketTimeoutException (connect, read, write) and the whole-call timeout.
                is InterruptedIOException -> HttpTransportException.Timeout(reason)
                else -> HttpTransportException.Other(reason)
            }
        }
    }
}
