#!/usr/bin/env python3
"""Checks what the Android build would check and CI cannot run (no Android SDK here):

  - every class the manifest names exists: compiled against android-all for app/src/main
    (platform-check/target/classes), declared in the sources for app/src/androidx;
  - every Activity subclass in the sources is declared in the manifest (else it crashes when
    opened);
  - the photo provider's authority is the one the code builds;
  - the bundled packs the app opens are where scripts/build-rust.sh puts them, and the
    generated bindings are in the library module.

    python3 android-demo/scripts/check_manifest.py   # after mvn verify and build-rust.sh --skip-native
"""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1]
APP = DEMO / "app"
ANDROID = "{http://schemas.android.com/apk/res/android}"


def main() -> int:
    errors = []
    gradle = (APP / "build.gradle.kts").read_text()
    namespace = re.search(r'namespace\s*=\s*"([^"]+)"', gradle).group(1)
    manifest = ET.parse(APP / "src/main/AndroidManifest.xml").getroot()
    app = manifest.find("application")
    named = [("application", app.get(ANDROID + "name"))]
    for tag in ("activity", "provider", "service", "receiver"):
        named += [(tag, e.get(ANDROID + "name")) for e in app.findall(tag)]

    classes = DEMO / "platform-check/target/classes"
    sources = {p: p.read_text() for d in ("src/main/kotlin", "src/androidx/kotlin") for p in (APP / d).rglob("*.kt")}
    declared = {}
    for path, text in sources.items():
        package = re.search(r"^package ([\w.]+)", text, re.M).group(1)
        for m in re.finditer(r"^class (\w+)[^\n]*?:\s*(\w+)\(", text, re.M):
            declared[f"{package}.{m.group(1)}"] = (path, m.group(2))

    for tag, name in named:
        full = namespace + name if name.startswith(".") else name
        compiled = classes / (full.replace(".", "/") + ".class")
        if compiled.is_file():
            continue
        if full in declared and "/src/androidx/" in str(declared[full][0]):
            continue  # compiled by Gradle only (AndroidX)
        errors.append(f"manifest {tag} {name}: no class {full} (compiled in platform-check or declared in src/androidx)")

    in_manifest = {namespace + n if n.startswith(".") else n for _, n in named}
    for full, (path, parent) in declared.items():
        if parent in ("Screen", "Activity") and full not in in_manifest:
            errors.append(f"{path.name}: activity {full} is not declared in the manifest")

    provider = next((p for p in app.findall("provider") if p.get(ANDROID + "name") == ".PhotoProvider"), None)
    code = (APP / "src/main/kotlin/org/waystation/demo/android/PhotoProvider.kt").read_text()
    suffix = re.search(r'packageName \+ "([^"]+)"', code).group(1)
    if provider is None or provider.get(ANDROID + "authorities") != "${applicationId}" + suffix:
        errors.append(f"PhotoProvider authority in the manifest is not ${{applicationId}}{suffix}")
    if provider is not None and (provider.get(ANDROID + "exported") != "false" or provider.get(ANDROID + "grantUriPermissions") != "true"):
        errors.append("PhotoProvider must be exported=false with grantUriPermissions=true")

    graph = (APP / "src/main/kotlin/org/waystation/demo/android/AppGraph.kt").read_text()
    for asset in re.findall(r'_ASSET = "([^"]+)"', graph):
        if not (APP / "src/generated/assets" / asset).is_file():
            errors.append(f"asset {asset} is missing: run android-demo/scripts/build-rust.sh")
    # The two uniffi components: the FFI's objects (org.waystation) and the core's records
    # (org.waystation.core), where scripts/build-rust.sh copies them.
    generated = DEMO / "waystation/src/generated/kotlin/org/waystation"
    for bindings in (generated / "waystation_ffi.kt", generated / "core/waystation_core.kt"):
        if not bindings.is_file():
            errors.append(f"{bindings.relative_to(DEMO)} is missing: run android-demo/scripts/build-rust.sh")

    for e in errors:
        print(f"check_manifest: {e}", file=sys.stderr)
    if errors:
        return 1
    print(f"check_manifest: {len(named)} manifest classes and {len(declared)} source classes consistent; "
          "bundled packs and bindings in place", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
