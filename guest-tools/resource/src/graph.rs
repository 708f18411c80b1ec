//! `repo.graph`: files of the workspace, the modules each imports, and which imports resolve to
//! files in the workspace. Imports are found by a line scanner per language (not a full parser):
//!
//! - Rust: `mod x;`, `use a::b::{c, d};` (one level of braces expanded), `extern crate x;`
//! - Python: `import a.b, c`, `from a.b import c`, `from . import x`, `from ..pkg import y`
//! - TS/JS: `import ... from 'x'`, `import 'x'`, `export ... from 'x'`, `require('x')`, `import('x')`

use std::collections::{BTreeMap, HashSet};

use schemars::JsonSchema;
use serde::Serialize;

use crate::walk::{self, Found};

const ROOT: &str = "workspace";
/// Most source files graphed; more are left out and `truncated` is set.
const MAX_FILES: usize = 5000;
/// Largest source file read.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Most internal edges listed in the text rendering.
const MAX_TEXT_EDGES: usize = 200;
/// Most external modules named in the text rendering.
const MAX_TEXT_EXTERNALS: usize = 10;
const JS_EXTENSIONS: &[&str] = &["ts", "tsx", "js", "jsx", "mjs", "cjs", "mts", "cts"];

/// The `repo.graph` answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Graph {
    /// The root read: `workspace`.
    root: &'static str,
    /// The subdirectory graphed (`""`: the whole root).
    path: String,
    /// Whether the file limit left files out.
    truncated: bool,
    /// How many files were graphed.
    files: usize,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    /// External modules with how many imports name them, most used first.
    external: Vec<External>,
    /// Files not read: too large or unreadable.
    skipped: Vec<String>,
}

/// A source file.
#[derive(Debug, Serialize, JsonSchema)]
struct Node {
    path: String,
    /// `rust`, `python`, `typescript` or `javascript`.
    language: &'static str,
    /// How many imports it has.
    imports: usize,
}

