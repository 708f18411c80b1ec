//! Hostile tools and hostile clients: each attack costs its own call only, the message names the
//! limit that was hit, memory stays bounded, shutdown answers or cancels everything.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Launch, Server, proc_status_kib, text};

fn rss_kib(pid: u32) -> u64 {
    proc_status_kib(pid, "VmRSS:")
}

fn hostile_server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        // The time limit where it is tested only: on a loaded machine the other tools' honest
        // work (a 100 MiB output built and refused) must not run into it.
        "[limits]\nmemory_limit_mib = 64\n[tools.hostile_big_output]\nmemory_limit_mib = 512\n\
         [tools.hostile_spin]\ncall_timeout_ms = 1000\n[tools.hostile_sleep]\ncall_timeout_ms = 1000\n",
    )
    .unwrap();
    let mut server = Launch::new().args(["--config".as_ref(), config.as_os_str()]).spawn();
    server.initialize();
    (server, dir)
}

#[test]
fn every_hostile_tool_costs_its_own_call_only_and_names_the_limit() {
    let (mut server, _dir) = hostile_server();
    let cases = [
        ("hostile_spin", "time limit of 1000 ms"),
        ("hostile_sleep", "time limit of 1000 ms"),
        ("hostile_alloc", "memory limit of 64 MiB"),
        // The 64 KiB shadow stack overflows below address 0 of linear memory: a trap.
        ("hostile_recurse", "crashed: wasm trap"),
        ("hostile_trap", "crashed"),
        ("hostile_big_output", "more than its limit of 16777216 bytes"),
        ("hostile_bad_json", "not valid JSON"),
        ("hostile_schema_break", "breaks its output schema"),
    ];
    for (tool, expected) in cases {
        let started = Instant::now();
        let result = server.call(tool, json!({}));
        assert_eq!(result["isError"], true, "{tool}: {result}");
        assert!(text(&result).contains(expected), "{tool}: expected {expected:?} in {result}");
        assert!(result.get("structuredContent").is_none(), "{tool}");
        assert!(started.elapsed() < Duration::from_secs(10), "{tool} took {:?}", started.elapsed());
        // The next call of another tool is unaffected.
        assert_eq!(text(&server.call("echo", json!({"message": tool}))), tool);
    }
    // Network: denied by default, loopback and metadata included; nothing is dialled.
    let http = server.call("hostile_http", json!({}));
    let report: Value = serde_json::from_str(text(&http)).unwrap();
    assert_eq!(report, json!({"example": "denied", "loopback": "denied", "metadata": "denied"}));
    // Input is validated against the schema before the guest runs, naming the field.
    let bad = server.call("echo", json!({"message": 42}));
    assert_eq!(bad["isError"], true);
    assert!(text(&bad).contains("/message"), "{bad}");
}

#[test]
fn rss_stays_flat_over_10000_hostile_calls() {
    let (mut server, _dir) = hostile_server();
    let tools = ["hostile_trap", "hostile_bad_json", "hostile_schema_break", "hostile_recurse", "hostile_http"];
    let run = |server: &mut Server, n: usize, offset: usize| {
        // 16 in flight, like a busy client.
        let mut sent = 0;
        let mut done = 0;
        while done < n {
            while sent < n && sent - done < 16 {
                let tool = tools[(offset + sent) % tools.len()];
                server.send(&json!({"jsonrpc": "2.0", "id": offset + sent, "method": "tools/call",
                                    "params": {"name": tool, "arguments": {}}}));
                sent += 1;
            }
            let reply = server.recv();
            assert!(reply["result"].is_object(), "{reply}");
            done += 1;
        }
    };
    run(&mut server, 1_000, 0);
    let warm = rss_kib(server.pid());
    run(&mut server, 10_000, 1_000);
    let after = rss_kib(server.pid());
    eprintln!("RSS after 1,000 hostile calls: {warm} KiB; after 10,000 more: {after} KiB");
    assert!(after < warm + 10 * 1024, "RSS grew from {warm} KiB to {after} KiB");
    assert_eq!(text(&server.call("echo", json!({"message": "ok"}))), "ok");
}

