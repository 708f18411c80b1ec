//! Host side of the WIT imports a tool may use, one module per interface, plus the per-call store
//! state ([`HostState`]) they share.
//!
//! Every store gets a [`HostState`] built from a [`CallEnv`]: the tool's name and policy, its
//! progress token, the shared [`HostServices`] (HTTP client, guest cache) and a handle to the
//! server ([`ServerHooks`]) for facts, client logging and progress. WASI is linked, but with no
//! preopens, no environment, no arguments and no network; guest stdout and stderr go to our stderr
//! through [`guest_stdio`]. Files are reachable only through [`workspace`], under roots the
//! configuration grants, read-only; what a tool keeps on disk goes through [`storage`], within
//! the quota the configuration grants. What a call may write to the log and send to the client is
//! bounded by its [`budget`]. Policies are bound to component identities ([`policy`]). See
//! `runtime/` for how stores are created.

pub mod budget;
pub mod cache;
pub mod config;
pub mod facts;
pub mod guest_stdio;
pub mod http;
pub mod limiter;
pub mod log;
pub mod policy;
pub mod progress;
pub mod storage;
pub mod workspace;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::Tool;
use crate::bindings::ide_agents::tool::host_facts::{Facts, ServerCatalog};
use crate::bindings::ide_agents::tool::host_facts::{HttpStats, TelemetryStats};
use crate::bindings::ide_agents::tool::log::Level;
use crate::caches::GuestCache;
pub use limiter::MemoryLimiter;
pub use policy::{Secret, ToolPolicy};

/// Services shared by every call: the outbound HTTP client, the guest cache and the tools'
/// persistent storage.
pub struct HostServices {
    /// The pooled HTTP client.
    pub http: http::HttpClient,
    /// The tools' cache.
    pub guest_cache: GuestCache,
    /// The tools' persistent storage.
    pub storage: storage::Storage,
}

/// What the host services need from the server around them. Implemented by the MCP layer;
/// a no-op implementation ([`Detached`]) serves calls made outside any session (tool discovery).
pub trait ServerHooks: Send + Sync {
    /// A snapshot of the server's facts for `host-facts.get`.
    fn facts(&self) -> Facts;
    /// The server's tools, resources and prompts for `host-facts.catalog`.
    fn catalog(&self) -> ServerCatalog;
    /// Whether the client asked for log records of `level`.
    fn wants_log(&self, level: Level) -> bool;
    /// Forwards a guest log record to the client.
    fn log_to_client(&self, tool: &str, level: Level, message: &str);
    /// Sends `notifications/progress` for `token`.
    fn progress(&self, token: &Value, progress: f64, total: Option<f64>, message: Option<String>);
}

/// [`ServerHooks`] for calls that have no client: facts are minimal, logs and progress go nowhere.
pub struct Detached;

impl ServerHooks for Detached {
    fn facts(&self) -> Facts {
        Facts {
            server_name: crate::about::SERVER_NAME.into(),
            server_version: crate::about::SERVER_VERSION.into(),
            runtime_version: crate::about::WASMTIME_VERSION.into(),
            protocol_version: None,
            uptime_ms: 0,
            registered_tools: Vec::new(),
            loaded_tools: Vec::new(),
            calls_served: 0,
            ultra: false,
            rss_bytes: 0,
            caches: Vec::new(),
            telemetry: TelemetryStats { enabled: false, queued: 0, flushed: 0, dropped: 0, write_errors: 0 },
            http: HttpStats { requests: 0, in_flight: 0, waits: 0, connections_opened: 0 },
        }
    }
    fn catalog(&self) -> ServerCatalog {
        ServerCatalog { tools: Vec::new(), resources: Vec::new(), prompts: Vec::new() }
    }
    fn wants_log(&self, _: Level) -> bool {
        false
    }
    fn log_to_client(&self, _: &str, _: Level, _: &str) {}
    fn progress(&self, _: &Value, _: f64, _: Option<f64>, _: Option<String>) {}
}

/// Everything one call's host functions need to know about that call.
#[derive(Clone)]
pub struct CallEnv {
    /// The tool being called (tags logs and guest output).
    pub tool: Arc<str>,
    /// Its component's label: the owner of its guest-cache quota.
    pub component: Arc<str>,
    /// The request's `_meta.progressToken`, if the client asked for progress.
    pub progress_token: Option<Value>,
    /// The server around the call.
    pub hooks: Arc<dyn ServerHooks>,
    /// Shared services.
    pub services: Arc<HostServices>,
    /// What this tool may do.
    pub policy: Arc<ToolPolicy>,
}

/// The data of one call's `Store`: WASI state with no ambient authority, the memory limiter, and
/// the call's environment.
pub struct HostState {
    /// Built on the guest's first WASI call: most calls of our tools make none, and building
    /// one (streams, clocks, seeded RNGs) was ~4% of a fresh-instance health call.
    wasi: Option<WasiCtx>,
    table: ResourceTable,
    /// Enforces the call's memory limit and remembers whether it was hit.
    pub limiter: MemoryLimiter,
    env: CallEnv,
    /// Last progress value sent, to keep notifications monotonic.
    last_progress: Option<f64>,
    /// The latest progress report, while it waits for a notification token.
    pending_progress: Option<progress::Report>,
    /// What the call may still write to the log and send to the client.
    budget: budget::CallBudget,
    /// Time spent in host HTTP requests during this call.
    pub http_time: Duration,
    /// When the instance was ready (start of guest execution).
    pub instantiated_at: Option<Instant>,
}

impl HostState {
    /// State for one call of `env.tool`, allowed `memory_limit` bytes of linear memory.
    pub fn new(env: CallEnv, memory_limit: usize) -> Self {
        Self {
            wasi: None,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_limit),
            env,
            last_progress: None,
            pending_progress: None,
            budget: budget::CallBudget::default(),
            http_time: Duration::ZERO,
            instantiated_at: None,
        }
    }
}

impl HostState {
    /// Readies a kept instance's state for its next call: that call's environment and memory
    /// limit, and fresh per-call counters. (The WASI context, and its stdout tag, stay.)
    pub fn prepare_for(&mut self, env: CallEnv, memory_limit: usize) {
        self.env = env;
        self.limiter = MemoryLimiter::new(memory_limit);
        self.last_progress = None;
        self.pending_progress = None;
        self.budget = budget::CallBudget::default();
        self.http_time = Duration::ZERO;
        self.instantiated_at = None;
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let ctx = self.wasi.get_or_insert_with(|| wasi_ctx(&self.env.tool));
        WasiCtxView { ctx, table: &mut self.table }
    }
}

/// WASI for one call of `tool`: no preopens, no environment, no arguments, no network; stdout and
/// stderr go to our stderr, tagged with the tool's name.
fn wasi_ctx(tool: &Arc<str>) -> WasiCtx {
    WasiCtxBuilder::new()
        .stdout(guest_stdio::TaggedStderr::new(tool.clone(), "stdout"))
        .stderr(guest_stdio::TaggedStderr::new(tool.clone(), "stderr"))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }))
        .build()
}

/// `types` has no functions; its (empty) host trait exists for the linker.
impl crate::bindings::ide_agents::tool::types::Host for HostState {}

/// A linker with WASI p2 and every `ide-agents:tool` host interface.
pub fn linker(engine: &wasmtime::Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    Tool::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s).map_err(anyhow::Error::from)?;
    Ok(linker)
}
