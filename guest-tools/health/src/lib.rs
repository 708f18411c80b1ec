//! `ide_agents_health`: the server's health, read from the `host-facts` interface.
//!
//! Shipped inside the server binary. It proves the whole path (registry, lazy load, fresh instance,
//! host import, structured output) on every call, so it is also what the benchmarks measure.

wit_bindgen::generate!({ path: "../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::host_facts;
use ide_agents::tool::types::Content;
use ide_agents::tool::types::ToolAnnotations;
use serde_json::json;

const NAME: &str = "ide_agents_health";

struct Health;

impl Guest for Health {
    fn describe() -> Vec<ToolDescriptor> {
        vec![ToolDescriptor {
            name: NAME.into(),
            title: Some("Server health".into()),
            description: "Reports the server's version, uptime, protocol version, which tools are \
                          registered and loaded, cache hit rates, telemetry and HTTP pool counters and \
                          memory use. Takes no arguments."
                .into(),
            input_schema: json!({"type": "object", "properties": {}, "additionalProperties": false}).to_string(),
            output_schema: Some(
                json!({
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["ok"]},
                        "server": {"type": "string"},
                        "version": {"type": "string"},
                        "runtime": {"type": "string"},
                        "protocol_version": {"type": ["string", "null"]},
                        "uptime_ms": {"type": "integer", "minimum": 0},
                        "registered_tools": {"type": "array", "items": {"type": "string"}},
                        "loaded_tools": {"type": "array", "items": {"type": "string"}},
                        "calls_served": {"type": "integer", "minimum": 0},
                        "ultra": {"type": "boolean"},
                        "rss_bytes": {"type": "integer", "minimum": 0},
                        "caches": {"type": "array", "items": {"type": "object", "properties": {
                            "name": {"type": "string"}, "hits": {"type": "integer"},
                            "misses": {"type": "integer"}, "hit_rate": {"type": ["number", "null"]},
                            "entries": {"type": "integer"}}}},
                        "telemetry": {"type": "object", "properties": {
                            "enabled": {"type": "boolean"}, "queued": {"type": "integer"},
                            "flushed": {"type": "integer"}, "dropped": {"type": "integer"},
                            "write_errors": {"type": "integer"}}},
                        "http": {"type": "object", "properties": {
                            "requests": {"type": "integer"}, "in_flight": {"type": "integer"},
                            "waits": {"type": "integer"}, "connections_opened": {"type": "integer"}}}
                    },
                    "required": ["status", "server", "version", "runtime", "uptime_ms",
                                 "registered_tools", "loaded_tools", "calls_served"]
                })
                .to_string(),
            ),
            annotations: ToolAnnotations {
                read_only: Some(true),
                destructive: Some(false),
                idempotent: Some(true),
                open_world: Some(false),
            },
        }]
    }

    fn call(name: String, _arguments: String) -> Result<CallResult, ToolError> {
        if name != NAME {
            return Err(ToolError::UnknownTool(name));
        }
        let f = host_facts::get();
        let structured = json!({
            "status": "ok",
            "server": f.server_name,
            "version": f.server_version,
            "runtime": f.runtime_version,
            "protocol_version": f.protocol_version,
            "uptime_ms": f.uptime_ms,
            "registered_tools": f.registered_tools,
            "loaded_tools": f.loaded_tools,
            "calls_served": f.calls_served,
            "ultra": f.ultra,
            "rss_bytes": f.rss_bytes,
            "caches": f.caches.iter().map(|c| {
                let total = c.hits + c.misses;
                json!({"name": c.name, "hits": c.hits, "misses": c.misses, "entries": c.entries,
                       "hit_rate": (total > 0).then(|| c.hits as f64 / total as f64)})
            }).collect::<Vec<_>>(),
            "telemetry": {
                "enabled": f.telemetry.enabled, "queued": f.telemetry.queued, "flushed": f.telemetry.flushed,
                "dropped": f.telemetry.dropped, "write_errors": f.telemetry.write_errors,
            },
            "http": {
                "requests": f.http.requests, "in_flight": f.http.in_flight, "waits": f.http.waits,
                "connections_opened": f.http.connections_opened,
            },
        })
        .to_string();
        Ok(CallResult {
            content: vec![Content::Text(structured.clone())],
            structured: Some(structured),
            is_error: false,
        })
    }
}

export!(Health);
