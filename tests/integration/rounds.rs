//! Multi round-trip calls (WIT `input`): a tool asks the client for input mid-call. 2026-07-28
//! clients get `input_required` results with a sealed `requestState` that any instance holding the
//! same key can resume (and that nobody can alter or reuse on another call); initialize-era
//! clients that declared the capability get real `elicitation/create` requests on stdout; a client
//! that declared neither gets a clear answer. Served by the `conformance` test component.

use serde_json::{Value, json};

use crate::support::{Launch, Server, text};

const MODERN: &str = "2026-07-28";

/// `_meta` of a 2026-07-28 request declaring `capabilities`.
fn meta(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    })
}

/// A 2026-07-28 `tools/call` of `tool` with `extra` params merged in; the whole response.
fn modern_call(server: &mut Server, tool: &str, capabilities: Value, extra: Value) -> Value {
    let mut params = json!({"name": tool, "arguments": {}, "_meta": meta(capabilities)});
    for (key, value) in extra.as_object().unwrap() {
        params[key] = value.clone();
    }
    server.request("tools/call", params)
}

fn elicitation() -> Value {
    json!({"elicitation": {}})
}

/// A server serving the conformance fixtures, sealing states with `key` if given.
fn server(key: Option<&str>) -> (Server, Option<tempfile::TempDir>) {
    let Some(key) = key else { return (Launch::with_tools(&["conformance"]).spawn(), None) };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[server]\nrequest_state_key = {key:?}\n")).unwrap();
    (Launch::with_tools(&["conformance"]).args(["--config".into(), config.into_os_string()]).spawn(), Some(dir))
}

#[test]
fn a_modern_call_runs_in_rounds_and_any_instance_with_the_key_resumes_it() {
    let key = "k".repeat(40);
    let (mut first, _dir1) = server(Some(&key));
    let (mut second, _dir2) = server(Some(&key));
    let tool = "test_input_required_result_multi_round";

    let round1 = modern_call(&mut first, tool, elicitation(), json!({}))["result"].clone();
    assert_eq!(round1["resultType"], "input_required", "{round1}");
    let request = &round1["inputRequests"]["user_name"];
    assert_eq!(request["method"], "elicitation/create", "{round1}");
    assert_eq!(request["params"]["requestedSchema"]["properties"]["name"]["type"], "string");
    let state1 = round1["requestState"].as_str().unwrap().to_owned();

    // Round 2 on the other instance (same key): another question, a new state.
    let answers = json!({"inputResponses": {"user_name": {"action": "accept", "content": {"name": "Alice"}}},
                         "requestState": state1});
    let round2 = modern_call(&mut second, tool, elicitation(), answers)["result"].clone();
    assert_eq!(round2["resultType"], "input_required", "{round2}");
    assert!(round2["inputRequests"]["favorite_color"].is_object(), "{round2}");
    let state2 = round2["requestState"].as_str().unwrap().to_owned();
    assert_ne!(state1, state2);

    // Round 3 back on the first: done.
    let answers = json!({"inputResponses": {"favorite_color": {"action": "accept", "content": {"color": "blue"}}},
                         "requestState": state2});
    let done = modern_call(&mut first, tool, elicitation(), answers)["result"].clone();
    assert_eq!(done["resultType"], "complete", "{done}");
    assert_eq!(text(&done), "Alice likes blue");

    // An instance with another key cannot open the state.
    let (mut stranger, _) = server(None);
    let answers = json!({"inputResponses": {"user_name": {"action": "accept", "content": {"name": "Eve"}}},
                         "requestState": round1["requestState"]});
    let refused = modern_call(&mut stranger, tool, elicitation(), answers);
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("integrity"), "{refused}");
}

