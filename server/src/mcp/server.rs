//! The MCP session: method dispatch, negotiated state (protocol version, client log level), and
//! the [`ServerHooks`] that give running tools their facts, logging and progress.
//!
//! Everything but `tools/call`, `resources/read` and `prompts/get` is answered synchronously by
//! [`McpServer::handle`]; `tools/call` is validated by [`McpServer::prepare_call`] (unknown tool:
//! -32602) and run by [`McpServer::run_call`] on its own task. `resources/read` and `prompts/get`
//! are answered from the resource and prompt caches, or run the built-in resource and prompt
//! tools ([`McpServer::prepare_native`], [`McpServer::run_native`]); what is offered is in
//! `resources.rs` and `prompts.rs`. The transport (`stdio.rs`) owns ordering, concurrency
//! and cancellation.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Instant;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::jsonrpc::{self, RpcError};
use super::protocol::OutputCheck;
use super::{prompts, protocol, resources};
use crate::bindings::ToolError;
use crate::bindings::ide_agents::tool::host_facts::{
    CacheStats, Facts, HttpStats, PromptArgument, PromptEntry, ResourceEntry, ServerCatalog, TelemetryStats, ToolEntry,
};
use crate::bindings::ide_agents::tool::log::Level;
use crate::caches::HostCaches;
use crate::config::ToolPolicy;
use crate::host::{CallEnv, ServerHooks};
use crate::runtime::{CallFailure, CallLimits, CallOutcome, CallReport, Registry, Runtime};
use crate::telemetry::{Phases, Span, Telemetry, ms, unix_ms};

/// Default number of tools per `tools/list` page.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// Lines for the client; the transport writes them in order.
pub type Outbox = mpsc::Sender<Vec<u8>>;

/// MCP log levels, least severe first (RFC 5424 order).
const LOG_LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];
/// Client log level before `logging/setLevel`: send nothing.
const LOG_OFF: u8 = u8::MAX;

/// Session settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Tools per `tools/list` page.
    pub page_size: usize,
    /// Longest accepted message line, bytes.
    pub max_line_bytes: usize,
    /// Default limit of calls of one tool at once.
    pub max_calls_per_tool: usize,
    /// Whether the built-in components' structured output is checked against their output
    /// schemas (see [`VALIDATE_BUILTIN_OUTPUT`]). Other components' output always is.
    pub validate_builtin_output: bool,
}

/// Built-in components are compiled from this repository and embedded with their SHA-256, like the
/// host's own code; their outputs are checked against their schemas by the test suite, which runs
/// debug builds. Release builds trust them by default: the check parses every structured result
/// into a JSON tree, about a third of a fresh-instance health call's server CPU
/// (`docs/design/0005-calls-on-every-core.md`). Structured output is still always checked to be a
/// JSON object, and components from tools directories are always schema-checked.
pub const VALIDATE_BUILTIN_OUTPUT: bool = cfg!(debug_assertions);

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            max_line_bytes: super::stdio::DEFAULT_MAX_LINE_BYTES,
            max_calls_per_tool: crate::runtime::limits::DEFAULT_MAX_CONCURRENT_CALLS_PER_TOOL,
            validate_builtin_output: VALIDATE_BUILTIN_OUTPUT,
        }
    }
}

/// What the server is built from, besides the runtime and registry.
pub struct ServerParts {
    /// Session settings.
    pub settings: ServerSettings,
    /// Per-tool permissions by tool name; tools not named get the default (nothing granted).
    pub policies: HashMap<String, Arc<ToolPolicy>>,
    /// The span batcher.
    pub telemetry: Arc<Telemetry>,
    /// The host caches.
    pub caches: HostCaches,
    /// Whether the ULTRA group is on.
    pub ultra: bool,
}

/// The server behind one MCP session.
pub struct McpServer {
    runtime: Runtime,
    registry: Registry,
    settings: ServerSettings,
    policies: HashMap<String, Arc<ToolPolicy>>,
    default_policy: Arc<ToolPolicy>,
    /// One semaphore per tool (by registry index): its concurrency limit.
    tool_slots: Vec<tokio::sync::Semaphore>,
    telemetry: Arc<Telemetry>,
    caches: HostCaches,
    ultra: bool,
    started: Instant,
    /// Index into `protocol::SUPPORTED_VERSIONS` of the negotiated version; `u8::MAX` before.
    protocol_version: AtomicU8,
    rss: CachedRss,
    client_log_level: AtomicU8,
    calls_served: AtomicU64,
}