#[test]
fn a_slow_tool_flooded_with_calls_does_not_starve_others() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[tools.echo]\nmax_concurrent_calls = 4\n").unwrap();
    let mut server = Launch::new().args(["--config".as_ref(), config.as_os_str()]).spawn();
    server.initialize();
    for i in 0..400 {
        server.send(&json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                            "params": {"name": "echo", "arguments": {"message": "slow", "delay_ms": 50}}}));
    }
    // 400 x 50 ms at 4 at a time is 5 s of backlog; health must not wait behind it.
    let started = Instant::now();
    server.send(&json!({"jsonrpc": "2.0", "id": "health", "method": "tools/call",
                        "params": {"name": "ide_agents_health", "arguments": {}}}));
    let mut answered = 0;
    let mut health_after = None;
    while answered < 401 {
        let reply = server.recv();
        if reply["id"] == "health" {
            health_after = Some(started.elapsed());
        }
        assert_eq!(reply["result"]["isError"], false, "{reply}");
        answered += 1;
    }
    let health_after = health_after.unwrap();
    eprintln!("health answered after {health_after:?} behind a 5 s echo backlog");
    assert!(health_after < Duration::from_millis(3000), "health waited {health_after:?}");
}

#[test]
fn cancellation_stops_a_running_guest_promptly() {
    let mut server = Launch::new().args(["--max-concurrent-calls", "1"]).spawn();
    server.initialize();
    let mut latencies = Vec::new();
    for i in 0..5 {
        let id = format!("spin{i}");
        server.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                            "params": {"name": "hostile_spin", "arguments": {}}}));
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        server.send(&json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id}}));
        // With one call slot, this answer proves the spinning guest has stopped.
        server.call("echo", json!({"message": "next"}));
        latencies.push(started.elapsed());
    }
    latencies.sort();
    eprintln!("cancel -> next call answered (one slot): median {:?}, max {:?}", latencies[2], latencies[4]);
    // An uncancelled spin would hold the one slot for the 30 s default time limit.
    assert!(latencies[4] < Duration::from_secs(5), "{latencies:?}");
    let finished = server.finish();
    assert!(finished.stdout.iter().all(|l| !l.contains("spin")), "{:?}", finished.stdout);
}

#[test]
fn protocol_hostility_is_answered_and_survived() {
    let mut server = Launch::new().spawn();
    // Requests before initialize are served (lenient, like the stateless protocol revision).
    assert!(server.result("tools/list", json!({}))["tools"].is_array());
    // Random bytes: every line gets an error or nothing, never a crash.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        let len = (seed % 200) as usize + 1;
        let line: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 256) as u8
            })
            .filter(|b| *b != b'\n')
            .collect();
        server.send_bytes(&line);
    }
    server.send(&json!({"jsonrpc": "2.0", "id": "alive", "method": "ping"}));
    loop {
        let reply = server.recv();
        if reply["id"] == "alive" {
            break;
        }
        assert!(reply["error"]["code"].is_i64(), "{reply}");
    }
    // Ids of every JSON type.
    for (id, ok) in [
        ("1", true),
        ("\"s\"", true),
        ("-1", true),
        ("1.5", false),
        ("true", false),
        ("[]", false),
        ("{}", false),
        ("null", false),
    ] {
        server.send_raw(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#));
        let reply = server.recv();
        assert_eq!(reply.get("result").is_some(), ok, "id {id}: {reply}");
    }
    // Params of the wrong type.
    for (method, params) in [
        ("tools/call", json!([1])),
        ("logging/setLevel", json!({"level": 5})),
        ("tools/list", json!({"cursor": 7})),
        ("initialize", json!({"protocolVersion": []})),
    ] {
        let reply = server.request(method, params);
        assert!(matches!(reply["error"]["code"].as_i64(), Some(-32602 | -32600)), "{method}: {reply}");
    }
    // A duplicate id while the first call is still running.
    server.send(&json!({"jsonrpc": "2.0", "id": "dup", "method": "tools/call",
                        "params": {"name": "echo", "arguments": {"message": "a", "delay_ms": 2000}}}));
    server.send(&json!({"jsonrpc": "2.0", "id": "dup", "method": "tools/call",
                        "params": {"name": "echo", "arguments": {"message": "b"}}}));
    let first = server.recv();
    assert_eq!((first["id"].as_str(), first["error"]["code"].as_i64()), (Some("dup"), Some(-32600)), "{first}");
    let second = server.recv();
    assert_eq!(second["result"]["content"][0]["text"], "a");
    assert_eq!(server.result("ping", json!({})), json!({}));
}

