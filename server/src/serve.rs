//! `ide-agents-mcp serve`: composes the server from resolved [`Settings`] (host services,
//! runtime, registry, telemetry, caches) and serves MCP over stdio until EOF or a termination
//! signal; then flushes telemetry. With `config`, the composition root: no library module
//! imports either.

use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::Arc;

use crate::config::{DEFAULT_POLICY, Settings};
use crate::{caches, host, mcp, runtime, telemetry};

/// Discovers the tools and serves MCP over stdio until EOF or a termination signal; then flushes
/// telemetry.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
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
    for name in settings.tools.keys().filter(|n| registry.tool(n).is_none() && !DEFAULT_POLICY.names(n)) {
        tracing::warn!(tool = %name, "configuration names a tool that is not registered");
    }
    let telemetry = Arc::new(telemetry::Telemetry::start(&settings.telemetry));
    tracing::info!(
        tools = registry.tools().len(),
        components = registry.components().len(),
        config = ?settings.file,
        ms = telemetry::ms(started.elapsed()),
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
