//! The one place incoming messages are routed. A transport frames bytes into a message, hands it
//! to [`McpServer::dispatch`] with the [`Peer`] it came from, and carries out the [`Action`] it
//! gets back: write an answer, run a cancellable piece of work that produces the answer, cancel a
//! request in flight, or nothing. Both protocol eras are routed here: an initialize-era request
//! uses its peer's session; a 2026-07-28 request (a `_meta` protocol version) is checked and
//! served with a session of its own, and its answer completed by `modern.rs`.
//! The transport owns ordering, concurrency limits, cancellation and shutdown; the dispatcher
//! owns what each message means.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use serde_json::value::RawValue;

use super::jsonrpc::{self, Incoming, RpcError};
use super::meta::{self, RequestMeta};
use super::reads::Read;
use super::request::{CallRequest, Notification, Request};
use super::server::{Listener, McpServer};
use super::session::{Peer, Session};
use super::{modern, protocol};

/// A boxed answer in the making. Boxed once: a call's future is several KB, and tokio moves a
/// task's future on spawn and again when it completes (`memcpy` was ~3% of a health call's CPU).
pub type Work = std::pin::Pin<Box<dyn Future<Output = Vec<u8>> + Send>>;

/// What the transport does with one incoming message.
pub enum Action {
    /// Write this line (an answer, or an error).
    Answer(Vec<u8>),
    /// Run `work` as a task the client can cancel; it yields the answer to request `id`.
    Run {
        /// The request's id, raw JSON.
        id: Box<RawValue>,
        /// Produces the answer line.
        work: Work,
    },
    /// Stop the request in flight with this canonical id; send nothing for it.
    Cancel(String),
    /// Nothing to send (a notification, a response).
    Nothing,
}

/// Which protocol era the transport already knows a request to be in.
#[derive(Debug)]
pub enum Era {
    /// Tell from the request: a `_meta` protocol version makes it a 2026-07-28 request.
    Detect,
    /// A 2026-07-28 request whose `_meta` the transport has already checked into this session
    /// (HTTP checks it against the headers first), so it is not read twice.
    Modern(Session),
}

impl McpServer {
    /// Routes one parsed message from `peer`. Notifications for a request go to the peer's
    /// outbox.
    pub fn dispatch(self: &Arc<Self>, message: Incoming<'_>, peer: &Peer, era: Era) -> Action {
        match message {
            Incoming::Request { id, method, params } => {
                let session = match era {
                    Era::Modern(session) => session,
                    Era::Detect => {
                        let meta = match RequestMeta::read(params) {
                            Ok(meta) => meta,
                            Err(error) => return Action::Answer(jsonrpc::failure(Some(id), &error)),
                        };
                        if meta.protocol_version.is_none() {
                            return match Request::parse(method, params) {
                                Ok(request) => self.request(id, request, peer),
                                Err(error) => Action::Answer(jsonrpc::failure(Some(id), &error)),
                            };
                        }
                        match modern::session_of(&meta) {
                            Ok(session) => session,
                            Err(error) => return Action::Answer(jsonrpc::failure(Some(id), &error)),
                        }
                    }
                };
                self.modern(id, method, params, &peer.with_session(session))
            }
            Incoming::Notification { method, params } => match Notification::parse(method, params) {
                Notification::Cancelled { request_id: Some(key) } => Action::Cancel(key),
                Notification::Cancelled { request_id: None } => Action::Nothing,
                Notification::Other(method) => {
                    tracing::debug!(%method, "notification");
                    Action::Nothing
                }
            },
            Incoming::Response { id, outcome } => {
                let answer = outcome.map(|r| r.get().to_owned()).map_err(|e| e.get().to_owned());
                if !peer.session.deliver(id.get(), answer) {
                    tracing::debug!(id = id.get(), "ignoring a response to no request of ours");
                }
                Action::Nothing
            }
            Incoming::Invalid { id, error } => Action::Answer(jsonrpc::failure(id.as_deref(), &error)),
        }
    }

    /// Routes a 2026-07-28 request (its `_meta` already checked into `peer`'s session) and
    /// completes its answer with the revision's result fields.
    fn modern(self: &Arc<Self>, id: &RawValue, method: Cow<'_, str>, params: Option<&RawValue>, peer: &Peer) -> Action {
        let list_ttl = if self.discovery_pending() { Duration::ZERO } else { self.caches.schema.ttl };
        let ttl = match &*method {
            "server/discover" | "tools/list" | "prompts/list" | "resources/list" | "resources/templates/list" => {
                Some(list_ttl)
            }
            "resources/read" => Some(self.caches.resource.ttl),
            _ => None,
        };
        let shape = modern::Shape { ttl };
        let action = if modern::REMOVED_METHODS.contains(&&*method) {
            Action::Answer(jsonrpc::failure(Some(id), &RpcError::method_not_found(&method)))
        } else if method == "server/discover" {
            Action::Answer(jsonrpc::success(id, &modern::discover_result()))
        } else if method == "subscriptions/listen" {
            return self.listen(id, params, peer);
        } else {
            match Request::parse(method, params) {
                Ok(request) => self.request(id, request, peer),
                Err(error) => Action::Answer(jsonrpc::failure(Some(id), &error)),
            }
        };
        match action {
            Action::Answer(line) => Action::Answer(modern::shape(line, id, shape)),
            Action::Run { id, work } => {
                let raw_id = id.clone();
                Action::Run { id, work: Box::pin(async move { modern::shape(work.await, &raw_id, shape) }) }
            }
            other => other,
        }
    }

