//! The MCP server behind one session: what it is built from ([`ServerParts`]), its settings, and
//! the state its parts share. Each job has its own module: `dispatch.rs` routes messages,
//! `tools.rs` lists and calls tools, `reads.rs` serves resources and prompts, `facts.rs` answers
//! `host-facts`, `session.rs` holds what the client negotiated.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use super::rss::CachedRss;
use super::session::Session;
use crate::caches::HostCaches;
use crate::host::policy::PolicyBook;
use crate::runtime::registry::{Component, Descriptors, Registration, SharedRegistry};
use crate::runtime::{Registry, Runtime};
use crate::telemetry::Telemetry;

/// Default number of tools per `tools/list` page.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// Default longest accepted message line. Larger lines are answered with -32600 and skipped;
/// the server keeps serving.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// Default call slots reserved for built-in components.
pub const DEFAULT_BUILTIN_RESERVE: usize = 8;

/// Default wait of `tools/list` for components described in the background: the time a
/// well-behaved component needs to compile and describe; a slower one arrives later, announced
/// with `notifications/tools/list_changed`.
pub const DEFAULT_DISCOVERY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

pub use super::outbox::Outbox;

/// Session settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Tools per `tools/list` page.
    pub page_size: usize,
    /// Longest accepted message line, bytes.
    pub max_line_bytes: usize,
    /// Default limit of calls of one tool at once.
    pub max_calls_per_tool: usize,
    /// Limit of calls of one component at once (all its tools together).
    pub max_calls_per_component: usize,
    /// Call slots only built-in components may use: extensions together hold at most the rest,
    /// so health and the other built-ins always get a slot.
    pub builtin_reserve: usize,
    /// How long `tools/list` (and a call of a tool not registered yet) waits for components
    /// still being described in the background.
    pub discovery_wait: std::time::Duration,
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
            max_calls_per_component: crate::runtime::registry::DEFAULT_MAX_CALLS_PER_COMPONENT,
            builtin_reserve: DEFAULT_BUILTIN_RESERVE,
            discovery_wait: DEFAULT_DISCOVERY_WAIT,
            validate_builtin_output: VALIDATE_BUILTIN_OUTPUT,
        }
    }
}

/// What the server is built from, besides the runtime and registry.
pub struct ServerParts {
    /// Session settings.
    pub settings: ServerSettings,
    /// Per-tool permissions by tool name, each bound to a component identity; tools not named
    /// get nothing granted.
    pub policies: PolicyBook,
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
    pub(super) registry: SharedRegistry,
    pub(super) settings: ServerSettings,
    /// The slots extension components share (all but the built-in reserve).
    pub(super) extension_slots: tokio::sync::Semaphore,
    /// Components still being described in the background.
    pub(super) discovering: AtomicUsize,
    /// Woken when background discovery finishes.
    pub(super) discovered: tokio::sync::Notify,
    /// The client's outbox, for notifications no request asked for (list changes).
    pub(super) client: std::sync::OnceLock<Outbox>,
    /// Whether the client has been sent a tool list (only then is a change worth announcing).
    pub(super) listed: std::sync::atomic::AtomicBool,
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
        let registration = Registration {
            book: Arc::new(parts.policies),
            max_calls_per_component: parts.settings.max_calls_per_component,
            max_calls_per_tool: parts.settings.max_calls_per_tool,
        };
        let extension_slots = runtime.max_concurrent_calls().saturating_sub(parts.settings.builtin_reserve).max(1);
        Self {
            extension_slots: tokio::sync::Semaphore::new(extension_slots),
            discovering: AtomicUsize::new(0),
            discovered: tokio::sync::Notify::new(),
            client: std::sync::OnceLock::new(),
            listed: std::sync::atomic::AtomicBool::new(false),
            runtime,
            registry: SharedRegistry::new(registry.rebind(registration)),
            settings: parts.settings,
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

    /// The runtime that runs the calls.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The current registry snapshot.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.current()
    }

    /// The outbox of the client, for notifications no request asked for; set once by the
    /// transport.
    pub fn attach_client(&self, out: Outbox) {
        let _ = self.client.set(out);
    }

    /// Announces that `pending` components are being described in the background.
    pub fn discovery_started(&self, pending: usize) {
        self.discovering.fetch_add(pending, Ordering::SeqCst);
    }

    /// Adds a component described in the background (`None`: it failed), at its discovery
    /// position `order`, and tells the client the lists changed if it has listed tools before.
    pub fn discovered(&self, order: usize, described: Option<(Component, Descriptors)>) {
        if let Some((component, descriptors)) = described {
            let offers = !descriptors.offerings.resources.is_empty() || !descriptors.offerings.prompts.is_empty();
            let before = self.registry().tools().len();
            let now = self.registry.add(order, component, descriptors);
            if now.tools().len() != before
                && self.listed.load(Ordering::Relaxed)
                && let Some(out) = self.client.get()
            {
                out.notify(super::jsonrpc::notification("notifications/tools/list_changed", &serde_json::json!({})));
                if offers {
                    out.notify(super::jsonrpc::notification(
                        "notifications/resources/list_changed",
                        &serde_json::json!({}),
                    ));
                    out.notify(super::jsonrpc::notification(
                        "notifications/prompts/list_changed",
                        &serde_json::json!({}),
                    ));
                }
            }
        }
        if self.discovering.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.discovered.notify_waiters();
        }
    }

    /// Waits (at most the discovery wait) until background discovery is done.
    pub(super) async fn await_discovery(&self) {
        let deadline = tokio::time::Instant::now() + self.settings.discovery_wait;
        while self.discovering.load(Ordering::SeqCst) > 0 {
            let notified = self.discovered.notified();
            if self.discovering.load(Ordering::SeqCst) == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                break;
            }
        }
    }

    /// Whether components are still being described.
    pub(super) fn discovery_pending(&self) -> bool {
        self.discovering.load(Ordering::SeqCst) > 0
    }
}
