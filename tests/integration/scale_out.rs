//! Scale-out on real parts: three server processes behind nginx (Debian's package, installed by
//! `scripts/test.sh`), serving stateless 2026-07-28 requests round-robin; one instance killed
//! under load loses only the requests it had in flight (the client gets a 502 for each), and the
//! others go on serving; a multi round-trip call is resumed on another instance than the one that
//! asked (they share `request_state_key`). With `CI=true` a missing nginx fails the test;
//! elsewhere it is skipped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::Launch;

fn nginx() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.exists())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A 2026-07-28 `tools/call` of `tool` through `port` with `params` merged in (and `_meta`
/// declaring `capabilities`): the HTTP status (0 if the connection failed) and the reply.
fn post_call(port: u16, tool: &str, capabilities: Value, params: Value) -> (u16, Value) {
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": capabilities});
    let mut all = json!({"name": tool, "arguments": {}, "_meta": meta});
    for (key, value) in params.as_object().unwrap() {
        all[key] = value.clone();
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": all}).to_string();
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return (0, Value::Null) };
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nAccept: application/json\r\n\
         MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: {tool}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, Value::Null);
    }
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or_default())
}

/// A 2026-07-28 echo call through `port`: the HTTP status (0 if the connection failed).
fn call(port: u16, delay_ms: u64) -> u16 {
    let (status, reply) =
        post_call(port, "echo", json!({}), json!({"arguments": {"message": "m", "delay_ms": delay_ms}}));
    if status == 200 {
        assert_eq!(reply["result"]["content"][0]["text"], "m", "{reply}");
    }
    status
}

/// nginx round-robin in front of `servers`, from `dir`: its port and process.
fn start_nginx(
    nginx: &std::path::Path,
    dir: &std::path::Path,
    servers: &[crate::support::Server],
) -> (u16, std::process::Child) {
    let upstreams: String = servers
        .iter()
        .map(|s| {
            format!(
                "server {} max_fails=1 fail_timeout=30s;\n",
                s.http_url().trim_start_matches("http://").trim_end_matches("/mcp")
            )
        })
        .collect();
    let port = free_port();
    let prefix = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n access_log off;\n client_body_temp_path {prefix}/body;\n proxy_temp_path {prefix}/proxy;\n\
             fastcgi_temp_path {prefix}/fastcgi;\n uwsgi_temp_path {prefix}/uwsgi;\n scgi_temp_path {prefix}/scgi;\n\
             upstream mcp {{\n{upstreams} keepalive 16;\n }}\n\
             server {{\n  listen 127.0.0.1:{port};\n  location / {{\n   proxy_pass http://mcp;\n   proxy_http_version 1.1;\n\
             proxy_set_header Connection \"\";\n   proxy_set_header Host $http_host;\n   proxy_buffering off;\n\
             proxy_read_timeout 60s;\n  }}\n }}\n}}\n"
        ),
    )
    .unwrap();
    let proxy = std::process::Command::new(nginx)
        .args(["-p", &prefix.to_string(), "-c", &format!("{prefix}/nginx.conf")])
        .spawn()
        .expect("start nginx");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nginx did not start: {:?}",
            std::fs::read_to_string(dir.join("error.log"))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (port, proxy)
}

/// Stops nginx the way its manual says (SIGTERM: the master stops its workers, then exits). A
/// SIGKILL would leave the workers running.
fn stop_nginx(mut proxy: std::process::Child) {
    let _ = std::process::Command::new("kill").args(["-TERM", &proxy.id().to_string()]).status();
    let _ = proxy.wait();
}

/// nginx, or `None` (the test is skipped) when it is not installed outside CI.
fn nginx_or_skip() -> Option<PathBuf> {
    let nginx = nginx();
    if nginx.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
            "nginx is not installed; run scripts/test.sh"
        );
        eprintln!("SKIPPED: nginx is not installed (scripts/test.sh installs it)");
    }
    nginx
}

