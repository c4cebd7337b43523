#!/usr/bin/env python3
"""Checks the iOS demo and the Swift package as far as Linux allows (no Swift compiler here).

    python3 ios-demo/scripts/check_swift.py            # after scripts/gen-bindings.sh swift
    python3 ios-demo/scripts/check_swift.py --self-test

Against the generated Swift (bindings/swift/generated/Waystation.swift, the FFI's objects and
functions, and WaystationCore.swift, the core's plain types: both compiled into the module
`Waystation`), it checks that the demo's Swift sources
call only what the bindings declare, with the right argument labels:
  - every `core.method(label: ...)` is a method of Waystation, with exactly its labels, and
    every call on the handle it returns, `core.reports().submit(author: ..., ...)`, is a method
    of that handle's class (or added by bindings/swift/Sources/Waystation's extensions), passing
    known labels in order and every label without a default;
  - every `Struct(label: ...)` of a generated record passes known labels, in order, and every
    label without a default;
  - every call of a generated top-level function, and `Waystation(dataDir:options:)`;
  - every `Enum.case` of a generated enum, and every `.case` in a `case` pattern, exists; a
    case built with associated values, `CaseEventKind.dispatch(gridId: ...)`, passes its labels;
  - no type of the app shadows a generated one (the module has a record `CaseView`, so the
    case screen is `CaseDetailView`);
  - the core is opened with the platform transport, `transport: URLSessionTransport(...)`.
The package's hand-written Swift (bindings/swift/Sources/Waystation) is checked like the demo's
calls, and by swift_hand_written.py: a class adopting a generated protocol implements it with
the protocol's labels, async, throws and return type; a record parameter is read through the
record's fields only; the URLError codes are real ones and map to the right transport errors.
The demo's own rules are checked too: the case inbox (InboxView) is shown only inside an
`if ... followUp ...` (the account the server gave the token, `sync().account()`, is a
station, supervisor or grid account), and `cases().record` writes in a role taken from that
account, never a `CaseRole` written in the code; every `L.t(...)` gives a Chinese string (with
non-ASCII text) and a different English one, and no view shows a bare English literal
(`Text("...")`, `Button("...")`, `.navigationTitle("...")`...; a URL placeholder aside).
The Swift example of bindings/swift/README.md is checked the same way. It checks that the sync
token is kept only in the Keychain, as AfterFirstUnlockThisDeviceOnly
(Sync.swift), and never written to UserDefaults. It also checks that bindings/swift/Package.swift
points at files that exist (or that the build script writes), that the C module names agree
(each generated file's C module has its module map, and the XCFramework gets both),
and that ios-demo/project.yml's paths exist and its background task identifier is the one the
code registers.

It does not type-check: types, optionals, `try`, property names and SwiftUI are left to Xcode.
The text helpers (comments and strings removed, brackets matched, labels read) are in
swift_text.py, beside it.
--self-test breaks a copy of the sources in known ways and makes sure each is caught.
"""
import re
import sys
from pathlib import Path

from swift_hand_written import (HAND_WRITTEN_MUTATIONS, URL_ERROR_CODES, check_demo_transport,
                                check_hand_written, protocols, record_fields)
from swift_text import call_labels, code_only, matching, params, split_top

ROOT = Path(__file__).resolve().parents[2]
GENERATED_DIR = ROOT / "bindings/swift/generated"
# The generated Swift files: the FFI's component first (it declares Waystation), then the core's.
GENERATED = [GENERATED_DIR / "Waystation.swift", GENERATED_DIR / "WaystationCore.swift"]
# The Swift module an app imports.
MODULE = "Waystation"
PACKAGE = ROOT / "bindings/swift/Package.swift"
# The package's hand-written Swift (extensions over the generated classes, e.g. statusStream()).
HAND_WRITTEN = ROOT / "bindings/swift/Sources/Waystation"
# Its README's Swift example, checked like the demo's sources (`ws.` is the demo's `core.`).
SWIFT_README = ROOT / "bindings/swift/README.md"
XCFRAMEWORK_SCRIPT = ROOT / "scripts/build-xcframework.sh"
DEMO = ROOT / "ios-demo"
SOURCES = DEMO / "Sources"

