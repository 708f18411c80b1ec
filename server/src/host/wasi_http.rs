//! `wasi:http` outgoing requests (WASI 0.2), for components whose language's HTTP library speaks
//! it rather than our `http` interface: `fetch` in a ComponentizeJS build, `wasi:http` clients in
//! Rust, Python's wasi-http adapters. wasmtime-wasi-http implements the interfaces (resources,
//! streams, fields); this module is its send hook, which hands every request to the pooled client
//! of the `http` interface ([`super::http::HttpClient::send`]): the same `http_allow` list, resolver
//! checks (no private addresses unless named), redirects, timeouts, in-flight limit, response cap
//! and counters. Bodies are buffered both ways, the request body within the same cap as a
//! response. Serving HTTP (`wasi:http/incoming-handler`) is not linked: a tool is called, it
//! does not listen.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpHooks};

use super::CallEnv;
use crate::bindings::ide_agents::tool::http::{Error, Request, Response};

/// The boxed future wasmtime-wasi-http takes from a send hook.
type Sending = Box<dyn Future<Output = Result<(http_types::Response<WasiBody>, Finished), HttpError>> + Send>;
/// What reports the end of an exchange's I/O (ours is over when the response is buffered).
type Finished = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

/// Requests of one call in flight at once. `outgoing-handler.handle` does not block the guest, so
/// without a bound one call could start any number of requests and have the host buffer all their
/// bodies; a request holds its slot until the guest drops its response body. Further requests
/// wait (within the call's time limit).
const REQUESTS_PER_CALL: usize = 4;

/// The `wasi:http` part of a call's store: wasmtime-wasi-http's context and our send hook.
pub struct WasiHttpState {
    pub(super) ctx: WasiHttpCtx,
    pub(super) hooks: SendThroughPool,
}

impl WasiHttpState {
    /// State for the call `env`.
    pub fn new(env: &CallEnv) -> Self {
        let slots = Arc::new(Semaphore::new(REQUESTS_PER_CALL));
        Self { ctx: WasiHttpCtx::new(), hooks: SendThroughPool { env: env.clone(), slots } }
    }
}

/// The send hook: requests go through the shared client, as the calling tool.
pub struct SendThroughPool {
    env: CallEnv,
    /// The call's request slots ([`REQUESTS_PER_CALL`]).
    slots: Arc<Semaphore>,
}

impl WasiHttpHooks for SendThroughPool {
    /// The client sets `Host` from the URL (and a guest may not: it is a forbidden header).
    fn set_host_header(&mut self) -> bool {
        false
    }

    /// The `http` interface's forbidden headers, refused when the guest sets them (`fields.set`),
    /// except `Content-Length`, which clients set from the body: it is dropped, and the pooled
    /// client sets it again from the buffered body.
    fn forbidden_header_filter(&mut self) -> wasmtime_wasi_http::ForbiddenHeaderFilter {
        Arc::new(|name| name != http_types::CONTENT_LENGTH && super::http::forbidden_header(name.as_str()))
    }

    fn send_request(
        &mut self,
        request: http_types::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_done: Finished,
    ) -> Sending {
        let (env, slots) = (self.env.clone(), self.slots.clone());
        Box::new(async move {
            let slot = slots.acquire_owned().await.map_err(|_| HttpError::InternalError(Some("call ended".into())))?;
            let client = &env.services.http;
            let request = buffered(request, options, client.max_body_bytes()).await?;
            match client.send(&env.policy.http_allow, request).await {
                Ok(response) => Ok((unbuffered(response, slot)?, Box::new(async { Ok(()) }) as Finished)),
                Err(e) => {
                    // The guest gets an error code without text: say why on our stderr.
                    tracing::info!(tool = %env.tool, "wasi:http request failed: {e:?}");
                    Err(error_code(e))
                }
            }
        })
    }
}

