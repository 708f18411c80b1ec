//! `ide-agents-mcp embed-docs FILE.wasm --wit DIR`: puts a component's WIT doc comments into the
//! component. Component toolchains (rustc's wasm-component-ld, ComponentizeJS, componentize-py)
//! drop doc comments; this writes them as `package-docs` custom sections (wit-component's package
//! metadata: a version byte, then JSON), the form `runtime::plain::Docs` reads, so the tools of a
//! plain typed component are described by their functions' comments. wit-parser reads the WIT
//! and writes the metadata (the format is its own); this module only places the sections.

use std::path::Path;

use anyhow::{Context, bail};
use wit_parser::{PackageMetadata, Resolve};

/// The custom section's name.
const SECTION: &str = "package-docs";

/// `component` with the doc comments of the WIT packages in `wit` (the directory's package and
/// its `deps/`, WASI's left out) as `package-docs` sections right after the header, replacing
/// any such top-level sections it had. Returns the new bytes and how many packages had docs.
pub fn embed(component: &[u8], wit: &Path) -> anyhow::Result<(Vec<u8>, usize)> {
    match component.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => bail!("this is a core module, not a component"),
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => {}
        _ => bail!("this is not a WebAssembly component"),
    }
    let mut resolve = Resolve::new();
    resolve.push_dir(wit).with_context(|| format!("cannot read the WIT in {}", wit.display()))?;
    let mut sections = Vec::new();
    let mut packages = 0;
    for (id, package) in resolve.packages.iter() {
        if package.name.namespace == "wasi" {
            continue;
        }
        let encoded = PackageMetadata::extract(&resolve, id).encode()?;
        // Only the package's name: it has no doc comments.
        let described: Option<serde_json::Map<String, serde_json::Value>> =
            encoded.get(1..).and_then(|json| serde_json::from_slice(json).ok());
        if described.is_none_or(|m| m.keys().all(|k| k == "package")) {
            continue;
        }
        custom_section(&mut sections, SECTION, &encoded);
        packages += 1;
    }
    let mut out = Vec::with_capacity(component.len() + sections.len());
    out.extend_from_slice(&component[..8]);
    out.extend_from_slice(&sections);
    let mut rest = &component[8..];
    while !rest.is_empty() {
        let (id, body, next) = section(rest).context("the component's sections do not parse")?;
        let is_old_docs = id == 0 && section_name(body).is_some_and(|name| name == SECTION.as_bytes());
        if !is_old_docs {
            out.extend_from_slice(&rest[..rest.len() - next.len()]);
        }
        rest = next;
    }
    Ok((out, packages))
}

/// Appends a custom section to `out`.
fn custom_section(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut body = Vec::new();
    leb128(&mut body, name.len());
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    out.push(0);
    leb128(out, body.len());
    out.extend_from_slice(&body);
}

fn leb128(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads an unsigned LEB128 (at most 32 bits, as section sizes are): value and the rest.
fn read_leb128(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut value = 0usize;
    for (i, byte) in bytes.iter().enumerate().take(5) {
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// One top-level section: its id, its body and the bytes after it.
fn section(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&id, rest) = bytes.split_first()?;
    let (size, rest) = read_leb128(rest)?;
    (rest.len() >= size).then(|| (id, &rest[..size], &rest[size..]))
}

/// A custom section's name.
fn section_name(body: &[u8]) -> Option<&[u8]> {
    let (len, rest) = read_leb128(body)?;
    rest.get(..len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::plain::Docs;

    #[test]
    fn docs_land_in_the_component_and_replace_earlier_ones() {
        let wit = tempfile::tempdir().unwrap();
        std::fs::write(
            wit.path().join("world.wit"),
            "package acme:geo;\ninterface shapes {\n  /// The area.\n  area: func(r: f64) -> f64;\n}\n\
             world geo {\n  export shapes;\n  /// Greets.\n  export greet: func(name: string) -> string;\n}\n",
        )
        .unwrap();
        let component = wat::parse_str("(component)").unwrap();
        let (once, packages) = embed(&component, wit.path()).unwrap();
        assert_eq!(packages, 1);
        let docs = Docs::read(&once);
        assert_eq!(docs.function(Some("shapes"), "area").as_deref(), Some("The area."));
        assert_eq!(docs.function(None, "greet").as_deref(), Some("Greets."));
        let (twice, _) = embed(&once, wit.path()).unwrap();
        assert_eq!(twice, once, "embedding again replaces the sections");
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all()).validate_all(&twice).unwrap();
        let core = wat::parse_str("(module)").unwrap();
        assert!(embed(&core, wit.path()).unwrap_err().to_string().contains("core module"));
    }
}
