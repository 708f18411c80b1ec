//! The MCP resources and prompts a component declares through the optional WIT `offerings` export,
//! in the form the registry keeps (and the descriptor cache and the built-ins' embedded
//! descriptors store): checked once at discovery, served by the MCP layer (`mcp/reads.rs`).

use serde::{Deserialize, Serialize};

use super::spec::{ToolSpec, valid_tool_name};
use crate::bindings::offerings as wit;

/// Most resources or prompts one component may offer.
const MAX_OFFERS: usize = 64;
/// Longest name, path, description or value of an offer, bytes.
const MAX_TEXT: usize = 4096;

/// What one component offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Offerings {
    /// Its resources, in listing order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceDef>,
    /// Its prompts, in listing order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompts: Vec<PromptDef>,
}

/// A query parameter a resource accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Whether it is a non-negative integer (else a string).
    pub integer: bool,
}

/// One resource (or template) a component offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDef {
    /// The tool's `name` argument, and the resource's MCP name.
    pub name: String,
    /// `ide-agents://{path}`.
    pub path: String,
    /// What it holds.
    pub description: String,
    /// Media type of the contents.
    pub mime_type: String,
    /// The root it reads, which must be granted to `tool` for it to be offered.
    pub root: String,
    /// Query parameters it accepts.
    pub params: Vec<Param>,
    /// Whether it is only offered as a template (it needs parameters).
    pub template: bool,
    /// The tool that reads it.
    pub tool: String,
}

/// One prompt argument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArgDef {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Whether `prompts/get` needs it.
    pub required: bool,
    /// Known values, offered by `completion/complete`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// One prompt a component offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptDef {
    /// Its name (`/diff_review` in clients that show prompts as commands).
    pub name: String,
    /// Display name.
    pub title: String,
    /// What it is for.
    pub description: String,
    /// Its arguments.
    pub arguments: Vec<ArgDef>,
    /// The tool that renders it.
    pub tool: String,
}

impl Offerings {
    /// Checks what a component declared against its own tools: every offer names one of them,
    /// names and paths are well-formed, sizes are bounded. The first violation refuses the whole
    /// declaration.
    pub fn from_wit(catalog: wit::Catalog, tools: &[ToolSpec]) -> Result<Self, String> {
        if catalog.resources.len() > MAX_OFFERS || catalog.prompts.len() > MAX_OFFERS {
            return Err(format!("more than {MAX_OFFERS} resources or prompts"));
        }
        let own_tool = |tool: &str| {
            tools
                .iter()
                .any(|t| t.name == tool)
                .then_some(())
                .ok_or_else(|| format!("names `{tool}`, not one of its tools"))
        };
        let text = |what: &str, s: &str| {
            (s.len() <= MAX_TEXT).then_some(()).ok_or_else(|| format!("{what} is longer than {MAX_TEXT} bytes"))
        };
        let mut resources = Vec::new();
        for r in catalog.resources {
            own_tool(&r.tool).map_err(|e| format!("resource {:?} {e}", r.name))?;
            // URI path segments: `[A-Za-z0-9._-]+`, not only dots.
            let segment_ok = |seg: &str| {
                !seg.is_empty()
                    && !seg.bytes().all(|b| b == b'.')
                    && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            };
            let path_ok = r.path.split('/').all(segment_ok);
            if !valid_tool_name(&r.name) || !path_ok {
                return Err(format!("resource {:?}: invalid name or path {:?}", r.name, r.path));
            }
            for (what, s) in [("description", &r.description), ("mime type", &r.mime_type), ("root", &r.root)] {
                text(what, s)?;
            }
            let params = r.params.into_iter().map(|p| Param { name: p.name, integer: p.integer }).collect();
            resources.push(ResourceDef {
                name: r.name,
                path: r.path,
                description: r.description,
                mime_type: r.mime_type,
                root: r.root,
                params,
                template: r.template,
                tool: r.tool,
            });
        }
        let mut prompts = Vec::new();
        for p in catalog.prompts {
            own_tool(&p.tool).map_err(|e| format!("prompt {:?} {e}", p.name))?;
            if !valid_tool_name(&p.name) {
                return Err(format!("prompt {:?}: invalid name", p.name));
            }
            text("description", &p.description)?;
            let arguments = p
                .arguments
                .into_iter()
                .map(|a| ArgDef { name: a.name, description: a.description, required: a.required, values: a.values })
                .collect();
            prompts.push(PromptDef {
                name: p.name,
                title: p.title,
                description: p.description,
                arguments,
                tool: p.tool,
            });
        }
        Ok(Self { resources, prompts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ToolAnnotations;
    use crate::bindings::ToolDescriptor;

    fn tools() -> Vec<ToolSpec> {
        let none = ToolAnnotations { read_only: None, destructive: None, idempotent: None, open_world: None };
        let d = ToolDescriptor {
            name: "reader".into(),
            title: None,
            description: "reads".into(),
            input_schema: r#"{"type":"object","properties":{}}"#.into(),
            output_schema: None,
            annotations: none,
        };
        vec![ToolSpec::try_from(d).unwrap()]
    }

    fn resource(tool: &str, path: &str) -> wit::ResourceOffer {
        wit::ResourceOffer {
            name: "notes".into(),
            path: path.into(),
            description: "d".into(),
            mime_type: "text/plain".into(),
            root: "kb".into(),
            params: vec![wit::ResourceParam { name: "q".into(), integer: false }],
            template: false,
            tool: tool.into(),
        }
    }

    #[test]
    fn offers_must_name_the_components_own_tools_and_be_well_formed() {
        let ok = Offerings::from_wit(
            wit::Catalog { resources: vec![resource("reader", "kb/notes")], prompts: vec![] },
            &tools(),
        );
        assert_eq!(ok.unwrap().resources[0].params[0].name, "q");
        let foreign = wit::Catalog { resources: vec![resource("ide_agents_health", "kb/notes")], prompts: vec![] };
        assert!(Offerings::from_wit(foreign, &tools()).unwrap_err().contains("not one of its tools"));
        for path in ["", "kb//notes", "../etc", "kb/no tes"] {
            let bad = wit::Catalog { resources: vec![resource("reader", path)], prompts: vec![] };
            assert!(Offerings::from_wit(bad, &tools()).is_err(), "{path:?}");
        }
        let many =
            wit::Catalog { resources: (0..=MAX_OFFERS).map(|_| resource("reader", "a")).collect(), prompts: vec![] };
        assert!(Offerings::from_wit(many, &tools()).is_err());
    }
}
