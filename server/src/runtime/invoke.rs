//! One call: load the component on first use (AOT cache hit, or compile and store), take a call
//! slot, create a fresh store and instance of the linked component, run the guest under the
//! memory limit and the wall-clock timeout, and classify what went wrong.
//!
//! Dropping the future returned by [`Runtime::call`] stops the guest at its next epoch yield and
//! frees its store; that is how `notifications/cancelled` works.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use wasmtime::Store;

use super::cache::Cache;
use super::linked::{Linked, TOOLS_EXPORT, ToolLinked};
use super::plain::PlainPre;
use super::registry::{Component, ComponentSource, Idle, IdleCount, RegisteredTool, component_hash};
use super::{Runtime, acquire_timed};
use crate::bindings::{CallResult, ToolError, ToolPre};
use crate::host::{CallEnv, HostState};
use crate::telemetry::LoadKind;

/// Idle instances one component may keep for reuse: enough for the calls of one tool that
/// usually run at once.
pub const MAX_IDLE_INSTANCES_PER_COMPONENT: usize = 16;
/// Idle instances across the server. Each holds a pooling-allocator slot; when any tool opts into
/// reuse the engine reserves this many slots on top of the concurrency limit, so idle instances
/// never crowd out fresh ones. (Without reuse the pool stays smaller: a larger pool measured
/// slower for fresh instances.)
pub const MAX_IDLE_INSTANCES: usize = 32;

/// What a call produced: the guest's own answer (success or typed tool error), or a failure of the
/// sandbox around it.
pub type CallOutcome = Result<Result<CallResult, ToolError>, CallFailure>;

/// The limits of one call.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// Wall-clock limit.
    pub timeout: Duration,
    /// Linear memory limit, bytes.
    pub memory: usize,
    /// Largest result (content and structured output together), bytes.
    pub max_output_bytes: usize,
}

/// Where a call's time went, for telemetry.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallReport {
    /// Waiting for a call slot.
    pub queued: Duration,
    /// Loading the component.
    pub load: Duration,
    /// How it was loaded.
    pub load_kind: LoadKind,
    /// Creating the instance.
    pub instantiate: Duration,
    /// Running the guest.
    pub execute: Duration,
    /// In host HTTP requests.
    pub http: Duration,
}

/// Time split of one guarded run.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunTimes {
    /// Until the instance was ready.
    pub instantiate: Duration,
    /// After that.
    pub execute: Duration,
    /// In host HTTP.
    pub http: Duration,
}

