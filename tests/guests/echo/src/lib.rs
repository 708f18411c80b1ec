//! `echo`: a test-only tool that returns its `message`, exercising arguments, typed errors,
//! logging and progress; and `echo_calls`, which counts the calls its instance has served (always
//! 1 in a fresh instance), to observe instance reuse. Not shipped in the server binary.

wit_bindgen::generate!({ path: "../../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::Content;
use ide_agents::tool::types::ToolAnnotations;
use ide_agents::tool::{log, progress};
use serde_json::{Value, json};

struct Echo;

/// Calls served by this instance.
static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Guest for Echo {
    fn describe() -> Vec<ToolDescriptor> {
        vec![
            ToolDescriptor {
                name: "echo".into(),
                title: Some("Echo".into()),
                description:
                    "Returns `message` unchanged; first reports `steps` progress notifications and sleeps `delay_ms`."
                        .into(),
                input_schema: json!({
                    "type": "object",
                    "properties": {
                        "message": {"type": "string", "description": "Text to echo back."},
                        "steps": {"type": "integer", "minimum": 0, "maximum": 100,
                                  "description": "Progress notifications to send before answering."},
                        "delay_ms": {"type": "integer", "minimum": 0, "maximum": 60000,
                                     "description": "Milliseconds to sleep after the progress notifications."}
                    },
                    "required": ["message"]
                })
                .to_string(),
                output_schema: Some(
                    json!({
                        "type": "object",
                        "properties": {"message": {"type": "string"}, "length": {"type": "integer"}},
                        "required": ["message", "length"]
                    })
                    .to_string(),
                ),
                annotations: ToolAnnotations {
                    read_only: Some(true),
                    destructive: None,
                    idempotent: Some(true),
                    open_world: Some(false),
                },
            },
            ToolDescriptor {
                name: "echo_calls".into(),
                title: None,
                description: "Returns how many calls this instance has served: 1 in a fresh instance.".into(),
                input_schema: json!({"type": "object", "properties": {}}).to_string(),
                output_schema: Some(
                    json!({"type": "object", "properties": {"calls": {"type": "integer"}}, "required": ["calls"]})
                        .to_string(),
                ),
                annotations: ToolAnnotations {
                    read_only: Some(true),
                    destructive: None,
                    idempotent: None,
                    open_world: Some(false),
                },
            },
        ]
    }

    fn call(name: String, arguments: String) -> Result<CallResult, ToolError> {
        if name == "echo_calls" {
            let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            // No content: the host serialises the structured answer as the text block.
            return Ok(CallResult {
                content: Vec::new(),
                structured: Some(json!({"calls": n}).to_string()),
                is_error: false,
            });
        }
        if name != "echo" {
            return Err(ToolError::UnknownTool(name));
        }
        let args: Value = serde_json::from_str(&arguments)
            .map_err(|e| ToolError::InvalidArguments(format!("arguments are not JSON: {e}")))?;
        let message = args
            .get("message")
            .and_then(Value::as_str)
            .ok_or_else(|| ToolError::InvalidArguments("`message` is required and must be a string".into()))?;
        let steps = match args.get("steps") {
            None => 0,
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 100)
                .ok_or_else(|| ToolError::InvalidArguments("`steps` must be an integer in 0..=100".into()))?,
        };
        let delay_ms = match args.get("delay_ms") {
            None => 0,
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 60_000)
                .ok_or_else(|| ToolError::InvalidArguments("`delay_ms` must be an integer in 0..=60000".into()))?,
        };
        for i in 1..=steps {
            progress::report(i as f64, Some(steps as f64), Some(&format!("step {i} of {steps}")));
        }
        if delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        }
        log::log(log::Level::Info, &format!("echoing {} bytes", message.len()));
        let structured = json!({"message": message, "length": message.chars().count()}).to_string();
        Ok(CallResult {
            content: vec![Content::Text(message.to_string())],
            structured: Some(structured),
            is_error: false,
        })
    }
}

export!(Echo);
