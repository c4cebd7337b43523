#!/usr/bin/env bash
# Runs every test suite: formatting and lints, the Rust workspace (unit, end-to-end and CLI
# tests), then the Python, Kotlin and Swift bindings (scripts/test-bindings.sh).
#
#   scripts/test-all.sh
#
# Installs what the suites need when it is missing (pytest; Maven and a JDK through apt on a
# Debian machine). Exits non-zero on the first failure. Runs from any working directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
start=$SECONDS
# Each step names the free disk space: a full disk fails a build with a message far from its cause.
free_space() { df -Ph . | awk 'NR == 2 {print $4}'; }
step() { printf '\n== %s (%s free)\n' "$*" "$(free_space)" >&2; }

# CI builds once from a clean clone: incremental state would only take disk (over 1 GB).
if [ -n "${CI:-}" ]; then
    export CARGO_INCREMENTAL=0
fi

step "checking tools"
missing=()
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
command -v python3 >/dev/null || missing+=(python3 python3-pip)
command -v mvn >/dev/null || missing+=(maven)
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "please install: ${missing[*]}" >&2
        exit 1
    fi
fi
python3 -c 'import pytest' 2>/dev/null || python3 -m pip install --quiet pytest

# The server runs on SQLite or PostgreSQL (decision 0011): its tests run on both, and the
# PostgreSQL ones need a server. Installed and started when missing; the run fails without it.
step "PostgreSQL for the server tests"
WAYSTATION_TEST_PG=$(scripts/test-postgres.sh)
export WAYSTATION_TEST_PG

step "cargo fmt --check"
cargo fmt --all -- --check

# `waystation demo` links the sync server, so it is behind the CLI's `demo` feature (the device
# CLI does not link axum): both builds are linted and tested.
step "cargo clippy -D warnings"
cargo clippy --quiet --workspace --all-targets -- -D warnings
cargo clippy --quiet -p waystation-cli --all-targets --features demo -- -D warnings

step "cargo test (workspace)"
cargo test --workspace --features waystation-cli/demo 2>&1 | tee target/cargo-test.log
# The CLI as shipped, without the demo: `waystation demo` says how to get it.
cargo test -p waystation-cli --test demo 2>&1 | tee -a target/cargo-test.log
# Every server test again with the server on PostgreSQL (a scratch database per test).
pg_start=$SECONDS
WAYSTATION_TEST_STORE=postgres cargo test -p waystation-server 2>&1 | tee -a target/cargo-test.log
# And every end-to-end test whose devices sync with a real server (tests/src/net.rs), with
# that server on PostgreSQL.
WAYSTATION_TEST_STORE=postgres cargo test -p waystation-tests --test sync --test erasure \
    --test hostile_server --test crafted_input --test cases --test console \
    --test supervisor_pull 2>&1 \
    | tee -a target/cargo-test.log
echo "the PostgreSQL passes (server, end-to-end) took $((SECONDS - pg_start)) s" >&2
passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' target/cargo-test.log | awk '{s+=$4} END {print s+0}')
echo "rust: $passed tests passed" >&2

# "Passes on any date": the same test binaries again under a clock a year ahead (libfaketime,
# preloaded into every process the tests start, subprocesses included). A test that mixes a
# fixed clock with the real one, or hard-codes a date that will pass, fails here first.
# WAYSTATION_SKIP_FAKETIME=1 skips it (quick local runs); CI always runs it.
if [ "${WAYSTATION_SKIP_FAKETIME:-0}" != 1 ]; then
    step "cargo test (workspace) under a clock a year ahead"
    faketime_lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1 || true)
    if [ -z "$faketime_lib" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime
        faketime_lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1 || true)
    fi
    if [ -z "$faketime_lib" ]; then
        echo "libfaketime is required for the year-ahead run (Debian: apt-get install faketime)" >&2
        exit 1
    fi
    ahead=$(date -u -d '+365 days' '+%Y-%m-%d %H:%M:%S')
    echo "faking the clock: $ahead UTC (the clock then runs on)" >&2
    # Only the test binaries run under the fake clock, through cargo's runner setting (cargo,
    # rustc and rustdoc would not need it, and rustdoc deadlocks under libfaketime); the
    # processes the tests start inherit it. Doc tests never read the clock and are skipped.
    # "@" starts the fake clock at that instant and lets it tick; monotonic clocks stay real so
    # timeouts and rate limits behave as they do on a real phone or server.
    # The preload must really move the clock, or this run would prove nothing.
    seen=$(env LD_PRELOAD="$faketime_lib" FAKETIME="@$ahead" date -u '+%Y-%m-%d')
    if [ "$seen" != "${ahead%% *}" ]; then
        echo "libfaketime did not move the clock (date says $seen, wanted ${ahead%% *})" >&2
        exit 1
    fi
    host=$(rustc -vV | sed -n 's/^host: //p' | tr 'a-z-' 'A-Z_')
    env "CARGO_TARGET_${host}_RUNNER=env LD_PRELOAD=$faketime_lib FAKETIME_DONT_FAKE_MONOTONIC=1 DONT_FAKE_MONOTONIC=1 FAKETIME_DONT_RESET=1" \
        FAKETIME="@$ahead" cargo test --workspace --features waystation-cli/demo --lib --bins --tests 2>&1 | tee target/cargo-test-ahead.log
    ahead_passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' target/cargo-test-ahead.log | awk '{s+=$4} END {print s+0}')
    echo "rust, a year ahead: $ahead_passed tests passed" >&2
fi

step "bindings (Python, Kotlin, Swift)"
scripts/test-bindings.sh

# The phone library's size budget (issue 15): the release library as the phone builds make it
# (no built-in HTTP transport), in target/phone; fails above its budget (4.6 MB). From clean:
# 109 s with the 2 cores to itself, 13.5 minutes when other builds share them; 2.5 minutes after
# a change in the core (docs/benchmarks.md).
step "phone library size (scripts/lib-size.sh)"
lib_start=$SECONDS
scripts/lib-size.sh
echo "lib-size took $((SECONDS - lib_start)) s" >&2

# The web console in Debian's Chromium (installed when missing), seeded by the Python bindings
# above through the sync path; axe-core on every page; screenshots in target/console-screenshots.
step "console browser tests (Chromium, Playwright, axe-core)"
scripts/test-browser.sh

# The server's request decoding under cargo-fuzz (nightly), for a short, bounded time.
# WAYSTATION_SKIP_FUZZ=1 skips it (quick local runs); CI always runs it.
if [ "${WAYSTATION_SKIP_FUZZ:-0}" != 1 ]; then
    step "fuzz: server request decoding (${FUZZ_SECONDS:-30} s)"
    FUZZ_SECONDS="${FUZZ_SECONDS:-30}" scripts/fuzz.sh
fi

step "all suites passed in $((SECONDS - start)) s"