# Cases of platform enums matched in the demo's `case` patterns (CoreLocation, SwiftUI).
PLATFORM_CASES = {
    "some", "none", "notDetermined", "denied", "restricted", "authorizedWhenInUse",
    "authorizedAlways", "background", "active", "inactive", "camera",
}


class Api:
    def __init__(self, swift: str):
        s = code_only(swift)
        # Each generated class's methods, [(label, has_default)], and what each returns.
        self.objects = {}
        self.returns = {}
        for c in re.finditer(r"^open class (\w+)\b[^{]*\{", s, re.M):
            body = s[c.end():matching(s, c.end() - 1)]
            methods = self.objects.setdefault(c.group(1), {})
            for m in re.finditer(r"\bopen func (\w+)\(", body):
                close = matching(body, m.end() - 1)
                methods[m.group(1)] = params(body[m.end():close])
                ret = re.match(r"[^\n{]*?->\s*(\w+)", body[close + 1:])
                if ret:
                    self.returns[(c.group(1), m.group(1))] = ret.group(1)
        self.methods = {m: [l for l, _ in p] for m, p in self.objects["Waystation"].items()}
        self.functions = {}
        for m in re.finditer(r"^public func ([a-z]\w*)\(", s, re.M):
            close = matching(s, m.end() - 1)
            self.functions[m.group(1)] = params(s[m.end():close])
        self.structs = {}
        for m in re.finditer(r"public struct (\w+)\b[^{]*\{", s):
            body = s[m.end():matching(s, m.end() - 1)]
            init = re.search(r"public init\(", body)
            if init:
                self.structs[m.group(1)] = params(body[init.end():matching(body, init.end() - 1)])
        self.enums = {}
        self.case_labels = {}
        # Every public type the module declares: an app type of the same name would shadow it.
        self.types = set(re.findall(r"^(?:public|open) (?:final )?(?:struct|enum|class|protocol|typealias) (\w+)", s, re.M))
        for m in re.finditer(r"(?:public )?enum (\w+)\b[^{]*\{", s):
            body = s[m.end():matching(s, m.end() - 1)]
            # Only the enum's own cases: drop nested bodies (functions, extensions).
            flat, depth = [], 0
            for c in body:
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                elif depth == 0:
                    flat.append(c)
            self.enums[m.group(1)] = set(re.findall(r"\bcase\s+`?(\w+)`?", "".join(flat)))
            # The labels of each case's associated values: `case dispatch(gridId: String)`.
            flat = "".join(flat)
            for c in re.finditer(r"\bcase\s+`?(\w+)`?\(", flat):
                self.case_labels[(m.group(1), c.group(1))] = [l for l, _ in params(flat[c.end():matching(flat, c.end() - 1)])]
        # Waystation's initialiser, [(label, has_default)]: `transport` has a default.
        wc = re.search(r"^open class Waystation\b[^{]*\{", s, re.M)
        wbody = s[wc.end():matching(s, wc.end() - 1)]
        init = re.search(r"public convenience init\(", wbody)
        self.constructor = params(wbody[init.end():matching(wbody, init.end() - 1)])
        # For the hand-written sources: the protocols an app's class may adopt, and the records'
        # fields.
        self.protocols = protocols(swift)
        self.fields = record_fields(swift)

    def add_extensions(self, swift: str):
        """Methods that hand-written `public extension Class { func ... }` blocks add, and the
        initialisers of hand-written public classes (`URLSessionTransport(session:)`)."""
        s = code_only(swift)
        for c in re.finditer(r"^public (?:final )?class (\w+)\b[^{]*\{", s, re.M):
            body = s[c.end():matching(s, c.end() - 1)]
            init = re.search(r"\bpublic init\(", body)
            if init:
                self.structs[c.group(1)] = params(body[init.end():matching(body, init.end() - 1)])
        for e in re.finditer(r"public extension (\w+)\s*\{", s):
            if e.group(1) not in self.objects:
                continue
            body = s[e.end():matching(s, e.end() - 1)]
            for m in re.finditer(r"\bfunc (\w+)\(", body):
                close = matching(body, m.end() - 1)
                self.objects[e.group(1)][m.group(1)] = params(body[m.end():close])


