//! Typed MCP messages: every request method the server knows, with its params parsed, and the
//! notifications it acts on. [`Request::parse`] is the only place a method name is matched; the
//! dispatcher (`dispatch.rs`) routes the resulting enum.
//!
//! Params are borrowed from the incoming line where that saves a copy (`tools/call` is the hot
//! path: its arguments stay raw JSON text until the call checks them).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::jsonrpc::{RpcError, borrowed_str};

/// One MCP request, params parsed.
#[derive(Debug)]
pub enum Request<'a> {
    /// `initialize`: the version the client asks for, and what it can do.
    Initialize {
        /// `protocolVersion`, if given.
        protocol_version: Option<Cow<'a, str>>,
        /// The declared client capabilities, as `session::capability` bits.
        capabilities: u8,
    },
    /// `ping`.
    Ping,
    /// `logging/setLevel`.
    SetLogLevel {
        /// The level name (checked by the session).
        level: Cow<'a, str>,
    },
    /// `tools/list`.
    ListTools {
        /// The opaque cursor of the page after the first.
        cursor: Option<String>,
    },
    /// `tools/call`.
    CallTool(CallRequest<'a>),
    /// `resources/list`.
    ListResources,
    /// `resources/templates/list`.
    ListResourceTemplates,
    /// `resources/read`.
    ReadResource {
        /// The resource URI.
        uri: String,
        /// The answers to an earlier round of its call, if any.
        round: Option<RoundAnswers>,
    },
    /// `prompts/list`.
    ListPrompts,
    /// `prompts/get`.
    GetPrompt {
        /// The prompt's name.
        name: String,
        /// Its arguments.
        arguments: Option<Map<String, Value>>,
        /// The answers to an earlier round of its call, if any.
        round: Option<RoundAnswers>,
    },
    /// `completion/complete`.
    Complete(CompleteRequest),
    /// Any other method: answered with -32601.
    Unknown(Cow<'a, str>),
}

/// The parts of `tools/call` params the server needs.
#[derive(Debug)]
pub struct CallRequest<'a> {
    /// The tool name.
    pub name: Cow<'a, str>,
    /// The arguments object as JSON text (`{}` when absent), or why they are unusable (answered
    /// as an `isError` result, not a protocol error).
    pub arguments: Result<String, String>,
    /// `_meta.progressToken`, if it is a string or an integer.
    pub progress_token: Option<Value>,
    /// `inputResponses` and `requestState`: the client's answers to an earlier round of a
    /// multi round-trip call (`rounds.rs`), if it sent any.
    pub round: Option<RoundAnswers>,
}

/// What a client sends back after an `input_required` result: its responses, keyed as asked, and
/// the `requestState` it was given (not yet verified).
#[derive(Debug, Default, Clone)]
pub struct RoundAnswers {
    /// Key and result object, as JSON text.
    pub responses: Vec<(String, String)>,
    /// The sealed state, as sent.
    pub request_state: Option<String>,
}

/// `completion/complete` params.
#[derive(Debug, Deserialize)]
pub struct CompleteRequest {
    /// What is being completed.
    #[serde(rename = "ref")]
    pub reference: CompleteRef,
    /// The argument and its value so far.
    pub argument: CompleteArgument,
}

/// `completion/complete` `ref`.
#[derive(Debug, Deserialize)]
pub struct CompleteRef {
    /// `ref/prompt` or `ref/resource`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The prompt's name (`ref/prompt`).
    pub name: Option<String>,
    /// The resource URI (`ref/resource`).
    pub uri: Option<String>,
}

/// `completion/complete` `argument`.
#[derive(Debug, Deserialize)]
pub struct CompleteArgument {
    /// The argument's name.
    pub name: String,
    /// What the user typed so far.
    pub value: String,
}

/// A notification the server acts on.
#[derive(Debug)]
pub enum Notification<'a> {
    /// `notifications/cancelled`: the canonical id of the request to stop, if it could be read.
    Cancelled {
        /// `requestId` in canonical JSON text.
        request_id: Option<String>,
    },
    /// Anything else (`notifications/initialized`, ...): nothing to do.
    Other(Cow<'a, str>),
}

