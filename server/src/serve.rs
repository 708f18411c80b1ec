//! `ide-agents-mcp serve`: composes the server from resolved [`Settings`] (host services,
//! runtime, registry, telemetry, caches) and serves MCP over stdio until EOF or a termination
//! signal, or over Streamable HTTP (`--http`) until a termination signal; then flushes telemetry. Components whose descriptors are not known yet are described
//! in the background while the server serves (at most one per core at a time). With `config`,
//! the composition root: no library module imports either.

use std::collections::HashSet;
use std::sync::Arc;

use crate::config::{DEFAULT_POLICY, Settings};
use crate::host::policy::PolicyBook;
use crate::{caches, host, mcp, runtime, telemetry};

/// Discovers the tools and serves MCP (stdio, or HTTP with `--http`) until EOF or a termination
/// signal; then flushes telemetry.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let runtime = build_runtime(&settings)?;
    let sources = runtime::registry::sources(&settings.tools_dirs, settings.ultra)?;
    let (registry, pending) = runtime.discover_known(sources);
    let telemetry = Arc::new(telemetry::Telemetry::start(&settings.telemetry));
    tracing::info!(
        tools = registry.tools().len(),
        components = registry.components().count(),
        describing = pending.len(),
        config = ?settings.file,
        ms = telemetry::ms(started.elapsed()),
        "serving MCP over {}",
        if settings.listen.is_some() { "Streamable HTTP" } else { "stdio" }
    );
    let configured: Vec<String> = settings.tools.keys().filter(|n| !DEFAULT_POLICY.names(n)).cloned().collect();
    let parts = mcp::ServerParts {
        settings: settings.server.clone(),
        policies: PolicyBook::new(settings.tools),
        telemetry: telemetry.clone(),
        caches: caches::HostCaches::new(&settings.caches),
        ultra: settings.ultra,
    };
    let listener = match &settings.listen {
        Some(listen) => Some(mcp::http::bind(listen).await?),
        None => None,
    };
    let server = Arc::new(mcp::McpServer::new(runtime, registry, parts));
    describe_in_background(&server, pending, configured);
    if settings.watch {
        crate::watch::spawn(server.clone(), settings.tools_dirs.clone());
    }
    let served = match (settings.listen, listener) {
        (Some(listen), Some(listener)) => mcp::http::serve(server, listen, listener).await,
        _ => mcp::stdio::serve(server).await,
    };
    telemetry.shutdown();
    served
}

/// The host services and the runtime that `settings` describe (shared by `serve` and `check`).
pub fn build_runtime(settings: &Settings) -> anyhow::Result<runtime::Runtime> {
    let explicit_hosts: HashSet<String> =
        settings.tools.values().flat_map(|p| p.http_allow.explicit_hosts().map(str::to_owned)).collect();
    let services = Arc::new(host::HostServices {
        http: host::http::HttpClient::new(settings.http.clone(), explicit_hosts)?,
        guest_cache: caches::GuestCache::new(
            settings.caches.guest_max_bytes,
            settings.caches.guest_max_bytes_per_component,
            settings.caches.guest_max_entry_bytes,
            settings.caches.guest_ttl,
        ),
        storage: host::storage::Storage::new(settings.runtime.cache_dir.as_ref().map(|d| d.join("storage"))),
    });
    let mut runtime_settings = settings.runtime.clone();
    runtime_settings.max_memory_limit = settings.max_memory_limit();
    runtime_settings.reuse_instances = settings.tools.values().any(|p| p.reuse_instance);
    runtime_settings.compiler_exe = std::env::current_exe()
        .inspect_err(|e| tracing::warn!("cannot find the server binary, compiling extensions in process: {e}"))
        .ok();
    runtime::Runtime::new(runtime_settings, services)
}

/// Describes `pending` components on background tasks (one per core at a time), adding each to
/// the server as it is ready; then warns about configured tools that no component registered.
fn describe_in_background(
    server: &Arc<mcp::McpServer>,
    pending: Vec<runtime::discover::Pending>,
    configured: Vec<String>,
) {
    server.discovery_started(pending.len());
    let server = server.clone();
    tokio::spawn(async move {
        let parallel = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let slots = Arc::new(tokio::sync::Semaphore::new(parallel));
        let mut tasks = tokio::task::JoinSet::new();
        for p in pending {
            let (server, slots) = (server.clone(), slots.clone());
            tasks.spawn(async move {
                let _slot = slots.acquire().await.expect("never closed");
                let order = p.order;
                let described = server.runtime().describe_pending(p).await;
                server.discovered(order, described);
            });
        }
        while tasks.join_next().await.is_some() {}
        let registry = server.registry();
        for name in configured.iter().filter(|n| registry.tool(n).is_none()) {
            tracing::warn!(tool = %name, "configuration names a tool that is not registered");
        }
    });
}