def check_sources(api: Api, files: dict, token_storage: bool = True) -> list:
    """token_storage: also the demo's own rules (the token, the roles, the strings); the README's
    example is checked for its calls only."""
    errors = []
    demo_enums = {}
    for name, text in files.items():
        code = code_only(text)
        for m in re.finditer(r"\benum (\w+)\b[^{]*\{", code):
            body = code[m.end():matching(code, m.end() - 1)]
            # `case a, b, c` declares three cases.
            lists = re.findall(r"\bcase\s+(\w+(?:\s*,\s*\w+)*)", body)
            demo_enums[m.group(1)] = {n.strip() for names in lists for n in names.split(",")}
    known_cases = set().union(*api.enums.values(), *demo_enums.values(), PLATFORM_CASES, URL_ERROR_CODES)

    for name, text in files.items():
        code = code_only(text)

        def where(pos):
            return f"{name}:{code.count(chr(10), 0, pos) + 1}"

        if f"import {MODULE}" not in code and re.search(r"\bcore\.", code):
            errors.append(f"{name}: uses the core without `import {MODULE}`")
        for m in re.finditer(r"\bcore\.(\w+)\(", code):
            method = m.group(1)
            if method not in api.methods:
                errors.append(f"{where(m.start())}: Waystation has no method {method}")
                continue
            close = matching(code, m.end() - 1)
            got = call_labels(code[m.end():close])
            if got != api.methods[method]:
                errors.append(f"{where(m.start())}: core.{method} takes {api.methods[method]}, called with {got}")
            # A call on the returned handle: core.reports().submit(...).
            handle = api.returns.get(("Waystation", method))
            chained = re.match(r"\.(\w+)\(", code[close + 1:])
            if not chained or handle not in api.objects:
                continue
            call = chained.group(1)
            if call not in api.objects[handle]:
                errors.append(f"{where(m.start())}: {handle} (core.{method}()) has no method {call}")
                continue
            open_at = close + 1 + chained.end() - 1
            got = call_labels(code[open_at + 1:matching(code, open_at)])
            declared = api.objects[handle][call]
            labels = [l for l, _ in declared]
            it = iter(labels)
            in_order = all(any(g == l for l in it) for g in got)
            missing = [l for l, has_default in declared if not has_default and l not in got]
            if not in_order or missing:
                errors.append(f"{where(m.start())}: core.{method}().{call}({', '.join(labels)}) called with {got}")
        for m in re.finditer(r"(?<![\w.])(\w+)\(", code):
            callee = m.group(1)
            if callee in api.structs:
                declared = api.structs[callee]
            elif callee in api.functions:
                declared = api.functions[callee]
            elif callee == "Waystation":
                declared = api.constructor
            else:
                continue
            if re.search(r"\b(struct|enum|class|func)\s+$", code[max(0, m.start() - 12):m.start()]):
                continue
            got = call_labels(code[m.end():matching(code, m.end() - 1)])
            labels = [l for l, _ in declared]
            it = iter(labels)
            in_order = all(any(g == l for l in it) for g in got)
            missing = [l for l, has_default in declared if not has_default and l not in got]
            if not in_order or missing:
                errors.append(f"{where(m.start())}: {callee}({', '.join(labels)}) called with {got}")
        for m in re.finditer(r"\b([A-Z]\w*)\.(\w+)\b", code):
            enum, case = m.groups()
            if enum in api.enums and case not in api.enums[enum]:
                errors.append(f"{where(m.start())}: {enum} has no case {case}")
            elif ((enum, case) in api.case_labels and code[m.end():m.end() + 1] == "("
                  # Not a pattern (`case let E.x(a, b):`, `catch E.x(a)`) binding its values.
                  and not re.search(r"\b(case|catch)\b[^:]*$", code[code.rfind(chr(10), 0, m.start()) + 1:m.start()])):
                # A case built with its associated values: CaseEventKind.dispatch(gridId: ...).
                got = call_labels(code[m.end() + 1:matching(code, m.end())])
                if got != api.case_labels[(enum, case)]:
                    errors.append(f"{where(m.start())}: {enum}.{case} takes {api.case_labels[(enum, case)]}, built with {got}")
        for m in re.finditer(r"^\s*(?:(?:private|fileprivate|internal|public|final)\s+)*(struct|class|enum|protocol|typealias)\s+(\w+)", code, re.M):
            if m.group(2) in api.types:
                errors.append(f"{where(m.start())}: {m.group(1)} {m.group(2)} shadows the generated type {MODULE}.{m.group(2)}: rename it")
        for m in re.finditer(r"\bcase\b([^:\n]*):", code):
            for d in re.finditer(r"(?<![\w).])\.([A-Za-z_]\w*)", m.group(1)):
                if d.group(1) not in known_cases:
                    errors.append(f"{where(m.start())}: no enum has a case .{d.group(1)}")
    if token_storage:
        errors += check_token_storage(files) + check_roles(files) + check_strings(files) + check_demo_transport(files)
    return errors


