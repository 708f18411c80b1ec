//! Multi round-trip calls: what a `tools/call` comes to when its tool asks for input
//! (`host::input`), in each protocol era.
//!
//! - A 2026-07-28 client gets an `input_required` result: the requests under their keys and a
//!   `requestState` sealed by `request_state.rs`. It calls again with `inputResponses` and the
//!   state, possibly on another instance holding the same key; [`McpServer::given`] opens the
//!   state (a tampered, expired or misapplied one is -32602) and the tool runs again with the
//!   responses. Nothing is kept between rounds.
//! - The same holds for `prompts/get` and `resources/read`, whose tool calls may ask too (their
//!   answers are cached only when no round was involved).
//! - An initialize-era client that declared the capabilities gets real requests
//!   (`elicitation/create`, `sampling/createMessage`, `roots/list`) on the call's stream; the call
//!   waits for the answers (within [`INPUT_WAIT`]) and runs the tool again with them, at most
//!   [`MAX_ROUNDS`] rounds.
//! - A request the client cannot answer (it did not declare the capability): -32021 with
//!   `requiredCapabilities` for a 2026-07-28 client, as the revision says; an `isError` result
//!   naming the capability for an initialize-era one.

use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::jsonrpc::{self, ErrorCode, RpcError};
use super::protocol::{self, CallToolResult};
use super::request::RoundAnswers;
use super::request_state::Call;
use super::server::McpServer;
use super::session::{Peer, Session, capability};
use super::tools::{AskedRound, Executed, Given, PreparedCall};
use crate::host::input::{Ask, Asked};
use crate::telemetry::unix_ms;

/// Rounds one call of an initialize-era client may take.
pub const MAX_ROUNDS: usize = 8;
/// How long an initialize-era call waits for the client's answers (a person may be typing).
pub const INPUT_WAIT: Duration = Duration::from_secs(600);

impl McpServer {
    /// Opens what a `tools/call` of `tool` sent back from an earlier round. A `requestState`
    /// that fails its check is -32602; responses without a state are passed on (the tool
    /// checks them, like arguments).
    pub(super) fn given(
        &self,
        tool: &str,
        arguments: &Result<String, String>,
        round: Option<RoundAnswers>,
        principal: Option<&str>,
    ) -> Result<Given, RpcError> {
        let Some(RoundAnswers { responses, request_state }) = round else { return Ok(Given::default()) };
        let state = match (request_state, arguments) {
            (Some(sealed), Ok(arguments)) => self
                .state_key
                .open(&sealed, Call { tool, arguments, principal }, unix_ms())
                .map_err(|refused| RpcError::invalid_params(refused.to_string()))?,
            _ => None,
        };
        Ok(Given { responses, state })
    }

    /// Answers a `tools/call`: runs it, and when its tool asks for input, answers as the client's
    /// era allows (see the module docs).
    pub(super) async fn answer_call(self: Arc<Self>, call: PreparedCall, peer: Peer, id: Box<RawValue>) -> Vec<u8> {
        let mut call = call;
        for _round in 0..MAX_ROUNDS {
            let asked = match self.execute_round(call, peer.clone()).await {
                Executed::Done(result, _) => return result_line(&id, &result),
                Executed::Asked(asked) => asked,
            };
            call = match self.next_round(asked, &peer).await {
                Next::Again(next) => next,
                Next::InputRequired(result) => return jsonrpc::success_rendered(&id, &result),
                Next::Error(error) => return jsonrpc::failure(Some(&id), &error),
                Next::Refused(message) => return result_line(&id, &protocol::error_result(message)),
            };
        }
        result_line(&id, &protocol::error_result(too_many_rounds()))
    }

    /// What follows a round that asked for input (see the module docs): the next round's call
    /// (initialize era, answers in hand), an `input_required` result (2026-07-28), a protocol
    /// error, or why the call ends without an answer.
    pub(super) async fn next_round(&self, asked: Box<AskedRound>, peer: &Peer) -> Next {
        let tool = asked.registry.tools()[asked.index].name.clone();
        let missing = missing_capabilities(&asked.ask, &peer.session);
        if peer.session.is_modern() {
            return match missing {
                Some(missing) => Next::Error(missing_capability(&tool, missing)),
                None => Next::InputRequired(self.input_required(&tool, &asked, peer.principal.as_deref())),
            };
        }
        if let Some(missing) = missing {
            let names: Vec<&str> = missing.keys().map(String::as_str).collect();
            return Next::Refused(format!(
                "`{tool}` needs input from the client ({}), but the client did not declare the capability `{}` \
                 when it initialized",
                asked.ask.requests.iter().map(|(_, a)| a.method()).collect::<Vec<_>>().join(", "),
                names.join("`, `")
            ));
        }
        let AskedRound { ask, registry, index, arguments, progress_token, method } = *asked;
        match ask_client(peer, &ask).await {
            Ok(responses) => Next::Again(PreparedCall {
                registry,
                index,
                arguments: Ok(arguments),
                progress_token,
                method,
                given: Given { responses, state: ask.state },
            }),
            Err(message) => Next::Refused(format!("`{tool}`: {message}")),
        }
    }

    /// The `input_required` result of a 2026-07-28 call of `tool`, as JSON text. `resultType`
    /// comes first: `modern::shape` adds `"complete"` to results that do not start with one.
    fn input_required(&self, tool: &str, asked: &AskedRound, principal: Option<&str>) -> String {
        let requests: Map<String, Value> = asked
            .ask
            .requests
            .iter()
            .map(|(key, request)| (key.clone(), json!({"method": request.method(), "params": request.params()})))
            .collect();
        let call = Call { tool, arguments: &asked.arguments, principal };
        let state = self.state_key.seal(call, asked.ask.state.clone(), unix_ms());
        format!(
            r#"{{"resultType":"input_required","inputRequests":{},"requestState":{}}}"#,
            Value::Object(requests),
            Value::String(state)
        )
    }
}

