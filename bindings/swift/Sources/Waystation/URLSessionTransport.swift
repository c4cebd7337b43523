// The core's HTTP on URLSession: the HttpTransport an iOS app passes to
// Waystation(dataDir:options:transport:).

import Foundation

/// The core's `HttpTransport` on `URLSession`: sync, pack fetch and photo fetch go through the
/// session the app passes (`.shared` by default), so they use the system's proxy and VPN
/// settings, its trust store (with the profiles an organisation installs), App Transport
/// Security, and the session's configuration. The phone library has no HTTP or TLS stack of its
/// own (scripts/build-xcframework.sh builds it without one).
///
/// ```swift
/// let ws = try Waystation(dataDir: dir.path, options: options, transport: URLSessionTransport())
/// ```
///
/// - Cancellation: uniffi runs `send` in a `Task` that it cancels when the core no longer wants
///   the answer (a cancelled sync); `bytes(for:)` and the body's iteration honour it, which
///   cancels the URLSession task. `URLError.cancelled` is rethrown as `CancellationError`.
/// - Timeout: `HttpRequest.timeoutMs` bounds the whole request (connect, send, read). It is the
///   request's `timeoutInterval` too, which URLSession applies to each wait for data, and a
///   deadline raced against the request ends it when the whole time is up, however slowly the
///   server trickles bytes.
/// - Body cap: the body is read as it arrives and never past `maxBodyBytes`: one byte more
///   cancels the task and throws `.TooLarge`, whatever `Content-Length` said (one over the cap
///   ends the request before any of the body is read).
/// - No redirects: the protocol has none, and a captive portal's redirect to its login page must
///   not be read as the server's answer; the `3xx` is handed to the core as it is.
/// - Errors: `.Connect` when no connection could be made (offline, DNS, refused, TLS and
///   certificate failures, ATS), `.Timeout`, `.TooLarge`, `.Other` for the rest. Reasons name
///   the `URLError` code, never a header value (the token) or a body.
/// - Headers: Foundation joins a repeated response header into one value (`a, b`); the core
///   reads single-valued headers only.
///
/// **Why not a background URLSession.** A background session (`URLSessionConfiguration
/// .background`) carries upload and download tasks on while the app is suspended, but only
/// file-based tasks with a delegate, whose results may arrive in a later launch of the app
/// (`application(_:handleEventsForBackgroundURLSession:completionHandler:)`); `data(for:)` and
/// `bytes(for:)` are not available on it. A sync is a conversation, not a transfer: each request
/// depends on the last answer (is the photo there? upload it; then the documents, with the
/// server's cursor), under the sync's lock, with the core's retries and cancellation. So sync
/// runs on this transport, in the foreground or in a `BGTaskScheduler` task (the iOS demo's
/// background sync). What a background session would take: the photo uploads (the large,
/// independent transfers) handed to it as upload tasks from the photo files, and a core call
/// to record each finished upload when the app is next woken (its status, and the `ETag` and
/// protocol header that prove the server stored the photo), the rest of the sync staying here.
public final class URLSessionTransport: HttpTransport {
    private let session: URLSession

    /// A transport on `session`: the app's own (its configuration, delegate-free), or `.shared`.
    public init(session: URLSession = .shared) {
        self.session = session
    }

