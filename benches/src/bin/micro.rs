//! Micro benchmarks of the host services, each against the naive alternative it replaces:
//!
//! - pooled HTTP (keep-alive) vs a fresh connection per request, to a loopback server;
//! - schema cache hit vs miss (render the `Tool` object), resource cache hit vs miss (read the file);
//! - batched telemetry vs one open-append-write per span, and the hot-path cost of recording a span;
//! - the runtime and protocol (`micro_runtime.rs`): JSON-RPC parse and dispatch, descriptor cache,
//!   AOT load vs compile, pooling vs on-demand instantiation, fresh vs reused instance, parallel vs
//!   sequential calls.
//!
//! ```text
//! micro [--out bench-results] [--quick] [--guests guest-tools/target/wasm32-wasip2/release]
//!       [--health-wasm FILE]
//! ```
//!
//! `--health-wasm` measures the instantiation and guest-call rows with another build of the health
//! component instead of the embedded one (to compare builds in one sitting).
//!
//! A harness of our own rather than criterion or divan: every result is a pair (optimised,
//! baseline) whose ratio is the point, written as one JSON and one markdown table that the README
//! quotes; medians of 7 rounds are enough at these effect sizes.
//! Reports medians of several rounds and the ratios; writes `micro.json` and `micro.md`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ide_agents_mcp::bindings::ide_agents::tool::http::Request;
use ide_agents_mcp::caches::TtlCache;
use ide_agents_mcp::host::http::{AllowList, HttpClient, HttpSettings};
use ide_agents_mcp::runtime::spec::ToolSpec;
use ide_agents_mcp::telemetry::{Phases, Span, Telemetry, TelemetrySettings};
use serde_json::{Value, json};

#[path = "../micro_runtime.rs"]
mod runtime;

/// Rounds per measurement; the median is reported.
const ROUNDS: usize = 7;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Median over rounds of the mean time per iteration, in nanoseconds.
fn per_iter_ns(iters: usize, mut round: impl FnMut(usize) -> Duration) -> f64 {
    median((0..ROUNDS).map(|_| round(iters).as_nanos() as f64 / iters as f64).collect())
}

/// A keep-alive HTTP/1.1 server on loopback answering "ok" to every request.
fn http_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                let mut line = String::new();
                loop {
                    // Read one request head.
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => {}
                        }
                    }
                    if writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn span(tool: &Arc<str>) -> Span {
    Span {
        timestamp_ms: 1_764_000_000_000,
        tool_name: tool.clone(),
        method: "tools/call".into(),
        duration_ms: 0.123,
        success: true,
        error_code: None,
        phases: Phases::default(),
    }
}

fn health_spec() -> ToolSpec {
    ToolSpec {
        name: "ide_agents_health".into(),
        title: Some("Server health".into()),
        description: "Reports the server's version, uptime and state.".into(),
        input_schema: json!({"type": "object", "properties": {}, "additionalProperties": false}),
        output_schema: Some(json!({"type": "object", "properties": {
            "status": {"type": "string"}, "server": {"type": "string"}, "version": {"type": "string"},
            "uptime_ms": {"type": "integer"}, "registered_tools": {"type": "array", "items": {"type": "string"}},
            "loaded_tools": {"type": "array", "items": {"type": "string"}}, "calls_served": {"type": "integer"}},
            "required": ["status", "server", "version"]})),
        annotations: serde_json::Map::new(),
    }
}

