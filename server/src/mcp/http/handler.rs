//! One HTTP request: the endpoint's `POST` (a message: answered with JSON or a per-request SSE
//! stream), `GET` (an initialize-era session's stream of list changes, else 405), `DELETE` (ends
//! a session), and `GET /healthz`. Every rejection is a documented status with a JSON-RPC error
//! body; see `docs/configuration.md`, "HTTP".

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming as IncomingBody};
use hyper::header::{ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use serde_json::value::RawValue;

use super::HttpSettings;
use super::auth::{Authenticator, Principal, PrincipalSlot, Rejection};
use super::body::Body;
use super::guard;
use super::sessions::{HttpSession, Sessions};
use crate::mcp::dispatch::{Action, Era, Work};
use crate::mcp::inflight::{Shutdown, id_key};
use crate::mcp::jsonrpc::{self, ErrorCode, Incoming, RpcError};
use crate::mcp::meta::RequestMeta;
use crate::mcp::modern::{self, kind};
use crate::mcp::outbox::{self, MAX_QUEUED_NOTIFICATION_BYTES};
use crate::mcp::protocol;
use crate::mcp::server::{Listener, McpServer};
use crate::mcp::session::{Peer, Session, capability};

/// Lines a request's stream queues before its call waits for the client to read.
const STREAM_LINES: usize = 256;
/// Header naming an initialize-era session.
const SESSION_HEADER: &str = "mcp-session-id";
/// Header naming the protocol version.
const VERSION_HEADER: &str = "mcp-protocol-version";
/// Where the RFC 9728 protected-resource metadata is served (the resource's path may follow).
const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// What every request handler shares.
pub struct Endpoint {
    /// The MCP server.
    pub server: Arc<McpServer>,
    /// The transport's settings.
    pub settings: HttpSettings,
    /// Which `Host` and `Origin` values are accepted.
    pub allowed: guard::Allowed,
    /// Initialize-era sessions.
    pub sessions: Sessions,
    /// Client authentication, when configured.
    pub auth: Option<Authenticator>,
}

type Reply = Response<Body>;

/// A request named a session that does not exist.
struct UnknownSession;

fn unknown_session() -> Reply {
    reject(
        StatusCode::NOT_FOUND,
        None,
        ErrorCode::InvalidRequest,
        "unknown or expired Mcp-Session-Id: initialize a new session",
    )
}

fn json_response(status: StatusCode, line: Vec<u8>) -> Reply {
    let mut response = Response::new(Body::full(line));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A rejection: `status` with a JSON-RPC error body (`id` when the request's is known).
fn reject(status: StatusCode, id: Option<&RawValue>, code: ErrorCode, message: impl Into<String>) -> Reply {
    json_response(status, jsonrpc::failure(id, &RpcError::new(code, message)))
}

fn status_only(status: StatusCode) -> Reply {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

impl Endpoint {
    /// Answers one request.
    pub async fn handle(self: Arc<Self>, request: Request<IncomingBody>) -> Reply {
        let path = request.uri().path();
        if path == "/healthz" && request.method() == Method::GET {
            let mut response = Response::new(Body::full(&b"ok\n"[..]));
            response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            return response;
        }
        if path.starts_with(METADATA_PATH) && request.method() == Method::GET {
            return match &self.auth {
                Some(auth) => json_response(StatusCode::OK, auth.metadata().to_string().into_bytes()),
                None => {
                    reject(StatusCode::NOT_FOUND, None, ErrorCode::InvalidRequest, "no authorization is configured")
                }
            };
        }
        if path == "/metrics" && request.method() == Method::GET {
            return self.metrics(request.headers()).await;
        }
        if path != self.settings.path {
            return reject(
                StatusCode::NOT_FOUND,
                None,
                ErrorCode::InvalidRequest,
                format!("no MCP endpoint at {path}"),
            );
        }
        if let Err(why) = self.allowed.check(request.headers()) {
            return reject(StatusCode::FORBIDDEN, None, ErrorCode::InvalidRequest, why);
        }
        let principal = match &self.auth {
            None => None,
            Some(auth) => {
                let authorization = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok());
                match auth.authenticate(authorization).await {
                    Ok(principal) => Some(principal),
                    Err(rejection) => return self.refuse(auth, &rejection, request.headers()),
                }
            }
        };
        match *request.method() {
            Method::POST => self.post(request, principal).await,
            Method::GET => self.get(request.headers()),
            Method::DELETE => self.delete(request.headers()),
            _ => {
                let mut response = reject(
                    StatusCode::METHOD_NOT_ALLOWED,
                    None,
                    ErrorCode::InvalidRequest,
                    "the MCP endpoint takes POST (GET and DELETE for initialize-era sessions)",
                );
                response.headers_mut().insert(ALLOW, HeaderValue::from_static("POST, GET, DELETE"));
                response
            }
        }
    }

    /// The session a request names, if any: `Err` when it names one that does not exist
    /// (answered with [`unknown_session`]).
    fn session(&self, headers: &HeaderMap) -> Result<Option<Arc<HttpSession>>, UnknownSession> {
        let Some(id) = guard::text(headers, SESSION_HEADER) else { return Ok(None) };
        self.sessions.get(id).map(Some).ok_or(UnknownSession)
    }

    /// `GET`: an initialize-era session's stream of list-change notifications; 405 otherwise
    /// (2026-07-28 clients use `subscriptions/listen`).
    fn get(&self, headers: &HeaderMap) -> Reply {
        let session = match self.session(headers) {
            Ok(Some(session)) => session,
            Ok(None) => {
                let mut response = status_only(StatusCode::METHOD_NOT_ALLOWED);
                response.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
                return response;
            }
            Err(UnknownSession) => return unknown_session(),
        };
        if !guard::accepts(headers).1 {
            return reject(
                StatusCode::NOT_ACCEPTABLE,
                None,
                ErrorCode::InvalidRequest,
                "Accept must allow text/event-stream",
            );
        }
        let (out, rx) = outbox::outbox(STREAM_LINES, MAX_QUEUED_NOTIFICATION_BYTES);
        let mut listener = Listener::new(out.clone(), kind::ALL);
        listener.session = Some(session.session.clone());
        // The stream ends when the client closes it (the receiver drops and the listener is
        // pruned) or the server shuts down (an empty line ends the body).
        let handle = self.server.attach_listener(listener);
        let server = self.server.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = out.closed() => {}
                () = server.closing() => {
                    drop(handle);
                    let _ = out.send(Vec::new()).await;
                }
            }
        });
        sse_response(rx)
    }

    /// `DELETE`: ends the session it names.
    fn delete(&self, headers: &HeaderMap) -> Reply {
        match guard::text(headers, SESSION_HEADER) {
            Some(id) if self.sessions.remove(id) => status_only(StatusCode::OK),
            Some(_) => reject(StatusCode::NOT_FOUND, None, ErrorCode::InvalidRequest, "unknown Mcp-Session-Id"),
            None => reject(
                StatusCode::BAD_REQUEST,
                None,
                ErrorCode::InvalidRequest,
                "DELETE needs an Mcp-Session-Id header",
            ),
        }
    }

    /// The answer to a refused caller: 401 with a challenge, 403 for a missing scope, 429 over
    /// its limits.
    fn refuse(&self, auth: &Authenticator, rejection: &Rejection, headers: &HeaderMap) -> Reply {
        let (status, message) = match rejection {
            Rejection::Missing => (StatusCode::UNAUTHORIZED, "authentication required: send a bearer token".to_owned()),
            Rejection::Invalid(why) => (StatusCode::UNAUTHORIZED, format!("invalid token: {why}")),
            Rejection::InsufficientScope(missing) => {
                (StatusCode::FORBIDDEN, format!("insufficient scope: the token lacks {}", missing.join(" ")))
            }
            Rejection::Limited(why) => (StatusCode::TOO_MANY_REQUESTS, format!("rate limited: {why}")),
        };
        tracing::debug!(%status, "refused: {message}");
        auth.count(rejection);
        let mut reply = reject(status, None, ErrorCode::InvalidRequest, message);
        if let Rejection::Limited(_) = rejection {
            reply.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
        } else if let Ok(value) = HeaderValue::from_str(&auth.challenge(rejection, &self.metadata_url(auth, headers))) {
            reply.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        reply
    }

    /// `GET /metrics`: the server's and this transport's metrics (Prometheus text format); with
    /// `[auth]`, for any authenticated principal.
    async fn metrics(&self, headers: &HeaderMap) -> Reply {
        if let Some(auth) = &self.auth {
            let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
            if let Err(rejection) = auth.authenticate(authorization).await {
                return self.refuse(auth, &rejection, headers);
            }
        }
        let mut text = self.server.metrics_text();
        super::super::metrics::header(
            &mut text,
            "ide_agents_mcp_http_sessions",
            "gauge",
            "Initialize-era HTTP sessions alive.",
        );
        text.push_str(&format!("ide_agents_mcp_http_sessions {}\n", self.sessions.len()));
        if let Some(auth) = &self.auth {
            auth.render_metrics(&mut text);
        }
        let mut response = Response::new(Body::full(text));
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
        response
    }

    /// Where the RFC 9728 metadata is: under the resource's origin with its path appended, or
    /// (static tokens only) under the requested host.
    fn metadata_url(&self, auth: &Authenticator, headers: &HeaderMap) -> String {
        if let Some(oauth) = &auth.settings().oauth
            && let Ok(url) = url::Url::parse(&oauth.resource)
        {
            let path = url.path().trim_end_matches('/');
            return format!("{}{METADATA_PATH}{path}", url.origin().ascii_serialization());
        }
        let scheme = if self.settings.tls.is_some() { "https" } else { "http" };
        let host = guard::text(headers, "host").unwrap_or("localhost");
        format!("{scheme}://{host}{METADATA_PATH}")
    }

    /// `POST`: one JSON-RPC message.
    async fn post(self: Arc<Self>, request: Request<IncomingBody>, principal: Option<Arc<Principal>>) -> Reply {
        let (parts, body) = request.into_parts();
        let headers = parts.headers;
        if !guard::is_json(&headers) {
            return reject(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                ErrorCode::InvalidRequest,
                "Content-Type must be application/json",
            );
        }
        let (takes_json, takes_sse) = guard::accepts(&headers);
        if !takes_json && !takes_sse {
            return reject(
                StatusCode::NOT_ACCEPTABLE,
                None,
                ErrorCode::InvalidRequest,
                "Accept must allow application/json or text/event-stream",
            );
        }
        let bytes = match self.read_body(body).await {
            Ok(bytes) => bytes,
            Err(reply) => return reply,
        };
        let Ok(session) = self.session(&headers) else { return unknown_session() };
        let message = jsonrpc::parse(&bytes);
        let (id, method, params) = match &message {
            Incoming::Request { id, method, params } => (*id, method.clone(), *params),
            Incoming::Invalid { id, error } => {
                return json_response(StatusCode::BAD_REQUEST, jsonrpc::failure(id.as_deref(), error));
            }
            Incoming::Notification { .. } | Incoming::Response { .. } => {
                let peer = match &session {
                    Some(s) => Peer { session: s.session.clone(), out: outbox::outbox(1, 0).0, principal: None },
                    None => Peer::new(outbox::outbox(1, 0).0),
                };
                if let Action::Cancel(key) = self.server.dispatch(message, &peer, Era::Detect)
                    && let Some(s) = &session
                {
                    s.in_flight.cancel(&key);
                }
                return status_only(StatusCode::ACCEPTED);
            }
        };
        if method == "subscriptions/listen" && !takes_sse {
            return reject(
                StatusCode::NOT_ACCEPTABLE,
                Some(id),
                ErrorCode::InvalidRequest,
                "subscriptions/listen answers with an event stream: Accept must allow text/event-stream",
            );
        }
        let (out, rx) = outbox::outbox(STREAM_LINES, MAX_QUEUED_NOTIFICATION_BYTES);
        let stream = out.clone();
        let meta = match RequestMeta::read(params) {
            Ok(meta) => meta,
            Err(error) => return json_response(StatusCode::BAD_REQUEST, jsonrpc::failure(Some(id), &error)),
        };
        let header_version = guard::text(&headers, VERSION_HEADER);
        let legacy_header = header_version.is_none_or(|v| protocol::SUPPORTED_VERSIONS.contains(&v));
        let (peer, era, initializing) = match &session {
            Some(s) => (Peer { session: s.session.clone(), out, principal: None }, Era::Detect, false),
            None if meta.protocol_version.is_none() && legacy_header && method == "initialize" => {
                (Peer::new(out), Era::Detect, true)
            }
            None if meta.protocol_version.is_none() && header_version.is_some() && legacy_header => {
                return reject(
                    StatusCode::BAD_REQUEST,
                    Some(id),
                    ErrorCode::InvalidRequest,
                    "missing Mcp-Session-Id: an initialize-era client must initialize first",
                );
            }
            None => match modern_checks(&headers, &meta, &method, params) {
                Ok(checked) => (Peer::new(out), Era::Modern(checked), false),
                Err(error) => return json_response(StatusCode::BAD_REQUEST, jsonrpc::failure(Some(id), &error)),
            },
        };
        if session.is_some()
            && let Some(v) = header_version
            && !protocol::ALL_VERSIONS.contains(&v)
        {
            return reject(
                StatusCode::BAD_REQUEST,
                Some(id),
                ErrorCode::InvalidRequest,
                format!("unsupported MCP-Protocol-Version {v:?}"),
            );
        }
        let slot = match self.admit(principal.as_deref(), &method, params) {
            Ok(slot) => slot,
            Err((auth, rejection)) => return self.refuse(auth, &rejection, &headers),
        };
        let peer = peer.authenticated(principal.as_deref().map(|p| p.name.as_str()));
        let session_for_init = initializing.then(|| peer.session.clone());
        let logs_wanted =
            peer.session.forwarded_level(crate::bindings::ide_agents::tool::log::Level::Emergency).is_some();
        let modern = matches!(era, Era::Modern(_));
        // Not for `roots` alone: most clients declare it, and a stream costs more than one JSON
        // body on every call (a roots request to a JSON-only call gets an isError that says so).
        let may_ask = !modern && peer.session.declared(capability::ELICITATION | capability::SAMPLING);
        let action = self.server.dispatch(message, &peer, era);
        let in_flight = session;
        drop(peer);
        let mut reply = match action {
            Action::Answer(line) => {
                let status = if modern { modern_status(&line, id) } else { StatusCode::OK };
                if takes_json || status != StatusCode::OK {
                    json_response(status, line)
                } else {
                    stream.notify(line);
                    stream.notify(Vec::new());
                    sse_response(rx)
                }
            }
            Action::Run { id, work } => {
                // A stream only when something may come before the answer: progress (a token),
                // logs (a level set), list changes (listen); else one JSON answer is cheaper.
                // An initialize-era tool call may also send the client requests (`rounds.rs`).
                let may_notify = method == "subscriptions/listen"
                    || params.is_some_and(|p| memchr::memmem::find(p.get().as_bytes(), b"\"progressToken\"").is_some())
                    || logs_wanted
                    || (method == "tools/call" && may_ask);
                let streamed = takes_sse && (may_notify || !takes_json);
                self.run(id, work, (stream, rx), Answering { streamed, modern }, in_flight, slot).await
            }
            Action::Cancel(_) | Action::Nothing => status_only(StatusCode::ACCEPTED),
        };
        if let Some(session) = session_for_init
            && reply.status() == StatusCode::OK
        {
            match self.sessions.create(session) {
                Ok(session_id) => {
                    if let Ok(value) = HeaderValue::from_str(&session_id) {
                        reply.headers_mut().insert(SESSION_HEADER, value);
                    }
                }
                Err(e) => {
                    return reject(StatusCode::SERVICE_UNAVAILABLE, Some(id), ErrorCode::InternalError, e);
                }
            }
        }
        reply
    }

    /// For a request that runs a tool (`tools/call`, `resources/read`, `prompts/get`) from an
    /// authenticated principal: the tool's required scopes (403), then one of the principal's
    /// call slots (429), held while the call runs.
    fn admit(
        &self,
        principal: Option<&Principal>,
        method: &str,
        params: Option<&RawValue>,
    ) -> Result<Option<PrincipalSlot>, (&Authenticator, Rejection)> {
        let (Some(auth), Some(principal)) = (&self.auth, principal) else { return Ok(None) };
        if !matches!(method, "tools/call" | "resources/read" | "prompts/get") {
            return Ok(None);
        }
        if method == "tools/call" {
            #[derive(serde::Deserialize)]
            struct Named<'a> {
                #[serde(borrow, default, deserialize_with = "jsonrpc::borrowed_str")]
                name: Option<std::borrow::Cow<'a, str>>,
            }
            let name = params.and_then(|p| serde_json::from_str::<Named>(p.get()).ok()).and_then(|n| n.name);
            if let Some(name) = name
                && let Some(tool) = self.server.registry().tool(&name)
            {
                let missing = principal.missing(&tool.policy.scopes);
                if !missing.is_empty() {
                    let missing = missing.into_iter().map(str::to_owned).collect();
                    return Err((auth, Rejection::InsufficientScope(missing)));
                }
            }
        }
        auth.admit(principal).map(Some).map_err(|r| (auth, r))
    }

    /// Reads the body within the size and time limits (413, 408).
    async fn read_body(&self, body: IncomingBody) -> Result<Bytes, Reply> {
        let max = self.settings.max_body_bytes;
        let too_large = || {
            reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                ErrorCode::InvalidRequest,
                format!("the body exceeds the {max}-byte limit"),
            )
        };
        // A declared length over the limit is refused before a byte of it is read.
        if hyper::body::Body::size_hint(&body).lower() > max as u64 {
            return Err(too_large());
        }
        let limited = http_body_util::Limited::new(body, max);
        match tokio::time::timeout(self.settings.body_timeout, limited.collect()).await {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
            Ok(Err(e)) => Err(reject(
                StatusCode::BAD_REQUEST,
                None,
                ErrorCode::InvalidRequest,
                format!("cannot read the body: {e}"),
            )),
            Err(_) => Err(reject(
                StatusCode::REQUEST_TIMEOUT,
                None,
                ErrorCode::InvalidRequest,
                format!("the body did not arrive within {} ms", self.settings.body_timeout.as_millis()),
            )),
        }
    }

    /// Runs `work` for request `id`: on an SSE stream (notifications, then the answer) when the
    /// client takes one, else as one JSON answer. A closed stream cancels the call, as does the
    /// session's `notifications/cancelled`; shutdown gives it the grace period, then answers with
    /// an error.
    async fn run(
        &self,
        id: Box<RawValue>,
        work: Work,
        (out, rx): (outbox::Outbox, outbox::OutboxReceiver),
        Answering { streamed: takes_sse, modern }: Answering,
        session: Option<Arc<HttpSession>>,
        slot: Option<PrincipalSlot>,
    ) -> Reply {
        let cancelled = match &session {
            Some(s) => match s.in_flight.start(id_key(id.get())) {
                Some(cancelled) => Some(cancelled),
                None => {
                    return reject(
                        StatusCode::OK,
                        Some(&id),
                        ErrorCode::InvalidRequest,
                        "invalid request: a request with this id is already in flight",
                    );
                }
            },
            None => None,
        };
        let (server, grace) = (self.server.clone(), self.settings.grace);
        // A 2026-07-28 error answered as JSON keeps its status (-32021 is 400); on a stream the
        // status is already 200 when the error comes.
        let status_id = modern.then(|| id.clone());
        let status_of = |reply: &[u8]| status_id.as_ref().map_or(StatusCode::OK, |id| modern_status(reply, id));
        let guarded = guarded(server, grace, id, work, cancelled, session);
        if takes_sse {
            tokio::spawn(async move {
                let _slot = slot;
                tokio::select! {
                    biased;
                    () = out.closed() => {}
                    reply = guarded => {
                        if let Some(reply) = reply {
                            let _ = out.send(reply).await;
                        }
                        let _ = out.send(Vec::new()).await;
                    }
                }
            });
            sse_response(rx)
        } else {
            drop((out, rx));
            let reply = guarded.await;
            drop(slot);
            match reply {
                Some(reply) => json_response(status_of(&reply), reply),
                None => status_only(StatusCode::NO_CONTENT),
            }
        }
    }
}

