//! The component registry: which components exist, which tools they provide, and each component's
//! lazily loaded, ready-to-instantiate form.
//!
//! Components come from the binary (built-ins) and from `--tools-dir` directories (`*.wasm`).
//! Tools are kept sorted by name so `tools/list` is deterministic. Discovery lives in `discover.rs`,
//! loading and calling in `invoke.rs`.
//!
//! A registry is an immutable snapshot: components described later (in the background) are added
//! by building a new one ([`Registry::with`]) that keeps the tools already registered (and their
//! compiled validators); the server swaps snapshots ([`SharedRegistry`]). Who registers what is
//! decided at each build, in discovery order, so the outcome does not depend on which component
//! was described first:
//! - a name already taken is refused loudly (error on stderr), and so is an extension's name in
//!   the built-ins' namespace [`RESERVED_PREFIX`], loaded or not;
//! - each tool's policy is looked up in the [`PolicyBook`] for that component's identity, so
//!   grants meant for a built-in never reach an extension that takes its name.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use serde::{Deserialize, Serialize};

use super::engine::hex;
use super::offerings::{Offerings, PromptDef, ResourceDef};
use super::spec::{ToolSpec, Validators};
use crate::host::policy::{Identity, PolicyBook};
use crate::host::{HostState, ToolPolicy};
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

/// Tool names in this namespace belong to the built-in components; an extension may not take
/// one, whether or not that built-in is loaded.
pub const RESERVED_PREFIX: &str = "ide_agents_";

/// Default number of calls of one component running at once: a quarter of the server's slots, so
/// a component with many tools gets no larger share than one with a single tool.
pub const DEFAULT_MAX_CALLS_PER_COMPONENT: usize = super::limits::DEFAULT_MAX_CONCURRENT_CALLS / 4;

/// An instance kept after a clean call, for the next call of a tool that opted into reuse.
pub struct Idle {
    /// Its store (state of the earlier calls included: that is what reuse means).
    pub store: wasmtime::Store<HostState>,
    /// Its exports.
    pub tool: crate::bindings::Tool,
    /// Its place in the server-wide count of kept instances.
    pub counted: IdleCount,
}

/// One kept instance in the server-wide count; uncounted when dropped.
pub struct IdleCount(pub Arc<std::sync::atomic::AtomicUsize>);

impl Drop for IdleCount {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One component of the registry.
pub struct Component {
    /// Where it comes from.
    pub source: ComponentSource,
    /// Hex SHA-256 of its bytes at discovery.
    pub sha256: String,
    /// How logs, spans and the guest cache name it: its label (built-in name or file path).
    pub label: Arc<str>,
    /// Its position in discovery order (set when added to a registry).
    order: usize,
    /// Compiled and pre-linked on first call.
    pub(super) loaded: OnceCell<Arc<super::linked::Linked>>,
    /// How the load was done (set by the loading call).
    load_kind: std::sync::OnceLock<LoadKind>,
    /// Instances kept for reuse.
    idle: std::sync::Mutex<Vec<Idle>>,
    /// Why it cannot be loaded, once that is known for good.
    pub(super) failed: std::sync::OnceLock<String>,
}

impl Component {
    /// A component not loaded yet.
    pub fn new(source: ComponentSource, sha256: String) -> Self {
        Self {
            label: source.label().into(),
            order: 0,
            source,
            sha256,
            loaded: OnceCell::new(),
            load_kind: std::sync::OnceLock::new(),
            idle: std::sync::Mutex::default(),
            failed: std::sync::OnceLock::new(),
        }
    }

    /// Who the component is, for policy lookups.
    pub fn identity(&self) -> Identity<'_> {
        match &self.source {
            ComponentSource::Builtin(_) => Identity::Builtin,
            ComponentSource::File(path) => Identity::File { path, sha256: &self.sha256 },
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
    /// The providing component.
    pub component: Arc<Component>,
    /// The name, shared with every call's environment and span.
    pub name: Arc<str>,
    /// Its key in the schema cache, `schema:{component sha256 prefix}:{name}` (a component replaced
    /// by a new version, `serve --watch`, does not find its predecessor's rendering).
    pub schema_key: String,
    /// What it may do: looked up for its component's identity.
    pub policy: Arc<ToolPolicy>,
    /// Its component's share of the call slots (shared by the component's tools).
    pub component_slots: Arc<tokio::sync::Semaphore>,
    /// Its own concurrency limit (its policy's, or the default per tool), when that is tighter
    /// than its component's: otherwise the component's slots already bound it (and each
    /// semaphore costs a call a lock shared by every worker).
    pub own_slots: Option<tokio::sync::Semaphore>,
    validators: std::sync::OnceLock<Result<Validators, String>>,
}

impl RegisteredTool {
    /// Whether the validators are compiled already.
    pub fn validators_ready(&self) -> bool {
        self.validators.get().is_some()
    }

