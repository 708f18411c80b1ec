//! Host services through real tool calls: pooled HTTP with allow-lists, the guest cache, tool
//! configuration and secrets, telemetry spans, configuration errors and health statistics.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::http_server::TestServer;
use crate::support::{Launch, Server, text};

/// A server with the nettest and echo tools and `config` as its configuration file.
fn server_with_config(config: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config).unwrap();
    let mut server = Launch::with_tools(&["nettest", "echo"]).args(["--config".as_ref(), file.as_os_str()]).spawn();
    server.initialize();
    (server, dir)
}

/// Calls `net_fetch` and returns (is_error, parsed JSON answer).
fn fetch(server: &mut Server, args: Value) -> (bool, Value) {
    let result = server.call("net_fetch", args);
    (result["isError"] == true, serde_json::from_str(text(&result)).unwrap())
}

#[test]
fn http_allow_list_redirects_and_private_addresses() {
    let web = TestServer::plain();
    let other = TestServer::plain();
    let (mut server, _dir) = server_with_config(&format!(
        "[tools.net_fetch]\nhttp_allow = [\"http://{}\"]\n[tools.echo]\nhttp_allow = [\"https://*.example.com\"]\n",
        web.addr
    ));

    let (err, ok) = fetch(&mut server, json!({"url": web.url("/ok")}));
    assert!(!err, "{ok}");
    assert_eq!((ok["status"].as_u64(), ok["body"].as_str()), (Some(200), Some("ok")));

    // Another origin (same host, other port) is denied, and nothing is dialled.
    let (err, denied) = fetch(&mut server, json!({"url": other.url("/ok")}));
    assert!(err);
    assert_eq!(denied["error"], "denied", "{denied}");
    assert_eq!(other.accepted(), 0);

    // Redirects are followed when the target is allowed, and denied when it is not.
    let (err, redirected) = fetch(&mut server, json!({"url": web.url("/redirect?to=/ok")}));
    assert!(!err, "{redirected}");
    assert_eq!(redirected["url"], web.url("/ok"));
    let (err, denied) = fetch(&mut server, json!({"url": web.url(&format!("/redirect?to={}", other.url("/ok")))}));
    assert!(err);
    assert_eq!(denied["error"], "denied", "{denied}");
    assert_eq!(other.accepted(), 0, "the redirect target was never contacted");

    // Metadata and private addresses are denied unless named explicitly.
    for url in ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]:80/"] {
        let (err, denied) = fetch(&mut server, json!({"url": url}));
        assert!(err && denied["error"] == "denied", "{url}: {denied}");
    }
    // Bad input gets its own error kind.
    let (_, bad) = fetch(&mut server, json!({"url": "not a url"}));
    assert_eq!(bad["error"], "bad_url");
    let (_, bad) = fetch(&mut server, json!({"url": web.url("/ok"), "method": "BREW"}));
    assert_eq!(bad["error"], "bad_url");
}

