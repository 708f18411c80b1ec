//! Startup discovery. Nothing here runs guest code before the server serves:
//!
//! - built-ins: their descriptors are embedded at build time;
//! - other components: from the descriptor cache when the component's SHA-256 is known, or a
//!   remembered failure (cached by digest like a success, so a bad component costs one attempt,
//!   not one per start);
//! - the rest are [`Pending`]: described afterwards ([`Runtime::describe_pending`], in the
//!   background while the server serves), compiled within the compile budget, with `describe`
//!   run under a tight budget of its own ([`Runtime::describe_limits`]); what they declare is
//!   checked against the registration caps (`spec.rs`) and their schemas must compile.
//!
//! A component that cannot be read, compiled, linked or described is reported on stderr with its
//! path and the reason; every other component keeps working.

use std::borrow::Cow;
use std::sync::Arc;

use anyhow::Context;

use super::Runtime;
use super::invoke::Permanent;
use super::linked::Linked;
use super::offerings::Offerings;
use super::plain::Docs;
use super::registry::{Component, ComponentSource, Descriptors, Registry, component_hash};
use super::spec::{self, ToolSpec, Validators};
use crate::bindings::offerings::Catalog;
use crate::bindings::offerings::GuestIndices as OfferingsIndices;
use crate::bindings::{Tool, ToolDescriptor};
use crate::host::{CallEnv, Detached};

/// A component whose descriptors are not known yet: it must be compiled and described.
#[derive(Debug)]
pub struct Pending {
    /// Its position in discovery order.
    pub order: usize,
    /// Where it comes from.
    pub source: ComponentSource,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
}

impl Runtime {
    /// Builds the registry from `sources`, describing every component first (waiting for each):
    /// for tests, benchmarks and tools that need the whole registry at once.
    pub async fn discover(&self, sources: Vec<ComponentSource>) -> Registry {
        let (mut registry, pending) = self.discover_known(sources);
        for p in pending {
            let order = p.order;
            if let Some((component, descriptors)) = self.describe_pending(p).await {
                registry.insert(order, component, descriptors);
            }
        }
        registry
    }

    /// The registry of every component whose descriptors are known without running guest code,
    /// and the components still to describe. Unusable components are reported and skipped.
    pub fn discover_known(&self, sources: Vec<ComponentSource>) -> (Registry, Vec<Pending>) {
        let mut registry = Registry::default();
        let mut pending = Vec::new();
        for (order, source) in sources.into_iter().enumerate() {
            match self.known(&source) {
                Ok(Known::Described(sha256, descriptors)) => {
                    registry.insert(order, Component::new(source, sha256), descriptors);
                }
                Ok(Known::Pending(sha256)) => pending.push(Pending { order, source, sha256 }),
                Err(e) => tracing::error!(component = %source.label(), "skipping component: {e:#}"),
            }
        }
        (registry, pending)
    }

    /// What is known of `source` without running it.
    fn known(&self, source: &ComponentSource) -> anyhow::Result<Known> {
        let label = source.label();
        if let ComponentSource::Builtin(b) = source {
            match b.descriptors.map(serde_json::from_str::<Descriptors>) {
                Some(Ok(descriptors)) => return Ok(Known::Described(b.sha256.to_owned(), descriptors)),
                // A build with stale files (see `builtin_descriptors_are_current`): describe it.
                Some(Err(e)) => {
                    tracing::error!(component = %label, "embedded descriptors unusable, describing it: {e}");
                }
                None => {}
            }
            return Ok(Known::Pending(b.sha256.to_owned()));
        }
        let ComponentSource::File(path) = source else { unreachable!("built-ins are handled above") };
        let max = self.settings.compile.max_component_bytes;
        let size = std::fs::metadata(path).with_context(|| format!("cannot read {label}"))?.len();
        anyhow::ensure!(
            size <= max as u64,
            "the component is {size} bytes, more than the limit of {max} bytes (limits.max_component_mib)"
        );
        let bytes = source.read().with_context(|| format!("cannot read {label}"))?;
        let sha256 = component_hash(&bytes);
        if let Some(cache) = &self.cache {
            if let Some(descriptors) = cache.read_descriptors(&sha256) {
                tracing::debug!(component = %label, tools = descriptors.tools.len(), "descriptors from cache");
                return Ok(Known::Described(sha256, descriptors));
            }
            if let Some(reason) = cache.read_failure(&sha256, &self.failure_key()) {
                anyhow::bail!(
                    "{reason} (remembered from an earlier start for this exact file; replace the file, or delete {}, to try again)",
                    cache.failure_path(&sha256).display()
                );
            }
        }
        Ok(Known::Pending(sha256))
    }

