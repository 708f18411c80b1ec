//! The one wasmtime [`Engine`] of the server: lean features, pooling allocator sized from the
//! concurrency limit (resetting slots with `PAGEMAP_SCAN` only where `pagemap.rs` finds it
//! reliable), epoch interruption for timeouts and cancellation, and the key that ties an AOT
//! artifact to this exact engine configuration.

use sha2::{Digest, Sha256};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use super::limits::{KEEP_RESIDENT_BYTES, STACK_KEEP_RESIDENT_BYTES};
use super::pagemap;

/// Component instances reserved beyond the call limit (and the idle instances kept for reuse), for
/// tool discovery at startup.
const DISCOVERY_SLOTS: u32 = 4;

/// Set (to anything) to have guest code named in `perf report`: wasmtime writes
/// `/tmp/perf-<pid>.map` for every component it loads. For profiling only.
pub const PERFMAP_ENV: &str = "IDE_AGENTS_MCP_PERFMAP";

/// Settings that shape the engine.
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Calls that may run at once; the pool has a slot for each.
    pub max_concurrent_calls: usize,
    /// Largest linear memory any call may have, in bytes.
    pub max_memory: usize,
    /// Slots reserved for instances kept for reuse (0 when no tool opts in).
    pub idle_instances: usize,
    /// Core module instances one component may hold (`limits.max_core_instances_per_component`).
    pub max_core_instances_per_component: u32,
}

/// Builds the engine. Pooling keeps a small resident window per slot so fresh instances avoid
/// most first-touch page faults (see `limits::KEEP_RESIDENT_BYTES`).
pub fn build(settings: EngineSettings) -> anyhow::Result<Engine> {
    let reserved = DISCOVERY_SLOTS + u32::try_from(settings.idle_instances).unwrap_or(0);
    let slots = u32::try_from(settings.max_concurrent_calls).unwrap_or(u32::MAX / 64).saturating_add(reserved);
    let scan = pagemap::probe();
    tracing::debug!(?scan, "PAGEMAP_SCAN for resetting instance slots");
    let mut pool = PoolingAllocationConfig::default();
    // Core instances are only counted (their metadata is allocated per instance), so the pool
    // admits every slot holding the largest component allowed: the slot count, memories and
    // tables are what bound concurrency.
    let per_component = settings.max_core_instances_per_component;
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(per_component))
        .max_core_instances_per_component(per_component)
        .total_memories(slots.saturating_mul(2))
        .total_tables(slots.saturating_mul(4))
        .total_stacks(slots)
        .max_memory_size(settings.max_memory)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        .async_stack_keep_resident(STACK_KEEP_RESIDENT_BYTES)
        // Linux 6.7+: reset only the pages written (see `limits::KEEP_RESIDENT_BYTES`), if this
        // kernel's scan reports them; otherwise memset + madvise.
        .pagemap_scan(match scan {
            pagemap::Scan::Reliable => Enabled::Auto,
            pagemap::Scan::Unavailable => Enabled::No,
            pagemap::Scan::Unreliable => {
                tracing::warn!(
                    "this kernel's PAGEMAP_SCAN does not report the pages a process wrote; \
                     instance slots are reset with memset and madvise instead (slower)"
                );
                Enabled::No
            }
        });

    let mut config = compiler_config();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if std::env::var_os(PERFMAP_ENV).is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    Engine::new(&config).map_err(anyhow::Error::from)
}

/// What decides the code the engine generates (and so its artifacts): shared by the serving
/// engine and the compiler process's.
fn compiler_config() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true).concurrency_support(false).cranelift_opt_level(OptLevel::Speed);
    config
}

/// An engine that only compiles (no instance pool), producing the same artifacts as
/// [`build`]'s (the pool's sizes are not part of what is compiled): the compiler process's
/// (`compile.rs`).
pub fn compiler_only() -> anyhow::Result<Engine> {
    Engine::new(&compiler_config()).map_err(anyhow::Error::from)
}

/// A short hex key for artifacts compiled by `engine`: changes with the wasmtime version, the
/// compiler settings and the target, so an artifact is only ever loaded by an engine that can run it.
pub fn artifact_key(engine: &Engine) -> String {
    use std::hash::Hash;
    let mut hasher = ShaHasher(Sha256::new());
    crate::about::WASMTIME_VERSION.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex(&hasher.0.finalize()[..8])
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Feeds `Hash` output into SHA-256, which (unlike `DefaultHasher`) is stable across Rust releases.
struct ShaHasher(Sha256);

impl std::hash::Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
