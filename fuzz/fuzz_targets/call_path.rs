//! Fuzzes the JSON-arguments-to-guest path: `tools/call` params (from a client) are parsed and
//! validated against a tool's input schema, and a guest's answer (text and structured output,
//! also fuzzed: guests are untrusted) is validated against the output schema and shaped into a
//! `CallToolResult`. Invariants: no panic; the result always serialises to JSON.
#![no_main]

use ide_agents_mcp::bindings::{CallResult, Content};
use ide_agents_mcp::mcp::{protocol, request};
use ide_agents_mcp::runtime::spec::{ToolSpec, Validators};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::OnceLock;

fn tool() -> &'static (ToolSpec, Validators) {
    static TOOL: OnceLock<(ToolSpec, Validators)> = OnceLock::new();
    TOOL.get_or_init(|| {
        let spec = ToolSpec {
            name: "echo".into(),
            title: None,
            description: "fuzz".into(),
            input_schema: json!({"type": "object", "properties": {"message": {"type": "string"},
                                 "steps": {"type": "integer", "minimum": 0, "maximum": 100}}, "required": ["message"]}),
            output_schema: Some(json!({"type": "object", "properties": {"message": {"type": "string"}},
                                       "required": ["message"]})),
            annotations: serde_json::Map::new(),
        };
        let validators = Validators::compile(&spec);
        (spec, validators)
    })
}

fuzz_target!(|data: &[u8]| {
    let (spec, validators) = tool();
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (params, output) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));
    let Ok(params) = std::str::from_utf8(params) else { return };
    let Ok(raw) = serde_json::from_str::<Box<serde_json::value::RawValue>>(params) else { return };
    if let Ok(call) = request::parse_call_params(Some(&raw))
        && let Ok(arguments) = call.arguments
    {
        let value: serde_json::Value = serde_json::from_str(&arguments).expect("arguments are a JSON object");
        let _ = validators.check_input(&value);
    }
    let text = String::from_utf8_lossy(output).into_owned();
    for structured in [None, Some(text.clone())] {
        let answer = CallResult { content: vec![Content::Text(text.clone())], structured, is_error: output.len() % 2 == 1 };
        // Checked against the schema (tools-dir components) and trusted (built-ins in release).
        for check in [protocol::OutputCheck::Validate(validators), protocol::OutputCheck::TrustSchema] {
            let result = protocol::call_result(spec, check, Ok(Ok(answer.clone())));
            let json = serde_json::to_vec(&result).expect("results serialise");
            let _: serde_json::Value = serde_json::from_slice(&json).expect("results are valid JSON");
        }
    }
});