def enclosing_blocks(code: str, pos: int):
    """The text before each `{` that encloses pos, innermost first (`if model.followUp != nil `)."""
    heads, depth = [], 0
    for i in range(pos - 1, -1, -1):
        c = code[i]
        if c == "}":
            depth += 1
        elif c == "{":
            if depth == 0:
                line_start = code.rfind("\n", 0, i) + 1
                heads.append(code[line_start:i])
            else:
                depth -= 1
    return heads


def check_roles(files: dict) -> list:
    """A rider never sees the follow-up screens: the case inbox is shown only inside an
    `if ... followUp ...` (the account the server gave the token, `sync().account()`), and every
    case event is written in the role of that account, never a role written in the code."""
    errors = []
    for name, text in files.items():
        code = code_only(text)
        for m in re.finditer(r"(?<![\w.])InboxView\(\)", code):
            if name == "InboxView.swift":
                continue
            if not any(re.search(r"\bif\b[^{}]*\bfollowUp\b", head) for head in enclosing_blocks(code, m.start())):
                errors.append(f"{name}:{code.count(chr(10), 0, m.start()) + 1}: InboxView shown outside an `if ...followUp...`: "
                              "a rider's phone must not see the case inbox")
        for m in re.finditer(r"\bcases\(\)\.record\(", code):
            args = split_top(code[m.end():matching(code, m.end() - 1)])
            role = next((a.split(":", 1)[1].strip() for a in args if re.match(r"\s*role\s*:", a)), "")
            if not role or re.fullmatch(r"(?:CaseRole)?\.\w+", role):
                errors.append(f"{name}:{code.count(chr(10), 0, m.start()) + 1}: cases().record(role: {role or '?'}): the role must be "
                              "the account's (sync().account()), not written in the code")
    if "WaystationDemoApp.swift" in files and not re.search(r"(?<![\w.])InboxView\(\)", code_only(files["WaystationDemoApp.swift"])):
        errors.append("WaystationDemoApp.swift: no tab opens InboxView (the follow-up accounts' inbox)")
    return errors


# Views whose first argument, a bare string literal, is shown as it is.
SHOWN = r"\b(?:Text|Button|Section|Label|Toggle|TextField|SecureField|NavigationLink|navigationTitle)\(\s*\""


def check_strings(files: dict) -> list:
    """Chinese first: every string a person reads is `L.t("中文", "English")`, both given and
    different, the Chinese one not plain ASCII; no bare English literal in a view (a URL
    placeholder aside)."""
    errors = []
    for name, text in files.items():
        code = code_only(text, keep_strings=True)

        def where(pos):
            return f"{name}:{code.count(chr(10), 0, pos) + 1}"

        for m in re.finditer(r"\bL\.t\(", code):
            args = [a.strip() for a in split_top(code[m.end():matching(code, m.end() - 1)])]
            if len(args) != 2 or not all(a.startswith('"') for a in args):
                errors.append(f"{where(m.start())}: L.t takes the Chinese and the English string, got {len(args)} argument(s)")
                continue
            zh, en = args
            if zh == en or not re.search(r"[^\x00-\x7f]", zh) or not en.strip('" '):
                errors.append(f"{where(m.start())}: L.t({zh[:30]}, {en[:30]}): untranslated")
        for m in re.finditer(SHOWN, code):
            literal = code[m.end():code.find('"', m.end())]
            if re.search(r"[A-Za-z]{2,}", literal) and "://" not in literal:
                errors.append(f"{where(m.start())}: \"{literal[:40]}\" is shown untranslated: use L.t(\"中文\", \"English\")")
    return errors


