//! Authorization of the HTTP transport (`[auth]`): static bearer tokens and OAuth 2.1
//! resource-server mode, with real ES256 tokens minted here (`jsonwebtoken`, keys from `ring`)
//! and the JWKS served from a loopback HTTP server (so that key rotation is a real refetch).
//! Every rejection path is checked: no token, bad signature, wrong audience, wrong issuer,
//! expired, missing scope (server-wide and per tool), unknown key, a symmetric `alg`, a wrong
//! static token; and per-principal limits (429) that leave other principals alone.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

use crate::support::{Launch, Server};

const ISSUER: &str = "https://auth.test";
const RESOURCE: &str = "https://mcp.test/mcp";
const STATIC_TOKEN: &str = "static-token-for-the-ci-principal";

/// An ES256 signing key: its PKCS#8 document and its public JWK.
struct Key {
    pkcs8: Vec<u8>,
    jwk: Value,
    kid: String,
}

fn key(kid: &str) -> Key {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref(); // 0x04 || x || y
    let jwk = json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
                     "x": B64URL.encode(&point[1..33]), "y": B64URL.encode(&point[33..65])});
    Key { pkcs8: pkcs8.as_ref().to_vec(), jwk, kid: kid.into() }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A token signed by `key` under `kid`, with standard claims overridden by `claims`.
fn mint(key: &Key, kid: &str, claims: Value) -> String {
    let mut body =
        json!({"iss": ISSUER, "aud": RESOURCE, "sub": "alice", "exp": now() + 600, "scope": "mcp echo:call"});
    for (k, v) in claims.as_object().unwrap() {
        body[k] = v.clone();
    }
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, &body, &EncodingKey::from_ec_der(&key.pkcs8)).unwrap()
}

/// Serves the JWKS in `keys` at `http://127.0.0.1:PORT/jwks.json` (one request per connection).
fn jwks_server(keys: Arc<Mutex<Value>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = keys.lock().unwrap().to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// One HTTP/1.1 request with `Connection: close`: (status, headers, body).
fn request(url: &str, method: &str, token: Option<&str>, body: &str) -> (u16, String, String) {
    let authority = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let path = &url[url.find(&authority).unwrap() + authority.len()..];
    let mut stream = std::net::TcpStream::connect(&authority).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\n{auth}Content-Type: application/json\r\n\
         Accept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

/// A 2026-07-28 `tools/call` of echo, or `tools/list` when `tool` is `None`.
fn mcp(url: &str, token: Option<&str>, tool: Option<&str>) -> (u16, String, String) {
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let body = match tool {
        Some(t) => json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                          "params": {"name": t, "arguments": {"message": "hi"}, "_meta": meta}}),
        // Legacy initialize: no 2026 headers needed, and it shows auth applies to both eras.
        None => json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"protocolVersion": "2025-11-25", "capabilities": {}}}),
    };
    let authority = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    if tool.is_none() {
        return request(url, "POST", token, &body.to_string());
    }
    let mut stream = std::net::TcpStream::connect(&authority).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let body = body.to_string();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: {authority}\r\n{auth}Content-Type: application/json\r\nAccept: application/json\r\n\
         MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: {}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{body}",
        tool.unwrap(),
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.split_whitespace().nth(1).unwrap_or("0").parse().unwrap(), head.to_owned(), body.to_owned())
}

fn serve(jwks_url: &str, extra: &str, bind: &str) -> (Server, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[auth]\nissuer = \"{ISSUER}\"\nresource = \"{RESOURCE}\"\njwks_url = \"{jwks_url}\"\nscopes = [\"mcp\"]\n\
             tokens = [{{ principal = \"ci\", token = {{ file = \"{}\" }} }}]\n{extra}\n[tools.echo]\nscopes = [\"echo:call\"]\n",
            dir.path().join("token").display()
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("token"), format!("{STATIC_TOKEN}\n")).unwrap();
    let server =
        Launch::with_tools(&["echo"]).args(["--config".as_ref(), config.as_os_str()]).args(["--http", bind]).spawn();
    let url = server.http_url().replace("0.0.0.0", "127.0.0.1");
    (server, url, dir)
}

