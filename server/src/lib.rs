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
//! - [`host`]: WIT host interfaces offered to tools (log, progress, facts, http, cache, config)
//! - [`caches`]: TTL caches (schema, resource, prompt) and the tools' cache
//! - [`telemetry`]: per-call spans, the batching writer, `stats`
//! - [`bindings`]: the generated host bindings of `wit/`
//! - [`config`]: configuration file, environment and command line

pub mod bindings;
pub mod caches;
pub mod config;
pub mod host;
pub mod mcp;
pub mod runtime;
pub mod telemetry;

/// Components compiled into the binary (built from `guest-tools/` by `build.rs`).
pub mod builtins {
    pub use crate::runtime::registry::Group;

    /// One built-in component.
    #[derive(Debug)]
    pub struct Builtin {
        /// Crate name of the component.
        pub name: &'static str,
        /// Which tool group it belongs to.
        pub group: Group,
        /// Hex SHA-256 of `bytes`, computed at build time.
        pub sha256: &'static str,
        /// The component.
        pub bytes: &'static [u8],
    }

    include!(concat!(env!("OUT_DIR"), "/builtins.rs"));
}

use std::sync::Arc;

/// The server's name in `serverInfo`.
pub const SERVER_NAME: &str = "ide-agents-mcp";
/// The server's version.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Discovers the tools and serves MCP over stdio until EOF or a termination signal; then flushes
/// telemetry.
pub async fn serve(settings: config::Settings) -> anyhow::Result<()> {
    use std::collections::{HashMap, HashSet};
    let started = std::time::Instant::now();
    let explicit_hosts: HashSet<String> =
        settings.tools.values().flat_map(|p| p.http_allow.explicit_hosts().map(str::to_owned)).collect();
    let services = Arc::new(host::HostServices {
        http: host::http::HttpClient::new(settings.http.clone(), explicit_hosts)?,
        guest_cache: caches::GuestCache::new(
            settings.caches.guest_max_bytes,
            settings.caches.guest_max_entry_bytes,
            settings.caches.guest_ttl,
        ),
    });
    let mut runtime_settings = settings.runtime.clone();
    runtime_settings.max_memory_limit = settings.max_memory_limit();
    runtime_settings.reuse_instances = settings.tools.values().any(|p| p.reuse_instance);
    let runtime = runtime::Runtime::new(runtime_settings, services)?;
    let sources = runtime::registry::sources(&settings.tools_dirs, settings.ultra)?;
    let registry = runtime.discover(sources).await;
    let built_in =
        |n: &str| config::ROOT_TOOLS.contains(&n) || config::GITHUB_TOOLS.contains(&n) || n == config::COMMAND_TOOL;
    for name in settings.tools.keys().filter(|n| registry.tool(n).is_none() && !built_in(n)) {
        tracing::warn!(tool = %name, "configuration names a tool that is not registered");
    }
    let telemetry = Arc::new(telemetry::Telemetry::start(&settings.telemetry));
    tracing::info!(
        tools = registry.tools().len(),
        components = registry.components().len(),
        config = ?settings.file,
        ms = started.elapsed().as_secs_f64() * 1e3,
        "serving MCP over stdio"
    );
    let parts = mcp::ServerParts {
        settings: settings.server.clone(),
        policies: settings.tools.into_iter().map(|(k, v)| (k, Arc::new(v))).collect::<HashMap<_, _>>(),
        telemetry: telemetry.clone(),
        caches: caches::HostCaches::new(&settings.caches),
        ultra: settings.ultra,
    };
    let server = Arc::new(mcp::McpServer::new(runtime, registry, parts));
    let served = mcp::stdio::serve(server).await;
    telemetry.shutdown();
    served
}
