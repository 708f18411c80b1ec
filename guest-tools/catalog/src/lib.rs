//! `ide_agents_catalog`: everything the server offers (tools with their group, load state and
//! schemas; resources; prompts), read from the `host-facts` interface.

wit_bindgen::generate!({ path: "../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::host_facts;
use ide_agents::tool::types::{Content, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};

const NAME: &str = "ide_agents_catalog";

struct Catalog;

#[derive(Deserialize)]
struct Args {
    #[serde(default = "all")]
    kind: String,
    group: Option<String>,
    #[serde(default = "yes")]
    include_schemas: bool,
}

fn all() -> String {
    "all".into()
}

fn yes() -> bool {
    true
}

impl Guest for Catalog {
    fn describe() -> Vec<ToolDescriptor> {
        let entries = |item: Value| json!({"type": "array", "items": item});
        vec![ToolDescriptor {
            name: NAME.into(),
            title: Some("Catalog".into()),
            description: "Lists what this server offers: tools with their group (core, ultra, extension), whether \
                          they are loaded yet, and their input/output schemas; MCP resources and templates; \
                          prompts and their arguments."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["all", "tools", "resources", "prompts"],
                             "description": "What to list (default: all)."},
                    "group": {"type": "string", "enum": ["core", "ultra", "extension"],
                              "description": "Only tools of this group."},
                    "include_schemas": {"type": "boolean",
                                        "description": "Include each tool's JSON Schemas (default: true)."}
                },
                "additionalProperties": false
            })
            .to_string(),
            output_schema: Some(
                json!({
                    "type": "object",
                    "properties": {
                        "tools": entries(json!({"type": "object", "properties": {
                            "name": {"type": "string"}, "title": {"type": ["string", "null"]},
                            "description": {"type": "string"},
                            "group": {"type": "string", "enum": ["core", "ultra", "extension"]},
                            "loaded": {"type": "boolean"}, "component": {"type": "string"},
                            "input_schema": {"type": "object"}, "output_schema": {"type": ["object", "null"]}},
                            "required": ["name", "description", "group", "loaded", "component"]})),
                        "resources": entries(json!({"type": "object", "properties": {
                            "uri": {"type": "string"}, "name": {"type": "string"},
                            "description": {"type": "string"}, "mime_type": {"type": "string"},
                            "template": {"type": "boolean"}}, "required": ["uri", "name", "template"]})),
                        "prompts": entries(json!({"type": "object", "properties": {
                            "name": {"type": "string"}, "description": {"type": "string"},
                            "arguments": {"type": "array"}}, "required": ["name", "arguments"]})),
                        "counts": {"type": "object", "properties": {
                            "tools": {"type": "integer"}, "resources": {"type": "integer"},
                            "prompts": {"type": "integer"}}}
                    },
                    "required": ["tools", "resources", "prompts", "counts"]
                })
                .to_string(),
            ),
            annotations: ToolAnnotations {
                read_only: Some(true),
                destructive: Some(false),
                idempotent: Some(true),
                open_world: Some(false),
            },
        }]
    }

    fn call(name: String, arguments: String) -> Result<CallResult, ToolError> {
        if name != NAME {
            return Err(ToolError::UnknownTool(name));
        }
        let args: Args = serde_json::from_str(&arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        let catalog = host_facts::catalog();
        let wants = |kind: &str| args.kind == "all" || args.kind == kind;
        let schema = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
        let tools: Vec<Value> = if wants("tools") {
            catalog
                .tools
                .iter()
                .filter(|t| args.group.as_deref().is_none_or(|g| g == t.group))
                .map(|t| {
                    let mut entry = json!({
                        "name": t.name, "title": t.title, "description": t.description, "group": t.group,
                        "loaded": t.loaded, "component": t.component,
                    });
                    if args.include_schemas {
                        entry["input_schema"] = schema(&t.input_schema);
                        entry["output_schema"] = t.output_schema.as_deref().map_or(Value::Null, schema);
                    }
                    entry
                })
                .collect()
        } else {
            Vec::new()
        };
        let resources: Vec<Value> = if wants("resources") {
            catalog
                .resources
                .iter()
                .map(|r| {
                    json!({"uri": r.uri, "name": r.name, "description": r.description, "mime_type": r.mime_type,
                           "template": r.template})
                })
                .collect()
        } else {
            Vec::new()
        };
        let prompts: Vec<Value> = if wants("prompts") {
            catalog
                .prompts
                .iter()
                .map(|p| {
                    let arguments: Vec<Value> = p
                        .arguments
                        .iter()
                        .map(|a| json!({"name": a.name, "description": a.description, "required": a.required}))
                        .collect();
                    json!({"name": p.name, "description": p.description, "arguments": arguments})
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut summary = format!("{} tools, {} resources, {} prompts", tools.len(), resources.len(), prompts.len());
        for t in &tools {
            summary.push_str(&format!(
                "\n- {} [{}{}]: {}",
                t["name"].as_str().unwrap_or_default(),
                t["group"].as_str().unwrap_or_default(),
                if t["loaded"] == true { ", loaded" } else { "" },
                t["description"].as_str().unwrap_or_default()
            ));
        }
        let counts = json!({"tools": tools.len(), "resources": resources.len(), "prompts": prompts.len()});
        let structured = json!({"tools": tools, "resources": resources, "prompts": prompts, "counts": counts});
        Ok(CallResult {
            content: vec![Content::Text(summary)],
            structured: Some(structured.to_string()),
            is_error: false,
        })
    }
}

export!(Catalog);
