//! The MCP server behind one session: what it is built from ([`ServerParts`]), its settings, and
//! the state its parts share. Each job has its own module: `dispatch.rs` routes messages,
//! `tools.rs` lists and calls tools, `reads.rs` serves resources and prompts, `facts.rs` answers
//! `host-facts`, `session.rs` holds what the client negotiated.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use tokio::sync::mpsc;

use super::rss::CachedRss;
use super::session::Session;
use crate::caches::HostCaches;
use crate::host::ToolPolicy;
use crate::runtime::{Registry, Runtime};
use crate::telemetry::Telemetry;

/// Default number of tools per `tools/list` page.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// Default longest accepted message line. Larger lines are answered with -32600 and skipped;
/// the server keeps serving.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// Lines for the client; the transport writes them in order.
pub type Outbox = mpsc::Sender<Vec<u8>>;

/// Session settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Tools per `tools/list` page.
    pub page_size: usize,
    /// Longest accepted message line, bytes.
    pub max_line_bytes: usize,
    /// Default limit of calls of one tool at once.
    pub max_calls_per_tool: usize,
    /// Whether the built-in components' structured output is checked against their output
    /// schemas (see [`VALIDATE_BUILTIN_OUTPUT`]). Other components' output always is.
    pub validate_builtin_output: bool,
}

/// Built-in components are compiled from this repository and embedded with their SHA-256, like the
/// host's own code; their outputs are checked against their schemas by the test suite, which
/// turns this on. Release builds trust them by default: the check parses every structured result
/// into a JSON tree, about a third of a fresh-instance health call's server CPU
/// (`docs/design/0005-calls-on-every-core.md`). Structured output is still always checked to be a
/// JSON object, and components from tools directories are always schema-checked.
pub const VALIDATE_BUILTIN_OUTPUT: bool = cfg!(debug_assertions);

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_calls_per_tool: crate::runtime::limits::DEFAULT_MAX_CONCURRENT_CALLS_PER_TOOL,
            validate_builtin_output: VALIDATE_BUILTIN_OUTPUT,
        }
    }
}

/// What the server is built from, besides the runtime and registry.
pub struct ServerParts {
    /// Session settings.
    pub settings: ServerSettings,
    /// Per-tool permissions by tool name; tools not named get the default (nothing granted).
    pub policies: HashMap<String, Arc<ToolPolicy>>,
    /// The span batcher.
    pub telemetry: Arc<Telemetry>,
    /// The host caches.
    pub caches: HostCaches,
    /// Whether the ULTRA group is on.
    pub ultra: bool,
}

/// The server behind one MCP session.
pub struct McpServer {
    pub(super) runtime: Runtime,
    pub(super) registry: Registry,
    pub(super) settings: ServerSettings,
    pub(super) policies: HashMap<String, Arc<ToolPolicy>>,
    pub(super) default_policy: Arc<ToolPolicy>,
    /// One semaphore per tool (by registry index): its concurrency limit.
    pub(super) tool_slots: Vec<tokio::sync::Semaphore>,
    pub(super) telemetry: Arc<Telemetry>,
    pub(super) caches: HostCaches,
    pub(super) ultra: bool,
    pub(super) started: Instant,
    pub(super) session: Session,
    pub(super) rss: CachedRss,
    pub(super) calls_served: AtomicU64,
}

impl McpServer {
    /// A server over `registry`, running calls with `runtime`.
    pub fn new(runtime: Runtime, registry: Registry, parts: ServerParts) -> Self {
        let tool_slots = registry
            .tools()
            .iter()
            .map(|t| {
                let limit = parts.policies.get(&t.spec.name).and_then(|p| p.max_concurrent_calls);
                tokio::sync::Semaphore::new(limit.unwrap_or(parts.settings.max_calls_per_tool))
            })
            .collect();
        Self {
            tool_slots,
            runtime,
            registry,
            settings: parts.settings,
            policies: parts.policies,
            default_policy: Arc::default(),
            telemetry: parts.telemetry,
            caches: parts.caches,
            ultra: parts.ultra,
            started: Instant::now(),
            session: Session::default(),
            rss: CachedRss::default(),
            calls_served: AtomicU64::new(0),
        }
    }

    /// The session settings.
    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// The policy of the tool called `name` (nothing granted if the configuration names none).
    pub(super) fn policy(&self, name: &str) -> &Arc<ToolPolicy> {
        self.policies.get(name).unwrap_or(&self.default_policy)
    }
}
