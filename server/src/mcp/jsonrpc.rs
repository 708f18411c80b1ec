//! JSON-RPC 2.0 framing for MCP: classifying one incoming line, and writing responses,
//! errors and notifications as single lines. Every JSON-RPC error code the server uses is defined
//! here, and only here.
//!
//! Ids are kept as raw JSON text and echoed byte for byte. MCP allows string and integer ids;
//! anything else (null, fractions, objects) is an invalid request answered with id `null`.
//! Batches (JSON arrays) are answered with one `-32600` error rather than silence.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// Every JSON-RPC error code the server answers with, and its number: the one place where codes
/// are mapped to the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Invalid JSON was received (-32700).
    ParseError,
    /// The JSON sent is not a valid request object (-32600).
    InvalidRequest,
    /// The method does not exist or is not available (-32601).
    MethodNotFound,
    /// Invalid method parameters, also an unknown tool name (-32602).
    InvalidParams,
    /// Internal error (-32603).
    InternalError,
    /// MCP's "resource not found" (-32002; 2026-07-28 answers -32602 instead).
    ResourceNotFound,
    /// 2026-07-28: an HTTP header disagrees with the body (-32020).
    HeaderMismatch,
    /// 2026-07-28: the request needs a client capability it did not declare (-32021).
    MissingCapability,
    /// 2026-07-28: the request's protocol version is not one we speak (-32022).
    UnsupportedVersion,
}

impl ErrorCode {
    /// The number sent on the wire.
    pub const fn code(self) -> i64 {
        match self {
            Self::ParseError => -32700,
            Self::InvalidRequest => -32600,
            Self::MethodNotFound => -32601,
            Self::InvalidParams => -32602,
            Self::InternalError => -32603,
            Self::ResourceNotFound => -32002,
            Self::HeaderMismatch => -32020,
            Self::MissingCapability => -32021,
            Self::UnsupportedVersion => -32022,
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcError {
    /// What kind of error it is.
    pub code: ErrorCode,
    /// A message that says what was wrong.
    pub message: String,
    /// Extra detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }
    /// `-32602`.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParams, message)
    }
    /// `-32603`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, message)
    }
    /// MCP's "resource not found" for `uri` (the URI also in `data`).
    pub fn resource_not_found(uri: &str, message: impl Into<String>) -> Self {
        Self { code: ErrorCode::ResourceNotFound, message: message.into(), data: Some(serde_json::json!({"uri": uri})) }
    }
    /// `-32601` for `method`.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(ErrorCode::MethodNotFound, format!("method not found: {method}"))
    }
}

/// One classified incoming line.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// A request: must be answered.
    Request {
        /// The id, as raw JSON (a string or an integer).
        id: &'a RawValue,
        /// The method.
        method: Cow<'a, str>,
        /// The params, if any (not `null`).
        params: Option<&'a RawValue>,
    },
    /// A notification: never answered.
    Notification {
        /// The method.
        method: Cow<'a, str>,
        /// The params, if any.
        params: Option<&'a RawValue>,
    },
    /// A response to a request we sent (multi round-trip calls of initialize-era clients).
    Response {
        /// The id we gave the request, raw JSON.
        id: &'a RawValue,
        /// Its `result`, or its `error`.
        outcome: Result<&'a RawValue, &'a RawValue>,
    },
    /// Not a valid message: answer `error` with `id` (or `null` when it cannot be known).
    Invalid {
        /// The request's id, when it could be read.
        id: Option<Box<RawValue>>,
        /// What to answer.
        error: RpcError,
    },
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "borrowed_str")]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// An optional string borrowed from the line unless it has escapes. (serde borrows a `Cow<str>`
/// field only when it is not inside an `Option`: without this, every message's `jsonrpc` and
/// `method` were copied.) `null` reads as absent, as for a plain `Option`.
pub(super) fn borrowed_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct Text;
    impl<'de> serde::de::Visitor<'de> for Text {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string")
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
        fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(text)))
        }
        fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(text.to_owned())))
        }
        fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(text)))
        }
    }
    d.deserialize_option(Text)
}