    public func send(request: HttpRequest) async throws -> HttpResponse {
        let urlRequest = try Self.urlRequest(for: request)
        let limit = request.maxBodyBytes
        let session = self.session
        do {
            return try await Self.withDeadline(milliseconds: request.timeoutMs) { () async throws -> HttpResponse in
                let (bytes, response) = try await session.bytes(for: urlRequest, delegate: NoRedirects.shared)
                guard let http = response as? HTTPURLResponse else {
                    bytes.task.cancel()
                    throw HttpTransportError.Other(reason: "the answer is not an HTTP response")
                }
                if http.expectedContentLength > limit {
                    bytes.task.cancel()
                    throw HttpTransportError.TooLarge(limit: limit)
                }
                var body = Data()
                for try await byte in bytes {
                    if Int64(body.count) >= limit {
                        bytes.task.cancel()
                        throw HttpTransportError.TooLarge(limit: limit)
                    }
                    body.append(byte)
                }
                let headers = http.allHeaderFields.map { name, value in
                    HttpHeader(name: String(describing: name), value: String(describing: value))
                }
                return HttpResponse(status: Int32(clamping: http.statusCode), headers: headers, body: body)
            }
        } catch let error as HttpTransportError {
            throw error
        } catch is DeadlinePassed {
            throw HttpTransportError.Timeout(reason: "no complete answer within \(request.timeoutMs) ms")
        } catch let error as URLError {
            throw Self.transportError(error)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw HttpTransportError.Other(reason: "\(type(of: error))")
        }
    }

    /// The request as URLSession takes it; what it cannot carry is `.Other`, naming no value.
    static func urlRequest(for request: HttpRequest) throws -> URLRequest {
        guard request.timeoutMs > 0, request.maxBodyBytes > 0 else {
            throw HttpTransportError.Other(reason: "timeoutMs and maxBodyBytes must be > 0")
        }
        guard let url = URL(string: request.url), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", url.host != nil else {
            throw HttpTransportError.Other(reason: "the URL is not an absolute http(s) URL")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method.uppercased()
        urlRequest.timeoutInterval = Double(request.timeoutMs) / 1000
        for header in request.headers {
            guard !header.name.isEmpty,
                  !(header.name + header.value).contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw HttpTransportError.Other(reason: "header '\(header.name.prefix(60))' is not a valid HTTP header")
            }
            urlRequest.addValue(header.value, forHTTPHeaderField: header.name)
        }
        let method = urlRequest.httpMethod ?? "GET"
        if method == "GET" || method == "HEAD" {
            guard request.body.isEmpty else {
                throw HttpTransportError.Other(reason: "a \(method) request carries no body")
            }
        } else {
            urlRequest.httpBody = request.body
        }
        return urlRequest
    }

    /// URLSession's error as the core's kind of transport error.
    static func transportError(_ error: URLError) -> Error {
        let reason = "URLError \(error.code.rawValue): \(error.localizedDescription)"
        switch error.code {
        case .notConnectedToInternet, .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed,
             .internationalRoamingOff, .dataNotAllowed, .callIsActive,
             .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot,
             .clientCertificateRejected, .clientCertificateRequired,
             .appTransportSecurityRequiresSecureConnection:
            return HttpTransportError.Connect(reason: reason)
        case .timedOut:
            return HttpTransportError.Timeout(reason: reason)
        case .cancelled:
            return CancellationError()
        default:
            return HttpTransportError.Other(reason: reason)
        }
    }

    /// The whole-request deadline passed.
    private struct DeadlinePassed: Error {}

    /// A response passed between tasks. The generated records are `Sendable` only with Swift 6
    /// compilers; a response is a value nobody shares, so this holds under Swift 5.9 too.
    private struct Answer: @unchecked Sendable {
        let response: HttpResponse
    }

    /// `operation`'s response, or `DeadlinePassed` once `milliseconds` have passed (the
    /// operation is then cancelled). A cancelled caller cancels both.
    private static func withDeadline(
        milliseconds: Int64,
        _ operation: @escaping @Sendable () async throws -> HttpResponse
    ) async throws -> HttpResponse {
        // At most a day: the nanoseconds must fit in UInt64.
        let nanoseconds = UInt64(min(max(milliseconds, 1), 86_400_000)) * 1_000_000
        return try await withThrowingTaskGroup(of: Answer.self) { group in
            group.addTask { Answer(response: try await operation()) }
            group.addTask {
                try await Task.sleep(nanoseconds: nanoseconds)
                throw DeadlinePassed()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first.response
        }
    }
}

/// Hands a redirect to the core as the answer it is, rather than following it.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    static let shared = NoRedirects()

    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
