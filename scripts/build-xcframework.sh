#!/usr/bin/env bash
# Builds the Waystation core as an XCFramework for the Swift package in bindings/swift.
# macOS with Xcode only (xcodebuild, lipo).
#
#   scripts/build-xcframework.sh [--debug] [--macos]
#
#   bindings/swift/generated/        Waystation.swift, WaystationCore.swift, headers, module maps
#   bindings/swift/build/WaystationFFI.xcframework   libwaystation_ffi.a, and in Headers/WaystationFFI/
#                                    both headers with one module.modulemap (one C module)
#       ios-arm64/                               aarch64-apple-ios
#       ios-arm64_x86_64-simulator/              aarch64-apple-ios-sim + x86_64-apple-ios (lipo)
#       macos-arm64_x86_64/                      with --macos: aarch64/x86_64-apple-darwin
#
# Needs: rustup targets aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios (and
# aarch64-apple-darwin x86_64-apple-darwin for --macos). Outputs are not checked in.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=phone-sqlite-flags.sh
. "$repo_root/scripts/phone-sqlite-flags.sh"
cd "$repo_root"
profile=release
macos=0
for arg in "$@"; do
    case "$arg" in
        --debug) profile=debug ;;
        --macos) macos=1 ;;
        -h | --help)
            sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "build-xcframework: unknown argument '$arg'" >&2
            exit 2
            ;;
    esac
done

if [ "$(uname -s)" != Darwin ] || ! command -v xcodebuild >/dev/null; then
    echo "build-xcframework: needs macOS with Xcode (xcodebuild); see bindings/swift/README.md" >&2
    exit 1
fi

targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
[ "$macos" = 1 ] && targets+=(aarch64-apple-darwin x86_64-apple-darwin)
installed="$(rustup target list --installed)"
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$installed" || {
        echo "build-xcframework: missing Rust target $t: rustup target add $t" >&2
        exit 1
    }
done

# The Swift sources, headers and module maps come from the host library (uniffi reads the
# interface from its symbols); they are the same for every target built from this checkout.
scripts/gen-bindings.sh swift

target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
cargo_profile=()
[ "$profile" = release ] && cargo_profile=(--release)
for t in "${targets[@]}"; do
    echo "build-xcframework: cargo build $t ($profile)" >&2
    # iOS 15 is the package's minimum (Package.swift). No default features: the app passes
    # URLSessionTransport to Waystation, so the built-in reqwest/rustls transport stays out.
    IPHONEOS_DEPLOYMENT_TARGET=15.0 MACOSX_DEPLOYMENT_TARGET=12.0 \
        cargo build "${cargo_profile[@]}" -p waystation-ffi --no-default-features --target "$t"
done
lib() { echo "$target_dir/$1/$profile/libwaystation_ffi.a"; }

out="$repo_root/bindings/swift/build"
work="$out/work"
rm -rf "$out"
mkdir -p "$work/ios-sim" "$work/macos"

# The library holds two uniffi components (the FFI's objects, the core's plain types), and both
# generated Swift files import ONE C module, WaystationFFI (core/uniffi.toml sets
# ffi_module_name): its two headers declare uniffi's common types (RustBuffer, RustCallStatus)
# behind one include guard, which holds only when clang reads both in the same module. The
# headers go in one folder named after the module, with one module.modulemap listing both: clang
# finds it by that name, and it does not collide with another XCFramework's module map in the
# app's include path. The Swift package compiles both Swift files into its one module, Waystation.
headers="$work/headers"
mkdir -p "$headers/WaystationFFI"
{
    echo "module WaystationFFI {"
    for m in WaystationFFI WaystationCoreFFI; do
        cp "bindings/swift/generated/$m.h" "$headers/WaystationFFI/"
        echo "    header \"$m.h\""
    done
    echo "    export *"
    echo "}"
} >"$headers/WaystationFFI/module.modulemap"

lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$work/ios-sim/libwaystation_ffi.a"
args=(
    -library "$(lib aarch64-apple-ios)" -headers "$headers"
    -library "$work/ios-sim/libwaystation_ffi.a" -headers "$headers"
)
if [ "$macos" = 1 ]; then
    lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$work/macos/libwaystation_ffi.a"
    args+=(-library "$work/macos/libwaystation_ffi.a" -headers "$headers")
fi
xcodebuild -create-xcframework "${args[@]}" -output "$out/WaystationFFI.xcframework"
rm -rf "$work"
echo "build-xcframework: bindings/swift/build/WaystationFFI.xcframework" >&2
