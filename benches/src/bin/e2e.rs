//! End-to-end benchmark of the release server over stdio, the way an IDE uses it.
//!
//! ```text
//! e2e --server target/release/ide-agents-mcp [--out bench-results] [--requests 50000]
//!     [--concurrency 1,16,64] [--spawns 20] [--floor target/release/floor]
//! ```
//!
//! Reports spawn-to-initialize (warm cache), idle RSS, the first call of a lazily loaded tool with
//! a warm AOT cache, and for `ide_agents_health` at each concurrency: calls/s, p50/p95/p99 latency
//! and server CPU per call (from /proc). With `--floor`, the same load at 16 in flight against a
//! minimal serde_json line loop, and our ratios to it. Writes `e2e.json` and `e2e.md`.
//! Every request loop is bounded in count and time.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Give up on any single run after this long.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

struct Opts {
    server: PathBuf,
    out: PathBuf,
    requests: usize,
    concurrency: Vec<usize>,
    spawns: usize,
    floor: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!("usage: e2e --server PATH [--out DIR] [--requests N] [--concurrency 1,16,64] [--spawns N]");
    std::process::exit(2)
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        server: PathBuf::new(),
        out: "bench-results".into(),
        requests: 50_000,
        concurrency: vec![1, 16, 64],
        spawns: 20,
        floor: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--server" => o.server = value().into(),
            "--out" => o.out = value().into(),
            "--requests" => o.requests = value().parse().unwrap_or_else(|_| usage()),
            "--concurrency" => {
                o.concurrency = value().split(',').map(|c| c.parse().unwrap_or_else(|_| usage())).collect();
            }
            "--spawns" => o.spawns = value().parse().unwrap_or_else(|_| usage()),
            "--floor" => o.floor = Some(value().into()),
            _ => usage(),
        }
    }
    if o.server.as_os_str().is_empty() || o.concurrency.contains(&0) || o.spawns == 0 {
        usage()
    }
    o
}

/// A server process and its pipes.
struct Server {
    child: Child,
    input: BufWriter<ChildStdin>,
    output: BufReader<ChildStdout>,
    line: String,
}

