//! `ide_agents_health`: the server's health, read from the `host-facts` interface.
//!
//! Shipped inside the server binary. It proves the whole path (registry, lazy load, fresh instance,
//! host import, structured output) on every call, so it is also what the benchmarks measure.

use ide_agents_tool::host_facts::{self, Facts};
use ide_agents_tool::{Annotations, Error, NoArgs, Reply, Schemas, Tool};
use schemars::JsonSchema;
use serde::Serialize;

struct Health;

impl Tool for Health {
    const NAME: &'static str = "ide_agents_health";
    const TITLE: Option<&'static str> = Some("Server health");
    const DESCRIPTION: &'static str = "Reports the server's version, uptime, protocol version, which tools are \
                                       registered and loaded, cache hit rates, telemetry and HTTP pool counters \
                                       and memory use. Takes no arguments.";
    const ANNOTATIONS: Annotations =
        Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);
    type Args = NoArgs;
    type Output = Report;
    // Kept, not derived in `describe`: health compiles on an empty cache's first call, and
    // leaving the schema generation out makes the component ~35% smaller (test below keeps them
    // current).
    const SCHEMAS: Option<Schemas> = Some(Schemas {
        input: include_str!("../schemas/ide_agents_health.input.json"),
        output: include_str!("../schemas/ide_agents_health.output.json"),
    });

    fn call(_: NoArgs) -> Result<Reply<Report>, Error> {
        let report = Report::from(host_facts::get());
        let summary = report.summary();
        Ok(Reply::new(report).text(summary))
    }
}

ide_agents_tool::export_tools!(Health);

/// The structured answer.
#[derive(Debug, Serialize, JsonSchema)]
struct Report {
    status: Status,
    /// The server's name.
    server: String,
    /// Its version (semver).
    version: String,
    /// The wasmtime version it embeds.
    runtime: String,
    /// The MCP protocol version negotiated with the client, if initialised.
    protocol_version: Option<String>,
    /// Milliseconds since the server started.
    uptime_ms: u64,
    /// Every registered tool, sorted.
    registered_tools: Vec<String>,
    /// The tools whose component is compiled and ready, sorted.
    loaded_tools: Vec<String>,
    /// `tools/call` requests served, this one included.
    calls_served: u64,
    /// Whether the ULTRA tools are enabled.
    ultra: bool,
    /// Resident memory, bytes.
    rss_bytes: u64,
    /// The host caches.
    caches: Vec<CacheReport>,
    telemetry: TelemetryReport,
    http: HttpReport,
}

/// Always `ok`: a server that answers is healthy.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
}

#[derive(Debug, Serialize, JsonSchema)]
struct CacheReport {
    /// `schema`, `resource`, `prompt` or `guest`.
    name: String,
    hits: u64,
    misses: u64,
    entries: u64,
    /// hits / (hits + misses); null before the first lookup.
    hit_rate: Option<f64>,
}

/// Telemetry counters (spans).
#[derive(Debug, Serialize, JsonSchema)]
struct TelemetryReport {
    enabled: bool,
    queued: u64,
    flushed: u64,
    dropped: u64,
    write_errors: u64,
}

/// Use of the shared outbound HTTP client.
#[derive(Debug, Serialize, JsonSchema)]
struct HttpReport {
    requests: u64,
    in_flight: u32,
    waits: u64,
    connections_opened: u64,
}

impl From<Facts> for Report {
    fn from(f: Facts) -> Self {
        Self {
            status: Status::Ok,
            server: f.server_name,
            version: f.server_version,
            runtime: f.runtime_version,
            protocol_version: f.protocol_version,
            uptime_ms: f.uptime_ms,
            registered_tools: f.registered_tools,
            loaded_tools: f.loaded_tools,
            calls_served: f.calls_served,
            ultra: f.ultra,
            rss_bytes: f.rss_bytes,
            caches: f
                .caches
                .into_iter()
                .map(|c| {
                    let total = c.hits + c.misses;
                    CacheReport {
                        hit_rate: (total > 0).then(|| c.hits as f64 / total as f64),
                        name: c.name,
                        hits: c.hits,
                        misses: c.misses,
                        entries: c.entries,
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
        }
    }
}

impl Report {
    /// A one-line summary for the model; programs read the structured report.
    fn summary(&self) -> String {
        format!(
            "ok: {} {} (wasmtime {}), up {:.1} s, {} tools ({} loaded), {} calls served, RSS {:.1} MB{}",
            self.server,
            self.version,
            self.runtime,
            self.uptime_ms as f64 / 1000.0,
            self.registered_tools.len(),
            self.loaded_tools.len(),
            self.calls_served,
            self.rss_bytes as f64 / 1e6,
            if self.ultra { ", ULTRA on" } else { "" },
        )
    }
}

#[cfg(test)]
mod tests {
    use ide_agents_tool::host_facts::{CacheStats, HttpStats, TelemetryStats};

    use super::*;

    #[test]
    fn the_kept_schemas_are_what_the_types_derive() {
        ide_agents_tool::schemas_are_current::<Health>(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas"),
        );
    }

    #[test]
    fn the_report_summarises_the_facts() {
        let facts = Facts {
            server_name: "ide-agents-mcp".into(),
            server_version: "0.1.0".into(),
            runtime_version: "48.0.11".into(),
            protocol_version: None,
            uptime_ms: 2500,
            registered_tools: vec!["a".into(), "b".into()],
            loaded_tools: vec!["a".into()],
            calls_served: 3,
            ultra: true,
            rss_bytes: 15_000_000,
            caches: vec![
                CacheStats { name: "schema".into(), hits: 3, misses: 1, entries: 2 },
                CacheStats { name: "prompt".into(), hits: 0, misses: 0, entries: 0 },
            ],
            telemetry: TelemetryStats { enabled: false, queued: 0, flushed: 0, dropped: 0, write_errors: 0 },
            http: HttpStats { requests: 0, in_flight: 0, waits: 0, connections_opened: 0 },
        };
        let report = Report::from(facts);
        assert_eq!(
            report.summary(),
            "ok: ide-agents-mcp 0.1.0 (wasmtime 48.0.11), up 2.5 s, 2 tools (1 loaded), 3 calls served, RSS 15.0 MB, ULTRA on"
        );
        assert_eq!((report.caches[0].hit_rate, report.caches[1].hit_rate), (Some(0.75), None));
    }

    #[test]
    fn the_output_schema_is_the_report() {
        let descriptor = ide_agents_tool::descriptor::<Health>();
        let schema: serde_json::Value = serde_json::from_str(descriptor.output_schema.as_deref().unwrap()).unwrap();
        assert_eq!(schema["properties"]["status"]["enum"], serde_json::json!(["ok"]));
        assert_eq!(schema["properties"]["protocol_version"]["type"], serde_json::json!(["string", "null"]));
        assert_eq!(schema["required"].as_array().unwrap().len(), 14);
    }
}