/// A validated tool call, ready to run: a `tools/call`, or the call behind a `resources/read` or
/// `prompts/get`.
pub struct PreparedCall {
    tool: usize,
    arguments: Result<String, String>,
    progress_token: Option<Value>,
    /// The MCP method it answers (for its span).
    method: &'static str,
}

/// A `resources/read` or `prompts/get` request, checked: answered from the cache, or a tool call
/// to run.
pub enum Native {
    /// The result, from the cache, as JSON text (a hit is neither copied nor re-serialised).
    Ready(Arc<str>),
    /// The call to run, and how to shape and cache its answer.
    Run(NativeJob),
}

/// The tool call behind a `resources/read` or `prompts/get`.
pub struct NativeJob {
    call: PreparedCall,
    cache_key: String,
    shape: NativeShape,
}

enum NativeShape {
    Resource { uri: String, def: &'static resources::ResourceDef },
    Prompt,
}

#[derive(Deserialize)]
struct CallParams<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(rename = "_meta", default)]
    meta: Option<RequestMeta>,
}

#[derive(Deserialize)]
struct RequestMeta {
    #[serde(rename = "progressToken", default)]
    progress_token: Option<Value>,
}

/// The parts of `tools/call` params the server needs.
pub struct CallRequest<'a> {
    /// The tool name.
    pub name: Cow<'a, str>,
    /// The arguments object as JSON text (`{}` when absent), or why they are unusable.
    pub arguments: Result<String, String>,
    /// `_meta.progressToken`, if it is a string or an integer.
    pub progress_token: Option<Value>,
}

/// Parses `tools/call` params (the JSON-arguments path, fuzzed by `fuzz/fuzz_targets/call_path.rs`).
pub fn parse_call_params(raw_params: Option<&RawValue>) -> Result<CallRequest<'_>, RpcError> {
    let p: CallParams = params(raw_params)?;
    let arguments = match p.arguments {
        None => Ok("{}".to_owned()),
        Some(raw) if raw.get() == "null" => Ok("{}".to_owned()),
        Some(raw) if raw.get().starts_with('{') => Ok(raw.get().to_owned()),
        Some(_) => Err(format!("invalid arguments for `{}`: `arguments` must be a JSON object", p.name)),
    };
    let progress_token = p.meta.and_then(|m| m.progress_token).filter(|t| t.is_string() || t.is_i64() || t.is_u64());
    Ok(CallRequest { name: p.name, arguments, progress_token })
}

fn params<'a, T: Deserialize<'a>>(params: Option<&'a RawValue>) -> Result<T, RpcError> {
    let text = params.map_or("{}", RawValue::get);
    serde_json::from_str(text).map_err(|e| RpcError::invalid_params(format!("invalid params: {e}")))
}

impl McpServer {
    /// A server over `registry`, running calls with `runtime`.
    pub fn new(runtime: Runtime, registry: Registry, parts: ServerParts) -> Self {
        let tool_slots = registry
            .tools()
            .iter()
            .map(|t| {
                let limit = parts.policies.get(&t.spec.name).and_then(|p| p.max_concurrent_calls);
                tokio::sync::Semaphore::new(limit.unwrap_or(parts.settings.max_calls_per_tool))
            })
            .collect();
        Self {
            tool_slots,
            runtime,
            registry,
            settings: parts.settings,
            policies: parts.policies,
            default_policy: Arc::default(),
            telemetry: parts.telemetry,
            caches: parts.caches,
            ultra: parts.ultra,
            started: Instant::now(),
            protocol_version: AtomicU8::new(u8::MAX),
            rss: CachedRss::default(),
            client_log_level: AtomicU8::new(LOG_OFF),
            calls_served: AtomicU64::new(0),
        }
    }

