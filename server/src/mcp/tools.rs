//! The call path: `tools/list` pages, and `tools/call` from a parsed request to a
//! `CallToolResult` and its span.
//!
//! [`McpServer::prepare_call`] checks the request (unknown tool: -32602; unusable arguments are
//! kept for the call to answer as an `isError` result); [`McpServer::execute`] validates the
//! arguments against the input schema, takes the tool's concurrency slot, runs the guest through
//! the runtime, shapes the outcome (`protocol.rs`) and records one span, also when the call's
//! future is dropped (a cancelled call gets a `cancelled` span).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::jsonrpc::{self, RpcError};
use super::links;
use super::protocol::{self, CallToolResult, OutputCheck};
use super::request::{CallRequest, RoundAnswers};
use super::server::McpServer;
use super::session::{Peer, Session, capability};
use crate::bindings::ToolError;
use crate::bindings::ide_agents::tool::host_facts::ServerCatalog;
use crate::bindings::ide_agents::tool::log::Level;
use crate::host::input::{Ask, Exchange, Support};
use crate::host::{CallEnv, Facts, ServerHooks};
use crate::runtime::Registry;
use crate::runtime::registry::RegisteredTool;
use crate::runtime::{CallFailure, CallLimits, CallOutcome, CallReport};
use crate::telemetry::{ErrorCode, LoadKind, Phases, Span, Telemetry, ms, unix_ms};

/// A validated tool call, ready to run: a `tools/call`, or the call behind a `resources/read` or
/// `prompts/get`.
pub struct PreparedCall {
    /// The registry snapshot the tool was found in (one reference for the call, instead of one
    /// per tool: both are shared by every worker thread).
    pub(super) registry: Arc<Registry>,
    /// The tool's position in it.
    pub(super) index: usize,
    pub(super) arguments: Result<String, String>,
    pub(super) progress_token: Option<Value>,
    /// The MCP method it answers (for its span).
    pub(super) method: &'static str,
    /// What the client sent back from an earlier round (verified; empty on a first round).
    pub(super) given: Given,
}

/// What the client sent back from an earlier round, its state verified.
#[derive(Debug, Default)]
pub struct Given {
    /// Key and answer (JSON text) of each response.
    pub responses: Vec<(String, String)>,
    /// The tool's state from the earlier round.
    pub state: Option<String>,
}

impl Given {
    /// The call's exchange, for a client of `session`.
    pub(super) fn exchange(self, session: &Session) -> Exchange {
        let support = Support {
            elicit: session.declared(capability::ELICITATION),
            sample: session.declared(capability::SAMPLING),
            list_roots: session.declared(capability::ROOTS),
        };
        Exchange::new(self.responses, self.state, support)
    }
}

/// What running a prepared call came to.
pub(super) enum Executed {
    /// A result, with its span's error code.
    Done(CallToolResult, Option<ErrorCode>),
    /// The tool asked for input (`rounds.rs` takes it from here).
    Asked(Box<AskedRound>),
}

/// A round that ended in a request for input, with what it takes to run the call again.
pub(super) struct AskedRound {
    /// What the tool asked.
    pub ask: Ask,
    /// The call's registry snapshot and the tool's position in it.
    pub registry: Arc<Registry>,
    /// The tool's index in `registry`.
    pub index: usize,
    /// The checked arguments.
    pub arguments: String,
    /// The request's progress token (the next round reports progress too).
    pub progress_token: Option<Value>,
    /// The MCP method the call answers.
    pub method: &'static str,
}