/// `wasi:http` (what a language's own HTTP library uses) goes through the same pooled client as
/// the `http` interface: the tool's allow-list, redirects, private addresses, the body cap.
#[test]
fn wasi_http_requests_go_through_the_pool_and_the_allow_list() {
    let web = TestServer::plain();
    let other = TestServer::plain();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let config =
        format!("[tools.wasi_fetch]\nhttp_allow = [\"http://{}\"]\n[http]\nmax_response_bytes = 4096\n", web.addr);
    std::fs::write(&file, config).unwrap();
    let mut server = Launch::with_tools(&["wasifetch"]).args(["--config".as_ref(), file.as_os_str()]).spawn();
    server.initialize();
    let mut fetch = |args: Value| -> Value {
        let result = server.call("wasi_fetch", args);
        serde_json::from_str(text(&result)).unwrap_or_else(|e| panic!("{e}: {result}"))
    };

    assert_eq!(fetch(json!({"url": web.url("/ok")})), json!({"status": 200, "body": "ok"}));
    let posted = fetch(json!({"url": web.url("/echo"), "method": "POST", "body": "hello"}));
    assert_eq!(posted, json!({"status": 200, "body": "POST auth=false hello"}));
    assert_eq!(fetch(json!({"url": web.url("/redirect?to=/ok")})), json!({"status": 200, "body": "ok"}));

    // Another origin, a private address: denied, and nothing is dialled.
    let denied = fetch(json!({"url": other.url("/ok")}));
    assert_eq!(denied["error"], "ErrorCode::HttpRequestDenied", "{denied}");
    assert_eq!(other.accepted(), 0);
    let denied = fetch(json!({"url": "http://10.0.0.1/"}));
    assert_eq!(denied["error"], "ErrorCode::HttpRequestDenied", "{denied}");
    // The response cap of [http] applies.
    let big = fetch(json!({"url": web.url("/big?n=10000")}));
    assert!(big["error"].as_str().unwrap().starts_with("ErrorCode::HttpResponseBodySize"), "{big}");
    server.wait_stderr("wasi:http request failed"); // the reason
}

#[test]
fn http_connections_are_pooled_and_limits_fire() {
    let web = TestServer::plain();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (mut server, _dir) = server_with_config(&format!(
        "[http]\nmax_response_bytes = 65536\n[tools.net_fetch]\nhttp_allow = [\"http://{}\", \"http://{closed}\"]\n",
        web.addr
    ));
    // 20 requests in one call, then 5 more calls: one TCP connection for all of them.
    let (err, r) = fetch(&mut server, json!({"url": web.url("/ok"), "repeat": 20}));
    assert!(!err, "{r}");
    for _ in 0..5 {
        assert!(!fetch(&mut server, json!({"url": web.url("/ok")})).0);
    }
    assert_eq!(web.accepted(), 1, "sequential requests reuse one pooled connection");

    let (_, slow) = fetch(&mut server, json!({"url": web.url("/slow?ms=3000"), "timeout_ms": 200}));
    assert_eq!(slow["error"], "timeout", "{slow}");
    let (_, big) = fetch(&mut server, json!({"url": web.url("/big?n=100000")}));
    assert_eq!((big["error"].as_str(), big["detail"].as_str()), (Some("too_large"), Some("65536")));
    let (err, fits) = fetch(&mut server, json!({"url": web.url("/big?n=65536")}));
    assert!(!err && fits["body_len"] == 65536, "{fits}");
    let (_, refused) = fetch(&mut server, json!({"url": format!("http://{closed}/")}));
    assert_eq!(refused["error"], "connect_failed", "{refused}");

    let health = server.call("ide_agents_health", json!({}));
    let http = &health["structuredContent"]["http"];
    assert!(http["requests"].as_u64().unwrap() >= 27, "{http}");
    assert!(http["connections_opened"].as_u64().unwrap() >= 2, "{http}");
}

#[test]
fn http2_is_negotiated_with_an_h2_server() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let web = TestServer::tls(&ca);
    let port = web.addr.port();
    let (mut server, _cfg) = server_with_config(&format!(
        "[http]\nextra_root_certs = [{ca:?}]\n[tools.net_fetch]\nhttp_allow = [\"https://localhost:{port}\"]\n"
    ));
    let (err, r) = fetch(&mut server, json!({"url": format!("https://localhost:{port}/ok"), "repeat": 3}));
    assert!(!err, "{r}");
    assert_eq!((r["version"].as_str(), r["body"].as_str()), (Some("HTTP/2.0"), Some("ok")));
    assert_eq!(web.accepted(), 1);
}

