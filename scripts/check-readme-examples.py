#!/usr/bin/env python3
"""Makes the READMEs' code examples part of the tests, so that they stay the real API.

    scripts/check-readme-examples.py            # writes the Kotlin test, checks the Swift
    scripts/check-readme-examples.py --kotlin   # only writes the Kotlin test

Kotlin: the ```kotlin blocks of README.md and bindings/kotlin/README.md become
bindings/kotlin/target/generated-test-sources/readme/org/waystation/ReadmeExamplesTest.kt,
one test method per README, which Maven compiles and runs with the other Kotlin tests
(bindings/kotlin/pom.xml runs this script in generate-test-sources and adds the directory as
a test source root). A README's blocks run in order in one scope, as a reader reads them: a
later block uses what an earlier one declared, so each name is declared once per README.
`import` lines move to the top of the file. The blocks run inside
`with(ReadmeContext(tmp)) { runBlocking { ... } }`: suspend calls may stand at the top level,
and the names an app would already have (dataDir, packBytes, url, token, scope, ...) come from
bindings/kotlin/src/test/kotlin/org/waystation/ReadmeContext.kt. After the blocks, a few
checks (CHECKS below) make sure the example did what its text says.

Swift (no compiler here): README.md's ```swift blocks are checked the way
ios-demo/scripts/check_swift.py checks the iOS demo and bindings/swift/README.md: every call on
a handle, record initialiser and top-level function against the generated Swift, labels in
order and the required ones present. Skipped with a note when the Swift bindings were not
generated (scripts/gen-bindings.sh swift).

Python: README.md's ```python block is run by bindings/python/tests/test_readme_examples.py,
bindings/python/README.md's by bindings/python/tests/test_python_readme.py.
"""
import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KOTLIN_READMES = [ROOT / "README.md", ROOT / "bindings/kotlin/README.md"]
OUT = ROOT / "bindings/kotlin/target/generated-test-sources/readme/org/waystation/ReadmeExamplesTest.kt"
CHECK_SWIFT = ROOT / "ios-demo/scripts/check_swift.py"

# What each README's example must have done, checked after its blocks ran (Kotlin).
CHECKS = {
    "README.md": [
        # Open now: how many depends on the hour, never more than the limit, none closed.
        "assertTrue(hits.size <= 5)",
        "assertTrue(hits.all { Service.EBIKE_CHARGING in it.station.services && it.status == OpenStatus.OPEN })",
        "assertTrue(ws.stations().count() > 1000L)",
        "assertTrue(report!!.complete)",
    ],
    "bindings/kotlin/README.md": [
        "assertEquals(5, hits.size)",
        "assertTrue(near.isNotEmpty())",
        "assertEquals(lesson.id, ws.training().progress(user).completedLessons.single().lessonId)",
        "assertEquals(ws.training().progress(user), other.training().progress(user))",
        "assertEquals(CaseStatus.IN_PROGRESS, case.status)",
        "assertTrue(geojson.contains(\"FeatureCollection\"))",
        "assertTrue(job.isCancelled)",
    ],
}


def blocks(path: Path, lang: str) -> list:
    """(line number, code) of each ```lang block."""
    text = path.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1))
            for m in re.finditer(rf"^```{lang}\n(.*?)^```$", text, re.M | re.S)]


def kotlin_test() -> str:
    imports = {
        "import java.nio.file.Path", "import kotlinx.coroutines.runBlocking",
        "import org.junit.jupiter.api.Assertions.assertEquals",
        "import org.junit.jupiter.api.Assertions.assertTrue", "import org.junit.jupiter.api.Test",
        "import org.junit.jupiter.api.io.TempDir", "import org.waystation.core.*",
    }
    methods = []
    for readme in KOTLIN_READMES:
        name = str(readme.relative_to(ROOT))
        found = blocks(readme, "kotlin")
        if not found:
            sys.exit(f"check-readme-examples: {name} has no ```kotlin block")
        body = []
        for i, (line, code) in enumerate(found):
            body.append(f"                // --- {name} kotlin block {i + 1} (line {line})")
            for text in code.splitlines():
                if text.startswith("import "):
                    imports.add(text.split("//")[0].strip())
                else:
                    body.append(f"                {text}" if text.strip() else "")
        body.append(f"                // --- what the example of {name} must have done")
        body += [f"                {c}" for c in CHECKS[name]]
        methods.append(
            f"    @Test\n"
            # JVM method names take no '.' or '/'.
            f"    fun `the kotlin examples of {name.removesuffix('.md').replace('/', ' ')} run`() {{\n"
            f"        ReadmeContext(tmp).use {{ context ->\n"
            f"            with(context) {{\n"
            f"                runBlocking {{\n"
            + "\n".join(("    " + b) if b else "" for b in body) + "\n"
            f"                }}\n"
            f"            }}\n"
            f"        }}\n"
            f"    }}\n"
        )
    imports.discard("import org.waystation.*")  # the test's own package
    sources = ", ".join(str(r.relative_to(ROOT)) for r in KOTLIN_READMES)
    return (
        f"// Generated by scripts/check-readme-examples.py from {sources}: do not edit.\n"
        "@file:Suppress(\"UNUSED_VARIABLE\", \"NAME_SHADOWING\", \"UNUSED_EXPRESSION\")\n\n"
        "package org.waystation\n\n"
        + "\n".join(sorted(imports)) + "\n\n"
        "/** The READMEs' Kotlin examples, run against the real library. */\n"
        "class ReadmeExamplesTest {\n"
        "    @TempDir\n"
        "    lateinit var tmp: Path\n\n"
        + "\n".join(methods)
        + "}\n"
    )


def check_swift() -> list:
    """Errors in README.md's Swift blocks, checked by check_swift.py's rules."""
    sys.path.insert(0, str(CHECK_SWIFT.parent))  # check_swift imports its sibling modules
    spec = importlib.util.spec_from_file_location("check_swift", CHECK_SWIFT)
    cs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cs)
    missing = [f for f in cs.GENERATED if not f.is_file()]
    if missing:
        print(f"check-readme-examples: {missing[0].relative_to(ROOT)} is missing, README.md's Swift "
              "not checked (run scripts/gen-bindings.sh swift)", file=sys.stderr)
        return []
    api = cs.Api("\n".join(f.read_text() for f in cs.GENERATED))
    for f in sorted(cs.HAND_WRITTEN.glob("*.swift")):
        api.add_extensions(f.read_text())
    found = blocks(ROOT / "README.md", "swift")
    if not found:
        return ["README.md has no ```swift block"]
    files = {f"README.md swift block {i + 1} (line {line})": re.sub(r"\bws\.", "core.", code)
             for i, (line, code) in enumerate(found)}
    errors = cs.check_sources(api, files, token_storage=False)
    # check_sources reads `core.` calls; a block without one would check nothing.
    if not any(re.search(r"\bcore\.\w+\(\)\.\w+\(", f) for f in files.values()):
        errors.append("README.md's Swift blocks call no handle method (ws.stations().nearest(...))")
    return errors


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = kotlin_test()
    if not OUT.is_file() or OUT.read_text() != text:  # unchanged: keep Maven's compile cache
        OUT.write_text(text)
    print(f"check-readme-examples: kotlin -> {OUT.relative_to(ROOT)}", file=sys.stderr)
    if "--kotlin" in sys.argv:
        return 0
    errors = check_swift()
    for e in errors:
        print(f"check-readme-examples: swift: {e}", file=sys.stderr)
    if errors:
        return 1
    print("check-readme-examples: README.md's Swift example matches the generated bindings", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
