//! End-to-end benchmark of the release server over stdio, the way an IDE uses it.
//!
//! ```text
//! e2e --server target/release/ide-agents-mcp --guests guest-tools/target/wasm32-wasip2/release
//!     [--out bench-results] [--requests 50000] [--concurrency 1,16,64] [--spawns 20]
//!     [--floor target/release/floor] [--ts benches/peers/ts/stdio.mjs] [--rounds 3] [--peers-only]
//!     [--interpreted DIR]...
//! ```
//!
//! Reports, each from server processes started for it:
//! - a first start with an empty cache: spawn-to-initialize, spawn to the first health call,
//!   peak RSS;
//! - spawn-to-initialize (warm cache), and the first call of a lazily loaded tool with a warm and
//!   with a cold AOT cache;
//! - `tools/list` latency with 30 registered tools (ULTRA on, plus the `echo`, `hostile` and
//!   `nettest` test components from `--guests`);
//! - idle RSS with ULTRA off, with ULTRA on and 30 tools, and after the ULTRA component loaded;
//! - at each concurrency: calls/s, p50/p95/p99 latency and server CPU per call (from /proc) for
//!   `ide_agents_health` (fresh instance per call), a cached resource read (`resources/read` of
//!   `ide-agents://repo/graph`) and an ML ranking call (`ide_agents_ultra_rank`); and health with
//!   instance reuse opted in, at 16 in flight;
//! - with `--floor`, the same health load at 16 in flight against a minimal serde_json line loop,
//!   and our ratios to it;
//! - with `--ts`, the peer comparison: health at 1 and 16 in flight against the official
//!   TypeScript SDK's stdio server with a native health tool of the same output
//!   (`benches/peers/ts/stdio.mjs`, run with `node`), a fresh process of each per round,
//!   alternating, `--rounds` rounds; medians and our ratios to it. `--peers-only` runs just this
//!   (into `peers.json`).
//! - with `--interpreted DIR` (repeatable; `scripts/bench-interpreted.sh` builds the JavaScript and
//!   Python template tools for it), only the per-call cost of the one tool component in each DIR:
//!   its first call with an empty AOT cache (the compile) and with a warm one, then calls/s,
//!   latency, server CPU per call and peak RSS at 1 and 4 in flight, fresh sandbox per call, a
//!   fresh server per round, `--rounds` rounds, medians (into `interpreted.json`).
//!
//! Writes `e2e.json`, `e2e.md` and `chart.svg` (throughput and p99 per scenario). Every request
//! loop is bounded in count and time.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../proc.rs"]
mod proc;
use proc::cpu_time;

/// Give up on any single run after this long.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

struct Opts {
    server: PathBuf,
    guests: Option<PathBuf>,
    out: PathBuf,
    requests: usize,
    concurrency: Vec<usize>,
    spawns: usize,
    floor: Option<PathBuf>,
    ts: Option<PathBuf>,
    rounds: usize,
    peers_only: bool,
    interpreted: Vec<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: e2e --server PATH [--guests DIR] [--out DIR] [--requests N] [--concurrency 1,16,64] [--spawns N] \
         [--floor PATH] [--ts PATH] [--rounds N] [--peers-only] [--interpreted DIR]..."
    );
    std::process::exit(2)
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        server: PathBuf::new(),
        guests: None,
        out: "bench-results".into(),
        requests: 50_000,
        concurrency: vec![1, 16, 64],
        spawns: 20,
        floor: None,
        ts: None,
        rounds: 3,
        peers_only: false,
        interpreted: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--server" => o.server = value().into(),
            "--guests" => o.guests = Some(value().into()),
            "--out" => o.out = value().into(),
            "--requests" => o.requests = value().parse().unwrap_or_else(|_| usage()),
            "--concurrency" => {
                o.concurrency = value().split(',').map(|c| c.parse().unwrap_or_else(|_| usage())).collect();
            }
            "--spawns" => o.spawns = value().parse().unwrap_or_else(|_| usage()),
            "--floor" => o.floor = Some(value().into()),
            "--ts" => o.ts = Some(value().into()),
            "--rounds" => o.rounds = value().parse().unwrap_or_else(|_| usage()),
            "--peers-only" => o.peers_only = true,
            "--interpreted" => o.interpreted.push(value().into()),
            _ => usage(),
        }
    }
    if o.server.as_os_str().is_empty() || o.concurrency.contains(&0) || o.spawns == 0 || o.rounds == 0 {
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
        Self::spawn_with(bin, cache, &[])
    }

    /// Starts `bin serve` with the cache directory, telemetry to a file in it, and `extra` flags.
    fn spawn_with(bin: &Path, cache: &Path, extra: &[&std::ffi::OsStr]) -> Self {
        let mut command = Command::new(bin);
        command
            .args(["serve", "--cache-dir"])
            .arg(cache)
            .arg("--telemetry")
            .arg(cache.join("spans.jsonl"))
            .args(extra)
            .env("IDE_AGENTS_MCP_LOG", "warn");
        Self::spawn_command(command)
    }

    /// Starts a peer server: `node script`.
    fn spawn_node(script: &Path) -> Self {
        let mut command = Command::new("node");
        command.arg(script);
        Self::spawn_command(command)
    }

    fn spawn_command(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.get_program()));
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
    let [rss, peak] = status_kib(pid, ["VmRSS:", "VmHWM:"]);
    (rss, peak)
}