impl McpServer {
    /// Answers `tools/list` with the result object as JSON text, joined from the cached rendering
    /// of each tool. (Building a JSON tree per request deep-copied every schema; 21 lists of 30
    /// tools left ~1 MB of freed heap resident.)
    pub fn list_tools(&self, cursor: Option<&str>) -> Result<String, RpcError> {
        self.listed.store(true, std::sync::atomic::Ordering::Relaxed);
        let registry = self.registry();
        let tools = registry.tools();
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

    /// Checks a `tools/call` request. An unknown tool is a protocol error (-32602); bad
    /// arguments are kept for the call to answer as an `isError` result.
    /// `principal`: who authenticated it (HTTP with `[auth]`), to whom a round's state is bound.
    pub fn prepare_call(&self, request: CallRequest<'_>, principal: Option<&str>) -> Result<PreparedCall, RpcError> {
        let registry = self.registry();
        let tools = registry.tools();
        let tool = tools
            .binary_search_by(|t| t.spec.name.as_str().cmp(&request.name))
            .map_err(|_| RpcError::invalid_params(format!("unknown tool: {}", request.name)))?;
        let given = self.given(&tools[tool].name, &request.arguments, request.round, principal)?;
        Ok(PreparedCall {
            registry: registry.clone(),
            index: tool,
            arguments: request.arguments,
            progress_token: request.progress_token,
            method: "tools/call",
            given,
        })
    }

    /// The call of `tool` (the one that declared the resource or prompt) behind a
    /// `resources/read` or `prompts/get`, with the answers to its earlier round, if any (a
    /// `requestState` that fails its check is -32602).
    pub(super) fn read_call(
        &self,
        tool: &str,
        arguments: &Value,
        method: &'static str,
        round: Option<RoundAnswers>,
        principal: Option<&str>,
    ) -> Result<PreparedCall, RpcError> {
        let registry = self.registry();
        let index = registry
            .tool_index(tool)
            .ok_or_else(|| RpcError::internal(format!("the tool {tool} is not registered")))?;
        let arguments = Ok(arguments.to_string());
        let given = self.given(tool, &arguments, round, principal)?;
        Ok(PreparedCall { registry, index, arguments, progress_token: None, method, given })
    }

    /// Runs a prepared call and returns its `CallToolResult`; records its span (also when the
    /// call is cancelled: dropping this future records a `cancelled` span).
    pub async fn run_call(self: &Arc<Self>, call: PreparedCall, peer: Peer) -> CallToolResult {
        self.execute(call, peer).await.0
    }

    /// Runs one round of a prepared call for a caller that cannot ask the client (`run_call`,
    /// tests): its result and its span's error code.
    pub(super) async fn execute(
        self: &Arc<Self>,
        call: PreparedCall,
        peer: Peer,
    ) -> (CallToolResult, Option<ErrorCode>) {
        match self.execute_round(call, peer).await {
            Executed::Done(result, code) => (result, code),
            Executed::Asked(_) => (
                protocol::error_result("the tool asked for input, which this caller cannot give"),
                Some(ErrorCode::ToolError),
            ),
        }
    }

    /// Runs one round of a prepared call: its result and its span's error code, or what the tool
    /// asked for.
    pub(super) async fn execute_round(self: &Arc<Self>, call: PreparedCall, peer: Peer) -> Executed {
        let (started, timestamp_ms) = (Instant::now(), unix_ms());
        self.calls_served.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let registry = call.registry.clone();
        let tool = &registry.tools()[call.index];
        let component = &*tool.component;
        let mut cancelled = CancelledSpan {
            telemetry: &self.telemetry,
            tool: &tool.name,
            method: call.method,
            started,
            timestamp_ms,
            armed: true,
        };
        let check_output = self.settings.validate_builtin_output || !component.source.is_builtin();
        let setup =
            if tool.validators_ready() { None } else { Some(self.first_call_setup(tool.clone(), check_output).await) };
        let mut asked = None;
        let (result, error_code, report) = match call.arguments {
            Err(message) => (protocol::error_result(message), Some(ErrorCode::InvalidArguments), CallReport::default()),
            Ok(arguments) => match check_arguments(tool, arguments, self.call_timeout(tool)).await {
                Err(e) => (
                    protocol::error_result(format!("invalid arguments for `{}`: {e}", tool.spec.name)),
                    Some(ErrorCode::InvalidArguments),
                    CallReport::default(),
                ),
                Ok(arguments) => {
                    // Kept for a next round (the client's token is small, and rarely sent).
                    let progress_token = call.progress_token.clone();
                    let guest = GuestCall {
                        tool,
                        arguments: &arguments,
                        progress_token: call.progress_token,
                        setup,
                        check_output,
                        given: call.given,
                    };
                    let (result, code, report, ask) = self.run_guest(guest, peer).await;
                    asked = ask.map(|ask| AskedRound {
                        ask,
                        registry: registry.clone(),
                        index: call.index,
                        arguments,
                        progress_token,
                        method: call.method,
                    });
                    (result, code, report)
                }
            },
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
        match asked {
            Some(asked) => Executed::Asked(Box::new(asked)),
            None => Executed::Done(result, error_code),
        }
    }

    /// The guest part of a call with valid arguments: limits from the tool's policy, its
    /// concurrency slots (the tool's, its component's, and for extensions the share outside the
    /// built-in reserve), the runtime call, and the outcome shaped into a result.
    async fn run_guest(
        self: &Arc<Self>,
        call: GuestCall<'_>,
        peer: Peer,
    ) -> (CallToolResult, Option<ErrorCode>, CallReport, Option<Ask>) {
        let tool = call.tool;
        let component = &*tool.component;
        let policy = tool.policy.clone();
        let defaults = self.runtime.default_limits();
        let limits = CallLimits {
            timeout: policy.call_timeout.unwrap_or(defaults.timeout),
            memory: policy.memory_limit.unwrap_or(defaults.memory),
            max_output_bytes: policy.max_output_bytes.unwrap_or(defaults.max_output_bytes),
        };
        let (_tool_slot, waited_tool) = match &tool.own_slots {
            Some(slots) => {
                let (slot, waited) = crate::runtime::acquire_timed(slots).await;
                (Some(slot), waited)
            }
            None => (None, Duration::ZERO),
        };
        let (_component_slot, waited_component) = crate::runtime::acquire_timed(&tool.component_slots).await;
        let (_extension_slot, waited_share) = if component.source.is_builtin() {
            (None, Duration::ZERO)
        } else {
            let (slot, waited) = crate::runtime::acquire_timed(&self.extension_slots).await;
            (Some(slot), waited)
        };
        let exchange = call.given.exchange(&peer.session);
        let hooks = Arc::new(CallHooks { server: self.clone(), peer, exchange });
        let env = CallEnv {
            tool: tool.name.clone(),
            component: component.label.clone(),
            progress_token: call.progress_token,
            hooks: hooks.clone(),
            services: self.runtime.services().clone(),
            policy: policy.clone(),
        };
        let (outcome, mut report) = self.runtime.call(component, tool, call.arguments, env, limits).await;
        report.queued += waited_tool + waited_component + waited_share;
        if let Some(setup) = call.setup {
            // The component was loaded during the first-call setup: count it as this call's load.
            report.load += setup;
            if report.load_kind == LoadKind::Warm {
                report.load_kind = component.load_kind();
            }
        }
        if let Err(failure) = &outcome {
            tracing::warn!(tool = %tool.name, "{failure}");
        }
        // A tool that asked for input and then answered without error: its answer is set aside.
        if matches!(&outcome, Ok(Ok(result)) if !result.is_error)
            && let Some(ask) = hooks.exchange.take_asked()
        {
            return (protocol::error_result(String::new()), None, report, Some(ask));
        }
        let code = error_code(&outcome);
        let shaped = if structured_len(&outcome) > OFFLOAD_BYTES {
            // Large output: validated on the blocking pool, within what is left of the call's time.
            let (tool, check) = (tool.clone(), call.check_output);
            let left = limits.timeout.saturating_sub(report.execute + report.instantiate);
            let shaping = tokio::task::spawn_blocking(move || shape(&tool, &policy, check, outcome, limits));
            match tokio::time::timeout(left, shaping).await {
                Ok(Ok(shaped)) => shaped,
                Ok(Err(e)) => Err((format!("checking the output failed: {e}"), ErrorCode::InvalidOutput)),
                Err(_) => Err((
                    format!("checking the output of `{}` ran past the call's time limit", call.tool.name),
                    ErrorCode::Timeout,
                )),
            }
        } else {
            shape(tool, &policy, call.check_output, outcome, limits)
        };
        let result = match shaped {
            Ok(result) => result,
            Err((message, code)) => return (protocol::error_result(message), Some(code), report, None),
        };
        let code = code.or_else(|| result.is_error().then_some(ErrorCode::InvalidOutput));
        (result, code, report, None)
    }

    /// The time limit of `tool`'s calls.
    fn call_timeout(&self, tool: &RegisteredTool) -> Duration {
        tool.policy.call_timeout.unwrap_or(self.runtime.default_limits().timeout)
    }

    /// The first call of a tool compiles its JSON Schema validators (the output one only if the
    /// output will be checked) on a blocking thread while its component loads, so the two costs
    /// overlap instead of adding up. A load error is left for the call to report.
    /// Returns how long it took.
    async fn first_call_setup(self: &Arc<Self>, tool: Arc<RegisteredTool>, check_output: bool) -> Duration {
        let started = Instant::now();
        let compiling = tool.clone();
        let compile = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            if let Ok(validators) = compiling.validators()
                && check_output
            {
                let _ = validators.compile_output(&compiling.spec);
            }
            started.elapsed()
        });
        let load = async {
            let started = Instant::now();
            // Bounded like the call: a component still compiling is reported by the call itself.
            let _ = tokio::time::timeout(self.call_timeout(&tool), self.runtime.load(&tool.component)).await;
            started.elapsed()
        };
        let (compiled, loaded) = tokio::join!(compile, load);
        tracing::debug!(
            tool = %tool.name,
            validators_us = compiled.map_or(0, |d| d.as_micros() as u64),
            load_us = loaded.as_micros() as u64,
            "first call set up"
        );
        started.elapsed()
    }
}

