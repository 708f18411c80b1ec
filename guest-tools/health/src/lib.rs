//! `ide_agents_health`: the server's health, read from the `host-facts` interface.
//!
//! Shipped inside the server binary. It proves the whole path (registry, lazy load, fresh instance,
//! host import, structured output) on every call, so it is also what the benchmarks measure.

wit_bindgen::generate!({ path: "../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::host_facts;
use ide_agents::tool::types::{Content, ToolAnnotations};
use serde::Serialize;
use serde_json::json;

const NAME: &str = "ide_agents_health";
/// Bytes reserved for the structured report: about 1 KB with the core tools, 2 KB with 30 tools.
const REPORT_CAPACITY: usize = 2048;

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
        let report = Report {
            status: "ok",
            server: &f.server_name,
            version: &f.server_version,
            runtime: &f.runtime_version,
            protocol_version: f.protocol_version.as_deref(),
            uptime_ms: f.uptime_ms,
            registered_tools: &f.registered_tools,
            loaded_tools: &f.loaded_tools,
            calls_served: f.calls_served,
            ultra: f.ultra,
            rss_bytes: f.rss_bytes,
            caches: f
                .caches
                .iter()
                .map(|c| {
                    let total = c.hits + c.misses;
                    CacheReport {
                        name: &c.name,
                        hits: c.hits,
                        misses: c.misses,
                        entries: c.entries,
                        hit_rate: (total > 0).then(|| c.hits as f64 / total as f64),
                    }
                })
                .collect(),
            telemetry: TelemetryReport {
                enabled: f.telemetry.enabled,
                queued: f.telemetry.queued,
                flushed: f.telemetry.flushed,
                dropped: f.telemetry.dropped,
                write_errors: f.telemetry.write_errors,
            },
            http: HttpReport {
                requests: f.http.requests,
                in_flight: f.http.in_flight,
                waits: f.http.waits,
                connections_opened: f.http.connections_opened,
            },
        };
        // Sized for a typical report up front: growing the buffer copies it through the guest's
        // allocator several times per call.
        let mut structured = Vec::with_capacity(REPORT_CAPACITY);
        serde_json::to_writer(&mut structured, &report).map_err(|e| ToolError::Failed(e.to_string()))?;
        let structured = String::from_utf8(structured).map_err(|e| ToolError::Failed(e.to_string()))?;
        // A one-line summary for the model; programs read the structured report.
        let summary = format!(
            "ok: {} {} (wasmtime {}), up {:.1} s, {} tools ({} loaded), {} calls served, RSS {:.1} MB{}",
            report.server,
            report.version,
            report.runtime,
            report.uptime_ms as f64 / 1000.0,
            report.registered_tools.len(),
            report.loaded_tools.len(),
            report.calls_served,
            report.rss_bytes as f64 / 1e6,
            if report.ultra { ", ULTRA on" } else { "" },
        );
        Ok(CallResult { content: vec![Content::Text(summary)], structured: Some(structured), is_error: false })
    }
}

/// The structured answer (serialised directly: no intermediate JSON tree).
#[derive(Serialize)]
struct Report<'a> {
    status: &'static str,
    server: &'a str,
    version: &'a str,
    runtime: &'a str,
    protocol_version: Option<&'a str>,
    uptime_ms: u64,
    registered_tools: &'a [String],
    loaded_tools: &'a [String],
    calls_served: u64,
    ultra: bool,
    rss_bytes: u64,
    caches: Vec<CacheReport<'a>>,
    telemetry: TelemetryReport,
    http: HttpReport,
}

#[derive(Serialize)]
struct CacheReport<'a> {
    name: &'a str,
    hits: u64,
    misses: u64,
    entries: u64,
    hit_rate: Option<f64>,
}

#[derive(Serialize)]
struct TelemetryReport {
    enabled: bool,
    queued: u64,
    flushed: u64,
    dropped: u64,
    write_errors: u64,
}

#[derive(Serialize)]
struct HttpReport {
    requests: u64,
    in_flight: u32,
    waits: u64,
    connections_opened: u64,
}

export!(Health);
