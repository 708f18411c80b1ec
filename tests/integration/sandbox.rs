//! Sandbox basics: a hostile guest costs its own call only.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Launch, text};

#[test]
fn a_looping_guest_is_stopped_by_the_timeout_and_the_next_call_works() {
    let mut server = Launch::new().args(["--call-timeout-ms", "300"]).spawn();
    server.initialize();
    server.call("echo", json!({"message": "warm up"}));
    let started = Instant::now();
    let spin = server.call("hostile_spin", json!({}));
    let took = started.elapsed();
    assert_eq!(spin["isError"], true);
    assert!(text(&spin).contains("time limit of 300 ms"), "{spin}");
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(text(&server.call("echo", json!({"message": "alive"}))), "alive");
    assert_eq!(server.call("ide_agents_health", json!({}))["isError"], false);
}

#[test]
fn a_guest_that_prints_cannot_corrupt_stdout() {
    let mut server = Launch::new().spawn();
    server.initialize();
    for _ in 0..3 {
        let result = server.call("hostile_stdout", json!({}));
        assert_eq!(text(&result), "printed");
    }
    server.call("echo", json!({"message": "still fine"}));
    let finished = server.finish();
    // Every stdout line the client saw was parsed as a JSON-RPC response by `recv`; the forged
    // line went to stderr, tagged with the tool.
    assert!(finished.stdout.is_empty(), "{:?}", finished.stdout);
    assert!(
        finished.stderr.contains("[hostile_stdout stdout] {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"forged\":true}}")
    );
    assert!(finished.stderr.contains("[hostile_stdout stderr] hostile stderr line"));
}

#[test]
fn a_trapping_guest_fails_its_own_call_only() {
    let mut server = Launch::new().spawn();
    server.initialize();
    let trap = server.call("hostile_trap", json!({}));
    assert_eq!(trap["isError"], true);
    assert!(text(&trap).contains("crashed"), "{trap}");
    // The model sees why: the panic message the guest wrote to stderr before it trapped.
    assert!(text(&trap).contains("its last lines on stderr:"), "{trap}");
    assert!(text(&trap).contains("hostile guest panicked on purpose"), "{trap}");
    assert_eq!(text(&server.call("echo", json!({"message": "next"}))), "next");
    // A call that traps without writing to stderr gets no stderr part.
    let recurse = server.call("hostile_recurse", json!({}));
    assert!(!text(&recurse).contains("on stderr"), "{recurse}");
}

#[test]
fn a_guest_over_its_memory_limit_fails_its_own_call_only() {
    let mut server = Launch::new().args(["--memory-limit-mib", "32"]).spawn();
    server.initialize();
    let alloc = server.call("hostile_alloc", json!({}));
    assert_eq!(alloc["isError"], true);
    assert!(text(&alloc).contains("memory limit of 32 MiB"), "{alloc}");
    assert_eq!(text(&server.call("echo", json!({"message": "next"}))), "next");
}

#[test]
fn guests_get_no_ambient_authority() {
    let mut server = Launch::new().spawn();
    server.initialize();
    let probe = server.call("hostile_probe", json!({}));
    let report: Value = serde_json::from_str(text(&probe)).unwrap();
    assert_eq!(
        report,
        json!({"env": 0, "args": 0, "read_passwd": false, "read_root": false, "cwd_file": false, "tcp": false}),
        "the guest reached something it was not granted"
    );
}

/// What `echo_calls` answers to five calls in a row: the count kept in its static memory.
fn calls(server: &mut crate::support::Server) -> Vec<u64> {
    (0..5).map(|_| server.call("echo_calls", json!({}))["structuredContent"]["calls"].as_u64().unwrap()).collect()
}

#[test]
fn instances_are_fresh_unless_a_tool_opts_into_reuse() {
    let mut fresh = Launch::with_tools(&["echo"]).spawn();
    fresh.initialize();
    assert_eq!(calls(&mut fresh), [1, 1, 1, 1, 1], "no state survives a call by default");

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[tools.echo_calls]\nreuse_instance = true\n").unwrap();
    let mut reused = Launch::with_tools(&["echo"]).args(["--config".as_ref(), config.as_os_str()]).spawn();
    reused.initialize();
    assert_eq!(calls(&mut reused), [1, 2, 3, 4, 5], "one instance serves the calls in turn");
    // `echo` did not opt in: its calls still get fresh instances (a kept one is not used for it).
    assert_eq!(text(&reused.call("echo", json!({"message": "fresh"}))), "fresh");
    assert_eq!(calls(&mut reused)[0], 6);
}

/// The pooling allocator resets a slot with `PAGEMAP_SCAN` where the kernel's answer is reliable
/// (`runtime/pagemap.rs`), and with memset and `madvise` otherwise: the test above runs whichever
/// this kernel gets, this one the fallback. Either way no state survives a call.
#[test]
fn instances_are_fresh_when_slots_are_reset_without_the_pagemap_scan() {
    let mut server = Launch::with_tools(&["echo"]).env("IDE_AGENTS_MCP_PAGEMAP_SCAN", "off").spawn();
    server.initialize();
    assert_eq!(calls(&mut server), [1, 1, 1, 1, 1], "no state survives a call");
}
