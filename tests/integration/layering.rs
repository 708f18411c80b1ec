//! The server's modules import each other without cycles: `mcp -> runtime -> host` with
//! `config`/`serve` as the composition root that no other module imports, and no cycle between
//! the sibling modules inside one top-level module either. Read from the `use crate::...` and
//! `use super::...` paths of `server/src` (a child using its own parent's items does not count).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules nothing but the crate root, `main` and each other may import.
const ROOTS: &[&str] = &["config", "serve", "check", "watch"];

/// `a::b` for `src/a/b.rs` and `src/a/b/mod.rs`, `a` for `src/a.rs` and `src/a/mod.rs`; `None`
/// for the crate root and the binary.
fn module_of(src: &Path, file: &Path) -> Option<Vec<String>> {
    let relative = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    (!parts.is_empty() && parts != ["lib"] && parts != ["main"]).then_some(parts)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text of `source` without comments (line and block) and without string literals.
fn code_only(source: &str) -> String {
    let (mut out, mut chars) = (String::with_capacity(source.len()), source.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// The first path segment after every `crate::` / `super::` (expanding one `{a, b::c}` group).
fn references(code: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    for (at, _) in code.match_indices(prefix) {
        if code[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && depth == 0 && (c.is_alphanumeric() || c == '_') => {
                        found.push(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.push(ident(rest));
        }
    }
    found.retain(|f| !f.is_empty() && f != "self");
    found
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, edges, state, stack) {
                        return Some(cycle);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node.as_str())
            && let Some(cycle) = visit(node, edges, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn server_modules_have_no_import_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut siblings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else { continue };
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        for target in references(&code, "crate::") {
            if modules.contains(&vec![target.clone()]) && target != module[0] {
                top.entry(module[0].clone()).or_default().insert(target);
            }
        }
        // `super::x` from `a/b.rs` (or `a/b/mod.rs`) is `a::x`, from `a.rs` (or `a/mod.rs`) it is `x`.
        for target in references(&code, "super::") {
            let mut path = module[..module.len() - 1].to_vec();
            path.push(target);
            if !modules.contains(&path) || path == module {
                continue;
            }
            if path[0] != module[0] {
                top.entry(module[0].clone()).or_default().insert(path[0].clone());
            } else if path.len() == module.len() {
                siblings.entry(module.join("::")).or_default().insert(path.join("::"));
            }
        }
    }
    for (from, to) in &top {
        for root in ROOTS {
            assert!(
                !to.contains(*root) || ROOTS.contains(&from.as_str()),
                "`{from}` imports `{root}`, the composition root: move what it needs out of `{root}`"
            );
        }
    }
    assert!(top.contains_key("mcp") && top["mcp"].contains("runtime"), "the scan found no imports: {top:?}");
    if let Some(cycle) = find_cycle(&top) {
        panic!("import cycle between top-level modules: {}", cycle.join(" -> "));
    }
    if let Some(cycle) = find_cycle(&siblings) {
        panic!("import cycle between sibling modules: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_scan_sees_grouped_and_nested_imports() {
    let code = code_only(
        "use super::{jsonrpc::{self, RpcError}, protocol};\n// use crate::nope;\nlet s = \"crate::nope\"; crate::host::x();",
    );
    assert_eq!(references(&code, "super::"), ["jsonrpc", "protocol"]);
    assert_eq!(references(&code, "crate::"), ["host"]);
    let mut edges = BTreeMap::new();
    edges.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    edges.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert!(find_cycle(&edges).is_some());
}
