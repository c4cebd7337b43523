#!/usr/bin/env bash
# Generates the bindings and runs their tests: pytest for Python, Maven Surefire for Kotlin,
# and a check that the Swift sources were generated (Swift is compiled on a Mac, not here).
#
#   scripts/test-bindings.sh
#
# Needs cargo, python3 (pytest is installed with pip when missing), Maven and a JDK 17+.
# Exits non-zero on the first failure. Runs from any working directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
start=$SECONDS

step() { printf '\n== %s\n' "$*" >&2; }

step "generating bindings"
"$repo_root/scripts/gen-bindings.sh"

# The sync tests (Python and Kotlin) start a real server on loopback, and sign a training
# pack with the CLI.
step "building waystation-server and the waystation CLI"
cargo build -q -p waystation-server -p waystation-cli

step "python: pytest bindings/python/tests"
if ! python3 -c 'import pytest' 2>/dev/null; then
    python3 -m pip install --quiet pytest
fi
# The panic test makes Rust print the panic; a backtrace would only add noise.
RUST_BACKTRACE=0 python3 -m pytest -q -p no:cacheprovider bindings/python/tests

step "kotlin: mvn test (with the READMEs' Kotlin examples: ReadmeExamplesTest)"
# The pom runs scripts/check-readme-examples.py --kotlin before compiling the tests: the
# ```kotlin blocks of README.md and bindings/kotlin/README.md become ReadmeExamplesTest.
report_dir=bindings/kotlin/target/surefire-reports
rm -rf "$report_dir" # a stale report would be counted below
# Classes compiled from an earlier generation of the bindings: a type that moved package (the
# FFI's to the core's) would otherwise shadow the new one (Kotlin prefers the same package).
rm -rf bindings/kotlin/target/classes bindings/kotlin/target/test-classes
mvn -B -q -Dstyle.color=never -f bindings/kotlin/pom.xml test \
    -Dwaystation.repo.root="$repo_root" \
    -Dwaystation.lib.dir="${CARGO_TARGET_DIR:-$repo_root/target}/debug"
# -q hides Surefire's summary; print it from the reports.
python3 - "$report_dir" <<'EOF'
import glob, sys, xml.etree.ElementTree as ET
totals = dict(tests=0, failures=0, errors=0, skipped=0)
for path in glob.glob(f"{sys.argv[1]}/TEST-*.xml"):
    suite = ET.parse(path).getroot()
    for key in totals:
        totals[key] += int(suite.get(key, 0))
if totals["tests"] == 0:
    sys.exit("kotlin: Surefire ran no test")
print("Tests run: {tests}, Failures: {failures}, Errors: {errors}, Skipped: {skipped}".format(**totals))
EOF

step "swift: generated sources"
# Two uniffi components, both compiled into the one Swift module Waystation (Package.swift):
# Waystation.swift (the FFI's objects, functions, errors) and WaystationCore.swift (the core's
# plain types), both over the one C module WaystationFFI, whose two headers
# (WaystationFFI.h, WaystationCoreFFI.h) share uniffi's common declarations behind one guard.
swift_dir=bindings/swift/generated
for f in Waystation.swift WaystationFFI.h WaystationFFI.modulemap \
    WaystationCore.swift WaystationCoreFFI.h WaystationCoreFFI.modulemap; do
    if [ ! -s "$swift_dir/$f" ]; then
        echo "swift: $swift_dir/$f is missing or empty" >&2
        exit 1
    fi
done
swift_has() { # file, declarations...
    local file="$swift_dir/$1"
    shift
    for decl in "$@"; do
        grep -qF "$decl" "$file" || {
            echo "swift: $file lacks '$decl'" >&2
            exit 1
        }
    done
}
# The handles, an async call, the error that keeps the server's status, and the platform
# transport an app passes at open (URLSessionTransport adopts it).
swift_has Waystation.swift 'import WaystationFFI' 'open class Waystation' \
    'open func stations() -> Stations' 'open func run(options: SyncOptions)async throws' \
    'public func convertPosition(' 'enum WaystationError: Swift.Error' \
    'case Server(status: ' 'retryable: Bool' \
    'public protocol HttpTransport' 'func send(request: HttpRequest) async throws' \
    'transport: HttpTransport? = nil'
