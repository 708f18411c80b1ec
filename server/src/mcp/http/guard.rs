//! Checks on an HTTP request before its message is dispatched: `Host` and `Origin` (DNS
//! rebinding: a browser page must not reach a loopback server through a name it controls),
//! content type and `Accept`, and for 2026-07-28 requests the headers that repeat the body
//! (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`), which must agree with it (-32020).

use std::borrow::Cow;

use base64::Engine as _;
use hyper::HeaderMap;
use hyper::header::{ACCEPT, CONTENT_TYPE, HOST, ORIGIN};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::mcp::jsonrpc::{ErrorCode, RpcError, borrowed_str};

/// Which `Host` and `Origin` values are accepted.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// Whether the server listens on a loopback address: then loopback names are accepted
    /// (`localhost`, `127.0.0.1`, `[::1]`, any port) and nothing else unless listed.
    pub loopback: bool,
    /// Extra accepted `Host` names (without port). Empty on a non-loopback bind: any host.
    pub hosts: Vec<String>,
    /// Accepted `Origin` values (`scheme://host[:port]`), besides loopback origins on a loopback
    /// bind. A request without `Origin` (not from a browser) is not checked.
    pub origins: Vec<String>,
}

/// The host part of `host[:port]` (brackets kept for IPv6), as given: compared ignoring case.
fn host_name(authority: &str) -> &str {
    let authority = authority.trim();
    if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { authority })
    }
}

fn is_loopback_name(host: &str) -> bool {
    const SUFFIX: &[u8] = b".localhost";
    ["localhost", "127.0.0.1", "[::1]"].iter().any(|name| host.eq_ignore_ascii_case(name))
        || host.len() > SUFFIX.len() && host.as_bytes()[host.len() - SUFFIX.len()..].eq_ignore_ascii_case(SUFFIX)
}

impl Allowed {
    /// `Ok` when the request's `Host` and `Origin` are acceptable; otherwise why not (403).
    pub fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        if let Some(host) = headers.get(HOST) {
            let name = host_name(host.to_str().map_err(|_| "the Host header is not text")?);
            let listed = self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name));
            let ok = if self.loopback { is_loopback_name(name) || listed } else { self.hosts.is_empty() || listed };
            if !ok {
                return Err(format!("Host {name:?} is not allowed"));
            }
        }
        if let Some(origin) = headers.get(ORIGIN) {
            let origin = origin.to_str().map_err(|_| "the Origin header is not text")?.trim();
            let listed = self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin));
            let loopback_origin = origin
                .split_once("://")
                .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && is_loopback_name(host_name(rest)));
            if !(listed || (self.loopback && loopback_origin)) {
                return Err(format!("Origin {origin:?} is not allowed"));
            }
        }
        Ok(())
    }
}

/// Whether the body is declared JSON (`application/json`, parameters allowed).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")))
}

/// What the client accepts: (`application/json`, `text/event-stream`). No `Accept` header, or
/// `*/*`, accepts both.
pub fn accepts(headers: &HeaderMap) -> (bool, bool) {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else { return (true, true) };
    let (mut json, mut sse) = (false, false);
    for kind in accept.split(',').map(|k| k.split(';').next().unwrap_or("").trim()) {
        let is = |name: &str| kind.eq_ignore_ascii_case(name);
        if is("*/*") {
            (json, sse) = (true, true);
        } else if is("application/*") || is("application/json") {
            json = true;
        } else if is("text/*") || is("text/event-stream") {
            sse = true;
        }
    }
    (json, sse)
}

/// A header's value as trimmed text; `None` when absent or not text.
pub fn text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn mismatch(message: String) -> RpcError {
    RpcError::new(ErrorCode::HeaderMismatch, message)
}

/// Checks `Mcp-Method` (and, for requests about one named thing, `Mcp-Name`) against the body.
pub fn check_method_headers(headers: &HeaderMap, method: &str, params: Option<&RawValue>) -> Result<(), RpcError> {
    match text(headers, "mcp-method") {
        None => return Err(mismatch("missing Mcp-Method header".into())),
        Some(header) if header != method => {
            return Err(mismatch(format!("Mcp-Method {header:?} does not match the body's method {method:?}")));
        }
        Some(_) => {}
    }
    let field = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        _ => return Ok(()),
    };
    #[derive(Deserialize)]
    struct Named<'a> {
        #[serde(borrow, default, deserialize_with = "borrowed_str")]
        name: Option<Cow<'a, str>>,
        #[serde(borrow, default, deserialize_with = "borrowed_str")]
        uri: Option<Cow<'a, str>>,
    }
    let named: Named = serde_json::from_str(params.map_or("{}", RawValue::get))
        .map_err(|e| RpcError::invalid_params(format!("invalid params: {e}")))?;
    let body = if field == "name" { named.name } else { named.uri };
    let Some(header) = text(headers, "mcp-name") else {
        return Err(mismatch("missing Mcp-Name header".into()));
    };
    let header = decode(header).ok_or_else(|| mismatch(format!("Mcp-Name {header:?} is not valid base64")))?;
    if body.as_deref() != Some(&*header) {
        return Err(mismatch(format!("Mcp-Name {header:?} does not match the body's {field}")));
    }
    Ok(())
}

