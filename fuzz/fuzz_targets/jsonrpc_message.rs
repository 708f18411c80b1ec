//! Fuzzes the JSON-RPC/MCP message layer: classifying an arbitrary line, then answering it.
//! Invariants: no panic; every answer is one line of valid JSON-RPC with the request's id.
#![no_main]

use ide_agents_mcp::mcp::jsonrpc::{self, Incoming};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    let reply = match jsonrpc::parse(line) {
        Incoming::Request { id, .. } => Some((Some(id.get().to_owned()), jsonrpc::success(id, &serde_json::json!({})))),
        Incoming::Invalid { id, error } => Some((None, jsonrpc::failure(id.as_deref(), &error))),
        Incoming::Notification { .. } | Incoming::Response { .. } => None,
    };
    if let Some((id, bytes)) = reply {
        assert_eq!(bytes.last(), Some(&b'\n'));
        assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("answers are JSON");
        assert_eq!(v["jsonrpc"], "2.0");
        if let Some(id) = id {
            let echoed: serde_json::Value = serde_json::from_str(&id).unwrap();
            assert_eq!(v["id"], echoed);
        }
    }
});
