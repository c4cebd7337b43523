#!/usr/bin/env bash
# The console's browser tests (tests/browser, issue 16): Debian's Chromium, driven by Playwright
# for Python, against a real waystation-server on loopback seeded by real phones (the Python
# bindings) through the sync path; axe-core in every page; screenshots of every page in Chinese
# and English, desktop and phone, into target/console-screenshots/.
#
#   scripts/test-browser.sh [pytest arguments, e.g. -k map]
#
# Installs what is missing and fails when it cannot (never skips): Debian's chromium,
# chromium-driver and a CJK font (apt-get, as root), Playwright for Python (pip, pinned in
# tests/browser/requirements.txt; it drives /usr/bin/chromium, no browser is downloaded), and
# axe-core (npm ci from tests/browser/package-lock.json). Called by scripts/test-all.sh after the
# bindings. Runs from any working directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
start=$SECONDS
step() { printf '\n== %s\n' "$*" >&2; }

step "browser tools: chromium, chromium-driver, a CJK font"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
# Without a CJK font every Chinese page renders as boxes in the screenshots (axe would not see it).
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "test-browser: please install the Debian packages: ${missing[*]}" >&2
        exit 1
    fi
fi
for bin in /usr/bin/chromium /usr/bin/chromedriver; do
    [ -x "$bin" ] || { echo "test-browser: $bin is still missing after the install" >&2; exit 1; }
done
chromium --version >&2
chromedriver --version >&2

step "python: pytest and Playwright (tests/browser/requirements.txt)"
python3 -c 'import pytest' 2>/dev/null || python3 -m pip install --quiet pytest
want=$(sed -n 's/^playwright==//p' tests/browser/requirements.txt)
have=$(python3 -c 'from importlib.metadata import version; print(version("playwright"))' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    python3 -m pip install --quiet -r tests/browser/requirements.txt
fi

step "npm: axe-core (tests/browser/package-lock.json)"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["packages"]["node_modules/axe-core"]["version"])' tests/browser/package-lock.json)
have=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' tests/browser/node_modules/axe-core/package.json 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    (cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

# The server, and the phones' library (the Python bindings); both no-ops when up to date.
step "building waystation-server and the Python bindings"
cargo build -q -p waystation-server
scripts/gen-bindings.sh python >/dev/null

step "pytest tests/browser"
suite_start=$SECONDS
RUST_BACKTRACE=0 python3 -m pytest -q -p no:cacheprovider tests/browser "$@"
echo "browser tests took $((SECONDS - suite_start)) s; screenshots in ${CARGO_TARGET_DIR:-target}/console-screenshots/" >&2

step "browser tests OK in $((SECONDS - start)) s"
