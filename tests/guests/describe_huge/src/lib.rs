//! `describe_huge`: a test-only component that declares 1,000 tools with 8 KiB descriptions,
//! to show that registration is capped. Never shipped.

wit_bindgen::generate!({ path: "../../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::ToolAnnotations;

struct DescribeHuge;

impl Guest for DescribeHuge {
    fn describe() -> Vec<ToolDescriptor> {
        (0..1_000)
            .map(|i| ToolDescriptor {
                name: format!("huge_{i}"),
                title: None,
                description: "x".repeat(8 << 10),
                input_schema: r#"{"type":"object","properties":{}}"#.into(),
                output_schema: None,
                annotations: ToolAnnotations { read_only: None, destructive: None, idempotent: None, open_world: None },
            })
            .collect()
    }

    fn call(name: String, _arguments: String) -> Result<CallResult, ToolError> {
        Err(ToolError::UnknownTool(name))
    }
}

export!(DescribeHuge);
