"""The app's own HTTP stack: a Python class implementing the async foreign trait
`HttpTransport`, given once to `Waystation(data_dir, options, transport)`.

`Proxy` is an honest transport: it sends every request to the real `waystation-server` on
loopback with urllib (in a thread, so the event loop stays free) and honours the request's
timeout and body cap. Its subclasses lie (non-HTTP statuses, bodies over the cap, garbage,
odd headers), throw, hang or ignore the timeout. Whatever the transport does, the sync ends
with a clean `WaystationError` (or `Cancelled`) and the outbox keeps what was not sent.

uniffi runs the transport's coroutine on the event loop named by `uniffi_set_event_loop`
(a sync calls it from a worker thread, which has no loop of its own): `run_on_loop` sets it
for the call and clears it after.
"""

import asyncio
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import waystation as w
from conftest import demo_options
from test_sync import Server, device, options, server, submitted_report  # noqa: F401

YANTA = "610113"


def run_on_loop(coroutine):
    """Runs one call that goes through a Python transport, with uniffi's event loop set."""

    async def main():
        w.uniffi_set_event_loop(asyncio.get_running_loop())
        try:
            return await coroutine
        finally:
            w.uniffi_set_event_loop(None)

    return asyncio.run(main())


def opened(path: Path, transport) -> w.Waystation:
    return w.Waystation(str(path), demo_options(), transport)


class Proxy(w.HttpTransport):
    """Sends each request to the real server with urllib, within the request's timeout, and
    reads at most `max_body_bytes` + 1 bytes of the body."""

    def __init__(self):
        self.requests = []

    def fetch(self, request):
        req = urllib.request.Request(
            request.url,
            data=bytes(request.body) or None,
            method=request.method,
            headers={h.name: h.value for h in request.headers},
        )
        try:
            resp = urllib.request.urlopen(req, timeout=request.timeout_ms / 1000)
        except urllib.error.HTTPError as e:
            resp = e
        except OSError as e:
            raise w.HttpTransportError.Connect(reason=type(e).__name__)
        with resp:
            body = resp.read(request.max_body_bytes + 1)
            if len(body) > request.max_body_bytes:
                raise w.HttpTransportError.TooLarge(limit=request.max_body_bytes)
            headers = [w.HttpHeader(name=k, value=v) for k, v in resp.headers.items()]
            return w.HttpResponse(status=resp.status, headers=headers, body=body)

    async def send(self, request):
        self.requests.append(request)
        return await asyncio.to_thread(self.fetch, request)

    def paths(self):
        return [(r.method, r.url.split("/", 3)[3].split("/")[1:3]) for r in self.requests]


def test_a_full_sync_goes_through_the_apps_transport(server, tmp_path):
    """Report and photo up, the case down, a photo and the packs fetched: every request of a
    rider's and a station's device goes through their Python transports."""
    rider_http, staff_http = Proxy(), Proxy()
    rider = opened(tmp_path / "rider", rider_http)
    rid = submitted_report(rider)
    report = run_on_loop(rider.sync().run(options(server, server.rider)))
    assert (report.documents_sent, report.photos_uploaded, report.complete) == (1, 1, True)
    assert rider.sync().status().pending_documents == 0
    methods = {r.method for r in rider_http.requests}
    assert {"HEAD", "PUT", "POST"} <= methods, methods
    assert len(rider_http.requests) >= report.requests

    staff = opened(tmp_path / "staff", staff_http)
    got = run_on_loop(staff.sync().run(options(server, server.staff)))
    assert got.documents_received == 1
    staff.cases().record(rid, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.ACKNOWLEDGE(), "收到")
    run_on_loop(staff.sync().run(options(server, server.staff)))
    run_on_loop(rider.sync().run(options(server, server.rider)))
    assert rider.cases().get(rid).status == w.CaseStatus.ACKNOWLEDGED

    sha = rider.reports().get(rid).photos[0].sha256
    before = len(staff_http.requests)
    path = run_on_loop(staff.reports().fetch_photo(options(server, server.staff), sha))
    assert Path(path).read_bytes() == Path(rider.reports().photo_path(sha)).read_bytes()
    assert staff_http.requests[before].url.endswith(f"/v1/photos/{sha}")

    before = len(staff_http.requests)
    fetched = run_on_loop(staff.packs().fetch(options(server, server.staff)))
    assert fetched.training is None  # nothing published; asked through the transport
    asked = [r.url.split("/v1/")[1] for r in staff_http.requests[before:]]
    assert "packs/stations" in asked and "packs/training" in asked, asked


def test_the_transport_gets_the_timeout_the_cap_and_the_token_header(server, tmp_path):
    http = Proxy()
    ws = opened(tmp_path / "phone", http)
    submitted_report(ws)
    opts = w.SyncOptions(server=server.url, token=server.rider, timeout_ms=4321, attempts=1)
    run_on_loop(ws.sync().run(opts))
    assert http.requests
    for r in http.requests:
        assert r.timeout_ms == 4321
        assert 0 < r.max_body_bytes < 2**40
        assert r.url.startswith(server.url + "/v1/")
        assert {"authorization": f"Bearer {server.rider}"}.items() <= {
            h.name: h.value for h in r.headers
        }.items()
        assert r.method in ("GET", "HEAD", "PUT", "POST")
        assert (r.method in ("GET", "HEAD")) <= (len(r.body) == 0)
    # The default timeout is 30 s.
    http.requests.clear()
    submitted_report(ws)
    run_on_loop(ws.sync().run(w.SyncOptions(server=server.url, token=server.rider)))
    assert {r.timeout_ms for r in http.requests} == {30_000}