/// One import of a file.
#[derive(Debug, Serialize, JsonSchema)]
struct Edge {
    from: String,
    /// The import as written (`mod x` for a Rust submodule).
    module: String,
    /// The file it resolves to, for `internal` imports.
    to: Option<String>,
    kind: EdgeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum EdgeKind {
    // Resolves to a file in the workspace. (Plain comments: doc comments would turn the schema's
    // `enum` into a `oneOf` of described constants.)
    Internal,
    // Names a module from outside (a crate, a package).
    External,
    // Looks local but matches no file.
    Unresolved,
}

#[derive(Debug, Serialize, JsonSchema)]
struct External {
    module: String,
    imports: usize,
}

fn language(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    match ext {
        "rs" => Some("rust"),
        "py" => Some("python"),
        "ts" | "tsx" | "mts" | "cts" => Some("typescript"),
        "js" | "jsx" | "mjs" | "cjs" => Some("javascript"),
        _ => None,
    }
}

/// The graph of the files under `dir`.
pub fn build(dir: &str) -> crate::Rendered<Graph> {
    let (files, truncated) = walk::files(ROOT, dir, MAX_FILES, |n| language(n).is_some())?;
    let paths: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut external: BTreeMap<String, usize> = BTreeMap::new();
    let mut skipped = Vec::new();
    for file in &files {
        let Found { path, size, .. } = file;
        let lang = language(path).unwrap_or_default();
        if *size > MAX_FILE_BYTES {
            skipped.push(path.clone());
            continue;
        }
        let text = match walk::read_text(ROOT, path, MAX_FILE_BYTES) {
            Ok(t) => t,
            Err(_) => {
                skipped.push(path.clone());
                continue;
            }
        };
        let imports = match lang {
            "rust" => rust_imports(&text),
            "python" => python_imports(&text),
            _ => js_imports(&text),
        };
        nodes.push(Node { path: path.clone(), language: lang, imports: imports.len() });
        for spec in imports {
            let (kind, to) = match lang {
                "rust" => resolve_rust(path, &spec, &paths),
                "python" => resolve_python(path, &spec, &paths),
                _ => resolve_js(path, &spec, &paths),
            };
            if let Kind::External(name) = &kind {
                *external.entry(name.clone()).or_default() += 1;
            }
            edges.push(Edge { from: path.clone(), module: spec, to, kind: kind.edge_kind() });
        }
    }
    let internal = edges.iter().filter(|e| e.kind == EdgeKind::Internal).count();
    let mut top: Vec<(String, usize)> = external.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut text = format!(
        "{} files, {} imports ({} within the workspace), {} external modules{}",
        nodes.len(),
        edges.len(),
        internal,
        top.len(),
        if truncated { " (file limit reached: graph truncated)" } else { "" }
    );
    if !top.is_empty() {
        let names: Vec<String> = top.iter().take(MAX_TEXT_EXTERNALS).map(|(n, c)| format!("{n} ({c})")).collect();
        text.push_str(&format!("\nmost used external modules: {}", names.join(", ")));
    }
    for e in edges.iter().filter(|e| e.kind == EdgeKind::Internal).take(MAX_TEXT_EDGES) {
        text.push_str(&format!("\n{} -> {}", e.from, e.to.as_deref().unwrap_or("")));
    }
    let graph = Graph {
        root: ROOT,
        path: dir.to_owned(),
        truncated,
        files: nodes.len(),
        nodes,
        edges,
        external: top.into_iter().map(|(module, imports)| External { module, imports }).collect(),
        skipped,
    };
    Ok((graph, text))
}

enum Kind {
    Internal,
    External(String),
    Unresolved,
}

impl Kind {
    fn edge_kind(&self) -> EdgeKind {
        match self {
            Self::Internal => EdgeKind::Internal,
            Self::External(_) => EdgeKind::External,
            Self::Unresolved => EdgeKind::Unresolved,
        }
    }
}

/// What an import resolves to: its kind and, for internal ones, the file.
type Resolved = (Kind, Option<String>);

fn internal(path: String) -> Resolved {
    (Kind::Internal, Some(path))
}

/// The directory part of `path` (`""` at the root).
fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn join(dir: &str, rest: &str) -> String {
    if dir.is_empty() { rest.to_owned() } else { format!("{dir}/{rest}") }
}

/// `dir/rel` with `.` and `..` resolved; `None` if it leaves the root.
fn normalise(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

// ---- Rust ----

fn rust_imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if let Some(acc) = pending.as_mut() {
            acc.push(' ');
            acc.push_str(line);
            if line.contains(';') {
                out.extend(expand_use(&pending.take().unwrap_or_default()));
            }
            continue;
        }
        let stripped = strip_visibility(line);
        if let Some(rest) = stripped.strip_prefix("mod ") {
            if let Some(name) = rest.strip_suffix(';') {
                out.push(format!("mod {}", name.trim()));
            }
        } else if let Some(rest) = stripped.strip_prefix("extern crate ") {
            let name = rest.trim_end_matches(';').split_whitespace().next().unwrap_or("");
            out.push(name.to_owned());
        } else if let Some(rest) = stripped.strip_prefix("use ") {
            if rest.contains(';') {
                out.extend(expand_use(rest));
            } else {
                pending = Some(rest.to_owned());
            }
        }
    }
    out
}

fn strip_visibility(line: &str) -> &str {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix("pub") {
        let rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('(') {
            return after.split_once(')').map_or(line, |(_, r)| r.trim_start());
        }
        return rest;
    }
    line
}

/// `a::b::{c, d::e}` -> `a::b::c`, `a::b::d::e`; `a::b as c` -> `a::b`; globs drop the `*`.
fn expand_use(tree: &str) -> Vec<String> {
    let tree = tree.split(';').next().unwrap_or("").trim();
    let Some((prefix, group)) = tree.split_once('{') else {
        return vec![clean_path(tree)];
    };
    let group = group.rsplit_once('}').map_or(group, |(g, _)| g);
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&group[start..]);
    items
        .into_iter()
        .map(|item| item.split('{').next().unwrap_or("").trim())
        .filter(|item| !item.is_empty())
        .map(|item| clean_path(&format!("{prefix}{item}")))
        .collect()
}

fn clean_path(path: &str) -> String {
    let path = path.split(" as ").next().unwrap_or("").trim();
    path.trim_end_matches("::*").trim_end_matches("::self").trim_end_matches("::").replace(' ', "")
}

