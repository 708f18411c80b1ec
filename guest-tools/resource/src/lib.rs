//! `ide_agents_resource`: the server's resources, computed in the sandbox from read-only roots
//! (the `workspace` host interface):
//!
//! - `repo.graph` (root `workspace`): the module/import graph of Rust, Python and TS/JS files
//!   (`graph.rs`);
//! - `kb.snippet` (root `kb`): the markdown sections that best match a query (BM25, `kb.rs`);
//! - `build.logs` (root `logs`): the tail and an error summary of the newest logs (`logs.rs`).
//!
//! The server also serves these as MCP resources (`ide-agents://repo/graph`, ...) through this
//! component, behind its resource cache: the structured output is the resource's JSON.

mod graph;
mod kb;
mod logs;
mod walk;

use ide_agents_tool::workspace::FsError;
use ide_agents_tool::{Annotations, Error, Reply, Tool, offerings};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

struct Resource;

impl Tool for Resource {
    const NAME: &'static str = "ide_agents_resource";
    const TITLE: Option<&'static str> = Some("Workspace resources");
    const DESCRIPTION: &'static str = "Reads a resource from the directories the user granted (read-only): \
                                       `repo.graph` (the module/import graph of the workspace's Rust, Python and \
                                       TS/JS files), `kb.snippet` (the notes sections best matching `query`), \
                                       `build.logs` (last lines and error summary of the newest build logs).";
    const ANNOTATIONS: Annotations =
        Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);
    type Args = Args;
    type Output = Answer;

    fn call(args: Args) -> Result<Reply<Answer>, Error> {
        let rendered = match args.name {
            Name::RepoGraph => graph::build(args.path.as_deref().unwrap_or("")).map(|(g, t)| (Answer::Graph(g), t)),
            Name::KbSnippet => {
                let query = args.query.as_deref().ok_or_else(|| Error::invalid("/query", "required for kb.snippet"))?;
                kb::search(query, args.limit).map(|(s, t)| (Answer::Snippets(s), t))
            }
            Name::BuildLogs => logs::summarise(args.lines, args.file.as_deref()).map(|(l, t)| (Answer::Logs(l), t)),
        };
        let (answer, text) = rendered.map_err(|e| Error::message(fs_message(&e)))?;
        Ok(Reply::new(answer).text(text))
    }
}

ide_agents_tool::export_tools!(Resource; offerings = Resources);

/// The MCP resources this component reads (the server offers each one whose root is granted to
/// [`Resource`], and answers `resources/read` by calling it).
struct Resources;

impl ide_agents_tool::Offerings for Resources {
    fn catalog() -> offerings::Catalog {
        let resource = |name: &str, path: &str, description: &str, root: &str, params: &[(&str, bool)], template| {
            offerings::ResourceOffer {
                name: name.into(),
                path: path.into(),
                description: description.into(),
                mime_type: "application/json".into(),
                root: root.into(),
                params: params
                    .iter()
                    .map(|(name, integer)| offerings::ResourceParam { name: (*name).into(), integer: *integer })
                    .collect(),
                template,
                tool: Resource::NAME.into(),
            }
        };
        let resources = vec![
            resource(
                "repo.graph",
                "repo/graph",
                "Module/import graph of the workspace: Rust (mod/use), Python (import/from) and TS/JS \
                 (import/require) files, their imports, and which resolve to files in the workspace.",
                "workspace",
                &[("path", false)],
                false,
            ),
            resource(
                "build.logs",
                "build/logs",
                "The newest build logs: the last lines of each and a summary of the errors and warnings \
                 they contain.",
                "logs",
                &[("lines", true), ("file", false)],
                false,
            ),
            resource(
                "kb.snippet",
                "kb/snippet",
                "The snippets of the markdown notes folder that best match `query` (BM25 over sections), \
                 with file, heading and line range.",
                "kb",
                &[("query", false), ("limit", true)],
                true,
            ),
        ];
        offerings::Catalog { resources, prompts: Vec::new() }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("allOf" = [{"if": {"properties": {"name": {"const": "kb.snippet"}}}, "then": {"required": ["query"]}}]))]
struct Args {
    /// Which resource.
    name: Name,
    /// repo.graph: only this subdirectory of the workspace.
    path: Option<String>,
    /// kb.snippet: what to look for (required).
    #[schemars(length(min = 1, max = 4096))]
    query: Option<String>,
    /// kb.snippet: most snippets to return (default 5).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 50))]
    limit: usize,
    /// build.logs: lines of each log's tail (default 50).
    #[serde(default = "default_lines")]
    #[schemars(range(min = 1, max = 2000))]
    lines: usize,
    /// build.logs: only this log file.
    file: Option<String>,
}

fn default_limit() -> usize {
    5
}

fn default_lines() -> usize {
    50
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
enum Name {
    #[serde(rename = "repo.graph")]
    RepoGraph,
    #[serde(rename = "kb.snippet")]
    KbSnippet,
    #[serde(rename = "build.logs")]
    BuildLogs,
}

/// The resource's contents, tagged with its name in `resource`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "resource")]
enum Answer {
    #[serde(rename = "repo.graph")]
    Graph(graph::Graph),
    #[serde(rename = "kb.snippet")]
    Snippets(kb::Snippets),
    #[serde(rename = "build.logs")]
    Logs(logs::Logs),
}

/// A resource's answer and its text rendering, or why a root could not be read.
type Rendered<T> = Result<(T, String), FsError>;

fn fs_message(e: &FsError) -> String {
    match e {
        FsError::NotGranted(m) => m.clone(),
        FsError::InvalidPath(m) => format!("invalid path: {m}"),
        FsError::NotFound(p) => format!("not found: {p}"),
        FsError::TooLarge(n) => format!("file too large ({n} bytes)"),
        FsError::Io(m) => format!("cannot read: {m}"),
    }
}

#[cfg(test)]
mod offering_tests {
    use super::*;

    /// Every offered resource is one the tool reads, with every parameter an argument it takes.
    #[test]
    fn every_offered_resource_is_one_the_tool_reads() {
        let catalog = __ide_agents_offerings();
        assert_eq!(catalog.resources.len(), 3);
        for r in catalog.resources {
            assert_eq!(r.tool, Resource::NAME);
            let mut args = serde_json::json!({"name": r.name, "query": "q"});
            for p in &r.params {
                args[&p.name] = if p.integer { serde_json::json!(1) } else { serde_json::json!("x") };
            }
            assert!(serde_json::from_value::<Args>(args.clone()).is_ok(), "{args}");
        }
    }
}
