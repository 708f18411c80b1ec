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
use super::registry::{Component, ComponentSource, Registry, component_hash};
use super::spec::ToolSpec;
use crate::host::{CallEnv, Detached};

impl Runtime {
    /// Builds the registry from `sources`, skipping (and reporting) unusable components.
    pub async fn discover(&self, sources: Vec<ComponentSource>) -> Registry {
        let mut registry = Registry::default();
        for source in sources {
            match self.describe(&source).await {
                Ok((sha256, specs)) => registry.add(Component::new(source, sha256), specs),
                Err(e) => tracing::error!(component = %source.label(), "skipping component: {e:#}"),
            }
        }
        registry
    }

    /// The tools `source` provides, and its SHA-256.
    pub async fn describe(&self, source: &ComponentSource) -> anyhow::Result<(String, Vec<ToolSpec>)> {
        let label = source.label();
        if let ComponentSource::Builtin(b) = source
            && let Some(json) = b.descriptors
        {
            let specs: Vec<ToolSpec> = serde_json::from_str(json)
                .with_context(|| format!("the embedded descriptors of {label} are not valid"))?;
            return Ok((b.sha256.to_owned(), specs));
        }
        let bytes = source.read().with_context(|| format!("cannot read {label}"))?;
        let sha256 = match source {
            ComponentSource::Builtin(b) => b.sha256.to_owned(),
            ComponentSource::File(_) => component_hash(&bytes),
        };
        if let Some(specs) = self.cache.as_ref().and_then(|c| c.read_descriptors(&sha256)) {
            tracing::debug!(component = %label, tools = specs.len(), "descriptors from cache");
            return Ok((sha256, specs));
        }
        let specs = self.describe_compiled(&sha256, source, &bytes).await?;
        if let Some(cache) = &self.cache
            && let Err(e) = cache.write_descriptors(&sha256, &specs)
        {
            tracing::warn!(component = %label, "cannot store descriptors: {e}");
        }
        Ok((sha256, specs))
    }

    /// Compiles (or loads from the AOT cache) the component and calls its `describe`.
    pub async fn describe_compiled(
        &self,
        sha256: &str,
        source: &ComponentSource,
        bytes: &[u8],
    ) -> anyhow::Result<Vec<ToolSpec>> {
        let label = source.label();
        let (pre, _) = self.prepare(sha256, source, Some(bytes)).await?;
        let env = CallEnv {
            tool: label.as_str().into(),
            progress_token: None,
            hooks: Arc::new(Detached),
            services: self.services.clone(),
            policy: Arc::default(),
        };
        let (described, _) = self
            .guarded(&label, env, self.default_limits(), async |store| {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance.ide_agents_tool_tools().call_describe(store).await
            })
            .await;
        let descriptors = described.context("`describe` failed")?;
        let specs: Vec<ToolSpec> = descriptors
            .into_iter()
            .filter_map(|d| {
                ToolSpec::try_from(d).inspect_err(|e| tracing::error!(component = %label, "rejecting tool: {e}")).ok()
            })
            .collect();
        anyhow::ensure!(!specs.is_empty(), "the component describes no valid tools");
        Ok(specs)
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
            let embedded: Option<Vec<ToolSpec>> = builtin.descriptors.map(|j| serde_json::from_str(j).unwrap());
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