    /// `subscriptions/listen`: acknowledges the filter we honour on the peer's stream, then
    /// sends it the list changes it asked for (tagged with the request's id) until the client
    /// closes the stream or cancels the request.
    fn listen(self: &Arc<Self>, id: &RawValue, params: Option<&RawValue>, peer: &Peer) -> Action {
        let (kinds, honoured) = match modern::listen_filter(params) {
            Ok(filter) => filter,
            Err(error) => return Action::Answer(jsonrpc::failure(Some(id), &error)),
        };
        let ack = json!({"_meta": {meta::SUBSCRIPTION_ID: id}, "notifications": honoured});
        peer.out.notify(jsonrpc::notification("notifications/subscriptions/acknowledged", &ack));
        let mut listener = Listener::new(peer.out.clone(), kinds);
        listener.subscription = Some(id.to_owned());
        let handle = self.attach_listener(listener);
        let (server, raw_id) = (self.clone(), id.to_owned());
        let work = Box::pin(async move {
            let _attached = handle;
            server.closing().await;
            // Closed by the server: the result names the subscription.
            let info = json!({"name": crate::about::SERVER_NAME, "version": crate::about::SERVER_VERSION});
            let meta = json!({meta::SUBSCRIPTION_ID: &*raw_id, meta::SERVER_INFO: info});
            jsonrpc::success(&raw_id, &json!({"resultType": "complete", "_meta": meta}))
        });
        Action::Run { id: id.to_owned(), work }
    }

    fn request(self: &Arc<Self>, id: &RawValue, request: Request<'_>, peer: &Peer) -> Action {
        let answer = |result: Result<serde_json::Value, RpcError>| {
            Action::Answer(match result {
                Ok(result) => jsonrpc::success(id, &result),
                Err(error) => jsonrpc::failure(Some(id), &error),
            })
        };
        match request {
            // Background discovery may still bring this tool: wait for it (bounded) first.
            Request::CallTool(call) if self.discovery_pending() && self.registry().tool(&call.name).is_none() => {
                let call = CallRequest {
                    name: Cow::Owned(call.name.into_owned()),
                    arguments: call.arguments,
                    progress_token: call.progress_token,
                    round: call.round,
                };
                let (server, peer, raw_id) = (self.clone(), peer.clone(), id.to_owned());
                let work = Box::pin(async move {
                    server.await_discovery().await;
                    match server.prepare_call(call, peer.principal.as_deref()) {
                        Ok(call) => server.answer_call(call, peer, raw_id).await,
                        Err(error) => jsonrpc::failure(Some(&raw_id), &error),
                    }
                });
                Action::Run { id: id.to_owned(), work }
            }
            Request::CallTool(call) => match self.prepare_call(call, peer.principal.as_deref()) {
                Ok(call) => {
                    let work = Box::pin(self.clone().answer_call(call, peer.clone(), id.to_owned()));
                    Action::Run { id: id.to_owned(), work }
                }
                Err(error) => Action::Answer(jsonrpc::failure(Some(id), &error)),
            },
            Request::ListTools { cursor } if self.discovery_pending() => {
                let (server, raw_id) = (self.clone(), id.to_owned());
                let work = Box::pin(async move {
                    server.await_discovery().await;
                    match server.list_tools(cursor.as_deref()) {
                        Ok(result) => jsonrpc::success_rendered(&raw_id, &result),
                        Err(error) => jsonrpc::failure(Some(&raw_id), &error),
                    }
                });
                Action::Run { id: id.to_owned(), work }
            }
            Request::ListTools { cursor } => Action::Answer(match self.list_tools(cursor.as_deref()) {
                Ok(result) => jsonrpc::success_rendered(id, &result),
                Err(error) => jsonrpc::failure(Some(id), &error),
            }),
            Request::ReadResource { uri, round } => {
                self.read(id, self.read_resource(uri, round, peer.principal.as_deref()), peer)
            }
            Request::GetPrompt { name, arguments, round } => {
                let read = self.get_prompt(&name, arguments.as_ref(), round, peer.principal.as_deref());
                self.read(id, read, peer)
            }
            Request::Initialize { protocol_version, capabilities } => {
                let version = peer.session.negotiate(protocol_version.as_deref(), capabilities);
                answer(Ok(protocol::initialize_result(version)))
            }
            Request::Ping => answer(Ok(json!({}))),
            Request::SetLogLevel { level } => answer(peer.session.set_log_level(&level).map(|()| json!({}))),
            Request::ListResources => answer(Ok(self.list_resources())),
            Request::ListResourceTemplates => answer(Ok(self.list_resource_templates())),
            Request::ListPrompts => answer(Ok(self.list_prompts())),
            Request::Complete(complete) => answer(self.complete(complete)),
            Request::Unknown(method) => answer(Err(RpcError::method_not_found(&method))),
        }
    }

    /// A `resources/read` or `prompts/get`: the cached answer now, or the tool call to run.
    fn read(self: &Arc<Self>, id: &RawValue, read: Result<Read, RpcError>, peer: &Peer) -> Action {
        match read {
            Ok(Read::Ready(result)) => Action::Answer(jsonrpc::success_rendered(id, &result)),
            Ok(Read::Run(job)) => {
                let (server, peer, raw_id) = (self.clone(), peer.clone(), id.to_owned());
                let work = Box::pin(async move {
                    match server.run_read(job, peer).await {
                        Ok(result) => jsonrpc::success_rendered(&raw_id, &result),
                        Err(error) => jsonrpc::failure(Some(&raw_id), &error),
                    }
                });
                Action::Run { id: id.to_owned(), work }
            }
            Err(error) => Action::Answer(jsonrpc::failure(Some(id), &error)),
        }
    }
}
