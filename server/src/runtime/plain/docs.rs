//! Tool descriptions from WIT doc comments. A component binary has no place for doc comments of
//! its own: the tools that keep them (wit-component's package metadata, as `wasm-tools component
//! wit --wasm` writes it, or a docs-injection step as other WebAssembly MCP hosts use) store them
//! in a `package-docs` custom section, a version byte and then JSON. That is read here, wherever
//! it sits in the component (top level or inside a core module); rustc, ComponentizeJS and
//! componentize-py builds carry none, and their tools get a description made from the signature.

use serde_json::Value;
use wasmparser::{Parser, Payload};

/// Largest description taken from the docs, bytes (the registration cap is larger; a doc comment
/// longer than this is cut).
const MAX_DOC_BYTES: usize = 4 << 10;

/// The `package-docs` sections of one component.
#[derive(Default)]
pub struct Docs(Vec<Value>);

impl Docs {
    /// The docs sections in `bytes` (none if there are none or they do not parse).
    pub fn read(bytes: &[u8]) -> Self {
        let mut found = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload {
                Ok(Payload::CustomSection(section)) if section.name() == "package-docs" => {
                    if let [0 | 1, json @ ..] = section.data()
                        && let Ok(docs) = serde_json::from_slice::<Value>(json)
                    {
                        found.push(docs);
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        Self(found)
    }

    /// The doc comment of exported function `function`, of interface `interface` (its name
    /// without package and version) or of the world itself.
    pub fn function(&self, interface: Option<&str>, function: &str) -> Option<String> {
        self.0.iter().find_map(|package| {
            let docs = match interface {
                Some(interface) => {
                    let worlds = package.get("worlds").and_then(Value::as_object).into_iter().flat_map(|w| w.values());
                    let mut declared = std::iter::once(package.pointer(&format!("/interfaces/{interface}")))
                        .chain(worlds.flat_map(|world| {
                            [
                                world.pointer(&format!("/interface_exports/{interface}")),
                                world.pointer(&format!("/interfaces/{interface}")),
                            ]
                        }))
                        .flatten();
                    declared.find_map(|i| i.get("funcs")?.get(function).and_then(text))
                }
                None => package.get("worlds")?.as_object()?.values().find_map(|world| {
                    ["func_exports", "funcs"].iter().find_map(|key| world.get(key)?.get(function).and_then(text))
                }),
            }?;
            Some(crate::host::log::truncate(docs.trim(), MAX_DOC_BYTES).to_owned())
        })
    }
}

/// A function's docs: a string (format 0) or `{"docs": …}` (format 1).
fn text(entry: &Value) -> Option<&str> {
    entry.as_str().or_else(|| entry.get("docs")?.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_are_found_for_world_and_interface_functions() {
        let json = br#"{"worlds":{"plain":{"func_exports":{"greet":{"docs":"Greets."}}}},
                        "interfaces":{"geometry":{"funcs":{"area":"The area."}}}}"#;
        let mut section = vec![1];
        section.extend_from_slice(json);
        let mut module = wasm_encoder::Module::new();
        module.section(&wasm_encoder::CustomSection { name: "package-docs".into(), data: section.into() });
        let docs = Docs::read(&module.finish());
        assert_eq!(docs.function(None, "greet").as_deref(), Some("Greets."));
        assert_eq!(docs.function(Some("geometry"), "area").as_deref(), Some("The area."));
        assert_eq!(docs.function(Some("geometry"), "greet"), None);
        assert_eq!(Docs::read(b"not wasm").function(None, "greet"), None);
    }
}
