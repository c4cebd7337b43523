//! The core's layering, enforced: a reference from one layer to a higher one fails this test.
//!
//! Layers, bottom to top (decision 0010):
//!
//! 0. **utilities**: `error`, `clock` (time), `cancel`, `util` (hashing, image signatures),
//!    `uniffi_support`;
//! 1. **store**: `store/**` (connection, migrations, documents, blobs);
//! 2. **domain**: `geo`, `packs`, `stations`, `reports`, `training`, each owning its tables;
//! 3. **sync**: `sync/**`;
//! 4. **facade**: `lib.rs` (`Waystation`) and the per-area handles, `<area>/handle.rs` and
//!    `<area>/handle/**`, which borrow `&Waystation` and call their area's functions. A handle
//!    lives beside its area for reading, but belongs to the facade: nothing below may name it.
//!
//! A file may refer to its own layer and the layers below it. Two modules of the same layer may
//! refer to each other only along [`SAME_LAYER`], a list kept acyclic (checked here too), so the
//! layers themselves have no cycles either.
//!
//! What counts as a reference: every `crate::…`, `super::…` and `self::…` path in code, `use`
//! trees included (`use crate::{a::b, c}`), resolved through the `use` re-exports of the modules
//! it passes (so `crate::Waystation` is the facade and `crate::Error` is `error`). Comments,
//! doc comments, string literals, `#[cfg(test)]` items and test-only module files (`tests.rs`,
//! `tests/…`, any file declared under `#[cfg(test)]`) are not read: tests may build a whole
//! `Waystation` to exercise a domain function.
//!
//! Not counted, on purpose: a module root declaring and re-exporting its own children
//! (`mod handle; pub use handle::Reports;` in `reports/mod.rs`) is the module tree, not a
//! dependency, so relative paths are read only as `use` bindings that `crate::`/`super::` paths
//! resolve through. A glob (`use super::*`) counts as a reference to the module it names.
//!
//! Std only: the check reads the source files, so it also holds for code that does not compile
//! under the features this test was built with.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Same-layer references between different top-level modules that are allowed (from, to).
const SAME_LAYER: &[(&str, &str)] = &[
    // Utilities: cancellation returns the crate's error.
    ("cancel", "error"),
    ("util", "error"),
    ("clock", "error"),
    ("uniffi_support", "error"),
    // Domain: packs is the signed-file format; geo the coordinates.
    ("packs", "geo"),
    ("stations", "geo"),
    ("stations", "packs"),
    ("training", "packs"),
    ("training", "geo"),
    ("reports", "geo"),
    ("reports", "packs"),
    ("reports", "stations"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Utilities = 0,
    Store = 1,
    Domain = 2,
    Sync = 3,
    Facade = 4,
}

/// The layer of a source file, by its path under `src/` (`/`-separated). `None` for a file
/// outside the map, which the test refuses: a new top-level module must be placed in a layer.
fn layer_of(rel: &str) -> Option<Layer> {
    let parts: Vec<&str> = rel.split('/').collect();
    if rel == "lib.rs" {
        return Some(Layer::Facade);
    }
    if parts.len() > 1
        && (parts.contains(&"handle.rs") || parts[1..parts.len() - 1].contains(&"handle"))
    {
        return Some(Layer::Facade);
    }
    Some(match top_module(rel).as_str() {
        "error" | "clock" | "cancel" | "util" | "uniffi_support" => Layer::Utilities,
        "store" => Layer::Store,
        "geo" | "packs" | "stations" | "reports" | "training" => Layer::Domain,
        "sync" => Layer::Sync,
        _ => return None,
    })
}

/// `reports/photo/mod.rs` → `reports`; `clock.rs` → `clock`; `lib.rs` → `` (the root).
fn top_module(rel: &str) -> String {
    let first = rel.split('/').next().unwrap_or("");
    if rel == "lib.rs" {
        String::new()
    } else {
        first.trim_end_matches(".rs").to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the source: comments, strings and test-only items blanked (newlines kept, so line
// numbers stay right).

/// `src` with comments, string and char literals replaced by spaces.
fn blank_comments_and_strings(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            // Block comments nest in Rust.
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (c == b'r' || (c == b'b' && b.get(i + 1) == Some(&b'r')))
            && !prev_is_ident(b, i)
            && raw_string_start(b, i).is_some()
        {
            let (hashes, body) = raw_string_start(b, i).unwrap_or((0, i));
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let end = find_bytes(b, body, &close).map_or(b.len(), |n| n + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\u{1F600}', '"') or a lifetime ('a, 'static).
            if let Some(len) = char_literal_len(&src[i..]) {
                blank(&mut out, i, i + len);
                i += len;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

fn prev_is_ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// At `r"`, `r#"`, `br"`…: the number of `#` and where the body starts.
fn raw_string_start(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let mut j = if b[i] == b'b' { i + 2 } else { i + 1 };
    let mut hashes = 0;
    while b.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then_some((hashes, j + 1))
}

fn find_bytes(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Length of the char literal at the start of `s` (which starts with `'`), or `None` for a
/// lifetime.
fn char_literal_len(s: &str) -> Option<usize> {
    let mut chars = s.char_indices().skip(1);
    let (_, first) = chars.next()?;
    if first == '\\' {
        // An escape: up to the closing quote.
        let close = s.get(3..)?.find('\'')?;
        return Some(close + 4);
    }
    let (at, next) = chars.next()?;
    (next == '\'').then_some(at + 1)
}

/// Blanks every item under a bare `#[cfg(test)]` (a `mod tests { … }`, a test helper `fn`, a
/// `use`), and returns the names of the module files declared under it (`mod tests;`).
fn blank_test_items(code: &str) -> (String, Vec<String>) {
    let b = code.as_bytes();
    let mut out = b.to_vec();
    let mut test_mods = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("#[cfg(test)]").map(|n| from + n) {
        // The item runs to its first `;` if that comes before any `{`, else to the `}`
        // matching its first `{`.
        let rest = &code[at..];
        let semi = rest.find(';');
        let brace = rest.find('{');
        let end = match (semi, brace) {
            (Some(s), Some(br)) if s < br => at + s + 1,
            (Some(s), None) => at + s + 1,
            (_, Some(br)) => {
                let mut depth = 0;
                let mut j = at + br;
                loop {
                    match b.get(j) {
                        Some(b'{') => depth += 1,
                        Some(b'}') => {
                            depth -= 1;
                            if depth == 0 {
                                break j + 1;
                            }
                        }
                        None => break b.len(),
                        _ => {}
                    }
                    j += 1;
                }
            }
            (None, None) => b.len(),
        };
        let item = &code[at + "#[cfg(test)]".len()..end];
        let words: Vec<&str> = item
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ';'))
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(p) = words.iter().position(|w| *w == "mod")
            && let Some(name) = words.get(p + 1)
            && (name.ends_with(';') || item.trim_end().ends_with(';'))
        {
            test_mods.push(name.trim_end_matches(';').to_string());
        }
        for c in &mut out[at..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
    (String::from_utf8(out).unwrap_or_default(), test_mods)
}

// ---------------------------------------------------------------------------------------------
// Paths.

/// A path found in code: where, and its segments from `crate`, `super` or `self`.
#[derive(Debug, Clone)]
struct Reference {
    line: usize,
    segments: Vec<String>,
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Every path starting with `crate`, `super` or `self` (as a whole word followed by `::`),
/// with `use` trees expanded into one path per leaf.
fn references(code: &str) -> Vec<Reference> {
    let b = code.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !is_ident_byte(b[i]) || (i > 0 && (is_ident_byte(b[i - 1]) || b[i - 1] == b':')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_ident_byte(b[i]) {
            i += 1;
        }
        let word = &code[start..i];
        if !matches!(word, "crate" | "super" | "self") || !code[i..].starts_with("::") {
            continue;
        }
        let line = code[..start].matches('\n').count() + 1;
        let (paths, end) = parse_tree(code, start);
        for segments in paths {
            found.push(Reference { line, segments });
        }
        i = end.max(i);
    }
    found
}

/// Parses a path or use tree at `at`: `a::b::{c, d::{e, f}}`. Returns the leaf paths and where
/// parsing stopped.
fn parse_tree(code: &str, at: usize) -> (Vec<Vec<String>>, usize) {
    let b = code.as_bytes();
    let skip_ws = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    let mut prefix = Vec::new();
    let mut j = skip_ws(at);
    loop {
        if b.get(j) == Some(&b'{') {
            // A group: parse each member against the prefix.
            let mut leaves = Vec::new();
            j += 1;
            loop {
                j = skip_ws(j);
                match b.get(j) {
                    Some(b'}') => {
                        j += 1;
                        break;
                    }
                    Some(b',') => j += 1,
                    None => break,
                    _ => {
                        let (sub, end) = parse_tree(code, j);
                        for s in sub {
                            let mut p = prefix.clone();
                            p.extend(s);
                            leaves.push(p);
                        }
                        if end == j {
                            j += 1;
                        } else {
                            j = end;
                        }
                    }
                }
            }
            return (leaves, j);
        }
        let start = j;
        while j < b.len() && is_ident_byte(b[j]) {
            j += 1;
        }
        if start == j {
            // `*` or something else: the prefix itself is the reference.
            if b.get(j) == Some(&b'*') {
                j += 1;
            }
            return (vec![prefix], j);
        }
        prefix.push(code[start..j].to_string());
        let k = skip_ws(j);
        if code[k..].starts_with("::") {
            j = skip_ws(k + 2);
        } else {
            return (vec![prefix], j);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The crate's files and how paths resolve to them.

struct SourceFile {
    rel: String,
    /// The module path of this file (`reports::photo` for `reports/photo/mod.rs`).
    module: Vec<String>,
    /// Code with comments, strings and test items blanked.
    code: String,
    /// `use` bindings of this module: a name to the path it stands for (from this module).
    uses: HashMap<String, Vec<String>>,
}

fn module_path(rel: &str) -> Vec<String> {
    let no_ext = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = no_ext.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// `use` statements: the name each leaf binds (its last segment, or its `as` alias).
fn use_bindings(code: &str) -> HashMap<String, Vec<String>> {
    let mut map = HashMap::new();
    let mut from = 0;
    while let Some(at) = find_word(code, from, "use") {
        let end = code[at..].find(';').map_or(code.len(), |n| at + n);
        let stmt = &code[at + 3..end];
        from = end;
        for (path, alias) in use_leaves(stmt) {
            if let Some(name) = alias.or_else(|| path.last().cloned())
                && name != "self"
                && name != "*"
            {
                map.insert(name, path);
            }
        }
    }
    map
}

/// Leaves of a use tree, each with its `as` alias.
fn use_leaves(tree: &str) -> Vec<(Vec<String>, Option<String>)> {
    fn walk(s: &str, prefix: &[String], out: &mut Vec<(Vec<String>, Option<String>)>) {
        let s = s.trim().trim_start_matches("::");
        if let Some(open) = s.find('{') {
            let mut p = prefix.to_vec();
            p.extend(
                s[..open]
                    .split("::")
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string),
            );
            let inner = &s[open + 1..s.rfind('}').unwrap_or(s.len())];
            // Split on top-level commas.
            let (mut depth, mut last) = (0, 0);
            for (k, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        walk(&inner[last..k], &p, out);
                        last = k + 1;
                    }
                    _ => {}
                }
            }
            walk(&inner[last..], &p, out);
        } else if !s.is_empty() {
            let (path, alias) = match s.split_once(" as ") {
                Some((p, a)) => (p, Some(a.trim().to_string())),
                None => (s, None),
            };
            let mut p = prefix.to_vec();
            p.extend(
                path.split("::")
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string),
            );
            if p.last().map(String::as_str) == Some("self") {
                p.pop();
                let alias = alias.or_else(|| p.last().cloned());
                out.push((p, alias));
            } else {
                out.push((p, alias));
            }
        }
    }
    let mut out = Vec::new();
    let tree = tree.trim();
    walk(tree, &[], &mut out);
    out
}

fn find_word(code: &str, from: usize, word: &str) -> Option<usize> {
    let b = code.as_bytes();
    let mut k = from;
    while let Some(n) = code.get(k..)?.find(word) {
        let at = k + n;
        let before_ok = at == 0 || !is_ident_byte(b[at - 1]);
        let after_ok = b.get(at + word.len()).is_none_or(|c| !is_ident_byte(*c));
        if before_ok && after_ok {
            return Some(at);
        }
        k = at + word.len();
    }
    None
}

struct Crate {
    files: Vec<SourceFile>,
    by_module: HashMap<Vec<String>, usize>,
}

impl Crate {
    /// Reads `src/`, leaving out test-only module files.
    fn read(src: &Path) -> Crate {
        let mut all = Vec::new();
        collect(src, src, &mut all);
        all.sort();
        let mut files: Vec<SourceFile> = Vec::new();
        let mut test_only: BTreeSet<Vec<String>> = BTreeSet::new();
        for rel in &all {
            let raw = std::fs::read_to_string(src.join(rel)).expect("read a source file");
            let (code, test_mods) = blank_test_items(&blank_comments_and_strings(&raw));
            let module = module_path(rel);
            for m in test_mods {
                let mut p = module.clone();
                p.push(m);
                test_only.insert(p);
            }
            files.push(SourceFile {
                rel: rel.clone(),
                module,
                uses: use_bindings(&code),
                code,
            });
        }
        files.retain(|f| {
            let name = f.rel.rsplit('/').next().unwrap_or("");
            !f.rel.split('/').any(|p| p == "tests" || p == "tests.rs")
                && name != "tests.rs"
                && !test_only.iter().any(|t| f.module.starts_with(t))
        });
        let by_module = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.module.clone(), i))
            .collect();
        Crate { files, by_module }
    }

    /// The file a path from `from` (a module path) lands in, following `use` re-exports.
    fn resolve(&self, from: &[String], path: &[String], depth: usize) -> Option<usize> {
        if depth > 16 || path.is_empty() {
            return None;
        }
        // Make it absolute.
        let mut abs: Vec<String> = Vec::new();
        let mut rest = path;
        match path[0].as_str() {
            "crate" => rest = &path[1..],
            "self" => {
                abs = from.to_vec();
                rest = &path[1..];
            }
            "super" => {
                abs = from.to_vec();
                while rest.first().map(String::as_str) == Some("super") {
                    abs.pop();
                    rest = &rest[1..];
                }
            }
            _ => {
                // A path relative to `from`: a `use` binding there, or a child module.
                let mut child = from.to_vec();
                child.push(path[0].clone());
                if self.by_module.contains_key(&child) {
                    abs = child;
                    rest = &path[1..];
                } else if let Some(target) = self.files_uses(from).and_then(|u| u.get(&path[0])) {
                    let mut p = target.clone();
                    p.extend_from_slice(&path[1..]);
                    return self.resolve(from, &p, depth + 1);
                } else {
                    return self.by_module.get(from).copied();
                }
            }
        }
        // Walk down through module files as far as they go.
        for (k, seg) in rest.iter().enumerate() {
            let mut next = abs.clone();
            next.push(seg.clone());
            if self.by_module.contains_key(&next) {
                abs = next;
                continue;
            }
            // Not a module: an item of `abs`, or a name `abs` re-exports.
            if let Some(target) = self.files_uses(&abs).and_then(|u| u.get(seg)) {
                let mut p = target.clone();
                p.extend_from_slice(&rest[k + 1..]);
                return self.resolve(&abs, &p, depth + 1);
            }
            break;
        }
        self.by_module.get(&abs).copied()
    }

    fn files_uses(&self, module: &[String]) -> Option<&HashMap<String, Vec<String>>> {
        self.by_module.get(module).map(|&i| &self.files[i].uses)
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read a source folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(root, &p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(root).unwrap_or(&p);
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The check.

/// Every reference that breaks the layering, as `file:line: message`, and the files no layer
/// holds.
fn violations(krate: &Crate) -> Vec<String> {
    findings(krate).into_values().collect()
}

/// Every break of the layering, once per file and path (keyed `src/<file>: <path>`), with
/// its message naming the first line it is on.
fn findings(krate: &Crate) -> BTreeMap<String, String> {
    let allowed: BTreeSet<(&str, &str)> = SAME_LAYER.iter().copied().collect();
    let mut out = BTreeMap::new();
    for f in &krate.files {
        let Some(from_layer) = layer_of(&f.rel) else {
            out.insert(
                format!("src/{}", f.rel),
                format!(
                    "{}: not in any layer; add its top-level module to layer_of",
                    f.rel
                ),
            );
            continue;
        };
        let from_top = top_module(&f.rel);
        for r in references(&f.code) {
            let Some(target) = krate.resolve(&f.module, &r.segments, 0) else {
                continue;
            };
            let t = &krate.files[target];
            let Some(to_layer) = layer_of(&t.rel) else {
                continue;
            };
            let to_top = top_module(&t.rel);
            let shown = r.segments.join("::");
            let key = format!("src/{}: {shown}", f.rel);
            if to_layer > from_layer {
                out.insert(
                    key,
                    format!(
                        "src/{}:{}: `{shown}` reaches up from {from_layer:?} to {to_layer:?} ({})",
                        f.rel, r.line, t.rel
                    ),
                );
            } else if to_layer == from_layer
                && from_layer != Layer::Facade
                && from_top != to_top
                && !allowed.contains(&(from_top.as_str(), to_top.as_str()))
            {
                out.insert(
                    key,
                    format!(
                        "src/{}:{}: `{shown}`: {from_top} -> {to_top} within {from_layer:?} is not \
                     in SAME_LAYER ({})",
                        f.rel, r.line, t.rel
                    ),
                );
            }
        }
    }
    out
}

fn core_src() -> PathBuf {
    Path::new(option_env!("CARGO_MANIFEST_DIR").unwrap_or(".")).join("src")
}

#[test]
fn no_module_of_the_core_reaches_up_a_layer() {
    let krate = Crate::read(&core_src());
    assert!(
        krate.files.len() > 20,
        "read only {} files from {}",
        krate.files.len(),
        core_src().display()
    );
    let found = violations(&krate);
    assert!(
        found.is_empty(),
        "{} references break the core's layering (core/tests/layering.rs):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn same_layer_allowances_have_no_cycle() {
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in SAME_LAYER {
        graph.entry(a).or_default().push(b);
    }
    // Depth-first search with colours.
    fn visit<'a>(
        n: &'a str,
        g: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut HashMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match state.get(n) {
            Some(1) => {
                let mut cycle = stack.clone();
                cycle.push(n);
                return Some(cycle);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(n, 1);
        stack.push(n);
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(n, 2);
        None
    }
    let mut state = HashMap::new();
    for n in graph.keys() {
        let cycle = visit(n, &graph, &mut state, &mut Vec::new());
        assert!(cycle.is_none(), "SAME_LAYER has a cycle: {cycle:?}");
    }
    for (a, b) in SAME_LAYER {
        assert_eq!(
            layer_of(&format!("{a}.rs")),
            layer_of(&format!("{b}.rs")),
            "SAME_LAYER lists {a} -> {b}, which are in different layers"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The checker checked, on small crates written to a temporary folder: each case must be found
// (or not) for the reason it is written for.

fn write_crate(files: &[(&str, &str)]) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "waystation-layering-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(&dir)).expect("create a folder");
        std::fs::write(&p, text).expect("write a file");
    }
    dir
}

fn check(files: &[(&str, &str)]) -> Vec<String> {
    let dir = write_crate(files);
    let found = violations(&Crate::read(&dir));
    let _ = std::fs::remove_dir_all(&dir);
    found
}

const LIB: &str = "pub mod error;\npub mod store;\npub mod reports;\npub mod training;\n\
                   pub mod sync;\npub use error::Error;\npub struct Waystation;\n";

#[test]
fn an_upward_use_is_found_with_its_file_and_line() {
    let found = check(&[
        ("lib.rs", LIB),
        ("error.rs", "pub struct Error;\n"),
        ("sync/mod.rs", "pub mod policy;\n"),
        ("sync/policy.rs", "pub const MAX: usize = 1;\n"),
        (
            "store/mod.rs",
            "use crate::Error;\n\nuse crate::sync::policy::MAX;\n",
        ),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("src/store/mod.rs:3:"), "{found:?}");
    assert!(found[0].contains("Store to Sync"), "{found:?}");
}

#[test]
fn use_trees_re_exports_and_super_paths_are_followed() {
    let found = check(&[
        ("lib.rs", LIB),
        ("error.rs", "pub struct Error;\n"),
        ("reports/mod.rs", "mod handle;\npub use handle::Reports;\n"),
        (
            "reports/handle.rs",
            "pub struct Reports<'a>(&'a crate::Waystation);\n",
        ),
        // A domain file naming the handle through its re-export, in a use group.
        (
            "reports/draft.rs",
            "use crate::{error::Error, reports::{Reports}};\n",
        ),
        // A domain file reaching the root through super.
        ("training/mod.rs", "fn f(_: &super::Waystation) {}\n"),
    ]);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("src/reports/draft.rs:1: `crate::reports::Reports`"));
    assert!(found[0].contains("Domain to Facade (reports/handle.rs)"));
    assert!(found[1].contains("src/training/mod.rs:1: `super::Waystation`"));
}

#[test]
fn comments_strings_and_test_items_are_not_references() {
    let found = check(&[
        ("lib.rs", LIB),
        ("error.rs", "pub struct Error;\n"),
        ("sync/mod.rs", "pub fn f() {}\n"),
        (
            "store/mod.rs",
            "//! See [`crate::sync::f`].\n\
             /* crate::sync::f() /* nested crate::sync */ */\n\
             const S: &str = \"crate::sync::f\";\n\
             const R: &str = r#\"crate::sync::f \"quoted\"\"#;\n\
             const C: char = '\"'; fn g<'a>(x: &'a str) -> &'a str { x }\n\
             #[cfg(test)]\nfn helper() { crate::sync::f() }\n\
             #[cfg(test)]\nmod tests { use crate::sync::f; }\n\
             #[cfg(test)]\nmod more;\n",
        ),
        ("store/more.rs", "use crate::sync::f;\n"),
        ("store/tests.rs", "use crate::sync::f;\n"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_sideways_reference_needs_an_allowance() {
    let found = check(&[
        ("lib.rs", LIB),
        ("reports/mod.rs", "pub const DIR: &str = \"photos\";\n"),
        ("training/mod.rs", "const D: &str = crate::reports::DIR;\n"),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("training -> reports within Domain is not in SAME_LAYER"));
}

#[test]
fn a_module_in_no_layer_is_refused() {
    let found = check(&[("lib.rs", "pub mod misc;\n"), ("misc.rs", "\n")]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("misc.rs: not in any layer"),
        "{found:?}"
    );
}
