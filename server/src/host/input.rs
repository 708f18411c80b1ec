//! `input`: multi round-trip calls. A call's [`Exchange`] holds what the client sent with it
//! (responses to an earlier round, the state the tool kept, which kinds of request the client can
//! answer) and takes what the tool asks for now. The MCP layer builds the exchange and reads what
//! was asked after the call (`mcp/rounds.rs`); this module checks each request when the tool makes
//! it (keys, counts, sizes, the shape of schemas and sampling params), so nothing malformed or
//! unbounded reaches the client, and a bad request is the tool's own error.

use std::sync::Mutex;

use serde_json::Value;
use wasmtime::component::{HasData, Linker};

use super::ServerHooks;
use crate::bindings::ide_agents::tool::input::{self, ClientSupport, Host, InputRequest, KeyedRequest, Response};

/// Requests one round may make.
pub const MAX_REQUESTS: usize = 16;
/// Largest `state`, bytes.
pub const MAX_STATE_BYTES: usize = 16 << 10;
/// Largest key, bytes.
pub const MAX_KEY_BYTES: usize = 64;
/// Largest question message or requested schema, bytes.
const MAX_QUESTION_BYTES: usize = 16 << 10;
/// Largest sampling params, bytes.
const MAX_SAMPLE_BYTES: usize = 256 << 10;

/// One request a tool made, checked: what the client will be asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Asked {
    /// `elicitation/create` in form mode.
    Elicit {
        /// Shown to the user.
        message: String,
        /// The answer's schema.
        requested_schema: Value,
    },
    /// `sampling/createMessage` with these params.
    Sample(Value),
    /// `roots/list`.
    ListRoots,
}

impl Asked {
    /// The MCP method that asks it.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Elicit { .. } => "elicitation/create",
            Self::Sample(_) => "sampling/createMessage",
            Self::ListRoots => "roots/list",
        }
    }

    /// The method's params.
    pub fn params(&self) -> Value {
        match self {
            Self::Elicit { message, requested_schema } => {
                serde_json::json!({"mode": "form", "message": message, "requestedSchema": requested_schema})
            }
            Self::Sample(params) => params.clone(),
            Self::ListRoots => serde_json::json!({}),
        }
    }

    /// The client capability it needs (`elicitation`, `sampling`, `roots`).
    pub fn capability(&self) -> &'static str {
        match self {
            Self::Elicit { .. } => "elicitation",
            Self::Sample(_) => "sampling",
            Self::ListRoots => "roots",
        }
    }
}

/// What a tool asked for in one call: keyed requests and the state to get back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ask {
    /// The requests, in the order made; keys are unique.
    pub requests: Vec<(String, Asked)>,
    /// What the tool keeps for the next round.
    pub state: Option<String>,
}

/// One call's side of a multi round-trip exchange.
#[derive(Debug, Default)]
pub struct Exchange {
    /// The client's responses sent with this call: key and result as JSON text.
    pub responses: Vec<(String, String)>,
    /// The state the tool kept in the previous round (already verified).
    pub state: Option<String>,
    /// What the client can answer.
    pub support: Support,
    asked: Mutex<Option<Ask>>,
}

/// The kinds of request a client declared it can answer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Support {
    /// `elicitation`.
    pub elicit: bool,
    /// `sampling`.
    pub sample: bool,
    /// `roots`.
    pub list_roots: bool,
}

impl Exchange {
    /// The exchange of a call that came with `responses` and its tool's `state`, from a client
    /// that can answer `support`.
    pub fn new(responses: Vec<(String, String)>, state: Option<String>, support: Support) -> Self {
        Self { responses, state, support, asked: Mutex::new(None) }
    }

    /// What the tool asked for, if anything (taken: a second read finds nothing).
    pub fn take_asked(&self) -> Option<Ask> {
        self.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }

    fn set_asked(&self, ask: Ask) {
        *self.asked.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(ask);
    }
}

/// What `input` sees of a call: the server's hooks, which hold the call's exchange (if it has one:
/// calls for a client do, tool discovery does not).
pub struct InputView<'a> {
    pub(super) hooks: &'a dyn ServerHooks,
}

struct HasInput;

impl HasData for HasInput {
    type Data<'a> = InputView<'a>;
}

/// Links `input` into `linker`, reaching each store's exchange through `view`.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> InputView<'_>,
) -> wasmtime::Result<()> {
    input::add_to_linker::<T, HasInput>(linker, view)
}

impl Host for InputView<'_> {
    async fn responses(&mut self) -> Vec<Response> {
        let Some(exchange) = self.hooks.input() else { return Vec::new() };
        exchange.responses.iter().map(|(key, result)| Response { key: key.clone(), answer: result.clone() }).collect()
    }

    async fn state(&mut self) -> Option<String> {
        self.hooks.input()?.state.clone()
    }

    async fn supported(&mut self) -> ClientSupport {
        let support = self.hooks.input().map(|e| e.support).unwrap_or_default();
        ClientSupport { elicit: support.elicit, sample: support.sample, list_roots: support.list_roots }
    }

    async fn request(&mut self, requests: Vec<KeyedRequest>, state: Option<String>) -> Result<(), String> {
        let exchange = self
            .hooks
            .input()
            .ok_or_else(|| "this call cannot ask for input: it has no client (tool discovery)".to_owned())?;
        exchange.set_asked(check(requests, state)?);
        Ok(())
    }
}