def check_token_storage(files: dict) -> list:
    """The sync token is kept only in the Keychain, with the one accessibility class that lets
    the background task read it after the first unlock and keeps it on this phone; never in
    UserDefaults (`.set(...)` or `@AppStorage`)."""
    errors = []
    for name, text in files.items():
        code = code_only(text)
        for m in re.finditer(r"\bUserDefaults\b[^\n]*?\.set\(", code):
            if re.search(r"\btoken\b", code[m.end():matching(code, m.end() - 1)], re.I):
                errors.append(f"{name}:{code.count(chr(10), 0, m.start()) + 1}: the sync token goes to UserDefaults, not the Keychain")
        for m in re.finditer(r"@AppStorage\([^)]*\)[^\n]*?\bvar\s+(\w+)", code):
            if "token" in m.group(1).lower():
                errors.append(f"{name}:{code.count(chr(10), 0, m.start()) + 1}: @AppStorage var {m.group(1)} keeps the token in UserDefaults")
    sync = code_only(files.get("Sync.swift", ""))
    accessible = set(re.findall(r"\bkSecAttrAccessible\w+", sync))
    if "SecItemAdd(" not in sync or accessible != {"kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly"}:
        errors.append("Sync.swift: the token's Keychain item must be added with kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly "
                      f"and nothing else (found {sorted(accessible)}): background sync reads it with the screen locked, "
                      "and it must not leave the phone")
    return errors