/// A process's RSS and its anonymous (private) part. The rest is file-backed: the binary's pages,
/// which the kernel shares and can drop, and whose count depends on how the binary got into the
/// page cache (a freshly copied file maps more of it than one the linker wrote; see 0005).
fn idle_rss_kib(pid: u32) -> (u64, u64) {
    let [rss, anon] = status_kib(pid, ["VmRSS:", "RssAnon:"]);
    (rss, anon)
}

/// `kB` fields of `/proc/<pid>/status`, from one read (0 for a field that cannot be read).
fn status_kib<const N: usize>(pid: u32, names: [&str; N]) -> [u64; N] {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    names.map(|name| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    })
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

/// One kind of request the throughput runs send.
#[derive(Clone, Copy)]
enum Load {
    /// `tools/call` of `ide_agents_health`.
    Health,
    /// `resources/read` of `ide-agents://repo/graph` (answered from the resource cache).
    ResourceRead,
    /// `tools/call` of `ide_agents_ultra_rank` with eight short candidates.
    Rank,
    /// `tools/call` of a template tool (`text` in, a word count out).
    Template(&'static str),
}

impl Load {
    fn label(self) -> &'static str {
        match self {
            Self::Health => "ide_agents_health",
            Self::ResourceRead => "resources/read (cached)",
            Self::Rank => "ide_agents_ultra_rank",
            Self::Template(name) => name,
        }
    }

    fn request(self, id: usize) -> Value {
        let (method, params) = match self {
            Self::Health => ("tools/call", json!({"name": "ide_agents_health", "arguments": {}})),
            Self::Template(name) => {
                ("tools/call", json!({"name": name, "arguments": {"text": "a sandboxed call of an interpreted tool"}}))
            }
            Self::ResourceRead => ("resources/read", json!({"uri": "ide-agents://repo/graph"})),
            Self::Rank => (
                "tools/call",
                json!({"name": "ide_agents_ultra_rank", "arguments": {
                    "query": "sandboxed tool call memory limit",
                    "candidates": [
                        "the pooling allocator keeps a resident window per slot",
                        "each call runs in a fresh sandbox with a memory limit",
                        "telemetry spans are batched and written as JSON lines",
                        "the schema cache answers tools/list without compiling",
                        "a tool may only reach origins on its allow-list",
                        "memory limit exceeded: the call is stopped, the server carries on",
                        "BM25 blended with hashed n-gram similarity ranks candidates",
                        "stdout carries only JSON-RPC messages"
                    ]
                }}),
            ),
        };
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    }

    fn check(self, response: &Value) {
        match self {
            Self::ResourceRead => assert!(response["result"]["contents"].is_array(), "read failed: {response}"),
            _ => assert_eq!(response["result"]["isError"], false, "call failed: {response}"),
        }
    }
}

