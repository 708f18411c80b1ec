//! A component linked against the host's imports and ready to instantiate: either a component of
//! the `ide-agents:tool` world (it exports `tools`, typed bindings) or a plain typed component
//! (its exported functions are the tools, `plain/`).

use wasmtime::component::InstancePre;

use super::plain::PlainPre;
use crate::bindings::ToolPre;
use crate::host::HostState;

/// A linked component.
pub enum Linked {
    /// It exports `ide-agents:tool/tools`.
    Tool(ToolPre<HostState>),
    /// It exports plain typed functions.
    Plain(PlainPre),
}

impl Linked {
    /// The wasmtime pre-instance.
    pub fn instance_pre(&self) -> &InstancePre<HostState> {
        match self {
            Self::Tool(pre) => pre.instance_pre(),
            Self::Plain(pre) => pre.instance_pre(),
        }
    }
}
