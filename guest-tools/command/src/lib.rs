//! `ide_agents_command`: the agents backend's commands (`run`, `status`, `cancel`, `list`),
//! forwarded over the host's pooled `http` interface to `backend_base_url` (see
//! `docs/backend-api.md` for the backend's HTTP API). The token, if configured, is a secret sent
//! as a bearer token and never echoed.

wit_bindgen::generate!({ path: "../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::{Content, ToolAnnotations};
use ide_agents::tool::{config, http};
use serde::Deserialize;
use serde_json::{Value, json};

const NAME: &str = "ide_agents_command";
/// Time the backend gets beyond the command's own timeout to answer a waiting run.
const ANSWER_MARGIN_MS: u32 = 5_000;

struct Command;

#[derive(Deserialize)]
struct Args {
    method: String,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    stdin: Option<String>,
    #[serde(default = "yes")]
    wait: bool,
    timeout_ms: Option<u32>,
    run_id: Option<String>,
}

fn yes() -> bool {
    true
}

fn run_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "string"}, "command": {"type": "string"},
            "args": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string", "enum": ["running", "succeeded", "failed", "cancelled", "timed_out"]},
            "exit_code": {"type": ["integer", "null"]},
            "stdout": {"type": "string"}, "stderr": {"type": "string"}, "truncated": {"type": "boolean"}
        },
        "required": ["id", "command", "status", "stdout", "stderr"]
    })
}

impl Guest for Command {
    fn describe() -> Vec<ToolDescriptor> {
        vec![ToolDescriptor {
            name: NAME.into(),
            title: Some("Backend commands".into()),
            description: "Runs allow-listed commands on the agents backend. `method`: `list` (the commands \
                          the backend allows), `run` (start `command` with `args`; by default waits and returns \
                          exit code, stdout and stderr), `status` (of `run_id`), `cancel` (stop `run_id`)."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "method": {"type": "string", "enum": ["run", "status", "cancel", "list"],
                               "description": "What to do."},
                    "command": {"type": "string", "minLength": 1,
                                "description": "For `run`: the name of an allow-listed command."},
                    "args": {"type": "array", "items": {"type": "string"}, "maxItems": 256,
                             "description": "For `run`: the command's arguments."},
                    "stdin": {"type": "string", "description": "For `run`: text for the command's stdin."},
                    "wait": {"type": "boolean",
                             "description": "For `run`: wait for the command to finish (default true)."},
                    "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 600000,
                                   "description": "For `run`: stop the command after this long."},
                    "run_id": {"type": "string", "minLength": 1,
                               "description": "For `status` and `cancel`: the run's id."}
                },
                "required": ["method"],
                "allOf": [
                    {"if": {"properties": {"method": {"const": "run"}}}, "then": {"required": ["command"]}},
                    {"if": {"properties": {"method": {"enum": ["status", "cancel"]}}},
                     "then": {"required": ["run_id"]}}
                ],
                "additionalProperties": false
            })
            .to_string(),
            output_schema: Some(
                json!({
                    "type": "object",
                    "properties": {
                        "method": {"type": "string"},
                        "run": run_schema(),
                        "commands": {"type": "array", "items": {"type": "object", "properties": {
                            "name": {"type": "string"}, "description": {"type": "string"}},
                            "required": ["name"]}}
                    },
                    "required": ["method"]
                })
                .to_string(),
            ),
            annotations: ToolAnnotations {
                read_only: Some(false),
                destructive: Some(true),
                idempotent: Some(false),
                open_world: Some(true),
            },
        }]
    }

    fn call(name: String, arguments: String) -> Result<CallResult, ToolError> {
        if name != NAME {
            return Err(ToolError::UnknownTool(name));
        }
        let args: Args = serde_json::from_str(&arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        let Some(base) = config::get("backend_base_url") else {
            return Ok(error("no agents backend is configured: set `[backend] base_url` or `--backend-url`"));
        };
        let base = base.trim_end_matches('/');
        let (method, url, body, timeout) = match args.method.as_str() {
            "list" => ("GET", format!("{base}/v1/commands"), None, None),
            "run" => {
                let command = args.command.ok_or_else(|| required("command", "run"))?;
                let body = json!({"command": command, "args": args.args, "stdin": args.stdin,
                                  "timeout_ms": args.timeout_ms, "wait": args.wait});
                let timeout = args.timeout_ms.filter(|_| args.wait).map(|t| t.saturating_add(ANSWER_MARGIN_MS));
                ("POST", format!("{base}/v1/runs"), Some(body), timeout)
            }
            "status" | "cancel" => {
                let id = args.run_id.ok_or_else(|| required("run_id", &args.method))?;
                let id = encode_segment(&id);
                if args.method == "status" {
                    ("GET", format!("{base}/v1/runs/{id}"), None, None)
                } else {
                    ("POST", format!("{base}/v1/runs/{id}/cancel"), None, None)
                }
            }
            other => return Err(ToolError::InvalidArguments(format!("/method: unknown method {other:?}"))),
        };
        let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        if let Some(token) = config::secret("token") {
            headers.push(("authorization".into(), format!("Bearer {token}")));
        }
        let request = http::Request {
            method: method.into(),
            url: url.clone(),
            headers,
            body: body.map(|b| b.to_string().into_bytes()),
            timeout_ms: timeout,
        };
        let response = match http::send(&request) {
            Ok(r) => r,
            Err(e) => {
                return Ok(error(&format!("the agents backend at {base} could not be reached: {}", http_error(&e))));
            }
        };
        let parsed: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        if !(200..300).contains(&response.status) {
            let detail = parsed
                .pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(&response.body).chars().take(500).collect());
            let code = parsed.pointer("/error/code").and_then(Value::as_str).unwrap_or("error");
            return Ok(error(&format!(
                "the agents backend refused {method} {url}: {} {code}: {detail}",
                response.status
            )));
        }
        let (structured, text) = match args.method.as_str() {
            "list" => {
                let commands = parsed.get("commands").cloned().unwrap_or_else(|| json!([]));
                let names: Vec<&str> = commands
                    .as_array()
                    .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
                    .unwrap_or_default();
                let text = format!("{} commands: {}", names.len(), names.join(", "));
                (json!({"method": "list", "commands": commands}), text)
            }
            m => {
                if parsed.get("id").is_none() || parsed.get("status").is_none() {
                    return Ok(error(&format!("the agents backend answered {m} with an unexpected body")));
                }
                (json!({"method": m, "run": parsed}), run_text(&parsed))
            }
        };
        Ok(CallResult { content: vec![Content::Text(text)], structured: Some(structured.to_string()), is_error: false })
    }
}