/// A call that did not produce a guest answer. Each message names the limit or stage that failed.
#[derive(Debug, thiserror::Error)]
pub enum CallFailure {
    /// The component could not be compiled, loaded or linked.
    #[error("tool `{tool}` could not be loaded: {reason}")]
    Load {
        /// The tool.
        tool: String,
        /// Why.
        reason: String,
    },
    /// The call ran past its wall-clock limit and was stopped.
    #[error("tool `{tool}` exceeded its time limit of {} ms and was stopped", limit.as_millis())]
    Timeout {
        /// The tool.
        tool: String,
        /// The limit.
        limit: Duration,
    },
    /// The guest trapped after its memory limit refused a growth.
    #[error("tool `{tool}` exceeded its memory limit of {} MiB and was stopped", limit >> 20)]
    Memory {
        /// The tool.
        tool: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The guest returned more output than allowed.
    #[error("tool `{tool}` returned {size} bytes of output, more than its limit of {limit} bytes")]
    OutputTooLarge {
        /// The tool.
        tool: String,
        /// The result's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The guest trapped (a panic, an unreachable, a bad memory access...).
    #[error("tool `{tool}` crashed: {reason}")]
    Trap {
        /// The tool.
        tool: String,
        /// The trap.
        reason: String,
    },
}

impl Runtime {
    /// Runs `tool` with `arguments` (a JSON object as text) in a fresh instance, or in an idle
    /// one of the same component when the tool's policy opts into reuse (`reuse_instance`).
    pub async fn call(
        &self,
        component: &Component,
        tool: &RegisteredTool,
        arguments: &str,
        env: CallEnv,
        limits: CallLimits,
    ) -> (CallOutcome, CallReport) {
        let name = tool.spec.name.as_str();
        let mut report = CallReport::default();
        let was_loaded = component.is_loaded();
        // A loaded component (the common case) is not timed: a clock read is a measurable part
        // of a call.
        let started = (!was_loaded).then(Instant::now);
        let loaded = if was_loaded {
            self.load(component).await
        } else {
            // Compiling counts against the first call's time limit; the compile itself goes on
            // (within its own budget) for the calls after this one.
            tokio::time::timeout(limits.timeout, self.load(component)).await.unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "it was still being compiled when the call's time limit of {} ms ran out; compiling goes on \
                     (budget {} ms), call again later",
                    limits.timeout.as_millis(),
                    self.settings.compile.timeout.as_millis()
                ))
            })
        };
        report.load = started.map_or(Duration::ZERO, |started| started.elapsed());
        report.load_kind = match (&loaded, was_loaded) {
            (Err(_), _) => LoadKind::None,
            (Ok(_), true) => LoadKind::Warm,
            (Ok(_), false) => component.load_kind(),
        };
        let linked = match loaded {
            Ok(linked) => linked,
            Err(e) => return (Err(CallFailure::Load { tool: name.into(), reason: format!("{e:#}") }), report),
        };
        let (_slot, queued) = acquire_timed(&self.call_slots).await;
        report.queued = queued;
        let tool = match &*linked {
            Linked::Tool(tool) => tool,
            Linked::Plain(plain) => {
                let (result, times) = self
                    .guarded(name, env, limits, async |store| {
                        plain.call(store, name, arguments, limits.max_output_bytes).await
                    })
                    .await;
                return (checked_size(name, result, limits), report.with(times));
            }
        };
        // Plain components always run in a fresh instance. Reuse keeps the typed bindings, whose
        // exports are type-checked once per instance; a fresh instance checks only `call`.
        let (result, times, store) = if env.policy.reuse_instance {
            let (store, kept) = match component.take_idle() {
                Some(Idle { mut store, tool: bindings, counted }) => {
                    drop(counted);
                    store.data_mut().prepare_for(env, limits.memory);
                    (store, Some(bindings))
                }
                None => (self.new_store(env, limits), None),
            };
            self.run_guarded(name, store, limits, async |store| {
                let bindings = match kept {
                    Some(bindings) => bindings,
                    None => tool.pre.instantiate_async(&mut *store).await?,
                };
                store.data_mut().instantiated_at = Some(Instant::now());
                let answer = bindings.ide_agents_tool_tools().call_call(&mut *store, name, arguments).await?;
                Ok((answer, Some(bindings)))
            })
            .await
        } else {
            self.run_guarded(name, self.new_store(env, limits), limits, async |store| {
                let instance = tool.instantiate(store).await?;
                store.data_mut().instantiated_at = Some(Instant::now());
                Ok((tool.call(store, instance, name, arguments).await?, None))
            })
            .await
        };
        let result = match result {
            Ok((answer, kept)) => {
                if let Some(bindings) = kept {
                    self.keep_idle(component, store, bindings);
                }
                Ok(answer)
            }
            Err(failure) => Err(failure),
        };
        (checked_size(name, result, limits), report.with(times))
    }

    /// Runs `run` in a fresh store for `env`, under `limits`; reports where the time went.
    pub(super) async fn guarded<T>(
        &self,
        tool: &str,
        env: CallEnv,
        limits: CallLimits,
        run: impl AsyncFnOnce(&mut Store<HostState>) -> wasmtime::Result<T>,
    ) -> (Result<T, CallFailure>, RunTimes) {
        let (result, times, _store) = self.run_guarded(tool, self.new_store(env, limits), limits, run).await;
        (result, times)
    }

    /// A fresh store for one call.
    fn new_store(&self, env: CallEnv, limits: CallLimits) -> Store<HostState> {
        let mut store = Store::new(&self.engine, HostState::new(env, limits.memory));
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_async_yield_and_update(1);
        store
    }

    /// Keeps an instance that finished a call cleanly for the next call of its component, within
    /// [`MAX_IDLE_INSTANCES_PER_COMPONENT`] and the server-wide [`MAX_IDLE_INSTANCES`].
    /// The kept instance counts until it is dropped: taken for a call, refused, or dropped with
    /// its component (replaced by `serve --watch`).
    fn keep_idle(&self, component: &Component, store: Store<HostState>, tool: crate::bindings::Tool) {
        if self.idle_instances.fetch_add(1, Ordering::Relaxed) >= MAX_IDLE_INSTANCES {
            self.idle_instances.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let idle = Idle { store, tool, counted: IdleCount(self.idle_instances.clone()) };
        // Refused (the component keeps enough): dropped here, which uncounts it.
        let _ = component.put_idle(idle, MAX_IDLE_INSTANCES_PER_COMPONENT);
    }

    /// Runs `run` in `store` under `limits`; reports where the time went and gives the store back
    /// (reusable only if the run succeeded).
    async fn run_guarded<T>(
        &self,
        tool: &str,
        mut store: Store<HostState>,
        limits: CallLimits,
        run: impl AsyncFnOnce(&mut Store<HostState>) -> wasmtime::Result<T>,
    ) -> (Result<T, CallFailure>, RunTimes, Store<HostState>) {
        let started = Instant::now();
        store.set_epoch_deadline(1);
        let _ticking = self.ticker.active();
        let outcome = tokio::time::timeout(limits.timeout, run(&mut store)).await;
        let ended = Instant::now();
        let data = store.data();
        let ready = data.instantiated_at.unwrap_or(ended);
        let times = RunTimes {
            instantiate: ready.saturating_duration_since(started),
            execute: ended.saturating_duration_since(ready),
            http: data.http_time(),
        };
        let result = match outcome {
            Ok(Ok(value)) => Ok(value),
            Err(_elapsed) => Err(CallFailure::Timeout { tool: tool.into(), limit: limits.timeout }),
            Ok(Err(_)) if data.limiter.hit() => {
                Err(CallFailure::Memory { tool: tool.into(), limit: data.limiter.limit() })
            }
            Ok(Err(error)) => {
                let reason = match data.stderr_tail() {
                    Some(tail) => format!("{}; its last lines on stderr:\n{tail}", describe_error(&error)),
                    None => describe_error(&error),
                };
                Err(CallFailure::Trap { tool: tool.into(), reason })
            }
        };
        (result, times, store)
    }

    /// The component ready to instantiate, loading it on first use. Concurrent first calls share
    /// one load. A component that cannot be compiled or linked fails every later call at once
    /// with the same reason; other failures (a file that cannot be read) are retried.
    pub async fn load(&self, component: &Component) -> anyhow::Result<Arc<Linked>> {
        if let Some(reason) = component.failed.get() {
            anyhow::bail!("{reason}");
        }
        component
            .loaded
            .get_or_try_init(|| async {
                let prepared = self.prepare(&component.sha256, &component.source, None).await;
                let (pre, kind) = prepared.inspect_err(|e| {
                    if e.downcast_ref::<Permanent>().is_some() {
                        let _ = component.failed.set(format!("{e:#}"));
                    }
                })?;
                component.set_load_kind(kind);
                Ok::<_, anyhow::Error>(Arc::new(pre))
            })
            .await
            .cloned()
    }

    /// Loads a component from the AOT cache, or compiles it (off the async threads) and stores the
    /// artifact; then links it. `bytes` saves a read when the caller already has them.
    pub(super) async fn prepare(
        &self,
        sha256: &str,
        source: &ComponentSource,
        bytes: Option<&[u8]>,
    ) -> anyhow::Result<(Linked, LoadKind)> {
        let (component, kind) = self.load_component(sha256, source, bytes).await?;
        Ok((self.link(&component, &source.label())?, kind))
    }

    /// Links a loaded component: its imports against the host's; its exports against the world
    /// when it exports `ide-agents:tool/tools`, otherwise as a plain typed component.
    pub(super) fn link(&self, component: &wasmtime::component::Component, label: &str) -> anyhow::Result<Linked> {
        let instance_pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| permanent(format!("{label} does not fit the ide-agents:tool world: {e:#}")))?;
        if component.get_export_index(None, TOOLS_EXPORT).is_some() {
            let tool = ToolPre::new(instance_pre).and_then(ToolLinked::new).map_err(|e| {
                permanent(format!("{label} does not export ide-agents:tool/tools as the WIT says: {e:#}"))
            })?;
            return Ok(Linked::Tool(tool));
        }
        PlainPre::new(instance_pre, &self.engine).map(Linked::Plain).map_err(|e| {
            permanent(format!(
                "{label} exports neither ide-agents:tool/tools nor a function that can be served as a tool: {e}"
            ))
        })
    }

    /// Loads a component from the AOT cache, or compiles it within the compile budget and stores
    /// the artifact.
    pub(super) async fn load_component(
        &self,
        sha256: &str,
        source: &ComponentSource,
        bytes: Option<&[u8]>,
    ) -> anyhow::Result<(wasmtime::component::Component, LoadKind)> {
        let label = source.label();
        let artifact_path = self.cache.as_ref().map(|c| c.artifact_path(sha256, &self.engine_key));
        let cached = artifact_path.as_deref().filter(|path| Cache::artifact_intact(path)).and_then(|path| {
            self.deserialize_file(path)
                .inspect_err(|e| tracing::warn!(component = %label, "AOT artifact unusable, recompiling: {e:#}"))
                .ok()
        });
        let (component, kind) = match cached {
            Some(component) => {
                tracing::info!(component = %label, "loaded component from AOT cache");
                (component, LoadKind::Aot)
            }
            None => {
                let bytes = match bytes {
                    Some(b) => Cow::Borrowed(b),
                    None => source.read().with_context(|| format!("cannot read {label}"))?,
                };
                anyhow::ensure!(
                    component_hash(&bytes) == sha256,
                    "{label} changed on disk since it was described and is not loaded yet: restart the server to serve the \
                     new version (with `serve --watch` it is swapped in once it describes)"
                );
                let compiled = self.compile(source, bytes.into_owned(), artifact_path).await?;
                let component = self.deserialize(&compiled).map_err(|e| permanent(load_failure(&label, &e)))?;
                (component, LoadKind::Compile)
            }
        };
        Ok((component, kind))
    }

    /// Compiles `bytes` within the compile budget, in the compiler process (a built-in too: see
    /// `compile.rs`), and stores the artifact at `artifact_path`. The compile runs as a task of
    /// its own: if the call that asked gives up, it still finishes and stores the artifact for
    /// the next call.
    async fn compile(
        &self,
        source: &ComponentSource,
        bytes: Vec<u8>,
        artifact_path: Option<std::path::PathBuf>,
    ) -> anyhow::Result<Vec<u8>> {
        let label = source.label();
        let engine = self.engine.clone();
        let compiler = self.compiler.clone();
        let trusted = source.is_builtin();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let compiled =
                compiler.compile(&engine, bytes, trusted).await.map_err(|e| permanent(format!("{label}: {e:#}")))?;
            tracing::info!(component = %label, ms = started.elapsed().as_millis() as u64, "compiled component");
            if let Some(path) = &artifact_path
                && let Err(e) = Cache::write_artifact(path, &compiled)
            {
                tracing::warn!(path = %path.display(), "cannot store AOT artifact: {e}");
            }
            Ok::<_, anyhow::Error>(compiled)
        });
        task.await.context("compiler task failed")?
    }

    #[expect(unsafe_code, reason = "wasmtime requires `unsafe` to load precompiled code")]
    fn deserialize(&self, artifact: &[u8]) -> anyhow::Result<wasmtime::component::Component> {
        // SAFETY: `artifact` was produced just now, in memory, by this engine's
        // `Engine::precompile_component` (cached artifacts go through `deserialize_file`).
        unsafe { wasmtime::component::Component::deserialize(&self.engine, artifact) }.map_err(anyhow::Error::from)
    }

    #[expect(unsafe_code, reason = "wasmtime requires `unsafe` to load precompiled code")]
    fn deserialize_file(&self, path: &Path) -> anyhow::Result<wasmtime::component::Component> {
        // SAFETY: the file at `path` was produced by `Engine::precompile_component` of an engine
        // with the same artifact key (wasmtime version and configuration), stored by this
        // server's `Cache::write_artifact`, and passed its SHA-256 footer check just now (wasmtime
        // reads the ELF image and ignores the footer after it). wasmtime maps the file; the cache
        // only ever replaces a file by renaming a new one over it, so a mapped file is never
        // changed in place.
        unsafe { wasmtime::component::Component::deserialize_file(&self.engine, path) }.map_err(anyhow::Error::from)
    }
}

