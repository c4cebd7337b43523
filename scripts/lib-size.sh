#!/usr/bin/env bash
# Builds the phone library for this machine's target exactly as the phone build scripts do
# (release profile, phone SQLite flags) in target/phone, and prints its size.
#
#   scripts/lib-size.sh
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
# shellcheck source=phone-sqlite-flags.sh
. scripts/phone-sqlite-flags.sh
CARGO_TARGET_DIR="$repo_root/target/phone" cargo build -q --release -p waystation-ffi
ls -l target/phone/release/libwaystation_ffi.*
