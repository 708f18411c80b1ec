//! The one place incoming messages are routed. A transport frames bytes into a line, hands it to
//! [`McpServer::dispatch`], and carries out the [`Action`] it gets back: write an answer, run a
//! cancellable piece of work that produces the answer, cancel a request in flight, or nothing.
//! The transport owns ordering, concurrency limits, cancellation and shutdown; the dispatcher
//! owns what each message means.

use std::sync::Arc;

use serde_json::json;
use serde_json::value::RawValue;

use super::jsonrpc::{self, Incoming, RpcError};
use super::protocol;
use super::reads::Read;
use super::request::{CallRequest, Notification, Request};
use super::server::{McpServer, Outbox};

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

impl McpServer {
    /// Routes one parsed line. Notifications and sampling for tools go to `out`, the outbox of
    /// the stream the request came on.
    pub fn dispatch(self: &Arc<Self>, message: Incoming<'_>, out: &Outbox) -> Action {
        match message {
            Incoming::Request { id, method, params } => match Request::parse(method, params) {
                Ok(request) => self.request(id, request, out),
                Err(error) => Action::Answer(jsonrpc::failure(Some(id), &error)),
            },
            Incoming::Notification { method, params } => match Notification::parse(method, params) {
                Notification::Cancelled { request_id: Some(key) } => Action::Cancel(key),
                Notification::Cancelled { request_id: None } => Action::Nothing,
                Notification::Other(method) => {
                    tracing::debug!(%method, "notification");
                    Action::Nothing
                }
            },
            Incoming::Response => {
                tracing::debug!("ignoring a response: this server sends no requests");
                Action::Nothing
            }
            Incoming::Invalid { id, error } => Action::Answer(jsonrpc::failure(id.as_deref(), &error)),
        }
    }

    fn request(self: &Arc<Self>, id: &RawValue, request: Request<'_>, out: &Outbox) -> Action {
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
                    name: std::borrow::Cow::Owned(call.name.into_owned()),
                    arguments: call.arguments,
                    progress_token: call.progress_token,
                };
                let (server, out, raw_id) = (self.clone(), out.clone(), id.to_owned());
                let work = Box::pin(async move {
                    server.await_discovery().await;
                    match server.prepare_call(call) {
                        Ok(call) => server.answer_call(call, out, raw_id).await,
                        Err(error) => jsonrpc::failure(Some(&raw_id), &error),
                    }
                });
                Action::Run { id: id.to_owned(), work }
            }
            Request::CallTool(call) => match self.prepare_call(call) {
                Ok(call) => {
                    let work = Box::pin(self.clone().answer_call(call, out.clone(), id.to_owned()));
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
            Request::ReadResource { uri } => self.read(id, self.read_resource(uri), out),
            Request::GetPrompt { name, arguments } => self.read(id, self.get_prompt(&name, arguments.as_ref()), out),
            Request::Initialize { protocol_version } => {
                answer(Ok(protocol::initialize_result(self.session.negotiate(protocol_version.as_deref()))))
            }
            Request::Ping => answer(Ok(json!({}))),
            Request::SetLogLevel { level } => answer(self.session.set_log_level(&level).map(|()| json!({}))),
            Request::ListResources => answer(Ok(self.list_resources())),
            Request::ListResourceTemplates => answer(Ok(self.list_resource_templates())),
            Request::ListPrompts => answer(Ok(self.list_prompts())),
            Request::Complete(complete) => answer(self.complete(complete)),
            Request::Unknown(method) => answer(Err(RpcError::method_not_found(&method))),
        }
    }

    /// A `resources/read` or `prompts/get`: the cached answer now, or the tool call to run.
    fn read(self: &Arc<Self>, id: &RawValue, read: Result<Read, RpcError>, out: &Outbox) -> Action {
        match read {
            Ok(Read::Ready(result)) => Action::Answer(jsonrpc::success_rendered(id, &result)),
            Ok(Read::Run(job)) => {
                let (server, out, raw_id) = (self.clone(), out.clone(), id.to_owned());
                let work = Box::pin(async move {
                    match server.run_read(job, out).await {
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
