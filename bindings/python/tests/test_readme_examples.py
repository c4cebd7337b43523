"""The top-level README.md's Python example is the real API: it runs here, from the repository
root as its paths assume, with its temporary directory under pytest's, and the `sync` it
defines then syncs with a real server on loopback. (bindings/python/README.md's examples are
run by test_python_readme.py; README.md's Kotlin and Swift ones by
scripts/check-readme-examples.py.)"""

import asyncio
import re
import sys
import tempfile

import waystation as w
from conftest import REPO_ROOT
from test_sync import server  # noqa: F401 - the fixture

README = REPO_ROOT / "README.md"


def test_the_top_level_readme_python_example_runs_against_the_library(server, tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"^```python\n(.*?)^```$", README.read_text(), re.M | re.S)
    assert blocks, "README.md lost its Python example"
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the block inserts its own entry
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # its mkdtemp() lands under pytest's
    namespace = {"__name__": "readme"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
        except Exception as e:  # name the block: the traceback's line numbers are the block's
            raise AssertionError(f"README.md python block {i + 1} failed: {e!r}") from e
    printed = capsys.readouterr().out.splitlines()
    # At most 5 stations open now (how many depends on the hour), then the converted position.
    assert 1 <= len(printed) <= 6 and "GCJ02" in printed[-1], printed
    ws = namespace["ws"]
    assert ws.stations().count() > 1000
    report = asyncio.run(namespace["sync"](server.url, server.rider))
    assert isinstance(report, w.SyncReport) and report.complete