swift_has WaystationCore.swift 'import WaystationFFI' 'public enum Datum'
for m in WaystationFFI WaystationCoreFFI; do
    grep -qE "^module WaystationFFI \{" "$swift_dir/$m.modulemap" || {
        echo "swift: $swift_dir/$m.modulemap does not declare the C module WaystationFFI" >&2
        exit 1
    }
done
echo "swift: module Waystation (C module WaystationFFI: WaystationFFI.h, WaystationCoreFFI.h) generated in $swift_dir; compile it on macOS" >&2

step "android demo: shared logic (JUnit on the JVM, real library), UI compiled against android-all, and the screens under Robolectric"
# android-demo/pom.xml: shared/ (view models, formatting, sync policy) tested against the real
# bindings and library; platform-check/ compiles app/src/main/kotlin against Robolectric's
# android-all (Android 15 framework jar, from Maven Central); robolectric/ runs those screens
# under Robolectric 4.17 (created, laid out, clicked; a real waystation-server on loopback for
# the sync screen) and renders them to android-demo/robolectric/target/screenshots/.
# app/src/androidx (WorkManager) needs Google's Maven repository and is compiled only by the
# Gradle build (android-demo/README.md).
demo_reports=android-demo/shared/target/surefire-reports
robo_reports=android-demo/robolectric/target/surefire-reports
rm -rf "$demo_reports" "$robo_reports" android-demo/platform-check/target/classes \
    android-demo/robolectric/target/screenshots android-demo/*/target/classes \
    android-demo/*/target/test-classes
mvn -B -q -Dstyle.color=never -f android-demo/pom.xml verify \
    -Dwaystation.repo.root="$repo_root" \
    -Dwaystation.lib.dir="${CARGO_TARGET_DIR:-$repo_root/target}/debug"
for reports in "$demo_reports" "$robo_reports"; do
    python3 - "$reports" <<'EOF'
import glob, sys, xml.etree.ElementTree as ET
totals = dict(tests=0, failures=0, errors=0, skipped=0, time=0.0)
for path in glob.glob(f"{sys.argv[1]}/TEST-*.xml"):
    suite = ET.parse(path).getroot()
    for key in totals:
        totals[key] += type(totals[key])(suite.get(key, 0))
if totals["tests"] == 0:
    sys.exit(f"android demo: Surefire ran no test in {sys.argv[1]}")
print("{0}: Tests run: {tests}, Failures: {failures}, Errors: {errors}, Skipped: {skipped}, {time:.0f} s".format(sys.argv[1].split("/")[1], **totals))
EOF
done
test -s android-demo/robolectric/target/screenshots/index.md || {
    echo "android demo: the Robolectric run wrote no screenshots" >&2
    exit 1
}
test -s android-demo/platform-check/target/classes/org/waystation/demo/android/MainActivity.class || {
    echo "android demo: the UI was not compiled against android-all" >&2
    exit 1
}
# The Gradle layout (bindings and packs; no NDK here, so no native libraries), and the
# manifest's classes against the sources.
android-demo/scripts/build-rust.sh --skip-native
python3 android-demo/scripts/check_manifest.py

step "ios demo: Swift package and sources against the generated Swift bindings (no compiler here)"
python3 ios-demo/scripts/check_swift.py --self-test
python3 ios-demo/scripts/check_swift.py
# README.md's Swift example, by check_swift.py's rules (the Kotlin one ran with Maven above).
python3 scripts/check-readme-examples.py

step "bindings OK in $((SECONDS - start)) s"
