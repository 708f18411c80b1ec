//! Telemetry: one span per `tools/call` (timestamp, tool, method, duration, success, error code
//! and phase timings), queued without blocking and written as JSON lines by one writer thread in
//! batches (by size, by time, and at shutdown). `stats.rs` summarises a span file; `metrics.rs`
//! keeps per-tool counters and latency histograms from the same spans, for `/metrics`.
//!
//! - The hot path is `Telemetry::record`: a push onto a bounded in-memory queue under a briefly
//!   held lock. The writer is woken only when a batch is full (not once per span: a thread wake-up
//!   per call cost more than the rest of the span), or by its flush timer. A full queue drops the
//!   span and counts it; it never blocks a call.
//! - The writer appends to the file; a failed write is reported on stderr (once per streak of
//!   failures), counted, and serving goes on.
//! - Spans hold no arguments, results or secrets: only names, timings and outcome codes.

pub mod metrics;
pub mod stats;

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The span file's name (seed report) inside the user's state directory.
pub const SPAN_FILE_NAME: &str = "mcp_tool_spans.jsonl";

/// The default span file: `$XDG_STATE_HOME/ide-agents-mcp/mcp_tool_spans.jsonl`, else
/// `~/.local/state/ide-agents-mcp/...`; never inside the directory an IDE starts us in (that is a
/// user's project). Without `$HOME` either, `./logs/` as a last resort.
pub fn default_span_file() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".local/state")));
    match state {
        Some(dir) => dir.join("ide-agents-mcp").join(SPAN_FILE_NAME),
        None => PathBuf::from("logs").join(SPAN_FILE_NAME),
    }
}
/// Default spans per write (seed report).
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// Default longest wait before queued spans are written (seed report).
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(10);
/// Default queue bound: ~100 batches; at ~300 bytes a span, about 3 MB at worst.
pub const DEFAULT_QUEUE_CAPACITY: usize = 10_000;

/// Telemetry settings.
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    /// Write spans at all.
    pub enabled: bool,
    /// The JSONL file.
    pub path: PathBuf,
    /// Spans per write.
    pub batch_size: usize,
    /// Longest time a span waits in memory.
    pub flush_interval: Duration,
    /// Queue bound.
    pub queue_capacity: usize,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            path: default_span_file(),
            batch_size: DEFAULT_BATCH_SIZE,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
        }
    }
}

/// How a call's component was made ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LoadKind {
    /// Already loaded by an earlier call.
    #[default]
    Warm,
    /// Loaded from the AOT cache.
    Aot,
    /// Compiled now.
    Compile,
    /// Not loaded (the call failed before).
    None,
}

/// Phase timings of one call, milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Phases {
    /// Waiting for a call slot.
    pub queued_ms: f64,
    /// Loading the component (0 when warm).
    pub load_ms: f64,
    /// How it was loaded.
    pub load: LoadKind,
    /// Creating the instance.
    pub instantiate_ms: f64,
    /// Running the guest (host calls included).
    pub execute_ms: f64,
    /// Time spent in host HTTP requests.
    pub http_ms: f64,
}

/// Why a call did not succeed: the `error_code` of its span. The strings are the span file's
/// format (read back by `stats`), so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The wall-clock limit ran out.
    Timeout,
    /// The memory limit was hit.
    MemoryLimit,
    /// The guest trapped.
    Trap,
    /// The component could not be loaded.
    LoadFailed,
    /// The arguments were not a JSON object or did not match the input schema.
    InvalidArguments,
    /// The guest named a tool it does not have.
    UnknownTool,
    /// The guest reported a failure.
    ToolError,
    /// The guest returned an `isError` result.
    IsError,
    /// The guest's output broke the rules (schema, size of a structured result).
    InvalidOutput,
    /// The result was larger than the output limit.
    OutputTooLarge,
    /// The client cancelled the call (or the server shut down).
    Cancelled,
}

impl ErrorCode {
    /// The code as written to the span file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::MemoryLimit => "memory_limit",
            Self::Trap => "trap",
            Self::LoadFailed => "load_failed",
            Self::InvalidArguments => "invalid_arguments",
            Self::UnknownTool => "unknown_tool",
            Self::ToolError => "tool_error",
            Self::IsError => "is_error",
            Self::InvalidOutput => "invalid_output",
            Self::OutputTooLarge => "output_too_large",
            Self::Cancelled => "cancelled",
        }
    }
}

impl From<ErrorCode> for Cow<'static, str> {
    fn from(code: ErrorCode) -> Self {
        Cow::Borrowed(code.as_str())
    }
}

