//! MCP shapes the server produces: protocol version negotiation, the `initialize` result, and
//! turning a tool call's outcome into a `CallToolResult`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::bindings::{CallResult, Content, ToolError};
use crate::runtime::CallOutcome;
use crate::runtime::spec::{ToolSpec, Validators};

/// Initialize-era protocol revisions we speak, newest first (negotiated with `initialize`).
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// What `initialize` answers when the client asks for a version we do not know.
pub const LATEST_VERSION: &str = SUPPORTED_VERSIONS[0];
/// Stateless revisions we speak (each request names its version in `_meta`), newest first.
pub const MODERN_VERSIONS: &[&str] = &["2026-07-28"];
/// Every revision we speak, newest first: what `server/discover` lists.
pub const ALL_VERSIONS: &[&str] = &["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// The version to answer with: the client's if we support it, else our latest.
pub fn negotiate(requested: Option<&str>) -> &'static str {
    requested.and_then(|r| SUPPORTED_VERSIONS.iter().copied().find(|v| *v == r)).unwrap_or(LATEST_VERSION)
}

/// Server instructions sent with `initialize` and `server/discover`.
pub const INSTRUCTIONS: &str = "Every tool runs in a fresh WebAssembly sandbox with no file, network or \
environment access unless granted. Call `ide_agents_health` to see the server's state.";

/// What the server offers, in both eras.
pub fn capabilities() -> Value {
    json!({
        "tools": {"listChanged": true},
        "resources": {"subscribe": false, "listChanged": true},
        "prompts": {"listChanged": true},
        "completions": {},
        "logging": {},
    })
}

/// The `initialize` result for `version`.
pub fn initialize_result(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": capabilities(),
        "serverInfo": {
            "name": crate::about::SERVER_NAME,
            "title": "IDE Agents MCP (sandboxed WebAssembly tools)",
            "version": crate::about::SERVER_VERSION,
        },
        "instructions": INSTRUCTIONS,
    })
}

/// An MCP `CallToolResult`. Structured content is passed through as raw JSON (validated, never
/// re-built), which keeps large tool outputs cheap.
#[derive(Debug, Serialize)]
pub struct CallToolResult {
    content: Vec<ContentBlock>,
    #[serde(rename = "structuredContent", skip_serializing_if = "Option::is_none")]
    structured_content: Option<Box<RawValue>>,
    #[serde(rename = "isError")]
    is_error: bool,
}

impl CallToolResult {
    /// Whether this is an error result.
    pub fn is_error(&self) -> bool {
        self.is_error
    }

    /// The structured content, if any.
    pub fn structured(&self) -> Option<&RawValue> {
        self.structured_content.as_deref()
    }

    /// An upper bound of the bytes this result takes as JSON, escaping and framing included:
    /// what the output limit measures, and the size of the response buffer.
    pub fn json_len_hint(&self) -> usize {
        let opt = |s: &Option<String>| s.as_deref().map_or(0, escaped_len);
        let blocks: usize = self
            .content
            .iter()
            .map(|block| match block {
                ContentBlock::Text { text } => escaped_len(text),
                ContentBlock::Image { data, mime_type } | ContentBlock::Audio { data, mime_type } => {
                    data.len() + escaped_len(mime_type)
                }
                ContentBlock::ResourceLink { uri, name, description, mime_type } => {
                    escaped_len(uri) + escaped_len(name) + opt(description) + opt(mime_type)
                }
            } + 64)
            .sum();
        blocks + self.structured_content.as_ref().map_or(0, |raw| raw.get().len() + 24) + 48
    }

    /// The bytes of the result's strings before escaping, plus framing: a lower bound of its JSON
    /// size (at most 6x below it) that costs no pass over the text.
    pub fn unescaped_len(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let blocks: usize = self
            .content
            .iter()
            .map(|block| match block {
                ContentBlock::Text { text } => text.len(),
                ContentBlock::Image { data, mime_type } | ContentBlock::Audio { data, mime_type } => {
                    data.len() + mime_type.len()
                }
                ContentBlock::ResourceLink { uri, name, description, mime_type } => {
                    uri.len() + name.len() + opt(description) + opt(mime_type)
                }
            } + 64)
            .sum();
        blocks + self.structured_content.as_ref().map_or(0, |raw| raw.get().len() + 24) + 48
    }

