#!/usr/bin/env bash
# Generates the Python, Kotlin and Swift bindings of waystation-ffi with uniffi-bindgen.
#
#   scripts/gen-bindings.sh [--release] [python] [kotlin] [swift]
#
# With no language given, generates all three. Runs from any working directory.
#
#   python -> bindings/python/waystation/{waystation_ffi.py, waystation_core.py} (the FFI's
#             objects, functions and errors; the core's plain types), plus libwaystation_ffi.so
#   kotlin -> bindings/kotlin/target/generated-sources/uniffi/org/waystation/waystation_ffi.kt
#             (package org.waystation) and .../org/waystation/core/waystation_core.kt (package
#             org.waystation.core); both load libwaystation_ffi.so through JNA
#   swift  -> bindings/swift/generated/{Waystation.swift, WaystationCore.swift} (both compiled
#             into the Swift module Waystation), WaystationFFI.h and WaystationCoreFFI.h (the
#             two headers of the one C module WaystationFFI; see scripts/build-xcframework.sh)
#
# Two uniffi components live in the one library: the core's plain types (core/uniffi.toml) and
# the FFI crate's objects (bindings/ffi/uniffi.toml). uniffi writes one file per component and
# language.
#
# Why two builds with --release: uniffi's library mode reads the interface from the library's
# symbol table, and the release profile strips it (strip = true). The metadata (and so the
# checksums the bindings verify when they load) depends only on the source, not on the
# profile, so the bindings are generated from the unstripped debug library and the stripped
# release library is what gets copied next to the Python module.
set -euo pipefail

usage() {
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
}

profile=debug
langs=()
for arg in "$@"; do
    case "$arg" in
        --release) profile=release ;;
        python | kotlin | swift) langs+=("$arg") ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "gen-bindings: unknown argument '$arg'" >&2
            usage >&2
            exit 2
            ;;
    esac
done
if [ ${#langs[@]} -eq 0 ]; then
    langs=(python kotlin swift)
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# uniffi-bindgen runs `cargo metadata`, so it must run inside the workspace.
cd "$repo_root"

target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
case "$(uname -s)" in
    Darwin) lib_file=libwaystation_ffi.dylib ;;
    *) lib_file=libwaystation_ffi.so ;;
esac

echo "gen-bindings: building waystation-ffi and uniffi-bindgen (debug)" >&2
cargo build --quiet -p waystation-ffi -p uniffi-bindgen
if [ "$profile" = release ]; then
    echo "gen-bindings: building waystation-ffi (release)" >&2
    cargo build --quiet --release -p waystation-ffi
fi

bindgen="$target_dir/debug/uniffi-bindgen"
metadata_lib="$target_dir/debug/$lib_file"   # unstripped: the interface is read from here
shipped_lib="$target_dir/$profile/$lib_file" # what the bindings load at run time
for f in "$bindgen" "$metadata_lib" "$shipped_lib"; do
    if [ ! -f "$f" ]; then
        echo "gen-bindings: expected $f after the build, it is missing" >&2
        exit 1
    fi
done

generate() {
    local lang="$1" out_dir="$2"
    # Start from an empty directory so that nothing stale (a renamed type, an old module)
    # survives a regeneration.
    rm -rf "$out_dir"
    mkdir -p "$out_dir"
    # --no-format: ktlint and swift-format are not installed here, and the output is the
    # same without them.
    "$bindgen" generate "$metadata_lib" --language "$lang" --out-dir "$out_dir" --no-format \
        >/dev/null
}

for lang in "${langs[@]}"; do
    case "$lang" in
        python)
            pkg_dir="$repo_root/bindings/python/waystation"
            gen_dir="$(mktemp -d)"
            generate python "$gen_dir"
            mkdir -p "$pkg_dir"
            # The package directory holds hand-written files too (__init__.py), so replace
            # only the generated modules and the library. waystation_ffi imports its sibling
            # (`from . import waystation_core`), so both stay in the package.
            for module in waystation_ffi.py waystation_core.py; do
                if [ ! -s "$gen_dir/$module" ]; then
                    echo "gen-bindings: python output $module is missing or empty" >&2
                    exit 1
                fi
                cp "$gen_dir/$module" "$pkg_dir/$module"
            done
            rm -rf "$gen_dir"
            # Copy to a temporary name and rename, so that a Python process that has the old
            # library mapped keeps a valid file.
            cp "$shipped_lib" "$pkg_dir/.$lib_file.tmp"
            mv -f "$pkg_dir/.$lib_file.tmp" "$pkg_dir/$lib_file"
            echo "gen-bindings: python -> bindings/python/waystation/{waystation_ffi,waystation_core}.py ($profile library)" >&2
            ;;
        kotlin)
            out="$repo_root/bindings/kotlin/target/generated-sources/uniffi"
            generate kotlin "$out"
            for f in org/waystation/waystation_ffi.kt org/waystation/core/waystation_core.kt; do
                if [ ! -s "$out/$f" ]; then
                    echo "gen-bindings: kotlin output $f is missing or empty" >&2
                    exit 1
                fi
            done
            echo "gen-bindings: kotlin -> bindings/kotlin/target/generated-sources/uniffi (packages org.waystation, org.waystation.core)" >&2
            ;;
        swift)
            out="$repo_root/bindings/swift/generated"
            generate swift "$out"
            for f in Waystation.swift WaystationFFI.h WaystationFFI.modulemap \
                WaystationCore.swift WaystationCoreFFI.h WaystationCoreFFI.modulemap; do
                if [ ! -s "$out/$f" ]; then
                    echo "gen-bindings: swift output $f is missing or empty" >&2
                    exit 1
                fi
            done
            echo "gen-bindings: swift -> bindings/swift/generated (Swift module Waystation; C module WaystationFFI with two headers)" >&2
            ;;
    esac
done