    /// Compiles and describes a pending component; stores the result, or the failure, in the
    /// cache by its digest. `None` (reported on stderr) if it is unusable. A failure to load that
    /// may go away (the file cannot be read, or no longer holds the content with this digest) is
    /// not remembered: it says nothing about the content the digest names.
    pub async fn describe_pending(&self, pending: Pending) -> Option<(Component, Descriptors)> {
        let Pending { source, sha256, .. } = pending;
        let label = source.label();
        let described = match self.prepare(&sha256, &source, None).await {
            Ok((linked, _)) => self.describe_prepared(&sha256, &source, None, &linked).await,
            Err(e) if e.downcast_ref::<Permanent>().is_none() => {
                tracing::error!(component = %label, "skipping component for now: {e:#}");
                return None;
            }
            Err(e) => Err(e),
        };
        match described {
            Ok(descriptors) => {
                if let Some(cache) = &self.cache
                    && let Err(e) = cache.write_descriptors(&sha256, &descriptors)
                {
                    tracing::warn!(component = %label, "cannot store descriptors: {e}");
                }
                tracing::info!(component = %label, tools = descriptors.tools.len(), "described component");
                Some((Component::new(source, sha256), descriptors))
            }
            Err(e) => {
                let reason = format!("{e:#}");
                tracing::error!(component = %label, "skipping component: {reason}");
                if !source.is_builtin()
                    && let Some(cache) = &self.cache
                    && let Err(e) = cache.write_failure(&sha256, &self.failure_key(), &reason)
                {
                    tracing::warn!(component = %label, "cannot remember the failure: {e}");
                }
                None
            }
        }
    }

    /// What a remembered failure depends on besides the component: the engine, the budgets and
    /// the pool's core-instance limit (a failure under a smaller one is tried again under a
    /// larger one).
    fn failure_key(&self) -> String {
        let s = &self.settings;
        format!(
            "{}-{}-{}-{}-{}-{}-{}",
            self.engine_key,
            s.describe_timeout.as_millis(),
            s.describe_memory,
            s.compile.timeout.as_millis(),
            s.compile.memory,
            s.max_core_instances_per_component,
            spec::CAPS_VERSION,
        )
    }

    /// Compiles (or loads from the AOT cache) the component and calls its `tools.describe`, and
    /// its `offerings.describe` when it exports that interface, within the describe budget; then
    /// checks what it declared.
    pub async fn describe_compiled(
        &self,
        sha256: &str,
        source: &ComponentSource,
        bytes: Option<&[u8]>,
    ) -> anyhow::Result<Descriptors> {
        let (linked, _) = self.prepare(sha256, source, bytes).await?;
        self.describe_prepared(sha256, source, bytes, &linked).await
    }

    /// Calls a linked component's `describe` (and `offerings.describe`) within the describe
    /// budget, or reads a plain component's functions (and its docs from `bytes`, or from its
    /// source when that still holds the content `sha256` names); then checks what it declared.
    pub(super) async fn describe_prepared(
        &self,
        sha256: &str,
        source: &ComponentSource,
        bytes: Option<&[u8]>,
        linked: &Linked,
    ) -> anyhow::Result<Descriptors> {
        let label = &source.label();
        let (tools, catalog) = match linked {
            Linked::Tool(tool) => self.describe_tool(label, &tool.pre).await?,
            Linked::Plain(plain) => {
                for reason in &plain.skipped {
                    tracing::warn!(component = %label, "function not served: {reason}");
                }
                let read = match bytes {
                    Some(bytes) => Some(Cow::Borrowed(bytes)),
                    None => source.read().ok().filter(|b| component_hash(b) == sha256),
                };
                (plain.descriptors(&read.map_or_else(Docs::default, |bytes| Docs::read(&bytes))), None)
            }
        };
        spec::check_caps(&tools).map_err(|e| anyhow::anyhow!("refused: {e}"))?;
        let mut specs = Vec::new();
        for descriptor in tools {
            let name = descriptor.name.clone();
            match ToolSpec::try_from(descriptor) {
                // Schemas fail closed: a tool whose schemas do not compile is not registered.
                Ok(spec) => match validate_schemas(&spec).await {
                    Ok(()) => specs.push(spec),
                    Err(e) => tracing::error!(component = %label, tool = %name, "refusing tool: {e}"),
                },
                Err(e) => tracing::error!(component = %label, "refusing tool: {e}"),
            }
        }
        anyhow::ensure!(!specs.is_empty(), "the component describes no valid tools");
        let offerings = match catalog {
            Some(catalog) => {
                Offerings::from_wit(catalog, &specs).map_err(|e| anyhow::anyhow!("invalid offerings: {e}"))?
            }
            None => Offerings::default(),
        };
        Ok(Descriptors { tools: specs, offerings })
    }
}

