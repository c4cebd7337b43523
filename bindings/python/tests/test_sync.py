"""Sync through the Python bindings against a real `waystation-server` on loopback.

`sync_now` is a coroutine (asyncio); the observer and the HTTP client are Python classes
implementing the foreign traits. The server binary is built by `scripts/test-bindings.sh`
(`cargo build -p waystation-server`); its path can be overridden with WAYSTATION_SERVER_BIN.
"""

import asyncio
import hashlib
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import waystation as w
from conftest import REPO_ROOT, demo_config
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


def config(server: Server, token: str, attempts: int = 2) -> w.SyncConfig:
    return w.SyncConfig(
        server=server.url, token=token, timeout_ms=10_000, attempts=attempts, extra_root_pem=None
    )


def device(path: Path) -> w.Waystation:
    return w.Waystation(str(path), demo_config())


def submitted_report(ws: w.Waystation) -> str:
    RIDER = "rider-7"
    rid = ws.create_report_draft(RIDER, "food.seal")
    ws.update_report_draft(
        rid,
        w.ReportPatch(
            category=None,
            description="封签被撕开",
            merchant_name="老孙家泡馍",
            merchant_address=None,
            address=None,
            district=YANTA,
        ),
    )
    ws.set_report_position(rid, fix(34.2225, 108.9480))
    ws.attach_report_photo(rid, JPEG, RULES)
    ws.submit_report(RIDER, rid, RULES)
    return rid


class Recorder(w.SyncObserver):
    def __init__(self):
        self.seen = []

    def sync_status_changed(self, status):
        self.seen.append(status)


def test_sync_now_is_a_coroutine_and_reports_flow_rider_to_staff(server, tmp_path):
    rider = device(tmp_path / "rider")
    rid = submitted_report(rider)
    status = rider.sync_status()
    assert (status.pending_documents, status.pending_photos) == (1, 1)
    rec = Recorder()
    rider.set_sync_observer(rec)

    report = asyncio.run(rider.sync_now(config(server, server.rider)))
    assert (report.documents_sent, report.photos_uploaded, report.complete) == (1, 1, True)
    assert rider.sync_status().pending_documents == 0
    assert rider.report(rid).outbox is not None
    assert rec.seen[0].in_progress and not rec.seen[-1].in_progress
    assert rec.seen[-1].last_success is not None

    staff = device(tmp_path / "staff")
    got = asyncio.run(staff.sync_now(config(server, server.staff)))
    assert got.documents_received == 1
    assert staff.report(rid).description == "封签被撕开"
    staff.record_case_event(rid, "staff-1", w.CaseRole.STATION_STAFF, w.CaseEventKind.ACKNOWLEDGE(), "收到")
    asyncio.run(staff.sync_now(config(server, server.staff)))
    asyncio.run(rider.sync_now(config(server, server.rider)))
    assert rider.report_case(rid).status == w.CaseStatus.ACKNOWLEDGED

    # Photos on demand: the staff device downloads the rider's stripped photo.
    sha = rider.report(rid).photos[0].sha256
    path = asyncio.run(staff.fetch_report_photo(config(server, server.staff), sha))
    assert Path(path).read_bytes() == Path(rider.report_photo_path(sha)).read_bytes()

    # Nothing to do: one small round trip.
    noop = asyncio.run(rider.sync_now(config(server, server.rider)))
    assert noop.requests == 1 and noop.bytes_sent < 200 and noop.bytes_received < 200


def test_bad_token_and_unreachable_server_are_clear_errors(server, tmp_path):
    rider = device(tmp_path / "rider")
    submitted_report(rider)
    with pytest.raises(w.WaystationError.Unauthorized):
        asyncio.run(rider.sync_now(config(server, "wst_wrong")))
    dead = w.SyncConfig(
        server="http://127.0.0.1:9", token=server.rider, timeout_ms=2000, attempts=1, extra_root_pem=None
    )
    with pytest.raises(w.WaystationError.Network):
        asyncio.run(rider.sync_now(dead))
    status = rider.sync_status()
    assert status.pending_documents == 1 and "network" in status.last_error
    with pytest.raises(w.WaystationError.InvalidInput):
        asyncio.run(rider.sync_now(w.SyncConfig(
            server="ftp://x", token="t", timeout_ms=0, attempts=0, extra_root_pem=None)))


class UrllibClient(w.HttpClient):
    """The shell's own HTTP stack, here Python's urllib."""

    def __init__(self):
        self.calls = 0

    def send(self, request):
        self.calls += 1
        req = urllib.request.Request(
            request.url,
            data=request.body or None,
            method=request.method,
            headers={h.name: h.value for h in request.headers},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, headers, body = resp.status, resp.headers.items(), resp.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers.items(), e.read()
        except OSError as e:
            raise w.HttpClientError.Connect(str(e))
        return w.HttpResponse(
            status=status, headers=[w.HttpHeader(name=k, value=v) for k, v in headers], body=body
        )


def test_a_shell_can_supply_its_own_http_client(server, tmp_path):
    rider = device(tmp_path / "rider")
    submitted_report(rider)
    client = UrllibClient()
    report = asyncio.run(rider.sync_now_with(config(server, server.rider), client))
    assert report.documents_sent == 1 and client.calls >= 2  # photo, then the sync
    assert rider.sync_status().pending_documents == 0


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
        assert ws.training_image_path(sha) is None
        fetched = asyncio.run(ws.fetch_packs(config(s, token)))
        assert fetched.training is not None
        assert (fetched.training_images_fetched, len(fetched.training_image_problems)) == (1, 0)
        assert fetched.training_image_problems == []
        lesson = ws.training_lesson(seals)
        assert [i.sha256 for i in lesson.images] == [sha]
        assert Path(ws.training_image_path(sha)).read_bytes() == JPEG
        assert ws.missing_training_images() == []
        again = asyncio.run(ws.fetch_packs(config(s, token)))
        assert (again.training, again.training_images_fetched) == (None, 0)
        with pytest.raises(w.WaystationError.InvalidInput):
            ws.training_image_path("../secret")
    finally:
        s.stop()