impl<'a> Request<'a> {
    /// Parses the params of `method`. Malformed params are -32602.
    pub fn parse(method: Cow<'a, str>, params: Option<&'a RawValue>) -> Result<Self, RpcError> {
        Ok(match &*method {
            "initialize" => {
                #[derive(Deserialize)]
                struct Init<'a> {
                    #[serde(rename = "protocolVersion", borrow, default, deserialize_with = "borrowed_str")]
                    protocol_version: Option<Cow<'a, str>>,
                    #[serde(borrow, default)]
                    capabilities: Option<&'a RawValue>,
                }
                let Init { protocol_version, capabilities } = parse_params(params)?;
                let capabilities = capabilities.map_or(Ok(0), super::meta::capability_bits)?;
                Self::Initialize { protocol_version, capabilities }
            }
            "ping" => Self::Ping,
            "logging/setLevel" => {
                #[derive(Deserialize)]
                struct SetLevel<'a> {
                    #[serde(borrow)]
                    level: Cow<'a, str>,
                }
                let SetLevel { level } = parse_params(params)?;
                Self::SetLogLevel { level }
            }
            "tools/list" => {
                #[derive(Deserialize)]
                struct List {
                    cursor: Option<String>,
                }
                let List { cursor } = parse_params(params)?;
                Self::ListTools { cursor }
            }
            "tools/call" => Self::CallTool(parse_call_params(params)?),
            "resources/list" => Self::ListResources,
            "resources/templates/list" => Self::ListResourceTemplates,
            "resources/read" => {
                #[derive(Deserialize)]
                struct Read<'a> {
                    uri: String,
                    #[serde(rename = "inputResponses", borrow, default)]
                    input_responses: Option<&'a RawValue>,
                    #[serde(rename = "requestState", default)]
                    request_state: Option<String>,
                }
                let Read { uri, input_responses, request_state } = parse_params(params)?;
                Self::ReadResource { uri, round: round_answers(input_responses, request_state)? }
            }
            "prompts/list" => Self::ListPrompts,
            "prompts/get" => {
                #[derive(Deserialize)]
                struct Get<'a> {
                    name: String,
                    arguments: Option<Map<String, Value>>,
                    #[serde(rename = "inputResponses", borrow, default)]
                    input_responses: Option<&'a RawValue>,
                    #[serde(rename = "requestState", default)]
                    request_state: Option<String>,
                }
                let Get { name, arguments, input_responses, request_state } = parse_params(params)?;
                Self::GetPrompt { name, arguments, round: round_answers(input_responses, request_state)? }
            }
            "completion/complete" => Self::Complete(parse_params(params)?),
            _ => Self::Unknown(method),
        })
    }
}

impl<'a> Notification<'a> {
    /// Classifies a notification; never fails (a malformed notification is ignored).
    pub fn parse(method: Cow<'a, str>, params: Option<&'a RawValue>) -> Self {
        if method != "notifications/cancelled" {
            return Self::Other(method);
        }
        let request_id = params
            .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
            .and_then(|p| p.get("requestId").map(Value::to_string));
        Self::Cancelled { request_id }
    }
}

#[derive(Deserialize)]
struct CallParams<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
    #[serde(rename = "_meta", default)]
    meta: Option<RequestMeta>,
    #[serde(rename = "inputResponses", borrow, default)]
    input_responses: Option<&'a RawValue>,
    #[serde(rename = "requestState", default)]
    request_state: Option<String>,
}

/// `inputResponses` and `requestState` (as `tools/call`, `prompts/get` and `resources/read` may
/// carry them): the answers, if any were sent; malformed `inputResponses` are -32602.
fn round_answers(
    input_responses: Option<&RawValue>,
    request_state: Option<String>,
) -> Result<Option<RoundAnswers>, RpcError> {
    let responses = match input_responses {
        Some(raw) if raw.get() != "null" => parse_input_responses(raw)?,
        _ => Vec::new(),
    };
    let answered = !responses.is_empty() || request_state.is_some();
    Ok(answered.then_some(RoundAnswers { responses, request_state }))
}

#[derive(Deserialize)]
struct RequestMeta {
    #[serde(rename = "progressToken", default)]
    progress_token: Option<Value>,
}

/// Parses `tools/call` params (the JSON-arguments path, fuzzed by `fuzz/fuzz_targets/call_path.rs`).
pub fn parse_call_params(raw_params: Option<&RawValue>) -> Result<CallRequest<'_>, RpcError> {
    let p: CallParams = parse_params(raw_params)?;
    let arguments = match p.arguments {
        None => Ok("{}".to_owned()),
        Some(raw) if raw.get() == "null" => Ok("{}".to_owned()),
        Some(raw) if raw.get().starts_with('{') => Ok(raw.get().to_owned()),
        Some(_) => Err(format!("invalid arguments for `{}`: `arguments` must be a JSON object", p.name)),
    };
    let progress_token = p.meta.and_then(|m| m.progress_token).filter(|t| t.is_string() || t.is_i64() || t.is_u64());
    let round = round_answers(p.input_responses, p.request_state)?;
    Ok(CallRequest { name: p.name, arguments, progress_token, round })
}

