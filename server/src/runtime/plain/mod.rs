//! Plain typed components: a component that exports ordinary typed functions instead of the
//! `ide-agents:tool/tools` interface is served too, each exported function as one tool. So a
//! component written for another WebAssembly host (or for none) runs unchanged.
//!
//! - Which functions: those the component exports itself (`export greet: func(..)`) and those of
//!   the interfaces it exports (`export acme:geo/shapes@1.0.0`), except WASI's and this host's
//!   own interfaces, resource methods and constructors, and functions whose types have no JSON
//!   form (resources, futures, streams; see `schema.rs`). Each one left out is named, with the
//!   reason, when the component is described.
//! - Tool names: the function's name for a world function (`greet`), `<interface>_<function>`
//!   for an interface's (`shapes_area`): MCP's name rule, and one that model APIs accept.
//! - Input: one property per parameter (`option` parameters may be left out); output: the
//!   structured result `{"result": …}`. A function returning `result<T, E>` answers `T` for `ok`
//!   and a tool error (`isError`) for `err`, with the error as text.
//! - Descriptions: the function's WIT doc comment when the component carries its docs
//!   (`docs.rs`), otherwise its WIT signature.
//!
//! Nothing of the component runs to describe it: its exports' types say it all. Each call gets a
//! fresh instance under the same limits as any tool; the lifted result is bounded by wasmtime's
//! hostcall fuel (set per call from the output limit), so a function returning a huge list costs
//! its own call, not the server's memory.

mod docs;
mod schema;
mod values;

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Map, Value, json};
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{ComponentExportIndex, InstancePre, Type, Val};
use wasmtime::{Engine, Store};

pub use docs::Docs;

use crate::bindings::{CallResult, Content, ToolAnnotations, ToolDescriptor, ToolError};
use crate::host::HostState;

/// Export names under these prefixes are interfaces of WASI or of this host, never tools.
const NOT_TOOLS: &[&str] = &["wasi:", "ide-agents:"];

/// Functions not served that are named one by one (the rest are counted).
const MAX_SKIPPED_NAMED: usize = 16;

/// Schema nodes one component's functions may take together (`schema.rs`). Far above any real
/// interface (the `plain` test component takes about 150); a component past it is refused.
const MAX_SCHEMA_NODES: usize = 200_000;

/// A plain component linked against the host, and the functions it serves as tools.
pub struct PlainPre {
    pre: InstancePre<HostState>,
    /// By tool name.
    functions: BTreeMap<String, Function>,
    /// Exported functions that are not served, each with the reason.
    pub skipped: Vec<String>,
}

/// One exported function served as a tool.
struct Function {
    /// Its place among the component's exports.
    index: ComponentExportIndex,
    /// Its interface's name without package and version; `None` for a world function.
    interface: Option<String>,
    /// Its WIT name.
    name: String,
    /// Its parameters.
    params: Vec<(String, Type)>,
    /// Its result type.
    result: Option<Type>,
    /// The input schema: one property per parameter.
    input_schema: Value,
    /// The output schema, when it returns something.
    output_schema: Option<Value>,
}

