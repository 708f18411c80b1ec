//! `serve --watch`: components added, changed and removed in a tools directory while the server
//! runs are swapped in and out and announced; a broken new version leaves the previous one
//! serving; a call in flight finishes on the version it started with.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Launch, Server, guest, shared_cache, text};

fn tool_names(server: &mut Server) -> Vec<String> {
    let list = server.result("tools/list", json!({}));
    list["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

/// Lists tools until `done` holds for the names (at most 60 s).
fn wait_until(server: &mut Server, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let started = Instant::now();
    loop {
        let names = tool_names(server);
        if done(&names) {
            return names;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{what} never happened: {names:?}\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn announced(server: &Server) -> usize {
    server.notifications.iter().filter(|n| n["method"] == "notifications/tools/list_changed").count()
}

fn slow_echo(server: &mut Server, id: i64, message: &str, delay_ms: u64) {
    server.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                        "params": {"name": "echo", "arguments": {"message": message, "delay_ms": delay_ms}}}));
}

#[test]
fn a_watched_tools_directory_swaps_components_in_and_out() {
    let dir = tempfile::tempdir().unwrap();
    let echo = dir.path().join("echo.wasm");
    std::fs::copy(guest("echo"), &echo).unwrap();
    let mut server = Launch::bare()
        .args(["--tools-dir".as_ref(), dir.path().as_os_str(), "--cache-dir".as_ref(), shared_cache().as_os_str()])
        .args(["--watch"])
        .spawn();
    server.initialize();
    assert!(tool_names(&mut server).contains(&"echo".to_owned()));

    // A broken new version: the previous one keeps serving, and a call in flight is unharmed.
    slow_echo(&mut server, 900, "before the broken build", 1500);
    std::fs::write(&echo, b"\0asm\x0d\x00\x01\x00 a half-written build").unwrap();
    let reply = server.response(&json!(900));
    assert_eq!(text(&reply["result"]), "before the broken build", "{reply}");
    server.wait_stderr("the previous one keeps serving");
    assert_eq!(text(&server.call("echo", json!({"message": "still here"}))), "still here");

    // A changed component: echo.wasm now holds another component. A call that started on the
    // old version finishes on it; then the old tools are gone and the new ones served.
    let before = announced(&server);
    slow_echo(&mut server, 901, "old version", 2000);
    std::fs::copy(guest("conformance"), &echo).unwrap();
    let reply = server.response(&json!(901));
    assert_eq!(text(&reply["result"]), "old version", "{reply}");
    let names = wait_until(&mut server, "the swap", |n| !n.iter().any(|t| t == "echo"));
    assert!(!names.is_empty(), "the new version's tools are served: {names:?}");
    server.wait_notifications("notifications/tools/list_changed", before);

    // An added component appears; a removed one goes.
    let net = dir.path().join("nettest.wasm");
    std::fs::copy(guest("nettest"), &net).unwrap();
    wait_until(&mut server, "the addition", |n| n.iter().any(|t| t == "net_fetch"));
    std::fs::remove_file(&net).unwrap();
    let names = wait_until(&mut server, "the removal", |n| !n.iter().any(|t| t == "net_fetch"));
    assert!(!names.is_empty());
    let unknown = server.request("tools/call", json!({"name": "net_fetch", "arguments": {}}));
    assert!(unknown.get("error").is_some(), "{unknown}");
    assert!(Path::new(&echo).exists());
    let _: Value = server.result("ping", json!({}));
}

/// A component replaced while startup discovery compiles it: the watcher's baseline is what is
/// served, not its first listing, so the new content is taken however the two interleave; and the
/// version that changed under the compile is not remembered as failing (a restart with the old
/// file back serves it).
#[test]
fn a_component_replaced_during_startup_discovery_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let echo = dir.path().join("echo.wasm");
    std::fs::copy(guest("echo"), &echo).unwrap();
    let launch = || {
        Launch::bare()
            .args(["--tools-dir".as_ref(), dir.path().as_os_str(), "--cache-dir".as_ref(), cache.path().as_os_str()])
            .args(["--watch"])
            .spawn()
    };
    let mut server = launch();
    server.wait_stderr("serving MCP");
    // The cache is empty, so echo.wasm is still compiling: replace it now.
    std::fs::copy(guest("conformance"), &echo).unwrap();
    server.initialize();
    let names = wait_until(&mut server, "the replacement", |n| !n.is_empty() && !n.iter().any(|t| t == "echo"));
    assert!(!names.is_empty(), "{}", server.stderr());
    drop(server);

    std::fs::copy(guest("echo"), &echo).unwrap();
    let mut server = launch();
    server.initialize();
    wait_until(&mut server, "the old version served again", |n| n.iter().any(|t| t == "echo"));
    assert_eq!(text(&server.call("echo", json!({"message": "back"}))), "back", "{}", server.stderr());
}
