//! `badschema`: a test-only component with one good tool and tools whose schemas do not compile
//! (an unknown type; a look-around pattern the linear-time regex engine cannot run), to show
//! that schemas fail closed: only the good tool is registered. Never shipped.

wit_bindgen::generate!({ path: "../../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::{Content, ToolAnnotations};

struct BadSchema;

fn tool(name: &str, input: &str, output: Option<&str>) -> ToolDescriptor {
    ToolDescriptor {
        name: name.into(),
        title: None,
        description: "A tool with a schema under test.".into(),
        input_schema: input.into(),
        output_schema: output.map(Into::into),
        annotations: ToolAnnotations { read_only: None, destructive: None, idempotent: None, open_world: None },
    }
}

impl Guest for BadSchema {
    fn describe() -> Vec<ToolDescriptor> {
        let object = r#"{"type":"object","properties":{}}"#;
        vec![
            tool("badschema_ok", object, None),
            tool(
                "badschema_broken_output",
                object,
                Some(r#"{"type":"object","properties":{"a":{"type":"no-such-type"}}}"#),
            ),
            tool(
                "badschema_lookahead",
                r#"{"type":"object","properties":{"a":{"type":"string","pattern":"^(?=a)a+$"}}}"#,
                None,
            ),
        ]
    }

    fn call(name: String, _arguments: String) -> Result<CallResult, ToolError> {
        match name.as_str() {
            "badschema_ok" => {
                Ok(CallResult { content: vec![Content::Text("ok".into())], structured: None, is_error: false })
            }
            // Anything at all: the schema that would have checked it does not compile.
            _ => Ok(CallResult { content: vec![], structured: Some(r#"{"a":"anything"}"#.into()), is_error: false }),
        }
    }
}

export!(BadSchema);
