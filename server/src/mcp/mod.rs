//! The MCP protocol layer, written by us for speed (see `docs/design/0001`, `0004` and `0006`).
//! A transport frames bytes; everything else happens here, routed in one place:
//!
//! - `jsonrpc.rs`: framing, classification of incoming lines, the error-code enum, response lines
//! - `request.rs`: every method as a typed [`request::Request`], params parsed
//! - `dispatch.rs`: [`McpServer::dispatch`], the one router, and the [`dispatch::Action`]s it
//!   hands back to the transport
//! - `server.rs`: the server's parts, settings and list-change listeners; `session.rs`: who a
//!   request comes from (its peer) and what the client negotiated
//! - `meta.rs`: a request's reserved `_meta` fields; `modern.rs`: what the stateless 2026-07-28
//!   revision adds (discovery, `_meta` checks, result fields, `subscriptions/listen`)
//! - `tools.rs`: `tools/list` and the call path (`tools/call` to result and span)
//! - `rounds.rs`: multi round-trip calls (a tool asks for input mid-call) in both eras;
//!   `request_state.rs`: the sealed `requestState` that lets any instance resume one
//! - `reads.rs`: resources and prompts served by the built-in tools; `resources.rs` and
//!   `prompts.rs` define them
//! - `facts.rs`: what `host-facts` tells tools; `rss.rs`: the memory probe behind it;
//!   `metrics.rs`: what `/metrics` tells operators
//! - `protocol.rs`: version negotiation, `initialize`, `CallToolResult` shaping
//! - `links.rs`: which resource links a tool may return
//! - `outbox.rs`: the client's queue, bounded in lines and bytes
//! - `inflight.rs`: requests in flight on a stream, for cancellation and shutdown
//! - `stdio.rs`: the stdio transport (reader, writer, cancellation, shutdown)
//! - `http/`: the Streamable HTTP transport (both eras, legacy sessions, SSE, limits, TLS)

pub mod dispatch;
pub mod facts;
pub mod http;
pub mod inflight;
pub mod jsonrpc;
pub mod links;
pub mod meta;
pub mod metrics;
pub mod modern;
pub mod outbox;
pub mod prompts;
pub mod protocol;
pub mod reads;
pub mod request;
pub mod request_state;
pub mod resources;
pub mod rounds;
pub mod rss;
pub mod server;
pub mod session;
pub mod stdio;
pub mod tools;

pub use server::{McpServer, ServerParts, ServerSettings};

#[cfg(test)]
pub(crate) mod testing {
    //! A server with the built-in health tool, for unit tests of the call path.
    use std::sync::Arc;

    use super::{McpServer, ServerParts, ServerSettings};
    use crate::caches::{CacheSettings, GuestCache, HostCaches};
    use crate::host::HostServices;
    use crate::host::http::{HttpClient, HttpSettings};
    use crate::runtime::registry::ComponentSource;
    use crate::runtime::{Runtime, RuntimeSettings, builtins};
    use crate::telemetry::{Telemetry, TelemetrySettings};

    /// A server whose registry holds the built-in health component, a runtime to drive it, and
    /// the temporary directory holding its caches and span file.
    pub fn server_with_builtins() -> (Arc<McpServer>, tokio::runtime::Runtime, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let services = Arc::new(HostServices {
            http: HttpClient::new(HttpSettings::default(), Default::default()).unwrap(),
            guest_cache: GuestCache::new(1 << 20, 1 << 20, 1 << 16, std::time::Duration::from_secs(60)),
            storage: crate::host::storage::Storage::default(),
        });
        let settings = RuntimeSettings { cache_dir: Some(dir.path().join("cache")), ..RuntimeSettings::default() };
        let runtime = Runtime::new(settings, services).unwrap();
        let health = builtins::BUILTIN_COMPONENTS.iter().find(|b| b.name == "health").expect("health is built in");
        let registry = rt.block_on(runtime.discover(vec![ComponentSource::Builtin(health)]));
        let telemetry = TelemetrySettings { path: dir.path().join("spans.jsonl"), ..TelemetrySettings::default() };
        let parts = ServerParts {
            settings: ServerSettings { validate_builtin_output: true, ..ServerSettings::default() },
            policies: crate::host::policy::PolicyBook::default(),
            telemetry: Arc::new(Telemetry::start(&telemetry)),
            caches: HostCaches::new(&CacheSettings::default()),
            ultra: false,
        };
        (Arc::new(McpServer::new(runtime, registry, parts)), rt, dir)
    }
}
