//! Resources and prompts: what is offered (`resources/list`, `resources/templates/list`,
//! `prompts/list`: what the components declare through the WIT `offerings` export, kept in the
//! registry), `completion/complete`, and `resources/read` / `prompts/get`, which are answered from
//! the resource and prompt caches or by running the declaring tool in its sandbox. URI and
//! argument handling is in `resources.rs` and `prompts.rs`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::jsonrpc::RpcError;
use super::request::{CompleteRequest, RoundAnswers};
use super::rounds::{MAX_ROUNDS, Next, too_many_rounds};
use super::server::McpServer;
use super::session::Peer;
use super::tools::{Executed, PreparedCall};
use super::{prompts, resources};
use crate::runtime::offerings::{PromptDef, ResourceDef};
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
    /// Where its answer is cached; `None` for a call that carries answers to an earlier round
    /// (its result depends on them).
    cache_key: Option<String>,
    shape: Shape,
}

/// How a tool's structured output becomes the MCP result.
enum Shape {
    Resource { uri: String, mime_type: String },
    Prompt,
}

impl McpServer {
    /// The resources offered: those the components declare whose root is granted to the tool
    /// that reads them.
    pub(super) fn offered_resources(&self) -> Vec<ResourceDef> {
        let registry = self.registry();
        registry
            .resources()
            .filter(|d| registry.tool(&d.tool).is_some_and(|t| t.policy.roots.contains_key(&d.root)))
            .cloned()
            .collect()
    }

    /// The prompts offered: all that the components declare.
    pub(super) fn offered_prompts(&self) -> Vec<PromptDef> {
        self.registry().prompts().cloned().collect()
    }

    /// The offered prompt called `name` (unknown: -32602).
    fn prompt(&self, name: &str) -> Result<PromptDef, RpcError> {
        self.registry()
            .prompts()
            .find(|p| p.name == name)
            .cloned()
            .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt: {name}")))
    }

    /// `resources/list`.
    pub(super) fn list_resources(&self) -> Value {
        let list: Vec<Value> = self
            .offered_resources()
            .iter()
            .filter(|d| !d.template)
            .map(|d| json!({"uri": resources::uri(d), "name": d.name, "description": d.description, "mimeType": d.mime_type}))
            .collect();
        json!({ "resources": list })
    }

    /// `resources/templates/list`.
    pub(super) fn list_resource_templates(&self) -> Value {
        let list: Vec<Value> = self
            .offered_resources()
            .iter()
            .map(|d| {
                json!({"uriTemplate": resources::uri_template(d), "name": d.name, "description": d.description,
                       "mimeType": d.mime_type})
            })
            .collect();
        json!({ "resourceTemplates": list })
    }

    /// `prompts/list`.
    pub(super) fn list_prompts(&self) -> Value {
        let list: Vec<Value> = self.offered_prompts().iter().map(prompts::list_entry).collect();
        json!({ "prompts": list })
    }

    /// `completion/complete`: prompt argument values, and `path` from the workspace root.
    pub(super) fn complete(&self, request: CompleteRequest) -> Result<Value, RpcError> {
        let CompleteRequest { reference, argument } = request;
        match (reference.kind.as_str(), reference.name, reference.uri) {
            ("ref/prompt", Some(name), _) => {
                let prompt = self.prompt(&name)?;
                if argument.name == "path" && prompt.arguments.iter().any(|a| a.name == "path") {
                    let tool = self.registry().tool(&prompt.tool).cloned();
                    let workspace = tool.as_ref().and_then(|t| t.policy.roots.get("workspace"));
                    return Ok(prompts::complete_path(workspace, &argument.value));
                }
                prompts::complete(&prompt, &argument.name, &argument.value)
            }
            ("ref/resource", _, Some(_)) => Ok(json!({"completion": {"values": [], "total": 0, "hasMore": false}})),
            (kind, ..) => Err(RpcError::invalid_params(format!("cannot complete for reference {kind:?}"))),
        }
    }

