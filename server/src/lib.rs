//! ide-agents-mcp: an MCP server whose every tool is a WebAssembly component run in a wasmtime
//! sandbox.
//!
//! Data path of one call (keep it this short):
//! stdin line (or HTTP POST body, [`mcp::http`]) -> [`mcp::jsonrpc::parse`] ->
//! [`mcp::McpServer::dispatch`] (the one router, both protocol eras) ->
//! registry lookup -> lazy load (AOT cache hit or compile, [`runtime`]) -> fresh store and
//! instance -> guest `call` -> host functions as needed ([`host`]) -> `CallToolResult` -> stdout
//! writer (batched flush), or the request's HTTP answer (JSON, or an SSE stream).
//!
//! Startup runs no guest code before serving: built-ins' descriptors are embedded, other
//! components' come from the descriptor cache, the rest are compiled (untrusted ones in a compiler
//! process, within a budget) and described in the background; see `docs/SECURITY.md`, "Hostile
//! components", for every budget a component is held to.
//!
//! Layers, each importing only those below it (checked by the `layering` integration test):
//!
//! - [`config`], [`serve`], [`check`] and [`watch`]: the composition root (flags, file, grants;
//!   building the server; checking a component for its author; reloading changed components)
//! - [`mcp`]: JSON-RPC/MCP protocol (both eras), the dispatcher, the call path, the stdio and
//!   Streamable HTTP transports
//! - [`runtime`]: engine, built-in components, registry, disk cache, limits, calls
//! - [`host`]: WIT host interfaces offered to tools, the per-call store state, tool policies
//! - [`caches`], [`telemetry`], [`bindings`], [`about`], [`wit_package`]: leaves (TTL caches;
//!   spans; generated bindings of `wit/`; names and versions; the WIT package as text, for `wit`)

pub mod about;
pub mod bindings;
pub mod caches;
pub mod check;
pub mod config;
pub mod embed_docs;
pub mod host;
pub mod mcp;
pub mod runtime;
pub mod serve;
pub mod telemetry;
pub mod watch;
pub mod wit_package;

pub use about::{SERVER_NAME, SERVER_VERSION};
pub use runtime::builtins;
pub use serve::serve;
