//! Startup discovery: for each component, its tools come from the descriptor cache when the
//! component's SHA-256 is known (nothing is compiled), or else from compiling it once and calling
//! its `describe` export (the AOT artifact and the descriptors are stored for next time).
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

    async fn describe(&self, source: &ComponentSource) -> anyhow::Result<(String, Vec<ToolSpec>)> {
        let label = source.label();
        let bytes = source.read().with_context(|| format!("cannot read {label}"))?;
        let sha256 = match source {
            ComponentSource::Builtin(b) => b.sha256.to_owned(),
            ComponentSource::File(_) => component_hash(&bytes),
        };
        if let Some(specs) = self.cache.as_ref().and_then(|c| c.read_descriptors(&sha256)) {
            tracing::debug!(component = %label, tools = specs.len(), "descriptors from cache");
            return Ok((sha256, specs));
        }
        let (pre, _) = self.prepare(&sha256, source, Some(&bytes)).await?;
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
        if let Some(cache) = &self.cache
            && let Err(e) = cache.write_descriptors(&sha256, &specs)
        {
            tracing::warn!(component = %label, "cannot store descriptors: {e}");
        }
        Ok((sha256, specs))
    }
}