#[test]
fn tokens_are_checked_and_every_rejection_says_why() {
    let good = key("k1");
    let keys = Arc::new(Mutex::new(json!({"keys": [&good.jwk]})));
    let (_server, url, _dir) = serve(&jwks_server(keys.clone()), "", "127.0.0.1:0");

    // No token: 401 with the challenge that names the metadata and the scope.
    let (status, head, _) = mcp(&url, None, None);
    assert_eq!(status, 401, "{head}");
    let metadata_url = "https://mcp.test/.well-known/oauth-protected-resource/mcp";
    assert!(
        head.contains(&format!("resource_metadata=\"{metadata_url}\"")) && head.contains("scope=\"mcp\""),
        "{head}"
    );
    let base = url.trim_end_matches("/mcp");
    let (status, _, body) = request(&format!("{base}/.well-known/oauth-protected-resource/mcp"), "GET", None, "");
    let metadata: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, &metadata["resource"], &metadata["authorization_servers"][0]),
        (200, &json!(RESOURCE), &json!(ISSUER))
    );

    // A valid token works in both eras.
    let token = mint(&good, "k1", json!({}));
    assert_eq!(mcp(&url, Some(&token), None).0, 200);
    let (status, _, body) = mcp(&url, Some(&token), Some("echo"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"text\":\"hi\""), "{body}");

    // Each way a token can be wrong.
    let other = key("k1");
    let expired = mint(&good, "k1", json!({"exp": now() - 120}));
    let cases = [
        ("bad signature", mint(&other, "k1", json!({}))),
        ("wrong audience", mint(&good, "k1", json!({"aud": "https://elsewhere.test/mcp"}))),
        ("wrong issuer", mint(&good, "k1", json!({"iss": "https://evil.test"}))),
        ("expired", expired),
        ("unknown key", mint(&good, "nope", json!({}))),
        ("symmetric alg", {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("k1".into());
            jsonwebtoken::encode(
                &header,
                &json!({"iss": ISSUER, "aud": RESOURCE, "exp": now() + 60}),
                &EncodingKey::from_secret(b"k"),
            )
            .unwrap()
        }),
        ("not a token", "garbage".to_owned()),
        ("wrong static token", "static-token-for-the-ci-principaX".to_owned()),
    ];
    for (what, token) in &cases {
        let (status, head, _) = mcp(&url, Some(token), None);
        assert_eq!(status, 401, "{what}: {head}");
        assert!(head.contains("error=\"invalid_token\""), "{what}: {head}");
    }
    // Valid, but without the server's scope; then without the tool's.
    let (status, head, _) = mcp(&url, Some(&mint(&good, "k1", json!({"scope": "echo:call"}))), None);
    assert_eq!(status, 403, "{head}");
    assert!(head.contains("error=\"insufficient_scope\"") && head.contains("scope=\"mcp\""), "{head}");
    let narrow = mint(&good, "k1", json!({"scope": "mcp"}));
    assert_eq!(mcp(&url, Some(&narrow), None).0, 200);
    let (status, head, _) = mcp(&url, Some(&narrow), Some("echo"));
    assert_eq!(status, 403, "{head}");
    assert!(head.contains("scope=\"echo:call\""), "{head}");
    assert_eq!(mcp(&url, Some(&narrow), Some("echo_calls")).0, 200, "a tool without scopes needs none");

    // The static token is a principal of its own.
    assert_eq!(mcp(&url, Some(STATIC_TOKEN), Some("echo")).0, 200);

    // /metrics needs a token too, and counts the rejections by reason.
    let base_metrics = format!("{base}/metrics");
    assert_eq!(request(&base_metrics, "GET", None, "").0, 401);
    let (status, _, text) = request(&base_metrics, "GET", Some(STATIC_TOKEN), "");
    assert_eq!(status, 200);
    let count = |reason: &str| -> u64 {
        let prefix = format!("ide_agents_mcp_auth_rejections_total{{reason=\"{reason}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    assert!(count("invalid_token") >= cases.len() as u64, "{text}");
    assert!(count("insufficient_scope") >= 2 && count("missing_token") >= 1, "{text}");

    // Key rotation: a token under a key the server has not seen makes it read the JWKS again.
    std::thread::sleep(Duration::from_millis(1100));
    let rotated = key("k2");
    keys.lock().unwrap()["keys"].as_array_mut().unwrap().push(rotated.jwk.clone());
    assert_eq!(mcp(&url, Some(&mint(&rotated, &rotated.kid, json!({}))), Some("echo")).0, 200);
}

#[test]
fn one_principal_over_its_limits_gets_429_and_others_are_served() {
    let good = key("k1");
    let keys = Arc::new(Mutex::new(json!({"keys": [&good.jwk]})));
    let extra = "max_calls_in_flight_per_principal = 2";
    // With authentication configured, a non-loopback address is allowed.
    let (_server, url, _dir) = serve(&jwks_server(keys), extra, "0.0.0.0:0");
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {},
                      "progressToken": "slow"});
    // Each slow call reports one progress step (so its client knows it is running) and then
    // holds its slot for 8 s.
    let slow = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "echo", "arguments": {"message": "m", "steps": 1, "delay_ms": 8000}, "_meta": meta}})
    .to_string();
    let (admitted, running) = std::sync::mpsc::channel();
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let (url, slow, admitted) = (url.clone(), slow.clone(), admitted.clone());
            std::thread::spawn(move || slow_call(&url, &slow, &admitted))
        })
        .collect();
    for _ in 0..2 {
        running.recv_timeout(Duration::from_secs(30)).expect("a slow call was not admitted");
    }
    let (status, head, _) = mcp(&url, Some(STATIC_TOKEN), Some("echo"));
    assert_eq!(status, 429, "{head}");
    assert!(head.to_ascii_lowercase().contains("retry-after: 1"), "{head}");
    assert_eq!(mcp(&url, Some(&mint(&good, "k1", json!({}))), Some("echo")).0, 200, "another principal is served");
    for call in calls {
        assert_eq!(call.join().unwrap(), 200);
    }
    assert_eq!(mcp(&url, Some(STATIC_TOKEN), Some("echo")).0, 200, "slots come back");
}

/// Makes a call that streams its progress; says `admitted` once the first progress event arrives
/// (the call is then running), and returns the response's status when the stream ends.
fn slow_call(url: &str, body: &str, admitted: &std::sync::mpsc::Sender<()>) -> u16 {
    let authority = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&authority).unwrap();
    write!(
        stream,
        "POST /mcp HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {STATIC_TOKEN}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\n\
         Mcp-Name: echo\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut bytes = Vec::new();
    if crate::support::read_until(&mut stream, &mut bytes, "notifications/progress") {
        let _ = admitted.send(());
        let _ = stream.read_to_end(&mut bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    text.split_whitespace().nth(1).unwrap_or("0").parse().unwrap()
}