/// A header value, decoded from `=?base64?...?=` when so wrapped; `None`: bad base64 or not UTF-8.
fn decode(value: &str) -> Option<Cow<'_, str>> {
    match value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
            String::from_utf8(bytes).ok().map(Cow::Owned)
        }
        None => Some(Cow::Borrowed(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn loopback_binds_take_loopback_names_only() {
        let allowed = Allowed { loopback: true, ..Allowed::default() };
        assert!(allowed.check(&headers(&[("host", "localhost:8080"), ("origin", "http://localhost:8080")])).is_ok());
        assert!(allowed.check(&headers(&[("host", "127.0.0.1:1"), ("origin", "http://[::1]:3000")])).is_ok());
        assert!(allowed.check(&headers(&[("host", "evil.example.com")])).is_err());
        assert!(allowed.check(&headers(&[("host", "localhost"), ("origin", "http://evil.example.com")])).is_err());
        assert!(allowed.check(&headers(&[("host", "[::1]:99")])).is_ok());
        assert!(allowed.check(&headers(&[("host", "LocalHost:1"), ("origin", "http://App.LOCALHOST:3")])).is_ok());
        assert!(allowed.check(&headers(&[("host", ".localhost")])).is_err());
        assert!(allowed.check(&headers(&[("host", "localhost.evil.example")])).is_err());
        let listed = Allowed { origins: vec!["https://ide.example".into()], ..allowed };
        assert!(listed.check(&headers(&[("origin", "https://ide.example")])).is_ok());
    }

    #[test]
    fn remote_binds_take_any_host_unless_listed_but_no_unlisted_origin() {
        let any = Allowed::default();
        assert!(any.check(&headers(&[("host", "mcp.example.com")])).is_ok());
        assert!(any.check(&headers(&[("origin", "http://localhost")])).is_err());
        let listed = Allowed { hosts: vec!["mcp.example.com".into()], ..Allowed::default() };
        assert!(listed.check(&headers(&[("host", "mcp.example.com:443")])).is_ok());
        assert!(listed.check(&headers(&[("host", "other.example.com")])).is_err());
    }

    #[test]
    fn accept_and_content_type() {
        assert_eq!(accepts(&headers(&[("accept", "application/json, text/event-stream")])), (true, true));
        assert_eq!(accepts(&headers(&[("accept", "text/event-stream")])), (false, true));
        assert_eq!(accepts(&headers(&[("accept", "text/html")])), (false, false));
        assert_eq!(accepts(&headers(&[("accept", "Application/JSON;q=0.9")])), (true, false));
        assert_eq!(accepts(&headers(&[("accept", "text/html, */*")])), (true, true));
        assert_eq!(accepts(&HeaderMap::new()), (true, true));
        assert!(is_json(&headers(&[("content-type", "application/json; charset=utf-8")])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
    }

    #[test]
    fn method_and_name_headers_must_match_the_body() {
        let params = RawValue::from_string(r#"{"name":"echo","arguments":{}}"#.into()).unwrap();
        let ok = headers(&[("mcp-method", "tools/call"), ("mcp-name", "  echo  ")]);
        assert!(check_method_headers(&ok, "tools/call", Some(&params)).is_ok());
        let b64 = headers(&[("mcp-method", "tools/call"), ("mcp-name", "=?base64?ZWNobw==?=")]);
        assert!(check_method_headers(&b64, "tools/call", Some(&params)).is_ok());
        for bad in [
            headers(&[("mcp-method", "TOOLS/CALL"), ("mcp-name", "echo")]),
            headers(&[("mcp-name", "echo")]),
            headers(&[("mcp-method", "tools/call")]),
            headers(&[("mcp-method", "tools/call"), ("mcp-name", "other")]),
            headers(&[("mcp-method", "tools/call"), ("mcp-name", "=?base64?ZWN!obw==?=")]),
        ] {
            let e = check_method_headers(&bad, "tools/call", Some(&params)).unwrap_err();
            assert_eq!(e.code, ErrorCode::HeaderMismatch);
        }
        assert!(check_method_headers(&headers(&[("mcp-method", "tools/list")]), "tools/list", None).is_ok());
    }
}