impl Server {
    fn spawn(bin: &Path, cache: &Path) -> Self {
        let mut child = Command::new(bin)
            .args(["serve", "--cache-dir"])
            .arg(cache)
            .arg("--telemetry")
            .arg(cache.join("spans.jsonl"))
            .env("IDE_AGENTS_MCP_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let input = BufWriter::new(child.stdin.take().unwrap());
        let output = BufReader::new(child.stdout.take().unwrap());
        Self { child, input, output, line: String::new() }
    }

    fn send(&mut self, message: &Value) {
        serde_json::to_writer(&mut self.input, message).unwrap();
        self.input.write_all(b"\n").unwrap();
    }

    fn flush(&mut self) {
        self.input.flush().unwrap();
    }

    fn recv(&mut self) -> Value {
        self.line.clear();
        let n = self.output.read_line(&mut self.line).unwrap();
        assert!(n > 0, "server closed stdout");
        serde_json::from_str(&self.line).unwrap_or_else(|e| panic!("bad line ({e}): {}", self.line))
    }

    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.flush();
        loop {
            let message = self.recv();
            if message["id"] == id {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
        }
    }

    fn initialize(&mut self) {
        self.request(
            0,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                                            "clientInfo": {"name": "e2e", "version": "0"}}),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn close(mut self) {
        drop(self.input);
        let _ = self.child.wait();
    }
}

/// VmRSS and VmHWM of a process, KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU time of a process.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // Linux reports in USER_HZ, 100 on every mainstream configuration.
    Duration::from_millis(ticks * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Keeps `concurrency` calls of `tool` in flight until `requests` are answered.
fn throughput(server: &mut Server, tool: &str, requests: usize, concurrency: usize) -> Value {
    let warmup = (requests / 10).min(2_000);
    let total = requests + warmup;
    let mut sent_at = vec![Instant::now(); total];
    let mut latencies = Vec::with_capacity(requests);
    let (mut sent, mut done) = (0, 0);
    let deadline = Instant::now() + RUN_DEADLINE;
    let (mut started, mut cpu_start) = (Instant::now(), Duration::ZERO);
    while done < total {
        assert!(Instant::now() < deadline, "throughput run exceeded {RUN_DEADLINE:?}");
        while sent < total && sent - done < concurrency {
            sent_at[sent] = Instant::now();
            server.send(&json!({"jsonrpc": "2.0", "id": sent + 1, "method": "tools/call",
                                "params": {"name": tool, "arguments": {}}}));
            sent += 1;
        }
        server.flush();
        let response = server.recv();
        let Some(id) = response["id"].as_u64() else { continue };
        assert_eq!(response["result"]["isError"], false, "call failed: {response}");
        done += 1;
        if done == warmup {
            started = Instant::now();
            cpu_start = cpu_time(server.pid());
        }
        if id as usize > warmup {
            latencies.push(sent_at[id as usize - 1].elapsed());
        }
    }
    let elapsed = started.elapsed();
    let cpu = cpu_time(server.pid()) - cpu_start;
    latencies.sort();
    json!({
        "tool": tool,
        "concurrency": concurrency,
        "requests": requests,
        "calls_per_s": (requests as f64 / elapsed.as_secs_f64()).round(),
        "p50_ms": ms(percentile(&latencies, 50.0)),
        "p95_ms": ms(percentile(&latencies, 95.0)),
        "p99_ms": ms(percentile(&latencies, 99.0)),
        "max_ms": ms(*latencies.last().unwrap_or(&Duration::ZERO)),
        "server_cpu_us_per_call": ((cpu.as_secs_f64() * 1e6 / requests as f64) * 10.0).round() / 10.0,
    })
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let opts = parse_opts();
    let cache = tempfile::tempdir().expect("temp cache dir");

    // Warm the descriptor and AOT caches once; every measurement below runs warm.
    let mut warm = Server::spawn(&opts.server, cache.path());
    warm.initialize();
    warm.request(1, "tools/call", json!({"name": "ide_agents_health", "arguments": {}}));
    warm.close();

    let mut spawn_times = Vec::new();
    let mut first_calls = Vec::new();
    let mut second_calls = Vec::new();
    for _ in 0..opts.spawns {
        let started = Instant::now();
        let mut server = Server::spawn(&opts.server, cache.path());
        server.initialize();
        spawn_times.push(started.elapsed());
        let t = Instant::now();
        server.request(1, "tools/call", json!({"name": "ide_agents_health", "arguments": {}}));
        first_calls.push(t.elapsed());
        let t = Instant::now();
        server.request(2, "tools/call", json!({"name": "ide_agents_health", "arguments": {}}));
        second_calls.push(t.elapsed());
        server.close();
    }

    let mut server = Server::spawn(&opts.server, cache.path());
    server.initialize();
    let t = Instant::now();
    let tools = server.request(1, "tools/list", json!({}));
    let list_time = t.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let (idle_rss, _) = rss_kib(server.pid());
    let runs: Vec<Value> =
        opts.concurrency.iter().map(|&c| throughput(&mut server, "ide_agents_health", opts.requests, c)).collect();
    let (_, peak_rss) = rss_kib(server.pid());
    server.close();

    // The floor, same load at 16 in flight, and our ratios to it (needs 16 among --concurrency).
    let ours_at_16 = runs.iter().find(|r| r["concurrency"] == 16).cloned();
    let floor = opts.floor.as_ref().zip(ours_at_16).map(|(bin, ours)| {
        let mut f = Server::spawn(bin, cache.path());
        f.initialize();
        let run = throughput(&mut f, "ide_agents_health", opts.requests, 16);
        f.close();
        let ratio = |key: &str| ours[key].as_f64().unwrap_or(0.0) / run[key].as_f64().unwrap_or(f64::NAN);
        json!({"floor": run, "throughput_ratio": ratio("calls_per_s"), "cpu_per_call_ratio": ratio("server_cpu_us_per_call")})
    });
    let result = json!({
        "machine": machine(),
        "server": opts.server.display().to_string(),
        "spawn_to_initialize_ms": {"median": ms(median(spawn_times.clone())),
                                   "min": ms(*spawn_times.iter().min().unwrap())},
        "first_call_warm_aot_ms": {"median": ms(median(first_calls)), "second_call_median": ms(median(second_calls))},
        "tools_list_ms": ms(list_time),
        "tools_registered": tools["tools"].as_array().map_or(0, Vec::len),
        "idle_rss_kib": idle_rss,
        "peak_rss_kib": peak_rss,
        "throughput": runs,
        "floor": floor,
    });
    std::fs::create_dir_all(&opts.out).expect("create output directory");
    let pretty = serde_json::to_string_pretty(&result).unwrap();
    std::fs::write(opts.out.join("e2e.json"), &pretty).expect("write e2e.json");
    let md = markdown(&result);
    std::fs::write(opts.out.join("e2e.md"), &md).expect("write e2e.md");
    eprintln!("{md}");
    eprintln!("wrote {}/e2e.json and e2e.md", opts.out.display());
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

fn markdown(r: &Value) -> String {
    let mut md = format!(
        "Machine: {}\n\n| metric | value |\n|---|---|\n\
         | spawn -> initialize (median, warm cache) | {} ms |\n\
         | first call of a lazily loaded tool, warm AOT cache (median) | {} ms |\n\
         | second call (median) | {} ms |\n\
         | tools/list ({} tools) | {} ms |\n\
         | idle RSS | {:.1} MB |\n| peak RSS during the run | {:.1} MB |\n\n\
         | tool | in flight | calls/s | p50 ms | p95 ms | p99 ms | server CPU µs/call |\n|---|---|---|---|---|---|---|\n",
        r["machine"].as_str().unwrap_or(""),
        r["spawn_to_initialize_ms"]["median"],
        r["first_call_warm_aot_ms"]["median"],
        r["first_call_warm_aot_ms"]["second_call_median"],
        r["tools_registered"],
        r["tools_list_ms"],
        r["idle_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0,
        r["peak_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0,
    );
    for t in r["throughput"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            t["tool"].as_str().unwrap_or(""),
            t["concurrency"],
            t["calls_per_s"],
            t["p50_ms"],
            t["p95_ms"],
            t["p99_ms"],
            t["server_cpu_us_per_call"]
        ));
    }
    if let Some(f) = r.get("floor").filter(|f| !f.is_null()) {
        md.push_str(&format!(
            "\nFloor (serde_json line loop, no MCP semantics, no sandbox), 16 in flight: {} calls/s, {} µs CPU per call. \
             Ours: {:.2}x its throughput, {:.1}x its CPU per call.\n",
            f["floor"]["calls_per_s"],
            f["floor"]["server_cpu_us_per_call"],
            f["throughput_ratio"].as_f64().unwrap_or(0.0),
            f["cpu_per_call_ratio"].as_f64().unwrap_or(0.0),
        ));
    }
    md
}
