"""Fixtures for the console's browser tests: a real `waystation-server` on loopback over a
temporary SQLite file, accounts made with its admin CLI, reports and case events seeded by real
phones (the Python bindings, tests/browser/device.py) through the real sync path, and Debian's
Chromium driven by Playwright for Python.

Clocks are fixed: the server and its admin CLI run with WAYSTATION_TEST_NOW=SERVER_NOW; each
batch of phone actions runs with its own WAYSTATION_TEST_NOW (device.py). Nothing reads the
wall clock, so the figures the pages show are known in advance (EXPECTED below).

One server and one seed serve the whole session (seeding takes a few seconds; every test's
own server would take minutes). Tests that act on a case use a case no other test counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
SERVER_BIN = os.environ.get("WAYSTATION_SERVER_BIN", str(TARGET / "debug" / "waystation-server"))
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = TARGET / "console-screenshots"

# The server's "now": Tuesday 1 December 2026, 14:00 in Xi'an (UTC+8).
SERVER_NOW = "2026-12-01T06:00:00Z"
# The phones' clocks for each batch of the seed.
OCTOBER = "2026-10-20T02:00:00Z"  # 10:00 in Xi'an
NOVEMBER = "2026-11-18T03:00:00Z"  # 11:00 in Xi'an
STAFF_ROUND = "2026-11-20T01:00:00Z"  # the station staff's follow-up on their phones

YANTA = "610113"  # 雁塔区: district A
BEILIN = "610103"  # 碑林区: district B

# Accounts: name -> (role, areas). Tokens are made by `waystation-server user add`.
ACCOUNTS = {
    "rider-a": ("rider", []),
    "rider-b": ("rider", []),
    "sup-yanta": ("supervisor", [YANTA]),
    "station-yanta": ("station", [YANTA]),
    "grid-yanta": ("grid", [YANTA]),
    "station-beilin": ("station", [BEILIN]),
    "grid-beilin": ("grid", [BEILIN]),
    "admin": ("admin", []),
}

# The seed: key -> report. Positions are WGS-84, inside their district.
REPORTS = {
    # District A, Yanta (rider-a).
    "y_seal": dict(batch=OCTOBER, author="rider-a", category="food.seal", district=YANTA,
                   merchant="老孙家泡馍", address="雁塔区小寨东路126号",
                   description="外卖封签被撕开，汤洒了一半", lat=34.2231, lon=108.9452, photo=True),
    # A second report of y_seal's problem, 78 m away (a duplicate for test_followup to mark):
    # no text any search test looks for.
    "y_seal2": dict(batch=OCTOBER, author="rider-a", category="food.seal", district=YANTA,
                    merchant="孙记泡馍（小寨东路店）", address="雁塔区小寨东路130号门口",
                    description="餐袋没有封口，汤汁渗出", lat=34.2238, lon=108.9452, photo=False),
    "y_hygiene": dict(batch=OCTOBER, author="rider-a", category="food.hygiene", district=YANTA,
                      merchant="回坊小吃", address="雁塔区长安南路88号",
                      description="后厨卫生差，外卖包装破损", lat=34.2168, lon=108.9478, photo=True),
    "y_manhole": dict(batch=NOVEMBER, author="rider-a", category="road.hazard", district=YANTA,
                      merchant=None, address="雁塔区雁塔西路与含光路口",
                      description="井盖缺失，骑手夜间易摔倒", lat=34.2105, lon=108.9301, photo=True),
    "y_gate": dict(batch=NOVEMBER, author="rider-a", category="access.entry_refused",
                   district=YANTA, merchant=None, address="雁塔区曲江池东路某小区",
                   description="小区门卫禁止外卖员进入", lat=34.2046, lon=108.9712, photo=False),
    "y_charger": dict(batch=NOVEMBER, author="rider-a", category="station.charger_broken",
                      district=YANTA, merchant=None, address="雁塔区大雁塔南广场红色驿站",
                      description="驿站充电桩损坏，无法给电动车充电", lat=34.2158,
                      lon=108.9601, photo=False),
    "y_noodles": dict(batch=NOVEMBER, author="rider-a", category="food.unlicensed",
                      district=YANTA, merchant="Lao Wang Noodles", address="雁塔区电子正街",
                      description="无证经营的外卖后厨", lat=34.2312, lon=108.9225, photo=False),
    # District B, Beilin (rider-b).
    "b_seal": dict(batch=OCTOBER, author="rider-b", category="food.seal", district=BEILIN,
                   merchant="碑林饺子馆", address="碑林区东关正街1号",
                   description="外卖封签缺失", lat=34.2520, lon=108.9700, photo=True),
    "b_light": dict(batch=NOVEMBER, author="rider-b", category="road.traffic_light",
                    district=BEILIN, merchant=None, address="碑林区南门外",
                    description="信号灯不亮，路口拥堵", lat=34.2508, lon=108.9467, photo=False),
    "b_closed": dict(batch=NOVEMBER, author="rider-b", category="station.closed",
                     district=BEILIN, merchant=None, address="碑林区和平门红色驿站",
                     description="驿站白天未开放", lat=34.2560, lon=108.9590, photo=False),
}

# What the station staff's phones write in STAFF_ROUND: (account, report, kind).
STAFF_EVENTS = [
    ("station-yanta", "y_seal", "acknowledge"),
    ("station-beilin", "b_seal", "acknowledge"),
    ("station-beilin", "b_closed", "acknowledge"),
    ("station-beilin", "b_closed", "resolve"),
]


@dataclass
class Console:
    """The running server and what was seeded into it."""

    url: str
    db: Path
    tmp: Path
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # report key -> report id
    proc: subprocess.Popen | None = None

    def admin(self, *args: str) -> str:
        """Runs `waystation-server <args> --db <db>` under the server's clock; its stdout."""
        out = subprocess.run([SERVER_BIN, *args, "--db", str(self.db)], env=clock_env(SERVER_NOW),
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise AssertionError(f"waystation-server {' '.join(args)}: {out.stderr}")
        return out.stdout

    def device(self, name: str, now: str, commands: list[dict]) -> list:
        """Runs commands on the phone `name` (its own data directory, its own token) with the
        phone's clock at `now`; their results."""
        out = subprocess.run(
            [sys.executable, str(HERE / "device.py"), str(self.tmp / "phones" / name), self.url,
             self.tokens[name]],
            input=json.dumps(commands), env=clock_env(now), capture_output=True, text=True,
            timeout=120,
        )
        if out.returncode != 0:
            raise AssertionError(f"phone {name}: {out.stderr}")
        return json.loads(out.stdout)

    def key_of(self, report_id: str) -> str:
        return next(k for k, v in self.ids.items() if v == report_id)


def clock_env(now: str) -> dict[str, str]:
    env = dict(os.environ, WAYSTATION_TEST_NOW=now, RUST_BACKTRACE="0")
    return env


def chromium_args() -> list[str]:
    # Root in a container: no sandbox. The rest keeps Chromium off the network (this machine's
    # network is closed; background services would only fail and slow the start).
    return ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-features=Translate,MediaRouter"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test-browser.sh installs Debian's chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args())
        yield b
        b.close()


def make_photo(browser: Browser, path: Path, text: str) -> None:
    """A real JPEG for the seeded reports (a food-safety seal, drawn by Chromium): the console
    shows photos, and a 1-pixel one would prove little in a screenshot. Each district gets its
    own (photos are stored by content: a photo shared by both districts would be readable from
    either, and the isolation test could not tell)."""
    page = browser.new_page(viewport={"width": 320, "height": 240})
    page.set_content(
        "<body style='margin:0;background:#c9c2b4'>"
        "<div style='margin:40px auto;width:200px;height:150px;background:#e8e3d8;"
        "border:6px solid #a33;font:bold 40px sans-serif;color:#a33;text-align:center;"
        f"line-height:150px;transform:rotate(-8deg)'>{text}</div></body>"
    )
    page.screenshot(path=str(path), type="jpeg", quality=80)
    page.close()


@pytest.fixture(scope="session")
def console(browser: Browser, tmp_path_factory) -> Console:
    if not Path(SERVER_BIN).exists():
        pytest.fail(f"{SERVER_BIN} is missing: build it with `cargo build -p waystation-server`")
    tmp = tmp_path_factory.mktemp("console")
    c = Console(url="", db=tmp / "server.sqlite3", tmp=tmp)
    for name, (role, areas) in ACCOUNTS.items():
        args = ["user", "add", "--name", name, "--role", role]
        for a in areas:
            args += ["--area", a]
        c.tokens[name] = c.admin(*args).strip().splitlines()[-1]
    # The red stations on the map come from the published station pack (the signed sample).
    c.admin("pack", "publish", "--kind", "stations", "--trust-key",
            str(REPO_ROOT / "data" / "keys" / "demo-publisher.json"),
            str(REPO_ROOT / "data" / "stations" / "xian-sample.pack.json"))
    log = open(tmp / "server.log", "w")
    c.proc = subprocess.Popen(
        [SERVER_BIN, "serve", "--db", str(c.db), "--listen", "127.0.0.1:0"],
        env=clock_env(SERVER_NOW), stdout=subprocess.PIPE, stderr=log, text=True,
    )
    line = c.proc.stdout.readline()
    if not line.startswith("listening on "):
        c.proc.kill()
        raise AssertionError(f"server did not start: {line}{(tmp / 'server.log').read_text()}")
    c.url = line.split()[-1].rstrip("/")
    try:
        seed(c, browser)
        yield c
    finally:
        c.proc.terminate()
        c.proc.wait(timeout=10)
        log.close()


def seed(c: Console, browser: Browser) -> None:
    photos = {YANTA: c.tmp / "seal-yanta.jpg", BEILIN: c.tmp / "seal-beilin.jpg"}
    make_photo(browser, photos[YANTA], "封签")
    make_photo(browser, photos[BEILIN], "封条")
    for batch in (OCTOBER, NOVEMBER):
        for rider in ("rider-a", "rider-b"):
            keys = [k for k, r in REPORTS.items() if r["batch"] == batch and r["author"] == rider]
            cmds = [dict(op="report", **{k: v for k, v in REPORTS[key].items() if k != "batch"},
                         ) for key in keys]
            for cmd in cmds:
                cmd["photo"] = str(photos[cmd["district"]]) if cmd["photo"] else None
            out = c.device(rider, batch, cmds + [dict(op="sync")])
            c.ids.update(zip(keys, out[:-1]))
            assert out[-1]["complete"] and out[-1]["sent"] == len(keys), out[-1]
    # The station staff's phones: pull their districts, write their events, push them.
    by_staff: dict[str, list] = {}
    for who, key, kind in STAFF_EVENTS:
        by_staff.setdefault(who, []).append(
            dict(op="case", report=c.ids[key], actor=who, role="station_staff", kind=kind))
    for who, cmds in by_staff.items():
        out = c.device(who, STAFF_ROUND, [dict(op="sync")] + cmds + [dict(op="sync")])
        assert out[-1]["complete"] and not out[-1]["refused"], out


# ---------------------------------------------------------------------------------------------
# Signing in.

LANGS = {"zh": "zh-CN", "en": "en-US"}


@dataclass
class Session:
    context: BrowserContext
    page: Page
    errors: list[str]


@pytest.fixture(scope="session")
def signed_in_states() -> dict:
    """(account, lang) -> the browser storage (the session cookie) of a sign-in made through
    the form earlier in the run, so that each test need not sign in again."""
    return {}


@pytest.fixture
def signin(browser: Browser, console: Console, signed_in_states: dict):
    """`signin(account, lang="zh", viewport=None, fresh=False)`: a new browser context (its own
    cookie jar) with the browser's language set (Accept-Language and navigator.language),
    signed in to the console with the account's token through the sign-in form — or, unless
    `fresh`, with the session cookie of an earlier sign-in of that account in this run. Console
    errors, page errors (a CSP refusal among them) and failed loads are collected in
    `session.errors`."""
    opened: list[BrowserContext] = []

    def open_context(lang: str = "zh", viewport=None, state=None) -> Session:
        ctx = browser.new_context(locale=LANGS[lang], storage_state=state,
                                  extra_http_headers={"Accept-Language": accept_language(lang)},
                                  viewport=viewport or {"width": 1366, "height": 768})
        opened.append(ctx)
        # A page that does not answer fails in seconds, not in Playwright's default 30 s.
        ctx.set_default_timeout(10_000)
        page = ctx.new_page()
        errors: list[str] = []
        # Failed loads are recorded with their address (the console message has none);
        # Chromium's own request for /favicon.ico, outside the console, is not the page's.
        page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                and not m.text.startswith("Failed to load resource") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and "/favicon.ico" not in r.url
                and r.request.resource_type not in ("document", "fetch") else None)
        return Session(ctx, page, errors)

    def sign_in(account: str | None, lang: str = "zh", viewport=None,
                fresh: bool = False) -> Session:
        state = None if fresh else signed_in_states.get((account, lang))
        s = open_context(lang, viewport, state)
        if account is not None and state is None:
            s.page.goto(f"{console.url}/console/login")
            s.page.fill("input[name=token]", console.tokens[account])
            with s.page.expect_navigation(url=f"{console.url}/console/cases"):
                s.page.locator("form[action$='/console/login'] [type=submit]").click()
            if not fresh:  # a fresh session may be signed out by its test
                signed_in_states[(account, lang)] = s.context.storage_state()
        return s

    yield sign_in
    for ctx in opened:
        ctx.close()


def accept_language(lang: str) -> str:
    return "zh-CN,zh;q=0.9,en;q=0.8" if lang == "zh" else "en-US,en;q=0.9"


# ---------------------------------------------------------------------------------------------
# axe-core.

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Page) -> list[dict]:
    """Runs axe-core (npm, tests/browser/node_modules) in the page for WCAG 2.1 A and AA.
    Injected through the DevTools protocol (Playwright's evaluate), which the page's
    Content-Security-Policy does not govern, so the page is tested with its real CSP."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` in tests/browser (scripts/test-browser.sh)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text())
    result = page.evaluate(
        "async tags => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return result["violations"]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} [{v['helpUrl']}]")
        for n in v["nodes"][:8]:
            lines.append(f"    {' '.join(map(str, n['target']))}: {n['html'][:160]}")
            summary = (n.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