#[test]
fn altered_or_misapplied_request_state_is_refused() {
    let (mut server, _) = server(None);
    let tool = "test_input_required_result_tampered_state";
    let round1 = modern_call(&mut server, tool, elicitation(), json!({}))["result"].clone();
    let state = round1["requestState"].as_str().unwrap().to_owned();
    let confirm = json!({"confirm": {"action": "accept", "content": {"ok": true}}});

    // One changed character anywhere: refused.
    let (body, tag) = state.split_once('.').unwrap();
    let mut flipped = body.as_bytes().to_vec();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let altered = format!("{}.{tag}", String::from_utf8(flipped).unwrap());
    for bad in [format!("{state}-TAMPERED"), altered, "not-a-state".to_owned()] {
        let answers = json!({"inputResponses": confirm, "requestState": bad});
        let refused = modern_call(&mut server, tool, elicitation(), answers);
        assert_eq!(refused["error"]["code"], -32602, "{refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("integrity check failed"), "{refused}");
    }
    // The genuine state on another tool, or on other arguments: refused.
    let other_tool = json!({"inputResponses": confirm, "requestState": state});
    let refused = modern_call(&mut server, "test_input_required_result_request_state", elicitation(), other_tool);
    assert!(
        refused["error"]["message"].as_str().unwrap().contains("another tool, other arguments or another principal"),
        "{refused}"
    );
    let refused = server.request(
        "tools/call",
        json!({"name": "test_elicitation", "arguments": {"message": "changed"}, "_meta": meta(elicitation()),
               "inputResponses": confirm, "requestState": state}),
    );
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    // The genuine state on its own call: done.
    let done = modern_call(&mut server, tool, elicitation(), json!({"inputResponses": confirm, "requestState": state}));
    assert_eq!(text(&done["result"]), "state-ok: confirmed", "{done}");
    // Malformed responses are -32602 too.
    let bad = modern_call(&mut server, tool, elicitation(), json!({"inputResponses": {"confirm": 12345}}));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
}

#[test]
fn a_request_the_client_cannot_answer_is_refused_in_each_era() {
    let (mut server, _) = server(None);
    // 2026-07-28: -32021 naming the capability.
    let refused = modern_call(&mut server, "test_missing_capability", json!({}), json!({}));
    assert_eq!(refused["error"]["code"], -32021, "{refused}");
    assert!(refused["error"]["data"]["requiredCapabilities"]["sampling"].is_object(), "{refused}");
    // A tool that adapts to what the client declared asks for that only.
    let adapted =
        modern_call(&mut server, "test_input_required_result_capabilities", json!({"sampling": {}}), json!({}));
    let requests = adapted["result"]["inputRequests"].as_object().unwrap().clone();
    assert!(requests.values().all(|r| r["method"] == "sampling/createMessage"), "{adapted}");

    // Initialize era, no elicitation declared: an isError result that says so.
    server.initialize();
    let result = server.call("test_elicitation", json!({"message": "Who are you?"}));
    assert_eq!(result["isError"], true, "{result}");
    assert!(text(&result).contains("`elicitation`"), "{result}");
}

/// Initializes `server` as a 2025-06-18 client that can answer elicitation.
fn initialize_with_elicitation(server: &mut Server) {
    let init = json!({"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}},
                      "clientInfo": {"name": "tests", "version": "0"}});
    server.result("initialize", init);
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
}

/// Reads messages until a request from the server arrives.
fn next_server_request(server: &mut Server) -> Value {
    loop {
        let message = server.recv();
        if message.get("method").is_some() && message.get("id").is_some() {
            return message;
        }
        assert!(message.get("id").is_none(), "a response before the server's request: {message}");
    }
}

#[test]
fn an_initialize_era_client_is_asked_with_a_real_request_and_the_call_finishes() {
    let (mut server, _) = server(None);
    initialize_with_elicitation(&mut server);
    server.send(&json!({"jsonrpc": "2.0", "id": 50, "method": "tools/call",
                        "params": {"name": "test_elicitation", "arguments": {"message": "Who are you?"}}}));
    let asked = next_server_request(&mut server);
    assert_eq!(asked["method"], "elicitation/create", "{asked}");
    assert_eq!(asked["params"]["message"], "Who are you?");
    assert!(asked["params"].get("mode").is_none(), "2025-06-18 has no mode: {asked}");
    assert_eq!(asked["params"]["requestedSchema"]["required"], json!(["username", "email"]));
    // Another request is served while this one waits for the user.
    let pong = server.request("ping", json!({}));
    assert_eq!(pong["result"], json!({}));
    let answer = json!({"action": "accept", "content": {"username": "ada", "email": "ada@example.com"}});
    server.send(&json!({"jsonrpc": "2.0", "id": asked["id"], "result": answer}));
    let done = server.response(&json!(50));
    assert!(text(&done["result"]).contains("ada@example.com"), "{done}");

    // A client that answers the request with an error: the call ends with an isError result.
    server.send(&json!({"jsonrpc": "2.0", "id": 51, "method": "tools/call",
                        "params": {"name": "test_elicitation", "arguments": {}}}));
    let asked = next_server_request(&mut server);
    server.send(
        &json!({"jsonrpc": "2.0", "id": asked["id"], "error": {"code": -1, "message": "user closed the dialog"}}),
    );
    let done = server.response(&json!(51));
    assert_eq!(done["result"]["isError"], true, "{done}");
    assert!(text(&done["result"]).contains("user closed the dialog"), "{done}");

    // A response to a request we never sent is ignored; the server goes on.
    server.send(&json!({"jsonrpc": "2.0", "id": "ia-999", "result": {}}));
    assert_eq!(server.request("ping", json!({}))["result"], json!({}));
}

#[test]
fn an_input_required_line_names_its_result_type_once() {
    let (mut server, _) = server(None);
    let params =
        json!({"name": "test_input_required_result_elicitation", "arguments": {}, "_meta": meta(elicitation())});
    server.send(&json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params}));
    let line = server.recv_raw();
    assert_eq!(line.matches("\"resultType\"").count(), 1, "{line}");
    assert!(line.contains(r#""resultType":"input_required""#), "{line}");
}

#[test]
fn a_call_waiting_for_the_user_ends_when_the_client_goes_away() {
    let (mut server, _) = server(None);
    initialize_with_elicitation(&mut server);
    server.send(&json!({"jsonrpc": "2.0", "id": 60, "method": "tools/call",
                        "params": {"name": "test_elicitation", "arguments": {}}}));
    let asked = next_server_request(&mut server);
    assert_eq!(asked["method"], "elicitation/create");
    // stdin closes while the call waits for the answer: the server answers and exits at once,
    // not after the 10-minute wait.
    let finished = server.finish();
    assert!(finished.status.success(), "{}", finished.stderr);
    assert!(finished.exit_time < std::time::Duration::from_secs(20), "took {:?}", finished.exit_time);
    let answer: Value =
        serde_json::from_str(finished.stdout.iter().find(|l| l.contains("\"id\":60")).unwrap()).unwrap();
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(text(&answer["result"]).contains("went away"), "{answer}");
}

#[test]
fn a_prompt_whose_tool_asks_is_answered_after_the_round_in_each_era_and_not_cached() {
    let (mut server, _) = server(None);
    let get = |context: Option<&str>| {
        let mut params = json!({"name": "test_input_required_result_prompt", "_meta": meta(elicitation())});
        if let Some(context) = context {
            params["inputResponses"] = json!({"context": {"action": "accept", "content": {"context": context}}});
        }
        params
    };
    // 2026-07-28: input_required (no ttlMs: not cacheable), then the messages with the answer.
    let asked = server.result("prompts/get", get(None));
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    assert!(asked.get("ttlMs").is_none(), "{asked}");
    for context in ["first", "second"] {
        let done = server.result("prompts/get", get(Some(context)));
        assert_eq!(done["messages"][0]["content"]["text"], format!("Use this context: {context}"), "{done}");
    }

    // Initialize era: the question goes out as a request, the answer comes back in the messages.
    initialize_with_elicitation(&mut server);
    server.send(&json!({"jsonrpc": "2.0", "id": 80, "method": "prompts/get",
                        "params": {"name": "test_input_required_result_prompt"}}));
    let asked = next_server_request(&mut server);
    assert_eq!(asked["method"], "elicitation/create", "{asked}");
    server.send(&json!({"jsonrpc": "2.0", "id": asked["id"],
                        "result": {"action": "accept", "content": {"context": "legacy"}}}));
    let done = server.response(&json!(80));
    assert_eq!(done["result"]["messages"][0]["content"]["text"], "Use this context: legacy", "{done}");
}

/// A 2026-07-28 `tools/call` of `tool` over HTTP at `url` as `token`, with `extra` params: the reply.
fn http_call(url: &str, token: &str, tool: &str, extra: Value) -> Value {
    use std::io::{Read, Write};
    let mut params = json!({"name": tool, "arguments": {}, "_meta": meta(elicitation())});
    for (key, value) in extra.as_object().unwrap() {
        params[key] = value.clone();
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).to_string();
    let authority = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&authority).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: {tool}\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap()
}

