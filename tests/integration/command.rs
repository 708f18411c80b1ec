//! `ide_agents_command` against the reference backend (`backend.rs`): list, run (waiting and not),
//! status, cancel, stdin, failures, the allow-list, the bearer token (sent, never logged), and a
//! missing or unreachable backend.

use std::path::Path;

use serde_json::{Value, json};

use crate::backend::Backend;
use crate::support::{Launch, Server, shared_cache};

const TOKEN: &str = "backend-token-5f3a9c";

fn server_for(url: &str, token: Option<&str>, dir: &Path) -> Server {
    let mut config = format!("[backend]\nbase_url = \"{url}\"\n");
    if let Some(t) = token {
        config.push_str(&format!("token = \"{t}\"\n"));
    }
    let file = dir.join("config.toml");
    std::fs::write(&file, config).unwrap();
    let mut server = Launch::bare()
        .args(["--config".as_ref(), file.as_os_str(), "--cache-dir".as_ref(), shared_cache().as_os_str()])
        .telemetry(dir.join("spans.jsonl"))
        .spawn();
    server.initialize();
    server
}

fn run(server: &mut Server, args: Value) -> Value {
    let result = server.call("ide_agents_command", args);
    assert_eq!(result["isError"], false, "{result}");
    result["structuredContent"]["run"].clone()
}

#[test]
fn commands_run_on_the_backend_with_their_output_and_exit_code() {
    let backend = Backend::start(Some(TOKEN));
    let dir = tempfile::tempdir().unwrap();
    let mut server = server_for(&backend.url(), Some(TOKEN), dir.path());

    let list = server.call("ide_agents_command", json!({"method": "list"}));
    let names: Vec<&str> =
        list["structuredContent"]["commands"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"echo") && names.contains(&"sleep"), "{list}");

    let echo = run(&mut server, json!({"method": "run", "command": "echo", "args": ["hello", "world"]}));
    assert_eq!((echo["status"].as_str(), echo["exit_code"].as_i64()), (Some("succeeded"), Some(0)));
    assert_eq!(echo["stdout"], "hello world\n");

    let failing = run(&mut server, json!({"method": "run", "command": "sh", "args": ["-c", "echo oops >&2; exit 3"]}));
    assert_eq!((failing["status"].as_str(), failing["exit_code"].as_i64()), (Some("failed"), Some(3)));
    assert_eq!(failing["stderr"], "oops\n");

    let cat = run(&mut server, json!({"method": "run", "command": "cat", "stdin": "from stdin"}));
    assert_eq!(cat["stdout"], "from stdin");

    let pwd = run(&mut server, json!({"method": "run", "command": "pwd"}));
    let cwd = std::env::current_dir().unwrap();
    assert_ne!(pwd["stdout"].as_str().unwrap().trim(), cwd.display().to_string(), "runs in a temp dir");

    // Started without waiting, observed, then cancelled.
    let started = run(&mut server, json!({"method": "run", "command": "sleep", "args": ["30"], "wait": false}));
    assert_eq!(started["status"], "running");
    let id = started["id"].as_str().unwrap();
    assert_eq!(run(&mut server, json!({"method": "status", "run_id": id}))["status"], "running");
    let cancelled = run(&mut server, json!({"method": "cancel", "run_id": id}));
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(run(&mut server, json!({"method": "status", "run_id": id}))["status"], "cancelled");

    let timed_out = run(&mut server, json!({"method": "run", "command": "sleep", "args": ["5"], "timeout_ms": 200}));
    assert_eq!(timed_out["status"], "timed_out");

    // Refusals are isError results that say why.
    let denied = server.call("ide_agents_command", json!({"method": "run", "command": "rm", "args": ["-rf", "/"]}));
    assert_eq!(denied["isError"], true);
    assert!(denied["content"][0]["text"].as_str().unwrap().contains("403 not_allowed"), "{denied}");
    let unknown = server.call("ide_agents_command", json!({"method": "status", "run_id": "run-999"}));
    assert!(unknown["content"][0]["text"].as_str().unwrap().contains("404 not_found"), "{unknown}");
    let missing = server.call("ide_agents_command", json!({"method": "run"}));
    assert_eq!(missing["isError"], true);
    assert!(missing["content"][0]["text"].as_str().unwrap().contains("command"), "{missing}");
    let bad = server.call("ide_agents_command", json!({"method": "explode"}));
    assert!(bad["content"][0]["text"].as_str().unwrap().contains("/method"), "{bad}");

    let finished = server.finish();
    assert!(!finished.stderr.contains(TOKEN), "the token reached the log:\n{}", finished.stderr);
    let spans = std::fs::read_to_string(dir.path().join("spans.jsonl")).unwrap();
    assert!(!spans.contains(TOKEN) && spans.contains("ide_agents_command"));
}

