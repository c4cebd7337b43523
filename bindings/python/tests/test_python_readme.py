"""bindings/python/README.md's Python blocks are the real API: they run here, in order, in one
namespace, from a temporary directory that holds the repository's `data/` (the signed packs)
and the `seal.jpg` the reports block attaches. The sync block defines `sync_now`, which then
syncs what the earlier blocks made with a real server on loopback."""

import asyncio
import re
import sys

import waystation as w
from conftest import PYTHON_DIR, REPO_ROOT
from test_reports import JPEG
from test_sync import server  # noqa: F401 - the fixture

README = PYTHON_DIR / "README.md"


def python_blocks() -> list:
    return re.findall(r"^```python\n(.*?)^```$", README.read_text(), re.M | re.S)


def test_the_readme_python_blocks_run_against_the_library(server, tmp_path, monkeypatch, capsys):
    blocks = python_blocks()
    assert len(blocks) >= 4, "README.md lost its Python examples"
    (tmp_path / "data").symlink_to(REPO_ROOT / "data")
    (tmp_path / "seal.jpg").write_bytes(JPEG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the first block inserts its own entry
    namespace = {"__name__": "readme"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{README.name} python block {i + 1}", "exec"), namespace)
        except Exception as e:  # name the block: the traceback's line numbers are the block's
            raise AssertionError(f"README.md python block {i + 1} failed: {e!r}") from e
    printed = capsys.readouterr().out
    assert "xian-red-stations" in printed and "stations within 1 km" in printed
    assert "food-safety-delivery" in printed and "FeatureCollection" in printed

    ws = namespace["ws"]
    report = asyncio.run(namespace["sync_now"](ws, server.url, server.rider))
    assert isinstance(report, w.SyncReport) and report.documents_sent >= 1
    assert ws.sync().status().pending_photos == 0