def assert_nothing_lost(ws: w.Waystation, pending: int = 1):
    status = ws.sync().status()
    assert status.pending_documents == pending, status
    assert status.last_error


class Throwing(Proxy):
    """Throws `error` until healed; then an honest proxy."""

    def __init__(self, error):
        super().__init__()
        self.error = error
        self.healed = False

    async def send(self, request):
        if self.healed:
            return await super().send(request)
        self.requests.append(request)
        raise self.error


@pytest.mark.parametrize(
    "error",
    [RuntimeError("boom"), ValueError("not a response"), KeyError("x"),
     w.HttpTransportError.Connect(reason="offline"), w.HttpTransportError.Timeout(reason="slow"),
     w.HttpTransportError.Other(reason="tls alert")],
    ids=["RuntimeError", "ValueError", "KeyError", "Connect", "Timeout", "Other"],
)
def test_a_transport_that_throws_is_a_network_error_and_loses_nothing(server, tmp_path, error):
    http = Throwing(error)
    ws = opened(tmp_path / "phone", http)
    submitted_report(ws)
    with pytest.raises(w.WaystationError.Network) as e:
        run_on_loop(ws.sync().run(options(server, server.rider, attempts=2)))
    assert "after 2 attempts" in e.value.reason
    assert server.rider not in e.value.reason
    assert len(http.requests) == 2  # retried like any failure to get an answer
    assert_nothing_lost(ws)
    # Once the transport works again, the same report goes.
    http.healed = True
    assert run_on_loop(ws.sync().run(options(server, server.rider))).documents_sent == 1


class Status(Proxy):
    def __init__(self, status):
        super().__init__()
        self.status = status

    async def send(self, request):
        self.requests.append(request)
        return w.HttpResponse(status=self.status, headers=[], body=b"")


@pytest.mark.parametrize("status", [0, -1, 99, 600, 999, 2**31 - 1])
def test_a_status_that_is_not_http_is_an_error_naming_it(server, tmp_path, status):
    ws = opened(tmp_path / "phone", Status(status))
    submitted_report(ws)
    with pytest.raises(w.WaystationError.Network) as e:
        run_on_loop(ws.sync().run(options(server, server.rider, attempts=1)))
    assert f"status {status}" in e.value.reason and "not an HTTP status" in e.value.reason
    assert_nothing_lost(ws)


class Oversized(Proxy):
    """Ignores the cap: hands back the real answer padded past `max_body_bytes`."""

    async def send(self, request):
        resp = await super().send(request)
        resp.body = bytes(resp.body) + b"\0" * (request.max_body_bytes + 1 - len(resp.body))
        return resp


class SaysTooLarge(Proxy):
    async def send(self, request):
        self.requests.append(request)
        raise w.HttpTransportError.TooLarge(limit=request.max_body_bytes)


@pytest.mark.parametrize("transport", [Oversized, SaysTooLarge])
def test_a_body_over_the_cap_is_refused_and_not_retried(server, tmp_path, transport):
    http = transport()
    ws = opened(tmp_path / "phone", http)
    submitted_report(ws)
    with pytest.raises(w.WaystationError.Server) as e:
        run_on_loop(ws.sync().run(options(server, server.rider, attempts=3)))
    assert "bytes; it was not read" in e.value.reason
    assert len(http.requests) == 1, "a body over the cap is not asked for again"
    assert_nothing_lost(ws)


class Garbage(Proxy):
    """A 200 that claims to be CBOR and is not."""

    async def send(self, request):
        self.requests.append(request)
        headers = [w.HttpHeader(name="Content-Type", value="application/cbor")]
        return w.HttpResponse(status=200, headers=headers, body=bytes(range(256)) * 3)


def test_a_garbage_body_is_a_server_error_and_loses_nothing(server, tmp_path):
    ws = opened(tmp_path / "phone", Garbage())
    submitted_report(ws)
    with pytest.raises(w.WaystationError.Server) as e:
        run_on_loop(ws.sync().run(options(server, server.rider, attempts=1)))
    assert e.value.status == 200
    assert_nothing_lost(ws)


class OddHeaders(Proxy):
    """The real answer with duplicate, empty, odd and unprintable headers added after it."""

    async def send(self, request):
        resp = await super().send(request)
        odd = [("", ""), ("X Odd Name", "v"), ("x-nul", "a\0b\r\nInjected: 1"),
               ("Content-Type", "text/html"), ("ETag", '"not-the-photo"'),
               ("x-long", "y" * 100_000), ("Retry-After", "soon")]
        resp.headers = list(resp.headers) + [w.HttpHeader(name=n, value=v) for n, v in odd]
        return resp


