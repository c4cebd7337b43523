#!/usr/bin/env bash
# Fuzzes the sync server's request decoding (fuzz/fuzz_targets/sync_request.rs) for a bounded
# time. Installs cargo-fuzz when missing; needs a nightly toolchain (rustup toolchain install
# nightly).
#
#   scripts/fuzz.sh                 # 30 seconds
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#
# The corpus grows in fuzz/corpus/sync_request (not committed), starting from the seeds in
# fuzz/seeds/sync_request. A crash leaves its input in fuzz/artifacts/sync_request/ and makes
# this script exit non-zero; reproduce it with
#   cd fuzz && cargo +nightly fuzz run sync_request artifacts/sync_request/<file>
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-30}"
target="sync_request"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "a nightly toolchain is required: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

cd "$repo_root/fuzz"
mkdir -p "corpus/$target"
start=$SECONDS
cargo +nightly fuzz build "$target"
echo "fuzz build took $((SECONDS - start)) s" >&2
# -max_len: 8 MiB, so inputs as large as a real compressed-change bomb (4 MB inflating to
# 4 GiB) can be found; libFuzzer still starts small and grows inputs as coverage asks. The
# bomb seeds are about 1 MB. -malloc_limit_mb=512 makes an inflation that escapes the bounds
# a crash: the server inflates at most 8 MiB per document message
# (waystation_core::sync::bounds), so no single allocation comes near 512 MB unless a bomb
# gets through. -rss_limit_mb stays at 2 GB for the corpus libFuzzer holds in memory.
cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=8388608 -malloc_limit_mb=512 -rss_limit_mb=2048 \
    -print_final_stats=1
echo "fuzzed $target for $seconds s ($((SECONDS - start)) s with the build)" >&2
