//! MCP over Streamable HTTP (`serve --http`): both protocol eras on one endpoint, the
//! 2026-07-28 header and `_meta` checks with their statuses and codes, initialize-era sessions,
//! per-request SSE streams, every rejection the endpoint makes, `subscriptions/listen`, a closed
//! stream cancelling its call, and SIGTERM. The client is a plain HTTP/1.1 writer over a socket,
//! so that malformed and hostile requests can be sent as they are.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Launch, Server, read_until};

/// A parsed HTTP response.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The JSON body, or the messages of an SSE body (one per `data:` line).
    fn messages(&self) -> Vec<Value> {
        if self.header("content-type").is_some_and(|t| t.starts_with("text/event-stream")) {
            self.body
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("bad event {d:?}: {e}")))
                .collect()
        } else {
            vec![serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("bad body {:?}: {e}", self.body))]
        }
    }
    fn json(&self) -> Value {
        self.messages().pop().expect("a message")
    }
}

/// Host and port of `url` (`http://127.0.0.1:PORT/mcp`).
fn authority(url: &str) -> &str {
    url.trim_start_matches("http://").split('/').next().unwrap()
}

/// Decodes a chunked body.
fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// Sends one raw request (`Connection: close`) and reads the whole response.
fn raw(url: &str, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(authority(url)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(request).unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response head: {text:?}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked { unchunk(body) } else { body.to_owned() };
    Reply { status, headers, body }
}

/// POSTs `body` with the default headers (JSON, both Accept types, loopback Host) plus `extra`.
fn post(url: &str, extra: &[(&str, &str)], body: &str) -> Reply {
    let mut request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nConnection: close\r\nContent-Length: {}\r\n",
        authority(url),
        body.len()
    );
    for (k, v) in extra {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    raw(url, request.as_bytes())
}

const MODERN: &str = "2026-07-28";

fn meta() -> Value {
    json!({"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}})
}

/// A 2026-07-28 request with its matching headers.
fn modern(url: &str, id: i64, method: &str, mut params: Value) -> Reply {
    params["_meta"] = meta();
    let name = params.get("name").or(params.get("uri")).and_then(Value::as_str).map(str::to_owned);
    let mut headers = vec![("MCP-Protocol-Version", MODERN), ("Mcp-Method", method)];
    if let Some(name) = &name {
        headers.push(("Mcp-Name", name));
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    post(url, &headers, &body.to_string())
}

fn serve() -> (Server, String) {
    let server = Launch::with_tools(&["echo"]).args(["--http", "127.0.0.1:0"]).spawn();
    let url = server.http_url();
    (server, url)
}

#[test]
fn the_2026_07_28_revision_is_served_statelessly() {
    let (server, url) = serve();
    let discover = modern(&url, 1, "server/discover", json!({}));
    assert_eq!(discover.status, 200, "{}", discover.body);
    let result = &discover.json()["result"];
    assert_eq!(result["resultType"], "complete");
    assert!(result["supportedVersions"].as_array().unwrap().contains(&json!(MODERN)), "{result}");
    assert!(result["capabilities"]["tools"].is_object());
    assert!(result["ttlMs"].is_u64() && result["cacheScope"] == "public", "{result}");
    assert_eq!(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "ide-agents-mcp");

    let list = modern(&url, 2, "tools/list", json!({})).json();
    assert_eq!(list["result"]["resultType"], "complete");
    assert!(list["result"]["ttlMs"].is_u64());
    assert!(list["result"]["tools"].as_array().unwrap().iter().any(|t| t["name"] == "echo"));

    // A call with progress: an SSE stream with the notifications first, then the answer.
    let mut params = json!({"name": "echo", "arguments": {"message": "hi", "steps": 2}});
    params["_meta"] = meta();
    params["_meta"]["progressToken"] = json!("p1");
    let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}).to_string();
    let call =
        post(&url, &[("MCP-Protocol-Version", MODERN), ("Mcp-Method", "tools/call"), ("Mcp-Name", "echo")], &body);
    assert_eq!(call.status, 200, "{}", call.body);
    assert!(call.header("content-type").unwrap().starts_with("text/event-stream"));
    let messages = call.messages();
    let (last, notes) = messages.split_last().unwrap();
    assert_eq!(notes.len(), 2, "{messages:?}");
    assert!(notes.iter().all(|n| n["method"] == "notifications/progress" && n["params"]["progressToken"] == "p1"));
    assert_eq!(last["id"], 3);
    assert_eq!(last["result"]["resultType"], "complete");
    assert_eq!(last["result"]["content"][0]["text"], "hi");
    assert!(last["result"].get("ttlMs").is_none(), "a call result is not cacheable");

    // The removed methods and unknown ones: 404 with -32601, the id echoed.
    for method in ["initialize", "ping", "logging/setLevel", "resources/subscribe", "nope/nope"] {
        let reply = modern(&url, 4, method, json!({}));
        assert_eq!((reply.status, reply.json()["error"]["code"].as_i64()), (404, Some(-32601)), "{method}");
        assert_eq!(reply.json()["id"], 4);
    }
    let finished = server.terminate();
    assert!(finished.status.success(), "{}", finished.stderr);
}

#[test]
fn headers_and_meta_are_checked_in_the_revisions_order() {
    let (_server, url) = serve();
    let discover = |headers: &[(&str, &str)], meta: Value| {
        let body = json!({"jsonrpc": "2.0", "id": 9, "method": "server/discover", "params": {"_meta": meta}});
        let reply = post(&url, headers, &body.to_string());
        let json = reply.json();
        assert_eq!(json["id"], 9, "the id is echoed: {json}");
        (reply.status, json["error"]["code"].as_i64().unwrap_or(0), json)
    };
    let h = [("MCP-Protocol-Version", MODERN), ("Mcp-Method", "server/discover")];
    // Missing _meta fields: -32602, before any header comparison.
    let (status, code, _) = discover(&h, json!({}));
    assert_eq!((status, code), (400, -32602));
    assert_eq!(discover(&h, json!({"io.modelcontextprotocol/protocolVersion": MODERN})).1, -32602);
    // The header disagrees with _meta: -32020.
    let v999 =
        json!({"io.modelcontextprotocol/protocolVersion": "v999", "io.modelcontextprotocol/clientCapabilities": {}});
    assert_eq!(discover(&h, v999.clone()).1, -32020);
    assert_eq!(discover(&[("Mcp-Method", "server/discover")], meta()).1, -32020, "header missing");
    // Both say a version we do not speak: -32022 naming the ones we do.
    let (status, code, json) = discover(&[("MCP-Protocol-Version", "v999"), ("Mcp-Method", "server/discover")], v999);
    assert_eq!((status, code), (400, -32022));
    assert_eq!(json["error"]["data"]["requested"], "v999");
    assert_eq!(json["error"]["data"]["supported"], json!([MODERN]));
    // Mcp-Method and Mcp-Name must repeat the body.
    assert_eq!(discover(&[("MCP-Protocol-Version", MODERN), ("Mcp-Method", "tools/list")], meta()).1, -32020);
    assert_eq!(discover(&[("MCP-Protocol-Version", MODERN)], meta()).1, -32020);
    let params = json!({"name": "echo", "arguments": {"message": "x"}, "_meta": meta()});
    let call_with = |params: &Value, name: Option<&str>| {
        let body = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": params});
        let mut headers = vec![("MCP-Protocol-Version", MODERN), ("Mcp-Method", "tools/call")];
        if let Some(name) = name {
            headers.push(("Mcp-Name", name));
        }
        let reply = post(&url, &headers, &body.to_string());
        (reply.status, reply.json())
    };
    let call = |name: Option<&str>| call_with(&params, name);
    assert_eq!(call(Some("other")).0, 400);
    assert_eq!(call(Some("other")).1["error"]["code"], -32020);
    assert_eq!(call(None).1["error"]["code"], -32020);
    assert_eq!(call(Some("=?base64?ZWNobw==?=")).1["result"]["content"][0]["text"], "x", "base64 names decode");
    let mut loud = params.clone();
    loud["_meta"]["io.modelcontextprotocol/logLevel"] = json!("loud");
    assert_eq!(call_with(&loud, Some("echo")).1["error"]["code"], -32602, "an unknown log level");
}

#[test]
fn initialize_era_clients_get_sessions() {
    let (_server, url) = serve();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                      "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let reply = post(&url, &[], &init.to_string());
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["result"]["protocolVersion"], "2025-06-18");
    assert!(reply.json()["result"].get("resultType").is_none(), "no 2026-07-28 fields for legacy clients");
    let session = reply.header("mcp-session-id").expect("a session id").to_owned();
    let with = [("Mcp-Session-Id", session.as_str()), ("MCP-Protocol-Version", "2025-06-18")];
    let note = post(&url, &with, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    assert_eq!(note.status, 202);
    let ping = post(&url, &with, r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#);
    assert_eq!(ping.json()["result"], json!({}));
    let call = post(
        &url,
        &with,
        &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "m"}}})
        .to_string(),
    );
    assert_eq!(call.json()["result"]["content"][0]["text"], "m");
    // A legacy request without a session, and one with an unknown session.
    let lost =
        post(&url, &[("MCP-Protocol-Version", "2025-06-18")], r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#);
    assert_eq!(lost.status, 400, "{}", lost.body);
    let unknown = post(&url, &[("Mcp-Session-Id", "feed")], r#"{"jsonrpc":"2.0","id":5,"method":"tools/list"}"#);
    assert_eq!(unknown.status, 404);
    // GET without a session is 405; DELETE ends the session.
    let get = raw(
        &url,
        format!(
            "GET /mcp HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n",
            authority(&url)
        )
        .as_bytes(),
    );
    assert_eq!(get.status, 405);
    let delete = format!(
        "DELETE /mcp HTTP/1.1\r\nHost: {}\r\nMcp-Session-Id: {session}\r\nConnection: close\r\n\r\n",
        authority(&url)
    );
    assert_eq!(raw(&url, delete.as_bytes()).status, 200);
    assert_eq!(post(&url, &with, r#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#).status, 404);
}

#[test]
fn every_rejection_is_a_clear_status_and_the_server_keeps_serving() {
    let (server, url) = serve();
    let host = authority(&url).to_owned();
    let ok =
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"#;
    let with_headers = |lines: &str, body: &str| {
        raw(
            &url,
            format!("POST /mcp HTTP/1.1\r\n{lines}Connection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                .as_bytes(),
        )
    };
    // DNS rebinding: a foreign Host or Origin is 403; the loopback ones are fine.
    let evil = with_headers("Host: evil.example.com\r\nContent-Type: application/json\r\n", ok);
    assert_eq!(evil.status, 403);
    let origin = with_headers(
        &format!("Host: {host}\r\nOrigin: http://evil.example.com\r\nContent-Type: application/json\r\n"),
        ok,
    );
    assert_eq!(origin.status, 403);
    let local = with_headers(
        &format!(
            "Host: localhost:{}\r\nOrigin: http://localhost:1\r\nContent-Type: application/json\r\n",
            host.rsplit(':').next().unwrap()
        ),
        ok,
    );
    assert_eq!(local.status, 200, "{}", local.body);
    // Content type, Accept, method, path.
    assert_eq!(with_headers(&format!("Host: {host}\r\nContent-Type: text/plain\r\n"), ok).status, 415);
    assert_eq!(
        with_headers(&format!("Host: {host}\r\nContent-Type: application/json\r\nAccept: text/html\r\n"), ok).status,
        406
    );
    let put = raw(
        &url,
        format!("PUT /mcp HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").as_bytes(),
    );
    assert_eq!(put.status, 405);
    assert!(put.header("allow").is_some());
    let elsewhere = raw(
        &url,
        format!("POST /other HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").as_bytes(),
    );
    assert_eq!(elsewhere.status, 404);
    // Bad JSON and bad JSON-RPC: 400 with the JSON-RPC error.
    let bad = post(&url, &[], "{not json");
    assert_eq!((bad.status, bad.json()["error"]["code"].as_i64()), (400, Some(-32700)));
    let batch = post(&url, &[], "[1,2]");
    assert_eq!((batch.status, batch.json()["error"]["code"].as_i64()), (400, Some(-32600)));
    // A body over the limit (16 MiB by default, declared up front): 413 without reading it.
    let huge = raw(&url, format!("POST /mcp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{{", 64 << 20).as_bytes());
    assert_eq!(huge.status, 413);
    // A head over 64 KiB: 431.
    let big_header = "x".repeat(70 << 10);
    let big = raw(&url, format!("POST /mcp HTTP/1.1\r\nHost: {host}\r\nX-Big: {big_header}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").as_bytes());
    assert_eq!(big.status, 431);
    // Garbage instead of HTTP, then the probe endpoint still answers.
    let _ = raw_lossy(&url, b"\x16\x03\x01 not http at all\r\n\r\n");
    let healthz = raw(&url, format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes());
    assert_eq!((healthz.status, healthz.body.as_str()), (200, "ok\n"));
    assert!(server.stderr().lines().all(|l| !l.contains("panicked")), "{}", server.stderr());
}

/// Sends bytes and returns whatever comes back (maybe nothing).
fn raw_lossy(url: &str, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(authority(url)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = stream.write_all(bytes);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_closed_stream_cancels_its_call_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let spans = dir.path().join("spans.jsonl");
    let server = Launch::with_tools(&["echo"]).telemetry(&spans).args(["--http", "127.0.0.1:0"]).spawn();
    let url = server.http_url();
    // A 20-second call whose client goes away once the call is running (its one progress step
    // has arrived).
    let mut params = json!({"name": "echo", "arguments": {"message": "slow", "steps": 1, "delay_ms": 20_000}});
    params["_meta"] = meta();
    params["_meta"]["progressToken"] = json!("slow");
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).to_string();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n\
         MCP-Protocol-Version: {MODERN}\r\nMcp-Method: tools/call\r\nMcp-Name: echo\r\nContent-Length: {}\r\n\r\n{body}",
        authority(&url),
        body.len()
    );
    let mut stream = TcpStream::connect(authority(&url)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut seen = Vec::new();
    let running = read_until(&mut stream, &mut seen, "notifications/progress");
    assert!(running, "the call's stream ended before its progress: {}", String::from_utf8_lossy(&seen));
    drop(stream);
    // A subscription stream: acknowledged at once; SIGTERM closes it with its result.
    let listen_body = json!({"jsonrpc": "2.0", "id": 77, "method": "subscriptions/listen",
        "params": {"_meta": meta(), "notifications": {"toolsListChanged": true, "resourceSubscriptions": ["x"]}}})
    .to_string();
    let listen = format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n\
         MCP-Protocol-Version: {MODERN}\r\nMcp-Method: subscriptions/listen\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{listen_body}",
        authority(&url),
        listen_body.len()
    );
    let mut listening = TcpStream::connect(authority(&url)).unwrap();
    listening.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    listening.write_all(listen.as_bytes()).unwrap();
    let mut first = [0u8; 4096];
    let n = listening.read(&mut first).unwrap();
    let head = String::from_utf8_lossy(&first[..n]).into_owned();
    assert!(head.contains("notifications/subscriptions/acknowledged"), "{head}");
    assert!(head.contains(r#""notifications":{"toolsListChanged":true}"#), "only what we honour: {head}");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let finished = server.terminate();
    assert!(finished.status.success(), "{:?}\n{}", finished.status, finished.stderr);
    assert!(started.elapsed() < Duration::from_secs(5), "shutdown took {:?}", started.elapsed());
    let mut rest = Vec::new();
    let _ = listening.read_to_end(&mut rest);
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains(r#""io.modelcontextprotocol/subscriptionId":77"#), "closing result: {rest}");
    let spans = std::fs::read_to_string(&spans).unwrap();
    let echo: Vec<Value> =
        spans.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).filter(|s| s["tool_name"] == "echo").collect();
    assert_eq!(echo.len(), 1, "{spans}");
    assert_eq!(echo[0]["error_code"], "cancelled", "the closed stream cancelled the call: {spans}");
}

#[test]
fn a_non_loopback_bind_without_authentication_is_refused() {
    let server = Launch::bare().args(["--http", "0.0.0.0:0"]).spawn();
    let finished = server.wait_exit();
    assert_eq!(finished.status.code(), Some(2), "{}", finished.stderr);
    assert!(finished.stderr.contains("--http-allow-unauthenticated"), "{}", finished.stderr);
}

#[test]
fn stdio_serves_both_eras_too() {
    let mut server = Launch::with_tools(&["echo"]).spawn();
    let discover = server.request("server/discover", json!({"_meta": meta()}));
    assert_eq!(discover["result"]["resultType"], "complete", "{discover}");
    let call = server.request("tools/call", json!({"name": "echo", "arguments": {"message": "m"}, "_meta": meta()}));
    assert_eq!(call["result"]["resultType"], "complete", "{call}");
    assert_eq!(server.request("ping", json!({"_meta": meta()}))["error"]["code"], -32601);
    // The same stream then initializes as a legacy client.
    server.initialize();
    assert_eq!(server.request("ping", json!({}))["result"], json!({}));
    let legacy = server.call("echo", json!({"message": "m"}));
    assert!(legacy.get("resultType").is_none());
}

#[test]
fn tls_serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&leaf_key, &issuer).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    let server = Launch::with_tools(&["echo"])
        .args([
            "--http".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--tls-cert".as_ref(),
            cert.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
        ])
        .spawn();
    let url = server.http_url();
    assert!(url.starts_with("https://"), "{url}");
    let url = url.replace("127.0.0.1", "localhost");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta()}});
    let reply: Value = rt.block_on(async {
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca_cert.pem().as_bytes()).unwrap())
            .build()
            .unwrap();
        let response = client
            .post(&url)
            .header("MCP-Protocol-Version", MODERN)
            .header("Mcp-Method", "server/discover")
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        serde_json::from_str(&response.text().await.unwrap()).unwrap()
    });
    assert_eq!(reply["result"]["resultType"], "complete", "{reply}");
    // Plain HTTP to the TLS port gets no MCP answer.
    let plain = raw_lossy(
        &url.replace("https://localhost", "http://127.0.0.1"),
        b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    assert!(!plain.contains("200 OK"), "{plain}");
}

