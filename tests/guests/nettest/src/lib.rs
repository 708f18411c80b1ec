//! `nettest`: test-only tools that drive the host services: `net_fetch` (the `http` interface),
//! `net_cache` (the `cache` interface) and `net_config` (the `config` interface). Not shipped.

wit_bindgen::generate!({ path: "../../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::{Content, ToolAnnotations};
use ide_agents::tool::{cache, config, http};
use serde_json::{Value, json};

struct NetTest;

fn tool(name: &str, description: &str) -> ToolDescriptor {
    ToolDescriptor {
        name: name.into(),
        title: None,
        description: description.into(),
        input_schema: r#"{"type":"object","properties":{}}"#.into(),
        output_schema: None,
        annotations: ToolAnnotations { read_only: None, destructive: None, idempotent: None, open_world: Some(true) },
    }
}

fn answer(value: Value, is_error: bool) -> Result<CallResult, ToolError> {
    let text = value.to_string();
    Ok(CallResult { content: vec![Content::Text(text.clone())], structured: (!is_error).then_some(text), is_error })
}

fn str_arg<'a>(args: &'a Value, key: &str) -> Result<&'a str, ToolError> {
    args.get(key).and_then(Value::as_str).ok_or_else(|| ToolError::InvalidArguments(format!("`{key}` is required")))
}

impl Guest for NetTest {
    fn describe() -> Vec<ToolDescriptor> {
        vec![
            tool("net_fetch", "Sends one HTTP request: {url, method?, headers?, body?, timeout_ms?, repeat?}."),
            tool("net_cache", "Cache operations: {op: get|set|delete, key, value?, ttl_ms?}."),
            tool("net_cache_b", "Same as net_cache, as another tool (its own cache namespace)."),
            tool("net_config", "Reads a config value or secret: {key, secret?}."),
        ]
    }

    fn call(name: String, arguments: String) -> Result<CallResult, ToolError> {
        let args: Value = serde_json::from_str(&arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        match name.as_str() {
            "net_fetch" => {
                let headers = args
                    .get("headers")
                    .and_then(Value::as_object)
                    .map(|h| h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect())
                    .unwrap_or_default();
                let request = http::Request {
                    method: args.get("method").and_then(Value::as_str).unwrap_or("GET").into(),
                    url: str_arg(&args, "url")?.into(),
                    headers,
                    body: args.get("body").and_then(Value::as_str).map(|b| b.as_bytes().to_vec()),
                    timeout_ms: args.get("timeout_ms").and_then(Value::as_u64).map(|t| t as u32),
                };
                let repeat = args.get("repeat").and_then(Value::as_u64).unwrap_or(1).max(1);
                let mut last = None;
                for _ in 0..repeat {
                    last = Some(http::send(&request));
                }
                match last.expect("repeat >= 1") {
                    Ok(r) => answer(
                        json!({"status": r.status, "version": r.version, "url": r.url,
                               "body": String::from_utf8_lossy(&r.body), "body_len": r.body.len()}),
                        false,
                    ),
                    Err(e) => {
                        let (kind, detail) = match e {
                            http::Error::Denied(d) => ("denied", d),
                            http::Error::Timeout => ("timeout", String::new()),
                            http::Error::TooLarge(n) => ("too_large", n.to_string()),
                            http::Error::ConnectFailed(d) => ("connect_failed", d),
                            http::Error::BadUrl(d) => ("bad_url", d),
                            http::Error::Failed(d) => ("failed", d),
                        };
                        answer(json!({"error": kind, "detail": detail}), true)
                    }
                }
            }
            "net_cache" | "net_cache_b" => {
                let key = str_arg(&args, "key")?;
                let result = match str_arg(&args, "op")? {
                    "get" => json!({"value": cache::get(key).map(|v| String::from_utf8_lossy(&v).into_owned())}),
                    "set" => {
                        let ttl = args.get("ttl_ms").and_then(Value::as_u64).map(|t| t as u32);
                        json!({"stored": cache::set(key, str_arg(&args, "value")?.as_bytes(), ttl)})
                    }
                    "delete" => {
                        cache::delete(key);
                        json!({"deleted": true})
                    }
                    other => return Err(ToolError::InvalidArguments(format!("unknown op {other:?}"))),
                };
                answer(result, false)
            }
            "net_config" => {
                let key = str_arg(&args, "key")?;
                let value = if args.get("secret").and_then(Value::as_bool).unwrap_or(false) {
                    config::secret(key)
                } else {
                    config::get(key)
                };
                answer(json!({"value": value}), false)
            }
            other => Err(ToolError::UnknownTool(other.into())),
        }
    }
}

export!(NetTest);