/// How a request's answer goes out.
#[derive(Debug, Clone, Copy)]
struct Answering {
    /// On an SSE stream (else as one JSON body).
    streamed: bool,
    /// A 2026-07-28 request (a JSON error keeps the revision's HTTP status).
    modern: bool,
}

/// `work` bounded by cancellation and shutdown: its answer; `None` when the client cancelled it.
async fn guarded(
    server: Arc<McpServer>,
    grace: Duration,
    id: Box<RawValue>,
    work: Work,
    cancelled: Option<tokio::sync::oneshot::Receiver<Shutdown>>,
    session: Option<Arc<HttpSession>>,
) -> Option<Vec<u8>> {
    let key = session.as_ref().map(|_| id_key(id.get()));
    let cancelled = async move {
        match cancelled {
            Some(rx) => rx.await.ok(),
            None => std::future::pending().await,
        }
    };
    let mut work = work;
    let reply = tokio::select! {
        biased;
        stop = cancelled => stop.map(|Shutdown| shutting_down(&id)),
        reply = &mut work => Some(reply),
        () = server.closing() => match tokio::time::timeout(grace, &mut work).await {
            Ok(reply) => Some(reply),
            Err(_) => Some(shutting_down(&id)),
        },
    };
    if let (Some(session), Some(key)) = (session, key) {
        session.in_flight.finish(&key);
    }
    reply
}