/// Keeps an explicit `null` as `Some("null")`, so "id": null is told apart from no id.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// Whether a raw id is a string or an integer.
fn valid_id(id: &RawValue) -> bool {
    let text = id.get();
    match text.as_bytes().first() {
        Some(b'"') => true,
        Some(b'-' | b'0'..=b'9') => !text.contains(['.', 'e', 'E']),
        _ => false,
    }
}

/// Classifies one line (without its newline).
pub fn parse(line: &[u8]) -> Incoming<'_> {
    let env: Envelope = match serde_json::from_slice(line) {
        Ok(env) => env,
        Err(e) => return classify_unparsable(line, &e),
    };
    if env.jsonrpc.as_deref() != Some("2.0") {
        return invalid(env.id.filter(|id| valid_id(id)), "\"jsonrpc\" must be \"2.0\"");
    }
    if env.params.is_some_and(|p| !matches!(p.get().as_bytes().first(), Some(b'{' | b'['))) {
        return invalid(env.id.filter(|id| valid_id(id)), "\"params\" must be an object");
    }
    match (env.id, env.method) {
        (Some(id), Some(method)) if valid_id(id) => Incoming::Request { id, method, params: env.params },
        (Some(_), Some(_)) => invalid(None, "\"id\" must be a string or an integer"),
        (None, Some(method)) => Incoming::Notification { method, params: env.params },
        (Some(id), None) => match (env.result, env.error) {
            (Some(result), _) => Incoming::Response { id, outcome: Ok(result) },
            (None, Some(error)) => Incoming::Response { id, outcome: Err(error) },
            (None, None) => invalid(Some(id).filter(|id| valid_id(id)), "\"method\" is required"),
        },
        (None, None) => invalid(None, "\"method\" is required"),
    }
}

fn invalid(id: Option<&RawValue>, message: &str) -> Incoming<'static> {
    Incoming::Invalid {
        id: id.map(ToOwned::to_owned),
        error: RpcError::new(ErrorCode::InvalidRequest, format!("invalid request: {message}")),
    }
}

/// A line that is not a valid envelope: bad JSON (-32700), a batch, a non-object, or fields of
/// the wrong type (-32600, with the id when it can still be read).
fn classify_unparsable(line: &[u8], envelope_error: &serde_json::Error) -> Incoming<'static> {
    match serde_json::from_slice::<Value>(line) {
        Err(e) => {
            Incoming::Invalid { id: None, error: RpcError::new(ErrorCode::ParseError, format!("parse error: {e}")) }
        }
        Ok(Value::Array(_)) => Incoming::Invalid {
            id: None,
            error: RpcError::new(ErrorCode::InvalidRequest, "invalid request: JSON-RPC batches are not supported"),
        },
        Ok(Value::Object(obj)) => {
            let id = obj.get("id").and_then(|id| match id {
                Value::String(_) => serde_json::value::to_raw_value(id).ok(),
                Value::Number(n) if n.is_i64() || n.is_u64() => serde_json::value::to_raw_value(id).ok(),
                _ => None,
            });
            Incoming::Invalid {
                id,
                error: RpcError::new(ErrorCode::InvalidRequest, format!("invalid request: {envelope_error}")),
            }
        }
        Ok(_) => Incoming::Invalid {
            id: None,
            error: RpcError::new(ErrorCode::InvalidRequest, "invalid request: a message must be a JSON object"),
        },
    }
}

#[derive(Serialize)]
struct Success<'a, T: Serialize> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    result: T,
}

#[derive(Serialize)]
struct Failure<'a> {
    jsonrpc: &'static str,
    id: Option<&'a RawValue>,
    error: &'a RpcError,
}

#[derive(Serialize)]
struct Request<'a, T: Serialize> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    method: &'a str,
    params: T,
}

#[derive(Serialize)]
struct Notification<'a, T: Serialize> {
    jsonrpc: &'static str,
    method: &'a str,
    params: T,
}

/// Serialises one message followed by `\n`. Serialising our own types cannot fail; if it ever
/// did, the peer gets an internal error rather than a broken line.
fn line(message: &impl Serialize) -> Vec<u8> {
    line_with_capacity(message, 256)
}

/// [`line`] into a buffer of `capacity` bytes: a good guess saves the copies of growing it.
fn line_with_capacity(message: &impl Serialize, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    if serde_json::to_writer(&mut out, message).is_err() {
        out.clear();
        out.extend_from_slice(
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"internal error: unserialisable response"}}"#,
        );
    }
    out.push(b'\n');
    out
}