/// Arguments or structured output larger than this are parsed and validated on the blocking
/// pool, within the call's time limit, instead of on an async worker (where a slow validation
/// would stall every call sharing that worker). Smaller ones take microseconds: a hand-off would
/// cost more than the check.
pub const OFFLOAD_BYTES: usize = 64 << 10;

/// Checks arguments (a JSON object as text) against the tool's input schema: inline when small,
/// else on the blocking pool within `timeout`.
async fn check_arguments(tool: &Arc<RegisteredTool>, arguments: String, timeout: Duration) -> Result<String, String> {
    if arguments.len() <= OFFLOAD_BYTES {
        return check_arguments_now(tool, &arguments).map(|()| arguments);
    }
    let tool = tool.clone();
    let checking = tokio::task::spawn_blocking(move || check_arguments_now(&tool, &arguments).map(|()| arguments));
    match tokio::time::timeout(timeout, checking).await {
        Ok(Ok(checked)) => checked,
        Ok(Err(e)) => Err(format!("checking them failed: {e}")),
        Err(_) => Err(format!("checking them took longer than the call's time limit of {} ms", timeout.as_millis())),
    }
}

fn check_arguments_now(tool: &RegisteredTool, arguments: &str) -> Result<(), String> {
    let value: Value = serde_json::from_str(arguments).map_err(|e| format!("not valid JSON: {e}"))?;
    tool.validators().map_err(|e| format!("the tool cannot be checked: {e}"))?.check_input(&value)
}

