//! The components compiled into the binary (built from `guest-tools/` by `build.rs`), each with
//! its group, its SHA-256 and, when the build had them, its tool descriptors: so a first start
//! lists the built-in tools without compiling anything.

/// Which group a tool belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Built in and always registered.
    Core,
    /// Built in, registered only in ULTRA mode (the ML tools).
    Ultra,
    /// From a tools directory.
    Extension,
}

impl Group {
    /// The group's name in catalogs: `core`, `ultra` or `extension`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Ultra => "ultra",
            Self::Extension => "extension",
        }
    }
}

/// One built-in component.
#[derive(Debug)]
pub struct Builtin {
    /// Crate name of the component.
    pub name: &'static str,
    /// Which tool group it belongs to.
    pub group: Group,
    /// Hex SHA-256 of `bytes`, computed at build time.
    pub sha256: &'static str,
    /// The component.
    pub bytes: &'static [u8],
    /// Its tool descriptors as JSON (what `describe` returns), recorded at build time; `None`
    /// when the build had none for it (then discovery describes it the usual way).
    pub descriptors: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use wasmtime::Store;
    use wasmtime::component::Component;

    use super::BUILTIN_COMPONENTS;
    use crate::bindings::ToolPre;
    use crate::caches::GuestCache;
    use crate::host::http::{HttpClient, HttpSettings};
    use crate::host::{CallEnv, Detached, HostServices, HostState};
    use crate::runtime::{engine, limits};

    /// The shipped tools are built without WASI (`docs/design/0013-wasi-free-builtins.md`): health
    /// imports only `ide-agents:tool` interfaces, and a call in a fresh instance grows no memory (the SDK's allocator starts in the free tail of the initial memory, which the guests'
    /// cargo configuration makes large enough).
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn builtins_import_no_wasi_and_a_health_call_grows_no_memory() {
        let engine = engine::build(engine::EngineSettings {
            max_concurrent_calls: 2,
            max_memory: 64 << 20,
            idle_instances: 0,
            max_core_instances_per_component: limits::DEFAULT_MAX_CORE_INSTANCES_PER_COMPONENT,
        })
        .unwrap();
        let health = BUILTIN_COMPONENTS.iter().find(|b| b.name == "health").unwrap();
        let component = Component::new(&engine, health.bytes).unwrap();
        let imports: Vec<String> = component.component_type().imports(&engine).map(|(name, _)| name.into()).collect();
        assert!(imports.iter().all(|name| name.starts_with("ide-agents:tool/")), "health imports {imports:?}");

        let services = Arc::new(HostServices {
            http: HttpClient::new(HttpSettings::default(), Default::default()).unwrap(),
            guest_cache: GuestCache::new(1 << 20, 1 << 20, 1 << 16, std::time::Duration::from_secs(60)),
            storage: crate::host::storage::Storage::default(),
        });
        let env = CallEnv {
            tool: "ide_agents_health".into(),
            component: "builtin:health".into(),
            progress_token: None,
            hooks: Arc::new(Detached),
            services,
            policy: Arc::default(),
        };
        let mut store = Store::new(&engine, HostState::new(env, 64 << 20));
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(u64::MAX / 2);
        let pre = ToolPre::new(crate::host::linker(&engine).unwrap().instantiate_pre(&component).unwrap()).unwrap();
        let tool = pre.instantiate_async(&mut store).await.unwrap();
        let initial = store.data().limiter.peak();
        let result = tool.ide_agents_tool_tools().call_call(&mut store, "ide_agents_health", "{}").await.unwrap();
        assert!(result.is_ok_and(|r| !r.is_error));
        assert_eq!(store.data().limiter.peak(), initial, "the health call grew its memory from {initial} bytes");
    }
}