#[test]
fn a_wrong_token_a_missing_backend_and_an_unreachable_one_are_explained() {
    let backend = Backend::start(Some(TOKEN));
    let dir = tempfile::tempdir().unwrap();
    let mut server = server_for(&backend.url(), Some("wrong-token"), dir.path());
    let refused = server.call("ide_agents_command", json!({"method": "list"}));
    assert!(refused["content"][0]["text"].as_str().unwrap().contains("401 unauthorized"), "{refused}");
    drop(server);

    let mut unconfigured = Launch::bare().args(["--cache-dir".as_ref(), shared_cache().as_os_str()]).spawn();
    unconfigured.initialize();
    let result = unconfigured.call("ide_agents_command", json!({"method": "list"}));
    assert_eq!(result["isError"], true);
    assert!(result["content"][0]["text"].as_str().unwrap().contains("no agents backend is configured"), "{result}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut server = server_for(&format!("http://{closed}"), None, dir.path());
    let result = server.call("ide_agents_command", json!({"method": "list"}));
    assert_eq!(result["isError"], true);
    assert!(result["content"][0]["text"].as_str().unwrap().contains("could not be reached"), "{result}");
}

/// A server whose `confirm` setting names `echo`, not yet initialized.
fn confirming_server(url: &str, dir: &Path) -> Server {
    let config =
        format!("[backend]\nbase_url = \"{url}\"\n\n[tools.ide_agents_command]\nconfig = {{ confirm = \"echo\" }}\n");
    let file = dir.join("config.toml");
    std::fs::write(&file, config).unwrap();
    Launch::bare()
        .args(["--config".as_ref(), file.as_os_str(), "--cache-dir".as_ref(), shared_cache().as_os_str()])
        .telemetry(dir.join("spans.jsonl"))
        .spawn()
}

/// Calls `echo hi` (id `id`) and answers the server's confirmation request with `answer`: the result.
fn confirm_echo(server: &mut Server, id: i64, answer: Value) -> Value {
    server.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                        "params": {"name": "ide_agents_command", "arguments": {"method": "run", "command": "echo", "args": ["hi"]}}}));
    let asked = loop {
        let message = server.recv();
        if message.get("method").is_some() && message.get("id").is_some() {
            break message;
        }
        assert!(message.get("id").is_none(), "answered before asking: {message}");
    };
    assert_eq!(asked["method"], "elicitation/create", "{asked}");
    assert_eq!(asked["params"]["message"], r#"Run `echo` with arguments ["hi"] on the agents backend?"#);
    assert_eq!(asked["params"]["requestedSchema"]["properties"]["run"]["type"], "boolean");
    server.send(&json!({"jsonrpc": "2.0", "id": asked["id"], "result": answer}));
    server.response(&json!(id))["result"].clone()
}

#[test]
fn a_command_named_in_confirm_runs_only_after_the_user_confirms_it() {
    let backend = Backend::start(None);
    let dir = tempfile::tempdir().unwrap();

    // An initialize-era client that can ask its user: asked on stdout, runs on yes only.
    let mut server = confirming_server(&backend.url(), dir.path());
    let init = json!({"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}},
                      "clientInfo": {"name": "tests", "version": "0"}});
    server.result("initialize", init);
    let yes = confirm_echo(&mut server, 70, json!({"action": "accept", "content": {"run": true}}));
    assert_eq!(yes["structuredContent"]["run"]["stdout"], "hi\n", "{yes}");
    let no = confirm_echo(&mut server, 71, json!({"action": "accept", "content": {"run": false}}));
    assert_eq!(no["isError"], true);
    assert!(no["content"][0]["text"].as_str().unwrap().contains("not run: the user declined"), "{no}");
    let cancelled = confirm_echo(&mut server, 72, json!({"action": "cancel"}));
    assert!(cancelled["content"][0]["text"].as_str().unwrap().contains("the user cancelled"), "{cancelled}");
    // Other commands are not asked about.
    assert_eq!(run(&mut server, json!({"method": "run", "command": "cat", "stdin": "x"}))["stdout"], "x");

    // A client that cannot ask: refused, saying why.
    let mut plain = confirming_server(&backend.url(), dir.path());
    plain.initialize();
    let refused = plain.call("ide_agents_command", json!({"method": "run", "command": "echo", "args": ["hi"]}));
    assert_eq!(refused["isError"], true);
    assert!(refused["content"][0]["text"].as_str().unwrap().contains("needs the user's confirmation"), "{refused}");

    // 2026-07-28: an answer sent without the server's sealed state is not a confirmation: asked again.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}});
    let arguments = json!({"method": "run", "command": "echo", "args": ["hi"]});
    let yes = json!({"confirm": {"action": "accept", "content": {"run": true}}});
    let forged = plain.result(
        "tools/call",
        json!({"name": "ide_agents_command", "arguments": arguments,
                                                   "_meta": meta, "inputResponses": yes}),
    );
    assert_eq!(forged["resultType"], "input_required", "{forged}");
    let done = plain.result(
        "tools/call",
        json!({"name": "ide_agents_command", "arguments": arguments, "_meta": meta,
                                                 "inputResponses": yes, "requestState": forged["requestState"]}),
    );
    assert_eq!(done["structuredContent"]["run"]["stdout"], "hi\n", "{done}");
}