#[test]
fn a_client_that_does_not_read_gets_back_pressure_not_unbounded_memory() {
    let server = Launch::new().spawn();
    let pid = server.pid();
    let mut server = server;
    server.initialize();
    let mut stdin = server.take_stdin();
    let writer = std::thread::spawn(move || {
        for i in 0..10_000 {
            let line = json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                              "params": {"name": "echo", "arguments": {"message": "x".repeat(100)}}});
            if writeln!(stdin, "{line}").is_err() {
                return false;
            }
        }
        stdin.flush().is_ok()
    });
    // Nobody reads for two seconds: the server must stall, not buffer 10,000 answers.
    std::thread::sleep(Duration::from_secs(2));
    let stalled_rss = rss_kib(pid);
    let mut answered = 0;
    while answered < 10_000 {
        let reply = server.recv();
        assert_eq!(reply["result"]["isError"], false);
        answered += 1;
    }
    assert!(writer.join().unwrap());
    eprintln!("RSS while the client was not reading: {stalled_rss} KiB");
    assert!(stalled_rss < 200 * 1024, "RSS {stalled_rss} KiB");
}

#[test]
fn sigterm_with_1000_calls_in_flight_answers_or_cancels_all_and_exits_fast() {
    let dir = tempfile::tempdir().unwrap();
    let spans = dir.path().join("spans.jsonl");
    let mut server = Launch::new().telemetry(&spans).spawn();
    server.initialize();
    for i in 0..1000 {
        server.send(&json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                            "params": {"name": "echo", "arguments": {"message": "m", "delay_ms": 20000}}}));
    }
    // Lines are handled in order: the ping's answer means all 1,000 calls were taken in.
    server.send(&json!({"jsonrpc": "2.0", "id": "ping", "method": "ping"}));
    assert_eq!(server.response(&json!("ping"))["result"], json!({}));
    assert!(std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap().success());
    let exit = server.wait_exit();
    let took = exit.exit_time;
    eprintln!("SIGTERM with 1,000 calls in flight: exit after {took:?}");
    assert!(exit.status.success(), "{:?}\n{}", exit.status, exit.stderr);
    // 500 ms of grace, then 1,000 cancellations answered and their spans flushed (about 0.6 s
    // here); waiting for the calls would take 20 s.
    assert!(took < Duration::from_secs(3), "exit took {took:?}");
    let replies: Vec<Value> = exit.stdout.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut ids: Vec<i64> = replies.iter().filter_map(|r| r["id"].as_i64()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1000, "every call answered or cancelled with an error");
    assert!(replies.iter().all(
        |r| r["error"]["message"].as_str().is_some_and(|m| m.contains("shutting down")) || r["result"].is_object()
    ));
    let lines = std::fs::read_to_string(&spans).unwrap();
    let cancelled = lines.lines().filter(|l| l.contains("\"cancelled\"")).count();
    assert_eq!(lines.lines().count(), 1000, "one span per call, flushed before exit");
    assert!(cancelled > 900, "{cancelled} cancelled spans");
}

#[test]
fn eof_with_1000_fast_calls_in_flight_answers_all() {
    let mut server = Launch::new().spawn();
    server.initialize();
    for i in 0..1000 {
        server.send(&json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                            "params": {"name": "echo", "arguments": {"message": "m"}}}));
    }
    let finished = server.finish();
    assert!(finished.status.success());
    assert_eq!(finished.stdout.len(), 1000);
    eprintln!("EOF with 1,000 calls queued: exit after {:?}", finished.exit_time);
}

#[test]
fn the_line_limit_is_configurable() {
    let mut server = Launch::new().args(["--max-line-bytes", "2048"]).spawn();
    let long = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{}"}}}}"#, "x".repeat(3000));
    server.send_raw(&long);
    let reply = server.recv();
    assert_eq!(reply["error"]["code"], -32600);
    assert!(reply["error"]["message"].as_str().unwrap().contains("2048-byte"));
    assert_eq!(server.result("ping", json!({})), json!({}));
}

/// A tool built as the shipped tools are (`wasm32-unknown-unknown` with the guest SDK: no WASI,
/// so no stderr) that panics: the call fails on its own as a crash, and the panic message reaches
/// the server's stderr log through the SDK's panic hook and the WIT `log` interface.
#[test]
fn a_wasi_free_tool_that_panics_reports_its_message() {
    let tools = tempfile::tempdir().unwrap();
    std::fs::copy(ide_agents_test_guests::PANICKY, tools.path().join("panicky.wasm")).unwrap();
    let mut server = Launch::patient(tools.path(), crate::support::shared_cache()).spawn();
    server.initialize();
    for _ in 0..2 {
        let result = server.call("panicky", json!({}));
        assert_eq!(result["isError"], true, "{result}");
        assert!(text(&result).contains("crashed"), "{result}");
    }
    server.wait_stderr("panicky was asked to panic");
    // The server goes on serving.
    assert!(!text(&server.call("ide_agents_health", json!({}))).is_empty());
}
