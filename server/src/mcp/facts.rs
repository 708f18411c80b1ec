//! What the server tells tools about itself through `host-facts`: [`McpServer::facts`] (version,
//! uptime, tools, cache, telemetry and HTTP counters, RSS) and [`McpServer::catalog`] (tools,
//! resources and prompts). The RSS probe behind the facts is `rss.rs`.

use std::sync::atomic::Ordering;

use serde_json::Value;

use super::server::McpServer;
use super::session::Session;
use crate::bindings::ide_agents::tool::host_facts::{
    HttpStats, PromptArgument, PromptEntry, ResourceEntry, ServerCatalog, TelemetryStats, ToolEntry,
};
use crate::caches::HitCounters;
use crate::host::{CacheStats, Facts};

impl McpServer {
    /// The server's catalog, for `host-facts.catalog`.
    pub fn catalog(&self) -> ServerCatalog {
        let registry = self.registry();
        let tools = registry
            .tools()
            .iter()
            .map(|t| {
                let component = &t.component;
                ToolEntry {
                    name: t.spec.name.clone(),
                    title: t.spec.title.clone(),
                    description: t.spec.description.clone(),
                    group: component.source.group().as_str().into(),
                    loaded: component.is_loaded(),
                    component: component.source.label(),
                    input_schema: t.spec.input_schema.to_string(),
                    output_schema: t.spec.output_schema.as_ref().map(Value::to_string),
                }
            })
            .collect();
        let resources = self
            .offered_resources()
            .iter()
            .map(|d| ResourceEntry {
                uri: if d.template { super::resources::uri_template(d) } else { super::resources::uri(d) },
                name: d.name.clone(),
                description: d.description.clone(),
                mime_type: d.mime_type.clone(),
                template: d.template,
            })
            .collect();
        let prompts = self
            .offered_prompts()
            .iter()
            .map(|p| PromptEntry {
                name: p.name.clone(),
                description: p.description.clone(),
                arguments: p
                    .arguments
                    .iter()
                    .map(|a| PromptArgument {
                        name: a.name.clone(),
                        description: a.description.clone(),
                        required: a.required,
                    })
                    .collect(),
            })
            .collect();
        ServerCatalog { tools, resources, prompts }
    }

    /// The server's facts, for `host-facts.get`.
    pub fn facts(&self, session: &Session) -> Facts {
        let cache_stats = |name: &'static str, c: &HitCounters, entries: u64| CacheStats {
            name,
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            entries,
        };
        let registry = self.registry();
        let caches = &self.caches;
        let guest = &self.runtime.services().guest_cache;
        let http = &self.runtime.services().http;
        let t = &self.telemetry.counters;
        Facts {
            server_name: crate::about::SERVER_NAME,
            server_version: crate::about::SERVER_VERSION,
            runtime_version: crate::about::WASMTIME_VERSION,
            protocol_version: session.protocol_version(),
            uptime_ms: self.started.elapsed().as_millis() as u64,
            registered_tools: registry.tool_names(),
            loaded_tools: registry.loaded_tool_names(),
            calls_served: self.calls_served.load(Ordering::Relaxed),
            ultra: self.ultra,
            rss_bytes: self.rss.get(),
            caches: vec![
                cache_stats(caches.schema.name, &caches.schema.counters, caches.schema.entries()),
                cache_stats(caches.resource.name, &caches.resource.counters, caches.resource.entries()),
                cache_stats(caches.prompt.name, &caches.prompt.counters, caches.prompt.entries()),
                cache_stats("guest", &guest.counters, guest.entries()),
            ],
            telemetry: TelemetryStats {
                enabled: self.telemetry.enabled(),
                queued: t.queued.load(Ordering::Relaxed),
                flushed: t.flushed.load(Ordering::Relaxed),
                dropped: t.dropped.load(Ordering::Relaxed),
                write_errors: t.write_errors.load(Ordering::Relaxed),
            },
            http: HttpStats {
                requests: http.stats.requests.load(Ordering::Relaxed),
                in_flight: http.in_flight(),
                waits: http.stats.waits.load(Ordering::Relaxed),
                connections_opened: http.stats.connections_opened.load(Ordering::Relaxed),
            },
        }
    }
}