fn required(field: &str, method: &str) -> ToolError {
    ToolError::InvalidArguments(format!("/{field}: required when method is {method:?}"))
}

fn error(message: &str) -> CallResult {
    CallResult { content: vec![Content::Text(message.into())], structured: None, is_error: true }
}

fn run_text(run: &Value) -> String {
    let mut text = format!(
        "run {} ({}): {}",
        run["id"].as_str().unwrap_or("?"),
        run["command"].as_str().unwrap_or("?"),
        run["status"].as_str().unwrap_or("?")
    );
    if let Some(code) = run["exit_code"].as_i64() {
        text.push_str(&format!(", exit code {code}"));
    }
    for stream in ["stdout", "stderr"] {
        if let Some(out) = run[stream].as_str().filter(|s| !s.is_empty()) {
            text.push_str(&format!("\n--- {stream} ---\n{out}"));
        }
    }
    text
}

fn http_error(e: &http::Error) -> String {
    match e {
        http::Error::Denied(m) => format!("denied: {m}"),
        http::Error::Timeout => "timed out".into(),
        http::Error::TooLarge(n) => format!("response larger than {n} bytes"),
        http::Error::ConnectFailed(m) => format!("connection failed: {m}"),
        http::Error::BadUrl(m) => format!("bad URL: {m}"),
        http::Error::Failed(m) => m.clone(),
    }
}

/// Percent-encodes a URL path segment.
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

export!(Command);