    /// Checks a `resources/read`: an answer from the cache, or the tool call to run.
    pub(super) fn read_resource(
        &self,
        uri: String,
        round: Option<RoundAnswers>,
        principal: Option<&str>,
    ) -> Result<Read, RpcError> {
        let registry = self.registry();
        let read = resources::parse_uri(&uri, registry.resources())?;
        if !self.offered_resources().iter().any(|d| d.name == read.def.name) {
            return Err(RpcError::resource_not_found(
                &uri,
                format!(
                    "resource not available: {uri} needs the `{}` root (see --workspace and [roots])",
                    read.def.root
                ),
            ));
        }
        let cache_key = round.is_none().then(|| format!("resource:{uri}"));
        if let Some(hit) = cache_key.as_ref().and_then(|key| self.caches.resource.get(key)) {
            return Ok(Read::Ready(hit));
        }
        let call = self.read_call(&read.def.tool, &read.arguments, "resources/read", round, principal)?;
        let shape = Shape::Resource { mime_type: read.def.mime_type.clone(), uri };
        Ok(Read::Run(ReadJob { call, cache_key, shape }))
    }

    /// Checks a `prompts/get`: an answer from the cache, or the tool call to run.
    pub(super) fn get_prompt(
        &self,
        name: &str,
        arguments: Option<&Map<String, Value>>,
        round: Option<RoundAnswers>,
        principal: Option<&str>,
    ) -> Result<Read, RpcError> {
        let prompt = self.prompt(name)?;
        let tool_arguments = prompts::tool_arguments(&prompt, arguments)?;
        let cache_key = round.is_none().then(|| format!("prompt:{name}:{}", tool_arguments["arguments"]));
        if let Some(hit) = cache_key.as_ref().and_then(|key| self.caches.prompt.get(key)) {
            return Ok(Read::Ready(hit));
        }
        let call = self.read_call(&prompt.tool, &tool_arguments, "prompts/get", round, principal)?;
        Ok(Read::Run(ReadJob { call, cache_key, shape: Shape::Prompt }))
    }

    /// Runs the tool call behind a `resources/read` or `prompts/get` and shapes (and caches) its
    /// answer (JSON text). Bad arguments are -32602; a failing tool is -32603 with the tool's message.
    /// A tool that asks for input is answered as a `tools/call` would be (`rounds.rs`).
    pub(super) async fn run_read(self: &Arc<Self>, job: ReadJob, peer: Peer) -> Result<Arc<str>, RpcError> {
        let mut call = job.call;
        let mut rounds = 0;
        let (result, code) = loop {
            let asked = match self.execute_round(call, peer.clone()).await {
                Executed::Done(result, code) => break (result, code),
                Executed::Asked(asked) => asked,
            };
            rounds += 1;
            if rounds == MAX_ROUNDS {
                return Err(RpcError::internal(too_many_rounds()));
            }
            call = match self.next_round(asked, &peer).await {
                Next::Again(next) => next,
                Next::InputRequired(result) => return Ok(result.into()),
                Next::Error(error) => return Err(error),
                Next::Refused(message) => return Err(RpcError::internal(message)),
            };
        };
        let message = || result.first_text().unwrap_or("the tool returned no message").to_owned();
        match code {
            None => {}
            Some(SpanCode::InvalidArguments) => return Err(RpcError::invalid_params(message())),
            Some(_) => return Err(RpcError::internal(message())),
        }
        let structured =
            result.structured().ok_or_else(|| RpcError::internal("the tool returned no structured content"))?;
        let (cache, value) = match job.shape {
            Shape::Resource { uri, mime_type } => {
                (&self.caches.resource, resources::contents(&uri, &mime_type, structured.get().to_owned()))
            }
            Shape::Prompt => {
                let value: Value = serde_json::from_str(structured.get())
                    .map_err(|e| RpcError::internal(format!("invalid prompt: {e}")))?;
                (&self.caches.prompt, value)
            }
        };
        let text: Arc<str> = value.to_string().into();
        if let Some(key) = job.cache_key {
            cache.insert(key, text.clone());
        }
        Ok(text)
    }
}
