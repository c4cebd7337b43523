"""Sync through the Python bindings against a real `waystation-server` on loopback.

`ws.sync().run(...)` is a coroutine (asyncio) and cancelling it cancels the sync; status
observers `subscribe` and keep their `Subscription`; the observer and the logger are Python
classes implementing the foreign traits (the app's own HTTP transport: test_transport.py).
The server binary is built by `scripts/test-bindings.sh` (`cargo build -p waystation-server`);
its path can be overridden with WAYSTATION_SERVER_BIN. A few tests use a small HTTP server of their own on loopback instead, one
that answers every request with an error status or never answers: what a failing server or a
dead network path does to a sync.
"""

import asyncio
import gc
import hashlib
import http.server
import inspect
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

import waystation as w
from conftest import REPO_ROOT, demo_options, run
from test_reports import JPEG, RULES, fix

YANTA = "610113"


def server_bin() -> str:
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO_ROOT / "target"))
    return os.environ.get("WAYSTATION_SERVER_BIN", str(Path(target) / "debug" / "waystation-server"))


def cli_bin() -> str:
    target = os.environ.get("CARGO_TARGET_DIR", str(REPO_ROOT / "target"))
    return os.environ.get("WAYSTATION_CLI_BIN", str(Path(target) / "debug" / "waystation"))


