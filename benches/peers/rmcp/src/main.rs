//! Benchmark peer: rmcp (the official Rust MCP SDK) serving one tool, `echo`, over Streamable
//! HTTP at `/mcp`.
//!
//! Usage: `rmcp-peer [ADDR]` (default `127.0.0.1:0`; port 0 picks one). The bound address goes to
//! stderr as `listening on http://ADDR/mcp`; logs go to stderr too (`RUST_LOG`, default `warn`).
//!
//! Mode: stateless (`legacy_session_mode = false`) with JSON responses (`json_response = true`),
//! the SDK's counterpart of the TypeScript peer's `sessionIdGenerator: undefined,
//! enableJsonResponse: true`. No `Mcp-Session-Id` is issued; `initialize` is answered but not
//! required, and each POSTed request is served by a fresh handler, its answer an
//! `application/json` body (SSE only if a handler sent a notification first, which `echo` never
//! does). Clients must still send `Accept: application/json, text/event-stream` (406 otherwise)
//! and `Content-Type: application/json`, and a `Host` of localhost / 127.0.0.1 / ::1 (the SDK's
//! default DNS-rebinding guard).

use std::sync::Arc;

use rmcp::{
    ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    tool, tool_handler, tool_router,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager,
    },
};

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    message: String,
}

/// The server. Stateless mode builds one per request, so it is a cheap clone of a prototype
/// whose router (and the tool's JSON schema) is built once.
#[derive(Clone)]
struct Echo {
    tool_router: Arc<ToolRouter<Self>>,
}

impl Echo {
    fn new() -> Self {
        Self { tool_router: Arc::new(Self::tool_router()) }
    }
}

// Generates `Echo::tool_router()`, a router holding the `#[tool]` methods.
#[tool_router]
impl Echo {
    #[tool(description = "Returns message")]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        message
    }
}

// Generates `call_tool`, `list_tools`, `get_tool` and `get_info` (tools capability, crate name
// and version) from the stored router.
#[tool_handler(router = self.tool_router)]
impl ServerHandler for Echo {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();

    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());

    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None);
    let ct = config.cancellation_token.clone();
    let prototype = Echo::new();
    let service: StreamableHttpService<Echo, NeverSessionManager> = StreamableHttpService::new(
        move || Ok(prototype.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let router = axum::Router::new().nest_service("/mcp", service);

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("listening on http://{}/mcp", listener.local_addr()?);

    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            ct.cancel();
        })
        .await?;
    Ok(())
}
