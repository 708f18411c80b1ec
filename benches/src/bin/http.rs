//! End-to-end benchmark over Streamable HTTP with keep-alive: the same trivial tool (`echo`,
//! returning its `message`) served by ide-agents-mcp (a fresh sandbox per call, both protocol
//! eras), by the official TypeScript SDK's Streamable HTTP server, and by rmcp's, each measured
//! in the same run at each connection count: calls/s, p50/p99 latency and the server's CPU per
//! call (from /proc).
//!
//! ```text
//! http --server target/release/ide-agents-mcp --guests tests/guests/target/wasm32-wasip2/release
//!      [--ts benches/peers/ts/server.mjs] [--rmcp benches/peers/rmcp/target/release/rmcp-peer]
//!      [--out bench-results] [--requests 20000] [--connections 16,64]
//! ```
//!
//! Writes `http.json` and `http.md`. Every run is bounded in count and time.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../proc.rs"]
mod proc;
use proc::cpu_time;

/// Give up on one run after this long.
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// Which protocol a client speaks.
#[derive(Clone, Copy, PartialEq)]
enum Era {
    /// `initialize`, then calls (with the session id the server gave, if any).
    Legacy,
    /// Stateless 2026-07-28 requests with their headers.
    Modern,
}

struct Peer {
    name: &'static str,
    child: Child,
    url: String,
    era: Era,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` and waits for the `http://...` URL it prints on stderr.
fn start(name: &'static str, mut command: Command, era: Era) -> Peer {
    let mut child =
        command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{name}: {e}"));
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent && let Some(at) = line.find("http://") {
                let url: String = line[at..].split_whitespace().next().unwrap().trim_end_matches(['"', ',']).to_owned();
                sent = tx.send(url).is_ok();
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("{name} did not start"));
    Peer { name, child, url, era }
}

/// One client connection's state: its session id (legacy servers that give one).
async fn connect(client: &reqwest::Client, peer_url: &str, era: Era) -> Option<String> {
    if era == Era::Modern {
        return None;
    }
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}});
    let response = client
        .post(peer_url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(init.to_string())
        .send()
        .await
        .expect("initialize");
    let session = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let _ = response.text().await;
    let mut note = client
        .post(peer_url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18");
    if let Some(s) = &session {
        note = note.header("Mcp-Session-Id", s);
    }
    let _ = note.body(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).send().await;
    session
}

/// One `tools/call` of echo; whether the answer was the echoed text.
async fn call(client: &reqwest::Client, url: &str, era: Era, session: Option<&str>, id: u64) -> bool {
    let mut params = json!({"name": "echo", "arguments": {"message": "hello"}});
    let mut request = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream");
    match era {
        Era::Modern => {
            params["_meta"] = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                                     "io.modelcontextprotocol/clientCapabilities": {}});
            request = request
                .header("MCP-Protocol-Version", "2026-07-28")
                .header("Mcp-Method", "tools/call")
                .header("Mcp-Name", "echo");
        }
        Era::Legacy => {
            request = request.header("MCP-Protocol-Version", "2025-06-18");
            if let Some(s) = session {
                request = request.header("Mcp-Session-Id", s);
            }
        }
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}).to_string();
    match request.body(body).send().await {
        Ok(response) => response.text().await.is_ok_and(|t| t.contains("\"text\":\"hello\"")),
        Err(_) => false,
    }
}

/// `requests` calls over `connections` keep-alive connections: (calls/s, p50 ms, p99 ms, CPU µs
/// per call, failures).
fn load(rt: &tokio::runtime::Runtime, peer: &Peer, connections: usize, requests: usize) -> Value {
    let client =
        reqwest::Client::builder().http1_only().pool_max_idle_per_host(connections).tcp_nodelay(true).build().unwrap();
    let pid = peer.child.id();
    let (url, era) = (peer.url.clone(), peer.era);
    rt.block_on(async move {
        let per = requests.div_ceil(connections);
        // Warm up (and open the connections).
        let mut warm = Vec::new();
        for _ in 0..connections {
            let (client, url) = (client.clone(), url.clone());
            warm.push(tokio::spawn(async move {
                let session = connect(&client, &url, era).await;
                for i in 0..20 {
                    call(&client, &url, era, session.as_deref(), i).await;
                }
                session
            }));
        }
        let mut sessions = Vec::new();
        for w in warm {
            sessions.push(w.await.unwrap());
        }
        let cpu_before = cpu_time(pid);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for session in sessions {
            let (client, url) = (client.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per);
                let mut failures = 0u64;
                for i in 0..per {
                    let t = Instant::now();
                    if !call(&client, &url, era, session.as_deref(), 100 + i as u64).await {
                        failures += 1;
                    }
                    latencies.push(t.elapsed());
                    if started.elapsed() > RUN_DEADLINE {
                        break;
                    }
                }
                (latencies, failures)
            }));
        }
        let mut latencies = Vec::new();
        let mut failures = 0;
        for t in tasks {
            let (l, f) = t.await.unwrap();
            latencies.extend(l);
            failures += f;
        }
        let elapsed = started.elapsed();
        let cpu = cpu_time(pid).saturating_sub(cpu_before);
        latencies.sort();
        let pct = |p: f64| latencies[((p / 100.0) * (latencies.len() - 1) as f64).round() as usize].as_secs_f64() * 1e3;
        let n = latencies.len() as f64;
        json!({
            "connections": connections,
            "calls": latencies.len(),
            "failures": failures,
            "calls_per_s": (n / elapsed.as_secs_f64()).round(),
            "p50_ms": (pct(50.0) * 1000.0).round() / 1000.0,
            "p99_ms": (pct(99.0) * 1000.0).round() / 1000.0,
            "cpu_us_per_call": (cpu.as_secs_f64() * 1e6 / n * 10.0).round() / 10.0,
        })
    })
}

