//! What `/metrics` tells operators about the server (Prometheus text format): the per-tool calls,
//! errors and latency histograms the telemetry keeps, calls in flight, the host caches' hits and
//! misses, the outbound HTTP pool, and the span queue. The HTTP transport appends its own series
//! (sessions, authorization rejections).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::server::McpServer;
use crate::caches::HitCounters;

/// Reads one cache series from a cache's counters and entry count.
type CacheValue = fn(&HitCounters, u64) -> u64;

/// One metric's `# HELP` and `# TYPE` lines.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

impl McpServer {
    /// The server's metrics, Prometheus text format.
    pub fn metrics_text(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.telemetry.metrics.render(&mut out);
        let started = self.calls_served.load(Ordering::Relaxed);
        let in_flight = started.saturating_sub(self.telemetry.metrics.total());
        header(&mut out, "ide_agents_mcp_calls_in_flight", "gauge", "Tool calls running now.");
        let _ = writeln!(out, "ide_agents_mcp_calls_in_flight {in_flight}");
        let caches = &self.caches;
        let guest = &self.runtime.services().guest_cache;
        let all: [(&str, &HitCounters, u64); 4] = [
            (caches.schema.name, &caches.schema.counters, caches.schema.entries()),
            (caches.resource.name, &caches.resource.counters, caches.resource.entries()),
            (caches.prompt.name, &caches.prompt.counters, caches.prompt.entries()),
            ("guest", &guest.counters, guest.entries()),
        ];
        let series: [(&str, &str, &str, CacheValue); 3] = [
            ("ide_agents_mcp_cache_hits_total", "counter", "Cache lookups answered from the cache.", |c, _| {
                c.hits.load(Ordering::Relaxed)
            }),
            ("ide_agents_mcp_cache_misses_total", "counter", "Cache lookups that missed.", |c, _| {
                c.misses.load(Ordering::Relaxed)
            }),
            ("ide_agents_mcp_cache_entries", "gauge", "Entries in each cache.", |_, entries| entries),
        ];
        for (metric, kind, help, value) in series {
            header(&mut out, metric, kind, help);
            for (name, counters, entries) in &all {
                let _ = writeln!(out, "{metric}{{cache=\"{name}\"}} {}", value(counters, *entries));
            }
        }
        let http = &self.runtime.services().http;
        let pool = [
            (
                "ide_agents_mcp_outbound_http_requests_total",
                "counter",
                "Requests tools sent (each redirect hop).",
                http.stats.requests.load(Ordering::Relaxed),
            ),
            (
                "ide_agents_mcp_outbound_http_waits_total",
                "counter",
                "Tool requests that waited for a pool slot.",
                http.stats.waits.load(Ordering::Relaxed),
            ),
            (
                "ide_agents_mcp_outbound_http_connections_opened_total",
                "counter",
                "Connections the pool opened.",
                http.stats.connections_opened.load(Ordering::Relaxed),
            ),
            (
                "ide_agents_mcp_outbound_http_in_flight",
                "gauge",
                "Tool requests running now.",
                u64::from(http.in_flight()),
            ),
        ];
        for (name, kind, help, value) in pool {
            header(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
        let t = &self.telemetry.counters;
        header(&mut out, "ide_agents_mcp_spans_dropped_total", "counter", "Spans dropped on a full telemetry queue.");
        let _ = writeln!(out, "ide_agents_mcp_spans_dropped_total {}", t.dropped.load(Ordering::Relaxed));
        header(&mut out, "ide_agents_mcp_registered_tools", "gauge", "Tools registered.");
        let _ = writeln!(out, "ide_agents_mcp_registered_tools {}", self.registry().tools().len());
        out
    }
}
