//! The WIT bindings of world `ide-agents:tool/tool-with-offerings` (the `tool` world plus the
//! optional `offerings` export), generated here once for every tool crate.
//!
//! `types`, the host interfaces (`ide_agents::tool::{log, progress, host_facts, http, cache, config,
//! workspace}`), the `tools` export (`exports::ide_agents::tool::tools::Guest`) and the `offerings`
//! export (`exports::ide_agents::tool::offerings::Guest`; empty unless a component declares resources
//! or prompts) are all in this module; the crate root re-exports what a tool uses. The generated `export!` macro is public, so
//! a crate that implements `Guest` by hand can still call `ide_agents_tool::bindings::export!(MyGuest)`;
//! typed tools use [`export_tools!`](crate::export_tools) instead.
//!
//! On targets other than wasm32 wit-bindgen generates the same API with imports that cannot be
//! called (they panic), so tool crates build and run their unit tests natively as long as the code
//! under test stays off the host interfaces.

wit_bindgen::generate!({
    // Relative to this crate's directory: this repository's `wit/`.
    path: "../../wit",
    world: "tool-with-offerings",
    pub_export_macro: true,
    default_bindings_module: "ide_agents_tool::bindings",
    // So tests can compare results and descriptors.
    additional_derives: [PartialEq],
});