/// Bytes of a guest answer's structured output and text (what output checking reads).
fn structured_len(outcome: &CallOutcome) -> usize {
    match outcome {
        Ok(Ok(result)) => result.structured.as_ref().map_or(0, String::len) + result.content.len() * 16,
        _ => 0,
    }
}

/// The outcome as a `CallToolResult`, or why it may not be sent: resource links the tool may not
/// produce, or a result larger (as sent: escaped and framed) than its limit.
fn shape(
    tool: &RegisteredTool,
    policy: &crate::host::ToolPolicy,
    check_output: bool,
    outcome: CallOutcome,
    limits: CallLimits,
) -> Result<CallToolResult, (String, ErrorCode)> {
    if let Ok(Ok(result)) = &outcome {
        links::check(result, policy).map_err(|e| (format!("`{}` {e}", tool.name), ErrorCode::InvalidOutput))?;
    }
    let output_check = match (check_output, tool.validators()) {
        (false, _) => OutputCheck::TrustSchema,
        (true, Ok(validators)) => OutputCheck::Validate(validators),
        (true, Err(e)) => return Err((format!("`{}` cannot be checked: {e}", tool.name), ErrorCode::InvalidOutput)),
    };
    let result = protocol::call_result(&tool.spec, output_check, outcome);
    // Escaping at most sextuples a byte: only a result that could then pass the limit is counted
    // exactly (the exact count is a pass over every byte).
    let limit = limits.max_output_bytes;
    if !result.is_error() && result.unescaped_len().saturating_mul(6).saturating_add(1024) > limit {
        let size = result.json_len_hint();
        if size > limit {
            let failure = CallFailure::OutputTooLarge { tool: tool.name.to_string(), size, limit };
            return Err((failure.to_string(), ErrorCode::OutputTooLarge));
        }
    }
    Ok(result)
}