/// Keeps `concurrency` requests of `load` in flight until `requests` are answered.
fn throughput(server: &mut Server, load: Load, requests: usize, concurrency: usize) -> Value {
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
            server.send(&load.request(sent + 1));
            sent += 1;
        }
        server.flush();
        let response = server.recv();
        let Some(id) = response["id"].as_u64() else { continue };
        load.check(&response);
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
        "tool": load.label(),
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

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// A tools directory with the `echo`, `hostile` and `nettest` test components (17 tools), so that
/// with ULTRA on the server registers 30 tools.
fn thirty_tools(guests: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp tools dir");
    for name in ["echo", "hostile", "nettest"] {
        let from = guests.join(format!("{name}.wasm"));
        std::fs::copy(&from, dir.path().join(format!("{name}.wasm")))
            .unwrap_or_else(|e| panic!("cannot copy {} ({e}); run `just build-guests` first", from.display()));
    }
    dir
}

/// A small workspace (40 Rust and Python files) for `repo.graph`.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp workspace");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    for i in 0..20 {
        let next = (i + 1) % 20;
        std::fs::write(
            dir.path().join(format!("src/m{i}.rs")),
            format!("use crate::m{next};\nuse serde::Serialize;\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join(format!("app/p{i}.py")), format!("from . import p{next}\nimport os\n")).unwrap();
    }
    dir
}

/// Copies the warm cache without its AOT artifacts: descriptors known, nothing compiled.
fn cold_aot_copy(cache: &Path) -> tempfile::TempDir {
    let cold = tempfile::tempdir().expect("temp cache");
    let descriptors = cold.path().join("descriptors");
    std::fs::create_dir_all(&descriptors).unwrap();
    for entry in std::fs::read_dir(cache.join("descriptors")).unwrap().flatten() {
        std::fs::copy(entry.path(), descriptors.join(entry.file_name())).unwrap();
    }
    cold
}