    /// Answers every request except `tools/call`.
    pub fn handle(&self, method: &str, raw_params: Option<&RawValue>) -> Result<Value, RpcError> {
        match method {
            "initialize" => {
                #[derive(Deserialize)]
                struct Init<'a> {
                    #[serde(rename = "protocolVersion", borrow)]
                    protocol_version: Option<Cow<'a, str>>,
                }
                let init: Init = params(raw_params)?;
                let version = protocol::negotiate(init.protocol_version.as_deref());
                let index = protocol::SUPPORTED_VERSIONS.iter().position(|v| *v == version).unwrap_or(0);
                self.protocol_version.store(index as u8, Ordering::Relaxed);
                Ok(protocol::initialize_result(version))
            }
            "ping" => Ok(json!({})),
            "logging/setLevel" => {
                #[derive(Deserialize)]
                struct SetLevel<'a> {
                    #[serde(borrow)]
                    level: Cow<'a, str>,
                }
                let SetLevel { level } = params(raw_params)?;
                let index = LOG_LEVELS
                    .iter()
                    .position(|l| *l == level)
                    .ok_or_else(|| RpcError::invalid_params(format!("unknown log level {level:?}")))?;
                self.client_log_level.store(index as u8, Ordering::Relaxed);
                Ok(json!({}))
            }
            "resources/list" => {
                let list: Vec<Value> = self
                    .offered_resources()
                    .filter(|d| !d.template)
                    .map(|d| json!({"uri": d.uri(), "name": d.name, "description": d.description, "mimeType": d.mime_type}))
                    .collect();
                Ok(json!({ "resources": list }))
            }
            "resources/templates/list" => {
                let list: Vec<Value> = self
                    .offered_resources()
                    .map(|d| {
                        json!({"uriTemplate": d.uri_template(), "name": d.name, "description": d.description,
                               "mimeType": d.mime_type})
                    })
                    .collect();
                Ok(json!({ "resourceTemplates": list }))
            }
            "prompts/list" => {
                let list: Vec<Value> = self.offered_prompts().map(prompts::list_entry).collect();
                Ok(json!({ "prompts": list }))
            }
            "completion/complete" => self.complete(raw_params),
            "tools/call" | "resources/read" | "prompts/get" => {
                Err(RpcError::new(jsonrpc::INTERNAL_ERROR, format!("{method} must go through its own path")))
            }
            _ => Err(RpcError::method_not_found(method)),
        }
    }

    /// Whether `method` is answered by running a tool ([`Self::prepare_native`]).
    pub fn is_native(method: &str) -> bool {
        matches!(method, "resources/read" | "prompts/get")
    }

    /// The resources offered: those whose root is granted to the resource tool.
    fn offered_resources(&self) -> impl Iterator<Item = &'static resources::ResourceDef> + '_ {
        let granted = self
            .registry
            .tool(resources::RESOURCE_TOOL)
            .is_some()
            .then(|| self.policies.get(resources::RESOURCE_TOOL))
            .flatten();
        resources::RESOURCES.iter().filter(move |d| granted.is_some_and(|p| p.roots.contains_key(d.root)))
    }

    /// The prompts offered (all of them, when the prompt tool is registered).
    fn offered_prompts(&self) -> impl Iterator<Item = &'static prompts::PromptDef> {
        let registered = self.registry.tool(prompts::PROMPT_TOOL).is_some();
        prompts::PROMPTS.iter().filter(move |_| registered)
    }

    fn complete(&self, raw_params: Option<&RawValue>) -> Result<Value, RpcError> {
        #[derive(Deserialize)]
        struct Complete {
            #[serde(rename = "ref")]
            reference: Reference,
            argument: Argument,
        }
        #[derive(Deserialize)]
        struct Reference {
            #[serde(rename = "type")]
            kind: String,
            name: Option<String>,
            uri: Option<String>,
        }
        #[derive(Deserialize)]
        struct Argument {
            name: String,
            value: String,
        }
        let Complete { reference, argument } = params(raw_params)?;
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

    /// Checks a `resources/read` or `prompts/get` request: an answer from the cache, or the tool
    /// call to run.
    pub fn prepare_native(&self, method: &str, raw_params: Option<&RawValue>) -> Result<Native, RpcError> {
        match method {
            "resources/read" => {
                #[derive(Deserialize)]
                struct Read {
                    uri: String,
                }
                let Read { uri } = params(raw_params)?;
                let read = resources::parse_uri(&uri)?;
                if !self.offered_resources().any(|d| d.name == read.def.name) {
                    return Err(RpcError::new(
                        resources::RESOURCE_NOT_FOUND,
                        format!(
                            "resource not available: {uri} needs the `{}` root (see --workspace and [roots])",
                            read.def.root
                        ),
                    ));
                }
                let cache_key = format!("resource:{uri}");
                if let Some(hit) = self.caches.resource.get(&cache_key) {
                    return Ok(Native::Ready(hit));
                }
                let call = self.native_call(resources::RESOURCE_TOOL, &read.arguments, "resources/read")?;
                Ok(Native::Run(NativeJob { call, cache_key, shape: NativeShape::Resource { uri, def: read.def } }))
            }
            "prompts/get" => {
                #[derive(Deserialize)]
                struct Get {
                    name: String,
                    arguments: Option<serde_json::Map<String, Value>>,
                }
                let Get { name, arguments } = params(raw_params)?;
                let prompt = self
                    .offered_prompts()
                    .find(|p| p.name == name)
                    .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt: {name}")))?;
                let tool_arguments = prompts::tool_arguments(prompt, arguments.as_ref())?;
                let cache_key = format!("prompt:{name}:{}", tool_arguments["arguments"]);
                if let Some(hit) = self.caches.prompt.get(&cache_key) {
                    return Ok(Native::Ready(hit));
                }
                let call = self.native_call(prompts::PROMPT_TOOL, &tool_arguments, "prompts/get")?;
                Ok(Native::Run(NativeJob { call, cache_key, shape: NativeShape::Prompt }))
            }
            _ => Err(RpcError::method_not_found(method)),
        }
    }

    fn native_call(&self, tool: &str, arguments: &Value, method: &'static str) -> Result<PreparedCall, RpcError> {
        let index = self.registry.tool_index(tool).ok_or_else(|| {
            RpcError::new(jsonrpc::INTERNAL_ERROR, format!("the built-in tool {tool} is not registered"))
        })?;
        Ok(PreparedCall { tool: index, arguments: Ok(arguments.to_string()), progress_token: None, method })
    }

    /// Runs the tool call behind a `resources/read` or `prompts/get` and shapes (and caches) its
    /// answer (JSON text). Bad arguments are -32602; a failing tool is -32603 with the tool's message.
    pub async fn run_native(self: &Arc<Self>, job: NativeJob, out: Outbox) -> Result<Arc<str>, RpcError> {
        let (result, code) = self.execute(job.call, out).await;
        let message = || result.first_text().unwrap_or("the tool returned no message").to_owned();
        match code {
            None => {}
            Some("invalid_arguments") => return Err(RpcError::invalid_params(message())),
            Some(_) => return Err(RpcError::new(jsonrpc::INTERNAL_ERROR, message())),
        }
        let structured = result
            .structured()
            .ok_or_else(|| RpcError::new(jsonrpc::INTERNAL_ERROR, "the tool returned no structured content"))?;
        let (cache, value) = match job.shape {
            NativeShape::Resource { uri, def } => {
                (&self.caches.resource, resources::contents(&uri, def, structured.get().to_owned()))
            }
            NativeShape::Prompt => {
                let value: Value = serde_json::from_str(structured.get())
                    .map_err(|e| RpcError::new(jsonrpc::INTERNAL_ERROR, format!("invalid prompt: {e}")))?;
                (&self.caches.prompt, value)
            }
        };
        let text: Arc<str> = value.to_string().into();
        cache.insert(job.cache_key, text.clone());
        Ok(text)
    }

    /// Handles a notification from the client (cancellation is the transport's).
    pub fn notify(&self, method: &str) {
        tracing::debug!(method, "notification");
    }

    /// Answers `tools/list` with the result object as JSON text, joined from the cached rendering
    /// of each tool. (Building a JSON tree per request deep-copied every schema; 21 lists of 30
    /// tools left ~1 MB of freed heap resident.)
    pub fn list_tools(&self, raw_params: Option<&RawValue>) -> Result<String, RpcError> {
        #[derive(Deserialize)]
        struct List {
            cursor: Option<String>,
        }
        let List { cursor } = params(raw_params)?;
        let tools = self.registry.tools();
        let start = match cursor {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0 && n < tools.len())
                .ok_or_else(|| RpcError::invalid_params(format!("invalid cursor {c:?}")))?,
        };
        let end = (start + self.settings.page_size.max(1)).min(tools.len());
        let page: Vec<Arc<str>> = tools[start..end]
            .iter()
            .map(|t| self.caches.schema.get_or_insert_with(&t.schema_key, || t.spec.to_mcp().to_string().into()))
            .collect();
        let next = if end < tools.len() { format!(r#","nextCursor":"{end}""#) } else { String::new() };
        Ok(format!(r#"{{"tools":[{}]{next}}}"#, page.join(",")))
    }

    /// Validates a `tools/call` request. An unknown tool is a protocol error (-32602); bad
    /// arguments are kept for the call to answer as an `isError` result.
    pub fn prepare_call(&self, raw_params: Option<&RawValue>) -> Result<PreparedCall, RpcError> {
        let parsed = parse_call_params(raw_params)?;
        let tool = self
            .registry
            .tools()
            .binary_search_by(|t| t.spec.name.as_str().cmp(&parsed.name))
            .map_err(|_| RpcError::invalid_params(format!("unknown tool: {}", parsed.name)))?;
        Ok(PreparedCall {
            tool,
            arguments: parsed.arguments,
            progress_token: parsed.progress_token,
            method: "tools/call",
        })
    }

    /// Runs a prepared call and returns its `CallToolResult`; records its span (also when the
    /// call is cancelled: dropping this future records a `cancelled` span).
    pub async fn run_call(self: &Arc<Self>, call: PreparedCall, out: Outbox) -> protocol::CallToolResult {
        self.execute(call, out).await.0
    }

    /// Runs a prepared call: its result and its span's error code.
    async fn execute(
        self: &Arc<Self>,
        call: PreparedCall,
        out: Outbox,
    ) -> (protocol::CallToolResult, Option<&'static str>) {
        let (started, timestamp_ms) = (Instant::now(), unix_ms());
        self.calls_served.fetch_add(1, Ordering::Relaxed);
        let tool = &self.registry.tools()[call.tool];
        let component = self.registry.component_of(tool);
        let name = tool.spec.name.as_str();
        let mut cancelled = CancelledSpan {
            telemetry: &self.telemetry,
            tool: &tool.name,
            method: call.method,
            started,
            timestamp_ms,
            armed: true,
        };
        let check_output = self.settings.validate_builtin_output || !component.source.is_builtin();
        let setup = if tool.validators_ready() {
            None
        } else {
            Some(self.first_call_setup(call.tool, component, check_output).await)
        };
        let (result, error_code, report) = match call.arguments {
            Err(message) => (protocol::error_result(message), Some("invalid_arguments"), CallReport::default()),
            Ok(arguments) if let Err(e) = self.check_arguments(tool, &arguments) => (
                protocol::error_result(format!("invalid arguments for `{name}`: {e}")),
                Some("invalid_arguments"),
                CallReport::default(),
            ),
            Ok(arguments) => {
                let policy = self.policies.get(name).unwrap_or(&self.default_policy).clone();
                let defaults = self.runtime.default_limits();
                let limits = CallLimits {
                    timeout: policy.call_timeout.unwrap_or(defaults.timeout),
                    memory: policy.memory_limit.unwrap_or(defaults.memory),
                    max_output_bytes: policy.max_output_bytes.unwrap_or(defaults.max_output_bytes),
                };
                let (_slot, waited) = crate::runtime::acquire_timed(&self.tool_slots[call.tool]).await;
                let env = CallEnv {
                    tool: tool.name.clone(),
                    progress_token: call.progress_token,
                    hooks: Arc::new(CallHooks { server: self.clone(), out }),
                    services: self.runtime.services().clone(),
                    policy,
                };
                let (outcome, mut report) = self.runtime.call(component, tool, &arguments, env, limits).await;
                report.queued += waited;
                if let Some(setup) = setup {
                    // The component was loaded during the first-call setup: count it as this call's load.
                    report.load += setup;
                    if report.load_kind == crate::telemetry::LoadKind::Warm {
                        report.load_kind = component.load_kind();
                    }
                }
                if let Err(failure) = &outcome {
                    tracing::warn!(tool = name, "{failure}");
                }
                let code = error_code(&outcome);
                let output_check =
                    if check_output { OutputCheck::Validate(tool.validators()) } else { OutputCheck::TrustSchema };
                let result = protocol::call_result(&tool.spec, output_check, outcome);
                let code = code.or_else(|| result.is_error().then_some("invalid_output"));
                (result, code, report)
            }
        };
        cancelled.armed = false;
        self.telemetry.record(Span {
            timestamp_ms,
            tool_name: tool.name.clone(),
            method: call.method.into(),
            duration_ms: ms(started.elapsed()),
            success: error_code.is_none(),
            error_code: error_code.map(Into::into),
            phases: Phases {
                queued_ms: ms(report.queued),
                load_ms: ms(report.load),
                load: report.load_kind,
                instantiate_ms: ms(report.instantiate),
                execute_ms: ms(report.execute),
                http_ms: ms(report.http),
            },
        });
        (result, error_code)
    }

    /// The first call of a tool compiles its JSON Schema validators (the output one only if the
    /// output will be checked) on a blocking thread while its component loads, so the two costs
    /// overlap instead of adding up. A load error is left for the call to report.
    /// Returns how long it took.
    async fn first_call_setup(
        self: &Arc<Self>,
        index: usize,
        component: &crate::runtime::registry::Component,
        check_output: bool,
    ) -> std::time::Duration {
        let started = Instant::now();
        let server = self.clone();
        let compile = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let tool = &server.registry.tools()[index];
            let validators = tool.validators();
            if check_output {
                validators.compile_output(&tool.spec);
            }
            started.elapsed()
        });
        let load = async {
            let started = Instant::now();
            let _ = self.runtime.load(component).await;
            started.elapsed()
        };
        let (compiled, loaded) = tokio::join!(compile, load);
        tracing::debug!(
            tool = %self.registry.tools()[index].name,
            validators_us = compiled.map_or(0, |d| d.as_micros() as u64),
            load_us = loaded.as_micros() as u64,
            "first call set up"
        );
        started.elapsed()
    }

    /// Checks arguments (a JSON object as text) against the tool's input schema.
    fn check_arguments(&self, tool: &crate::runtime::registry::RegisteredTool, arguments: &str) -> Result<(), String> {
        let value: Value = serde_json::from_str(arguments).map_err(|e| format!("not valid JSON: {e}"))?;
        tool.validators().check_input(&value)
    }

    /// The session settings.
    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// The server's catalog, for `host-facts.catalog`.
    pub fn catalog(&self) -> ServerCatalog {
        let tools = self
            .registry
            .tools()
            .iter()
            .map(|t| {
                let component = self.registry.component_of(t);
                ToolEntry {
                    name: t.spec.name.clone(),
                    title: t.spec.title.clone(),
                    description: t.spec.description.clone(),
                    group: component.source.group().as_str().into(),
                    loaded: component.is_loaded(),
                    component: component.source.label(),
                    input_schema: t.spec.input_schema.to_string(),
                    output_schema: t.spec.output_schema.as_ref().map(Value::to_string),
                }
            })
            .collect();
        let resources = self
            .offered_resources()
            .map(|d| ResourceEntry {
                uri: if d.template { d.uri_template() } else { d.uri() },
                name: d.name.into(),
                description: d.description.into(),
                mime_type: d.mime_type.into(),
                template: d.template,
            })
            .collect();
        let prompts = self
            .offered_prompts()
            .map(|p| PromptEntry {
                name: p.name.into(),
                description: p.description.into(),
                arguments: p
                    .arguments
                    .iter()
                    .map(|a| PromptArgument {
                        name: a.name.into(),
                        description: a.description.into(),
                        required: a.required,
                    })
                    .collect(),
            })
            .collect();
        ServerCatalog { tools, resources, prompts }
    }

    /// The server's facts, for `host-facts.get`.
    pub fn facts(&self) -> Facts {
        let cache_stats = |name: &str, c: &crate::caches::HitCounters, entries: u64| CacheStats {
            name: name.into(),
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            entries,
        };
        let caches = &self.caches;
        let guest = &self.runtime.services().guest_cache;
        let http = &self.runtime.services().http;
        let t = &self.telemetry.counters;
        Facts {
            server_name: crate::SERVER_NAME.into(),
            server_version: crate::SERVER_VERSION.into(),
            runtime_version: crate::runtime::WASMTIME_VERSION.into(),
            protocol_version: protocol::SUPPORTED_VERSIONS
                .get(usize::from(self.protocol_version.load(Ordering::Relaxed)))
                .map(|v| (*v).to_owned()),
            uptime_ms: self.started.elapsed().as_millis() as u64,
            registered_tools: self.registry.tool_names(),
            loaded_tools: self.registry.loaded_tool_names(),
            calls_served: self.calls_served.load(Ordering::Relaxed),
            ultra: self.ultra,
            rss_bytes: self.rss.get(),
            caches: vec![
                cache_stats(caches.schema.name, &caches.schema.counters, caches.schema.entries()),
                cache_stats(caches.resource.name, &caches.resource.counters, caches.resource.entries()),
                cache_stats(caches.prompt.name, &caches.prompt.counters, caches.prompt.entries()),
                cache_stats("guest", &guest.counters, guest.entries()),
            ],
            telemetry: TelemetryStats {
                enabled: self.telemetry.enabled(),
                queued: t.queued.load(Ordering::Relaxed),
                flushed: t.flushed.load(Ordering::Relaxed),
                dropped: t.dropped.load(Ordering::Relaxed),
                write_errors: t.write_errors.load(Ordering::Relaxed),
            },
            http: HttpStats {
                requests: http.stats.requests.load(Ordering::Relaxed),
                in_flight: http.in_flight(),
                waits: http.stats.waits.load(Ordering::Relaxed),
                connections_opened: http.stats.connections_opened.load(Ordering::Relaxed),
            },
        }
    }
}

/// Records a `cancelled` span if a call's future is dropped before it finishes.
struct CancelledSpan<'a> {
    telemetry: &'a Telemetry,
    tool: &'a Arc<str>,
    method: &'static str,
    started: Instant,
    timestamp_ms: u64,
    armed: bool,
}

