//! What the stateless 2026-07-28 revision adds to an answer: `server/discover`, the checks of a
//! request's reserved `_meta` (the dispatcher runs them before routing), the methods the revision
//! removed, `subscriptions/listen` filters, and [`shape`], which gives every result line its
//! `resultType`, its server identity in `_meta` and, for cacheable results, `ttlMs` and
//! `cacheScope`. Tools never see any of this.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::jsonrpc::{ErrorCode, RpcError};
use super::meta::{self, RequestMeta};
use super::protocol;
use super::session::Session;

/// Methods the revision removed (no sessions, no server-side log level, no resource
/// subscriptions): answered with -32601, as unknown methods are.
pub const REMOVED_METHODS: &[&str] =
    &["initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"];

/// The session of a 2026-07-28 request, from its `_meta`: -32602 when a required field is
/// missing or malformed, -32022 (with the versions we speak) for a version we do not.
pub fn session_of(meta: &RequestMeta) -> Result<Session, RpcError> {
    let Some(requested) = meta.protocol_version.as_deref() else {
        return Err(RpcError::invalid_params(format!("missing _meta \"{}\"", meta::PROTOCOL_VERSION)));
    };
    let Some(&version) = protocol::MODERN_VERSIONS.iter().find(|v| **v == requested) else {
        return Err(unsupported_version(requested));
    };
    let Some(capabilities) = meta.client_capabilities else {
        return Err(RpcError::invalid_params(format!("missing _meta \"{}\"", meta::CLIENT_CAPABILITIES)));
    };
    Session::per_request(version, meta.log_level.as_deref(), capabilities)
}

/// -32022 for `requested`, listing the stateless versions we speak.
pub fn unsupported_version(requested: &str) -> RpcError {
    RpcError {
        code: ErrorCode::UnsupportedVersion,
        message: format!("unsupported protocol version {requested:?}"),
        data: Some(json!({"supported": protocol::MODERN_VERSIONS, "requested": requested})),
    }
}

/// The `server/discover` result (before [`shape`]).
pub fn discover_result() -> Value {
    json!({
        "supportedVersions": protocol::ALL_VERSIONS,
        "capabilities": protocol::capabilities(),
        "instructions": protocol::INSTRUCTIONS,
    })
}

/// How a result line is completed.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// `ttlMs` for a cacheable result (lists, reads, discovery); `None`: not cacheable.
    pub ttl: Option<Duration>,
}