fn shutting_down(id: &RawValue) -> Vec<u8> {
    jsonrpc::failure(Some(id), &RpcError::internal("cancelled: the server is shutting down"))
}

fn sse_response(rx: outbox::OutboxReceiver) -> Reply {
    let mut response = Response::new(Body::Events(Box::new(rx)));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The checks of a 2026-07-28 request's headers against its body, in the revision's order:
/// required `_meta` (-32602), `MCP-Protocol-Version` equal to `_meta`'s (-32020), a version we
/// speak (-32022), then `Mcp-Method` and `Mcp-Name` (-32020). All are 400. The request's session
/// when they pass.
fn modern_checks(
    headers: &HeaderMap,
    meta: &RequestMeta,
    method: &str,
    params: Option<&RawValue>,
) -> Result<Session, RpcError> {
    if meta.protocol_version.is_none() || meta.client_capabilities.is_none() {
        return modern::session_of(meta);
    }
    let version = meta.protocol_version.as_deref().unwrap_or_default();
    match guard::text(headers, VERSION_HEADER) {
        Some(header) if header == version => {}
        Some(header) => {
            return Err(RpcError::new(
                ErrorCode::HeaderMismatch,
                format!("MCP-Protocol-Version {header:?} does not match _meta's {version:?}"),
            ));
        }
        None => return Err(RpcError::new(ErrorCode::HeaderMismatch, "missing MCP-Protocol-Version header")),
    }
    let session = modern::session_of(meta)?;
    guard::check_method_headers(headers, method, params)?;
    Ok(session)
}

/// The status of a 2026-07-28 answer: 404 for an unknown (or removed) method, 400 for the
/// revision's request errors, else 200.
fn modern_status(line: &[u8], id: &RawValue) -> StatusCode {
    let head = br#"{"jsonrpc":"2.0","id":"#.len() + id.get().len();
    let Some(rest) = line.get(head..).and_then(|r| r.strip_prefix(br#","error":{"code":"#.as_slice())) else {
        return StatusCode::OK;
    };
    let code = |c: ErrorCode| rest.starts_with(c.code().to_string().as_bytes());
    if code(ErrorCode::MethodNotFound) {
        StatusCode::NOT_FOUND
    } else if code(ErrorCode::HeaderMismatch)
        || code(ErrorCode::MissingCapability)
        || code(ErrorCode::UnsupportedVersion)
    {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}