class Server:
    def __init__(self, tmp: Path):
        self.db = tmp / "server.db"
        self.proc = None
        self.url = None

    def user(self, name: str, role: str, *areas: str) -> str:
        args = [server_bin(), "user", "add", "--db", str(self.db), "--name", name, "--role", role]
        for a in areas:
            args += ["--area", a]
        out = subprocess.run(args, check=True, capture_output=True, text=True)
        return out.stdout.strip().splitlines()[-1]

    def start(self):
        self.proc = subprocess.Popen(
            [server_bin(), "serve", "--db", str(self.db), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        assert line.startswith("listening on "), line + self.proc.stderr.read()
        self.url = line.split()[-1]

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path):
    s = Server(tmp_path)
    s.rider = s.user("rider-7", "rider")
    s.staff = s.user("staff-1", "station", YANTA)
    s.start()
    yield s
    s.stop()


def options(server: Server, token: str, attempts: int = 2) -> w.SyncOptions:
    return w.SyncOptions(server=server.url, token=token, timeout_ms=10_000, attempts=attempts)


def device(path: Path) -> w.Waystation:
    return w.Waystation(str(path), demo_options())


def submitted_report(ws: w.Waystation) -> str:
    RIDER = "rider-7"
    reports = ws.reports()
    rid = reports.create_draft(RIDER, "food.seal")
    reports.update_draft(
        rid, w.ReportPatch(description="封签被撕开", merchant_name="老孙家泡馍", district=YANTA)
    )
    reports.set_position(rid, fix(34.2225, 108.9480))
    run(reports.attach_photo(rid, JPEG, RULES))
    reports.submit(RIDER, rid, RULES)
    return rid


class Recorder(w.SyncObserver):
    def __init__(self):
        self.seen = []

    def sync_status_changed(self, status):
        self.seen.append(status)


def test_sync_run_is_a_coroutine_and_reports_flow_rider_to_staff(server, tmp_path):
    rider = device(tmp_path / "rider")
    rid = submitted_report(rider)
    status = rider.sync().status()
    assert (status.pending_documents, status.pending_photos) == (1, 1)
    rec = Recorder()
    subscription = rider.sync().subscribe(rec)
    assert inspect.iscoroutine(call := rider.sync().run(options(server, server.rider)))
    call.close()

    report = run(rider.sync().run(options(server, server.rider)))
    assert (report.documents_sent, report.photos_uploaded, report.complete) == (1, 1, True)
    assert rider.sync().status().pending_documents == 0
    assert rider.reports().get(rid).outbox is not None
    assert rec.seen[0].in_progress and not rec.seen[-1].in_progress
    assert rec.seen[-1].last_success is not None
    subscription.unsubscribe()

    staff = device(tmp_path / "staff")
    got = run(staff.sync().run(options(server, server.staff)))
    assert got.documents_received == 1
    assert staff.reports().get(rid).description == "封签被撕开"
    staff.cases().record(rid, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.ACKNOWLEDGE(), "收到")
    run(staff.sync().run(options(server, server.staff)))
    run(rider.sync().run(options(server, server.rider)))
    assert rider.cases().get(rid).status == w.CaseStatus.ACKNOWLEDGED

    # Photos on demand: the staff device downloads the rider's stripped photo.
    sha = rider.reports().get(rid).photos[0].sha256
    path = run(staff.reports().fetch_photo(options(server, server.staff), sha))
    assert Path(path).read_bytes() == Path(rider.reports().photo_path(sha)).read_bytes()

    # Nothing to do: one small round trip.
    noop = run(rider.sync().run(options(server, server.rider)))
    assert noop.requests == 1 and noop.bytes_sent < 200 and noop.bytes_received < 200


def test_bad_token_and_unreachable_server_are_clear_errors(server, tmp_path):
    rider = device(tmp_path / "rider")
    submitted_report(rider)
    with pytest.raises(w.WaystationError.Unauthorized):
        run(rider.sync().run(options(server, "wst_wrong")))
    dead = w.SyncOptions(server="http://127.0.0.1:9", token=server.rider, timeout_ms=2000, attempts=1)
    with pytest.raises(w.WaystationError.Network):
        run(rider.sync().run(dead))
    status = rider.sync().status()
    assert status.pending_documents == 1 and "network" in status.last_error
    with pytest.raises(w.WaystationError.InvalidInput):
        run(rider.sync().run(w.SyncOptions(server="ftp://x", token="t")))


def test_sync_options_have_defaults_and_refuse_out_of_range_values_by_name(server, tmp_path):
    # Only the server and the token are needed: no magic zeros for "the default".
    minimal = w.SyncOptions(server=server.url, token=server.rider)
    assert minimal == w.SyncOptions(server=server.url, token=server.rider, timeout_ms=None,
                                    attempts=None, extra_root_pem=None, allow_insecure_http=False)
    rider = device(tmp_path / "rider")
    submitted_report(rider)
    assert run(rider.sync().run(minimal)).documents_sent == 1
    for field, value in [("timeout_ms", 0), ("timeout_ms", -1), ("timeout_ms", 600_001),
                         ("attempts", 0), ("attempts", -3), ("attempts", 21)]:
        bad = w.SyncOptions(server=server.url, token=server.rider, **{field: value})
        with pytest.raises(w.WaystationError.InvalidInput, match=f"{field} must be") as e:
            run(rider.sync().run(bad))
        assert str(value) in e.value.reason
    # Plain http to another machine is refused unless asked for explicitly.
    with pytest.raises(w.WaystationError.InvalidInput, match="http"):
        run(rider.sync().run(w.SyncOptions(server="http://192.0.2.1", token=server.rider)))


def test_fetch_packs_brings_the_lesson_images_checked_by_hash(tmp_path):
    """A training pack whose lesson shows an image: the server refuses to publish it without
    the image, serves it once added, and fetch_packs stores it on the device."""
    seals = "food-safety-delivery/seals"
    sha = hashlib.sha256(JPEG).hexdigest()
    payload = json.loads((REPO_ROOT / "data" / "training" / "xian-training.payload.json").read_text())
    for course in payload["courses"]:
        for lesson in course["lessons"]:
            if lesson["id"] == seals:
                lesson["images"] = [
                    {"sha256": sha, "alt": {"zh": "完好的封签", "en": "An intact seal"},
                     "media_type": "image/jpeg"}
                ]
    (tmp_path / "payload.json").write_text(json.dumps(payload, ensure_ascii=False))
    (tmp_path / "seal.jpg").write_bytes(JPEG)
    subprocess.run(
        [cli_bin(), "pack", "sign", "--key", str(REPO_ROOT / "data" / "keys" / "demo-publisher.json"),
         "--in", str(tmp_path / "payload.json"), "--out", str(tmp_path / "pack.json"),
         "--type", "application/vnd.waystation.training-pack+json"],
        check=True, capture_output=True,
    )
    s = Server(tmp_path)
    token = s.user("rider-7", "rider")
    publish = [server_bin(), "pack", "publish", "--db", str(s.db), "--kind", "training",
               str(tmp_path / "pack.json"),
               "--trust-key", str(REPO_ROOT / "data" / "keys" / "demo-publisher.json")]
    refused = subprocess.run(publish, capture_output=True, text=True)
    assert refused.returncode == 1 and sha in refused.stderr, refused.stderr
    subprocess.run(publish + ["--image", str(tmp_path / "seal.jpg")], check=True, capture_output=True)
    s.start()
    try:
        ws = device(tmp_path / "phone")
        assert ws.training().image_path(sha) is None
        fetched = run(ws.packs().fetch(options(s, token)))
        assert fetched.training is not None
        assert (fetched.training_images_fetched, len(fetched.training_image_problems)) == (1, 0)
        assert fetched.training_image_problems == []
        lesson = ws.training().lesson(seals)
        assert [i.sha256 for i in lesson.images] == [sha]
        assert Path(ws.training().image_path(sha)).read_bytes() == JPEG
        assert ws.training().missing_images() == []
        again = run(ws.packs().fetch(options(s, token)))
        assert (again.training, again.training_images_fetched) == (None, 0)
        with pytest.raises(w.WaystationError.InvalidInput):
            ws.training().image_path("../secret")
    finally:
        s.stop()


# --- subscriptions, the account, errors with a status, cancellation, logging ----------------


def test_several_observers_listen_until_they_unsubscribe_or_let_go(server, tmp_path):
    rider = device(tmp_path / "rider")
    submitted_report(rider)
    kept, closed, released = Recorder(), Recorder(), Recorder()
    sync = rider.sync()
    kept_sub = sync.subscribe(kept)
    closed_sub = sync.subscribe(closed)
    released_sub = sync.subscribe(released)
    run(sync.run(options(server, server.rider)))
    for rec in (kept, closed, released):
        assert rec.seen and rec.seen[0].in_progress and not rec.seen[-1].in_progress
    heard = {id(rec): len(rec.seen) for rec in (kept, closed, released)}

    closed_sub.unsubscribe()
    del released_sub  # dropping the subscription unsubscribes too
    gc.collect()
    submitted_report(rider)
    run(sync.run(options(server, server.rider)))
    assert len(kept.seen) > heard[id(kept)]
    assert len(closed.seen) == heard[id(closed)]
    assert len(released.seen) == heard[id(released)]
    kept_sub.unsubscribe()
    kept_sub.unsubscribe()  # twice is harmless


def test_the_account_is_learned_from_the_server(server, tmp_path):
    rider, staff = device(tmp_path / "rider"), device(tmp_path / "staff")
    assert rider.sync().account() is None
    run(rider.sync().run(options(server, server.rider)))
    run(staff.sync().run(options(server, server.staff)))
    me = rider.sync().account()
    assert (me.user, me.role, me.areas) == ("rider-7", w.Role.RIDER, [])
    them = staff.sync().account()
    assert (them.user, them.role, them.areas) == ("staff-1", w.Role.STATION, [YANTA])
    assert rider.sync().refusals() == [] and staff.sync().refusals() == []


class LoopbackHttp:
    """A small HTTP server on 127.0.0.1 that answers every request the same way, or never
    (until `stop`): a failing server, a captive portal, a connection that hangs."""

    def __init__(self, status=None, content_type="text/plain", body=b"nope"):
        self.requests = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                outer.requests.append((self.command, self.path))
                outer.arrived.set()
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if status is None:
                    outer.release.wait(120)
                    return
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_HEAD = _answer

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize(
    "status,content_type,retryable",
    [(400, "text/plain", False), (403, "text/plain", False), (503, "text/plain", True),
     (429, "text/plain", True), (200, "text/html", False)],
)
def test_a_server_error_keeps_its_status_and_says_whether_to_retry(tmp_path, status, content_type,
                                                                    retryable):
    failing = LoopbackHttp(status=status, content_type=content_type, body=b"<html>portal</html>")
    try:
        ws = device(tmp_path / "phone")
        submitted_report(ws)
        with pytest.raises(w.WaystationError.Server) as e:
            run(ws.sync().run(w.SyncOptions(server=failing.url, token="wst_x", attempts=1)))
        assert (e.value.status, e.value.retryable) == (status, retryable)
        assert isinstance(e.value, w.WaystationError) and e.value.reason
        assert ws.sync().status().pending_documents == 1  # nothing lost
    finally:
        failing.stop()


def test_cancelling_the_coroutine_stops_the_sync_and_releases_it(server, tmp_path):
    hanging = LoopbackHttp(status=None)
    try:
        rider = device(tmp_path / "rider")
        submitted_report(rider)
        stuck = w.SyncOptions(server=hanging.url, token=server.rider, timeout_ms=120_000, attempts=1)

        async def start_then_cancel():
            task = asyncio.ensure_future(rider.sync().run(stuck))
            while not hanging.arrived.is_set():  # the sync is waiting for an answer
                await asyncio.sleep(0.01)
            assert rider.sync().status().in_progress
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        run(start_then_cancel())
        # The hanging request was dropped and the sync lock released: a sync with the real
        # server starts at once, not when the hanging one would have timed out (120 s).
        report = run(asyncio.wait_for(rider.sync().run(options(server, server.rider)), 30))
        assert report.documents_sent == 1 and report.complete
        assert not rider.sync().status().in_progress
    finally:
        hanging.stop()


class Lines(w.Logger):
    def __init__(self):
        self.lines = []

    def log(self, level, target, message):
        self.lines.append((level, target, message))


def test_the_core_logs_through_the_apps_logger_without_the_token(server, tmp_path):
    lines = Lines()
    w.set_logger(lines, w.LogLevel.DEBUG)
    try:
        rider = device(tmp_path / "rider")
        submitted_report(rider)
        run(rider.sync().run(options(server, server.rider)))
        with pytest.raises(w.WaystationError.Unauthorized):
            run(rider.sync().run(options(server, "wst_wrong")))
    finally:
        w.set_logger(Lines(), w.LogLevel.ERROR)
    sync_lines = [(level, message) for level, target, message in lines.lines
                  if target == "waystation::sync"]
    assert (w.LogLevel.DEBUG, "sync started") in sync_lines
    assert any(level == w.LogLevel.INFO and message.startswith("sync done:")
               for level, message in sync_lines)
    assert any(level == w.LogLevel.WARN and "unauthorized" in message
               for level, message in sync_lines)
    for _, _, message in lines.lines:
        assert server.rider not in message and "封签" not in message
