//! Resources and prompts: what is offered (`resources/list`, `resources/templates/list`,
//! `prompts/list`), `completion/complete`, and `resources/read` / `prompts/get`, which are answered
//! from the resource and prompt caches or by running the built-in resource and prompt tools in
//! their sandbox. The definitions themselves are in `resources.rs` and `prompts.rs`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::jsonrpc::{ErrorCode, RpcError};
use super::request::CompleteRequest;
use super::server::{McpServer, Outbox};
use super::tools::PreparedCall;
use super::{prompts, resources};
use crate::telemetry::ErrorCode as SpanCode;

/// A `resources/read` or `prompts/get` request, checked: answered from the cache, or a tool call
/// to run.
pub enum Read {
    /// The result, from the cache, as JSON text (a hit is neither copied nor re-serialised).
    Ready(Arc<str>),
    /// The call to run, and how to shape and cache its answer.
    Run(ReadJob),
}

/// The tool call behind a `resources/read` or `prompts/get`.
pub struct ReadJob {
    call: PreparedCall,
    cache_key: String,
    shape: Shape,
}

/// How a tool's structured output becomes the MCP result.
enum Shape {
    Resource { uri: String, def: &'static resources::ResourceDef },
    Prompt,
}

impl McpServer {
    /// The resources offered: those whose root is granted to the resource tool.
    pub(super) fn offered_resources(&self) -> impl Iterator<Item = &'static resources::ResourceDef> + '_ {
        let granted = self
            .registry
            .tool(resources::RESOURCE_TOOL)
            .is_some()
            .then(|| self.policies.get(resources::RESOURCE_TOOL))
            .flatten();
        resources::RESOURCES.iter().filter(move |d| granted.is_some_and(|p| p.roots.contains_key(d.root)))
    }

    /// The prompts offered (all of them, when the prompt tool is registered).
    pub(super) fn offered_prompts(&self) -> impl Iterator<Item = &'static prompts::PromptDef> {
        let registered = self.registry.tool(prompts::PROMPT_TOOL).is_some();
        prompts::PROMPTS.iter().filter(move |_| registered)
    }

    /// `resources/list`.
    pub(super) fn list_resources(&self) -> Value {
        let list: Vec<Value> = self
            .offered_resources()
            .filter(|d| !d.template)
            .map(|d| json!({"uri": d.uri(), "name": d.name, "description": d.description, "mimeType": d.mime_type}))
            .collect();
        json!({ "resources": list })
    }

    /// `resources/templates/list`.
    pub(super) fn list_resource_templates(&self) -> Value {
        let list: Vec<Value> = self
            .offered_resources()
            .map(|d| {
                json!({"uriTemplate": d.uri_template(), "name": d.name, "description": d.description,
                       "mimeType": d.mime_type})
            })
            .collect();
        json!({ "resourceTemplates": list })
    }

    /// `prompts/list`.
    pub(super) fn list_prompts(&self) -> Value {
        let list: Vec<Value> = self.offered_prompts().map(prompts::list_entry).collect();
        json!({ "prompts": list })
    }

    /// `completion/complete`: prompt argument values, and `path` from the workspace root.
    pub(super) fn complete(&self, request: CompleteRequest) -> Result<Value, RpcError> {
        let CompleteRequest { reference, argument } = request;
        match (reference.kind.as_str(), reference.name, reference.uri) {
            ("ref/prompt", Some(name), _) if self.registry.tool(prompts::PROMPT_TOOL).is_some() => {
                if argument.name == "path" && prompts::find(&name)?.arguments.iter().any(|a| a.name == "path") {
                    let workspace = self.policies.get(prompts::PROMPT_TOOL).and_then(|p| p.roots.get("workspace"));
                    return Ok(prompts::complete_path(workspace, &argument.value));
                }
                prompts::complete(&name, &argument.name, &argument.value)
            }
            ("ref/resource", _, Some(_)) => Ok(json!({"completion": {"values": [], "total": 0, "hasMore": false}})),
            (kind, ..) => Err(RpcError::invalid_params(format!("cannot complete for reference {kind:?}"))),
        }
    }

    /// Checks a `resources/read`: an answer from the cache, or the tool call to run.
    pub(super) fn read_resource(&self, uri: String) -> Result<Read, RpcError> {
        let read = resources::parse_uri(&uri)?;
        if !self.offered_resources().any(|d| d.name == read.def.name) {
            return Err(RpcError::new(
                ErrorCode::ResourceNotFound,
                format!(
                    "resource not available: {uri} needs the `{}` root (see --workspace and [roots])",
                    read.def.root
                ),
            ));
        }
        let cache_key = format!("resource:{uri}");
        if let Some(hit) = self.caches.resource.get(&cache_key) {
            return Ok(Read::Ready(hit));
        }
        let call = self.builtin_call(resources::RESOURCE_TOOL, &read.arguments, "resources/read")?;
        Ok(Read::Run(ReadJob { call, cache_key, shape: Shape::Resource { uri, def: read.def } }))
    }

    /// Checks a `prompts/get`: an answer from the cache, or the tool call to run.
    pub(super) fn get_prompt(&self, name: &str, arguments: Option<&Map<String, Value>>) -> Result<Read, RpcError> {
        let prompt = self
            .offered_prompts()
            .find(|p| p.name == name)
            .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt: {name}")))?;
        let tool_arguments = prompts::tool_arguments(prompt, arguments)?;
        let cache_key = format!("prompt:{name}:{}", tool_arguments["arguments"]);
        if let Some(hit) = self.caches.prompt.get(&cache_key) {
            return Ok(Read::Ready(hit));
        }
        let call = self.builtin_call(prompts::PROMPT_TOOL, &tool_arguments, "prompts/get")?;
        Ok(Read::Run(ReadJob { call, cache_key, shape: Shape::Prompt }))
    }

    /// Runs the tool call behind a `resources/read` or `prompts/get` and shapes (and caches) its
    /// answer (JSON text). Bad arguments are -32602; a failing tool is -32603 with the tool's message.
    pub(super) async fn run_read(self: &Arc<Self>, job: ReadJob, out: Outbox) -> Result<Arc<str>, RpcError> {
        let (result, code) = self.execute(job.call, out).await;
        let message = || result.first_text().unwrap_or("the tool returned no message").to_owned();
        match code {
            None => {}
            Some(SpanCode::InvalidArguments) => return Err(RpcError::invalid_params(message())),
            Some(_) => return Err(RpcError::internal(message())),
        }
        let structured =
            result.structured().ok_or_else(|| RpcError::internal("the tool returned no structured content"))?;
        let (cache, value) = match job.shape {
            Shape::Resource { uri, def } => {
                (&self.caches.resource, resources::contents(&uri, def, structured.get().to_owned()))
            }
            Shape::Prompt => {
                let value: Value = serde_json::from_str(structured.get())
                    .map_err(|e| RpcError::internal(format!("invalid prompt: {e}")))?;
                (&self.caches.prompt, value)
            }
        };
        let text: Arc<str> = value.to_string().into();
        cache.insert(job.cache_key, text.clone());
        Ok(text)
    }
}
