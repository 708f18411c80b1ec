//! [`ToolSpec`]: a tool descriptor as the host keeps it (validated, schemas parsed), converted from
//! the WIT `tool-descriptor` once and cached on disk, and rendered as an MCP `Tool` object.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::bindings::{ToolAnnotations, ToolDescriptor};

/// Longest tool name MCP allows.
pub const MAX_TOOL_NAME_LEN: usize = 128;

/// A validated tool descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Tool name, `[A-Za-z0-9_.-]{1,128}`.
    pub name: String,
    /// Display name.
    pub title: Option<String>,
    /// Description for the model.
    pub description: String,
    /// Input JSON Schema: always an object schema with `properties`.
    pub input_schema: Value,
    /// Output JSON Schema, if the tool returns structured content.
    pub output_schema: Option<Value>,
    /// MCP `ToolAnnotations` object (possibly empty).
    pub annotations: Map<String, Value>,
}

/// Why a descriptor was rejected.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The name breaks MCP's naming rule.
    #[error("tool name {0:?} must match [A-Za-z0-9_.-]{{1,128}}")]
    BadName(String),
    /// A schema is not valid JSON.
    #[error("tool {tool:?}: {which} schema is not valid JSON: {reason}")]
    SchemaNotJson {
        /// The tool.
        tool: String,
        /// "input" or "output".
        which: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A schema is not an object schema.
    #[error("tool {tool:?}: {which} schema must be a JSON object with \"type\": \"object\"")]
    SchemaNotObject {
        /// The tool.
        tool: String,
        /// "input" or "output".
        which: &'static str,
    },
}

/// Whether `name` is a valid MCP tool name.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=MAX_TOOL_NAME_LEN).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl TryFrom<ToolDescriptor> for ToolSpec {
    type Error = SpecError;

    fn try_from(d: ToolDescriptor) -> Result<Self, SpecError> {
        if !valid_tool_name(&d.name) {
            return Err(SpecError::BadName(d.name));
        }
        let mut input_schema = object_schema(&d.name, "input", &d.input_schema)?;
        if let Some(obj) = input_schema.as_object_mut() {
            obj.entry("properties").or_insert_with(|| json!({}));
        }
        let output_schema = d.output_schema.as_deref().map(|s| object_schema(&d.name, "output", s)).transpose()?;
        Ok(Self {
            annotations: annotations(&d.annotations),
            name: d.name,
            title: d.title,
            description: d.description,
            input_schema,
            output_schema,
        })
    }
}

fn object_schema(tool: &str, which: &'static str, text: &str) -> Result<Value, SpecError> {
    let schema: Value = serde_json::from_str(text).map_err(|e| SpecError::SchemaNotJson {
        tool: tool.into(),
        which,
        reason: e.to_string(),
    })?;
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(SpecError::SchemaNotObject { tool: tool.into(), which });
    }
    Ok(schema)
}

fn annotations(a: &ToolAnnotations) -> Map<String, Value> {
    let mut m = Map::new();
    for (key, value) in [
        ("readOnlyHint", a.read_only),
        ("destructiveHint", a.destructive),
        ("idempotentHint", a.idempotent),
        ("openWorldHint", a.open_world),
    ] {
        if let Some(v) = value {
            m.insert(key.into(), Value::Bool(v));
        }
    }
    m
}

/// Compiled JSON Schema validators of a tool's input and output. A schema that does not compile
/// is reported and not enforced.
pub struct Validators {
    input: Option<jsonschema::Validator>,
    /// Compiled on first use: the output of a trusted component is never checked, so its schema
    /// need not be compiled at all.
    output: std::sync::OnceLock<Option<jsonschema::Validator>>,
}

/// Compiles one of `spec`'s schemas (`which` names it in the warning if it does not compile).
fn compile(spec: &ToolSpec, which: &str, schema: &Value) -> Option<jsonschema::Validator> {
    jsonschema::validator_for(schema)
        .inspect_err(|e| tracing::warn!(tool = %spec.name, "{which} schema does not compile and is not enforced: {e}"))
        .ok()
}

impl Validators {
    /// Compiles the tool's input schema; the output schema waits for [`Self::compile_output`] or
    /// the first [`Self::check_output`].
    pub fn compile(spec: &ToolSpec) -> Self {
        Self { input: compile(spec, "input", &spec.input_schema), output: std::sync::OnceLock::new() }
    }