#[test]
fn three_instances_behind_nginx_share_the_load_and_survive_losing_one() {
    let Some(nginx) = nginx_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let servers: Vec<_> = (0..3)
        .map(|i| {
            Launch::with_tools(&["echo"])
                .telemetry(dir.path().join(format!("spans-{i}.jsonl")))
                .args(["--http", "127.0.0.1:0"])
                .spawn()
        })
        .collect();
    let (port, proxy) = start_nginx(&nginx, dir.path(), &servers);

    // Round-robin: 30 stateless requests, all answered.
    for _ in 0..30 {
        assert_eq!(call(port, 0), 200);
    }

    // Under load (6 clients, 150 ms calls), one instance dies.
    let stop = Arc::new(AtomicBool::new(false));
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..6)
        .map(|_| {
            let (stop, statuses) = (stop.clone(), statuses.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let status = call(port, 150);
                    statuses.lock().unwrap().push((Instant::now(), status));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1000));
    let victim = servers[1].pid().to_string();
    assert!(std::process::Command::new("kill").args(["-KILL", &victim]).status().unwrap().success());
    let killed_at = Instant::now();
    std::thread::sleep(Duration::from_millis(3000));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let statuses = statuses.lock().unwrap();
    let failed: Vec<u16> = statuses.iter().filter(|(_, s)| *s != 200).map(|(_, s)| *s).collect();
    let after: Vec<u16> =
        statuses.iter().filter(|(t, _)| *t > killed_at + Duration::from_millis(1000)).map(|(_, s)| *s).collect();
    eprintln!(
        "{} calls under load, {} failed ({failed:?}), {} after the kill",
        statuses.len(),
        failed.len(),
        after.len()
    );
    assert!(failed.len() <= 6, "only the victim's calls in flight may fail: {failed:?}");
    assert!(failed.iter().all(|s| matches!(s, 502 | 504)), "failures are gateway errors: {failed:?}");
    assert!(after.len() >= 10 && after.iter().all(|s| *s == 200), "the others keep serving: {after:?}");
    for _ in 0..10 {
        assert_eq!(call(port, 0), 200);
    }
    stop_nginx(proxy);
    // Every surviving instance served its share.
    for (i, server) in servers.into_iter().enumerate() {
        if i == 1 {
            continue;
        }
        let finished = server.terminate();
        assert!(finished.status.success(), "{}", finished.stderr);
        let spans = std::fs::read_to_string(dir.path().join(format!("spans-{i}.jsonl"))).unwrap_or_default();
        assert!(spans.lines().count() >= 10, "instance {i} served {} calls", spans.lines().count());
    }
}

#[test]
fn a_call_that_needs_input_is_resumed_on_another_instance_behind_nginx() {
    let Some(nginx) = nginx_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[server]\nrequest_state_key = {:?}\n", "s".repeat(48))).unwrap();
    let servers: Vec<_> = (0..2)
        .map(|i| {
            Launch::with_tools(&["conformance"])
                .telemetry(dir.path().join(format!("spans-{i}.jsonl")))
                .args(["--http".into(), "127.0.0.1:0".into(), "--config".into(), config.clone().into_os_string()])
                .spawn()
        })
        .collect::<Vec<_>>();
    let (port, proxy) = start_nginx(&nginx, dir.path(), &servers);
    let tool = "test_input_required_result_multi_round";
    let elicitation = json!({"elicitation": {}});
    let (status, round1) = post_call(port, tool, elicitation.clone(), json!({}));
    assert_eq!((status, &round1["result"]["resultType"]), (200, &json!("input_required")), "{round1}");
    let answers = json!({"inputResponses": {"user_name": {"action": "accept", "content": {"name": "Alice"}}},
                         "requestState": round1["result"]["requestState"]});
    let (_, round2) = post_call(port, tool, elicitation.clone(), answers);
    assert_eq!(round2["result"]["resultType"], "input_required", "{round2}");
    let answers = json!({"inputResponses": {"favorite_color": {"action": "accept", "content": {"color": "green"}}},
                         "requestState": round2["result"]["requestState"]});
    let (_, done) = post_call(port, tool, elicitation, answers);
    assert_eq!(done["result"]["content"][0]["text"], "Alice likes green", "{done}");
    stop_nginx(proxy);
    // Round-robin put the rounds on both instances: each ran the tool at least once.
    for (i, server) in servers.into_iter().enumerate() {
        let finished = server.terminate();
        assert!(finished.status.success(), "{}", finished.stderr);
        let spans = std::fs::read_to_string(dir.path().join(format!("spans-{i}.jsonl"))).unwrap_or_default();
        let rounds = spans.lines().filter(|l| l.contains(tool)).count();
        assert!(rounds >= 1, "instance {i} ran none of the call's rounds: {spans}");
    }
}