    /// The tool's schema validators, compiled on first use; `Err` (a schema that does not
    /// compile, which discovery refuses for components it describes) means no call may run.
    pub fn validators(&self) -> Result<&Validators, &str> {
        self.validators.get_or_init(|| Validators::compile(&self.spec)).as_ref().map_err(String::as_str)
    }
}

/// A described component and the tools made for it (registered or refused at each build).
struct Entry {
    component: Arc<Component>,
    tools: Vec<Arc<RegisteredTool>>,
    offerings: Offerings,
}

/// How tools are registered: the policies they are looked up in, and the size of each
/// component's (and tool's) share of the call slots.
#[derive(Clone)]
pub struct Registration {
    /// The policies.
    pub book: Arc<PolicyBook>,
    /// Calls of one component at once.
    pub max_calls_per_component: usize,
    /// Calls of one tool at once, unless its policy says otherwise.
    pub max_calls_per_tool: usize,
}

impl Default for Registration {
    fn default() -> Self {
        Self {
            book: Arc::default(),
            max_calls_per_component: DEFAULT_MAX_CALLS_PER_COMPONENT,
            max_calls_per_tool: super::limits::DEFAULT_MAX_CONCURRENT_CALLS_PER_TOOL,
        }
    }
}

/// All components and tools known to the server: one snapshot.
#[derive(Default)]
pub struct Registry {
    registration: Registration,
    entries: Vec<Entry>,
    tools: Vec<Arc<RegisteredTool>>,
    /// The names of `tools`, in order.
    names: Arc<[Arc<str>]>,
    index: HashMap<String, usize>,
    resources: Vec<ResourceDef>,
    prompts: Vec<PromptDef>,
}

impl Registry {
    /// An empty registry registering tools with `registration`.
    pub fn new(registration: Registration) -> Self {
        Self { registration, ..Self::default() }
    }

    /// Adds a component (after those added before it), its tools and its offerings; see the
    /// module documentation for what is refused.
    pub fn add(&mut self, component: Component, descriptors: Descriptors) {
        let order = self.entries.last().map_or(0, |e| e.component.order + 1);
        self.insert(order, component, descriptors);
    }

    /// Adds a component at position `order` of discovery (after the entries whose order is not
    /// higher), its tools and its offerings.
    pub fn insert(&mut self, order: usize, mut component: Component, descriptors: Descriptors) {
        component.order = order;
        let at = self.entries.partition_point(|e| e.component.order <= order);
        let entry = self.entry(Arc::new(component), descriptors);
        self.entries.insert(at, entry);
        self.rebuild();
    }

    /// A new snapshot with `component` inserted at `order`; the tools already registered are
    /// kept as they are (their validators too).
    pub fn with(&self, order: usize, component: Component, descriptors: Descriptors) -> Self {
        let entries = self
            .entries
            .iter()
            .map(|e| Entry { component: e.component.clone(), tools: e.tools.clone(), offerings: e.offerings.clone() })
            .collect();
        let mut next = Self { registration: self.registration.clone(), entries, ..Self::default() };
        next.insert(order, component, descriptors);
        next
    }

    /// The component loaded from the file `path`, if any.
    pub fn file_component(&self, path: &Path) -> Option<&Arc<Component>> {
        self.entries.iter().map(|e| &e.component).find(|c| matches!(&c.source, ComponentSource::File(p) if p == path))
    }

    /// A new snapshot without the component loaded from the file `path`, and with `replacement`
    /// in its place (or after every other component when there was none); the other tools are
    /// kept as they are (their validators too).
    pub fn replacing_file(&self, path: &Path, replacement: Option<(Component, Descriptors)>) -> Self {
        let old_order = self.file_component(path).map(|c| c.order);
        let next_order = self.entries.iter().map(|e| e.component.order + 1).max().unwrap_or(0);
        let entries = self
            .entries
            .iter()
            .filter(|e| !matches!(&e.component.source, ComponentSource::File(p) if p == path))
            .map(|e| Entry { component: e.component.clone(), tools: e.tools.clone(), offerings: e.offerings.clone() })
            .collect();
        let mut next = Self { registration: self.registration.clone(), entries, ..Self::default() };
        match replacement {
            Some((component, descriptors)) => next.insert(old_order.unwrap_or(next_order), component, descriptors),
            None => next.rebuild(),
        }
        next
    }

    /// This registry's components registered again with `registration` (tools are made anew: nothing is
    /// compiled yet at that point of startup).
    pub fn rebind(self, registration: Registration) -> Self {
        let mut next = Self { registration, ..Self::default() };
        for e in self.entries {
            let descriptors =
                Descriptors { tools: e.tools.iter().map(|t| t.spec.clone()).collect(), offerings: e.offerings };
            let entry = next.entry(e.component, descriptors);
            next.entries.push(entry);
        }
        next.rebuild();
        next
    }

