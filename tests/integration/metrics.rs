//! `/metrics` for operators, scraped by a real Prometheus (Debian's package, installed by
//! `scripts/test.sh`) and queried through its HTTP API. With `CI=true` a missing Prometheus
//! fails the test; elsewhere it is skipped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::Launch;

fn prometheus() -> Option<PathBuf> {
    ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// `GET path` on `authority`: (status, body).
fn get(authority: &str, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(authority) else { return (0, String::new()) };
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = write!(stream, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text.split_once("\r\n\r\n").map_or(String::new(), |(_, b)| b.to_owned()))
}

fn echo(authority: &str, fail: bool) {
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let arguments = if fail { json!({}) } else { json!({"message": "m"}) };
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "echo", "arguments": arguments, "_meta": meta}})
    .to_string();
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nAccept: application/json\r\n\
         MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: echo\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[test]
fn prometheus_scrapes_the_metrics_endpoint() {
    let server = Launch::with_tools(&["echo"]).args(["--http", "127.0.0.1:0"]).spawn();
    let url = server.http_url();
    let authority = url.trim_start_matches("http://").trim_end_matches("/mcp").to_owned();
    for _ in 0..5 {
        echo(&authority, false);
    }
    echo(&authority, true);
    let (status, text) = get(&authority, "/metrics");
    assert_eq!(status, 200);
    for series in [
        "ide_agents_mcp_calls_total{tool=\"echo\"} 6",
        "ide_agents_mcp_call_errors_total{tool=\"echo\",code=\"invalid_arguments\"} 1",
        "ide_agents_mcp_call_duration_seconds_count{tool=\"echo\"} 6",
        "ide_agents_mcp_calls_in_flight 0",
        "ide_agents_mcp_cache_hits_total{cache=\"schema\"}",
        "ide_agents_mcp_outbound_http_requests_total 0",
    ] {
        assert!(text.contains(series), "{series} missing from\n{text}");
    }

    let Some(prometheus) = prometheus() else {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
            "prometheus is not installed; run scripts/test.sh"
        );
        eprintln!("SKIPPED: the Prometheus scrape (prometheus is not installed; scripts/test.sh installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let web = {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        format!("127.0.0.1:{port}")
    };
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ide-agents-mcp\n    metrics_path: /metrics\n\
             \x20   static_configs:\n      - targets: ['{authority}']\n"
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(prometheus)
        .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address={web}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start prometheus");
    let query = "/api/v1/query?query=ide_agents_mcp_calls_total%7Btool%3D%22echo%22%7D";
    let started = Instant::now();
    let value = loop {
        let (status, body) = get(&web, query);
        if status == 200 {
            let reply: Value = serde_json::from_str(&body).unwrap_or_default();
            if let Some(v) = reply["data"]["result"][0]["value"][1].as_str() {
                break v.to_owned();
            }
        }
        assert!(started.elapsed() < Duration::from_secs(60), "Prometheus never scraped the series");
        std::thread::sleep(Duration::from_millis(250));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(value, "6", "Prometheus's value of ide_agents_mcp_calls_total{{tool=\"echo\"}}");
}