impl PlainPre {
    /// The exported functions of a linked component; `Err` when none can be served (naming each
    /// one and why, or saying there are none).
    pub fn new(pre: InstancePre<HostState>, engine: &Engine) -> Result<Self, String> {
        let component = pre.component().clone();
        let mut functions = BTreeMap::new();
        let mut skipped = Vec::new();
        let mut unnamed = 0;
        let mut budget = MAX_SCHEMA_NODES;
        let mut consider = |interface: Option<&str>, name: &str, func: ComponentFunc, index| {
            let path = || interface.map_or_else(|| name.to_owned(), |i| format!("{i}#{name}"));
            let reason = match Function::new(interface.map(short_name), name, &func, index, &mut budget) {
                Ok(function) => match functions.entry(function.tool_name()) {
                    std::collections::btree_map::Entry::Vacant(entry) => {
                        entry.insert(function);
                        return;
                    }
                    std::collections::btree_map::Entry::Occupied(entry) => {
                        format!("another function already takes the tool name `{}`", entry.key())
                    }
                },
                Err(reason) => reason,
            };
            if skipped.len() < MAX_SKIPPED_NAMED {
                skipped.push(format!("`{}`: {reason}", path()));
            } else {
                unnamed += 1;
            }
        };
        for (export, item) in component.component_type().exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(func) => {
                    consider(None, export, func, component.get_export_index(None, export));
                }
                ComponentItem::ComponentInstance(instance) if !NOT_TOOLS.iter().any(|p| export.starts_with(p)) => {
                    let parent = component.get_export_index(None, export);
                    for (name, item) in instance.exports(engine) {
                        if let ComponentItem::ComponentFunc(func) = item.ty {
                            let index = parent.as_ref().and_then(|p| component.get_export_index(Some(p), name));
                            consider(Some(export), name, func, index);
                        }
                    }
                }
                _ => {}
            }
        }
        if unnamed > 0 {
            skipped.push(format!("{unnamed} more"));
        }
        if budget == 0 {
            return Err(format!("its exported types take more than {MAX_SCHEMA_NODES} schema nodes"));
        }
        if functions.is_empty() {
            return Err(if skipped.is_empty() {
                "it exports no functions".into()
            } else {
                format!("none of its functions can be served: {}", skipped.join("; "))
            });
        }
        Ok(Self { pre, functions, skipped })
    }

    /// The wasmtime pre-instance.
    pub fn instance_pre(&self) -> &InstancePre<HostState> {
        &self.pre
    }

    /// One descriptor per served function, in name order.
    pub fn descriptors(&self, docs: &Docs) -> Vec<ToolDescriptor> {
        self.functions.iter().map(|(tool, function)| function.descriptor(tool, docs)).collect()
    }

    /// Calls `tool` with `arguments` (a JSON object as text) in a fresh instance in `store`.
    /// Arguments that do not fit the parameters' types are the tool's `invalid-arguments`
    /// error; the guest is not instantiated for them. What the host may allocate to lift the
    /// result is bounded by [`lift_fuel`] of `max_output_bytes`.
    pub async fn call(
        &self,
        store: &mut Store<HostState>,
        tool: &str,
        arguments: &str,
        max_output_bytes: usize,
    ) -> wasmtime::Result<Result<CallResult, ToolError>> {
        let Some(function) = self.functions.get(tool) else {
            return Ok(Err(ToolError::UnknownTool(tool.into())));
        };
        let params = match function.arguments(arguments) {
            Ok(params) => params,
            Err(e) => return Ok(Err(ToolError::InvalidArguments(e))),
        };
        store.set_hostcall_fuel(lift_fuel(max_output_bytes));
        let instance = self.pre.instantiate_async(&mut *store).await?;
        store.data_mut().instantiated_at = Some(Instant::now());
        let Some(func) = instance.get_func(&mut *store, function.index) else {
            return Err(wasmtime::Error::msg("the exported function is missing"));
        };
        let mut results = vec![Val::Bool(false); usize::from(function.result.is_some())];
        func.call_async(&mut *store, &params, &mut results).await?;
        Ok(Ok(function.answer(results.pop())))
    }
}

impl Function {
    fn new(
        interface: Option<&str>,
        name: &str,
        func: &ComponentFunc,
        index: Option<ComponentExportIndex>,
        budget: &mut usize,
    ) -> Result<Self, String> {
        if name.starts_with('[') {
            return Err(
                "resource constructors, methods and static functions (and `[async]` ones) are not served".into()
            );
        }
        let index = index.ok_or("its export cannot be found")?;
        let params: Vec<(String, Type)> = func.params().map(|(n, t)| (n.to_owned(), t)).collect();
        let mut results = func.results();
        let result = results.next();
        if results.next().is_some() {
            return Err("functions with several results are not served".into());
        }
        let input_schema = input_schema(&params, budget)?;
        let output_schema = output_schema(result.as_ref(), budget)?;
        let function = Self {
            index,
            interface: interface.map(str::to_owned),
            name: name.to_owned(),
            params,
            result,
            input_schema,
            output_schema,
        };
        if !crate::runtime::spec::valid_tool_name(&function.tool_name()) {
            return Err(format!("`{}` is not a valid MCP tool name", function.tool_name()));
        }
        Ok(function)
    }

