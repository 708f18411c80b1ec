//! MCP resources: the fixed set the server offers (`resources/list`, `resources/templates/list`)
//! and how a resource URI becomes a call of the built-in `ide_agents_resource` component, which
//! produces the contents inside its sandbox. The server answers `resources/read` from the 60 s
//! resource cache (`resource:{uri}`) when it can (see `reads.rs`).
//!
//! A resource is listed only when the root it reads is granted to the resource tool
//! (`--workspace`, `[roots]`).

use serde_json::{Map, Value, json};

use super::jsonrpc::{ErrorCode, RpcError};

/// The tool that produces resource contents.
pub const RESOURCE_TOOL: &str = "ide_agents_resource";
/// The URI scheme of our resources.
const SCHEME: &str = "ide-agents";

/// A query parameter a resource accepts.
#[derive(Debug, Clone, Copy)]
pub enum Param {
    /// A string.
    Text(&'static str),
    /// A non-negative integer.
    Integer(&'static str),
}

impl Param {
    fn name(self) -> &'static str {
        match self {
            Self::Text(n) | Self::Integer(n) => n,
        }
    }
}

/// One resource (or template) the server offers.
#[derive(Debug)]
pub struct ResourceDef {
    /// `ide_agents_resource`'s `name` argument, and the resource's MCP name.
    pub name: &'static str,
    /// `ide-agents://{path}`.
    pub path: &'static str,
    /// What it holds.
    pub description: &'static str,
    /// Media type of the contents.
    pub mime_type: &'static str,
    /// The root it reads, which must be granted for it to be offered.
    pub root: &'static str,
    /// Query parameters it accepts; a template when any is required.
    pub params: &'static [Param],
    /// Whether it is only offered as a template (it needs parameters).
    pub template: bool,
}

impl ResourceDef {
    /// The plain URI, `ide-agents://repo/graph`.
    pub fn uri(&self) -> String {
        format!("{SCHEME}://{}", self.path)
    }

    /// The RFC 6570 URI template, `ide-agents://kb/snippet{?query,limit}`.
    pub fn uri_template(&self) -> String {
        let names: Vec<&str> = self.params.iter().map(|p| p.name()).collect();
        format!("{SCHEME}://{}{{?{}}}", self.path, names.join(","))
    }
}

/// Every resource, in listing order.
pub static RESOURCES: &[ResourceDef] = &[
    ResourceDef {
        name: "repo.graph",
        path: "repo/graph",
        description: "Module/import graph of the workspace: Rust (mod/use), Python (import/from) and \
                      TS/JS (import/require) files, their imports, and which resolve to files in the workspace.",
        mime_type: "application/json",
        root: "workspace",
        params: &[Param::Text("path")],
        template: false,
    },
    ResourceDef {
        name: "build.logs",
        path: "build/logs",
        description: "The newest build logs: the last lines of each and a summary of the errors and \
                      warnings they contain.",
        mime_type: "application/json",
        root: "logs",
        params: &[Param::Integer("lines"), Param::Text("file")],
        template: false,
    },
    ResourceDef {
        name: "kb.snippet",
        path: "kb/snippet",
        description: "The snippets of the markdown notes folder that best match `query` (BM25 over \
                      sections), with file, heading and line range.",
        mime_type: "application/json",
        root: "kb",
        params: &[Param::Text("query"), Param::Integer("limit")],
        template: true,
    },
];

/// A `resources/read` request turned into tool arguments.
pub struct ResourceRead {
    /// The resource.
    pub def: &'static ResourceDef,
    /// Arguments for `ide_agents_resource`.
    pub arguments: Value,
}

/// Parses a resource URI: `ide-agents://repo/graph`, `ide-agents://kb/snippet?query=...&limit=3`.
pub fn parse_uri(uri: &str) -> Result<ResourceRead, RpcError> {
    let not_found = || RpcError::new(ErrorCode::ResourceNotFound, format!("resource not found: {uri}"));
    let url = url::Url::parse(uri).map_err(|_| not_found())?;
    if url.scheme() != SCHEME {
        return Err(not_found());
    }
    let path = format!("{}{}", url.host_str().unwrap_or_default(), url.path());
    let def = RESOURCES.iter().find(|d| d.path == path.trim_end_matches('/')).ok_or_else(not_found)?;
    let mut arguments = Map::new();
    arguments.insert("name".into(), json!(def.name));
    for (key, value) in url.query_pairs() {
        let param =
            def.params.iter().find(|p| p.name() == key).ok_or_else(|| {
                RpcError::invalid_params(format!("{uri}: unknown parameter {key:?} for {}", def.name))
            })?;
        let value = match param {
            Param::Text(_) => json!(value),
            Param::Integer(_) => json!(value.parse::<u64>().map_err(|_| {
                RpcError::invalid_params(format!("{uri}: parameter {key:?} must be a non-negative integer"))
            })?),
        };
        arguments.insert(key.into_owned(), value);
    }
    Ok(ResourceRead { def, arguments: Value::Object(arguments) })
}

/// The `contents` of a `resources/read` result.
pub fn contents(uri: &str, def: &ResourceDef, text: String) -> Value {
    json!({ "contents": [{ "uri": uri, "mimeType": def.mime_type, "text": text }] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_map_to_tool_arguments() {
        let r = parse_uri("ide-agents://kb/snippet?query=borrow%20checker&limit=3").unwrap();
        assert_eq!(r.arguments, json!({"name": "kb.snippet", "query": "borrow checker", "limit": 3}));
        assert_eq!(parse_uri("ide-agents://repo/graph").unwrap().arguments, json!({"name": "repo.graph"}));
        assert_eq!(parse_uri("ide-agents://nope").err().unwrap().code, ErrorCode::ResourceNotFound);
        assert_eq!(parse_uri("file:///etc/passwd").err().unwrap().code, ErrorCode::ResourceNotFound);
        assert_eq!(parse_uri("ide-agents://kb/snippet?limit=x").err().unwrap().code, ErrorCode::InvalidParams);
        assert_eq!(parse_uri("ide-agents://repo/graph?evil=1").err().unwrap().code, ErrorCode::InvalidParams);
        assert_eq!(RESOURCES[2].uri_template(), "ide-agents://kb/snippet{?query,limit}");
    }
}
