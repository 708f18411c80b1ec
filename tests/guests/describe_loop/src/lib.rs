//! `describe_loop`: a test-only component whose `describe` never returns, to show that one such
//! component cannot hold up startup or the other tools. Never shipped.

wit_bindgen::generate!({ path: "../../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};

struct DescribeLoop;

impl Guest for DescribeLoop {
    fn describe() -> Vec<ToolDescriptor> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn call(name: String, _arguments: String) -> Result<CallResult, ToolError> {
        Err(ToolError::UnknownTool(name))
    }
}

export!(DescribeLoop);