    fn tool_name(&self) -> String {
        match &self.interface {
            Some(interface) => format!("{interface}_{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The WIT signature, e.g. `func(name: string) -> string`.
    fn signature(&self) -> String {
        let params: Vec<String> = self.params.iter().map(|(n, t)| format!("{n}: {}", schema::wit(t))).collect();
        let result = self.result.as_ref().map(|t| format!(" -> {}", schema::wit(t))).unwrap_or_default();
        format!("func({}){result}", params.join(", "))
    }

    fn descriptor(&self, tool: &str, docs: &Docs) -> ToolDescriptor {
        let description = docs.function(self.interface.as_deref(), &self.name).unwrap_or_else(|| {
            let path = self.interface.as_ref().map_or_else(|| self.name.clone(), |i| format!("{i}/{}", self.name));
            format!("WebAssembly function `{path}`: `{}`.", self.signature())
        });
        ToolDescriptor {
            name: tool.to_owned(),
            title: None,
            description,
            input_schema: self.input_schema.to_string(),
            output_schema: self.output_schema.as_ref().map(Value::to_string),
            annotations: ToolAnnotations { read_only: None, destructive: None, idempotent: None, open_world: None },
        }
    }

    /// The parameters from the call's arguments.
    fn arguments(&self, arguments: &str) -> Result<Vec<Val>, String> {
        let arguments: Value =
            serde_json::from_str(arguments).map_err(|e| format!("the arguments are not JSON: {e}"))?;
        let Value::Object(object) = arguments else { return Err("the arguments must be a JSON object".into()) };
        if let Some(extra) = object.keys().find(|k| !self.params.iter().any(|(n, _)| n == *k)) {
            return Err(format!("unknown argument `{extra}`"));
        }
        self.params
            .iter()
            .map(|(name, ty)| match (object.get(name), ty) {
                (Some(value), ty) => values::to_val(value, ty, &format!("/{name}")),
                (None, Type::Option(_)) => Ok(Val::Option(None)),
                (None, _) => Err(format!("missing required argument `{name}`")),
            })
            .collect()
    }

    /// The tool's answer for the function's result.
    fn answer(&self, result: Option<Val>) -> CallResult {
        let structured = |value: Value| CallResult {
            content: Vec::new(),
            structured: Some(schema::object([("result", value)]).to_string()),
            is_error: false,
        };
        match (result, &self.result) {
            (None, _) => CallResult { content: Vec::new(), structured: None, is_error: false },
            (Some(Val::Result(Ok(ok))), Some(Type::Result(_))) => {
                structured(ok.as_deref().map_or(Value::Null, values::to_json))
            }
            (Some(Val::Result(Err(err))), Some(Type::Result(_))) => {
                let message = match err.as_deref() {
                    Some(Val::String(s)) => s.clone(),
                    Some(other) => values::to_json(other).to_string(),
                    None => format!("`{}` returned an error", self.name),
                };
                CallResult { content: vec![Content::Text(message)], structured: None, is_error: true }
            }
            (Some(value), _) => structured(values::to_json(&value)),
        }
    }
}

/// One property per parameter; `option` parameters are not required.
fn input_schema(params: &[(String, Type)], budget: &mut usize) -> Result<Value, String> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, ty) in params {
        properties.insert(name.clone(), schema::of(ty, budget)?);
        if !matches!(ty, Type::Option(_)) {
            required.push(json!(name));
        }
    }
    Ok(schema::object([
        ("type", json!("object")),
        ("properties", Value::Object(properties)),
        ("required", Value::Array(required)),
        ("additionalProperties", json!(false)),
    ]))
}

/// `{"result": …}`: for `result<T, E>`, `T` (an `err` is a tool error); `None` for a function
/// that returns nothing.
fn output_schema(result: Option<&Type>, budget: &mut usize) -> Result<Option<Value>, String> {
    let Some(result) = result else { return Ok(None) };
    let value = match result {
        Type::Result(r) => match r.ok() {
            Some(ok) => schema::of(&ok, budget)?,
            None => json!({"type": "null"}),
        },
        ty => schema::of(ty, budget)?,
    };
    Ok(Some(schema::object([
        ("type", json!("object")),
        ("properties", schema::object([("result", value)])),
        ("required", json!(["result"])),
    ])))
}

/// The hostcall fuel of a plain call (wasmtime's bound on what lifting one result may allocate,
/// about the bytes of the lifted values): four times the output limit (64 MiB by default), at
/// most wasmtime's own default of 128 MiB. A result past it fails its call ("too much data is
/// being copied"); its JSON would have exceeded the output limit anyway.
pub fn lift_fuel(max_output_bytes: usize) -> usize {
    max_output_bytes.saturating_mul(4).min(128 << 20)
}

/// An exported interface's name without package and version: `acme:geo/shapes@1.0.0` → `shapes`.
fn short_name(export: &str) -> &str {
    let name = export.rsplit_once('/').map_or(export, |(_, name)| name);
    name.split_once('@').map_or(name, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_lose_package_and_version() {
        assert_eq!(short_name("acme:geo/shapes@1.0.0"), "shapes");
        assert_eq!(short_name("acme:geo/shapes"), "shapes");
        assert_eq!(short_name("shapes"), "shapes");
    }

    /// A component (hand-written, WebAssembly text) whose exported function takes `depth` levels
    /// of pairs of pairs: a few hundred bytes whose type expands to 2^depth leaves.
    fn pairs_component(depth: usize) -> Vec<u8> {
        let mut types = String::from("(type $t0 (tuple u8 u8))\n");
        for level in 1..=depth {
            types.push_str(&format!("(type $t{level} (tuple $t{prev} $t{prev}))\n", prev = level - 1));
        }
        wat::parse_str(format!(
            r#"(component
                (core module $m
                    (memory (export "memory") 1)
                    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
                    (func (export "f") (param i32)))
                (core instance $i (instantiate $m))
                {types}
                (type $f (func (param "x" $t{depth})))
                (func $f (type $f) (canon lift (core func $i "f") (memory (core memory $i "memory"))
                    (realloc (core func $i "realloc"))))
                (export "pairs" (func $f)))"#
        ))
        .unwrap()
    }

    fn linked(bytes: &[u8]) -> Result<PlainPre, String> {
        let engine = Engine::default();
        let component = wasmtime::component::Component::new(&engine, bytes).unwrap();
        let pre = wasmtime::component::Linker::<HostState>::new(&engine).instantiate_pre(&component).unwrap();
        PlainPre::new(pre, &engine)
    }

    /// Types shared as a DAG expand exponentially; describing them is paid node by node from a
    /// bounded budget, so a small component cannot make the host build a huge schema.
    #[test]
    fn a_type_that_expands_exponentially_is_refused_within_the_budget() {
        let small = linked(&pairs_component(4)).unwrap();
        let descriptors = small.descriptors(&Docs::default());
        assert_eq!(descriptors[0].name, "pairs");
        assert!(descriptors[0].input_schema.contains("prefixItems"));
        assert!(descriptors[0].description.len() < 2 * schema::MAX_WIT_CHARS);

        let error = linked(&pairs_component(16)).err().expect("refused");
        assert!(error.contains("more than 200000 schema nodes"), "{error}");
    }
}
