//! [`ToolSpec`]: a tool descriptor as the host keeps it (validated, schemas parsed), converted from
//! the WIT `tool-descriptor` once and cached on disk, and rendered as an MCP `Tool` object.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::bindings::{ToolAnnotations, ToolDescriptor};

/// Longest tool name MCP allows.
pub const MAX_TOOL_NAME_LEN: usize = 128;

/// Registration caps: what one component may declare. Over any of them the component is refused
/// with a message naming the cap, so that no component can inflate `tools/list`, health and the
/// catalog for everyone.
pub const MAX_TOOLS_PER_COMPONENT: usize = 64;
/// Longest tool title, bytes.
pub const MAX_TITLE_BYTES: usize = 256;
/// Longest tool description, bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 8 << 10;
/// Longest input or output schema, bytes of JSON.
pub const MAX_SCHEMA_BYTES: usize = 64 << 10;
/// All of one component's names, titles, descriptions and schemas together, bytes.
pub const MAX_DESCRIPTOR_BYTES: usize = 512 << 10;
/// Time the host may spend compiling one tool's schemas.
pub const SCHEMA_COMPILE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);
/// Changes when registration rules change: remembered failures under older rules are retried.
pub const CAPS_VERSION: u32 = 1;

/// Checks what a component declared against the registration caps.
pub fn check_caps(tools: &[ToolDescriptor]) -> Result<(), String> {
    if tools.len() > MAX_TOOLS_PER_COMPONENT {
        return Err(format!("it declares {} tools, more than the limit of {MAX_TOOLS_PER_COMPONENT}", tools.len()));
    }
    let mut total = 0;
    for d in tools {
        let name = crate::host::budget::escape_controls(crate::host::log::truncate(&d.name, 64)).into_owned();
        let checks = [
            ("title", d.title.as_ref().map_or(0, String::len), MAX_TITLE_BYTES),
            ("description", d.description.len(), MAX_DESCRIPTION_BYTES),
            ("input schema", d.input_schema.len(), MAX_SCHEMA_BYTES),
            ("output schema", d.output_schema.as_ref().map_or(0, String::len), MAX_SCHEMA_BYTES),
        ];
        for (what, len, max) in checks {
            if len > max {
                return Err(format!("tool {name:?}: its {what} is {len} bytes, more than the limit of {max}"));
            }
            total += len;
        }
        total += d.name.len();
    }
    if total > MAX_DESCRIPTOR_BYTES {
        return Err(format!("its descriptors take {total} bytes, more than the limit of {MAX_DESCRIPTOR_BYTES}"));
    }
    Ok(())
}

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

/// Compiled JSON Schema validators of a tool's input and output. Schemas fail closed: a tool
/// whose schemas do not compile is not registered (discovery checks with [`Validators::check`]),
/// and a validator that cannot be built refuses every call instead of letting it through.
///
/// `pattern` and `patternProperties` run on the `regex` crate's engine (linear time, no
/// backtracking, bounded compiled size): a schema cannot make validation take exponential time,
/// and a pattern that engine cannot run (look-around, back-references) does not compile, so its
/// tool is refused at registration.
pub struct Validators {
    input: jsonschema::Validator,
    /// Compiled on first use: the output of a trusted component is never checked, so its schema
    /// need not be compiled at all.
    output: std::sync::OnceLock<Result<Option<jsonschema::Validator>, String>>,
}

/// Largest compiled form of one regular expression in a schema, bytes.
pub const MAX_REGEX_BYTES: usize = 1 << 20;

/// Compiles one schema with the server's options.
fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_pattern_options(
            jsonschema::PatternOptions::regex().size_limit(MAX_REGEX_BYTES).dfa_size_limit(MAX_REGEX_BYTES),
        )
        .build(schema)
        .map_err(|e| e.to_string())
}

impl Validators {
    /// Compiles the tool's input schema; the output schema waits for [`Self::compile_output`] or
    /// the first [`Self::check_output`].
    pub fn compile(spec: &ToolSpec) -> Result<Self, String> {
        let input = compile(&spec.input_schema).map_err(|e| format!("its input schema does not compile: {e}"))?;
        Ok(Self { input, output: std::sync::OnceLock::new() })
    }