/// A success response line.
pub fn success(id: &RawValue, result: &impl Serialize) -> Vec<u8> {
    line(&Success { jsonrpc: "2.0", id, result })
}

/// A success response line whose result is expected to take about `result_len` bytes.
pub fn success_sized(id: &RawValue, result: &impl Serialize, result_len: usize) -> Vec<u8> {
    line_with_capacity(&Success { jsonrpc: "2.0", id, result }, result_len + id.get().len() + 40)
}

/// A success response line whose result is JSON text the server rendered itself (never a peer's
/// or a guest's: it is written as is).
pub fn success_rendered(id: &RawValue, result: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(result.len() + id.get().len() + 40);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id.get().as_bytes());
    out.extend_from_slice(br#","result":"#);
    out.extend_from_slice(result.as_bytes());
    out.extend_from_slice(b"}\n");
    out
}

/// An error response line (`id` `None` becomes `null`).
pub fn failure(id: Option<&RawValue>, error: &RpcError) -> Vec<u8> {
    line(&Failure { jsonrpc: "2.0", id, error })
}

/// A request line (we send requests only to initialize-era clients, in multi round-trip calls).
pub fn request(id: &RawValue, method: &str, params: &impl Serialize) -> Vec<u8> {
    line(&Request { jsonrpc: "2.0", id, method, params })
}

/// A notification line.
pub fn notification(method: &str, params: &impl Serialize) -> Vec<u8> {
    line(&Notification { jsonrpc: "2.0", method, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(line: &str) -> ErrorCode {
        match parse(line.as_bytes()) {
            Incoming::Invalid { error, .. } => error.code,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn classifies_requests_notifications_and_responses() {
        match parse(br#"{"jsonrpc":"2.0","id":"a-1","method":"ping"}"#) {
            Incoming::Request { id, method, params } => {
                assert_eq!(id.get(), r#""a-1""#);
                assert_eq!(method, "ping");
                assert!(params.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Incoming::Notification { .. }
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":3,"result":{}}"#),
            Incoming::Response { id, outcome: Ok(r) } if id.get() == "3" && r.get() == "{}"
        ));
    }

    #[test]
    fn rejects_bad_messages_with_the_right_code() {
        assert_eq!(code("{not json"), ErrorCode::ParseError);
        assert_eq!(code("\u{1}"), ErrorCode::ParseError);
        assert_eq!(code("[1,2]"), ErrorCode::InvalidRequest);
        assert_eq!(code("42"), ErrorCode::InvalidRequest);
        assert_eq!(code(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#), ErrorCode::InvalidRequest);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":7}"#), ErrorCode::InvalidRequest);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#), ErrorCode::InvalidRequest);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#), ErrorCode::InvalidRequest);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#), ErrorCode::InvalidRequest);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":3}"#), ErrorCode::InvalidRequest);
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1}"#), ErrorCode::InvalidRequest);
    }

    #[test]
    fn keeps_the_id_of_a_malformed_request_when_it_can() {
        match parse(br#"{"jsonrpc":"2.0","id":"x","method":7}"#) {
            Incoming::Invalid { id, .. } => assert_eq!(id.unwrap().get(), r#""x""#),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(code(&deep), ErrorCode::ParseError);
        // Deep params are skipped without recursion here; the method's own params parser (with
        // serde_json's recursion limit) rejects them with -32602.
        let n = 8_000_000;
        let deep_params = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"a":{}{}}}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        );
        assert!(matches!(parse(deep_params.as_bytes()), Incoming::Request { .. }));
    }

    #[test]
    fn ids_are_echoed_byte_for_byte() {
        let id = RawValue::from_string("\"é\\u00e9\"".into()).unwrap();
        let out = success(&id, &serde_json::json!({}));
        assert_eq!(std::str::from_utf8(&out).unwrap(), "{\"jsonrpc\":\"2.0\",\"id\":\"é\\u00e9\",\"result\":{}}\n");
        let out = failure(None, &RpcError::new(ErrorCode::ParseError, "x"));
        assert!(std::str::from_utf8(&out).unwrap().contains("\"id\":null"));
    }
}
