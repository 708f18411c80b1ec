//! ide-agents-mcp: an MCP server whose every tool is a WebAssembly component run in a wasmtime
//! sandbox.
//!
//! Data path of one call (keep it this short):
//! stdin line -> [`mcp::jsonrpc::parse`] -> [`mcp::McpServer`] dispatch -> registry lookup ->
//! lazy load (AOT cache hit or compile, [`runtime`]) -> fresh store and instance -> guest `call`
//! -> host functions as needed ([`host`]) -> `CallToolResult` -> stdout writer (batched flush).
//!
//! - [`mcp`]: JSON-RPC/MCP protocol and the stdio transport
//! - [`runtime`]: engine, component registry, disk cache, limits, calls
//! - [`host`]: WIT host interfaces offered to tools
//! - [`bindings`]: the generated host bindings of `wit/`
//! - [`config`]: command line and environment

pub mod bindings;
pub mod config;
pub mod host;
pub mod mcp;
pub mod runtime;

/// Components compiled into the binary (built from `guest-tools/` by `build.rs`).
pub mod builtins {
    include!(concat!(env!("OUT_DIR"), "/builtins.rs"));
}

use std::sync::Arc;

/// The server's name in `serverInfo`.
pub const SERVER_NAME: &str = "ide-agents-mcp";
/// The server's version.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Discovers the tools and serves MCP over stdio until EOF or a termination signal.
pub async fn serve(args: config::ServeArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let runtime = runtime::Runtime::new(args.runtime_settings())?;
    let sources = runtime::registry::sources(&args.tools_dirs)?;
    let registry = runtime.discover(sources).await;
    tracing::info!(
        tools = registry.tools().len(),
        components = registry.components().len(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "serving MCP over stdio"
    );
    let server = Arc::new(mcp::McpServer::new(runtime, registry, args.server_settings()));
    mcp::stdio::serve(server).await
}
