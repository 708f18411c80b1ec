//! The MCP server, shared by every transport and session: what it is built from
//! ([`ServerParts`]), its settings, and the state its parts share. Each job has its own module: `dispatch.rs` routes messages,
//! `tools.rs` lists and calls tools, `reads.rs` serves resources and prompts, `facts.rs` answers
//! `host-facts`, `session.rs` holds what the client negotiated.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use super::rss::CachedRss;
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

use super::modern::kind;
pub use super::outbox::Outbox;
use super::session::Session;

/// A stream that takes list-change notifications.
pub struct Listener {
    /// Where they go.
    pub out: Outbox,
    /// Which changes (bits of `modern::kind`).
    pub kinds: u8,
    /// The `subscriptions/listen` request id they are tagged with (2026-07-28), raw JSON.
    pub subscription: Option<Box<serde_json::value::RawValue>>,
    /// An initialize-era stream's session: nothing is sent before it is initialized.
    pub session: Option<Arc<Session>>,
    alive: std::sync::Weak<()>,
}

impl Listener {
    /// A listener on `out` for the `kinds` of change.
    pub fn new(out: Outbox, kinds: u8) -> Self {
        Self { out, kinds, subscription: None, session: None, alive: std::sync::Weak::new() }
    }

    fn is_open(&self) -> bool {
        self.alive.strong_count() > 0 && !self.out.is_closed()
    }
}

/// Keeps a listener attached; dropping it detaches the listener.
#[must_use = "dropping the handle detaches the listener"]
pub struct ListenerHandle(Arc<()>);

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
    /// The key that seals multi round-trip calls' `requestState` (`[server] request_state_key`;
    /// instances behind one load balancer share it). `None`: a random key per process.
    pub request_state_key: Option<crate::host::Secret>,
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
            request_state_key: None,
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

/// The MCP server: one per process, serving every session on every transport.
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
    /// The streams that take notifications no request asked for (list changes): the stdio
    /// client, legacy HTTP sessions' GET streams, `subscriptions/listen` streams.
    pub(super) listeners: std::sync::Mutex<Vec<Listener>>,
    /// Whether the client has been sent a tool list (only then is a change worth announcing).
    pub(super) listed: std::sync::atomic::AtomicBool,
    pub(super) telemetry: Arc<Telemetry>,
    pub(super) caches: HostCaches,
    pub(super) ultra: bool,
    pub(super) started: Instant,
    pub(super) rss: CachedRss,
    pub(super) calls_served: AtomicU64,
    /// Seals and opens multi round-trip calls' `requestState`.
    pub(super) state_key: super::request_state::StateKey,
    /// Set when the server starts shutting down (streams that never end on their own, such as
    /// `subscriptions/listen`, close then).
    closing: tokio::sync::watch::Sender<bool>,
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
        let state_key = match &parts.settings.request_state_key {
            Some(secret) => super::request_state::StateKey::new(secret.expose().as_bytes()),
            None => super::request_state::StateKey::random(),
        };
        Self {
            extension_slots: tokio::sync::Semaphore::new(extension_slots),
            discovering: AtomicUsize::new(0),
            discovered: tokio::sync::Notify::new(),
            listeners: std::sync::Mutex::new(Vec::new()),
            listed: std::sync::atomic::AtomicBool::new(false),
            runtime,
            registry: SharedRegistry::new(registry.rebind(registration)),
            settings: parts.settings,
            telemetry: parts.telemetry,
            caches: parts.caches,
            ultra: parts.ultra,
            started: Instant::now(),
            rss: CachedRss::default(),
            calls_served: AtomicU64::new(0),
            state_key,
            closing: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Starts shutting down: long-lived streams close.
    pub fn begin_shutdown(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Self::begin_shutdown`] has been called.
    pub async fn closing(&self) {
        let mut rx = self.closing.subscribe();
        let _ = rx.wait_for(|closing| *closing).await;
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

    /// Adds a stream that takes list-change notifications (the stdio client, a GET or
    /// `subscriptions/listen` stream). It is detached when the returned handle drops or its
    /// outbox's receiver is gone.
    pub fn attach_listener(&self, mut listener: Listener) -> ListenerHandle {
        let handle = ListenerHandle(Arc::new(()));
        listener.alive = Arc::downgrade(&handle.0);
        let mut listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        listeners.retain(Listener::is_open);
        listeners.push(listener);
        handle
    }

    /// Sends the list change `method` (one of [`kind`]) to every listener that takes it.
    pub(super) fn announce(&self, kind: u8, method: &str) {
        let mut listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        listeners.retain(Listener::is_open);
        for listener in listeners.iter().filter(|l| l.kinds & kind != 0) {
            // An initialize-era stream hears of changes once its client has initialized.
            if listener.session.as_ref().is_some_and(|s| s.protocol_version().is_none()) {
                continue;
            }
            let params = match &listener.subscription {
                Some(id) => serde_json::json!({"_meta": {super::meta::SUBSCRIPTION_ID: id}}),
                None => serde_json::json!({}),
            };
            listener.out.notify(super::jsonrpc::notification(method, &params));
        }
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
            if now.tools().len() != before && self.listed.load(Ordering::Relaxed) {
                self.announce(kind::TOOLS, "notifications/tools/list_changed");
                if offers {
                    self.announce(kind::RESOURCES, "notifications/resources/list_changed");
                    self.announce(kind::PROMPTS, "notifications/prompts/list_changed");
                }
            }
        }
        if self.discovering.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.discovered.notify_waiters();
        }
    }

    /// Replaces the component loaded from the file `path` with `replacement` (a new version of
    /// it, `serve --watch`), or removes it with `None`; tells listeners the lists changed if the
    /// client has listed tools before. Calls already running finish on the version they started
    /// with (they hold the previous registry snapshot).
    pub fn replace_file(&self, path: &std::path::Path, replacement: Option<(Component, Descriptors)>) {
        self.registry.replace_file(path, replacement);
        // What the previous version served may differ now. (A read still running on it may
        // store its answer again afterwards, for at most the cache's TTL.)
        self.caches.resource.invalidate_all();
        self.caches.prompt.invalidate_all();
        if self.listed.load(Ordering::Relaxed) {
            self.announce(kind::TOOLS, "notifications/tools/list_changed");
            self.announce(kind::RESOURCES, "notifications/resources/list_changed");
            self.announce(kind::PROMPTS, "notifications/prompts/list_changed");
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
    pub fn discovery_pending(&self) -> bool {
        self.discovering.load(Ordering::SeqCst) > 0
    }
}