/// What follows a round that asked for input.
pub(super) enum Next {
    /// Run the call again (initialize era: the client answered).
    Again(PreparedCall),
    /// Answer with this `input_required` result (JSON text; 2026-07-28).
    InputRequired(String),
    /// Answer with this protocol error (-32021).
    Error(RpcError),
    /// End the call without an answer from the tool, for this reason.
    Refused(String),
}

/// Why a call that keeps asking is stopped.
pub(super) fn too_many_rounds() -> String {
    format!("the tool asked for input more than {MAX_ROUNDS} times in one call")
}

/// A `CallToolResult` as the answer line to `id`.
fn result_line(id: &RawValue, result: &CallToolResult) -> Vec<u8> {
    // A guess of the answer's size (growing the buffer is cheaper than counting escapes).
    let guess = result.unescaped_len();
    jsonrpc::success_sized(id, result, guess + guess / 8 + 64)
}

/// The capabilities `ask` needs that the client of `session` did not declare, as a
/// ClientCapabilities object (`{"elicitation": {}}`), or `None`.
fn missing_capabilities(ask: &Ask, session: &Session) -> Option<Map<String, Value>> {
    let missing: Map<String, Value> = ask
        .requests
        .iter()
        .filter(|(_, asked)| {
            let bit = match asked {
                Asked::Elicit { .. } => capability::ELICITATION,
                Asked::Sample(_) => capability::SAMPLING,
                Asked::ListRoots => capability::ROOTS,
            };
            !session.declared(bit)
        })
        .map(|(_, asked)| (asked.capability().to_owned(), json!({})))
        .collect();
    (!missing.is_empty()).then_some(missing)
}

/// -32021 for a 2026-07-28 call of `tool` that needs `missing`.
fn missing_capability(tool: &str, missing: Map<String, Value>) -> RpcError {
    let names: Vec<&str> = missing.keys().map(String::as_str).collect();
    let mut error = RpcError::new(
        ErrorCode::MissingCapability,
        format!("`{tool}` needs the client capability `{}`, which the request did not declare", names.join("`, `")),
    );
    error.data = Some(json!({"requiredCapabilities": missing}));
    error
}

/// Sends an initialize-era client the requests of `ask` on the call's stream and waits for every
/// answer (all within [`INPUT_WAIT`]): the responses, keyed as asked, or why there are none.
/// Requests left unanswered when this returns (an error answer, the wait ran out, the call was
/// cancelled) are withdrawn: forgotten, and `notifications/cancelled` sent for each.
async fn ask_client(peer: &Peer, ask: &Ask) -> Result<Vec<(String, String)>, String> {
    let deadline = tokio::time::Instant::now() + INPUT_WAIT;
    let version = peer.session.protocol_version();
    let mut pending = Pending { peer, ids: Vec::with_capacity(ask.requests.len()) };
    let mut answers = Vec::with_capacity(ask.requests.len());
    // Every id first: a round is sent whole or not at all.
    for _ in &ask.requests {
        let (id, answer) = peer
            .session
            .expect_answer()
            .ok_or("the client cannot be asked: its session ended, or too many of its requests are unanswered")?;
        pending.ids.push(id);
        answers.push(answer);
    }
    for ((_, asked), id) in ask.requests.iter().zip(&pending.ids) {
        let id = RawValue::from_string(id.clone()).map_err(|e| e.to_string())?;
        let mut params = asked.params();
        // `mode` is new in 2025-11-25; older clients get the request as they know it.
        if version != Some("2025-11-25")
            && let Some(params) = params.as_object_mut()
        {
            params.remove("mode");
        }
        match tokio::time::timeout_at(deadline, peer.out.send(jsonrpc::request(&id, asked.method(), &params))).await {
            Ok(Ok(())) => {}
            Ok(Err(())) => {
                return Err("the client cannot be asked: it reads no stream for this call (an HTTP client must \
                            accept text/event-stream)"
                    .into());
            }
            Err(_) => return Err(format!("the client read nothing for {} s", INPUT_WAIT.as_secs())),
        }
    }
    let mut responses = Vec::with_capacity(answers.len());
    for (((key, asked), answer), id) in ask.requests.iter().zip(answers).zip(pending.ids.clone()) {
        let method = asked.method();
        let result = match tokio::time::timeout_at(deadline, answer).await {
            Ok(Ok(Ok(result))) => result,
            Ok(Ok(Err(error))) => return Err(format!("the client answered {method} ({key}) with an error: {error}")),
            Ok(Err(_)) => return Err("the client went away before it answered".into()),
            Err(_) => return Err(format!("the client did not answer {method} within {} s", INPUT_WAIT.as_secs())),
        };
        pending.ids.retain(|pending| *pending != id);
        responses.push((key.clone(), result));
    }
    Ok(responses)
}

/// The ids of requests sent to a client and not answered yet; dropping it withdraws them.
struct Pending<'a> {
    peer: &'a Peer,
    ids: Vec<String>,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            if self.peer.session.forget(&id)
                && let Ok(raw) = RawValue::from_string(id)
            {
                let params = json!({"requestId": raw, "reason": "the call no longer waits for this answer"});
                self.peer.out.notify(jsonrpc::notification("notifications/cancelled", &params));
            }
        }
    }
}