#[test]
fn a_sealed_state_is_bound_to_the_principal_that_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let (alice, bob) = ("alice-token-0123456789", "bob-token-0123456789ab");
    std::fs::write(
        &config,
        format!("[auth]\ntokens = [{{ principal = \"alice\", token = {alice:?} }}, {{ principal = \"bob\", token = {bob:?} }}]\n"),
    )
    .unwrap();
    let server = Launch::with_tools(&["conformance"])
        .args(["--config".into(), config.into_os_string(), "--http".into(), "127.0.0.1:0".into()])
        .spawn();
    let url = server.http_url();
    let tool = "test_input_required_result_request_state";
    let asked = http_call(&url, alice, tool, json!({}));
    let state = asked["result"]["requestState"].clone();
    assert!(state.is_string(), "{asked}");
    let answers =
        json!({"inputResponses": {"confirm": {"action": "accept", "content": {"ok": true}}}, "requestState": state});
    // Bob cannot resume Alice's call; Alice can.
    let stolen = http_call(&url, bob, tool, answers.clone());
    assert_eq!(stolen["error"]["code"], -32602, "{stolen}");
    assert!(stolen["error"]["message"].as_str().unwrap().contains("another principal"), "{stolen}");
    let resumed = http_call(&url, alice, tool, answers);
    assert_eq!(resumed["result"]["content"][0]["text"], "state-ok: confirmed", "{resumed}");
    let finished = server.terminate();
    assert!(finished.status.success(), "{}", finished.stderr);
}
