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
# -max_len: sync bodies are up to 16 MiB, but small inputs find decoding bugs far faster.
cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1
echo "fuzzed $target for $seconds s ($((SECONDS - start)) s with the build)" >&2