fn main() {
    let mut out = PathBuf::from("bench-results");
    let mut quick = false;
    let mut guests: Option<PathBuf> = None;
    let mut health_wasm: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().expect("--out DIR").into(),
            "--quick" => quick = true,
            "--guests" => guests = Some(args.next().expect("--guests DIR").into()),
            "--health-wasm" => health_wasm = Some(args.next().expect("--health-wasm FILE").into()),
            _ => {
                eprintln!("usage: micro [--out DIR] [--quick] [--guests DIR] [--health-wasm FILE]");
                std::process::exit(2);
            }
        }
    }
    let scale = if quick { 10 } else { 1 };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut results = serde_json::Map::new();

    // HTTP: the same host client, with and without a connection pool.
    let addr = http_server();
    let mut allow = AllowList::default();
    allow.add(&format!("http://{addr}")).unwrap();
    let explicit: HashSet<String> = ["127.0.0.1".to_owned()].into();
    let pooled = HttpClient::new(HttpSettings::default(), explicit.clone()).unwrap();
    let fresh = HttpClient::new(HttpSettings { max_idle_per_host: 0, ..HttpSettings::default() }, explicit).unwrap();
    let request = || Request {
        method: "GET".into(),
        url: format!("http://{addr}/"),
        headers: vec![],
        body: None,
        timeout_ms: None,
    };
    let http = |client: &HttpClient, n: usize| {
        rt.block_on(async {
            let t = Instant::now();
            for _ in 0..n {
                let r = client.send(&allow, request()).await.expect("loopback request");
                assert_eq!(r.status, 200);
            }
            t.elapsed()
        })
    };
    let n = 2000 / scale;
    let pooled_ns = per_iter_ns(n, |n| http(&pooled, n));
    let fresh_ns = per_iter_ns(n, |n| http(&fresh, n));
    results.insert(
        "http".into(),
        json!({"pooled_us": pooled_ns / 1e3, "fresh_connection_us": fresh_ns / 1e3, "speedup": fresh_ns / pooled_ns}),
    );

    // Schema cache: hit = lookup; miss = render the Tool object and insert.
    let spec = health_spec();
    let schema: TtlCache<String, Arc<str>> = TtlCache::new("schema", Duration::from_secs(300), 10_000);
    let key = "schema:ide_agents_health".to_owned();
    schema.get_or_insert_with(&key, || spec.to_mcp().to_string().into());
    let n = 200_000 / scale;
    let hit_ns = per_iter_ns(n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(schema.get_or_insert_with(&key, || spec.to_mcp().to_string().into()));
        }
        t.elapsed()
    });
    let mut k = 0u64;
    let miss_ns = per_iter_ns(n / 10, |n| {
        let t = Instant::now();
        for _ in 0..n {
            k += 1;
            std::hint::black_box(
                schema.get_or_insert_with(&format!("schema:t{k}"), || spec.to_mcp().to_string().into()),
            );
        }
        t.elapsed()
    });
    results.insert("schema_cache".into(), json!({"hit_ns": hit_ns, "miss_ns": miss_ns, "speedup": miss_ns / hit_ns}));

    // Resource cache: a miss reads and parses the resource from disk.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.md");
    std::fs::write(&file, "# Notes\n".repeat(512)).unwrap();
    let load = || Arc::new(json!({"uri": "kb://notes", "text": std::fs::read_to_string(&file).unwrap()}));
    let resource: TtlCache<String, Arc<Value>> = TtlCache::new("resource", Duration::from_secs(60), 10_000);
    let rkey = "resource:notes".to_owned();
    resource.get_or_insert_with(&rkey, load);
    let hit_ns_r = per_iter_ns(n, |n| {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(resource.get_or_insert_with(&rkey, load));
        }
        t.elapsed()
    });
    let miss_ns_r = per_iter_ns(n / 20, |n| {
        let t = Instant::now();
        for _ in 0..n {
            k += 1;
            std::hint::black_box(resource.get_or_insert_with(&format!("resource:n{k}"), load));
        }
        t.elapsed()
    });
    results.insert(
        "resource_cache".into(),
        json!({"hit_ns": hit_ns_r, "miss_ns": miss_ns_r, "speedup": miss_ns_r / hit_ns_r}),
    );

    // Telemetry: the batcher (record + final flush) vs one write per span, on an open file and
    // with an open per span (how per-event logging is usually written).
    let n = 20_000 / scale;
    let tool: Arc<str> = Arc::from("ide_agents_health");
    let batched_ns = per_iter_ns(n, |n| {
        let path = dir.path().join("batched.jsonl");
        let _ = std::fs::remove_file(&path);
        let t = Instant::now();
        let tel = Telemetry::start(&TelemetrySettings { path, queue_capacity: n + 1, ..TelemetrySettings::default() });
        for _ in 0..n {
            tel.record(span(&tool));
        }
        tel.shutdown();
        t.elapsed()
    });
    let write_each_ns = per_iter_ns(n / 10, |n| {
        let path = dir.path().join("each.jsonl");
        let _ = std::fs::remove_file(&path);
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
        let t = Instant::now();
        for _ in 0..n {
            let mut line = serde_json::to_vec(&span(&tool)).unwrap();
            line.push(b'\n');
            f.write_all(&line).unwrap();
            f.flush().unwrap();
        }
        t.elapsed()
    });
    let single_ns = per_iter_ns(n / 10, |n| {
        let path = dir.path().join("single.jsonl");
        let _ = std::fs::remove_file(&path);
        let t = Instant::now();
        for _ in 0..n {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
            let mut line = serde_json::to_vec(&span(&tool)).unwrap();
            line.push(b'\n');
            f.write_all(&line).unwrap();
            f.flush().unwrap();
        }
        t.elapsed()
    });
    // Hot path: what a call pays (build the span, queue it); the writer runs on its own thread.
    let hot_ns = per_iter_ns(n, |n| {
        let path = dir.path().join("hot.jsonl");
        let tel = Telemetry::start(&TelemetrySettings { path, queue_capacity: n + 1, ..TelemetrySettings::default() });
        let t = Instant::now();
        for _ in 0..n {
            tel.record(span(&tool));
        }
        let elapsed = t.elapsed();
        tel.shutdown();
        elapsed
    });
    results.insert(
        "telemetry".into(),
        json!({"batched_us_per_span": batched_ns / 1e3, "open_and_write_per_span_us": single_ns / 1e3,
               "speedup": single_ns / batched_ns, "write_per_span_open_file_us": write_each_ns / 1e3,
               "speedup_vs_open_file": write_each_ns / batched_ns, "hot_path_ns_per_call": hot_ns}),
    );

    results.insert("runtime".into(), runtime::run(&rt, guests.as_deref(), health_wasm.as_deref(), scale));
    let report = Value::Object(results);
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("micro.json"), serde_json::to_string_pretty(&report).unwrap()).unwrap();
    let r = &report;
    let md = format!(
        "| benchmark | optimised | baseline | ratio (target) |\n|---|---|---|---|\n\
         | HTTP GET to loopback | pooled {:.1} µs | fresh connection {:.1} µs | {:.1}x (>= 2x) |\n\
         | schema cache lookup | hit {:.0} ns | miss (render) {:.0} ns | {:.1}x (>= 10x) |\n\
         | resource cache lookup | hit {:.0} ns | miss (read file) {:.0} ns | {:.1}x (>= 10x) |\n\
         | telemetry per span | batched {:.2} µs | open + write per span {:.2} µs | {:.1}x (>= 5x) |\n\
         | telemetry per span | batched {:.2} µs | write + flush per span, file kept open {:.2} µs | {:.1}x |\n\
         | telemetry on the call's hot path | {:.0} ns per call | | (<= 2000 ns) |\n\
         | descriptors at startup (one component) | cache hit {:.0} µs | compile + describe {:.0} µs | {:.0}x |\n\
         | component load on first call | AOT cache {:.0} µs | compile {:.0} µs | {:.0}x |\n\
         | instantiate + drop | pooling {:.1} µs | on demand {:.1} µs | {:.1}x |\n\
         | health guest call | reused instance {:.1} µs | fresh instance {:.1} µs | {:.1}x |\n\
         | JSON-RPC | tools/call parse + prepare {:.0} ns | ping parse + answer {:.0} ns | |\n",
        r["http"]["pooled_us"].as_f64().unwrap(),
        r["http"]["fresh_connection_us"].as_f64().unwrap(),
        r["http"]["speedup"].as_f64().unwrap(),
        r["schema_cache"]["hit_ns"].as_f64().unwrap(),
        r["schema_cache"]["miss_ns"].as_f64().unwrap(),
        r["schema_cache"]["speedup"].as_f64().unwrap(),
        r["resource_cache"]["hit_ns"].as_f64().unwrap(),
        r["resource_cache"]["miss_ns"].as_f64().unwrap(),
        r["resource_cache"]["speedup"].as_f64().unwrap(),
        r["telemetry"]["batched_us_per_span"].as_f64().unwrap(),
        r["telemetry"]["open_and_write_per_span_us"].as_f64().unwrap(),
        r["telemetry"]["speedup"].as_f64().unwrap(),
        r["telemetry"]["batched_us_per_span"].as_f64().unwrap(),
        r["telemetry"]["write_per_span_open_file_us"].as_f64().unwrap(),
        r["telemetry"]["speedup_vs_open_file"].as_f64().unwrap(),
        r["telemetry"]["hot_path_ns_per_call"].as_f64().unwrap(),
        r["runtime"]["descriptor_cache"]["hit_us"].as_f64().unwrap(),
        r["runtime"]["descriptor_cache"]["miss_compile_and_describe_us"].as_f64().unwrap(),
        r["runtime"]["descriptor_cache"]["speedup"].as_f64().unwrap(),
        r["runtime"]["component_load"]["aot_us"].as_f64().unwrap(),
        r["runtime"]["component_load"]["compile_us"].as_f64().unwrap(),
        r["runtime"]["component_load"]["speedup"].as_f64().unwrap(),
        r["runtime"]["instantiate"]["pooling_us"].as_f64().unwrap(),
        r["runtime"]["instantiate"]["on_demand_us"].as_f64().unwrap(),
        r["runtime"]["instantiate"]["speedup"].as_f64().unwrap(),
        r["runtime"]["guest_call"]["reused_instance_us"].as_f64().unwrap(),
        r["runtime"]["guest_call"]["fresh_instance_us"].as_f64().unwrap(),
        r["runtime"]["guest_call"]["speedup"].as_f64().unwrap(),
        r["runtime"]["jsonrpc"]["tools_call_parse_and_prepare_ns"].as_f64().unwrap(),
        r["runtime"]["jsonrpc"]["ping_parse_answer_serialise_ns"].as_f64().unwrap(),
    );
    let mut md = md;
    if let Some(p) = r["runtime"].get("parallel_calls") {
        md.push_str(&format!(
            "| 16 calls waiting 5 ms each (I/O-bound) | parallel {:.1} ms | sequential {:.1} ms | {:.1}x |\n\
             | 16 health calls (CPU-bound, 2 cores) | parallel {:.2} ms | sequential {:.2} ms | {:.1}x |\n",
            p["io_bound_parallel_ms"].as_f64().unwrap(),
            p["io_bound_sequential_ms"].as_f64().unwrap(),
            p["io_speedup"].as_f64().unwrap(),
            p["cpu_bound_parallel_ms"].as_f64().unwrap(),
            p["cpu_bound_sequential_ms"].as_f64().unwrap(),
            p["cpu_speedup"].as_f64().unwrap(),
        ));
    }
    md.push_str(
        "\n| ULTRA component | size | instantiate + drop | fresh instance + one small call |\n|---|---|---|---|\n",
    );
    for (name, c) in r["runtime"]["ultra_components"].as_object().unwrap() {
        md.push_str(&format!(
            "| `{name}` | {:.0} KB | {:.1} µs | {} |\n",
            c["bytes"].as_f64().unwrap() / 1e3,
            c["instantiate_us"].as_f64().unwrap(),
            c["fresh_instance_call_us"].as_f64().map_or("n/a (needs a workspace)".to_owned(), |us| format!(
                "{us:.1} µs (`{}`)",
                c["tool"].as_str().unwrap()
            )),
        ));
    }
    std::fs::write(out.join("micro.md"), &md).unwrap();
    eprintln!("{md}");
}
