//! `ide_agents_ultra_test_select`: ranks a workspace's tests by how likely a change to the
//! `changed` files affects them.
//!
//! - Files: the source files (`.py`, `.js`, `.jsx`, `.mjs`, `.cjs`, `.ts`, `.tsx`, `.rs`) and
//!   `Cargo.toml` files under `dir`, skipping [`SKIPPED_DIRS`], at most [`MAX_FILES`].
//! - Tests, by naming convention: `test_*.py`, `*_test.py`, `*.test.*`, `*.spec.*`, `*_spec.*`, and
//!   any source file in a `tests`, `test` or `__tests__` directory (Rust integration tests too),
//!   except `__init__.py` and `conftest.py`.
//! - Imports understood (line by line, no macro or string tricks): Python `import a.b[, c]` and
//!   `from [.]a.b import c, d` (relative dots from the file's package; an absolute module, or its
//!   `.c` submodule, resolves to every scanned file whose path ends with `a/b.py` or
//!   `a/b/__init__.py`); JS/TS `import ... from '...'`, `import '...'`, `export ... from '...'`,
//!   `require('...')` and `import('...')` with a relative specifier (`./`, `../`; the exact file,
//!   then with each source extension, then `index.*` in it; packages are ignored); Rust `mod x;`
//!   (`x.rs` or `x/mod.rs` beside `lib.rs`/`main.rs`/`mod.rs`, else in the module's own directory),
//!   `use crate::a::b` (the longest of `src/a/b.rs`, `src/a/b/mod.rs`, `src/a.rs`, `src/a/mod.rs`
//!   that exists, under the file's enclosing `src`) and `use name::a::b` where `name` is a
//!   package of a scanned `Cargo.toml` (dashes as underscores; its `src/lib.rs` if nothing longer).
//! - Evidence per test: import distance (hops through the reverse import graph from a changed file
//!   to the test; 0 if the test itself changed), name similarity (1 when the test's name minus its
//!   test affixes equals a changed file's stem, else the Jaccard of their [`code_tokens`]) and
//!   content similarity (the largest hashed n-gram cosine with a changed file's text).
//! - `score = 0.6 * proximity + 0.25 * name + 0.15 * content`, proximity `1 / (1 + distance)` or 0
//!   when unreachable. Tests reachable through imports come first (an import path is direct
//!   evidence), then the rest; each group by score, then path.

use std::collections::{BTreeMap, HashMap, VecDeque};

use ide_agents_tool::{Error, Reply, Tool, workspace};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::NgramVector;
use textkit::code::code_tokens;

use crate::rank::read_text;

/// Directories never scanned.
pub const SKIPPED_DIRS: &[&str] =
    &[".git", "node_modules", "target", ".venv", "venv", "__pycache__", "dist", "build", ".mypy_cache", ".tox"];
/// Most files scanned.
const MAX_FILES: usize = 20_000;
/// Largest file read.
const MAX_SCANNED_BYTES: u64 = 1 << 20;
/// Source extensions scanned.
const SOURCE_EXTENSIONS: &[&str] = &["py", "js", "jsx", "mjs", "cjs", "ts", "tsx", "rs"];
/// JS/TS extensions tried when resolving a relative specifier.
const SCRIPT_EXTENSIONS: &[&str] = &["ts", "tsx", "js", "jsx", "mjs", "cjs"];
/// Weights of proximity, name and content similarity in the score.
const WEIGHTS: (f64, f64, f64) = (0.6, 0.25, 0.15);
/// Tests named in the text summary.
const SUMMARY_TESTS: usize = 20;

pub struct TestSelect;

impl Tool for TestSelect {
    const NAME: &'static str = "ide_agents_ultra_test_select";
    const TITLE: Option<&'static str> = Some("Select tests for a change");
    const DESCRIPTION: &'static str = "Ranks the workspace's tests (found by naming convention) by how likely changes \
                                       to `changed` files affect them: reverse import-graph distance (Python, JS/TS, \
                                       Rust imports), name similarity and content similarity, with a reason per \
                                       test. Tests that import a changed file, directly or not, come first.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Selection;