    fn entry(&self, component: Arc<Component>, descriptors: Descriptors) -> Entry {
        let slots = Arc::new(tokio::sync::Semaphore::new(self.registration.max_calls_per_component.max(1)));
        let tools = descriptors
            .tools
            .into_iter()
            .map(|spec| {
                let policy = self.registration.book.for_tool(&spec.name, &component.identity());
                let limit = policy.max_concurrent_calls.unwrap_or(self.registration.max_calls_per_tool).max(1);
                let own_slots =
                    (limit < self.registration.max_calls_per_component).then(|| tokio::sync::Semaphore::new(limit));
                Arc::new(RegisteredTool {
                    name: Arc::from(spec.name.as_str()),
                    schema_key: format!("schema:{}:{}", &component.sha256[..component.sha256.len().min(16)], spec.name),
                    spec,
                    component: component.clone(),
                    policy,
                    component_slots: slots.clone(),
                    own_slots,
                    validators: std::sync::OnceLock::new(),
                })
            })
            .collect();
        Entry { component, tools, offerings: descriptors.offerings }
    }

    /// Decides, in discovery order, which tools, resources and prompts are registered.
    fn rebuild(&mut self) {
        let mut tools: Vec<Arc<RegisteredTool>> = Vec::new();
        let mut taken: HashMap<String, Arc<str>> = HashMap::new();
        let (mut resources, mut prompts) = (Vec::<ResourceDef>::new(), Vec::<PromptDef>::new());
        for entry in &self.entries {
            let label = &entry.component.label;
            let mut added = Vec::new();
            for tool in &entry.tools {
                let name = &tool.spec.name;
                if !entry.component.source.is_builtin() && name.starts_with(RESERVED_PREFIX) {
                    tracing::error!(component = %label, tool = %name, "refusing tool: names starting with `{RESERVED_PREFIX}` belong to the built-in tools");
                    continue;
                }
                if let Some(owner) = taken.get(name) {
                    tracing::error!(component = %label, tool = %name, owner = %owner, "refusing tool: another component already registered this name");
                    continue;
                }
                taken.insert(name.clone(), label.clone());
                added.push(name.as_str());
                tools.push(tool.clone());
            }
            for r in &entry.offerings.resources {
                let clash = resources.iter().any(|o| o.name == r.name || o.path == r.path);
                if clash || !added.contains(&r.tool.as_str()) {
                    tracing::warn!(component = %label, resource = %r.name, "resource already offered or its tool refused; skipping");
                } else {
                    resources.push(r.clone());
                }
            }
            for p in &entry.offerings.prompts {
                if prompts.iter().any(|o| o.name == p.name) || !added.contains(&p.tool.as_str()) {
                    tracing::warn!(component = %label, prompt = %p.name, "prompt already offered or its tool refused; skipping");
                } else {
                    prompts.push(p.clone());
                }
            }
        }
        tools.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        self.index = tools.iter().enumerate().map(|(i, t)| (t.spec.name.clone(), i)).collect();
        self.names = tools.iter().map(|t| t.name.clone()).collect();
        self.tools = tools;
        self.resources = resources;
        self.prompts = prompts;
    }

    /// The tool called `name`.
    pub fn tool(&self, name: &str) -> Option<&Arc<RegisteredTool>> {
        self.index.get(name).map(|&i| &self.tools[i])
    }

    /// The position of the tool called `name` in [`Self::tools`].
    pub fn tool_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// All tools, sorted by name.
    pub fn tools(&self) -> &[Arc<RegisteredTool>] {
        &self.tools
    }

    /// All components, in discovery order.
    pub fn components(&self) -> impl Iterator<Item = &Arc<Component>> {
        self.entries.iter().map(|e| &e.component)
    }

    /// Names of the tools whose component is loaded, sorted.
    pub fn loaded_tool_names(&self) -> Vec<Arc<str>> {
        self.tools.iter().filter(|t| t.component.is_loaded()).map(|t| t.name.clone()).collect()
    }

    /// Every resource offered, by component in discovery order.
    pub fn resources(&self) -> impl Iterator<Item = &ResourceDef> {
        self.resources.iter()
    }

    /// Every prompt offered, by component in discovery order.
    pub fn prompts(&self) -> impl Iterator<Item = &PromptDef> {
        self.prompts.iter()
    }

    /// Names of all tools, sorted (shared: made when the registry is).
    pub fn tool_names(&self) -> Arc<[Arc<str>]> {
        self.names.clone()
    }
}

/// The registry the server serves from: the current snapshot, replaced whole when components
/// arrive from background discovery.
pub struct SharedRegistry {
    current: std::sync::RwLock<Arc<Registry>>,
}

impl SharedRegistry {
    /// Serves `registry`.
    pub fn new(registry: Registry) -> Self {
        Self { current: std::sync::RwLock::new(Arc::new(registry)) }
    }

    /// The current snapshot.
    pub fn current(&self) -> Arc<Registry> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Adds a component at discovery position `order`; the new snapshot.
    pub fn add(&self, order: usize, component: Component, descriptors: Descriptors) -> Arc<Registry> {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        let next = Arc::new(current.with(order, component, descriptors));
        *current = next.clone();
        next
    }

    /// Replaces (or with `None` removes) the component loaded from the file `path`; the new
    /// snapshot. Calls already running keep the snapshot they started with.
    pub fn replace_file(&self, path: &Path, replacement: Option<(Component, Descriptors)>) -> Arc<Registry> {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        let next = Arc::new(current.replacing_file(path, replacement));
        *current = next.clone();
        next
    }
}