impl Drop for CancelledSpan<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.telemetry.record(Span {
                timestamp_ms: self.timestamp_ms,
                tool_name: self.tool.clone(),
                method: self.method.into(),
                duration_ms: ms(self.started.elapsed()),
                success: false,
                error_code: Some("cancelled".into()),
                phases: Phases::default(),
            });
        }
    }
}

/// The span error code of an outcome (`None` when the guest answered without error).
fn error_code(outcome: &CallOutcome) -> Option<&'static str> {
    match outcome {
        Ok(Ok(result)) if result.is_error => Some("is_error"),
        Ok(Ok(_)) => None,
        Ok(Err(ToolError::InvalidArguments(_))) => Some("invalid_arguments"),
        Ok(Err(ToolError::UnknownTool(_))) => Some("unknown_tool"),
        Ok(Err(ToolError::Failed(_))) => Some("tool_error"),
        Err(CallFailure::Timeout { .. }) => Some("timeout"),
        Err(CallFailure::Memory { .. }) => Some("memory_limit"),
        Err(CallFailure::Trap { .. }) => Some("trap"),
        Err(CallFailure::Load { .. }) => Some("load_failed"),
        Err(CallFailure::OutputTooLarge { .. }) => Some("output_too_large"),
    }
}

/// The process's RSS, re-read at most every [`RSS_REFRESH`]: reading `/proc` costs more than a
/// whole health call, and health is what load tests hammer.
#[derive(Default)]
struct CachedRss {
    bytes: AtomicU64,
    read_at_ms: AtomicU64,
}