    fn call(args: Args) -> Result<Reply<Selection>, Error> {
        for (i, path) in args.changed.iter().enumerate() {
            if path.starts_with('/') || path.split(['/', '\\']).any(|c| c == "..") {
                return Err(Error::invalid(&format!("/changed/{i}"), "must be a relative path inside the root"));
            }
        }
        let mut files = Vec::new();
        scan(&args.root, args.dir.trim_matches('/'), &mut files)?;
        let selection = select(&files, &args.changed, args.top_k);
        let text = selection.summary();
        Ok(Reply::new(selection).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Changed files, as paths relative to the root (deleted files still count by name).
    #[schemars(length(min = 1, max = 1000))]
    changed: Vec<String>,
    /// The root to scan (default `workspace`).
    #[serde(default = "default_root")]
    #[schemars(length(min = 1, max = 100))]
    root: String,
    /// The directory under the root to scan (default: all of it).
    #[serde(default)]
    #[schemars(length(max = 1000))]
    dir: String,
    /// Return only the best k tests.
    #[schemars(range(min = 1))]
    top_k: Option<usize>,
}

fn default_root() -> String {
    "workspace".into()
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Selection {
    /// Files scanned.
    files_scanned: usize,
    /// Tests found.
    tests_found: usize,
    /// Changed paths not among the scanned files (matched by name only).
    changed_not_found: Vec<String>,
    /// Most likely affected first.
    tests: Vec<Selected>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Selected {
    /// 1 for the most likely affected.
    rank: usize,
    path: String,
    /// `0.6 * proximity + 0.25 * name_similarity + 0.15 * content_similarity`.
    score: f64,
    /// Import hops from a changed file to this test (0: the test changed); absent if none.
    import_distance: Option<usize>,
    /// The import chain, the test first, the changed file last.
    import_chain: Vec<String>,
    name_similarity: f64,
    content_similarity: f64,
    reason: String,
}

impl Selection {
    fn summary(&self) -> String {
        let mut text = format!("{} tests ranked among {} files scanned", self.tests_found, self.files_scanned);
        for t in self.tests.iter().take(SUMMARY_TESTS) {
            text.push_str(&format!("\n{}. {} score {:.3}: {}", t.rank, t.path, t.score, t.reason));
        }
        text
    }
}

/// Collects (path, text) of the source files and `Cargo.toml`s under `dir`.
fn scan(root: &str, dir: &str, files: &mut Vec<(String, String)>) -> Result<(), Error> {
    let entries = workspace::list_dir(root, dir).map_err(|e| {
        Error::invalid(if dir.is_empty() { "/root" } else { "/dir" }, format!("cannot list {dir:?} in {root:?}: {e:?}"))
    })?;
    for entry in entries {
        let path = if dir.is_empty() { entry.name.clone() } else { format!("{dir}/{}", entry.name) };
        match entry.kind {
            workspace::EntryKind::Directory if !SKIPPED_DIRS.contains(&entry.name.as_str()) => {
                scan(root, &path, files)?
            }
            workspace::EntryKind::File
                if entry.size <= MAX_SCANNED_BYTES
                    && files.len() < MAX_FILES
                    && (entry.name == "Cargo.toml" || SOURCE_EXTENSIONS.contains(&extension(&entry.name))) =>
            {
                let text = read_text(root, &path, "/dir")?;
                files.push((path, text));
            }
            _ => {}
        }
    }
    Ok(())
}

fn extension(name: &str) -> &str {
    name.rsplit_once('.').map_or("", |(_, e)| e)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `a/./b/../c` -> `a/c`; `None` if it climbs above the root.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
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

fn join(dir: &str, rest: &str) -> String {
    if dir.is_empty() { rest.to_owned() } else { format!("{dir}/{rest}") }
}

/// Whether `path` is a test by naming convention.
fn is_test(path: &str) -> bool {
    let name = file_name(path);
    if !SOURCE_EXTENSIONS.contains(&extension(name)) || name == "__init__.py" || name == "conftest.py" {
        return false;
    }
    let stem = name.split('.').next().unwrap_or(name);
    stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_spec")
        || name.contains(".test.")
        || name.contains(".spec.")
        || path.split('/').rev().skip(1).any(|d| matches!(d, "tests" | "test" | "__tests__"))
}

/// A file name without extensions and test affixes: `test_parser.py`, `parser.test.ts` and
/// `parser_spec.rb` all give `parser`.
fn subject(path: &str) -> &str {
    let stem = file_name(path).split('.').next().unwrap_or("");
    let stem = stem.strip_prefix("test_").unwrap_or(stem);
    stem.strip_suffix("_test").or_else(|| stem.strip_suffix("_spec")).unwrap_or(stem)
}

/// The resolver: which scanned files an import names.
struct Resolver<'a> {
    paths: HashMap<&'a str, usize>,
    /// Dotted Python module suffixes (`b.c`, `a.b.c` for `a/b/c.py`) to files.
    python: HashMap<String, Vec<usize>>,
    /// Rust package names (dashes as underscores) to their `src` directory.
    crates: HashMap<String, String>,
}

impl<'a> Resolver<'a> {
    fn new(files: &'a [(String, String)]) -> Self {
        let mut python: HashMap<String, Vec<usize>> = HashMap::new();
        let mut crates = HashMap::new();
        for (i, (path, text)) in files.iter().enumerate() {
            if let Some(module) = path.strip_suffix(".py") {
                let module = module.strip_suffix("/__init__").unwrap_or(module);
                let parts: Vec<&str> = module.split('/').collect();
                for start in 0..parts.len() {
                    python.entry(parts[start..].join(".")).or_default().push(i);
                }
            }
            if file_name(path) == "Cargo.toml" {
                let name = text.lines().find_map(|l| {
                    let (key, value) = l.split_once('=')?;
                    (key.trim() == "name").then(|| value.trim().trim_matches('"').replace('-', "_"))
                });
                if let Some(name) = name {
                    crates.insert(name, join(parent(path), "src"));
                }
            }
        }
        let paths = files.iter().enumerate().map(|(i, (p, _))| (p.as_str(), i)).collect();
        Self { paths, python, crates }
    }

    fn file(&self, path: &str) -> Option<usize> {
        self.paths.get(path).copied()
    }

    /// The files `path` (with text `text`) imports.
    fn imports(&self, path: &str, text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        match extension(path) {
            "py" => text.lines().for_each(|l| self.python_line(path, l.trim(), &mut out)),
            "rs" => text.lines().for_each(|l| self.rust_line(path, l.trim(), &mut out)),
            "toml" => {}
            _ => {
                for spec in script_specifiers(text) {
                    let Some(base) = normalise(&join(parent(path), &spec)) else { continue };
                    let tries = std::iter::once(base.clone())
                        .chain(SCRIPT_EXTENSIONS.iter().map(|e| format!("{base}.{e}")))
                        .chain(SCRIPT_EXTENSIONS.iter().map(|e| format!("{base}/index.{e}")));
                    out.extend(tries.filter_map(|p| self.file(&p)).take(1));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn python_line(&self, path: &str, line: &str, out: &mut Vec<usize>) {
        let (module, names) = if let Some(rest) = line.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else { return };
            (module.trim(), names.trim_matches(|c| c == '(' || c == ')' || c == ' '))
        } else if let Some(rest) = line.strip_prefix("import ") {
            for m in rest.split(',') {
                self.python_module(path, m.split_whitespace().next().unwrap_or(""), out);
            }
            return;
        } else {
            return;
        };
        self.python_module(path, module, out);
        for name in names.split(',').filter_map(|n| n.split_whitespace().next()) {
            let sep = if module.ends_with('.') { "" } else { "." };
            self.python_module(path, &format!("{module}{sep}{name}"), out);
        }
    }

    fn python_module(&self, path: &str, module: &str, out: &mut Vec<usize>) {
        let dots = module.len() - module.trim_start_matches('.').len();
        let rest = &module[dots..];
        if dots == 0 {
            out.extend(self.python.get(rest).into_iter().flatten());
            return;
        }
        let mut base = parent(path).to_owned();
        for _ in 1..dots {
            base = parent(&base).to_owned();
        }
        let target = if rest.is_empty() { base } else { join(&base, &rest.replace('.', "/")) };
        out.extend([format!("{target}.py"), format!("{target}/__init__.py")].iter().filter_map(|p| self.file(p)));
    }

    fn rust_line(&self, path: &str, line: &str, out: &mut Vec<usize>) {
        let line = line.strip_prefix("pub ").unwrap_or(line);
        if let Some(name) = line.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
            let dir = match file_name(path) {
                "lib.rs" | "main.rs" | "mod.rs" => parent(path).to_owned(),
                _ => path.trim_end_matches(".rs").to_owned(),
            };
            let tries = [join(&dir, &format!("{}.rs", name.trim())), join(&dir, &format!("{}/mod.rs", name.trim()))];
            out.extend(tries.iter().filter_map(|p| self.file(p)).take(1));
            return;
        }
        let Some(rest) = line.strip_prefix("use ") else { return };
        let segments: Vec<&str> = rest
            .split("::")
            .map(str::trim)
            .take_while(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .collect();
        let Some((&first, modules)) = segments.split_first() else { return };
        let src = if first == "crate" {
            let Some(at) = path.find("src/").filter(|&at| at == 0 || path[..at].ends_with('/')) else { return };
            path[..at + 3].to_owned()
        } else if let Some(src) = self.crates.get(first) {
            src.clone()
        } else {
            return;
        };
        let found = (1..=modules.len()).rev().find_map(|n| {
            let base = join(&src, &modules[..n].join("/"));
            self.file(&format!("{base}.rs")).or_else(|| self.file(&format!("{base}/mod.rs")))
        });
        out.extend(found.or_else(|| self.file(&join(&src, "lib.rs"))));
    }
}

/// The string literals after `from`, `import`, `require(` and `import(` in a JS/TS file that
/// start with `.`.
fn script_specifiers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for keyword in ["from", "import", "require(", "import("] {
        for (at, _) in text.match_indices(keyword) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let rest = text[at + keyword.len()..].trim_start();
            let Some(quote) = rest.chars().next().filter(|c| matches!(c, '\'' | '"' | '`')) else { continue };
            if let Some(end) = rest[1..].find(quote) {
                let spec = &rest[1..1 + end];
                if spec.starts_with('.') {
                    out.push(spec.to_owned());
                }
            }
        }
    }
    out
}

/// Ranks the tests among `files` for `changed`.
fn select(files: &[(String, String)], changed: &[String], top_k: Option<usize>) -> Selection {
    let resolver = Resolver::new(files);
    let mut importers: Vec<Vec<usize>> = vec![Vec::new(); files.len()];
    for (i, (path, text)) in files.iter().enumerate() {
        for j in resolver.imports(path, text) {
            importers[j].push(i);
        }
    }
    let changed: Vec<String> = changed.iter().map(|c| normalise(c).unwrap_or_default()).collect();
    let changed_files: Vec<usize> = changed.iter().filter_map(|c| resolver.file(c)).collect();
    // Breadth-first through importers: distance and the next file towards a changed one.
    let mut towards: BTreeMap<usize, (usize, Option<usize>)> = BTreeMap::new();
    let mut queue: VecDeque<usize> = VecDeque::new();
    for &c in &changed_files {
        towards.entry(c).or_insert((0, None));
        queue.push_back(c);
    }
    while let Some(f) = queue.pop_front() {
        let d = towards[&f].0;
        for &i in &importers[f] {
            if let std::collections::btree_map::Entry::Vacant(e) = towards.entry(i) {
                e.insert((d + 1, Some(f)));
                queue.push_back(i);
            }
        }
    }
    let changed_vectors: Vec<NgramVector> = changed_files.iter().map(|&c| NgramVector::new(&files[c].1)).collect();
    let mut tests: Vec<Selected> = files
        .iter()
        .enumerate()
        .filter(|(_, (p, _))| is_test(p))
        .map(|(i, (path, text))| {
            let name = changed.iter().map(|c| name_similarity(path, c)).fold(0.0, f64::max);
            let vector = NgramVector::new(text);
            let content = changed_vectors.iter().map(|v| v.cosine(&vector)).fold(0.0, f64::max);
            let distance = towards.get(&i).map(|t| t.0);
            let mut import_chain = Vec::new();
            let mut at = distance.map(|_| i);
            while let Some(f) = at {
                import_chain.push(files[f].0.clone());
                at = towards[&f].1;
            }
            let proximity = distance.map_or(0.0, |d| 1.0 / (1.0 + d as f64));
            let score = WEIGHTS.0 * proximity + WEIGHTS.1 * name + WEIGHTS.2 * content;
            let reason = match distance {
                Some(0) => "the test itself changed".to_owned(),
                Some(d) => format!("imports a changed file in {d} hop(s): {}", import_chain.join(" -> ")),
                None => "no import path to a changed file".to_owned(),
            };
            let reason = format!("{reason}; name similarity {name:.2}; content similarity {content:.2}");
            Selected {
                rank: 0,
                path: path.clone(),
                score,
                import_distance: distance,
                import_chain,
                name_similarity: name,
                content_similarity: content,
                reason,
            }
        })
        .collect();
    tests.sort_by(|a, b| {
        b.import_distance
            .is_some()
            .cmp(&a.import_distance.is_some())
            .then(b.score.total_cmp(&a.score))
            .then(a.path.cmp(&b.path))
    });
    let tests_found = tests.len();
    tests.truncate(top_k.unwrap_or(usize::MAX));
    for (r, t) in tests.iter_mut().enumerate() {
        t.rank = r + 1;
    }
    let changed_not_found = changed.into_iter().filter(|c| resolver.file(c).is_none()).collect();
    Selection { files_scanned: files.len(), tests_found, changed_not_found, tests }
}

/// 1 if the test's subject equals the changed file's stem, else the Jaccard of their words
/// (without `test`/`tests`/`spec`).
fn name_similarity(test: &str, changed: &str) -> f64 {
    let (a, b) = (subject(test), subject(changed));
    if a == b {
        return 1.0;
    }
    let words = |s: &str| {
        let mut w: Vec<String> =
            code_tokens(s).into_iter().filter(|t| !matches!(t.as_str(), "test" | "tests" | "spec")).collect();
        w.sort_unstable();
        w.dedup();
        w
    };
    let (a, b) = (words(a), words(b));
    let shared = a.iter().filter(|t| b.contains(t)).count();
    let all = a.len() + b.len() - shared;
    if all == 0 { 0.0 } else { shared as f64 / all as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(p, t)| ((*p).to_owned(), (*t).to_owned())).collect()
    }

    #[test]
    fn importing_tests_rank_above_unrelated_ones_in_every_language() {
        let repo = files(&[
            ("pkg/__init__.py", ""),
            ("pkg/parser.py", "import re\ndef parse(s): return s"),
            ("pkg/api.py", "from .parser import parse\ndef handle(r): return parse(r)"),
            ("pkg/render.py", "def render(x): return str(x)"),
            ("tests/test_api.py", "from pkg.api import handle\ndef test_handle(): assert handle('a')"),
            ("tests/test_render.py", "from pkg import render\ndef test_render(): assert render.render(1)"),
            ("tests/test_parser_name_only.py", "def test_nothing(): pass"),
            ("web/src/util.ts", "export const add = (a: number, b: number) => a + b;"),
            ("web/src/util.test.ts", "import { add } from './util';\ntest('add', () => expect(add(1, 2)).toBe(3));"),
            ("web/src/other.spec.js", "const x = require('lodash');"),
            ("core/Cargo.toml", "[package]\nname = \"my-core\"\n"),
            ("core/src/lib.rs", "pub mod lexer;\npub mod eval;"),
            ("core/src/lexer.rs", "pub fn lex() {}"),
            ("core/src/eval.rs", "use crate::lexer::lex;\npub fn eval() { lex() }"),
            ("core/tests/eval.rs", "use my_core::eval::eval;\n#[test] fn t() { eval() }"),
        ]);
        let picked =
            select(&repo, &["pkg/parser.py".into(), "web/src/util.ts".into(), "core/src/lexer.rs".into()], None);
        let order: Vec<(&str, Option<usize>)> =
            picked.tests.iter().map(|t| (t.path.as_str(), t.import_distance)).collect();
        assert_eq!(picked.tests_found, 6);
        let reachable: Vec<&str> = order.iter().take_while(|t| t.1.is_some()).map(|t| t.0).collect();
        assert_eq!(reachable.len(), 3, "{order:?}");
        for path in ["tests/test_api.py", "web/src/util.test.ts", "core/tests/eval.rs"] {
            assert!(reachable.contains(&path), "{path} in {order:?}");
        }
        let api = picked.tests.iter().find(|t| t.path == "tests/test_api.py").unwrap();
        assert_eq!(api.import_chain, ["tests/test_api.py", "pkg/api.py", "pkg/parser.py"]);
        assert!(api.reason.starts_with("imports a changed file in 2 hop(s)"), "{}", api.reason);
        assert_eq!(picked.tests[3].path, "tests/test_parser_name_only.py", "the name match leads the rest: {order:?}");
    }

    #[test]
    fn names_and_specifiers() {
        assert!(
            is_test("a/test_x.py")
                && is_test("x_test.py")
                && is_test("src/x.spec.tsx")
                && is_test("tests/common/mod.rs")
        );
        assert!(!is_test("src/x.py") && !is_test("tests/__init__.py") && !is_test("tests/data.json"));
        assert_eq!(name_similarity("tests/test_parser.py", "src/parser.py"), 1.0);
        assert_eq!(name_similarity("src/http_client.test.ts", "src/http_server.ts"), 1.0 / 3.0);
        assert_eq!(
            script_specifiers("import a from './a';\nexport * from \"../b\"; require('c'); import('./d')"),
            ["./a", "../b", "./d"]
        );
        assert_eq!(normalise("a/./b/../c"), Some("a/c".into()));
        assert_eq!(normalise("../x"), None);
    }
}
