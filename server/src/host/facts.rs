//! `host-facts`: read-only facts about the server and its catalog of tools, resources and prompts, answered by [`ServerHooks::facts`](super::ServerHooks).
//!
//! Owns no state: it is implemented on [`FactsView`], a borrow of the call's server hooks. The
//! facts are lowered from [`Facts`], this module's mirror of the WIT record whose names are
//! shared (`&'static str`, `Arc<str>`) rather than copied for every call, as the generated
//! record (owned `String`s) would have them: health, which reads them on every call, is what the
//! benchmarks measure. The linker checks the mirror against the WIT type when a component is
//! linked, so a mismatch cannot reach a guest.

use std::sync::Arc;

use wasmtime::component::{ComponentType, Linker, Lower};

use super::ServerHooks;
use crate::bindings::ide_agents::tool::host_facts::{HttpStats, ServerCatalog, TelemetryStats};

/// The WIT interface these functions belong to.
const INTERFACE: &str = "ide-agents:tool/host-facts@0.1.0";

/// What `host-facts` sees of a call: the server around it.
pub struct FactsView<'a> {
    pub(super) hooks: &'a dyn ServerHooks,
}

/// `host-facts.facts`, field for field (the WIT documents each).
#[derive(ComponentType, Lower)]
#[component(record)]
#[allow(missing_docs, reason = "documented in wit/host-facts.wit")]
pub struct Facts {
    #[component(name = "server-name")]
    pub server_name: &'static str,
    #[component(name = "server-version")]
    pub server_version: &'static str,
    #[component(name = "runtime-version")]
    pub runtime_version: &'static str,
    #[component(name = "protocol-version")]
    pub protocol_version: Option<&'static str>,
    #[component(name = "uptime-ms")]
    pub uptime_ms: u64,
    #[component(name = "registered-tools")]
    pub registered_tools: Arc<[Arc<str>]>,
    #[component(name = "loaded-tools")]
    pub loaded_tools: Vec<Arc<str>>,
    #[component(name = "calls-served")]
    pub calls_served: u64,
    pub ultra: bool,
    #[component(name = "rss-bytes")]
    pub rss_bytes: u64,
    pub caches: Vec<CacheStats>,
    pub telemetry: TelemetryStats,
    pub http: HttpStats,
}

/// `host-facts.cache-stats`.
#[derive(ComponentType, Lower)]
#[component(record)]
#[allow(missing_docs, reason = "documented in wit/host-facts.wit")]
pub struct CacheStats {
    pub name: &'static str,
    pub hits: u64,
    pub misses: u64,
    pub entries: u64,
}

/// Links `host-facts` into `linker`, reaching each store's server hooks through `view`. Both
/// functions only read the server's state, so they are plain (not async) host functions.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> FactsView<'_>,
) -> wasmtime::Result<()> {
    let mut instance = linker.instance(INTERFACE)?;
    instance.func_wrap("get", move |mut store, (): ()| Ok((view(store.data_mut()).hooks.facts(),)))?;
    instance.func_wrap("catalog", move |mut store, (): ()| -> wasmtime::Result<(ServerCatalog,)> {
        Ok((view(store.data_mut()).hooks.catalog(),))
    })?;
    Ok(())
}
