"""Checks of the Swift package's hand-written sources (bindings/swift/Sources/Waystation), for
check_swift.py, as far as reading the text allows (no Swift compiler here):

  - a class that adopts a generated protocol (`URLSessionTransport: HttpTransport`) implements
    each of the protocol's methods with the protocol's name, argument labels, `async`, `throws`
    and return type; it is public (and so are those methods) or private, never internal, which
    an app could not see;
  - a function's parameter of a generated record type (`request: HttpRequest`) is read only
    through fields the record has (`request.timeoutMs`);
  - a switch over `URLError` codes names only codes URLError has, and maps the ones that matter
    to the core's kinds of transport error: no connection to `.Connect`, `.timedOut` to
    `.Timeout`, `.cancelled` to `CancellationError` (a cancel must stay a cancel);
  - the demo opens the core with a transport (`Waystation(..., transport: ...)`): the phone
    library is built without an HTTP stack of its own.

HAND_WRITTEN_MUTATIONS are the breaks check_swift.py --self-test makes in these sources.
"""
import re

from swift_text import code_only, matching, params

# Every URLError.Code (Foundation): a code named in a `case` pattern must be one of them.
URL_ERROR_CODES = {
    "unknown", "cancelled", "badURL", "timedOut", "unsupportedURL", "cannotFindHost",
    "cannotConnectToHost", "networkConnectionLost", "dnsLookupFailed", "httpTooManyRedirects",
    "resourceUnavailable", "notConnectedToInternet", "redirectToNonExistentLocation",
    "badServerResponse", "userCancelledAuthentication", "userAuthenticationRequired",
    "zeroByteResource", "cannotDecodeRawData", "cannotDecodeContentData", "cannotParseResponse",
    "appTransportSecurityRequiresSecureConnection", "fileDoesNotExist", "fileIsDirectory",
    "noPermissionsToReadFile", "dataLengthExceedsMaximum", "secureConnectionFailed",
    "serverCertificateHasBadDate", "serverCertificateUntrusted", "serverCertificateHasUnknownRoot",
    "serverCertificateNotYetValid", "clientCertificateRejected", "clientCertificateRequired",
    "cannotLoadFromNetwork", "cannotCreateFile", "cannotOpenFile", "cannotCloseFile",
    "cannotWriteToFile", "cannotRemoveFile", "cannotMoveFile", "downloadDecodingFailedMidStream",
    "downloadDecodingFailedToComplete", "internationalRoamingOff", "callIsActive",
    "dataNotAllowed", "requestBodyStreamExhausted", "backgroundSessionRequiresSharedContainer",
    "backgroundSessionInUseByAnotherProcess", "backgroundSessionWasDisconnected",
}

# What a transport must turn these URLError codes into.
REQUIRED_MAPPING = {
    "notConnectedToInternet": "Connect", "cannotConnectToHost": "Connect",
    "cannotFindHost": "Connect", "secureConnectionFailed": "Connect",
    "timedOut": "Timeout", "cancelled": "CancellationError",
}


def signature(text_after_params: str):
    """(async, throws, return type) from what follows a `func f(...)` parameter list."""
    head = re.match(r"[^{\n]*", text_after_params).group(0)
    ret = re.search(r"->\s*([\w.\[\]?]+)", head)
    return ("async" in re.findall(r"\w+", head.split("->")[0]),
            "throws" in re.findall(r"\w+", head.split("->")[0]),
            ret.group(1) if ret else "Void")


def protocols(generated: str) -> dict:
    """{protocol: {method: (labels, async, throws, return type)}} of the generated protocols."""
    s = code_only(generated)
    out = {}
    for p in re.finditer(r"^public protocol (\w+)\b[^{]*\{", s, re.M):
        body = s[p.end():matching(s, p.end() - 1)]
        methods = out.setdefault(p.group(1), {})
        for m in re.finditer(r"\bfunc (\w+)\(", body):
            close = matching(body, m.end() - 1)
            labels = tuple(l for l, _ in params(body[m.end():close]))
            methods[m.group(1)] = (labels,) + signature(body[close + 1:])
    return out


def record_fields(generated: str) -> dict:
    """{record: {field}} of the generated structs (`public var name: Type`)."""
    s = code_only(generated)
    out = {}
    for m in re.finditer(r"public struct (\w+)\b[^{]*\{", s):
        body = s[m.end():matching(s, m.end() - 1)]
        out[m.group(1)] = set(re.findall(r"public (?:var|let) (\w+)\s*:", body))
    return out


def check_conformance(protos: dict, files: dict) -> list:
    errors = []
    for name, text in files.items():
        code = code_only(text)
        for c in re.finditer(r"^((?:public |open |final |private |fileprivate |internal )*)class (\w+)\s*:\s*([^{]+)\{", code, re.M):
            adopted = [p.strip() for p in c.group(3).split(",")]
            body = code[c.end():matching(code, c.end() - 1)]
            for proto in (p for p in adopted if p in protos):
                where = f"{name}:{code.count(chr(10), 0, c.start()) + 1}"
                modifiers = c.group(1).split()
                # Public for apps to use, or private as a detail; internal is invisible to an app.
                public = "public" in modifiers or "open" in modifiers
                if not public and not {"private", "fileprivate"} & set(modifiers):
                    errors.append(f"{where}: class {c.group(2)} adopts {proto} but is internal: make it public "
                                  "(an app cannot use it otherwise) or private")
                for method, (labels, is_async, throws, ret) in protos[proto].items():
                    found = re.search(rf"^\s*((?:\w+\s+)*)func {method}\(", body, re.M)
                    if not found:
                        errors.append(f"{where}: {c.group(2)} adopts {proto} but has no func {method}")
                        continue
                    close = matching(body, found.end() - 1)
                    got = (tuple(l for l, _ in params(body[found.end():close])),) + signature(body[close + 1:])
                    want = (labels, is_async, throws, ret)
                    if got != want:
                        errors.append(f"{where}: {c.group(2)}.{method} is (labels, async, throws, returns) {got}, "
                                      f"{proto} declares {want}")
                    if public and "public" not in found.group(1).split():
                        errors.append(f"{where}: {c.group(2)}.{method} must be public ({proto} is)")
    return errors


