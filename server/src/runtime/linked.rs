//! A component linked against the host's imports and ready to instantiate: either a component of
//! the `ide-agents:tool` world (it exports `tools`, typed bindings) or a plain typed component
//! (its exported functions are the tools, `plain/`).

use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, Instance, InstancePre};

use super::plain::PlainPre;
use crate::bindings::{CallResult, ToolError, ToolPre};
use crate::host::HostState;

/// The export that makes a component one of the `ide-agents:tool` world (at the version tool
/// authors build against).
pub const TOOLS_EXPORT: &str = "ide-agents:tool/tools@0.1.0";

/// A linked component.
pub enum Linked {
    /// It exports `ide-agents:tool/tools`.
    Tool(ToolLinked),
    /// It exports plain typed functions.
    Plain(PlainPre),
}

impl Linked {
    /// The wasmtime pre-instance.
    pub fn instance_pre(&self) -> &InstancePre<HostState> {
        match self {
            Self::Tool(tool) => tool.pre.instance_pre(),
            Self::Plain(pre) => pre.instance_pre(),
        }
    }
}

/// A component of the `ide-agents:tool` world: its typed bindings (for `describe`) and where its
/// `call` export is. A call instantiates without the bindings, which would look up and type-check
/// `describe` too on every fresh instance, and checks only the function it runs.
pub struct ToolLinked {
    /// The typed bindings of the world.
    pub pre: ToolPre<HostState>,
    /// `tools.call`.
    call: ComponentExportIndex,
}

impl ToolLinked {
    /// Wraps `pre`; fails if the component has no `tools.call` export.
    pub fn new(pre: ToolPre<HostState>) -> wasmtime::Result<Self> {
        let component = pre.instance_pre().component();
        let call = component
            .get_export_index(None, TOOLS_EXPORT)
            .and_then(|tools| component.get_export_index(Some(&tools), "call"))
            .ok_or_else(|| wasmtime::format_err!("no `call` in its `{TOOLS_EXPORT}` export"))?;
        Ok(Self { pre, call })
    }

    /// A fresh instance in `store`.
    pub async fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Instance> {
        self.pre.instance_pre().instantiate_async(store).await
    }

    /// Runs `tools.call(name, arguments)` in `instance`, an instance of this component.
    pub async fn call(
        &self,
        store: &mut Store<HostState>,
        instance: Instance,
        name: &str,
        arguments: &str,
    ) -> wasmtime::Result<Result<CallResult, ToolError>> {
        let call = instance.get_typed_func::<(&str, &str), (Result<CallResult, ToolError>,)>(&mut *store, self.call)?;
        let (answer,) = call.call_async(store, (name, arguments)).await?;
        Ok(answer)
    }
}
