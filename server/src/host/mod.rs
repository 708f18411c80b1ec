//! Host side of the WIT imports a tool may use, one module per interface, plus the per-call store
//! state ([`HostState`]) that composes their parts.
//!
//! Every store gets a [`HostState`] built from a [`CallEnv`]: the tool's name and policy, its
//! progress token, the shared [`HostServices`] (HTTP client, guest cache) and a handle to the
//! server ([`ServerHooks`]) for facts, client logging and progress. WASI is linked, but with no
//! preopens, no environment, no arguments and no network; guest stdout and stderr go to our stderr
//! through [`guest_stdio`]. Files are reachable only through [`workspace`], under roots the
//! configuration grants, read-only; what a tool keeps on disk goes through [`storage`], within
//! the quota the configuration grants; what a tool asks of the client mid-call (multi round-trip
//! calls) goes through [`input`]. What a call may write to the log and send to the client is
//! bounded by its [`budget`]. Policies are bound to component identities ([`policy`]). See
//! `runtime/` for how stores are created.
//!
//! Each interface module owns its part of the store, if it keeps any ([`budget::Notifications`]
//! for `log` and `progress`, [`http::HttpCtx`] for `http`), implements its host trait on a view
//! that borrows that part and what it reads of the call (`ConfigView`, `HttpView`, ...), and
//! links it with its own `add_to_linker`, as wasmtime's `wasi-config` does. [`HostState`] holds
//! the parts, and [`linker`] gives each interface its projection of it; no interface sees the
//! rest of the store.

pub mod budget;
pub mod cache;
pub mod config;
pub mod facts;
pub mod guest_stdio;
pub mod http;
pub mod input;
pub mod limiter;
mod listings;
pub mod log;
pub mod policy;
pub mod progress;
pub mod storage;
pub mod wasi_http;
pub mod workspace;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::ide_agents::tool::host_facts::{HttpStats, ServerCatalog, TelemetryStats};
use crate::bindings::ide_agents::tool::log::Level;
use crate::caches::GuestCache;
pub use facts::{CacheStats, Facts};
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
    /// The call's multi round-trip exchange (`input`), if it may ask the client for input.
    fn input(&self) -> Option<&input::Exchange> {
        None
    }
}

/// [`ServerHooks`] for calls that have no client: facts are minimal, logs and progress go nowhere.
pub struct Detached;

impl ServerHooks for Detached {
    fn facts(&self) -> Facts {
        Facts {
            server_name: crate::about::SERVER_NAME,
            server_version: crate::about::SERVER_VERSION,
            runtime_version: crate::about::WASMTIME_VERSION,
            protocol_version: None,
            uptime_ms: 0,
            registered_tools: Arc::from([]),
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

/// The data of one call's `Store`: WASI state with no ambient authority, the memory limiter, the
/// call's environment, and the parts the host interfaces keep for the call.
pub struct HostState {
    /// Built on the guest's first WASI call: most calls of our tools make none, and building
    /// one (streams, clocks, seeded RNGs) was ~4% of a fresh-instance health call.
    wasi: Option<WasiCtx>,
    /// The guest's stdout and stderr (once its WASI context exists): their output budgets, and
    /// stderr's last lines for the message of a trap.
    guest_output: Option<(guest_stdio::GuestStream, guest_stdio::GuestStream)>,
    table: ResourceTable,
    /// Enforces the call's memory limit and remembers whether it was hit.
    pub limiter: MemoryLimiter,
    /// What the interfaces' views borrow: the tool, its policy, the server and shared services.
    env: CallEnv,
    /// `log` and `progress`: what the call may still send, and the progress report waiting.
    notifications: budget::Notifications,
    /// `http`: the time the call spent in requests.
    http: http::HttpCtx,
    /// `wasi:http`: built on the guest's first use, like the WASI context.
    wasi_http: Option<wasi_http::WasiHttpState>,
    /// When the instance was ready (start of guest execution).
    pub instantiated_at: Option<Instant>,
}

impl HostState {
    /// State for one call of `env.tool`, allowed `memory_limit` bytes of linear memory.
    pub fn new(env: CallEnv, memory_limit: usize) -> Self {
        Self {
            wasi: None,
            guest_output: None,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_limit),
            env,
            notifications: budget::Notifications::default(),
            http: http::HttpCtx::default(),
            wasi_http: None,
            instantiated_at: None,
        }
    }

    /// Readies a kept instance's state for its next call: that call's environment and memory
    /// limit, and fresh per-call parts. (The WASI context, and its stdout tag, stay.)
    pub fn prepare_for(&mut self, env: CallEnv, memory_limit: usize) {
        self.env = env;
        self.limiter = MemoryLimiter::new(memory_limit);
        self.notifications = budget::Notifications::default();
        self.http = http::HttpCtx::default();
        self.wasi_http = None;
        self.instantiated_at = None;
        if let Some((stdout, stderr)) = &self.guest_output {
            stdout.reset();
            stderr.reset();
        }
    }

    /// The last lines the guest wrote to stderr during this call, if any.
    pub fn stderr_tail(&self) -> Option<String> {
        self.guest_output.as_ref()?.1.text()
    }

    /// Time spent in host HTTP requests during this call.
    pub fn http_time(&self) -> Duration {
        self.http.time()
    }

    /// `log`'s and `progress`'s projection.
    fn notifications(&mut self) -> budget::NotificationsView<'_> {
        budget::NotificationsView {
            state: &mut self.notifications,
            tool: &self.env.tool,
            progress_token: self.env.progress_token.as_ref(),
            hooks: &*self.env.hooks,
        }
    }

    /// `host-facts`' projection.
    fn facts(&mut self) -> facts::FactsView<'_> {
        facts::FactsView { hooks: &*self.env.hooks }
    }