def check_record_fields(fields: dict, files: dict) -> list:
    """A parameter of a generated record type is read only through the record's fields."""
    errors = []
    for name, text in files.items():
        code = code_only(text)
        for f in re.finditer(r"\bfunc (\w+)\(", code):
            close = matching(code, f.end() - 1)
            brace = code.find("{", close)
            if brace < 0 or re.search(r"\bfunc\b", code[close:brace]):
                continue  # a declaration without a body
            body = code[brace:matching(code, brace)]
            for part in code[f.end():close].split(","):
                m = re.match(r"\s*(?:\w+\s+)?(\w+)\s*:\s*(\w+)\s*$", part)
                if not m or m.group(2) not in fields:
                    continue
                var, record = m.groups()
                for use in re.finditer(rf"(?<![\w.]){var}\.(\w+)\b", body):
                    if use.group(1) not in fields[record]:
                        line = code.count("\n", 0, brace + use.start()) + 1
                        errors.append(f"{name}:{line}: {var}.{use.group(1)}: {record} has no field {use.group(1)} "
                                      f"(it has {', '.join(sorted(fields[record]))})")
    return errors


def check_url_error_mapping(files: dict) -> list:
    """Each switch over URLError codes maps the codes that matter as REQUIRED_MAPPING says."""
    errors = []
    for name, text in files.items():
        code = code_only(text)
        for sw in re.finditer(r"\bswitch\s+\w+\.code\s*\{", code):
            body = code[sw.end():matching(code, sw.end() - 1)]
            mapped = {}
            arms = list(re.finditer(r"\bcase\s+([^:]+):", body))
            for i, arm in enumerate(arms):
                end = arms[i + 1].start() if i + 1 < len(arms) else len(body)
                stmt = body[arm.end():end]
                kind = re.search(r"\bHttpTransportError\.(\w+)|\b(CancellationError)\b", stmt)
                for c in re.findall(r"\.(\w+)", arm.group(1)):
                    if c not in URL_ERROR_CODES:
                        errors.append(f"{name}: URLError has no code .{c}")
                    mapped[c] = (kind.group(1) or kind.group(2)) if kind else "?"
            if not mapped:
                continue
            for c, want in REQUIRED_MAPPING.items():
                if mapped.get(c) != want:
                    errors.append(f"{name}: URLError .{c} must become {want}, not {mapped.get(c, 'the default')}")
    return errors


def check_hand_written(protos: dict, fields: dict, files: dict) -> list:
    return check_conformance(protos, files) + check_record_fields(fields, files) + check_url_error_mapping(files)


def check_demo_transport(files: dict) -> list:
    """The demo opens the core with its platform transport: the phone library has no HTTP."""
    errors = []
    for name, text in files.items():
        code = code_only(text)
        for m in re.finditer(r"(?<![\w.])Waystation\(", code):
            args = code[m.end():matching(code, m.end() - 1)]
            if not re.search(r"\btransport\s*:\s*URLSessionTransport\(", args):
                errors.append(f"{name}:{code.count(chr(10), 0, m.start()) + 1}: Waystation(...) without "
                              "transport: URLSessionTransport(...): the phone library has no HTTP stack of its own")
    return errors


# (file, old, new): each must make check_hand_written (or the call checks) fail.
HAND_WRITTEN_MUTATIONS = [
    ("URLSessionTransport.swift", "public func send(request: HttpRequest) async throws -> HttpResponse",
     "public func send(req: HttpRequest) async throws -> HttpResponse"),
    ("URLSessionTransport.swift", "public func send(request: HttpRequest) async throws -> HttpResponse",
     "public func send(request: HttpRequest) throws -> HttpResponse"),
    ("URLSessionTransport.swift", "public func send(request: HttpRequest) async throws -> HttpResponse",
     "public func sendRequest(request: HttpRequest) async throws -> HttpResponse"),
    ("URLSessionTransport.swift", "public func send(request: HttpRequest) async throws -> HttpResponse",
     "func send(request: HttpRequest) async throws -> HttpResponse"),
    ("URLSessionTransport.swift", "public final class URLSessionTransport: HttpTransport",
     "final class URLSessionTransport: HttpTransport"),
    ("URLSessionTransport.swift", "request.timeoutMs > 0", "request.timeout > 0"),
    ("URLSessionTransport.swift", "let limit = request.maxBodyBytes", "let limit = request.maxBody"),
    ("URLSessionTransport.swift", "case .timedOut:", "case .timeout:"),
    ("URLSessionTransport.swift", "case .notConnectedToInternet, .cannotConnectToHost,", "case .cannotConnectToHost,"),
    ("URLSessionTransport.swift", "return CancellationError()", "return HttpTransportError.Other(reason: reason)"),
    ("URLSessionTransport.swift", "HttpTransportError.TooLarge(limit: limit)", "HttpTransportError.TooLarge(max: limit)"),
    ("URLSessionTransport.swift", "HttpResponse(status: Int32(clamping: http.statusCode), headers: headers, body: body)",
     "HttpResponse(code: Int32(clamping: http.statusCode), headers: headers, body: body)"),
    ("URLSessionTransport.swift", 'HttpHeader(name: String(describing: name), value: String(describing: value))',
     'HttpHeader(key: String(describing: name), value: String(describing: value))'),
]
