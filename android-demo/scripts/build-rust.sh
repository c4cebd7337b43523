#!/usr/bin/env bash
# Builds the Waystation core for Android and lays it out for the Gradle build:
#
#   android-demo/scripts/build-rust.sh [--debug] [--abi ABI]... [--skip-native]
#
#   waystation/src/main/jniLibs/<ABI>/libwaystation_ffi.so   (cargo-ndk, release profile)
#   waystation/src/generated/kotlin/org/waystation/waystation_ffi.kt          (package org.waystation)
#   waystation/src/generated/kotlin/org/waystation/core/waystation_core.kt    (org.waystation.core)
#   app/src/generated/assets/packs/xian-sample.pack.json, xian-training.pack.json
#
# ABIs: arm64-v8a, armeabi-v7a and x86_64 (the emulator) unless --abi is given. --debug builds
# the debug profile (faster, much larger). --skip-native only generates the bindings and copies
# the packs (CI uses it: it has no NDK). None of the outputs is checked in.
#
# Needs, for the native build: the Android NDK (ANDROID_NDK_HOME, or the newest
# $ANDROID_HOME/ndk/<version>), cargo-ndk (`cargo install cargo-ndk`), and the Rust targets
# (`rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`).
set -euo pipefail

demo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_root="$(cd "$demo_root/.." && pwd)"
profile=release
native=1
abis=()
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) profile=debug ;;
        --skip-native) native=0 ;;
        --abi)
            shift
            abis+=("${1:?--abi needs an ABI}")
            ;;
        -h | --help)
            sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "build-rust: unknown argument '$1'" >&2
            exit 2
            ;;
    esac
    shift
done
if [ ${#abis[@]} -eq 0 ]; then
    abis=(arm64-v8a armeabi-v7a x86_64)
fi

module="$demo_root/waystation"
jni_dir="$module/src/main/jniLibs"
kotlin_dir="$module/src/generated/kotlin"
assets_dir="$demo_root/app/src/generated/assets/packs"

# The minimum API level the library is built for: the app's minSdk.
min_sdk="$(sed -n 's/^minSdk *= *"\([0-9]*\)".*/\1/p' "$demo_root/gradle/libs.versions.toml")"
: "${min_sdk:?minSdk not found in gradle/libs.versions.toml}"

if [ "$native" = 1 ]; then
    if ! cargo ndk --version >/dev/null 2>&1; then
        echo "build-rust: cargo-ndk is missing: cargo install cargo-ndk" >&2
        exit 1
    fi
    if [ -z "${ANDROID_NDK_HOME:-}" ] && [ -n "${ANDROID_HOME:-}" ] && [ -d "$ANDROID_HOME/ndk" ]; then
        ANDROID_NDK_HOME="$(ls -d "$ANDROID_HOME"/ndk/* | sort -V | tail -n 1)"
        export ANDROID_NDK_HOME
    fi
    if [ -z "${ANDROID_NDK_HOME:-}" ]; then
        echo "build-rust: set ANDROID_NDK_HOME (or ANDROID_HOME with an NDK installed by the SDK manager)" >&2
        exit 1
    fi
    installed="$(rustup target list --installed 2>/dev/null || true)"
    for abi in "${abis[@]}"; do
        case "$abi" in
            arm64-v8a) triple=aarch64-linux-android ;;
            armeabi-v7a) triple=armv7-linux-androideabi ;;
            x86_64) triple=x86_64-linux-android ;;
            x86) triple=i686-linux-android ;;
            *)
                echo "build-rust: unknown ABI '$abi'" >&2
                exit 2
                ;;
        esac
        if ! grep -qx "$triple" <<<"$installed"; then
            echo "build-rust: the Rust target $triple is missing: rustup target add $triple" >&2
            exit 1
        fi
    done

    targets=()
    for abi in "${abis[@]}"; do targets+=(-t "$abi"); done
    cargo_profile=()
    [ "$profile" = release ] && cargo_profile=(--release)
    echo "build-rust: cargo ndk ${abis[*]} (API $min_sdk, $profile)" >&2
    rm -rf "$jni_dir"
    mkdir -p "$jni_dir"
    # The release profile is stripped, LTO'd and keeps panic=unwind (uniffi turns panics into
    # exceptions). cargo-ndk writes <jni_dir>/<ABI>/libwaystation_ffi.so. No default features:
    # the app passes OkHttpTransport to Waystation (the platform's proxy, trust store and
    # network security config), so the built-in reqwest/rustls transport stays out.
    # shellcheck source=../../scripts/phone-sqlite-flags.sh
    . "$repo_root/scripts/phone-sqlite-flags.sh"
    (cd "$repo_root" && cargo ndk "${targets[@]}" --platform "$min_sdk" -o "$jni_dir" \
        build "${cargo_profile[@]}" -p waystation-ffi --no-default-features)
    for abi in "${abis[@]}"; do
        test -s "$jni_dir/$abi/libwaystation_ffi.so" || {
            echo "build-rust: $jni_dir/$abi/libwaystation_ffi.so was not built" >&2
            exit 1
        }
    done
fi

# The bindings come from the host library (unstripped, so uniffi can read the interface); its
# API checksums depend on the source only, so they match the Android libraries built above
# from the same checkout.
"$repo_root/scripts/gen-bindings.sh" kotlin
generated="$repo_root/bindings/kotlin/target/generated-sources/uniffi"
rm -rf "$kotlin_dir"
for f in org/waystation/waystation_ffi.kt org/waystation/core/waystation_core.kt; do
    mkdir -p "$kotlin_dir/$(dirname "$f")"
    cp "$generated/$f" "$kotlin_dir/$f"
done

mkdir -p "$assets_dir"
cp "$repo_root/data/stations/xian-sample.pack.json" "$assets_dir/xian-sample.pack.json"
cp "$repo_root/data/training/xian-training.pack.json" "$assets_dir/xian-training.pack.json"

echo "build-rust: bindings -> ${kotlin_dir#"$repo_root"/}" >&2
echo "build-rust: packs -> ${assets_dir#"$repo_root"/}" >&2
[ "$native" = 1 ] && echo "build-rust: libraries -> ${jni_dir#"$repo_root"/}/{${abis[*]}}" >&2
exit 0