    /// `http`'s projection.
    fn http(&mut self) -> http::HttpView<'_> {
        http::HttpView {
            ctx: &mut self.http,
            client: &self.env.services.http,
            allow: &self.env.policy.http_allow,
            tool: &self.env.tool,
        }
    }

    /// `cache`'s projection.
    fn cache(&mut self) -> cache::CacheView<'_> {
        cache::CacheView { cache: &self.env.services.guest_cache, component: &self.env.component, tool: &self.env.tool }
    }

    /// `config`'s projection.
    fn config(&mut self) -> config::ConfigView<'_> {
        config::ConfigView { policy: &self.env.policy }
    }

    /// `workspace`'s projection.
    fn workspace(&mut self) -> workspace::WorkspaceView<'_> {
        workspace::WorkspaceView { roots: &self.env.policy.roots }
    }

    /// `input`'s projection.
    fn input(&mut self) -> input::InputView<'_> {
        input::InputView { hooks: &*self.env.hooks }
    }

    /// `storage`'s projection.
    fn storage(&mut self) -> storage::StorageView<'_> {
        storage::StorageView {
            storage: &self.env.services.storage,
            tool: &self.env.tool,
            quota: self.env.policy.storage_quota,
        }
    }
}

impl wasmtime_wasi_http::WasiHttpView for HostState {
    fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
        let state = self.wasi_http.get_or_insert_with(|| wasi_http::WasiHttpState::new(&self.env));
        wasmtime_wasi_http::WasiHttpCtxView { ctx: &mut state.ctx, table: &mut self.table, hooks: &mut state.hooks }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        if self.wasi.is_none() {
            let output = (guest_stdio::GuestStream::default(), guest_stdio::GuestStream::default());
            self.wasi = Some(wasi_ctx(&self.env.tool, &output));
            self.guest_output = Some(output);
        }
        let ctx = self.wasi.get_or_insert_with(|| wasi_ctx(&self.env.tool, &Default::default()));
        WasiCtxView { ctx, table: &mut self.table }
    }
}

/// WASI for one call of `tool`: no preopens, no environment, no arguments, no network; stdout and
/// stderr go to our stderr, tagged with the tool's name, each within its budget in `output`
/// (stdout, stderr), which also keeps stderr's last lines.
fn wasi_ctx(tool: &Arc<str>, output: &(guest_stdio::GuestStream, guest_stdio::GuestStream)) -> WasiCtx {
    WasiCtxBuilder::new()
        .stdout(guest_stdio::TaggedStderr::new(tool.clone(), "stdout", output.0.clone(), false))
        .stderr(guest_stdio::TaggedStderr::new(tool.clone(), "stderr", output.1.clone(), true))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }))
        .build()
}

/// `types` has no functions and keeps nothing; its (empty) host trait exists for the linker.
struct Types;

impl crate::bindings::ide_agents::tool::types::Host for Types {}

impl HasData for Types {
    type Data<'a> = Types;
}

/// A linker with WASI p2 (with `wasi:http`'s outgoing requests: [`wasi_http`]) and every
/// `ide-agents:tool` host interface, each reaching the store through its own projection of
/// [`HostState`].
pub fn linker(engine: &wasmtime::Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    link_tool_imports(&mut linker).map_err(anyhow::Error::from)?;
    Ok(linker)
}

/// The `ide-agents:tool` imports, in the order of the world.
fn link_tool_imports(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    crate::bindings::ide_agents::tool::types::add_to_linker::<HostState, Types>(linker, |_| Types)?;
    log::add_to_linker(linker, HostState::notifications)?;
    progress::add_to_linker(linker, HostState::notifications)?;
    facts::add_to_linker(linker, HostState::facts)?;
    http::add_to_linker(linker, HostState::http)?;
    cache::add_to_linker(linker, HostState::cache)?;
    config::add_to_linker(linker, HostState::config)?;
    workspace::add_to_linker(linker, HostState::workspace)?;
    storage::add_to_linker(linker, HostState::storage)?;
    input::add_to_linker(linker, HostState::input)?;
    Ok(())
}