impl CallReport {
    /// This report with the times of the guarded run.
    fn with(mut self, times: RunTimes) -> Self {
        self.instantiate = times.instantiate;
        self.execute = times.execute;
        self.http = times.http;
        self
    }
}

/// A call's outcome, with an answer over the output limit turned into that failure.
fn checked_size(tool: &str, outcome: CallOutcome, limits: CallLimits) -> CallOutcome {
    outcome.and_then(|answer| match &answer {
        Ok(r) if output_size(r) > limits.max_output_bytes => {
            Err(CallFailure::OutputTooLarge { tool: tool.into(), size: output_size(r), limit: limits.max_output_bytes })
        }
        _ => Ok(answer),
    })
}

/// A load failure that will not go away by trying again (the component does not compile, does
/// not fit its budget, or does not link): remembered by the component.
#[derive(Debug)]
pub struct Permanent(String);

impl std::fmt::Display for Permanent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Permanent {}

fn permanent(message: String) -> anyhow::Error {
    anyhow::Error::new(Permanent(message))
}

/// Why a compiled component cannot be loaded, with the configuration key to change when it is a
/// pool limit (wasmtime names the limit, not our setting).
fn load_failure(label: &str, e: &anyhow::Error) -> String {
    let reason = format!("{e:#}");
    if reason.contains("core module instances") {
        format!("{label}: {reason} (limits.max_core_instances_per_component in the configuration raises it)")
    } else {
        format!("{label}: {reason}")
    }
}

/// Bytes of a result: text, media, links and structured output.
fn output_size(result: &CallResult) -> usize {
    use crate::bindings::Content;
    let blocks: usize = result
        .content
        .iter()
        .map(|c| match c {
            Content::Text(t) => t.len(),
            Content::Image(m) | Content::Audio(m) => m.data.len() + m.mime_type.len(),
            Content::ResourceLink(l) => l.uri.len() + l.name.len() + l.description.as_ref().map_or(0, String::len),
        })
        .sum();
    blocks + result.structured.as_ref().map_or(0, String::len)
}

/// The most useful one-line description of a guest failure: the trap code when there is one.
fn describe_error(error: &wasmtime::Error) -> String {
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => error.to_string(),
    }
}
