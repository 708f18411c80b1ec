//! Per-tool call metrics for operators, kept from the spans every call records (so a call is
//! counted once, whatever ends it): calls, errors by code, and a latency histogram, rendered in
//! the Prometheus text format (0.0.4) by [`Metrics::render`]. Atomics under a read lock: the
//! call path takes no write lock once a tool has been seen.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use rustc_hash::FxHashMap;

use super::ErrorCode;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0];

/// Every [`ErrorCode`], in the order of [`ToolMetrics::errors`].
const CODES: [ErrorCode; 11] = [
    ErrorCode::Timeout,
    ErrorCode::MemoryLimit,
    ErrorCode::Trap,
    ErrorCode::LoadFailed,
    ErrorCode::InvalidArguments,
    ErrorCode::UnknownTool,
    ErrorCode::ToolError,
    ErrorCode::IsError,
    ErrorCode::InvalidOutput,
    ErrorCode::OutputTooLarge,
    ErrorCode::Cancelled,
];

/// One tool's counters.
#[derive(Default)]
struct ToolMetrics {
    calls: AtomicU64,
    errors: [AtomicU64; CODES.len()],
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
}

/// Calls by tool.
#[derive(Default)]
pub struct Metrics {
    /// Tool names are ours (registered tools), not attacker-chosen keys: the fast Fx hash.
    tools: RwLock<FxHashMap<Arc<str>, Arc<ToolMetrics>>>,
}

impl Metrics {
    /// Counts one finished call of `tool`.
    pub fn observe(&self, tool: &Arc<str>, duration_ms: f64, error: Option<&str>) {
        let found = self.tools.read().unwrap_or_else(|p| p.into_inner()).get(tool).cloned();
        let metrics = match found {
            Some(m) => m,
            None => self.tools.write().unwrap_or_else(|p| p.into_inner()).entry(tool.clone()).or_default().clone(),
        };
        metrics.calls.fetch_add(1, Ordering::Relaxed);
        if let Some(code) = error
            && let Some(i) = CODES.iter().position(|c| c.as_str() == code)
        {
            metrics.errors[i].fetch_add(1, Ordering::Relaxed);
        }
        let seconds = duration_ms / 1000.0;
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            metrics.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        metrics.sum_micros.fetch_add((duration_ms * 1000.0) as u64, Ordering::Relaxed);
    }

    /// Calls finished, all tools together.
    pub fn total(&self) -> u64 {
        self.tools.read().unwrap_or_else(|p| p.into_inner()).values().map(|m| m.calls.load(Ordering::Relaxed)).sum()
    }

    /// The calls, errors and latency histograms, Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let tools = self.tools.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<&Arc<str>> = tools.keys().collect();
        names.sort();
        out.push_str("# HELP ide_agents_mcp_calls_total Tool calls finished (tools/call, and the calls behind resources/read and prompts/get).\n");
        out.push_str("# TYPE ide_agents_mcp_calls_total counter\n");
        for name in &names {
            let _ = writeln!(
                out,
                "ide_agents_mcp_calls_total{{tool=\"{}\"}} {}",
                label(name),
                tools[*name].calls.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP ide_agents_mcp_call_errors_total Tool calls that failed, by error code.\n");
        out.push_str("# TYPE ide_agents_mcp_call_errors_total counter\n");
        for name in &names {
            for (code, count) in CODES.iter().zip(&tools[*name].errors) {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let _ = writeln!(
                        out,
                        "ide_agents_mcp_call_errors_total{{tool=\"{}\",code=\"{}\"}} {count}",
                        label(name),
                        code.as_str()
                    );
                }
            }
        }
        out.push_str("# HELP ide_agents_mcp_call_duration_seconds Tool call latency, from request to result.\n");
        out.push_str("# TYPE ide_agents_mcp_call_duration_seconds histogram\n");
        for name in &names {
            let m = &tools[*name];
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(&m.buckets) {
                cumulative += count.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "ide_agents_mcp_call_duration_seconds_bucket{{tool=\"{}\",le=\"{bound}\"}} {cumulative}",
                    label(name)
                );
            }
            let calls = m.calls.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "ide_agents_mcp_call_duration_seconds_bucket{{tool=\"{}\",le=\"+Inf\"}} {calls}",
                label(name)
            );
            let sum = m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "ide_agents_mcp_call_duration_seconds_sum{{tool=\"{}\"}} {sum}", label(name));
            let _ = writeln!(out, "ide_agents_mcp_call_duration_seconds_count{{tool=\"{}\"}} {calls}", label(name));
        }
    }
}

/// A label value escaped for the text format (backslash, quote, newline).
pub fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_errors_and_buckets_are_counted() {
        let metrics = Metrics::default();
        let echo: Arc<str> = "echo".into();
        metrics.observe(&echo, 0.3, None);
        metrics.observe(&echo, 40.0, Some("timeout"));
        metrics.observe(&"we\"ird".into(), 1.0, None);
        let mut out = String::new();
        metrics.render(&mut out);
        assert!(out.contains("ide_agents_mcp_calls_total{tool=\"echo\"} 2\n"), "{out}");
        assert!(out.contains("ide_agents_mcp_call_errors_total{tool=\"echo\",code=\"timeout\"} 1\n"), "{out}");
        assert!(out.contains("ide_agents_mcp_call_duration_seconds_bucket{tool=\"echo\",le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("ide_agents_mcp_call_duration_seconds_bucket{tool=\"echo\",le=\"0.05\"} 2\n"), "{out}");
        assert!(out.contains("ide_agents_mcp_call_duration_seconds_count{tool=\"echo\"} 2\n"), "{out}");
        assert!(out.contains("tool=\"we\\\"ird\""), "{out}");
    }
}
