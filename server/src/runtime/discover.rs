//! Startup discovery: for each component, its tools come from the descriptors embedded at build
//! time (built-ins), or from the descriptor cache when the component's SHA-256 is known (nothing
//! is compiled either way), or else from compiling it once and calling its `describe` export
//! (the AOT artifact and the descriptors are stored for next time).
//!
//! A component that cannot be read, compiled, linked or described is reported on stderr with its
//! path and the reason; every other component keeps working.

use std::sync::Arc;

use anyhow::Context;

use super::Runtime;
use super::offerings::Offerings;
use super::registry::{Component, ComponentSource, Descriptors, Registry, component_hash};
use super::spec::ToolSpec;
use crate::bindings::Tool;
use crate::bindings::offerings::GuestIndices as OfferingsIndices;
use crate::host::{CallEnv, Detached};

impl Runtime {
    /// Builds the registry from `sources`, skipping (and reporting) unusable components.
    pub async fn discover(&self, sources: Vec<ComponentSource>) -> Registry {
        let mut registry = Registry::default();
        for source in sources {
            match self.describe(&source).await {
                Ok((sha256, descriptors)) => registry.add(Component::new(source, sha256), descriptors),
                Err(e) => tracing::error!(component = %source.label(), "skipping component: {e:#}"),
            }
        }
        registry
    }

    /// What `source` declares (tools and offerings), and its SHA-256.
    pub async fn describe(&self, source: &ComponentSource) -> anyhow::Result<(String, Descriptors)> {
        let label = source.label();
        if let ComponentSource::Builtin(b) = source
            && let Some(json) = b.descriptors
        {
            match serde_json::from_str::<Descriptors>(json) {
                Ok(descriptors) => return Ok((b.sha256.to_owned(), descriptors)),
                // A build with stale files (see `builtin_descriptors_are_current`): describe it.
                Err(e) => tracing::error!(component = %label, "embedded descriptors unusable, describing it: {e}"),
            }
        }
        let bytes = source.read().with_context(|| format!("cannot read {label}"))?;
        let sha256 = match source {
            ComponentSource::Builtin(b) => b.sha256.to_owned(),
            ComponentSource::File(_) => component_hash(&bytes),
        };
        if let Some(descriptors) = self.cache.as_ref().and_then(|c| c.read_descriptors(&sha256)) {
            tracing::debug!(component = %label, tools = descriptors.tools.len(), "descriptors from cache");
            return Ok((sha256, descriptors));
        }
        let descriptors = self.describe_compiled(&sha256, source, &bytes).await?;
        if let Some(cache) = &self.cache
            && let Err(e) = cache.write_descriptors(&sha256, &descriptors)
        {
            tracing::warn!(component = %label, "cannot store descriptors: {e}");
        }
        Ok((sha256, descriptors))
    }

    /// Compiles (or loads from the AOT cache) the component and calls its `tools.describe`, and
    /// its `offerings.describe` when it exports that interface.
    pub async fn describe_compiled(
        &self,
        sha256: &str,
        source: &ComponentSource,
        bytes: &[u8],
    ) -> anyhow::Result<Descriptors> {
        let label = source.label();
        let (pre, _) = self.prepare(sha256, source, Some(bytes)).await?;
        let env = CallEnv {
            tool: label.as_str().into(),
            progress_token: None,
            hooks: Arc::new(Detached),
            services: self.services.clone(),
            policy: Arc::default(),
        };
        // Components of the plain `tool` world do not export `offerings`.
        let offerings = OfferingsIndices::new(pre.instance_pre()).ok();
        let (described, _) = self
            .guarded(&label, env, self.default_limits(), async |store| {
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
        let (tools, catalog) = described.context("`describe` failed")?;
        let specs: Vec<ToolSpec> = tools
            .into_iter()
            .filter_map(|d| {
                ToolSpec::try_from(d).inspect_err(|e| tracing::error!(component = %label, "rejecting tool: {e}")).ok()
            })
            .collect();
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
            guest_cache: GuestCache::new(1 << 20, 1 << 16, std::time::Duration::from_secs(60)),
        });
        let runtime =
            Runtime::new(RuntimeSettings { cache_dir: None, ..RuntimeSettings::default() }, services).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("builtins");
        let update = std::env::var_os("UPDATE_GOLDEN").is_some();
        let mut stale = Vec::new();
        for builtin in BUILTIN_COMPONENTS {
            let source = ComponentSource::Builtin(builtin);
            let described = rt.block_on(runtime.describe_compiled(builtin.sha256, &source, builtin.bytes)).unwrap();
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
