//! `ide-agents-mcp stats [FILE]`: per tool, the number of calls, the error rate, latency
//! percentiles and mean phase timings from a span file. Lines that are not spans are counted and
//! skipped.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use super::Span;

/// Summary of one tool's spans.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ToolStats {
    /// The tool.
    pub tool: String,
    /// Spans.
    pub count: u64,
    /// Fraction of spans that were not successful.
    pub error_rate: f64,
    /// Median duration, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Longest, ms.
    pub max_ms: f64,
    /// Mean queued time, ms.
    pub mean_queued_ms: f64,
    /// Mean load time, ms.
    pub mean_load_ms: f64,
    /// Mean instantiate time, ms.
    pub mean_instantiate_ms: f64,
    /// Mean execute time, ms.
    pub mean_execute_ms: f64,
    /// Mean host HTTP time, ms.
    pub mean_http_ms: f64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Per tool, by name.
    pub tools: Vec<ToolStats>,
    /// Lines that could not be read as spans.
    pub skipped_lines: u64,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarises spans.
pub fn summarise(spans: impl IntoIterator<Item = Span>, skipped_lines: u64) -> Report {
    let mut by_tool: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    for span in spans {
        by_tool.entry(span.tool_name.to_string()).or_default().push(span);
    }
    let tools = by_tool
        .into_iter()
        .map(|(tool, spans)| {
            let n = spans.len() as f64;
            let mut durations: Vec<f64> = spans.iter().map(|s| s.duration_ms).collect();
            durations.sort_by(f64::total_cmp);
            let mean = |f: fn(&Span) -> f64| spans.iter().map(f).sum::<f64>() / n;
            ToolStats {
                count: spans.len() as u64,
                error_rate: spans.iter().filter(|s| !s.success).count() as f64 / n,
                p50_ms: percentile(&durations, 50.0),
                p95_ms: percentile(&durations, 95.0),
                p99_ms: percentile(&durations, 99.0),
                max_ms: durations.last().copied().unwrap_or(0.0),
                mean_queued_ms: mean(|s| s.phases.queued_ms),
                mean_load_ms: mean(|s| s.phases.load_ms),
                mean_instantiate_ms: mean(|s| s.phases.instantiate_ms),
                mean_execute_ms: mean(|s| s.phases.execute_ms),
                mean_http_ms: mean(|s| s.phases.http_ms),
                tool,
            }
        })
        .collect();
    Report { tools, skipped_lines }
}

/// Reads and summarises a span file.
pub fn read(path: &Path) -> std::io::Result<Report> {
    let file = std::fs::File::open(path)?;
    let mut spans = Vec::new();
    let mut skipped = 0;
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Span>(&line) {
            Ok(span) => spans.push(span),
            Err(_) => skipped += 1,
        }
    }
    Ok(summarise(spans, skipped))
}

/// The report as a plain-text table.
pub fn table(report: &Report) -> String {
    let mut out = format!(
        "{:<28} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
        "tool", "calls", "err%", "p50 ms", "p95 ms", "p99 ms", "max ms", "queue", "load", "inst", "exec", "http"
    );
    for t in &report.tools {
        out.push_str(&format!(
            "{:<28} {:>8} {:>6.1}% {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}\n",
            t.tool,
            t.count,
            t.error_rate * 100.0,
            t.p50_ms,
            t.p95_ms,
            t.p99_ms,
            t.max_ms,
            t.mean_queued_ms,
            t.mean_load_ms,
            t.mean_instantiate_ms,
            t.mean_execute_ms,
            t.mean_http_ms
        ));
    }
    if report.skipped_lines > 0 {
        out.push_str(&format!("({} lines were not spans and were skipped)\n", report.skipped_lines));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::Phases;

    fn span(tool: &str, ms: f64, success: bool) -> Span {
        Span {
            timestamp_ms: 0,
            tool_name: tool.into(),
            method: "tools/call".into(),
            duration_ms: ms,
            success,
            error_code: (!success).then(|| "trap".into()),
            phases: Phases { execute_ms: ms / 2.0, ..Phases::default() },
        }
    }

    #[test]
    fn percentiles_error_rate_and_phases() {
        let mut spans: Vec<Span> = (1..=100).map(|i| span("a", i as f64, i % 10 != 0)).collect();
        spans.push(span("b", 5.0, true));
        let r = summarise(spans, 2);
        assert_eq!(r.tools.len(), 2);
        let a = &r.tools[0];
        assert_eq!((a.tool.as_str(), a.count), ("a", 100));
        assert_eq!((a.p50_ms, a.p95_ms, a.p99_ms, a.max_ms), (50.0, 95.0, 99.0, 100.0));
        assert!((a.error_rate - 0.1).abs() < 1e-9);
        assert!((a.mean_execute_ms - 25.25).abs() < 1e-9);
        assert_eq!(r.tools[1].p99_ms, 5.0);
        assert!(table(&r).contains("2 lines were not spans"));
    }
}