    /// Compiles the output schema now, if it is not yet.
    pub fn compile_output(&self, spec: &ToolSpec) -> Option<&jsonschema::Validator> {
        self.output.get_or_init(|| spec.output_schema.as_ref().and_then(|s| compile(spec, "output", s))).as_ref()
    }

    /// Checks arguments against the input schema: `Err` names the first offending field.
    pub fn check_input(&self, arguments: &Value) -> Result<(), String> {
        check(self.input.as_ref(), arguments)
    }

    /// Checks `spec`'s structured output against its output schema.
    pub fn check_output(&self, spec: &ToolSpec, structured: &Value) -> Result<(), String> {
        check(self.compile_output(spec), structured)
    }
}

fn check(validator: Option<&jsonschema::Validator>, instance: &Value) -> Result<(), String> {
    let Some(validator) = validator else { return Ok(()) };
    if validator.is_valid(instance) {
        // The fast path: no error objects built.
        return Ok(());
    }
    validator.validate(instance).map_err(|e| {
        let path = e.instance_path().to_string();
        if path.is_empty() { e.to_string() } else { format!("{path}: {e}") }
    })
}

impl ToolSpec {
    /// The MCP `Tool` object for `tools/list`.
    pub fn to_mcp(&self) -> Value {
        let mut tool = Map::new();
        tool.insert("name".into(), json!(self.name));
        if let Some(title) = &self.title {
            tool.insert("title".into(), json!(title));
        }
        tool.insert("description".into(), json!(self.description));
        tool.insert("inputSchema".into(), self.input_schema.clone());
        if let Some(out) = &self.output_schema {
            tool.insert("outputSchema".into(), out.clone());
        }
        if !self.annotations.is_empty() || self.title.is_some() {
            let mut ann = self.annotations.clone();
            if let Some(title) = &self.title {
                ann.insert("title".into(), json!(title));
            }
            tool.insert("annotations".into(), Value::Object(ann));
        }
        Value::Object(tool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(name: &str, input: &str) -> ToolDescriptor {
        ToolDescriptor {
            name: name.into(),
            title: None,
            description: "d".into(),
            input_schema: input.into(),
            output_schema: None,
            annotations: ToolAnnotations {
                read_only: Some(true),
                destructive: None,
                idempotent: None,
                open_world: None,
            },
        }
    }

    #[test]
    fn validators_name_the_field() {
        let spec = ToolSpec {
            name: "t".into(),
            title: None,
            description: "d".into(),
            input_schema: json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}),
            output_schema: Some(json!({"type": "object", "required": ["ok"]})),
            annotations: Map::new(),
        };
        let v = Validators::compile(&spec);
        assert!(v.check_input(&json!({"n": 1})).is_ok());
        let e = v.check_input(&json!({"n": "x"})).unwrap_err();
        assert!(e.starts_with("/n:"), "{e}");
        assert!(v.check_input(&json!({})).unwrap_err().contains("\"n\""));
        assert!(v.output.get().is_none(), "the output schema is compiled on first use");
        assert!(v.check_output(&spec, &json!({"ok": 1})).is_ok());
        assert!(v.check_output(&spec, &json!({"nope": 1})).is_err());
    }

    #[test]
    fn names_follow_mcp_rule() {
        assert!(valid_tool_name("ide_agents_health"));
        assert!(valid_tool_name("a.b-c_9"));
        assert!(!valid_tool_name(""));
        assert!(!valid_tool_name("has space"));
        assert!(!valid_tool_name(&"x".repeat(129)));
    }

    #[test]
    fn input_schema_gets_properties_and_must_be_object() {
        let spec = ToolSpec::try_from(descriptor("t", r#"{"type":"object"}"#)).unwrap();
        assert_eq!(spec.input_schema, json!({"type": "object", "properties": {}}));
        assert_eq!(spec.to_mcp()["annotations"], json!({"readOnlyHint": true}));
        assert!(matches!(
            ToolSpec::try_from(descriptor("t", r#"{"type":"string"}"#)),
            Err(SpecError::SchemaNotObject { .. })
        ));
        assert!(matches!(ToolSpec::try_from(descriptor("t", "{")), Err(SpecError::SchemaNotJson { .. })));
        assert!(matches!(ToolSpec::try_from(descriptor("bad name", "{}")), Err(SpecError::BadName(_))));
    }
}
