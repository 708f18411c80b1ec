//! The reserved `_meta` fields of a request (`params._meta`): a 2026-07-28 request names its
//! protocol version, the client's capabilities and, optionally, the level of logs it wants there,
//! since there is no session to remember them. A request without a version is an initialize-era
//! one. [`RequestMeta::read`] costs one substring search unless the params name a reserved key.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::jsonrpc::RpcError;
use super::session::capability;

/// `_meta` key of the request's protocol version.
pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of the client's capabilities.
pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the least severe log level the client wants on this request's stream.
pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
/// Result `_meta` key of the server's identity.
pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// Notification `_meta` key naming the `subscriptions/listen` request it belongs to.
pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// The reserved fields of one request's `_meta`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RequestMeta {
    /// The protocol version the request is made in (2026-07-28 and later); `None`: an
    /// initialize-era request.
    pub protocol_version: Option<String>,
    /// The client's capabilities as [`capability`] bits, if it declared them.
    pub client_capabilities: Option<u8>,
    /// The log level the client wants on this request's stream.
    pub log_level: Option<String>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<Meta<'a>>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", default)]
    protocol_version: Option<String>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", borrow, default)]
    client_capabilities: Option<&'a RawValue>,
    #[serde(rename = "io.modelcontextprotocol/logLevel", default)]
    log_level: Option<String>,
}

#[derive(Deserialize)]
struct Capabilities {
    #[serde(default)]
    elicitation: Option<IgnoredAny>,
    #[serde(default)]
    sampling: Option<IgnoredAny>,
    #[serde(default)]
    roots: Option<IgnoredAny>,
}

impl RequestMeta {
    /// Reads the reserved `_meta` fields of `params`. Malformed reserved fields are -32602.
    pub fn read(params: Option<&RawValue>) -> Result<Self, RpcError> {
        let Some(params) = params else { return Ok(Self::default()) };
        // Initialize-era requests (the hot path of today's clients) carry no reserved key.
        if memchr::memmem::find(params.get().as_bytes(), b"\"io.modelcontextprotocol/").is_none() {
            return Ok(Self::default());
        }
        let bad = |e: serde_json::Error| RpcError::invalid_params(format!("invalid _meta: {e}"));
        let Params { meta } = serde_json::from_str(params.get()).map_err(bad)?;
        let Some(meta) = meta else { return Ok(Self::default()) };
        let client_capabilities = meta.client_capabilities.map(capability_bits).transpose()?;
        Ok(Self { protocol_version: meta.protocol_version, client_capabilities, log_level: meta.log_level })
    }
}

/// The [`capability`] bits of a client capabilities object (`initialize`'s `capabilities`, or
/// the `_meta` field); -32602 when it is not an object.
pub fn capability_bits(raw: &RawValue) -> Result<u8, RpcError> {
    let caps: Capabilities = serde_json::from_str(raw.get())
        .map_err(|e| RpcError::invalid_params(format!("invalid client capabilities: {e}")))?;
    let bit = |present: bool, bit: u8| if present { bit } else { 0 };
    Ok(bit(caps.elicitation.is_some(), capability::ELICITATION)
        | bit(caps.sampling.is_some(), capability::SAMPLING)
        | bit(caps.roots.is_some(), capability::ROOTS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RequestMeta, RpcError> {
        RequestMeta::read(Some(&RawValue::from_string(text.to_owned()).unwrap()))
    }

    #[test]
    fn initialize_era_params_have_no_version() {
        assert_eq!(read(r#"{"name":"t","_meta":{"progressToken":1}}"#).unwrap(), RequestMeta::default());
        assert_eq!(RequestMeta::read(None).unwrap(), RequestMeta::default());
        // The key inside the arguments, not in `_meta`, is not a version.
        let inside = read(r#"{"arguments":{"x":"\"io.modelcontextprotocol/protocolVersion\""}}"#).unwrap();
        assert_eq!(inside, RequestMeta::default());
    }

    #[test]
    fn reads_the_reserved_fields() {
        let meta = read(
            r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
                "io.modelcontextprotocol/clientCapabilities":{"elicitation":{},"roots":{"listChanged":true}},
                "io.modelcontextprotocol/logLevel":"info"}}"#,
        )
        .unwrap();
        assert_eq!(meta.protocol_version.as_deref(), Some("2026-07-28"));
        assert_eq!(meta.client_capabilities, Some(capability::ELICITATION | capability::ROOTS));
        assert_eq!(meta.log_level.as_deref(), Some("info"));
        let none = read(r#"{"_meta":{"io.modelcontextprotocol/clientCapabilities":{}}}"#).unwrap();
        assert_eq!(none.client_capabilities, Some(0));
        assert!(read(r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":7}}"#).is_err());
    }
}
