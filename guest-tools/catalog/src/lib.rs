//! `ide_agents_catalog`: everything the server offers (tools with their group, load state and
//! schemas; resources; prompts), read from the `host-facts` interface.

use ide_agents_tool::host_facts::{self, ServerCatalog};
use ide_agents_tool::{Annotations, Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

struct Catalog;

impl Tool for Catalog {
    const NAME: &'static str = "ide_agents_catalog";
    const TITLE: Option<&'static str> = Some("Catalog");
    const DESCRIPTION: &'static str = "Lists what this server offers: tools with their group (core, ultra, \
                                       extension), whether they are loaded yet, and their input/output schemas; \
                                       MCP resources and templates; prompts and their arguments.";
    const ANNOTATIONS: Annotations =
        Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);
    type Args = Args;
    type Output = Listing;

    fn call(args: Args) -> Result<Reply<Listing>, Error> {
        let listing = Listing::new(host_facts::catalog(), &args);
        let summary = listing.summary();
        Ok(Reply::new(listing).text(summary))
    }
}

ide_agents_tool::export_tools!(Catalog);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Args {
    /// What to list (default: all).
    #[serde(default)]
    kind: Kind,
    /// Only tools of this group.
    group: Option<Group>,
    /// Include each tool's JSON Schemas (default: true).
    #[serde(default = "yes")]
    include_schemas: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Kind {
    #[default]
    All,
    Tools,
    Resources,
    Prompts,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Group {
    Core,
    Ultra,
    Extension,
}

impl Group {
    fn as_str(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Ultra => "ultra",
            Self::Extension => "extension",
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
struct Listing {
    tools: Vec<ToolEntry>,
    resources: Vec<ResourceEntry>,
    prompts: Vec<PromptEntry>,
    counts: Counts,
}

#[derive(Debug, Serialize, JsonSchema)]
struct ToolEntry {
    name: String,
    title: Option<String>,
    description: String,
    /// `core` (built in), `ultra` (built in, ULTRA mode) or `extension` (a tools directory).
    #[schemars(with = "Group")]
    group: String,
    /// Whether its component is compiled and ready (tools load on first call).
    loaded: bool,
    /// Where its component comes from: `builtin:<name>` or a file path.
    component: String,
    /// With `include_schemas`.
    #[serde(skip_serializing_if = "Option::is_none")]
    input_schema: Option<Map<String, Value>>,
    /// With `include_schemas`: null if the tool declares none.
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<Option<Map<String, Value>>>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct ResourceEntry {
    /// The URI, or the RFC 6570 URI template for templates.
    uri: String,
    name: String,
    description: String,
    mime_type: String,
    /// Whether `uri` is a template.
    template: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
struct PromptEntry {
    name: String,
    description: String,
    arguments: Vec<PromptArgument>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct PromptArgument {
    name: String,
    description: String,
    required: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Counts {
    tools: usize,
    resources: usize,
    prompts: usize,
}

/// A schema the host sent as JSON text (always an object: the host rejects other schemas).
fn schema(text: &str) -> Option<Map<String, Value>> {
    serde_json::from_str(text).ok()
}

impl Listing {
    /// What `args` asks for from `catalog`.
    fn new(catalog: ServerCatalog, args: &Args) -> Self {
        let wants = |kind: Kind| args.kind == Kind::All || args.kind == kind;
        let tools: Vec<ToolEntry> = if wants(Kind::Tools) {
            catalog
                .tools
                .into_iter()
                .filter(|t| args.group.is_none_or(|g| g.as_str() == t.group))
                .map(|t| ToolEntry {
                    input_schema: args.include_schemas.then(|| schema(&t.input_schema)).flatten(),
                    output_schema: args.include_schemas.then(|| t.output_schema.as_deref().and_then(schema)),
                    name: t.name,
                    title: t.title,
                    description: t.description,
                    group: t.group,
                    loaded: t.loaded,
                    component: t.component,
                })
                .collect()
        } else {
            Vec::new()
        };
        let resources: Vec<ResourceEntry> = if wants(Kind::Resources) {
            catalog
                .resources
                .into_iter()
                .map(|r| ResourceEntry {
                    uri: r.uri,
                    name: r.name,
                    description: r.description,
                    mime_type: r.mime_type,
                    template: r.template,
                })
                .collect()
        } else {
            Vec::new()
        };
        let prompts: Vec<PromptEntry> = if wants(Kind::Prompts) {
            catalog
                .prompts
                .into_iter()
                .map(|p| PromptEntry {
                    name: p.name,
                    description: p.description,
                    arguments: p
                        .arguments
                        .into_iter()
                        .map(|a| PromptArgument { name: a.name, description: a.description, required: a.required })
                        .collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let counts = Counts { tools: tools.len(), resources: resources.len(), prompts: prompts.len() };
        Self { tools, resources, prompts, counts }
    }

    /// The counts, then one line per tool.
    fn summary(&self) -> String {
        let mut summary =
            format!("{} tools, {} resources, {} prompts", self.tools.len(), self.resources.len(), self.prompts.len());
        for t in &self.tools {
            summary.push_str(&format!(
                "\n- {} [{}{}]: {}",
                t.name,
                t.group,
                if t.loaded { ", loaded" } else { "" },
                t.description
            ));
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use ide_agents_tool::host_facts::{
        PromptArgument as HostArgument, PromptEntry as HostPrompt, ToolEntry as HostTool,
    };

    use super::*;

    fn catalog() -> ServerCatalog {
        let tool = |name: &str, group: &str, output: Option<&str>| HostTool {
            name: name.into(),
            title: None,
            description: format!("{name} does things"),
            group: group.into(),
            loaded: name == "a",
            component: format!("builtin:{name}"),
            input_schema: r#"{"type":"object","properties":{}}"#.into(),
            output_schema: output.map(Into::into),
        };
        ServerCatalog {
            tools: vec![tool("a", "core", Some(r#"{"type":"object"}"#)), tool("b", "ultra", None)],
            resources: Vec::new(),
            prompts: vec![HostPrompt {
                name: "p".into(),
                description: "a prompt".into(),
                arguments: vec![HostArgument { name: "x".into(), description: "an x".into(), required: true }],
            }],
        }
    }

    #[test]
    fn lists_everything_by_default_with_schemas() {
        let args: Args = serde_json::from_str("{}").unwrap();
        let listing = Listing::new(catalog(), &args);
        assert_eq!(
            listing.summary(),
            "2 tools, 0 resources, 1 prompts\n- a [core, loaded]: a does things\n- b [ultra]: b does things"
        );
        let json = serde_json::to_value(&listing).unwrap();
        assert_eq!(json["tools"][0]["output_schema"], serde_json::json!({"type": "object"}));
        assert_eq!(json["tools"][1]["output_schema"], Value::Null);
        assert_eq!(json["prompts"][0]["arguments"][0]["required"], true);
        assert_eq!(json["counts"], serde_json::json!({"tools": 2, "resources": 0, "prompts": 1}));
    }

    #[test]
    fn filters_by_kind_and_group() {
        let args = Args { kind: Kind::Tools, group: Some(Group::Ultra), include_schemas: false };
        let json = serde_json::to_value(Listing::new(catalog(), &args)).unwrap();
        assert_eq!(json["counts"], serde_json::json!({"tools": 1, "resources": 0, "prompts": 0}));
        assert!(json["tools"][0].get("input_schema").is_none() && json["tools"][0].get("output_schema").is_none());
    }
}
