//! The MCP session: method dispatch, negotiated state (protocol version, client log level), and
//! the [`ServerHooks`] that give running tools their facts, logging and progress.
//!
//! Everything but `tools/call` is answered synchronously by [`McpServer::handle`]; `tools/call` is
//! validated by [`McpServer::prepare_call`] (unknown tool: -32602) and run by
//! [`McpServer::run_call`] on its own task. The transport (`stdio.rs`) owns ordering, concurrency
//! and cancellation.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::jsonrpc::{self, RpcError};
use super::protocol;
use crate::bindings::ide_agents::tool::host_facts::Facts;
use crate::bindings::ide_agents::tool::log::Level;
use crate::host::{CallEnv, ServerHooks};
use crate::runtime::{Registry, Runtime};

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
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self { page_size: DEFAULT_PAGE_SIZE }
    }
}

/// The server behind one MCP session.
pub struct McpServer {
    runtime: Runtime,
    registry: Registry,
    settings: ServerSettings,
    started: Instant,
    protocol_version: Mutex<Option<&'static str>>,
    client_log_level: AtomicU8,
    calls_served: AtomicU64,
}

/// A validated `tools/call`, ready to run.
pub struct PreparedCall {
    tool: usize,
    arguments: Result<String, String>,
    progress_token: Option<Value>,
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

fn params<'a, T: Deserialize<'a>>(params: Option<&'a RawValue>) -> Result<T, RpcError> {
    let text = params.map_or("{}", RawValue::get);
    serde_json::from_str(text).map_err(|e| RpcError::invalid_params(format!("invalid params: {e}")))
}

impl McpServer {
    /// A server over `registry`, running calls with `runtime`.
    pub fn new(runtime: Runtime, registry: Registry, settings: ServerSettings) -> Self {
        Self {
            runtime,
            registry,
            settings,
            started: Instant::now(),
            protocol_version: Mutex::new(None),
            client_log_level: AtomicU8::new(LOG_OFF),
            calls_served: AtomicU64::new(0),
        }
    }

    /// The tool registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
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
                *self.protocol_version.lock().unwrap_or_else(|p| p.into_inner()) = Some(version);
                Ok(protocol::initialize_result(version))
            }
            "ping" => Ok(json!({})),
            "tools/list" => self.list_tools(raw_params),
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
            "tools/call" => Err(RpcError::new(jsonrpc::INTERNAL_ERROR, "tools/call must go through prepare_call")),
            _ => Err(RpcError::method_not_found(method)),
        }
    }

    /// Handles a notification from the client (cancellation is the transport's).
    pub fn notify(&self, method: &str) {
        tracing::debug!(method, "notification");
    }

    fn list_tools(&self, raw_params: Option<&RawValue>) -> Result<Value, RpcError> {
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
        let page: Vec<&Value> = tools[start..end].iter().map(|t| &t.mcp).collect();
        let mut result = json!({ "tools": page });
        if end < tools.len() {
            result["nextCursor"] = json!(end.to_string());
        }
        Ok(result)
    }

    /// Validates a `tools/call` request. An unknown tool is a protocol error (-32602); bad
    /// arguments are kept for the call to answer as an `isError` result.
    pub fn prepare_call(&self, raw_params: Option<&RawValue>) -> Result<PreparedCall, RpcError> {
        let p: CallParams = params(raw_params)?;
        let tool = self
            .registry
            .tools()
            .binary_search_by(|t| t.spec.name.as_str().cmp(&p.name))
            .map_err(|_| RpcError::invalid_params(format!("unknown tool: {}", p.name)))?;
        let arguments = match p.arguments {
            None => Ok("{}".to_owned()),
            Some(raw) if raw.get() == "null" => Ok("{}".to_owned()),
            Some(raw) if raw.get().starts_with('{') => Ok(raw.get().to_owned()),
            Some(_) => Err(format!("invalid arguments for `{}`: `arguments` must be a JSON object", p.name)),
        };
        let progress_token =
            p.meta.and_then(|m| m.progress_token).filter(|t| t.is_string() || t.is_i64() || t.is_u64());
        Ok(PreparedCall { tool, arguments, progress_token })
    }

    /// Runs a prepared call and returns its `CallToolResult`.
    pub async fn run_call(self: &Arc<Self>, call: PreparedCall, out: Outbox) -> Value {
        self.calls_served.fetch_add(1, Ordering::Relaxed);
        let tool = &self.registry.tools()[call.tool];
        let arguments = match call.arguments {
            Ok(a) => a,
            Err(message) => return protocol::error_result(message),
        };
        let env = CallEnv {
            tool: Arc::from(tool.spec.name.as_str()),
            progress_token: call.progress_token,
            hooks: Arc::new(CallHooks { server: self.clone(), out }),
        };
        let outcome = self.runtime.call(self.registry.component_of(tool), tool, &arguments, env).await;
        if let Err(failure) = &outcome {
            tracing::warn!(tool = %tool.spec.name, "{failure}");
        }
        protocol::call_result(&tool.spec, outcome)
    }
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
        let s = &self.server;
        Facts {
            server_name: crate::SERVER_NAME.into(),
            server_version: crate::SERVER_VERSION.into(),
            runtime_version: crate::runtime::WASMTIME_VERSION.into(),
            protocol_version: s.protocol_version.lock().unwrap_or_else(|p| p.into_inner()).map(Into::into),
            uptime_ms: s.started.elapsed().as_millis() as u64,
            registered_tools: s.registry.tool_names(),
            loaded_tools: s.registry.loaded_tool_names(),
            calls_served: s.calls_served.load(Ordering::Relaxed),
        }
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