/// How stale the RSS in health facts may be.
const RSS_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

impl CachedRss {
    fn get(&self) -> u64 {
        let now = unix_ms();
        let last = self.read_at_ms.load(Ordering::Relaxed);
        if last == 0 || now.saturating_sub(last) >= RSS_REFRESH.as_millis() as u64 {
            self.read_at_ms.store(now, Ordering::Relaxed);
            self.bytes.store(rss_bytes(), Ordering::Relaxed);
        }
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The process's resident memory in bytes (Linux; 0 elsewhere).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// [`ServerHooks`] for one call: the server plus the outbox to reach the client.
struct CallHooks {
    server: Arc<McpServer>,
    out: Outbox,
}

impl CallHooks {
    fn send(&self, line: Vec<u8>) {
        if self.out.try_send(line).is_err() {
            tracing::debug!("client is not reading; dropped a notification");
        }
    }
}

impl ServerHooks for CallHooks {
    fn facts(&self) -> Facts {
        self.server.facts()
    }

    fn catalog(&self) -> ServerCatalog {
        self.server.catalog()
    }

    fn log_to_client(&self, tool: &str, level: Level, message: &str) {
        let index = level as u8;
        if index < self.server.client_log_level.load(Ordering::Relaxed) {
            return;
        }
        let params = json!({"level": LOG_LEVELS[index as usize], "logger": tool, "data": message});
        self.send(jsonrpc::notification("notifications/message", &params));
    }

    fn progress(&self, token: &Value, progress: f64, total: Option<f64>, message: Option<String>) {
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        self.send(jsonrpc::notification("notifications/progress", &params));
    }
}