    /// The text of the first text block, if any (an error result's message).
    pub fn first_text(&self) -> Option<&str> {
        self.content.iter().find_map(|c| match c {
            ContentBlock::Text { text } => Some(text.as_str()),
            _ => None,
        })
    }
}

/// One MCP content block.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentBlock {
    Text {
        text: String,
    },
    Image {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    Audio {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    ResourceLink {
        uri: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(rename = "mimeType", skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
    },
}

/// Bytes of `s` as a JSON string body: `"`, `\\` and the short escapes (`\n`...) take two
/// bytes, other control characters six (`\u001f`).
pub fn escaped_len(s: &str) -> usize {
    // Branch-free per byte, so that the compiler vectorises it: this runs on every text result.
    let extra: usize = s
        .bytes()
        .map(|b| {
            let quote = usize::from(b == b'"' || b == b'\\');
            let control = usize::from(b < 0x20);
            let short = usize::from(matches!(b, b'\n' | b'\r' | b'\t' | 0x08 | 0x0c));
            quote + 5 * control - 4 * short
        })
        .sum();
    s.len() + extra
}

/// Most content blocks one result may have.
pub const MAX_CONTENT_ITEMS: usize = 1024;

/// Deepest nesting of arrays and objects in structured output: the same bound the input side has
/// (serde_json's recursion limit), so that no client parser meets deeper JSON from us.
pub const MAX_JSON_DEPTH: usize = 128;

/// Whether the JSON text `json` (already known to be valid) nests arrays and objects at most
/// `max` deep. (Parsing into a `RawValue` does not bound depth: serde_json skips the value
/// without recursion.) JSON with at most `max` brackets cannot be deeper, and counting them is a
/// vectorised pass: the exact scan, ~14k instructions for a health call's output, runs only past
/// that.
pub fn depth_within(json: &str, max: usize) -> bool {
    let brackets: usize = json.bytes().map(|b| usize::from(b == b'[' || b == b'{')).sum();
    if brackets <= max {
        return true;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for b in json.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// A `CallToolResult` with one text block and `isError: true`.
pub fn error_result(message: impl Into<String>) -> CallToolResult {
    CallToolResult {
        content: vec![ContentBlock::Text { text: message.into() }],
        structured_content: None,
        is_error: true,
    }
}

/// How much of a tool's structured output the server checks. Every structured output is checked
/// to be one JSON object (it is written into the response as is); whether it also matches the
/// tool's output schema is checked unless the component is trusted.
#[derive(Clone, Copy)]
pub enum OutputCheck<'a> {
    /// Check against the output schema with these validators.
    Validate(&'a Validators),
    /// Trust the component to keep its own output schema (built-ins; see
    /// `server::VALIDATE_BUILTIN_OUTPUT`).
    TrustSchema,
}

/// Turns a call outcome into a `CallToolResult`. Tool errors and sandbox failures become
/// `isError` results whose text names the cause; a tool that declares an output schema must return
/// structured content that is a JSON object (matching the schema unless `check` trusts it), or the
/// result becomes an error.
pub fn call_result(spec: &ToolSpec, check: OutputCheck<'_>, outcome: CallOutcome) -> CallToolResult {
    match outcome {
        Ok(Ok(result)) => success(spec, check, result),
        Ok(Err(error)) => error_result(tool_error_text(&spec.name, error)),
        Err(failure) => error_result(failure.to_string()),
    }
}

fn tool_error_text(tool: &str, error: ToolError) -> String {
    match error {
        ToolError::InvalidArguments(m) => format!("invalid arguments for `{tool}`: {m}"),
        ToolError::UnknownTool(m) => format!("the component behind `{tool}` does not provide {m:?}"),
        ToolError::Failed(m) => format!("`{tool}` failed: {m}"),
    }
}

fn success(spec: &ToolSpec, check: OutputCheck<'_>, result: CallResult) -> CallToolResult {
    if result.content.len() > MAX_CONTENT_ITEMS {
        return error_result(format!(
            "`{}` returned {} content blocks, more than the limit of {MAX_CONTENT_ITEMS}",
            spec.name,
            result.content.len()
        ));
    }
    let structured = match result.structured.map(RawValue::from_string) {
        None => None,
        Some(Ok(raw)) if !depth_within(raw.get(), MAX_JSON_DEPTH) => {
            return error_result(format!(
                "`{}` returned structured content nested deeper than {MAX_JSON_DEPTH} levels",
                spec.name
            ));
        }
        Some(Ok(raw)) if raw.get().starts_with('{') => Some(raw),
        Some(Ok(_)) => {
            return error_result(format!("`{}` returned structured content that is not a JSON object", spec.name));
        }
        Some(Err(e)) => {
            return error_result(format!("`{}` returned structured content that is not valid JSON: {e}", spec.name));
        }
    };
    let mut content = content_blocks(result.content);
    if result.is_error {
        // Structured content is never sent with an error result.
        return CallToolResult { content, structured_content: None, is_error: true };
    }
    if spec.output_schema.is_some() {
        let Some(raw) = &structured else {
            return error_result(format!(
                "`{}` declares an output schema but returned no structured content",
                spec.name
            ));
        };
        if let OutputCheck::Validate(validators) = check
            && let Err(e) = validators.check_output(spec, &serde_json::from_str(raw.get()).unwrap_or(Value::Null))
        {
            return error_result(format!(
                "`{}` returned structured content that breaks its output schema: {e}",
                spec.name
            ));
        }
    }
    if content.is_empty()
        && let Some(raw) = &structured
    {
        content.push(ContentBlock::Text { text: raw.get().to_owned() });
    }
    CallToolResult { content, structured_content: structured, is_error: false }
}

fn content_blocks(content: Vec<Content>) -> Vec<ContentBlock> {
    content
        .into_iter()
        .map(|block| match block {
            Content::Text(text) => ContentBlock::Text { text },
            Content::Image(m) => ContentBlock::Image { data: BASE64.encode(&m.data), mime_type: m.mime_type },
            Content::Audio(m) => ContentBlock::Audio { data: BASE64.encode(&m.data), mime_type: m.mime_type },
            Content::ResourceLink(link) => ContentBlock::ResourceLink {
                uri: link.uri,
                name: link.name,
                description: link.description,
                mime_type: link.mime_type,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::Media;
    use crate::runtime::CallFailure;
    use serde_json::Map;

    fn call_result(spec: &ToolSpec, outcome: CallOutcome) -> Value {
        serde_json::to_value(super::call_result(
            spec,
            OutputCheck::Validate(&Validators::compile(spec).unwrap()),
            outcome,
        ))
        .unwrap()
    }

    fn spec(output_schema: Option<Value>) -> ToolSpec {
        ToolSpec {
            name: "t".into(),
            title: None,
            description: "d".into(),
            input_schema: json!({"type": "object", "properties": {}}),
            output_schema,
            annotations: Map::new(),
        }
    }

    #[test]
    fn negotiates_known_versions_and_falls_back_to_latest() {
        assert_eq!(negotiate(Some("2024-11-05")), "2024-11-05");
        assert_eq!(negotiate(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate(Some("1999-01-01")), LATEST_VERSION);
        assert_eq!(negotiate(None), LATEST_VERSION);
    }

    #[test]
    fn structured_output_is_required_when_declared() {
        let declared = spec(Some(json!({"type": "object", "properties": {"a": {"type": "integer"}}})));
        let bare = CallResult { content: vec![Content::Text("x".into())], structured: None, is_error: false };
        assert_eq!(call_result(&declared, Ok(Ok(bare)))["isError"], json!(true));

        let ok = CallResult { content: vec![], structured: Some(r#"{"a":1}"#.into()), is_error: false };
        let v = call_result(&declared, Ok(Ok(ok)));
        assert_eq!(v["isError"], json!(false));
        assert_eq!(v["structuredContent"], json!({"a": 1}));
        assert_eq!(v["content"][0]["text"], json!(r#"{"a":1}"#));

        let not_object = CallResult { content: vec![], structured: Some("[1]".into()), is_error: false };
        assert_eq!(call_result(&declared, Ok(Ok(not_object)))["isError"], json!(true));

        let breaks = CallResult { content: vec![], structured: Some(r#"{"a":"x"}"#.into()), is_error: false };
        let v = call_result(&declared, Ok(Ok(breaks)));
        assert_eq!(v["isError"], json!(true));
        assert!(v["content"][0]["text"].as_str().unwrap().contains("/a"), "{v}");
    }

    #[test]
    fn a_trusted_component_skips_only_the_schema_check() {
        let declared = spec(Some(json!({"type": "object", "properties": {"a": {"type": "integer"}}})));
        let trusted = |structured: &str| {
            let result = CallResult { content: vec![], structured: Some(structured.into()), is_error: false };
            serde_json::to_value(super::call_result(&declared, OutputCheck::TrustSchema, Ok(Ok(result)))).unwrap()
        };
        let v = trusted(r#"{"a":"x"}"#);
        assert_eq!(v["isError"], json!(false), "{v}");
        assert_eq!(v["structuredContent"], json!({"a": "x"}));
        // Still one JSON object, whatever the trust: it is written into the response as is.
        assert_eq!(trusted("[1]")["isError"], json!(true));
        assert_eq!(trusted(r#"{"a":1"#)["isError"], json!(true));
        let bare = CallResult { content: vec![Content::Text("x".into())], structured: None, is_error: false };
        let v = serde_json::to_value(super::call_result(&declared, OutputCheck::TrustSchema, Ok(Ok(bare)))).unwrap();
        assert_eq!(v["isError"], json!(true));
    }

    #[test]
    fn media_is_base64_and_errors_name_the_cause() {
        let image = CallResult {
            content: vec![Content::Image(Media { data: vec![1, 2, 3], mime_type: "image/png".into() })],
            structured: None,
            is_error: false,
        };
        assert_eq!(call_result(&spec(None), Ok(Ok(image)))["content"][0]["data"], json!("AQID"));
        let v = call_result(&spec(None), Ok(Err(ToolError::InvalidArguments("`message` is required".into()))));
        assert_eq!(v["isError"], json!(true));
        assert!(v["content"][0]["text"].as_str().unwrap().contains("`message` is required"));
        let v = call_result(
            &spec(None),
            Err(CallFailure::Timeout { tool: "t".into(), limit: std::time::Duration::from_millis(500) }),
        );
        assert!(v["content"][0]["text"].as_str().unwrap().contains("time limit of 500 ms"));
    }

    #[test]
    fn depth_and_item_count_are_bounded() {
        assert!(depth_within(r#"{"a":[[["[[[[ in a string"]]]}"#, 4));
        assert!(!depth_within(r#"{"a":[[[1]]]}"#, 3));
        assert!(depth_within(r#"{"a":[1],"b":[2],"c":[3]}"#, 3), "many brackets, shallow");
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        let v = call_result(
            &spec(Some(json!({"type": "object"}))),
            Ok(Ok(CallResult { content: vec![], structured: Some(deep), is_error: false })),
        );
        assert_eq!(v["isError"], json!(true), "{v}");
        let many = CallResult {
            content: vec![Content::Text(String::new()); MAX_CONTENT_ITEMS + 1],
            structured: None,
            is_error: false,
        };
        assert_eq!(call_result(&spec(None), Ok(Ok(many)))["isError"], json!(true));
    }

    #[test]
    fn the_length_hint_bounds_escaped_text() {
        let result = CallResult {
            content: vec![Content::Text("\u{1}\"\\\n".repeat(1000)), Content::Text(String::new())],
            structured: None,
            is_error: false,
        };
        let result = super::call_result(&spec(None), OutputCheck::TrustSchema, Ok(Ok(result)));
        let rendered = serde_json::to_string(&result).unwrap().len();
        assert!(result.json_len_hint() >= rendered, "hint {} < {rendered}", result.json_len_hint());
        assert!(result.json_len_hint() < rendered + 300, "a tight bound: {} for {rendered}", result.json_len_hint());
    }

    #[test]
    fn the_length_hint_covers_a_result_without_escapes() {
        let spec = spec(Some(json!({"type": "object"})));
        let result = CallResult {
            content: vec![
                Content::Text("a one-line summary".into()),
                Content::Image(Media { data: vec![7; 300], mime_type: "image/png".into() }),
            ],
            structured: Some(r#"{"names":["a","b"],"n":12345,"ok":true}"#.into()),
            is_error: false,
        };
        let result = super::call_result(&spec, OutputCheck::TrustSchema, Ok(Ok(result)));
        let rendered = serde_json::to_string(&result).unwrap().len();
        assert!(result.json_len_hint() >= rendered, "hint {} < {rendered}", result.json_len_hint());
        let error = error_result("boom");
        assert!(error.json_len_hint() >= serde_json::to_string(&error).unwrap().len());
    }
}
