//! The component registry: which components exist, which tools they provide, and each component's
//! lazily loaded, ready-to-instantiate form.
//!
//! Components come from the binary (built-ins) and from `--tools-dir` directories (`*.wasm`).
//! Tools are kept sorted by name so `tools/list` is deterministic. Discovery lives in `discover.rs`,
//! loading and calling in `invoke.rs`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use serde::{Deserialize, Serialize};

use super::engine::hex;
use super::offerings::{Offerings, PromptDef, ResourceDef};
use super::spec::{ToolSpec, Validators};
use crate::bindings::ToolPre;
use crate::host::HostState;
use crate::telemetry::LoadKind;

pub use super::builtins::Group;

/// Where a component's bytes come from.
#[derive(Debug, Clone)]
pub enum ComponentSource {
    /// Compiled into the server binary.
    Builtin(&'static super::builtins::Builtin),
    /// A `.wasm` file in a tools directory.
    File(PathBuf),
}

impl ComponentSource {
    /// How logs and errors name this component.
    pub fn label(&self) -> String {
        match self {
            Self::Builtin(b) => format!("builtin:{}", b.name),
            Self::File(path) => path.display().to_string(),
        }
    }

    /// The component's bytes.
    pub fn read(&self) -> std::io::Result<Cow<'static, [u8]>> {
        match self {
            Self::Builtin(b) => Ok(Cow::Borrowed(b.bytes)),
            Self::File(path) => std::fs::read(path).map(Cow::Owned),
        }
    }

    /// Whether the component is compiled into the server binary.
    pub fn is_builtin(&self) -> bool {
        matches!(self, Self::Builtin(_))
    }

    /// The group the component's tools belong to.
    pub fn group(&self) -> Group {
        match self {
            Self::Builtin(b) => b.group,
            Self::File(_) => Group::Extension,
        }
    }
}

/// The built-in components (the ULTRA ones only when `ultra` is on) plus every `*.wasm` file in
/// `tools_dirs` (each directory sorted by name).
pub fn sources(tools_dirs: &[PathBuf], ultra: bool) -> anyhow::Result<Vec<ComponentSource>> {
    use anyhow::Context;
    let mut sources: Vec<ComponentSource> = super::builtins::BUILTIN_COMPONENTS
        .iter()
        .filter(|b| ultra || b.group != Group::Ultra)
        .map(ComponentSource::Builtin)
        .collect();
    for dir in tools_dirs {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read tools directory {}", dir.display()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
            .collect();
        files.sort();
        sources.extend(files.into_iter().map(ComponentSource::File));
    }
    Ok(sources)
}

/// Hex SHA-256 of a component's bytes: the key of its cache entries.
pub fn component_hash(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// What a component declares: its tools (`tools.describe`) and what it offers through them
/// (`offerings.describe`, empty for components of the plain `tool` world). Stored in the
/// descriptor cache, and embedded in the binary for the built-ins.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Descriptors {
    /// Its tools.
    pub tools: Vec<ToolSpec>,
    /// Its resources and prompts.
    #[serde(default)]
    pub offerings: Offerings,
}

/// An instance kept after a clean call, for the next call of a tool that opted into reuse.
pub struct Idle {
    /// Its store (state of the earlier calls included: that is what reuse means).
    pub store: wasmtime::Store<HostState>,
    /// Its exports.
    pub tool: crate::bindings::Tool,
}

/// One component of the registry.
pub struct Component {
    /// Where it comes from.
    pub source: ComponentSource,
    /// Hex SHA-256 of its bytes at discovery.
    pub sha256: String,
    /// The resources and prompts it offers.
    pub offerings: Offerings,
    /// Compiled and pre-linked on first call.
    pub(super) loaded: OnceCell<Arc<ToolPre<HostState>>>,
    /// How the load was done (set by the loading call).
    load_kind: std::sync::OnceLock<LoadKind>,
    /// Instances kept for reuse.
    idle: std::sync::Mutex<Vec<Idle>>,
}

impl Component {
    /// A component not loaded yet.
    pub fn new(source: ComponentSource, sha256: String) -> Self {
        Self {
            source,
            sha256,
            offerings: Offerings::default(),
            loaded: OnceCell::new(),
            load_kind: std::sync::OnceLock::new(),
            idle: std::sync::Mutex::default(),
        }
    }

    /// An idle instance, if one is kept.
    pub(super) fn take_idle(&self) -> Option<Idle> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Keeps `idle` unless `max` are kept already (then it is dropped); whether it was kept.
    pub(super) fn put_idle(&self, idle: Idle, max: usize) -> bool {
        let mut kept = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= max {
            return false;
        }
        kept.push(idle);
        true
    }