/// The guest's request as the `http` interface's: its body read whole (at most `cap` bytes), its
/// first-byte timeout (or connect timeout) as the request's time limit.
async fn buffered(
    request: http_types::Request<WasiBody>,
    options: Option<RequestOptions>,
    cap: u64,
) -> Result<Request, HttpError> {
    let (parts, mut body) = request.into_parts();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if (bytes.len() + data.len()) as u64 > cap {
                return Err(HttpError::HttpRequestBodySize(Some(cap)));
            }
            bytes.extend_from_slice(&data);
        }
    }
    let mut headers = Vec::with_capacity(parts.headers.len());
    for (name, value) in parts.headers.iter().filter(|(name, _)| *name != http_types::CONTENT_LENGTH) {
        let value = value
            .to_str()
            .map_err(|_| HttpError::HttpRequestHeaderSize { field_name: Some(name.to_string()), field_size: None })?;
        headers.push((name.to_string(), value.to_owned()));
    }
    let timeout = options.and_then(|o| o.first_byte_timeout.or(o.connect_timeout));
    let has_body =
        !bytes.is_empty() || parts.method != http_types::Method::GET && parts.method != http_types::Method::HEAD;
    Ok(Request {
        method: parts.method.to_string(),
        url: parts.uri.to_string(),
        headers,
        body: has_body.then_some(bytes),
        timeout_ms: timeout.map(|t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX).max(1)),
    })
}

/// The `http` interface's response as wasmtime-wasi-http's, its body already whole; the body
/// holds the request's `slot` until the guest drops it.
fn unbuffered(response: Response, slot: OwnedSemaphorePermit) -> Result<http_types::Response<WasiBody>, HttpError> {
    let mut builder = http_types::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name, value);
    }
    let body = Full::new(Bytes::from(response.body))
        .map_frame(move |frame| {
            let _held = &slot;
            frame
        })
        .map_err(|never| match never {})
        .boxed_unsync();
    builder.body(body).map_err(|e| HttpError::InternalError(Some(format!("bad response: {e}"))))
}

/// The `wasi:http` error code for an `http` interface error.
fn error_code(error: Error) -> HttpError {
    match error {
        Error::Denied(_) => HttpError::HttpRequestDenied,
        Error::Timeout => HttpError::ConnectionTimeout,
        Error::TooLarge(cap) => HttpError::HttpResponseBodySize(Some(cap)),
        Error::ConnectFailed(_) => HttpError::ConnectionRefused,
        Error::BadUrl(_) => HttpError::HttpRequestUriInvalid,
        Error::Failed(message) => HttpError::InternalError(Some(message)),
    }
}

/// The `http` crate's types, named apart from our `http` interface module.
mod http_types {
    pub use ::http::header::CONTENT_LENGTH;
    pub use ::http::{Method, Request, Response};
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn errors_map_to_their_wasi_http_codes() {
        assert!(matches!(error_code(Error::Denied("x".into())), HttpError::HttpRequestDenied));
        assert!(matches!(error_code(Error::Timeout), HttpError::ConnectionTimeout));
        assert!(matches!(error_code(Error::TooLarge(5)), HttpError::HttpResponseBodySize(Some(5))));
        assert!(matches!(error_code(Error::BadUrl("x".into())), HttpError::HttpRequestUriInvalid));
    }

    #[tokio::test]
    async fn a_request_is_buffered_within_the_cap() {
        let body = |b: &'static [u8]| Full::new(Bytes::from_static(b)).map_err(|never| match never {}).boxed_unsync();
        let request = http_types::Request::builder()
            .method("POST")
            .uri("http://example.com/x?y=1")
            .header("content-type", "text/plain")
            .header("content-length", "5")
            .body(body(b"hello"))
            .unwrap();
        let options = RequestOptions { first_byte_timeout: Some(Duration::from_millis(250)), ..Default::default() };
        let read = buffered(request, Some(options), 5).await.unwrap();
        assert_eq!((read.method.as_str(), read.url.as_str()), ("POST", "http://example.com/x?y=1"));
        assert_eq!(read.headers, [("content-type".to_owned(), "text/plain".to_owned())]);
        assert_eq!((read.body.as_deref(), read.timeout_ms), (Some(&b"hello"[..]), Some(250)));
        let request = http_types::Request::builder().method("POST").uri("http://example.com/").body(body(b"hello!"));
        assert!(matches!(buffered(request.unwrap(), None, 5).await, Err(HttpError::HttpRequestBodySize(Some(5)))));
        let get = http_types::Request::builder().uri("http://example.com/").body(body(b"")).unwrap();
        assert_eq!(buffered(get, None, 5).await.unwrap().body, None);
    }
}