def test_duplicate_and_odd_headers_after_the_real_ones_change_nothing(server, tmp_path):
    ws = opened(tmp_path / "phone", OddHeaders())
    submitted_report(ws)
    report = run_on_loop(ws.sync().run(options(server, server.rider)))
    assert (report.documents_sent, report.photos_uploaded, report.complete) == (1, 1, True)
    assert ws.sync().status().pending_documents == 0


class Portal(Proxy):
    """A captive portal's 200 with a login page, whatever was asked, its headers first."""

    async def send(self, request):
        self.requests.append(request)
        headers = [w.HttpHeader(name="Content-Type", value="text/html"),
                   w.HttpHeader(name="Content-Type", value="application/cbor")]
        return w.HttpResponse(status=200, headers=headers, body=b"<html>login</html>")


def test_a_portal_answering_with_duplicate_content_types_is_named(server, tmp_path):
    ws = opened(tmp_path / "phone", Portal())
    submitted_report(ws)
    with pytest.raises(w.WaystationError.Server) as e:
        run_on_loop(ws.sync().run(options(server, server.rider, attempts=1)))
    assert "captive portal" in e.value.reason
    assert_nothing_lost(ws, pending=1)
    assert ws.sync().status().pending_photos == 1


class Hanging(Proxy):
    """Never answers until healed; records whether uniffi cancelled its coroutine."""

    def __init__(self):
        super().__init__()
        self.started = asyncio.Event()
        self.cancelled = False
        self.healed = False

    async def send(self, request):
        if self.healed:
            return await super().send(request)
        self.requests.append(request)
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        raise AssertionError("not reached")


def test_cancelling_the_sync_cancels_the_transports_coroutine(server, tmp_path):
    hanging = Hanging()
    ws = opened(tmp_path / "phone", hanging)
    submitted_report(ws)
    opts = w.SyncOptions(server=server.url, token=server.rider, timeout_ms=600_000, attempts=1)

    async def start_then_cancel():
        hanging.started = asyncio.Event()  # on this loop
        task = asyncio.ensure_future(ws.sync().run(opts))
        await asyncio.wait_for(hanging.started.wait(), 30)
        assert ws.sync().status().in_progress
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # uniffi drops the Rust future; the bridge drops the foreign one; its task is cancelled.
        for _ in range(500):
            if hanging.cancelled:
                break
            await asyncio.sleep(0.01)
        return time.monotonic() - started

    elapsed = run_on_loop(start_then_cancel())
    assert hanging.cancelled, "the transport's coroutine was not cancelled"
    assert elapsed < 20, elapsed
    assert not ws.sync().status().in_progress
    assert ws.sync().status().pending_documents == 1
    # The lock is free and nothing was lost: the next sync sends it.
    hanging.healed = True
    assert run_on_loop(ws.sync().run(options(server, server.rider))).documents_sent == 1


class IgnoresTimeout(Hanging):
    pass


def test_a_transport_that_ignores_the_timeout_is_given_up_on(server, tmp_path):
    """The bridge waits the request's timeout plus a 5 s grace, then drops the call."""
    http = IgnoresTimeout()
    ws = opened(tmp_path / "phone", http)
    submitted_report(ws)
    opts = w.SyncOptions(server=server.url, token=server.rider, timeout_ms=100, attempts=1)

    async def sync_then_wait_for_the_cancel():
        started = time.monotonic()
        with pytest.raises(w.WaystationError.Network) as e:
            await ws.sync().run(opts)
        elapsed = time.monotonic() - started
        for _ in range(500):
            if http.cancelled:
                break
            await asyncio.sleep(0.01)
        return e.value, elapsed

    error, elapsed = run_on_loop(sync_then_wait_for_the_cancel())
    assert "did not answer" in error.reason and "100 ms" in error.reason
    assert 5 <= elapsed < 60, elapsed
    assert http.cancelled, "the transport's coroutine was not cancelled"
    assert_nothing_lost(ws)


def test_extra_root_pem_is_refused_with_an_apps_transport(server, tmp_path):
    http = Proxy()
    ws = opened(tmp_path / "phone", http)
    submitted_report(ws)
    pem = "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"
    opts = w.SyncOptions(server=server.url, token=server.rider, extra_root_pem=pem)
    for call in (lambda: ws.sync().run(opts), lambda: ws.packs().fetch(opts),
                 lambda: ws.reports().fetch_photo(opts, "ab" * 32)):
        with pytest.raises(w.WaystationError.InvalidInput, match="extra_root_pem") as e:
            run_on_loop(call())
        assert "network security config" in e.value.reason
    assert http.requests == []
    assert ws.sync().status().pending_documents == 1


def test_the_built_in_transport_is_the_default(server, tmp_path):
    """No transport (the argument's default, or None): the built-in one, here compiled in."""
    for ws in (w.Waystation(str(tmp_path / "a"), demo_options()),
               w.Waystation(str(tmp_path / "b"), demo_options(), None)):
        submitted_report(ws)
        assert asyncio.run(ws.sync().run(options(server, server.rider))).documents_sent == 1