    /// How the component was loaded (AOT cache or compile).
    pub fn load_kind(&self) -> LoadKind {
        self.load_kind.get().copied().unwrap_or(LoadKind::None)
    }

    pub(super) fn set_load_kind(&self, kind: LoadKind) {
        let _ = self.load_kind.set(kind);
    }

    /// Whether the component has been compiled or loaded from the AOT cache.
    pub fn is_loaded(&self) -> bool {
        self.loaded.initialized()
    }
}

/// One tool and the component that provides it.
pub struct RegisteredTool {
    /// The validated descriptor.
    pub spec: ToolSpec,
    /// Index of the providing component in [`Registry::components`].
    pub component: usize,
    /// The name, shared with every call's environment and span.
    pub name: Arc<str>,
    /// Its key in the schema cache, `schema:{name}`.
    pub schema_key: String,
    validators: std::sync::OnceLock<Validators>,
}

impl RegisteredTool {
    /// Whether the validators are compiled already.
    pub fn validators_ready(&self) -> bool {
        self.validators.get().is_some()
    }

    /// The tool's schema validators, compiled on first use.
    pub fn validators(&self) -> &Validators {
        self.validators.get_or_init(|| Validators::compile(&self.spec))
    }
}

/// All components and tools known to the server.
#[derive(Default)]
pub struct Registry {
    components: Vec<Component>,
    tools: Vec<RegisteredTool>,
    index: HashMap<String, usize>,
}

impl Registry {
    /// Adds a component, its tools and its offerings. A tool whose name is already taken is
    /// skipped with a warning (first come, first served: built-ins before directories), and so is
    /// a resource or prompt whose name (or resource path) is taken, or whose tool was skipped.
    pub fn add(&mut self, mut component: Component, descriptors: Descriptors) {
        let index = self.components.len();
        let label = component.source.label();
        let mut added = Vec::new();
        for spec in descriptors.tools {
            if self.index.contains_key(&spec.name) {
                tracing::warn!(component = %label, tool = %spec.name, "tool name already registered; skipping");
                continue;
            }
            self.index.insert(spec.name.clone(), self.tools.len());
            added.push(spec.name.clone());
            let (name, schema_key) = (Arc::from(spec.name.as_str()), format!("schema:{}", spec.name));
            let validators = std::sync::OnceLock::new();
            self.tools.push(RegisteredTool { spec, component: index, name, schema_key, validators });
        }
        let Offerings { resources, prompts } = descriptors.offerings;
        let resources = resources.into_iter().filter(|r| {
            let taken = self.resources().any(|o| o.name == r.name || o.path == r.path);
            let kept = added.contains(&r.tool) && !taken;
            if !kept {
                tracing::warn!(component = %label, resource = %r.name, "resource already offered or its tool skipped; skipping");
            }
            kept
        });
        component.offerings.resources = resources.collect();
        let prompts = prompts.into_iter().filter(|p| {
            let kept = added.contains(&p.tool) && !self.prompts().any(|o| o.name == p.name);
            if !kept {
                tracing::warn!(component = %label, prompt = %p.name, "prompt already offered or its tool skipped; skipping");
            }
            kept
        });
        component.offerings.prompts = prompts.collect();
        self.components.push(component);
        self.tools.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        for (i, tool) in self.tools.iter().enumerate() {
            self.index.insert(tool.spec.name.clone(), i);
        }
    }

    /// The tool called `name`.
    pub fn tool(&self, name: &str) -> Option<&RegisteredTool> {
        self.index.get(name).map(|&i| &self.tools[i])
    }

    /// The position of the tool called `name` in [`Self::tools`].
    pub fn tool_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// All tools, sorted by name.
    pub fn tools(&self) -> &[RegisteredTool] {
        &self.tools
    }

    /// The component providing `tool`.
    pub fn component_of(&self, tool: &RegisteredTool) -> &Component {
        &self.components[tool.component]
    }

    /// All components, in discovery order.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// Names of the tools whose component is loaded, sorted.
    pub fn loaded_tool_names(&self) -> Vec<String> {
        self.tools.iter().filter(|t| self.components[t.component].is_loaded()).map(|t| t.spec.name.clone()).collect()
    }

    /// Every resource offered, by component in discovery order.
    pub fn resources(&self) -> impl Iterator<Item = &ResourceDef> {
        self.components.iter().flat_map(|c| &c.offerings.resources)
    }

    /// Every prompt offered, by component in discovery order.
    pub fn prompts(&self) -> impl Iterator<Item = &PromptDef> {
        self.components.iter().flat_map(|c| &c.offerings.prompts)
    }

    /// Names of all tools, sorted.
    pub fn tool_names(&self) -> Vec<String> {
        self.tools.iter().map(|t| t.spec.name.clone()).collect()
    }
}
