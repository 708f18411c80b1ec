//! MCP resources: their URIs and templates, and how a resource URI becomes a call of the tool that
//! reads it (which produces the contents inside its sandbox). What is offered is declared by the
//! components (the WIT `offerings` export, kept in the registry). The server answers `resources/read` from the 60 s
//! resource cache (`resource:{uri}`) when it can (see `reads.rs`).
//!
//! A resource is listed only when the root it reads is granted to the tool that reads it
//! (`--workspace`, `[roots]`).

use serde_json::{Map, Value, json};

use super::jsonrpc::RpcError;
use crate::runtime::offerings::ResourceDef;

/// The URI scheme of our resources.
pub const SCHEME: &str = "ide-agents";

/// The plain URI, `ide-agents://repo/graph`.
pub fn uri(def: &ResourceDef) -> String {
    format!("{SCHEME}://{}", def.path)
}

/// The RFC 6570 URI template, `ide-agents://kb/snippet{?query,limit}`.
pub fn uri_template(def: &ResourceDef) -> String {
    let names: Vec<&str> = def.params.iter().map(|p| p.name.as_str()).collect();
    format!("{SCHEME}://{}{{?{}}}", def.path, names.join(","))
}

/// A `resources/read` request turned into tool arguments.
pub struct ResourceRead<'a> {
    /// The resource.
    pub def: &'a ResourceDef,
    /// Arguments for the tool that reads it.
    pub arguments: Value,
}

/// Parses a resource URI (`ide-agents://repo/graph`, `ide-agents://kb/snippet?query=...&limit=3`)
/// against the resources `offered`.
pub fn parse_uri<'a>(
    uri: &str,
    mut offered: impl Iterator<Item = &'a ResourceDef>,
) -> Result<ResourceRead<'a>, RpcError> {
    let not_found = || RpcError::resource_not_found(uri, format!("resource not found: {uri}"));
    let url = url::Url::parse(uri).map_err(|_| not_found())?;
    if url.scheme() != SCHEME {
        return Err(not_found());
    }
    let path = format!("{}{}", url.host_str().unwrap_or_default(), url.path());
    let def = offered.find(|d| d.path == path.trim_end_matches('/')).ok_or_else(not_found)?;
    let mut arguments = Map::new();
    arguments.insert("name".into(), json!(def.name));
    for (key, value) in url.query_pairs() {
        let param =
            def.params.iter().find(|p| p.name == key).ok_or_else(|| {
                RpcError::invalid_params(format!("{uri}: unknown parameter {key:?} for {}", def.name))
            })?;
        let value = if param.integer {
            json!(value.parse::<u64>().map_err(|_| {
                RpcError::invalid_params(format!("{uri}: parameter {key:?} must be a non-negative integer"))
            })?)
        } else {
            json!(value)
        };
        arguments.insert(key.into_owned(), value);
    }
    Ok(ResourceRead { def, arguments: Value::Object(arguments) })
}

/// The `contents` of a `resources/read` result.
pub fn contents(uri: &str, mime_type: &str, text: String) -> Value {
    json!({ "contents": [{ "uri": uri, "mimeType": mime_type, "text": text }] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::ErrorCode;
    use crate::runtime::offerings::Param;

    fn offered() -> Vec<ResourceDef> {
        let def = |name: &str, path: &str, params: &[(&str, bool)], template| ResourceDef {
            name: name.into(),
            path: path.into(),
            description: String::new(),
            mime_type: "application/json".into(),
            root: "workspace".into(),
            params: params.iter().map(|(n, integer)| Param { name: (*n).into(), integer: *integer }).collect(),
            template,
            tool: "t".into(),
        };
        vec![
            def("repo.graph", "repo/graph", &[("path", false)], false),
            def("kb.snippet", "kb/snippet", &[("query", false), ("limit", true)], true),
        ]
    }

    #[test]
    fn uris_map_to_tool_arguments() {
        let defs = offered();
        let parse = |uri: &str| parse_uri(uri, defs.iter());
        let r = parse("ide-agents://kb/snippet?query=borrow%20checker&limit=3").unwrap();
        assert_eq!(r.arguments, json!({"name": "kb.snippet", "query": "borrow checker", "limit": 3}));
        assert_eq!(parse("ide-agents://repo/graph").unwrap().arguments, json!({"name": "repo.graph"}));
        assert_eq!(parse("ide-agents://nope").err().unwrap().code, ErrorCode::ResourceNotFound);
        assert_eq!(parse("file:///etc/passwd").err().unwrap().code, ErrorCode::ResourceNotFound);
        assert_eq!(parse("ide-agents://kb/snippet?limit=x").err().unwrap().code, ErrorCode::InvalidParams);
        assert_eq!(parse("ide-agents://repo/graph?evil=1").err().unwrap().code, ErrorCode::InvalidParams);
        assert_eq!(uri_template(&defs[1]), "ide-agents://kb/snippet{?query,limit}");
    }
}