/// Checks a round's requests: counts, keys, sizes and shapes.
pub fn check(requests: Vec<KeyedRequest>, state: Option<String>) -> Result<Ask, String> {
    if requests.is_empty() {
        return Err("no requests: ask for at least one".into());
    }
    if requests.len() > MAX_REQUESTS {
        return Err(format!("{} requests: at most {MAX_REQUESTS} in one round", requests.len()));
    }
    if let Some(state) = &state
        && state.len() > MAX_STATE_BYTES
    {
        return Err(format!("state of {} bytes: at most {MAX_STATE_BYTES}", state.len()));
    }
    let mut checked: Vec<(String, Asked)> = Vec::with_capacity(requests.len());
    for KeyedRequest { key, request } in requests {
        check_key(&key)?;
        if checked.iter().any(|(k, _)| *k == key) {
            return Err(format!("key {key:?} is used twice"));
        }
        let asked = match request {
            InputRequest::Elicit(question) => {
                if question.message.len() + question.requested_schema.len() > MAX_QUESTION_BYTES {
                    return Err(format!("request {key:?}: the question is over {MAX_QUESTION_BYTES} bytes"));
                }
                let schema = check_requested_schema(&question.requested_schema)
                    .map_err(|e| format!("request {key:?}: requested-schema {e}"))?;
                Asked::Elicit { message: question.message, requested_schema: schema }
            }
            InputRequest::Sample(params) => {
                if params.len() > MAX_SAMPLE_BYTES {
                    return Err(format!("request {key:?}: sampling params over {MAX_SAMPLE_BYTES} bytes"));
                }
                Asked::Sample(check_sample(&params).map_err(|e| format!("request {key:?}: sampling params {e}"))?)
            }
            InputRequest::ListRoots => Asked::ListRoots,
        };
        checked.push((key, asked));
    }
    Ok(Ask { requests: checked, state })
}

fn check_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY_BYTES
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok { Ok(()) } else { Err(format!("key {key:?} is not [A-Za-z0-9_.-]{{1,{MAX_KEY_BYTES}}}")) }
}

/// An elicitation schema: an object whose properties are primitives (MCP restricts
/// `requestedSchema` to a flat object so any client can render it as a form).
fn check_requested_schema(text: &str) -> Result<Value, String> {
    let schema: Value = serde_json::from_str(text).map_err(|e| format!("is not JSON: {e}"))?;
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(r#"must be {"type": "object", ...}"#.into());
    }
    let properties =
        schema.get("properties").and_then(Value::as_object).ok_or("must have an object of \"properties\"")?;
    for (name, property) in properties {
        let kind = property.get("type").and_then(Value::as_str);
        let primitive = matches!(kind, Some("string" | "number" | "integer" | "boolean"))
            || (kind == Some("array") && property.get("items").is_some_and(Value::is_object));
        if !primitive {
            return Err(format!(
                "property {name:?} must be a string, number, integer, boolean or an array of enum values"
            ));
        }
    }
    if let Some(required) = schema.get("required")
        && !required
            .as_array()
            .is_some_and(|r| r.iter().all(|n| n.as_str().is_some_and(|n| properties.contains_key(n))))
    {
        return Err("\"required\" must list property names".into());
    }
    Ok(schema)
}

/// `sampling/createMessage` params: an object with `messages` and `maxTokens`.
fn check_sample(text: &str) -> Result<Value, String> {
    let params: Value = serde_json::from_str(text).map_err(|e| format!("are not JSON: {e}"))?;
    if !params.get("messages").is_some_and(Value::is_array) {
        return Err("need an array of \"messages\"".into());
    }
    if !params.get("maxTokens").is_some_and(Value::is_u64) {
        return Err("need an integer \"maxTokens\"".into());
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ide_agents::tool::input::Question;

    fn elicit(key: &str, schema: &str) -> KeyedRequest {
        KeyedRequest {
            key: key.into(),
            request: InputRequest::Elicit(Question { message: "Name?".into(), requested_schema: schema.into() }),
        }
    }

    const NAME: &str = r#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#;

    #[test]
    fn good_requests_pass_and_keep_their_order() {
        let sample =
            KeyedRequest { key: "s".into(), request: InputRequest::Sample(r#"{"messages":[],"maxTokens":10}"#.into()) };
        let ask = check(
            vec![elicit("a", NAME), sample, KeyedRequest { key: "r".into(), request: InputRequest::ListRoots }],
            Some("st".into()),
        )
        .unwrap();
        let methods: Vec<_> = ask.requests.iter().map(|(k, a)| (k.as_str(), a.method())).collect();
        assert_eq!(methods, [("a", "elicitation/create"), ("s", "sampling/createMessage"), ("r", "roots/list")]);
        assert_eq!(ask.state.as_deref(), Some("st"));
    }

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        let refused = |requests: Vec<KeyedRequest>| check(requests, None).unwrap_err();
        assert!(refused(vec![]).contains("at least one"));
        assert!(refused(vec![elicit("a", NAME), elicit("a", NAME)]).contains("twice"));
        assert!(refused(vec![elicit("bad key", NAME)]).contains("is not"));
        assert!(refused(vec![elicit("a", "{")]).contains("not JSON"));
        assert!(refused(vec![elicit("a", r#"{"type":"array"}"#)]).contains("type"));
        let nested = r#"{"type":"object","properties":{"o":{"type":"object"}}}"#;
        assert!(refused(vec![elicit("a", nested)]).contains("property \"o\""));
        let unknown = r#"{"type":"object","properties":{},"required":["x"]}"#;
        assert!(refused(vec![elicit("a", unknown)]).contains("required"));
        let sample = KeyedRequest { key: "s".into(), request: InputRequest::Sample("{}".into()) };
        assert!(refused(vec![sample]).contains("messages"));
        let many = (0..=MAX_REQUESTS).map(|i| elicit(&format!("k{i}"), NAME)).collect();
        assert!(refused(many).contains("at most"));
        let state = "x".repeat(MAX_STATE_BYTES + 1);
        assert!(check(vec![elicit("a", NAME)], Some(state)).unwrap_err().contains("state"));
    }
}