#[test]
fn guest_cache_is_per_tool_and_expires_and_config_is_per_tool() {
    let (mut server, _dir) = server_with_config(
        "[tools.net_cache]\nconfig = { region = \"eu\" }\n[tools.net_config]\nconfig = { region = \"us\" }\n\
         secrets = { token = \"s3cr3t-value\" }\n",
    );
    let op = |server: &mut Server, tool: &str, args: Value| -> Value {
        serde_json::from_str(text(&server.call(tool, args))).unwrap()
    };
    assert_eq!(op(&mut server, "net_cache", json!({"op": "get", "key": "k"})), json!({"value": null}));
    assert_eq!(op(&mut server, "net_cache", json!({"op": "set", "key": "k", "value": "v1"})), json!({"stored": true}));
    assert_eq!(op(&mut server, "net_cache", json!({"op": "get", "key": "k"})), json!({"value": "v1"}));
    assert_eq!(op(&mut server, "net_cache_b", json!({"op": "get", "key": "k"})), json!({"value": null}), "per tool");
    assert_eq!(
        op(&mut server, "net_cache", json!({"op": "set", "key": "short", "value": "x", "ttl_ms": 50})),
        json!({"stored": true})
    );
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(op(&mut server, "net_cache", json!({"op": "get", "key": "short"})), json!({"value": null}));
    assert_eq!(op(&mut server, "net_cache", json!({"op": "delete", "key": "k"})), json!({"deleted": true}));
    assert_eq!(op(&mut server, "net_cache", json!({"op": "get", "key": "k"})), json!({"value": null}));

    // Config values and secrets are per tool: net_config sees its own, not net_cache's.
    assert_eq!(op(&mut server, "net_config", json!({"key": "region"})), json!({"value": "us"}));
    assert_eq!(
        op(&mut server, "net_config", json!({"key": "token", "secret": true})),
        json!({"value": "s3cr3t-value"})
    );
    assert_eq!(op(&mut server, "net_config", json!({"key": "missing"})), json!({"value": null}));

    let health = server.call("ide_agents_health", json!({}));
    let guest =
        health["structuredContent"]["caches"].as_array().unwrap().iter().find(|c| c["name"] == "guest").cloned();
    let guest = guest.expect("guest cache stats");
    assert!(guest["hits"].as_u64().unwrap() >= 1 && guest["misses"].as_u64().unwrap() >= 3, "{guest}");
    let finished = server.finish();
    assert!(!finished.stderr.contains("s3cr3t-value"), "a secret reached the log");
}

fn spans(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn every_call_yields_one_span_after_eof_and_after_sigterm() {
    for signal in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("spans.jsonl");
        let mut server = Launch::with_tools(&["echo", "hostile"]).telemetry(&file).spawn();
        server.initialize();
        for i in 0..25 {
            server.call("echo", json!({"message": format!("m{i}")}));
        }
        server.call("echo", json!({}));
        server.call("hostile_trap", json!({}));
        if signal {
            let status =
                std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
            assert!(status.success());
        }
        let finished = server.finish();
        assert!(finished.status.success(), "signal={signal}: {:?}\n{}", finished.status, finished.stderr);
        let spans = spans(&file);
        assert_eq!(spans.len(), 27, "signal={signal}");
        let echo_ok = spans.iter().filter(|s| s["tool_name"] == "echo" && s["success"] == true).count();
        assert_eq!(echo_ok, 25);
        let bad_args = spans.iter().find(|s| s["error_code"] == "invalid_arguments").expect("invalid_arguments span");
        assert_eq!(bad_args["success"], false);
        let trap = spans.iter().find(|s| s["tool_name"] == "hostile_trap").unwrap();
        assert_eq!(trap["error_code"], "trap");
        for s in &spans {
            assert_eq!(s["method"], "tools/call");
            assert!(s["duration_ms"].as_f64().unwrap() >= 0.0);
            for phase in ["queued_ms", "load_ms", "instantiate_ms", "execute_ms", "http_ms"] {
                assert!(s["phases"][phase].is_number(), "{s}");
            }
        }
    }
}

