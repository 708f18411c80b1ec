//! Outbound HTTP through the host's pooled client (the WIT `http` interface): a [`Request`]
//! builder (headers, bearer token, JSON body, time limit), [`Response`] helpers, a readable
//! [`SendError`], and [`encode`] for putting values into URLs.
//!
//! The host only lets a tool reach the origins its configuration allows, follows redirects and
//! caps body sizes; see `wit/http.wit`.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::ide_agents::tool::http as wit;
pub use crate::bindings::ide_agents::tool::http::Response;

/// One request, sent with [`Request::send`].
#[derive(Debug, Clone)]
pub struct Request(wit::Request);

impl Request {
    /// A request with `method` (`GET`, `POST`, ...) for the absolute `url`.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Self(wit::Request { method: method.into(), url: url.into(), headers: Vec::new(), body: None, timeout_ms: None })
    }

    /// A `GET` of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` to `url` (add a body with [`Request::json`]).
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `authorization: Bearer <token>` if there is a token (such as
    /// `config::secret("token")`; the host keeps secrets out of logs).
    #[must_use]
    pub fn bearer(self, token: Option<&str>) -> Self {
        match token {
            Some(token) => self.header("authorization", format!("Bearer {token}")),
            None => self,
        }
    }

    /// Sets `body`, serialised as JSON, with `content-type: application/json`.
    ///
    /// # Panics
    ///
    /// If `body` cannot be serialised (a map with non-string keys): a bug in the tool.
    #[must_use]
    pub fn json(mut self, body: &impl Serialize) -> Self {
        self.0.body = Some(serde_json::to_vec(body).expect("the request body serialises as JSON"));
        self.header("content-type", "application/json")
    }

    /// Limits the whole exchange to `ms` milliseconds (the host also caps it at the call's
    /// remaining time and its configured maximum).
    #[must_use]
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.0.timeout_ms = Some(ms);
        self
    }

    /// Sends the request and waits for the response (after redirects), whatever its status.
    pub fn send(&self) -> Result<Response, SendError> {
        wit::send(&self.0).map_err(SendError)
    }

    /// The method and URL, e.g. for error messages: `GET https://...`.
    pub fn target(&self) -> String {
        format!("{} {}", self.0.method, self.0.url)
    }
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The first `max` characters of the body as text (lossy UTF-8), for error messages.
    pub fn text_prefix(&self, max: usize) -> String {
        String::from_utf8_lossy(&self.body).chars().take(max).collect()
    }
}

/// Why a request got no response, displayed for people (`timed out`, `connection failed: ...`).
#[derive(Debug, Clone)]
pub struct SendError(pub wit::Error);

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            wit::Error::Denied(m) => write!(f, "denied: {m}"),
            wit::Error::Timeout => f.write_str("timed out"),
            wit::Error::TooLarge(n) => write!(f, "response larger than {n} bytes"),
            wit::Error::ConnectFailed(m) => write!(f, "connection failed: {m}"),
            wit::Error::BadUrl(m) => write!(f, "bad URL: {m}"),
            wit::Error::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SendError {}

/// Percent-encodes `s` for a URL path segment or query value: every byte but the unreserved
/// `A-Z a-z 0-9 - _ . ~` becomes `%XX`.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_keeps_unreserved_bytes_only() {
        assert_eq!(encode("octo-cat_1.2~x"), "octo-cat_1.2~x");
        assert_eq!(encode("a/b c?d=é"), "a%2Fb%20c%3Fd%3D%C3%A9");
    }

    #[test]
    fn requests_carry_their_headers_and_body() {
        let r = Request::post("https://example.test/v1").bearer(Some("t0k")).json(&[1, 2]).timeout_ms(5);
        assert_eq!(r.target(), "POST https://example.test/v1");
        assert_eq!(
            r.0.headers,
            [("authorization".into(), "Bearer t0k".into()), ("content-type".into(), "application/json".into())]
        );
        assert_eq!((r.0.body.as_deref(), r.0.timeout_ms), (Some(&b"[1,2]"[..]), Some(5)));
        assert!(Request::get("u").bearer(None).0.headers.is_empty());
    }
}
