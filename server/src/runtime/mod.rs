//! The wasmtime runtime: one [`Engine`], the [`Registry`] of components and tools, the on-disk
//! descriptor and AOT cache, and the per-call sandbox (fresh store, limits, timeout).
//!
//! - `builtins.rs`: the components embedded in the binary
//! - `engine.rs`: engine and pooling configuration, AOT artifact key; `pagemap.rs`: whether
//!   this kernel's `PAGEMAP_SCAN` may reset slots
//! - `cache.rs`: descriptor, failure and AOT files on disk
//! - `compile.rs`: native compilation within a budget (untrusted components in a child process)
//! - `spec.rs`: validated tool descriptors and their MCP form; `offerings.rs`: the resources
//!   and prompts a component declares
//! - `linked.rs`: a linked component, of the tool world or plain; `plain/`: plain typed
//!   components, their exported functions served as tools
//! - `registry.rs`: components, tools, lazy load state
//! - `discover.rs`: startup discovery (cache hit: no compile; the rest described in the
//!   background under a tight budget)
//! - `invoke.rs`: lazy load, fresh instance, the call itself, failures
//! - `limits.rs`, `epoch.rs`: limits and the epoch ticker behind timeouts and cancellation

pub mod builtins;
pub mod cache;
pub mod compile;
pub mod discover;
pub mod engine;
pub mod epoch;
pub mod inspect;
pub mod invoke;
pub mod limits;
pub mod linked;
pub mod offerings;
pub mod pagemap;
pub mod plain;
pub mod registry;
pub mod spec;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::host::{HostServices, HostState};
pub use cache::Cache;
pub use invoke::{CallFailure, CallLimits, CallOutcome, CallReport};
pub use registry::{ComponentSource, Registry};

pub use crate::about::WASMTIME_VERSION;

/// How the runtime runs calls.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Calls that may run at once.
    pub max_concurrent_calls: usize,
    /// Wall-clock budget per call.
    pub call_timeout: Duration,
    /// Default linear memory limit per call, bytes.
    pub memory_limit: usize,
    /// Largest memory limit any tool has (the engine's hard cap); at least `memory_limit`.
    pub max_memory_limit: usize,
    /// Default largest result per call, bytes.
    pub max_output_bytes: usize,
    /// Cache directory; `None` disables the disk cache (every start compiles).
    pub cache_dir: Option<PathBuf>,
    /// Whether any tool opts into instance reuse (the pool then reserves slots for idle instances).
    pub reuse_instances: bool,
    /// What compiling an untrusted component may cost.
    pub compile: compile::CompileBudget,
    /// The server binary, run as the compiler process for untrusted components (`None`: compile
    /// them in process, within the time budget only).
    pub compiler_exe: Option<PathBuf>,
    /// What a component's `describe` may cost: wall-clock time.
    pub describe_timeout: Duration,
    /// What a component's `describe` may cost: linear memory, bytes.
    pub describe_memory: usize,
    /// Core module instances one component may hold (a larger one does not load).
    pub max_core_instances_per_component: u32,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            max_concurrent_calls: limits::DEFAULT_MAX_CONCURRENT_CALLS,
            call_timeout: limits::DEFAULT_CALL_TIMEOUT,
            memory_limit: limits::DEFAULT_MEMORY_LIMIT,
            max_memory_limit: limits::DEFAULT_MEMORY_LIMIT,
            max_output_bytes: limits::DEFAULT_MAX_OUTPUT_BYTES,
            cache_dir: cache::default_dir(),
            reuse_instances: false,
            compile: compile::CompileBudget::default(),
            compiler_exe: None,
            describe_timeout: limits::DEFAULT_DESCRIBE_TIMEOUT,
            describe_memory: limits::DEFAULT_DESCRIBE_MEMORY,
            max_core_instances_per_component: limits::DEFAULT_MAX_CORE_INSTANCES_PER_COMPONENT,
        }
    }
}

/// The engine, linker, cache and call limits: everything needed to run a tool.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    engine_key: String,
    cache: Option<Cache>,
    ticker: epoch::EpochTicker,
    call_slots: Semaphore,
    /// Instances kept for reuse, across components (at most `invoke::MAX_IDLE_INSTANCES`).
    idle_instances: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    settings: RuntimeSettings,
    services: std::sync::Arc<HostServices>,
    compiler: compile::Compiler,
}

impl Runtime {
    /// Builds the engine and linker and opens the cache directory. A cache directory that cannot
    /// be created is reported and the server runs without a disk cache.
    pub fn new(settings: RuntimeSettings, services: std::sync::Arc<HostServices>) -> anyhow::Result<Self> {
        let engine = engine::build(engine::EngineSettings {
            max_concurrent_calls: settings.max_concurrent_calls,
            max_memory: settings.max_memory_limit.max(settings.memory_limit),
            idle_instances: if settings.reuse_instances { invoke::MAX_IDLE_INSTANCES } else { 0 },
            max_core_instances_per_component: settings.max_core_instances_per_component,
        })?;
        let linker = crate::host::linker(&engine)?;
        let cache = settings.cache_dir.clone().and_then(|dir| match Cache::open(dir.clone()) {
            Ok(cache) => Some(cache),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "cannot use cache directory, compiling without a disk cache: {e}");
                None
            }
        });
        Ok(Self {
            engine_key: engine::artifact_key(&engine),
            ticker: epoch::EpochTicker::start(engine.clone())?,
            call_slots: Semaphore::new(settings.max_concurrent_calls.max(1)),
            idle_instances: std::sync::Arc::default(),
            compiler: compile::Compiler { exe: settings.compiler_exe.clone(), budget: settings.compile },
            engine,
            linker,
            cache,
            settings,
            services,
        })
    }

    /// The services shared by every call.
    pub fn services(&self) -> &std::sync::Arc<HostServices> {
        &self.services
    }

    /// Calls that may run at once across the server.
    pub fn max_concurrent_calls(&self) -> usize {
        self.settings.max_concurrent_calls.max(1)
    }

    /// The limits of a component's `describe`.
    pub fn describe_limits(&self) -> CallLimits {
        CallLimits {
            timeout: self.settings.describe_timeout,
            memory: self.settings.describe_memory.min(self.settings.max_memory_limit.max(self.settings.memory_limit)),
            max_output_bytes: self.settings.max_output_bytes,
        }
    }

    /// The default limits of a call.
    pub fn default_limits(&self) -> CallLimits {
        CallLimits {
            timeout: self.settings.call_timeout,
            memory: self.settings.memory_limit,
            max_output_bytes: self.settings.max_output_bytes,
        }
    }
}

/// Takes a permit of `slots`, waiting if there is none: the permit and how long it waited (zero,
/// without reading the clock, when a permit was free).
pub async fn acquire_timed(slots: &Semaphore) -> (tokio::sync::SemaphorePermit<'_>, Duration) {
    if let Ok(permit) = slots.try_acquire() {
        return (permit, Duration::ZERO);
    }
    let started = std::time::Instant::now();
    let permit = slots.acquire().await.expect("slots are never closed");
    (permit, started.elapsed())
}
