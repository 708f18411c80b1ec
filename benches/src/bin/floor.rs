//! The floor: a minimal serde_json line loop over stdio with no MCP semantics beyond what the
//! `e2e` harness needs (initialize, tools/list, tools/call answered with a fixed result). No
//! sandbox, no validation, no telemetry. `e2e --floor` reports our throughput and CPU per call as
//! ratios to it. Arguments are ignored.

use std::io::{BufRead, BufWriter, Write};

use serde_json::{Value, json};

fn main() {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut lines = std::io::BufReader::with_capacity(64 << 10, stdin.lock());
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let Ok(msg) = serde_json::from_str::<Value>(&line) else { continue };
        let Some(id) = msg.get("id") else { continue };
        let result = match msg["method"].as_str() {
            Some("initialize") => json!({"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                                        "serverInfo": {"name": "floor", "version": "0"}}),
            Some("tools/list") => json!({"tools": [{"name": "ide_agents_health",
                                        "inputSchema": {"type": "object", "properties": {}}}]}),
            _ => json!({"content": [{"type": "text", "text": "ok"}], "isError": false}),
        };
        let _ = serde_json::to_writer(&mut out, &json!({"jsonrpc": "2.0", "id": id, "result": result}));
        let _ = out.write_all(b"\n");
        // Flush only when no more input is buffered, like the server's writer.
        if lines.buffer().is_empty() && out.flush().is_err() {
            break;
        }
    }
    let _ = out.flush();
}