/// The directory holding the submodules of the module in `file`.
fn module_dir(file: &str) -> String {
    let name = file.rsplit('/').next().unwrap_or(file);
    if matches!(name, "lib.rs" | "main.rs" | "mod.rs") {
        parent(file).to_owned()
    } else {
        file.trim_end_matches(".rs").to_owned()
    }
}

/// The `src` directory of the crate `file` belongs to (the nearest ancestor called `src`).
fn crate_src(file: &str) -> String {
    let parts: Vec<&str> = file.split('/').collect();
    match parts.iter().rposition(|p| *p == "src") {
        Some(i) => parts[..=i].join("/"),
        None => parent(file).to_owned(),
    }
}

/// The file of the longest prefix of `segments` that is a module under `base`.
fn rust_module_file(base: &str, segments: &[&str], files: &HashSet<&str>) -> Option<String> {
    for n in (1..=segments.len()).rev() {
        let stem = join(base, &segments[..n].join("/"));
        for candidate in [format!("{stem}.rs"), format!("{stem}/mod.rs")] {
            if files.contains(candidate.as_str()) {
                return Some(candidate);
            }
        }
    }
    None
}

fn resolve_rust(file: &str, spec: &str, files: &HashSet<&str>) -> Resolved {
    if let Some(name) = spec.strip_prefix("mod ") {
        return match rust_module_file(&module_dir(file), &[name], files) {
            Some(p) => internal(p),
            None => (Kind::Unresolved, None),
        };
    }
    let segments: Vec<&str> = spec.split("::").filter(|s| !s.is_empty()).collect();
    let Some(first) = segments.first() else { return (Kind::Unresolved, None) };
    let (base, rest) = match *first {
        "crate" => (crate_src(file), &segments[1..]),
        "self" => (module_dir(file), &segments[1..]),
        "super" => {
            let mut dir = module_dir(file);
            let mut rest = &segments[..];
            while rest.first() == Some(&"super") {
                dir = parent(&dir).to_owned();
                rest = &rest[1..];
            }
            (dir, rest)
        }
        _ => (module_dir(file), &segments[..]),
    };
    if let Some(found) = rust_module_file(&base, rest, files) {
        return internal(found);
    }
    if *first == "crate" || *first == "self" || *first == "super" {
        // An item of the crate root or of this module itself.
        let root = ["lib.rs", "main.rs", "mod.rs"].iter().map(|f| join(&base, f)).find(|f| files.contains(f.as_str()));
        return match root {
            Some(r) if r != file => internal(r),
            _ => (Kind::Internal, Some(file.to_owned())),
        };
    }
    (Kind::External((*first).to_owned()), None)
}

// ---- Python ----

fn python_imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split(',') {
                let module = part.split(" as ").next().unwrap_or("").trim();
                if !module.is_empty() {
                    out.push(module.to_owned());
                }
            }
        } else if let Some(rest) = line.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else { continue };
            let module = module.trim();
            if module.chars().all(|c| c == '.') {
                // `from . import a, b`: each name may be a module of the package.
                let names = names.trim().trim_start_matches('(').trim_end_matches(')');
                for name in names.split(',') {
                    let name = name.split(" as ").next().unwrap_or("").trim();
                    if !name.is_empty() && name != "*" {
                        out.push(format!("{module}{name}"));
                    }
                }
            } else {
                out.push(module.to_owned());
            }
        }
    }
    out
}

fn python_file(base: &str, module: &str, files: &HashSet<&str>) -> Option<String> {
    let stem = join(base, &module.replace('.', "/"));
    [format!("{stem}.py"), format!("{stem}/__init__.py")].into_iter().find(|c| files.contains(c.as_str()))
}

fn resolve_python(file: &str, spec: &str, files: &HashSet<&str>) -> Resolved {
    let dots = spec.chars().take_while(|c| *c == '.').count();
    if dots > 0 {
        let mut dir = parent(file).to_owned();
        for _ in 1..dots {
            dir = parent(&dir).to_owned();
        }
        return match python_file(&dir, &spec[dots..], files) {
            Some(p) => internal(p),
            None => (Kind::Unresolved, None),
        };
    }
    // Absolute: try every ancestor directory as the import root, nearest first.
    let mut dir = parent(file).to_owned();
    loop {
        if let Some(p) = python_file(&dir, spec, files) {
            return internal(p);
        }
        if dir.is_empty() {
            break;
        }
        dir = parent(&dir).to_owned();
    }
    (Kind::External(spec.split('.').next().unwrap_or(spec).to_owned()), None)
}