/// Opens a keep-alive connection and proves it holds a connection slot: it is served one
/// `/healthz` and stays open. A slot frees only after the server has finished with a closed
/// connection, a moment after the client sees it close; a 503 is retried until `deadline`.
fn hold_slot(host: &str, deadline: Instant) -> TcpStream {
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n");
    loop {
        let mut stream = TcpStream::connect(host).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut seen = Vec::new();
        // The healthz body is "ok\n"; a 503 closes the connection.
        read_until(&mut stream, &mut seen, "\r\n\r\nok\n");
        let text = String::from_utf8_lossy(&seen);
        if text.starts_with("HTTP/1.1 200") && text.ends_with("ok\n") {
            return stream;
        }
        assert!(text.starts_with("HTTP/1.1 503") && Instant::now() < deadline, "no slot came free: {text:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn slow_and_flooding_clients_cost_only_themselves() {
    let server = Launch::with_tools(&["echo"]).args(["--http", "127.0.0.1:0", "--http-max-connections", "4"]).spawn();
    let url = server.http_url();
    let host = authority(&url).to_owned();
    // A slow-loris client: half a request head, then nothing.
    let mut slow = TcpStream::connect(&host).unwrap();
    slow.write_all(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl").unwrap();
    // Two more connections that stay open: with the slow one, 3 of the 4 slots.
    let deadline = Instant::now() + Duration::from_secs(10);
    let idle: Vec<TcpStream> = (0..2).map(|_| hold_slot(&host, deadline)).collect();
    // The fourth slot still serves.
    let healthz = format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    assert_eq!(raw(&url, healthz.as_bytes()).status, 200);
    // A flood past the limit: with the fourth slot held, the fifth connection gets 503 at once.
    let fourth = hold_slot(&host, deadline);
    let over = raw_lossy(&url, healthz.as_bytes());
    assert!(over.starts_with("HTTP/1.1 503"), "{over:?}");
    assert!(over.contains("too many connections"), "{over}");
    drop((idle, fourth));
    // Slots come back when clients leave.
    drop(hold_slot(&host, Instant::now() + Duration::from_secs(10)));
    // The slow client is cut off once the head timeout (10 s) passes.
    slow.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(15), "the slow client was held {waited:?}");
    assert_eq!(raw(&url, healthz.as_bytes()).status, 200);
}