fn main() {
    let opts = parse_opts();
    let cache = tempfile::tempdir().expect("temp cache dir");
    let bin = &opts.server;
    if !opts.interpreted.is_empty() {
        let result = json!({"machine": machine(), "interpreted": interpreted(bin, &opts)});
        std::fs::create_dir_all(&opts.out).expect("create output directory");
        let path = opts.out.join("interpreted.json");
        std::fs::write(&path, serde_json::to_string_pretty(&result).unwrap()).expect("write interpreted.json");
        eprintln!("{}\nwrote {}", interpreted_markdown(&result), path.display());
        return;
    }
    if opts.peers_only {
        let ts = opts.ts.as_ref().unwrap_or_else(|| usage());
        // One warm-up start fills the AOT cache, as in the full run.
        let mut server = Server::spawn(bin, cache.path());
        server.initialize();
        server.request(1, "tools/call", Load::Health.request(0)["params"].clone());
        server.close();
        let result =
            json!({"machine": machine(), "peers": peer_comparison(bin, cache.path(), ts, opts.requests, opts.rounds)});
        std::fs::create_dir_all(&opts.out).expect("create output directory");
        let path = opts.out.join("peers.json");
        std::fs::write(&path, serde_json::to_string_pretty(&result).unwrap()).expect("write peers.json");
        eprintln!("{}\nwrote {}", peers_markdown(&result), path.display());
        return;
    }

    // A first start with an empty cache (an IDE's first launch): spawn -> initialize, the first
    // health call from spawn, and the peak RSS, over 5 fresh cache directories.
    let (mut empty_init, mut empty_first_call, mut empty_peak) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let empty = tempfile::tempdir().expect("temp cache");
        let started = Instant::now();
        let mut server = Server::spawn(bin, empty.path());
        server.initialize();
        empty_init.push(started.elapsed());
        server.request(1, "tools/list", json!({}));
        server.request(2, "tools/call", json!({"name": "ide_agents_health", "arguments": {}}));
        empty_first_call.push(started.elapsed());
        empty_peak.push(rss_kib(server.pid()).1);
        server.close();
    }
    empty_peak.sort_unstable();

    // Warm the descriptor and AOT caches once (ULTRA on and the test components, so every
    // component is cached).
    let tools = opts.guests.as_deref().map(thirty_tools);
    let mut extra = vec![os("--ultra")];
    if let Some(t) = &tools {
        extra.extend([os("--tools-dir"), t.path().as_os_str()]);
    }
    let mut warm = Server::spawn_with(bin, cache.path(), &extra);
    warm.initialize();
    warm.request(1, "tools/call", json!({"name": "ide_agents_health", "arguments": {}}));
    warm.request(2, "tools/call", Load::Rank.request(0)["params"].clone());
    // Built-ins are compiled on their first call (their descriptors come from the binary): load
    // the resource component too, so no throughput run below includes a compile. Without a
    // granted root the call is an error result, but the component is compiled and cached.
    warm.request(3, "tools/call", json!({"name": "ide_agents_resource", "arguments": {"name": "repo.graph"}}));
    warm.close();

    let mut spawn_times = Vec::new();
    let mut first_calls = Vec::new();
    let mut second_calls = Vec::new();
    for _ in 0..opts.spawns {
        let started = Instant::now();
        let mut server = Server::spawn(bin, cache.path());
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
    let mut cold_calls = Vec::new();
    for _ in 0..5 {
        let cold = cold_aot_copy(cache.path());
        let mut server = Server::spawn(bin, cold.path());
        server.initialize();
        let t = Instant::now();
        server.request(1, "tools/call", json!({"name": "ide_agents_health", "arguments": {}}));
        cold_calls.push(t.elapsed());
        server.close();
    }

    // Memory: idle with ULTRA off; idle with ULTRA on and 30 tools; after the ML component loaded.
    let mut server = Server::spawn(bin, cache.path());
    server.initialize();
    std::thread::sleep(Duration::from_millis(300));
    let (idle_rss_ultra_off, idle_anon_ultra_off) = idle_rss_kib(server.pid());
    server.close();
    let mut server = Server::spawn_with(bin, cache.path(), &extra);
    server.initialize();
    let t = Instant::now();
    let listed = server.request(1, "tools/list", json!({}));
    let list_first = t.elapsed();
    let list_times: Vec<Duration> = (0..20)
        .map(|i| {
            let t = Instant::now();
            server.request(2 + i, "tools/list", json!({}));
            t.elapsed()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (idle_rss_ultra_on, idle_anon_ultra_on) = idle_rss_kib(server.pid());
    let t = Instant::now();
    server.request(100, "tools/call", Load::Rank.request(0)["params"].clone());
    let ultra_first_call = t.elapsed();
    std::thread::sleep(Duration::from_millis(100));
    let (rss_ultra_loaded, _) = rss_kib(server.pid());
    server.close();

    // Throughput: each load in a server of its own.
    let workspace = workspace();
    let reuse_config = cache.path().join("reuse.toml");
    std::fs::write(&reuse_config, "[tools.ide_agents_health]\nreuse_instance = true\n").unwrap();
    let mut runs = Vec::new();
    let mut peak_rss = 0;
    for (load, flags, concurrencies, requests) in [
        (Load::Health, vec![], opts.concurrency.clone(), opts.requests),
        (Load::Health, vec![os("--config"), reuse_config.as_os_str()], vec![16], opts.requests),
        (
            Load::ResourceRead,
            vec![os("--workspace"), workspace.path().as_os_str()],
            opts.concurrency.clone(),
            opts.requests,
        ),
        (Load::Rank, vec![os("--ultra")], opts.concurrency.clone(), opts.requests / 5),
    ] {
        let reuse = !flags.is_empty() && matches!(load, Load::Health);
        let mut server = Server::spawn_with(bin, cache.path(), &flags);
        server.initialize();
        for c in concurrencies {
            let mut run = throughput(&mut server, load, requests, c);
            run["instance"] = json!(if reuse { "reused" } else { "fresh" });
            runs.push(run);
        }
        peak_rss = peak_rss.max(rss_kib(server.pid()).1);
        server.close();
    }

    // The floor, same load at 16 in flight, and our ratios to it (needs 16 among --concurrency).
    let ours_at_16 = runs
        .iter()
        .find(|r| r["concurrency"] == 16 && r["tool"] == "ide_agents_health" && r["instance"] == "fresh")
        .cloned();
    let floor = opts.floor.as_ref().zip(ours_at_16).map(|(bin, ours)| {
        let mut f = Server::spawn(bin, cache.path());
        f.initialize();
        let run = throughput(&mut f, Load::Health, opts.requests, 16);
        f.close();
        let ratio = |key: &str| ours[key].as_f64().unwrap_or(0.0) / run[key].as_f64().unwrap_or(f64::NAN);
        json!({"floor": run, "throughput_ratio": ratio("calls_per_s"), "cpu_per_call_ratio": ratio("server_cpu_us_per_call")})
    });
    let peers = opts.ts.as_ref().map(|ts| peer_comparison(bin, cache.path(), ts, opts.requests, opts.rounds));
    let result = json!({
        "machine": machine(),
        "server": opts.server.display().to_string(),
        "spawn_to_initialize_ms": {"median": ms(median(spawn_times.clone())),
                                   "min": ms(*spawn_times.iter().min().unwrap())},
        "empty_cache": {"spawn_to_initialize_ms": ms(median(empty_init)),
                        "spawn_to_first_health_call_ms": ms(median(empty_first_call)),
                        "peak_rss_kib": empty_peak[empty_peak.len() / 2]},
        "first_call_warm_aot_ms": {"median": ms(median(first_calls)), "second_call_median": ms(median(second_calls))},
        "first_call_cold_aot_ms": {"median": ms(median(cold_calls))},
        "tools_list_ms": {"first": ms(list_first), "median": ms(median(list_times))},
        "tools_registered": listed["tools"].as_array().map_or(0, Vec::len),
        "idle_rss_kib": {"ultra_off": idle_rss_ultra_off, "ultra_on_30_tools": idle_rss_ultra_on,
                         "after_ultra_loaded": rss_ultra_loaded},
        "idle_anon_rss_kib": {"ultra_off": idle_anon_ultra_off, "ultra_on_30_tools": idle_anon_ultra_on},
        "ultra_first_call_ms": ms(ultra_first_call),
        "peak_rss_kib": peak_rss,
        "throughput": runs,
        "floor": floor,
        "peers": peers,
    });
    std::fs::create_dir_all(&opts.out).expect("create output directory");
    let pretty = serde_json::to_string_pretty(&result).unwrap();
    std::fs::write(opts.out.join("e2e.json"), &pretty).expect("write e2e.json");
    let md = markdown(&result);
    std::fs::write(opts.out.join("e2e.md"), &md).expect("write e2e.md");
    std::fs::write(opts.out.join("chart.svg"), chart(&result)).expect("write chart.svg");
    eprintln!("{md}");
    eprintln!("wrote {0}/e2e.json, {0}/e2e.md and {0}/chart.svg", opts.out.display());
}

/// Health at 1 and 16 in flight, ours against the TypeScript SDK's stdio server: a fresh process
/// of each per round, alternating, so that both see the same phases of a noisy machine. Medians
/// over the rounds, and our ratios to the peer (CPU per call below 1 and calls/s above 1 are ours
/// doing better).
fn peer_comparison(bin: &Path, cache: &Path, ts: &Path, requests: usize, rounds: usize) -> Value {
    let mut rows = Vec::new();
    for (concurrency, requests) in [(1, (requests / 5).max(100)), (16, requests.max(100))] {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let mut server = Server::spawn(bin, cache);
            server.initialize();
            ours.push(throughput(&mut server, Load::Health, requests, concurrency));
            server.close();
            let mut peer = Server::spawn_node(ts);
            peer.initialize();
            theirs.push(throughput(&mut peer, Load::Health, requests, concurrency));
            peer.close();
        }
        let keys = ["calls_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_call"];
        let summary =
            |runs: &[Value]| -> Value { keys.iter().map(|k| ((*k).to_owned(), json!(med(runs, k)))).collect() };
        rows.push(json!({
            "concurrency": concurrency,
            "rounds": rounds,
            "ours": summary(&ours),
            "typescript_sdk": summary(&theirs),
            "throughput_ratio": med(&ours, "calls_per_s") / med(&theirs, "calls_per_s"),
            "cpu_per_call_ratio": med(&ours, "server_cpu_us_per_call") / med(&theirs, "server_cpu_us_per_call"),
            "p50_ratio": med(&ours, "p50_ms") / med(&theirs, "p50_ms"),
        }));
    }
    json!(rows)
}

/// The median of the number `key` over `runs`.
fn med(runs: &[Value], key: &str) -> f64 {
    let mut xs: Vec<f64> = runs.iter().filter_map(|r| r[key].as_f64()).collect();
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The per-call cost of the tool component in each `--interpreted` directory (see the module doc).
fn interpreted(bin: &Path, opts: &Opts) -> Value {
    let requests = (opts.requests / 10).max(100);
    let mut rows = Vec::new();
    for dir in &opts.interpreted {
        let cache = tempfile::tempdir().expect("temp cache dir");
        let flags = [os("--tools-dir"), dir.as_os_str()];
        let wasm: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect();
        assert_eq!(wasm.len(), 1, "{} must hold exactly one component", dir.display());
        let size = std::fs::metadata(&wasm[0]).map_or(0, |m| m.len());

        // Its first listing and call with an empty AOT cache compile it (once per machine in real use).
        let mut server = Server::spawn_with(bin, cache.path(), &flags);
        server.initialize();
        // A new component is described in the background (its first compile): wait for its tool.
        let listed_at = Instant::now();
        let name = loop {
            let listed = server.request(1, "tools/list", json!({}));
            let names = listed["tools"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str());
            if let Some(name) = names.clone().find(|n| !n.starts_with("ide_agents_")) {
                break name.to_owned();
            }
            assert!(
                listed_at.elapsed() < RUN_DEADLINE,
                "no tool from {} in {:?}",
                dir.display(),
                names.collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let load = Load::Template(Box::leak(name.into_boxed_str()));
        load.check(&json!({"result": server.request(2, "tools/call", load.request(2)["params"].clone())}));
        let compile_first_call = listed_at.elapsed();
        server.close();

        let mut warm_first_calls = Vec::new();
        let mut runs: Vec<Vec<Value>> = vec![Vec::new(), Vec::new()];
        for _ in 0..opts.rounds {
            for (i, concurrency) in [1, 4].into_iter().enumerate() {
                let mut server = Server::spawn_with(bin, cache.path(), &flags);
                server.initialize();
                let t = Instant::now();
                server.request(1, "tools/call", load.request(1)["params"].clone());
                warm_first_calls.push(t.elapsed());
                let mut run = throughput(&mut server, load, requests, concurrency);
                run["peak_rss_kib"] = json!(rss_kib(server.pid()).1);
                runs[i].push(run);
                server.close();
            }
        }
        let keys = ["calls_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_call", "peak_rss_kib"];
        let summaries: Vec<Value> = [1, 4]
            .iter()
            .zip(&runs)
            .map(|(c, runs)| {
                let mut row: serde_json::Map<String, Value> =
                    keys.iter().map(|k| ((*k).to_owned(), json!(med(runs, k)))).collect();
                row.insert("concurrency".into(), json!(c));
                Value::Object(row)
            })
            .collect();
        rows.push(json!({
            "tool": load.label(),
            "component_bytes": size,
            "first_call_empty_cache_ms": ms(compile_first_call),
            "first_call_warm_cache_ms": ms(median(warm_first_calls)),
            "rounds": opts.rounds,
            "requests": requests,
            "runs": summaries,
        }));
    }
    json!(rows)
}

fn interpreted_markdown(r: &Value) -> String {
    let mut md = format!(
        "Machine: {}\n\nInterpreted tool components, fresh sandbox per call, medians:\n\n\
         | tool | size MB | first call: compile / warm AOT cache ms | in flight | calls/s | p50 ms | p99 ms | \
         server CPU µs/call | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|\n",
        r["machine"].as_str().unwrap_or("")
    );
    for row in r["interpreted"].as_array().into_iter().flatten() {
        for run in row["runs"].as_array().into_iter().flatten() {
            md.push_str(&format!(
                "| {} | {:.1} | {} / {} | {} | {} | {} | {} | {} | {:.1} |\n",
                row["tool"].as_str().unwrap_or(""),
                row["component_bytes"].as_f64().unwrap_or(0.0) / 1e6,
                row["first_call_empty_cache_ms"],
                row["first_call_warm_cache_ms"],
                run["concurrency"],
                run["calls_per_s"],
                run["p50_ms"],
                run["p99_ms"],
                run["server_cpu_us_per_call"],
                mb(&run["peak_rss_kib"]),
            ));
        }
    }
    md
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

fn mb(kib: &Value) -> f64 {
    kib.as_f64().unwrap_or(0.0) / 1024.0
}

fn markdown(r: &Value) -> String {
    let rss = &r["idle_rss_kib"];
    let mut md = format!(
        "Machine: {}\n\n| metric | value |\n|---|---|\n\
         | spawn -> initialize (median, warm cache) | {} ms |\n\
         | empty cache: spawn -> initialize / spawn -> first health call (median of 5) | {} / {} ms |\n\
         | empty cache: peak RSS (median of 5) | {:.1} MB |\n\
         | first call of a lazily loaded tool, warm AOT cache (median) | {} ms |\n\
         | first call of a lazily loaded tool, cold AOT cache (compile, median) | {} ms |\n\
         | second call (median) | {} ms |\n\
         | tools/list, {} tools (first / median) | {} / {} ms |\n\
         | idle RSS, ULTRA off (anonymous part) | {:.1} MB ({:.1} MB) |\n\
         | idle RSS, ULTRA on, {} tools (anonymous part) | {:.1} MB ({:.1} MB) |\n\
         | RSS after the ULTRA component loaded (first rank call {} ms) | {:.1} MB |\n\
         | peak RSS during the throughput runs | {:.1} MB |\n\n\
         | load | instance | in flight | calls/s | p50 ms | p95 ms | p99 ms | server CPU µs/call |\n\
         |---|---|---|---|---|---|---|---|\n",
        r["machine"].as_str().unwrap_or(""),
        r["spawn_to_initialize_ms"]["median"],
        r["empty_cache"]["spawn_to_initialize_ms"],
        r["empty_cache"]["spawn_to_first_health_call_ms"],
        mb(&r["empty_cache"]["peak_rss_kib"]),
        r["first_call_warm_aot_ms"]["median"],
        r["first_call_cold_aot_ms"]["median"],
        r["first_call_warm_aot_ms"]["second_call_median"],
        r["tools_registered"],
        r["tools_list_ms"]["first"],
        r["tools_list_ms"]["median"],
        mb(&rss["ultra_off"]),
        mb(&r["idle_anon_rss_kib"]["ultra_off"]),
        r["tools_registered"],
        mb(&rss["ultra_on_30_tools"]),
        mb(&r["idle_anon_rss_kib"]["ultra_on_30_tools"]),
        r["ultra_first_call_ms"],
        mb(&rss["after_ultra_loaded"]),
        mb(&r["peak_rss_kib"]),
    );
    for t in r["throughput"].as_array().into_iter().flatten() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            t["tool"].as_str().unwrap_or(""),
            t["instance"].as_str().unwrap_or(""),
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
             Ours (health, fresh instance): {:.2}x its throughput, {:.1}x its CPU per call.\n",
            f["floor"]["calls_per_s"],
            f["floor"]["server_cpu_us_per_call"],
            f["throughput_ratio"].as_f64().unwrap_or(0.0),
            f["cpu_per_call_ratio"].as_f64().unwrap_or(0.0),
        ));
    }
    md.push_str(&peers_markdown(r));
    md
}

/// The peer comparison's table (empty without one).
fn peers_markdown(r: &Value) -> String {
    let mut md = String::new();
    if let Some(peers) = r["peers"].as_array() {
        md.push_str(
            "\nOurs (health, fresh sandbox per call) against the TypeScript SDK 1.32.2 stdio server with a native \
             health tool, alternating, medians:\n\n\
             | in flight | server | calls/s | p50 ms | p99 ms | server CPU µs/call |\n|---|---|---|---|---|---|\n",
        );
        for p in peers {
            for (name, key) in [("ide-agents-mcp", "ours"), ("TypeScript SDK", "typescript_sdk")] {
                let s = &p[key];
                md.push_str(&format!(
                    "| {} | {name} | {} | {} | {} | {} |\n",
                    p["concurrency"], s["calls_per_s"], s["p50_ms"], s["p99_ms"], s["server_cpu_us_per_call"]
                ));
            }
            md.push_str(&format!(
                "| {} | ratio (ours / theirs) | {:.2}x | {:.2}x | | {:.2}x |\n",
                p["concurrency"],
                p["throughput_ratio"].as_f64().unwrap_or(0.0),
                p["p50_ratio"].as_f64().unwrap_or(0.0),
                p["cpu_per_call_ratio"].as_f64().unwrap_or(0.0),
            ));
        }
    }
    md
}

/// A two-panel SVG bar chart: calls/s and p99 latency for every throughput run (and the floor).
fn chart(r: &Value) -> String {
    let mut bars: Vec<(String, f64, f64)> = r["throughput"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let tool = t["tool"].as_str().unwrap_or("").trim_start_matches("ide_agents_");
            let label =
                format!("{tool}{} @{}", if t["instance"] == "reused" { " (reuse)" } else { "" }, t["concurrency"]);
            (label, t["calls_per_s"].as_f64().unwrap_or(0.0), t["p99_ms"].as_f64().unwrap_or(0.0))
        })
        .collect();
    if let Some(f) = r.get("floor").filter(|f| !f.is_null()) {
        let f = &f["floor"];
        bars.push(("floor @16".into(), f["calls_per_s"].as_f64().unwrap_or(0.0), f["p99_ms"].as_f64().unwrap_or(0.0)));
    }
    let (row, label_w, bar_w, gap) = (22.0, 230.0, 330.0, 60.0);
    let height = 70.0 + row * bars.len() as f64;
    let width = label_w + 2.0 * bar_w + gap + 40.0;
    // Scaled to our own runs: the floor (no MCP, no sandbox) is ~10x faster and would squeeze every
    // other bar into a few pixels, so its bar is cut at the edge and marked off scale.
    let ours = &bars[..bars.len() - usize::from(r.get("floor").is_some_and(|f| !f.is_null()))];
    let max_tp = ours.iter().map(|b| b.1).fold(1.0, f64::max);
    let max_p99 = bars.iter().map(|b| b.2).fold(0.001, f64::max);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">ide-agents-mcp end to end over stdio ({})</text>\n\
         <text x=\"{label_w}\" y=\"45\">calls/s (higher is better)</text>\n\
         <text x=\"{}\" y=\"45\">p99 latency, ms (lower is better)</text>\n",
        r["machine"].as_str().unwrap_or(""),
        label_w + bar_w + gap,
    );
    for (i, (label, tp, p99)) in bars.iter().enumerate() {
        let y = 55.0 + row * i as f64;
        let w1 = bar_w * (tp / max_tp).min(1.0);
        // An off-scale value is written inside its bar, so it does not run into the p99 column.
        let (tp_x, tp_style) = if *tp > max_tp {
            (label_w + bar_w - 4.0, " text-anchor=\"end\" fill=\"white\"")
        } else {
            (label_w + w1 + 4.0, "")
        };
        let off_scale = if *tp > max_tp { " (off scale)" } else { "" };
        let w2 = bar_w * p99 / max_p99;
        let x2 = label_w + bar_w + gap;
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{label}</text>\n\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w1:.1}\" height=\"{}\" fill=\"#4878a8\"/>\n\
             <text x=\"{tp_x:.1}\" y=\"{}\"{tp_style}>{tp:.0}{off_scale}</text>\n\
             <rect x=\"{x2}\" y=\"{y}\" width=\"{w2:.1}\" height=\"{}\" fill=\"#c0504d\"/>\n\
             <text x=\"{:.1}\" y=\"{}\">{p99:.2}</text>\n",
            label_w - 8.0,
            y + 14.0,
            row - 6.0,
            y + 14.0,
            row - 6.0,
            x2 + w2 + 4.0,
            y + 14.0,
        ));
    }
    svg.push_str("</svg>\n");
    svg
}