def check_package(generated: dict) -> list:
    """generated: {file name: text} of the generated Swift files."""
    errors = []
    package = code_only(PACKAGE.read_text(), keep_strings=True)
    script = XCFRAMEWORK_SCRIPT.read_text()
    binary = re.search(r'\.binaryTarget\(\s*name:\s*"(\w+)"\s*,\s*path:\s*"([^"]+)"', package)
    if not binary:
        return ["Package.swift: no binaryTarget with a path"]
    name, path = binary.groups()
    built = re.search(r'-output "\$out/([^"]+)"', script)
    out_dir = re.search(r'out="\$repo_root/([^"]+)"', script)
    if not built or not out_dir or f"{out_dir.group(1)}/{built.group(1)}" != f"bindings/swift/{path}":
        errors.append(f"Package.swift: binaryTarget path {path} is not what scripts/build-xcframework.sh writes")
    if path.split("/")[-1] != f"{name}.xcframework":
        errors.append(f"Package.swift: binary target {name} is not built as {name}.xcframework")
    # Each generated file imports its C module; the XCFramework's one module.modulemap (in a
    # folder named after the binary target) declares all of them.
    headers = re.search(r'mkdir -p "\$headers/(\w+)"', script)
    if not headers or headers.group(1) != name:
        errors.append(f"build-xcframework.sh: headers are not in a folder named {name}")
    modules_in_script = re.search(r"for m in ([\w ]+); do", script)
    modules_in_script = set(modules_in_script.group(1).split()) if modules_in_script else set()
    for fname, text in generated.items():
        imported = re.search(r"^#if canImport\((\w+)\)\s*\nimport \1\b", text, re.M)
        if not imported:
            errors.append(f"generated {fname} imports no C module")
            continue
        module = imported.group(1)
        modulemap = GENERATED_DIR / f"{module}.modulemap"
        if not modulemap.is_file() or not re.search(rf"^module {module} \{{", modulemap.read_text(), re.M):
            errors.append(f"generated {fname} imports {module}, but {modulemap.relative_to(ROOT)} does not declare it")
        if module not in modules_in_script:
            errors.append(f"build-xcframework.sh: the module map lacks {module} (imported by {fname})")
    if name not in modules_in_script:
        errors.append(f"Package.swift: binary target {name} is not a C module of the XCFramework")
    target = re.search(r'\.target\(\s*name:\s*"(\w+)"(.*?)\n        \)', package, re.S)
    if not target:
        return errors + ["Package.swift: no Swift target"]
    tname, body = target.groups()
    if tname != MODULE:
        errors.append(f"Package.swift: the Swift target is {tname}, not {MODULE}")
    tpath = re.search(r'path:\s*"([^"]+)"', body).group(1)
    base = PACKAGE.parent / tpath
    sources = re.search(r"sources:\s*\[([^\]]*)\]", body)
    listed = re.findall(r'"([^"]+)"', sources.group(1)) if sources else []
    for f in listed:
        if not (base / f).exists():
            errors.append(f"Package.swift: {tpath}/{f} does not exist (run scripts/gen-bindings.sh swift)")
    for fname in generated:
        if not any((base / f).resolve() == (GENERATED_DIR / fname).resolve() for f in listed):
            errors.append(f"Package.swift: target {tname} does not compile generated/{fname}")
    if f'"{name}"' not in body:
        errors.append(f"Package.swift: target {tname} does not depend on {name}")
    product = re.search(r'\.library\(\s*name:\s*"(\w+)"\s*,\s*targets:\s*\["(\w+)"\]', package)
    if not product or product.group(2) != tname:
        errors.append("Package.swift: the library product does not ship the Swift target")
    else:
        project = (DEMO / "project.yml").read_text()
        if f"product: {product.group(1)}" not in project:
            errors.append(f"project.yml: the app does not use the product {product.group(1)}")
    for f in SOURCES.glob("*.swift"):
        m = re.search(r"^import (waystation\w*|Waystation\w+)\b", f.read_text(), re.M)
        if m:
            errors.append(f"{f.name} imports {m.group(1)}, but the package's module is {tname}")
    return errors


def check_readme(api: Api) -> list:
    blocks = re.findall(r"^```swift\n(.*?)^```$", SWIFT_README.read_text(), re.M | re.S)
    if not blocks:
        return [f"{SWIFT_README.relative_to(ROOT)}: no Swift example"]
    files = {f"README.md block {i + 1}": re.sub(r"\bws\.", "core.", b) for i, b in enumerate(blocks)}
    return check_sources(api, files, token_storage=False)


def check_project() -> list:
    errors = []
    project = (DEMO / "project.yml").read_text()
    for p in re.findall(r"^\s*-?\s*path:\s*(\S+)", project, re.M):
        if p.startswith("Generated/"):
            continue  # written by xcodegen
        if not (DEMO / p).exists():
            errors.append(f"project.yml: {p} does not exist")
    pkg = re.search(r"Waystation:\s*\n\s*path:\s*(\S+)", project)
    if not pkg or not (DEMO / pkg.group(1) / "Package.swift").is_file():
        errors.append("project.yml: the Waystation package path has no Package.swift")
    ids = re.search(r"BGTaskSchedulerPermittedIdentifiers:\s*\[([^\]]*)\]", project)
    code = (SOURCES / "Sync.swift").read_text()
    task = re.search(r'taskIdentifier = "([^"]+)"', code)
    if not ids or not task or task.group(1) not in [i.strip() for i in ids.group(1).split(",")]:
        errors.append("project.yml: BGTaskSchedulerPermittedIdentifiers lacks the task Sync.swift registers")
    for key in ("NSLocationWhenInUseUsageDescription", "NSCameraUsageDescription"):
        if key not in project:
            errors.append(f"project.yml: Info.plist lacks {key}")
    return errors