impl Runtime {
    /// Runs a tool-world component's `describe` (and `offerings.describe`) within the describe
    /// budget.
    async fn describe_tool(
        &self,
        label: &str,
        pre: &crate::bindings::ToolPre<crate::host::HostState>,
    ) -> anyhow::Result<(Vec<ToolDescriptor>, Option<Catalog>)> {
        let env = self.detached_env(label);
        // Components of the plain `tool` world do not export `offerings`.
        let offerings = OfferingsIndices::new(pre.instance_pre()).ok();
        let (described, _) = self
            .guarded(label, env, self.describe_limits(), async |store| {
                let instance = pre.instance_pre().instantiate_async(&mut *store).await?;
                let tools =
                    Tool::new(&mut *store, &instance)?.ide_agents_tool_tools().call_describe(&mut *store).await?;
                let catalog = match &offerings {
                    Some(indices) => Some(indices.load(&mut *store, &instance)?.call_describe(&mut *store).await?),
                    None => None,
                };
                Ok((tools, catalog))
            })
            .await;
        described.map_err(|e| anyhow::anyhow!("`describe` failed: {e}"))
    }

    /// The environment of a call made for the server itself (`describe`, `check`'s timings):
    /// no client to notify, no grants.
    pub(super) fn detached_env(&self, label: &str) -> CallEnv {
        CallEnv {
            tool: label.into(),
            component: label.into(),
            progress_token: None,
            hooks: Arc::new(Detached),
            services: self.services.clone(),
            policy: Arc::default(),
        }
    }
}

/// What discovery knows of a component without running it.
enum Known {
    /// Its digest and descriptors.
    Described(String, Descriptors),
    /// Its digest; it must be described.
    Pending(String),
}

/// Compiles `spec`'s schemas on the blocking pool (host CPU spent for the component stays off
/// the async workers), bounded in time.
async fn validate_schemas(spec: &ToolSpec) -> Result<(), String> {
    let owned = spec.clone();
    let compiling = tokio::task::spawn_blocking(move || Validators::check(&owned));
    match tokio::time::timeout(spec::SCHEMA_COMPILE_TIMEOUT, compiling).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(format!("schema compilation failed: {e}")),
        Err(_) => {
            Err(format!("its schemas took longer than {} ms to compile", spec::SCHEMA_COMPILE_TIMEOUT.as_millis()))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::caches::GuestCache;
    use crate::host::HostServices;
    use crate::host::http::{HttpClient, HttpSettings};
    use crate::runtime::{RuntimeSettings, builtins::BUILTIN_COMPONENTS};

    /// The descriptors embedded for each built-in (`server/builtins/<name>.json`) are what its
    /// component's `describe` returns. `UPDATE_GOLDEN=1` rewrites them (then rebuild).
    #[test]
    fn builtin_descriptors_are_current() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let services = Arc::new(HostServices {
            http: HttpClient::new(HttpSettings::default(), Default::default()).unwrap(),
            guest_cache: GuestCache::new(1 << 20, 1 << 20, 1 << 16, std::time::Duration::from_secs(60)),
            storage: crate::host::storage::Storage::default(),
        });
        let runtime =
            Runtime::new(RuntimeSettings { cache_dir: None, ..RuntimeSettings::default() }, services).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("builtins");
        let update = std::env::var_os("UPDATE_GOLDEN").is_some();
        let mut stale = Vec::new();
        for builtin in BUILTIN_COMPONENTS {
            let source = ComponentSource::Builtin(builtin);
            let described =
                rt.block_on(runtime.describe_compiled(builtin.sha256, &source, Some(builtin.bytes))).unwrap();
            let text = serde_json::to_string_pretty(&described).unwrap() + "\n";
            let embedded: Option<Descriptors> = builtin.descriptors.and_then(|j| serde_json::from_str(j).ok());
            if embedded.as_ref() != Some(&described) {
                if update {
                    std::fs::create_dir_all(&dir).unwrap();
                    std::fs::write(dir.join(format!("{}.json", builtin.name)), text).unwrap();
                }
                stale.push(builtin.name);
            }
        }
        assert!(
            update || stale.is_empty(),
            "embedded descriptors differ from what these components describe: {stale:?}; regenerate with \
             `UPDATE_GOLDEN=1 cargo test -p ide-agents-mcp --release --lib builtin_descriptors`, then rebuild"
        );
    }
}