/// Most `inputResponses` one request may carry (a round asks at most 16 things; extra keys are
/// allowed and ignored by the tool, within reason).
pub const MAX_INPUT_RESPONSES: usize = 64;

/// `inputResponses`: an object whose values are result objects. Anything else is -32602.
fn parse_input_responses(raw: &RawValue) -> Result<Vec<(String, String)>, RpcError> {
    let malformed = || RpcError::invalid_params("inputResponses must be an object whose values are result objects");
    let map: std::collections::BTreeMap<String, &RawValue> =
        serde_json::from_str(raw.get()).map_err(|_| malformed())?;
    if map.len() > MAX_INPUT_RESPONSES {
        return Err(RpcError::invalid_params(format!(
            "inputResponses has {} keys: at most {MAX_INPUT_RESPONSES}",
            map.len()
        )));
    }
    map.into_iter()
        .map(
            |(key, value)| {
                if value.get().starts_with('{') { Ok((key, value.get().to_owned())) } else { Err(malformed()) }
            },
        )
        .collect()
}

/// Deserialises params (absent params read as `{}`); failures are -32602.
fn parse_params<'a, T: Deserialize<'a>>(params: Option<&'a RawValue>) -> Result<T, RpcError> {
    let text = params.map_or("{}", RawValue::get);
    serde_json::from_str(text).map_err(|e| RpcError::invalid_params(format!("invalid params: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc::ErrorCode;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn known_methods_parse_and_unknown_ones_are_kept() {
        let p = raw(r#"{"name":"t","arguments":{"a":1},"_meta":{"progressToken":7}}"#);
        let Request::CallTool(call) = Request::parse("tools/call".into(), Some(&p)).unwrap() else { panic!() };
        assert_eq!((call.name.as_ref(), call.arguments.as_deref()), ("t", Ok(r#"{"a":1}"#)));
        assert_eq!(call.progress_token, Some(Value::from(7)));
        assert!(call.round.is_none());
        assert!(matches!(Request::parse("ping".into(), None), Ok(Request::Ping)));
        assert!(matches!(Request::parse("tools/list".into(), None), Ok(Request::ListTools { cursor: None })));
        assert!(matches!(Request::parse("nope/nope".into(), None), Ok(Request::Unknown(m)) if m == "nope/nope"));
    }

    #[test]
    fn input_responses_and_request_state_are_read() {
        let p = raw(r#"{"name":"t","inputResponses":{"b":{"action":"accept"},"a":{"roots":[]}},"requestState":"s"}"#);
        let Request::CallTool(call) = Request::parse("tools/call".into(), Some(&p)).unwrap() else { panic!() };
        let round = call.round.unwrap();
        assert_eq!(round.request_state.as_deref(), Some("s"));
        assert_eq!(round.responses[0], ("a".into(), r#"{"roots":[]}"#.into()));
        let p = raw(r#"{"name":"t","inputResponses":null}"#);
        let Request::CallTool(call) = Request::parse("tools/call".into(), Some(&p)).unwrap() else { panic!() };
        assert!(call.round.is_none());
        for bad in [r#"{"name":"t","inputResponses":{"a":12345}}"#, r#"{"name":"t","inputResponses":[1]}"#] {
            let error = Request::parse("tools/call".into(), Some(&raw(bad))).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidParams);
        }
    }

    #[test]
    fn bad_params_are_invalid_params() {
        let p = raw(r#"{"arguments":{}}"#);
        assert_eq!(Request::parse("tools/call".into(), Some(&p)).unwrap_err().code, ErrorCode::InvalidParams);
        let p = raw(r#"{"level":3}"#);
        assert_eq!(Request::parse("logging/setLevel".into(), Some(&p)).unwrap_err().code, ErrorCode::InvalidParams);
        let p = raw(r#"{"name":"t","arguments":[1]}"#);
        let Request::CallTool(call) = Request::parse("tools/call".into(), Some(&p)).unwrap() else { panic!() };
        assert!(call.arguments.unwrap_err().contains("must be a JSON object"));
    }

    #[test]
    fn cancellation_reads_the_request_id() {
        let p = raw(r#"{"requestId":"a"}"#);
        let n = Notification::parse("notifications/cancelled".into(), Some(&p));
        assert!(matches!(n, Notification::Cancelled { request_id: Some(id) } if id == r#""a""#));
        assert!(matches!(Notification::parse("notifications/initialized".into(), None), Notification::Other(_)));
    }
}