def self_test(api: Api, files: dict) -> list:
    """Each mutation must produce an error; the untouched sources must produce none."""
    failures = []
    if check_sources(api, files):
        failures.append("the untouched sources do not pass")
    mutations = [
        ("StationsView.swift", "core.stations().nearest(query: query)", "core.stations().nearest(q: query)"),
        ("StationsView.swift", "core.stations().nearest(query: query)", "core.stations().nearestStations(query: query)"),
        ("StationsView.swift", "core.stations().nearest(query: query)", "core.station().nearest(query: query)"),
        ("StationsView.swift", "StationFilter(services: Array(selected), openOnly: openOnly)",
         "StationFilter(openOnly: openOnly, services: Array(selected))"),
        ("StationsView.swift", "NearestQuery(\n            position: position,", "NearestQuery(\n"),
        ("StationsView.swift", "Datum.wgs84", "Datum.wgs"),
        ("OutboxView.swift", "case (.draft, _)", "case (.drafted, _)"),
        ("AppModel.swift", "Waystation(dataDir: dir.path,", "Waystation(path: dir.path,"),
        ("ReportView.swift", "DuplicateRules()", "DuplicateRules(radius: 5)"),
        ("ReportView.swift", "core.reports().attachPhoto(id: id, photo: jpeg, rules: rules)",
         "core.reports().attachPhoto(photo: jpeg, id: id, rules: rules)"),
        ("ReportView.swift", "core.reports().submit(author: author, id: id, rules: rules)",
         "core.reports().submit(id: id, rules: rules)"),
        ("AppModel.swift", "core.packs().importStationsFile(path: url.path)", "core.stations().importStationsFile(path: url.path)"),
        ("Sync.swift", "core.sync().run(options: options)", "core.sync().runNow(options: options)"),
        ("TrainingView.swift", "core.training().imagePath(sha256: image.sha256)", "core.training().imagePath(image.sha256)"),
        ("Sync.swift", "kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly", "kSecAttrAccessibleWhenUnlocked"),
        ("Sync.swift", 'UserDefaults.standard.set(account?.server, forKey: "sync_server")',
         'UserDefaults.standard.set(account?.token, forKey: "sync_token")'),
        ("SyncView.swift", "@State private var token =", '@AppStorage("sync_token") private var token ='),
        # The follow-up screens (issue 13).
        ("InboxView.swift", "core.cases().list(query: CaseQuery(districts: followUp.areas))",
         "core.cases().list(CaseQuery(districts: followUp.areas))"),
        ("InboxView.swift", "CaseQuery(districts: followUp.areas)", "CaseQuery(district: followUp.areas)"),
        ("InboxView.swift", "core.sync().statusStream()", "core.sync().statusFlow()"),
        ("AppModel.swift", "core.sync().account()", "core.account()"),
        ("CaseDetailView.swift", "actor: account.user, role: account.role,", "role: account.role, actor: account.user,"),
        ("CaseDetailView.swift", "actor: account.user, role: account.role,", "actor: account.user, role: CaseRole.supervisor,"),
        ("CaseDetailView.swift", "core.reports().fetchPhoto(options: account.options, sha256: photo.sha256)",
         "core.reports().fetchPhoto(sha256: photo.sha256)"),
        ("CaseDetailView.swift", "core.cases().get(reportId: reportId)", "core.cases().get(id: reportId)"),
        # Case photos: stored through the Cases handle, then named in the event.
        ("CaseDetailView.swift", "core.cases().storePhoto(photo: jpeg)", "core.cases().storePhoto(jpeg)"),
        ("CaseDetailView.swift", "core.cases().storePhoto(photo: jpeg)", "core.reports().storePhoto(photo: jpeg)"),
        ("CaseDetailView.swift", "note: action.note(text), photos: photos)", "photos: photos, note: action.note(text))"),
        ("CaseDetailView.swift", "note: action.note(text), photos: photos)", "note: action.note(text), photo: photos)"),
        ("CaseDetailView.swift", "core.reports().photoPath(sha256: sha256)", "core.cases().photoPath(sha256: sha256)"),
        ("CaseDetailView.swift", "struct CaseDetailView: View", "struct CaseView: View"),
        ("FollowUp.swift", "CaseEventKind.dispatch(gridId: trimmed)", "CaseEventKind.dispatch(grid: trimmed)"),
        ("FollowUp.swift", "CaseEventKind.reject(reason: trimmed)", "CaseEventKind.reject(trimmed)"),
        ("FollowUp.swift", "case .station: return CaseRole.stationStaff", "case .station: return CaseRole.station"),
        ("FollowUp.swift", "group == CategoryGroup.station", "group == CategoryGroup.stations"),
        ("WaystationDemoApp.swift", "if model.followUp != nil {", "if model.packsReady {"),
        ("InboxView.swift", '.navigationTitle(L.t("案件待办", "Case inbox"))', '.navigationTitle("Case inbox")'),
        ("InboxView.swift", 'L.t("案件待办", "Case inbox")', 'L.t("Case inbox", "Case inbox")'),
        ("CaseDetailView.swift", 'L.t("没有照片", "No photos")', 'L.t("没有照片")'),
        # The platform transport (issue 15): passed at open, built with its own labels.
        ("AppModel.swift", ",\n                                        transport: URLSessionTransport())", ")"),
        ("AppModel.swift", "transport: URLSessionTransport())", "transport: URLSessionTransport(urlSession: .shared))"),
        ("AppModel.swift", "transport: URLSessionTransport())", "http: URLSessionTransport())"),
    ]
    for name, old, new in mutations:
        if old not in files[name]:
            failures.append(f"self-test: {name} no longer contains {old!r}")
            continue
        broken = dict(files)
        broken[name] = files[name].replace(old, new, 1)
        if not check_sources(api, broken):
            failures.append(f"self-test: {name}: {old!r} -> {new!r} was not caught")
    hand_written = {f.name: f.read_text() for f in sorted(HAND_WRITTEN.glob("*.swift"))}
    if check_package_sources(api, hand_written):
        failures.append("the untouched hand-written sources do not pass")
    for name, old, new in HAND_WRITTEN_MUTATIONS:
        if old not in hand_written.get(name, ""):
            failures.append(f"self-test: {name} no longer contains {old!r}")
            continue
        broken = dict(hand_written)
        broken[name] = hand_written[name].replace(old, new, 1)
        if not check_package_sources(api, broken):
            failures.append(f"self-test: {name}: {old!r} -> {new!r} was not caught")
    return failures