/// The parts of one guest call, passed from `execute` to `run_guest`.
struct GuestCall<'a> {
    tool: &'a Arc<RegisteredTool>,
    arguments: &'a str,
    progress_token: Option<Value>,
    /// How long the first-call setup took, if this call did it.
    setup: Option<Duration>,
    check_output: bool,
    /// The earlier round's answers.
    given: Given,
}

/// The span error code of an outcome (`None` when the guest answered without error).
fn error_code(outcome: &CallOutcome) -> Option<ErrorCode> {
    match outcome {
        Ok(Ok(result)) if result.is_error => Some(ErrorCode::IsError),
        Ok(Ok(_)) => None,
        Ok(Err(ToolError::InvalidArguments(_))) => Some(ErrorCode::InvalidArguments),
        Ok(Err(ToolError::UnknownTool(_))) => Some(ErrorCode::UnknownTool),
        Ok(Err(ToolError::Failed(_))) => Some(ErrorCode::ToolError),
        Err(CallFailure::Timeout { .. }) => Some(ErrorCode::Timeout),
        Err(CallFailure::Memory { .. }) => Some(ErrorCode::MemoryLimit),
        Err(CallFailure::Trap { .. }) => Some(ErrorCode::Trap),
        Err(CallFailure::Load { .. }) => Some(ErrorCode::LoadFailed),
        Err(CallFailure::OutputTooLarge { .. }) => Some(ErrorCode::OutputTooLarge),
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
                error_code: Some(ErrorCode::Cancelled.into()),
                phases: Phases::default(),
            });
        }
    }
}

/// [`ServerHooks`] for one call: the server plus the peer that asked (its session and outbox).
struct CallHooks {
    server: Arc<McpServer>,
    peer: Peer,
    /// The call's multi round-trip exchange.
    exchange: Exchange,
}

impl CallHooks {
    fn send(&self, line: Vec<u8>) {
        if !self.peer.out.notify(line) {
            tracing::debug!("client is not reading fast enough; dropped a notification");
        }
    }
}

impl ServerHooks for CallHooks {
    fn facts(&self) -> Facts {
        self.server.facts(&self.peer.session)
    }

    fn catalog(&self) -> ServerCatalog {
        self.server.catalog()
    }

    fn wants_log(&self, level: Level) -> bool {
        self.peer.session.forwarded_level(level).is_some()
    }