/// `16,64` as numbers (each at least 1).
fn counts(list: &str) -> Vec<usize> {
    list.split(',').map(|c| c.parse().ok().filter(|n| *n > 0).unwrap_or_else(|| usage())).collect()
}

/// The flags, on stderr, and exit 2 (as `e2e` does for a flag it does not know).
fn usage() -> ! {
    eprintln!(
        "usage: http --server PATH --guests DIR [--ts PATH] [--rmcp PATH] [--out DIR] [--requests N] \
         [--connections 16,64]"
    );
    std::process::exit(2)
}

fn main() {
    // reqwest is built without a bundled crypto provider (the server's choice, ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = std::env::args().skip(1);
    let (mut server, mut guests, mut ts, mut rmcp) = (None, None, None, None);
    let mut out = PathBuf::from("bench-results");
    let (mut requests, mut connections) = (20_000usize, vec![16usize, 64]);
    while let Some(flag) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--server" => server = Some(PathBuf::from(value())),
            "--guests" => guests = Some(PathBuf::from(value())),
            "--ts" => ts = Some(PathBuf::from(value())),
            "--rmcp" => rmcp = Some(PathBuf::from(value())),
            "--out" => out = PathBuf::from(value()),
            "--requests" => requests = value().parse().ok().filter(|n| *n > 0).unwrap_or_else(|| usage()),
            "--connections" => connections = counts(&value()),
            _ => usage(),
        }
    }
    let (Some(server), Some(guests)) = (server, guests) else { usage() };
    let tools = tempfile::tempdir().unwrap();
    std::fs::copy(guests.join("echo.wasm"), tools.path().join("echo.wasm")).expect("echo.wasm in --guests");
    let cache = tempfile::tempdir().unwrap();
    let ours = |era| {
        let mut c = Command::new(&server);
        c.args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--telemetry",
            "off",
            "--log",
            "warn,ide_agents_mcp::mcp::http=info",
        ])
        .arg("--tools-dir")
        .arg(tools.path())
        .arg("--cache-dir")
        .arg(cache.path());
        start(if era == Era::Modern { "ide-agents-mcp (2026-07-28)" } else { "ide-agents-mcp (2025-06-18)" }, c, era)
    };
    let mut peers: Vec<Box<dyn Fn() -> Peer>> =
        vec![Box::new(move || ours(Era::Modern)), Box::new(move || ours(Era::Legacy))];
    if let Some(ts) = ts {
        peers.push(Box::new(move || {
            let mut c = Command::new("node");
            c.arg(&ts).arg("0");
            start("TypeScript SDK 1.32.2", c, Era::Legacy)
        }));
    }
    if let Some(rmcp) = rmcp {
        peers.push(Box::new(move || {
            let mut c = Command::new(&rmcp);
            c.arg("127.0.0.1:0");
            start("rmcp", c, Era::Legacy)
        }));
    }
    let rt = Arc::new(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap());
    let mut results = Vec::new();
    for make in &peers {
        for &c in &connections {
            let peer = make();
            let mut r = load(&rt, &peer, c, requests);
            r["server"] = json!(peer.name);
            eprintln!("{r}");
            results.push(r);
        }
    }
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("http.json"), serde_json::to_string_pretty(&results).unwrap()).unwrap();
    let mut md = String::from(
        "| server | connections | calls/s | p50 ms | p99 ms | server CPU µs/call | failures |\n|---|---|---|---|---|---|---|\n",
    );
    for r in &results {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r["server"].as_str().unwrap_or(""),
            r["connections"],
            r["calls_per_s"],
            r["p50_ms"],
            r["p99_ms"],
            r["cpu_us_per_call"],
            r["failures"]
        ));
    }
    std::fs::write(out.join("http.md"), &md).unwrap();
    eprint!("{md}");
}
