//! `ide_agents_resource`: the server's resources, computed in the sandbox from read-only roots
//! (the `workspace` host interface):
//!
//! - `repo.graph` (root `workspace`): the module/import graph of Rust, Python and TS/JS files
//!   (`graph.rs`);
//! - `kb.snippet` (root `kb`): the markdown sections that best match a query (BM25, `kb.rs`);
//! - `build.logs` (root `logs`): the tail and an error summary of the newest logs (`logs.rs`).
//!
//! The server also serves these as MCP resources (`ide-agents://repo/graph`, ...) through this
//! component, behind its resource cache.

wit_bindgen::generate!({ path: "../../wit", world: "tool" });

mod graph;
mod kb;
mod logs;
mod walk;

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::{Content, ToolAnnotations};
pub(crate) use ide_agents::tool::workspace::FsError;
use serde::Deserialize;
use serde_json::{Value, json};

const NAME: &str = "ide_agents_resource";

struct Resource;

#[derive(Deserialize)]
struct Args {
    name: String,
    path: Option<String>,
    query: Option<String>,
    limit: Option<usize>,
    lines: Option<usize>,
    file: Option<String>,
}

impl Guest for Resource {
    fn describe() -> Vec<ToolDescriptor> {
        vec![ToolDescriptor {
            name: NAME.into(),
            title: Some("Workspace resources".into()),
            description: "Reads a resource from the directories the user granted (read-only): `repo.graph` (the \
                          module/import graph of the workspace's Rust, Python and TS/JS files), `kb.snippet` (the \
                          notes sections best matching `query`), `build.logs` (last lines and error summary of \
                          the newest build logs)."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "enum": ["repo.graph", "kb.snippet", "build.logs"],
                             "description": "Which resource."},
                    "path": {"type": "string", "description": "repo.graph: only this subdirectory of the workspace."},
                    "query": {"type": "string", "minLength": 1, "maxLength": 4096,
                              "description": "kb.snippet: what to look for (required)."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50,
                              "description": "kb.snippet: most snippets to return (default 5)."},
                    "lines": {"type": "integer", "minimum": 1, "maximum": 2000,
                              "description": "build.logs: lines of each log's tail (default 50)."},
                    "file": {"type": "string", "description": "build.logs: only this log file."}
                },
                "required": ["name"],
                "allOf": [{"if": {"properties": {"name": {"const": "kb.snippet"}}}, "then": {"required": ["query"]}}],
                "additionalProperties": false
            })
            .to_string(),
            output_schema: Some(
                json!({
                    "type": "object",
                    "properties": {
                        "resource": {"type": "string"},
                        "root": {"type": "string"},
                        "truncated": {"type": "boolean"}
                    },
                    "required": ["resource", "root"]
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
        let result = match args.name.as_str() {
            "repo.graph" => graph::build(args.path.as_deref().unwrap_or("")),
            "kb.snippet" => {
                let query = args
                    .query
                    .as_deref()
                    .ok_or_else(|| ToolError::InvalidArguments("/query: required for kb.snippet".into()))?;
                kb::search(query, args.limit.unwrap_or(5))
            }
            "build.logs" => logs::summarise(args.lines.unwrap_or(50), args.file.as_deref()),
            other => return Err(ToolError::InvalidArguments(format!("/name: unknown resource {other:?}"))),
        };
        match result {
            Ok((structured, text)) => Ok(CallResult {
                content: vec![Content::Text(text)],
                structured: Some(structured.to_string()),
                is_error: false,
            }),
            Err(e) => Ok(CallResult { content: vec![Content::Text(fs_message(&e))], structured: None, is_error: true }),
        }
    }
}

/// A resource's answer: structured content and a text rendering.
type Answer = Result<(Value, String), FsError>;

fn fs_message(e: &FsError) -> String {
    match e {
        FsError::NotGranted(m) => m.clone(),
        FsError::InvalidPath(m) => format!("invalid path: {m}"),
        FsError::NotFound(p) => format!("not found: {p}"),
        FsError::TooLarge(n) => format!("file too large ({n} bytes)"),
        FsError::Io(m) => format!("cannot read: {m}"),
    }
}

export!(Resource);