/// Completes one answer line to request `id` for a 2026-07-28 client: a success gets
/// `resultType`, `_meta` with our identity and, if cacheable, `ttlMs` and `cacheScope`
/// (`public`: every client gets the same lists); an MCP "resource not found" error becomes the
/// revision's -32602.
pub fn shape(mut line: Vec<u8>, id: &RawValue, shape: Shape) -> Vec<u8> {
    let head = br#"{"jsonrpc":"2.0","id":"#.len() + id.get().len();
    let rest = &line[head.min(line.len())..];
    if rest.starts_with(br#","result":{"#) {
        let at = head + br#","result":{"#.len();
        let empty = line.get(at) == Some(&b'}');
        let mut fields = String::with_capacity(160);
        // An `input_required` result (`rounds.rs`) names its own type, and is not cacheable.
        let complete = !line[at..].starts_with(br#""resultType":"#);
        if complete {
            fields.push_str(r#""resultType":"complete","#);
        }
        if let Some(ttl) = shape.ttl.filter(|_| complete) {
            let _ = write!(fields, r#""ttlMs":{},"cacheScope":"public","#, ttl.as_millis());
        }
        let _ = write!(
            fields,
            r#""_meta":{{"{}":{{"name":"{}","version":"{}"}}}}"#,
            meta::SERVER_INFO,
            crate::about::SERVER_NAME,
            crate::about::SERVER_VERSION
        );
        if !empty {
            fields.push(',');
        }
        line.splice(at..at, fields.into_bytes());
    } else if rest.starts_with(br#","error":{"code":-32002,"#) {
        let at = head + br#","error":{"code":"#.len();
        line.splice(at..at + "-32002".len(), b"-32602".iter().copied());
    }
    line
}

/// Which list changes a `subscriptions/listen` request asks for (bits of [`kind`]).
pub fn listen_filter(params: Option<&RawValue>) -> Result<(u8, Value), RpcError> {
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Filter {
        #[serde(default)]
        tools_list_changed: bool,
        #[serde(default)]
        prompts_list_changed: bool,
        #[serde(default)]
        resources_list_changed: bool,
    }
    #[derive(Deserialize)]
    struct Params {
        #[serde(default)]
        notifications: Option<Filter>,
    }
    let Params { notifications } = serde_json::from_str(params.map_or("{}", RawValue::get))
        .map_err(|e| RpcError::invalid_params(format!("invalid params: {e}")))?;
    let filter = notifications.unwrap_or_default();
    let mut kinds = 0;
    let mut honoured = serde_json::Map::new();
    for (wanted, bit, name) in [
        (filter.tools_list_changed, kind::TOOLS, "toolsListChanged"),
        (filter.prompts_list_changed, kind::PROMPTS, "promptsListChanged"),
        (filter.resources_list_changed, kind::RESOURCES, "resourcesListChanged"),
    ] {
        if wanted {
            kinds |= bit;
            honoured.insert(name.into(), Value::Bool(true));
        }
    }
    Ok((kinds, Value::Object(honoured)))
}

/// Kinds of list change a listener takes, as bits.
pub mod kind {
    /// `notifications/tools/list_changed`.
    pub const TOOLS: u8 = 1;
    /// `notifications/prompts/list_changed`.
    pub const PROMPTS: u8 = 2;
    /// `notifications/resources/list_changed`.
    pub const RESOURCES: u8 = 4;
    /// All of them (an initialize-era client's stream).
    pub const ALL: u8 = TOOLS | PROMPTS | RESOURCES;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::jsonrpc;

    fn id(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn results_get_their_type_identity_and_cache_hints() {
        let id = id("7");
        let line =
            shape(jsonrpc::success(&id, &json!({"tools": []})), &id, Shape { ttl: Some(Duration::from_secs(3)) });
        let v: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["result"]["resultType"], "complete");
        assert_eq!(v["result"]["ttlMs"], 3000);
        assert_eq!(v["result"]["cacheScope"], "public");
        assert_eq!(v["result"]["tools"], json!([]));
        assert_eq!(v["result"]["_meta"][meta::SERVER_INFO]["name"], crate::about::SERVER_NAME);
        let empty = shape(jsonrpc::success(&id, &json!({})), &id, Shape { ttl: None });
        let v: Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(v["result"]["resultType"], "complete");
        assert!(v["result"].get("ttlMs").is_none());
        assert!(empty.ends_with(b"}\n"));
    }

    #[test]
    fn resource_not_found_becomes_invalid_params_and_other_errors_stay() {
        let id = id(r#""r""#);
        let error = RpcError::new(ErrorCode::ResourceNotFound, "resource not found: x");
        let v: Value =
            serde_json::from_slice(&shape(jsonrpc::failure(Some(&id), &error), &id, Shape { ttl: None })).unwrap();
        assert_eq!(v["error"]["code"], -32602);
        let other = jsonrpc::failure(Some(&id), &RpcError::internal("x"));
        assert_eq!(shape(other.clone(), &id, Shape { ttl: None }), other);
    }

    #[test]
    fn meta_checks_in_the_order_the_revision_gives() {
        let meta = |v: Option<&str>, caps: Option<u8>| RequestMeta {
            protocol_version: v.map(str::to_owned),
            client_capabilities: caps,
            log_level: None,
        };
        assert_eq!(session_of(&meta(None, Some(0))).unwrap_err().code, ErrorCode::InvalidParams);
        let unsupported = session_of(&meta(Some("v999"), Some(0))).unwrap_err();
        assert_eq!(unsupported.code, ErrorCode::UnsupportedVersion);
        assert_eq!(unsupported.data.unwrap()["requested"], "v999");
        assert_eq!(session_of(&meta(Some("2026-07-28"), None)).unwrap_err().code, ErrorCode::InvalidParams);
        assert_eq!(session_of(&meta(Some("2026-07-28"), Some(0))).unwrap().protocol_version(), Some("2026-07-28"));
    }

    #[test]
    fn a_listen_filter_keeps_what_we_can_honour() {
        let p = id(r#"{"notifications":{"toolsListChanged":true,"resourceSubscriptions":["x"]}}"#);
        let (kinds, honoured) = listen_filter(Some(&p)).unwrap();
        assert_eq!(kinds, kind::TOOLS);
        assert_eq!(honoured, json!({"toolsListChanged": true}));
    }
}