#[test]
fn an_unwritable_span_file_leaves_the_server_answering() {
    let mut server = Launch::new().telemetry("/dev/full").args(["--log", "info"]).spawn();
    server.initialize();
    for _ in 0..3 {
        assert_eq!(text(&server.call("echo", json!({"message": "still here"}))), "still here");
    }
    let finished = server.finish();
    assert!(finished.status.success());
    assert!(finished.stderr.contains("cannot write telemetry spans"), "{}", finished.stderr);
}

#[test]
fn stats_summarises_a_span_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spans.jsonl");
    let mut server = Launch::new().telemetry(&file).spawn();
    server.initialize();
    for _ in 0..10 {
        server.call("echo", json!({"message": "x"}));
    }
    server.call("hostile_trap", json!({}));
    assert!(server.finish().status.success());
    let out = std::process::Command::new(crate::support::server_bin())
        .args(["stats".as_ref(), file.as_os_str(), "--json".as_ref()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let echo = report["tools"].as_array().unwrap().iter().find(|t| t["tool"] == "echo").unwrap();
    assert_eq!((echo["count"].as_u64(), echo["error_rate"].as_f64()), (Some(10), Some(0.0)));
    assert!(echo["p99_ms"].as_f64().unwrap() >= echo["p50_ms"].as_f64().unwrap());
    let trap = report["tools"].as_array().unwrap().iter().find(|t| t["tool"] == "hostile_trap").unwrap();
    assert_eq!(trap["error_rate"].as_f64(), Some(1.0));
    let table = std::process::Command::new(crate::support::server_bin())
        .args(["stats".as_ref(), file.as_os_str()])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.lines().next().unwrap().contains("p99 ms") && table.contains("echo"), "{table}");
}

#[test]
fn wit_writes_the_package_the_binary_serves() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("deps/ide-agents");
    let run = std::process::Command::new(crate::support::server_bin())
        .args(["wit".as_ref(), "--out".as_ref(), out.as_os_str()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    assert!(run.stdout.is_empty(), "wit writes files, not stdout");
    assert!(String::from_utf8_lossy(&run.stderr).contains("of ide-agents:tool@0.1.0 to"), "{run:?}");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let mut written = 0;
    for entry in std::fs::read_dir(&repo).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            std::fs::read_to_string(out.join(&name)).unwrap(),
            std::fs::read_to_string(repo.join(&name)).unwrap(),
            "{name:?}"
        );
        written += 1;
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), written);
    // A path that cannot be a directory fails with the reason, not a panic.
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let bad = std::process::Command::new(crate::support::server_bin())
        .args(["wit".as_ref(), "--out".as_ref(), file.as_os_str()])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot write the package"), "{bad:?}");
}

#[test]
fn invalid_configuration_fails_at_startup_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("[http]\nmax_in_flight = 0\n", "http.max_in_flight"),
        ("[telemetry]\nbatch_sise = 5\n", "batch_sise"),
        ("[tools.x]\nhttp_allow = [\"gopher://a\"]\n", "tools.x.http_allow[0]"),
    ] {
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, text).unwrap();
        let finished = Launch::bare().args(["--config".as_ref(), file.as_os_str()]).spawn().finish();
        assert_eq!(finished.status.code(), Some(2), "{text}");
        assert!(
            finished.stderr.contains(&file.display().to_string()) && finished.stderr.contains(key),
            "{}",
            finished.stderr
        );
    }
}

#[test]
fn health_reports_caches_telemetry_http_and_memory() {
    let mut server = Launch::new().spawn();
    server.initialize();
    server.result("tools/list", json!({}));
    server.result("tools/list", json!({}));
    let health = server.call("ide_agents_health", json!({}));
    let s = &health["structuredContent"];
    let schema = s["caches"].as_array().unwrap().iter().find(|c| c["name"] == "schema").unwrap();
    assert!(schema["hits"].as_u64().unwrap() >= 6, "second tools/list is served from the schema cache: {schema}");
    assert_eq!(s["telemetry"]["enabled"], true);
    assert!(s["rss_bytes"].as_u64().unwrap() > 1 << 20);
    assert_eq!(s["ultra"], false);
}