    fn log_to_client(&self, tool: &str, level: Level, message: &str) {
        let Some(level) = self.peer.session.forwarded_level(level) else { return };
        let params = json!({"level": level, "logger": tool, "data": message});
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

    fn input(&self) -> Option<&Exchange> {
        Some(&self.exchange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::ErrorCode as RpcCode;
    use crate::mcp::request::parse_call_params;
    use crate::mcp::testing::server_with_builtins;
    use serde_json::value::RawValue;

    fn request(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn an_unknown_tool_is_invalid_params() {
        let (server, _rt, _dir) = server_with_builtins();
        let params = request(r#"{"name":"no_such_tool"}"#);
        let error = server.prepare_call(parse_call_params(Some(&params)).unwrap(), None).err().unwrap();
        assert_eq!(error.code, RpcCode::InvalidParams);
        assert!(error.message.contains("no_such_tool"), "{}", error.message);
    }

    #[test]
    fn a_call_runs_the_guest_and_records_one_span() {
        let (server, rt, _dir) = server_with_builtins();
        let params = request(r#"{"name":"ide_agents_health","arguments":{}}"#);
        let call = server.prepare_call(parse_call_params(Some(&params)).unwrap(), None).unwrap();
        let (out, _rx) = crate::mcp::outbox::outbox(8, 1 << 20);
        let (result, code) = rt.block_on(server.execute(call, Peer::new(out)));
        assert_eq!(code, None, "{:?}", result.first_text());
        let report: Value = serde_json::from_str(result.structured().unwrap().get()).unwrap();
        assert_eq!(report["status"], "ok");
        assert_eq!(report["calls_served"], 1);
        assert_eq!(server.telemetry.counters.queued.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn arguments_that_break_the_schema_are_an_error_result_not_a_protocol_error() {
        let (server, rt, _dir) = server_with_builtins();
        let (out, _rx) = crate::mcp::outbox::outbox(8, 1 << 20);
        for (arguments, expected) in [(r#"{"unexpected":1}"#, "invalid arguments"), ("[1]", "must be a JSON object")] {
            let params = request(&format!(r#"{{"name":"ide_agents_health","arguments":{arguments}}}"#));
            let call = server.prepare_call(parse_call_params(Some(&params)).unwrap(), None).unwrap();
            let (result, code) = rt.block_on(server.execute(call, Peer::new(out.clone())));
            assert!(result.is_error());
            assert_eq!(code, Some(ErrorCode::InvalidArguments));
            assert!(result.first_text().unwrap().contains(expected), "{:?}", result.first_text());
        }
    }

    #[test]
    fn a_dropped_call_records_a_cancelled_span() {
        let (server, rt, _dir) = server_with_builtins();
        let params = request(r#"{"name":"ide_agents_health"}"#);
        let call = server.prepare_call(parse_call_params(Some(&params)).unwrap(), None).unwrap();
        let (out, _rx) = crate::mcp::outbox::outbox(8, 1 << 20);
        rt.block_on(async {
            let mut future = Box::pin(server.execute(call, Peer::new(out)));
            // Poll once (the call starts), then drop it as a cancellation would.
            let _ = futures_poll_once(future.as_mut()).await;
        });
        assert_eq!(server.telemetry.counters.queued.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    /// Polls `future` once.
    async fn futures_poll_once<F: Future + Unpin>(mut future: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| match std::pin::Pin::new(&mut future).poll(cx) {
            std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
            std::task::Poll::Pending => std::task::Poll::Ready(None),
        })
        .await
    }

    #[test]
    fn tools_list_pages_follow_the_cursor() {
        let (server, _rt, _dir) = server_with_builtins();
        let first: Value = serde_json::from_str(&server.list_tools(None).unwrap()).unwrap();
        let names: Vec<&str> = first["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "deterministic order");
        assert_eq!(server.list_tools(Some("0")).unwrap_err().code, RpcCode::InvalidParams);
        assert_eq!(server.list_tools(Some("x")).unwrap_err().code, RpcCode::InvalidParams);
    }
}