    /// Whether both of `spec`'s schemas compile: `Err` says which does not, and why.
    pub fn check(spec: &ToolSpec) -> Result<(), String> {
        let validators = Self::compile(spec)?;
        validators.compile_output(spec).map(|_| ())
    }

    /// Compiles the output schema now, if it is not yet.
    pub fn compile_output(&self, spec: &ToolSpec) -> Result<Option<&jsonschema::Validator>, String> {
        self.output
            .get_or_init(|| {
                spec.output_schema
                    .as_ref()
                    .map(|s| compile(s).map_err(|e| format!("its output schema does not compile: {e}")))
                    .transpose()
            })
            .as_ref()
            .map(Option::as_ref)
            .map_err(Clone::clone)
    }

    /// Checks arguments against the input schema: `Err` names the first offending field.
    pub fn check_input(&self, arguments: &Value) -> Result<(), String> {
        check(Some(&self.input), arguments)
    }

    /// Checks `spec`'s structured output against its output schema.
    pub fn check_output(&self, spec: &ToolSpec, structured: &Value) -> Result<(), String> {
        check(self.compile_output(spec)?, structured)
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
        let v = Validators::compile(&spec).unwrap();
        assert!(v.check_input(&json!({"n": 1})).is_ok());
        let e = v.check_input(&json!({"n": "x"})).unwrap_err();
        assert!(e.starts_with("/n:"), "{e}");
        assert!(v.check_input(&json!({})).unwrap_err().contains("\"n\""));
        assert!(v.output.get().is_none(), "the output schema is compiled on first use");
        assert!(v.check_output(&spec, &json!({"ok": 1})).is_ok());
        assert!(v.check_output(&spec, &json!({"nope": 1})).is_err());
    }

    #[test]
    fn schemas_fail_closed_and_patterns_cannot_backtrack() {
        let spec = |input: Value, output: Option<Value>| ToolSpec {
            name: "t".into(),
            title: None,
            description: "d".into(),
            input_schema: input,
            output_schema: output,
            annotations: Map::new(),
        };
        let object = json!({"type": "object"});
        assert!(Validators::check(&spec(object.clone(), Some(object.clone()))).is_ok());
        let broken = json!({"type": "object", "properties": {"a": {"type": "no-such-type"}}});
        assert!(Validators::check(&spec(broken.clone(), None)).unwrap_err().contains("input schema"));
        assert!(Validators::check(&spec(object, Some(broken))).unwrap_err().contains("output schema"));
        // Look-around needs a backtracking engine: refused.
        let lookahead = json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "^(?=a)a$"}}});
        assert!(Validators::check(&spec(lookahead, None)).is_err());
        // A pattern that is exponential for a backtracking engine is linear here.
        let evil = json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}});
        let v = Validators::compile(&spec(evil, None)).unwrap();
        let started = std::time::Instant::now();
        assert!(v.check_input(&json!({"a": format!("{}!", "a".repeat(100_000))})).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn registration_caps_name_the_cap() {
        let many: Vec<ToolDescriptor> =
            (0..=MAX_TOOLS_PER_COMPONENT).map(|i| descriptor(&format!("t{i}"), "{}")).collect();
        assert!(check_caps(&many).unwrap_err().contains("more than the limit of 64"));
        let mut long = descriptor("t", "{}");
        long.description = "d".repeat(MAX_DESCRIPTION_BYTES + 1);
        assert!(check_caps(&[long]).unwrap_err().contains("description"));
        let mut wide = descriptor("t", "{}");
        wide.output_schema = Some(" ".repeat(MAX_SCHEMA_BYTES + 1));
        assert!(check_caps(&[wide]).unwrap_err().contains("output schema"));
        let mut big = descriptor("t", "{}");
        big.description = "d".repeat(MAX_DESCRIPTION_BYTES);
        let total: Vec<ToolDescriptor> = (0..MAX_TOOLS_PER_COMPONENT).map(|_| big.clone()).collect();
        assert!(check_caps(&total).unwrap_err().contains("descriptors take"));
        assert!(check_caps(&[descriptor("t", "{}")]).is_ok());
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