/// One span, as written to the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Span {
    /// Unix time the call started, milliseconds.
    pub timestamp_ms: u64,
    /// The tool (or resource/prompt) name.
    pub tool_name: Arc<str>,
    /// The MCP method, e.g. `tools/call`.
    pub method: Cow<'static, str>,
    /// Whole call, milliseconds.
    pub duration_ms: f64,
    /// Whether the call produced a non-error result.
    pub success: bool,
    /// Why not: an [`ErrorCode`] (kept as text, so files from other versions still read).
    pub error_code: Option<Cow<'static, str>>,
    /// Phase timings.
    pub phases: Phases,
}

/// Milliseconds of `d` as f64, rounded to microseconds.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Unix milliseconds now.
pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Counters of the batcher.
#[derive(Debug, Default)]
pub struct Counters {
    /// Spans in the queue.
    pub queued: AtomicU64,
    /// Spans written.
    pub flushed: AtomicU64,
    /// Spans dropped on a full queue.
    pub dropped: AtomicU64,
    /// Spans lost to failed writes.
    pub write_errors: AtomicU64,
}

/// The queue between calls and the writer.
struct Queue {
    spans: Mutex<Vec<Span>>,
    /// Signalled when a batch is full or on stop.
    ready: Condvar,
    stop: AtomicBool,
    capacity: usize,
    batch_size: usize,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Vec<Span>> {
        self.spans.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Handle to the batcher.
pub struct Telemetry {
    queue: Option<Arc<Queue>>,
    /// The batcher's counters.
    pub counters: Arc<Counters>,
    /// Calls by tool (kept also when the span file is off).
    pub metrics: metrics::Metrics,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Telemetry {
    /// Starts the writer thread (or a disabled handle).
    pub fn start(settings: &TelemetrySettings) -> Self {
        let counters = Arc::new(Counters::default());
        if !settings.enabled {
            return Self { queue: None, counters, metrics: metrics::Metrics::default(), writer: Mutex::new(None) };
        }
        let queue = Arc::new(Queue {
            spans: Mutex::new(Vec::with_capacity(settings.batch_size.min(settings.queue_capacity))),
            ready: Condvar::new(),
            stop: AtomicBool::new(false),
            capacity: settings.queue_capacity,
            batch_size: settings.batch_size,
        });
        let writer = Writer { settings: settings.clone(), counters: counters.clone(), file: None, failing: false };
        let shared = queue.clone();
        let handle = std::thread::Builder::new()
            .name("telemetry-writer".into())
            .spawn(move || writer.run(&shared))
            .map_err(|e| tracing::error!("cannot start the telemetry writer, spans are disabled: {e}"))
            .ok();
        Self {
            queue: handle.as_ref().map(|_| queue),
            counters,
            metrics: metrics::Metrics::default(),
            writer: Mutex::new(handle),
        }
    }

    /// Whether spans are written.
    pub fn enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Queues a span. Never blocks on I/O: on a full queue the span is dropped and counted.
    pub fn record(&self, span: Span) {
        self.metrics.observe(&span.tool_name, span.duration_ms, span.error_code.as_deref());
        let Some(queue) = &self.queue else { return };
        let mut spans = queue.lock();
        if spans.len() >= queue.capacity || queue.stop.load(Ordering::Relaxed) {
            drop(spans);
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        spans.push(span);
        let full = spans.len() == queue.batch_size;
        drop(spans);
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        if full {
            queue.ready.notify_one();
        }
    }

    /// Writes everything queued and stops the writer. Later spans are dropped.
    pub fn shutdown(&self) {
        if let Some(queue) = &self.queue {
            queue.stop.store(true, Ordering::Relaxed);
            let _guard = queue.lock();
            queue.ready.notify_one();
        }
        if let Some(handle) = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = handle.join();
        }
        let dropped = self.counters.dropped.load(Ordering::Relaxed);
        let lost = self.counters.write_errors.load(Ordering::Relaxed);
        if dropped > 0 || lost > 0 {
            tracing::warn!(dropped, lost_to_write_errors = lost, "telemetry spans were not all written");
        }
    }
}

struct Writer {
    settings: TelemetrySettings,
    counters: Arc<Counters>,
    file: Option<std::fs::File>,
    failing: bool,
}

impl Writer {
    fn run(mut self, queue: &Queue) {
        let mut batch: Vec<Span> = Vec::with_capacity(self.settings.batch_size);
        loop {
            // Wake when a batch is full, on stop, or when the interval is up (a span waits at
            // most one interval).
            let deadline = Instant::now() + self.settings.flush_interval;
            let stopping = {
                let mut spans = queue.lock();
                let stopping = loop {
                    if queue.stop.load(Ordering::Relaxed) {
                        break true;
                    }
                    let now = Instant::now();
                    if spans.len() >= self.settings.batch_size || now >= deadline {
                        break false;
                    }
                    spans = queue.ready.wait_timeout(spans, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
                };
                std::mem::swap(&mut batch, &mut spans);
                stopping
            };
            self.counters.queued.fetch_sub(batch.len() as u64, Ordering::Relaxed);
            self.write(&mut batch);
            if stopping {
                // Anything that raced the stop flag.
                let mut rest = std::mem::take(&mut *queue.lock());
                self.counters.queued.fetch_sub(rest.len() as u64, Ordering::Relaxed);
                self.write(&mut rest);
                return;
            }
        }
    }

    fn write(&mut self, batch: &mut Vec<Span>) {
        if batch.is_empty() {
            return;
        }
        let mut buf = Vec::with_capacity(batch.len() * 320);
        for span in batch.iter() {
            if serde_json::to_writer(&mut buf, span).is_ok() {
                buf.push(b'\n');
            }
        }
        let n = batch.len() as u64;
        batch.clear();
        match self.append(&buf) {
            Ok(()) => {
                self.counters.flushed.fetch_add(n, Ordering::Relaxed);
                if self.failing {
                    tracing::info!(path = %self.settings.path.display(), "telemetry writes work again");
                    self.failing = false;
                }
            }
            Err(e) => {
                self.counters.write_errors.fetch_add(n, Ordering::Relaxed);
                self.file = None;
                if !self.failing {
                    tracing::error!(path = %self.settings.path.display(), "cannot write telemetry spans ({e}); serving continues");
                    self.failing = true;
                }
            }
        }
    }

    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() {
            if let Some(dir) = self.settings.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            self.file = Some(std::fs::OpenOptions::new().create(true).append(true).open(&self.settings.path)?);
        }
        let file = self.file.as_mut().expect("opened above");
        file.write_all(bytes)?;
        file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(i: usize) -> Span {
        Span {
            timestamp_ms: 1,
            tool_name: format!("t{i}").into(),
            method: "tools/call".into(),
            duration_ms: 1.0,
            success: true,
            error_code: None,
            phases: Phases::default(),
        }
    }

    fn lines(path: &std::path::Path) -> usize {
        std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
    }

    fn wait_for(mut cond: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn flushes_by_size_by_time_and_at_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/spans.jsonl");
        let settings = TelemetrySettings {
            path: path.clone(),
            batch_size: 10,
            flush_interval: Duration::from_millis(200),
            ..TelemetrySettings::default()
        };
        let t = Telemetry::start(&settings);
        // Size: 10 spans make a batch at once (long before the interval).
        (0..10).for_each(|i| t.record(span(i)));
        assert!(wait_for(|| lines(&path) == 10), "size trigger");
        // Time: 3 spans are written once the interval has passed.
        (0..3).for_each(|i| t.record(span(i)));
        assert!(wait_for(|| lines(&path) == 13), "time trigger");
        // Shutdown: the rest is written before `shutdown` returns.
        let long = TelemetrySettings { flush_interval: Duration::from_secs(3600), ..settings };
        let t2 = Telemetry::start(&long);
        (0..7).for_each(|i| t2.record(span(i)));
        t2.shutdown();
        assert_eq!(lines(&path), 20);
        t.shutdown();
        assert_eq!(t.counters.flushed.load(Ordering::Relaxed), 13);
        let first: Span =
            serde_json::from_str(std::fs::read_to_string(&path).unwrap().lines().next().unwrap()).unwrap();
        assert_eq!(&*first.tool_name, "t0");
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let settings = TelemetrySettings {
            path: dir.path().join("s.jsonl"),
            queue_capacity: 1,
            batch_size: 1_000_000,
            ..TelemetrySettings::default()
        };
        let t = Telemetry::start(&settings);
        (0..10_000).for_each(|i| t.record(span(i)));
        t.shutdown();
        let c = &t.counters;
        let (flushed, dropped) = (c.flushed.load(Ordering::Relaxed), c.dropped.load(Ordering::Relaxed));
        assert_eq!(flushed + dropped, 10_000);
        assert!(dropped > 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn write_failures_are_counted_not_fatal() {
        let settings = TelemetrySettings { path: "/dev/full".into(), batch_size: 1, ..TelemetrySettings::default() };
        let t = Telemetry::start(&settings);
        (0..5).for_each(|i| t.record(span(i)));
        t.shutdown();
        assert_eq!(t.counters.write_errors.load(Ordering::Relaxed), 5);
    }
}