def check_package_sources(api: Api, files: dict) -> list:
    """The package's hand-written Swift: its calls and records like the demo's (without the
    demo's own rules), and what swift_hand_written checks (protocol conformance, record
    fields, the URLError mapping)."""
    return check_sources(api, files, token_storage=False) + check_hand_written(api.protocols, api.fields, files)


def main() -> int:
    for f in GENERATED:
        if not f.is_file():
            print(f"check_swift: {f.relative_to(ROOT)} is missing: run scripts/gen-bindings.sh swift", file=sys.stderr)
            return 1
    generated = {f.name: f.read_text() for f in GENERATED}
    api = Api("\n".join(generated.values()))
    for f in sorted(HAND_WRITTEN.glob("*.swift")):
        api.add_extensions(f.read_text())
    files = {f.name: f.read_text() for f in sorted(SOURCES.glob("*.swift"))}
    hand_written = {f.name: f.read_text() for f in sorted(HAND_WRITTEN.glob("*.swift"))}
    if "--self-test" in sys.argv:
        errors = self_test(api, files)
    else:
        errors = (check_sources(api, files) + check_package(generated) + check_project() + check_readme(api)
                  + check_package_sources(api, hand_written))
    for e in errors:
        print(f"check_swift: {e}", file=sys.stderr)
    if errors:
        return 1
    calls = sum(len(re.findall(r"\bcore\.\w+\(", code_only(t))) for t in files.values())
    what = "self-test: every mutation caught" if "--self-test" in sys.argv else (
        f"{len(files)} Swift files, {calls} core calls checked against Waystation's {len(api.methods)} handles "
        f"and their {sum(len(api.objects.get(api.returns.get(('Waystation', m)), {})) for m in api.methods)} methods; "
        f"{len(hand_written)} hand-written package files ({', '.join(hand_written)}) against the generated "
        f"protocols and records; Package.swift and project.yml consistent")
    print(f"check_swift: {what}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
