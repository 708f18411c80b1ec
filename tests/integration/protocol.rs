//! JSON-RPC and MCP protocol edges over raw stdio.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Launch, text};

#[test]
fn initialize_negotiates_the_protocol_version() {
    let mut server = Launch::new().spawn();
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let result = server.result("initialize", json!({"protocolVersion": version, "capabilities": {}}));
        assert_eq!(result["protocolVersion"], version);
        assert_eq!(result["serverInfo"]["name"], "ide-agents-mcp");
        assert!(result["capabilities"]["tools"].is_object());
    }
    // An unknown version is answered with our latest, not an error or silence.
    let result = server.result("initialize", json!({"protocolVersion": "2099-01-01", "capabilities": {}}));
    assert_eq!(result["protocolVersion"], "2025-11-25");
    let result = server.result("initialize", json!({"capabilities": {}}));
    assert_eq!(result["protocolVersion"], "2025-11-25");
}

#[test]
fn ping_unknown_method_and_notifications() {
    let mut server = Launch::new().spawn();
    server.initialize();
    assert_eq!(server.result("ping", json!({})), json!({}));
    let unknown = server.request("no/such/method", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    // Notifications (known or not) get no response: the next line answers the ping after them.
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/whatever", "params": {}}));
    server.send(&json!({"jsonrpc": "2.0", "id": "after", "method": "ping"}));
    assert_eq!(server.recv()["id"], "after");
}

#[test]
fn malformed_and_invalid_messages_get_errors_and_the_server_continues() {
    let mut server = Launch::new().spawn();
    let cases: &[(&[u8], i64, Value)] = &[
        (b"{not json", -32700, Value::Null),
        (b"\xff\xfe{\"jsonrpc\":\"2.0\"}", -32700, Value::Null),
        (br#"{"jsonrpc":"2.0","id":1,"method":"ping""#, -32700, Value::Null),
        (b"[]", -32600, Value::Null),
        (br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, -32600, Value::Null),
        (br#"{"id":5,"method":"ping"}"#, -32600, json!(5)),
        (br#"{"jsonrpc":"2.0","id":"x","method":7}"#, -32600, json!("x")),
        (br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":9,"method":"ping","params":"oops"}"#, -32600, json!(9)),
        (br#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":5}}"#, -32602, json!(10)),
        (br#""just a string""#, -32600, Value::Null),
    ];
    for (line, code, id) in cases {
        server.send_bytes(line);
        let reply = server.recv();
        assert_eq!(reply["error"]["code"], *code, "for {:?}: {reply}", String::from_utf8_lossy(line));
        assert_eq!(reply["id"], *id, "for {:?}: {reply}", String::from_utf8_lossy(line));
        assert!(reply["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Nesting far beyond any parser's recursion limit is an error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    server.send_raw(&deep);
    assert_eq!(server.recv()["error"]["code"], -32700);
    let deep_params = format!(
        r#"{{"jsonrpc":"2.0","id":"deep","method":"tools/list","params":{{"cursor":{}{}}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    server.send_raw(&deep_params);
    let reply = server.recv();
    assert_eq!((reply["id"].clone(), reply["error"]["code"].clone()), (json!("deep"), json!(-32602)));
    assert_eq!(server.result("ping", json!({})), json!({}));
}

#[test]
fn ids_are_echoed_unchanged() {
    let mut server = Launch::new().spawn();
    for id in [r#""abc""#, r#""""#, r#""ünï \"q\"""#, "0", "-7", "9007199254740993", "12345678901234567890"] {
        server.send_raw(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#));
        let line = server.recv_raw();
        assert_eq!(line, format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#));
    }
}

#[test]
fn oversized_line_is_rejected_and_the_server_continues() {
    let mut server = Launch::new().spawn();
    let huge = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(17 << 20));
    server.send_raw(&huge);
    let reply = server.recv();
    assert_eq!(reply["error"]["code"], -32600);
    assert!(reply["error"]["message"].as_str().unwrap().contains("line limit"));
    assert_eq!(server.result("ping", json!({})), json!({}));
}

#[test]
fn tools_list_paginates_with_opaque_cursors() {
    let mut server = Launch::new().args(["--page-size", "2"]).spawn();
    server.initialize();
    let mut names = Vec::new();
    let mut cursor: Option<Value> = None;
    loop {
        let params = cursor.as_ref().map_or_else(|| json!({}), |c| json!({"cursor": c}));
        let page = server.result("tools/list", params);
        let tools = page["tools"].as_array().unwrap();
        assert!(tools.len() <= 2);
        for tool in tools {
            assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
            assert!(tool["inputSchema"]["properties"].is_object(), "{tool}");
            names.push(tool["name"].as_str().unwrap().to_owned());
        }
        match page.get("nextCursor") {
            Some(next) => cursor = Some(next.clone()),
            None => break,
        }
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "deterministic order");
    for expected in ["echo", "hostile_spin", "hostile_stdout", "hostile_trap", "hostile_alloc", "ide_agents_health"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    assert_eq!(server.request("tools/list", json!({"cursor": "bogus"}))["error"]["code"], -32602);
    assert_eq!(server.request("tools/list", json!({"cursor": "999"}))["error"]["code"], -32602);
}

#[test]
fn tool_calls_results_and_errors() {
    let mut server = Launch::new().spawn();
    server.initialize();
    let health = server.call("ide_agents_health", json!({}));
    assert_eq!(health["isError"], false);
    assert_eq!(health["structuredContent"]["status"], "ok");
    assert_eq!(health["structuredContent"]["protocol_version"], "2025-06-18");
    assert!(text(&health).starts_with("ok: ide-agents-mcp "), "a summary for the model: {health}");
    let calls = server.call("echo_calls", json!({}));
    let text_json: Value = serde_json::from_str(text(&calls)).unwrap();
    assert_eq!(text_json, calls["structuredContent"], "structured content with no text is also serialised as text");

    let echo = server.call("echo", json!({"message": "hi"}));
    assert_eq!((text(&echo), &echo["structuredContent"]), ("hi", &json!({"message": "hi", "length": 2})));

    // Tool-level failures are isError results naming the problem.
    let missing = server.call("echo", json!({}));
    assert_eq!(missing["isError"], true);
    assert!(text(&missing).contains("\"message\" is a required property"), "{missing}");
    assert!(missing.get("structuredContent").is_none());
    let not_object = server.result("tools/call", json!({"name": "echo", "arguments": [1]}));
    assert_eq!(not_object["isError"], true);
    assert!(text(&not_object).contains("must be a JSON object"));

    // An unknown tool is a protocol error.
    let unknown = server.request("tools/call", json!({"name": "nope", "arguments": {}}));
    assert_eq!(unknown["error"]["code"], -32602);
    assert!(unknown["error"]["message"].as_str().unwrap().contains("nope"));
}

#[test]
fn progress_and_client_logging() {
    let mut server = Launch::new().spawn();
    server.initialize();
    let response = server.request(
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "p", "steps": 3}, "_meta": {"progressToken": "tok"}}),
    );
    assert_eq!(response["result"]["isError"], false);
    let progress: Vec<f64> = server
        .notifications
        .iter()
        .filter(|n| n["method"] == "notifications/progress")
        .inspect(|n| assert_eq!(n["params"]["progressToken"], "tok"))
        .map(|n| n["params"]["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(progress, [1.0, 2.0, 3.0]);
    assert!(server.notifications.iter().all(|n| n["method"] != "notifications/message"), "no logs before setLevel");

    assert_eq!(server.request("logging/setLevel", json!({"level": "loud"}))["error"]["code"], -32602);
    server.result("logging/setLevel", json!({"level": "info"}));
    server.notifications.clear();
    server.call("echo", json!({"message": "log me"}));
    let log = server.notifications.iter().find(|n| n["method"] == "notifications/message").expect("a log notification");
    assert_eq!((&log["params"]["level"], &log["params"]["logger"]), (&json!("info"), &json!("echo")));
    server.result("logging/setLevel", json!({"level": "error"}));
    server.notifications.clear();
    server.call("echo", json!({"message": "quiet"}));
    assert!(server.notifications.is_empty(), "info is below error: {:?}", server.notifications);
}

#[test]
fn concurrent_calls_are_answered_and_eof_waits_for_calls_in_flight() {
    let mut server = Launch::new().spawn();
    server.initialize();
    for i in 0..20 {
        server.send(&json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                            "params": {"name": "echo", "arguments": {"message": format!("m{i}"), "delay_ms": 200}}}));
    }
    let finished = server.finish();
    assert!(finished.status.success(), "exit status {:?}; stderr:\n{}", finished.status, finished.stderr);
    assert!(finished.exit_time < Duration::from_secs(10), "exit took {:?}", finished.exit_time);
    let mut ids: Vec<i64> = finished
        .stdout
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .inspect(|v| assert_eq!(v["result"]["content"][0]["text"], format!("m{}", v["id"])))
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, (0..20).collect::<Vec<_>>(), "every request in flight at EOF is answered");
}

#[test]
fn cancellation_stops_the_call_and_nothing_is_sent_for_it() {
    // One call slot: the echo below can only run once the cancelled guest has really stopped.
    let mut server = Launch::new().args(["--max-concurrent-calls", "1"]).spawn();
    server.initialize();
    server.send(&json!({"jsonrpc": "2.0", "id": "slow", "method": "tools/call",
                        "params": {"name": "hostile_spin", "arguments": {}}}));
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                        "params": {"requestId": "slow", "reason": "test"}}));
    let echo = server.request("tools/call", json!({"name": "echo", "arguments": {"message": "after"}}));
    assert_eq!(echo["result"]["content"][0]["text"], "after");
    assert!(started.elapsed() < Duration::from_secs(5));
    let finished = server.finish();
    assert!(finished.stdout.iter().all(|l| !l.contains("\"slow\"")), "response after cancel: {:?}", finished.stdout);
    assert!(finished.status.success());
}

#[test]
fn stdin_and_stdout_that_are_files_use_the_blocking_path() {
    // Regular files cannot be polled, so the server reads and writes them with its blocking
    // reader and writer threads; the answers must be the same.
    let dir = tempfile::tempdir().unwrap();
    let requests = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "ide_agents_health", "arguments": {}}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "ping"}),
    ];
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect::<String>() + "{\"unterminated\": ";
    std::fs::write(dir.path().join("in.jsonl"), input).unwrap();
    let status = std::process::Command::new(crate::support::server_bin())
        .args(["serve", "--telemetry", "off", "--cache-dir"])
        .arg(crate::support::shared_cache())
        .stdin(std::fs::File::open(dir.path().join("in.jsonl")).unwrap())
        .stdout(std::fs::File::create(dir.path().join("out.jsonl")).unwrap())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let out = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    let answers: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by_id = |id: i64| answers.iter().find(|a| a["id"] == id).unwrap_or_else(|| panic!("no answer {id}: {out}"));
    assert_eq!(by_id(1)["result"]["serverInfo"]["name"], "ide-agents-mcp");
    assert_eq!(by_id(2)["result"]["structuredContent"]["status"], "ok");
    assert_eq!(by_id(3)["result"], json!({}));
    assert!(answers.iter().any(|a| a["error"]["code"] == -32700), "the unterminated last line is a parse error: {out}");
}