// ---- TS/JS ----

fn js_imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("//") || t.starts_with('*') {
            continue;
        }
        let statement = t.starts_with("import") || t.starts_with("export") || t.starts_with('}');
        if statement {
            if let Some(i) = t.find(" from ")
                && let Some(s) = quoted(&t[i + 6..])
            {
                out.push(s);
                continue;
            }
            if let Some(rest) = t.strip_prefix("import ")
                && let Some(s) = quoted(rest)
            {
                out.push(s);
                continue;
            }
        }
        for call in ["require(", "import("] {
            let mut rest = t;
            while let Some(i) = rest.find(call) {
                rest = &rest[i + call.len()..];
                if let Some(s) = quoted(rest) {
                    out.push(s);
                }
            }
        }
    }
    out
}

/// The string literal at the start of `s` (after spaces).
fn quoted(s: &str) -> Option<String> {
    let s = s.trim_start();
    let quote = s.chars().next().filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let end = s[1..].find(quote)?;
    Some(s[1..1 + end].to_owned())
}

fn resolve_js(file: &str, spec: &str, files: &HashSet<&str>) -> Resolved {
    if !spec.starts_with("./") && !spec.starts_with("../") && spec != "." && spec != ".." {
        let name = if spec.starts_with('@') {
            spec.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
        } else {
            spec.split('/').next().unwrap_or(spec).to_owned()
        };
        return (Kind::External(name), None);
    }
    let Some(target) = normalise(parent(file), spec) else { return (Kind::Unresolved, None) };
    let mut candidates = vec![target.clone()];
    // TypeScript's ESM style imports `./x.js` for `./x.ts`.
    let stem = target
        .rsplit_once('.')
        .filter(|(_, ext)| JS_EXTENSIONS.contains(ext))
        .map_or(target.as_str(), |(s, _)| s)
        .to_owned();
    for ext in JS_EXTENSIONS {
        candidates.push(format!("{stem}.{ext}"));
    }
    for ext in JS_EXTENSIONS {
        candidates.push(join(&target, &format!("index.{ext}")));
    }
    match candidates.into_iter().find(|c| files.contains(c.as_str())) {
        Some(p) => internal(p),
        None => (Kind::Unresolved, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_uses_are_expanded_and_resolved() {
        let text = "pub mod net;\nuse crate::util::{helper, other::Thing};\nuse std::io as sio;\nextern crate serde;\n";
        let imports = rust_imports(text);
        assert_eq!(imports, ["mod net", "crate::util::helper", "crate::util::other::Thing", "std::io", "serde"]);
        let files: HashSet<&str> = ["src/lib.rs", "src/util.rs", "src/net/mod.rs"].into_iter().collect();
        assert_eq!(resolve_rust("src/lib.rs", "mod net", &files).1.as_deref(), Some("src/net/mod.rs"));
        assert_eq!(resolve_rust("src/lib.rs", "crate::util::helper", &files).1.as_deref(), Some("src/util.rs"));
        assert!(matches!(resolve_rust("src/lib.rs", "std::io", &files).0, Kind::External(n) if n == "std"));
    }

    #[test]
    fn python_and_js_imports_resolve_relative_to_the_file() {
        assert_eq!(
            python_imports("import os, app.models as m\nfrom . import views\nfrom ..pkg import x"),
            ["os", "app.models", ".views", "..pkg"]
        );
        let files: HashSet<&str> = ["app/views.py", "web/lib/a.ts"].into_iter().collect();
        assert_eq!(resolve_python("app/main.py", ".views", &files).1.as_deref(), Some("app/views.py"));
        assert_eq!(js_imports("import a from './lib/a.js';\nconst r = require(\"react\");"), ["./lib/a.js", "react"]);
        assert_eq!(resolve_js("web/index.ts", "./lib/a.js", &files).1.as_deref(), Some("web/lib/a.ts"));
        assert!(
            matches!(resolve_js("web/index.ts", "@scope/pkg/sub", &files).0, Kind::External(n) if n == "@scope/pkg")
        );
        assert!(matches!(resolve_js("web/index.ts", "../../..", &files).0, Kind::Unresolved));
    }
}
