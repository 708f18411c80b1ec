//! What the server makes of one component file, before it is ever served: for
//! `ide-agents-mcp check FILE.wasm`. The same steps discovery and the first call take, each
//! reported instead of logged: the file is a component, it compiles within the compile budget
//! (the artifact lands in the AOT cache, so the first call of a server sharing the cache loads
//! it), each import is one the host links (or why not), `describe` runs under the discovery
//! budget and what it declares passes the registration checks, and what a fresh instance costs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::Runtime;
use super::linked::Linked;
use super::registry::{ComponentSource, Descriptors, component_hash};
use crate::telemetry::LoadKind;

/// How many fresh instances the cost figures are medians of.
const COST_SAMPLES: usize = 25;

/// The findings of [`Runtime::inspect`].
#[derive(Debug, serde::Serialize)]
pub struct Inspection {
    /// Hex SHA-256 of the file.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// Whether it was compiled now or loaded from the AOT cache, and how long that took.
    pub load: Result<Loaded, String>,
    /// Each import and whether the host provides it.
    pub imports: Vec<Import>,
    /// The linker's verdict: `Err` names the first import or export that does not fit.
    pub link: Result<(), String>,
    /// What `describe` declared (and passed the checks), or why it was refused; for a plain
    /// typed component, the tools made of its exported functions.
    pub describe: Result<Descriptors, String>,
    /// For a plain typed component (no `tools` export): the exported functions not served, each
    /// with the reason. `None` for a component of the tool world.
    pub plain: Option<Vec<String>>,
    /// Median of fresh instantiate + drop, µs.
    pub instantiate_us: Option<f64>,
    /// Median of a fresh instance plus one `describe` call, µs.
    pub instance_and_describe_us: Option<f64>,
}

impl Inspection {
    /// Whether the server would serve the component.
    pub fn ok(&self) -> bool {
        self.load.is_ok() && self.link.is_ok() && self.describe.is_ok()
    }
}

/// How the component was loaded.
#[derive(Debug, serde::Serialize)]
pub struct Loaded {
    /// `compile` or `aot` (already in the cache).
    pub kind: &'static str,
    /// Milliseconds.
    pub ms: f64,
    /// The AOT artifact, when there is a cache directory.
    pub artifact: Option<PathBuf>,
}

/// One import of the component.
#[derive(Debug, serde::Serialize)]
pub struct Import {
    /// Its name, e.g. `wasi:http/types@0.2.6`.
    pub name: String,
    /// `None` if the host provides it, else why not.
    pub missing: Option<String>,
}

/// Why a file cannot be inspected at all.
#[derive(Debug, thiserror::Error)]
pub enum NotAComponent {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    /// Not WebAssembly.
    #[error("{0} is not a WebAssembly binary (it does not start with \\0asm)")]
    NotWasm(String),
    /// A core module.
    #[error(
        "{0} is a core WebAssembly module, not a component: build for wasm32-wasip2, or wrap it with \
         `wasm-tools component new` and the WASI preview1 adapter"
    )]
    CoreModule(String),
}

impl Runtime {
    /// Compiles (into the AOT cache), links, describes and times the component at `path`.
    pub async fn inspect(&self, path: &Path) -> Result<Inspection, NotAComponent> {
        let label = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| NotAComponent::Read(label.clone(), e))?;
        match bytes.get(..8) {
            Some([0, b'a', b's', b'm', _, _, 1, 0]) => {}
            Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => return Err(NotAComponent::CoreModule(label)),
            _ => return Err(NotAComponent::NotWasm(label)),
        }
        let sha256 = component_hash(&bytes);
        let source = ComponentSource::File(path.to_owned());
        let started = Instant::now();
        let loaded = self.load_component(&sha256, &source, Some(&bytes)).await;
        let mut inspection = Inspection {
            bytes: bytes.len(),
            load: Err(String::new()),
            imports: Vec::new(),
            link: Err("not linked: the component did not load".into()),
            describe: Err("not described: the component did not link".into()),
            plain: None,
            instantiate_us: None,
            instance_and_describe_us: None,
            sha256,
        };
        let component = match loaded {
            Ok((component, kind)) => {
                inspection.load = Ok(Loaded {
                    kind: if kind == LoadKind::Compile { "compile" } else { "aot" },
                    ms: started.elapsed().as_secs_f64() * 1e3,
                    artifact: self.cache.as_ref().map(|c| c.artifact_path(&inspection.sha256, &self.engine_key)),
                });
                component
            }
            Err(e) => {
                inspection.load = Err(format!("{e:#}"));
                return Ok(inspection);
            }
        };
        inspection.imports = component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| Import { name: name.to_owned(), missing: host_lacks(name) })
            .collect();
        let pre = match self.link(&component, &label) {
            Ok(pre) => pre,
            Err(e) => {
                inspection.link = Err(format!("{e:#}"));
                return Ok(inspection);
            }
        };
        inspection.link = Ok(());
        if let Linked::Plain(plain) = &pre {
            inspection.plain = Some(plain.skipped.clone());
        }
        inspection.describe =
            self.describe_prepared(&inspection.sha256, &source, Some(&bytes), &pre).await.map_err(|e| format!("{e:#}"));
        if let Ok(descriptors) = &inspection.describe {
            let reserved: Vec<&str> = descriptors
                .tools
                .iter()
                .map(|t| t.name.as_str())
                .filter(|n| n.starts_with(super::registry::RESERVED_PREFIX))
                .collect();
            if !reserved.is_empty() {
                inspection.describe = Err(format!(
                    "tool names starting with `{}` belong to the built-in tools and would be refused: {}",
                    super::registry::RESERVED_PREFIX,
                    reserved.join(", ")
                ));
            }
        }
        if inspection.describe.is_ok() {
            let env = || self.detached_env(&label);
            let limits = self.describe_limits();
            let (mut instantiate, mut describe) = (Vec::new(), Vec::new());
            for _ in 0..COST_SAMPLES {
                let started = Instant::now();
                let (made, _) = self
                    .guarded(&label, env(), limits, async |store| {
                        pre.instance_pre().instantiate_async(&mut *store).await.map(drop)
                    })
                    .await;
                instantiate.extend(made.ok().map(|()| started.elapsed()));
                // A plain component has no `describe`: its functions are read from its types.
                let Linked::Tool(tool) = &pre else { continue };
                let started = Instant::now();
                let (described, _) = self
                    .guarded(&label, env(), limits, async |store| {
                        let instance = tool.pre.instance_pre().instantiate_async(&mut *store).await?;
                        let tools = crate::bindings::Tool::new(&mut *store, &instance)?;
                        tools.ide_agents_tool_tools().call_describe(&mut *store).await.map(drop)
                    })
                    .await;
                describe.extend(described.ok().map(|()| started.elapsed()));
            }
            inspection.instantiate_us = median_us(instantiate);
            inspection.instance_and_describe_us = median_us(describe);
        }
        Ok(inspection)
    }
}

fn median_us(mut samples: Vec<Duration>) -> Option<f64> {
    samples.sort();
    samples.get(samples.len() / 2).map(|d| d.as_secs_f64() * 1e6)
}

/// The WASI 0.2 packages the host links (`wasmtime_wasi::p2::add_to_linker_async`): no
/// preopened directories, no environment, no sockets granted. (`wasi:http` is read apart.)
const WASI_LINKED: &[&str] = &["cli", "clocks", "filesystem", "io", "random", "sockets"];

/// Why the host does not provide import `name` (`None` when it does). A name-level reading, for
/// the report; the linker's verdict ([`Inspection::link`]) is what counts.
pub fn host_lacks(name: &str) -> Option<String> {
    let (path, version) = name.split_once('@').unwrap_or((name, ""));
    let (package, interface) = path.split_once('/').unwrap_or((path, ""));
    match package {
        "ide-agents:tool" => {
            let served = crate::wit_package::package_id();
            let ours = served.split_once('@').map_or("", |(_, v)| v);
            let imported =
                ["types", "log", "progress", "host-facts", "http", "cache", "config", "workspace", "storage", "input"];
            if !imported.contains(&interface) {
                Some(format!("ide-agents:tool has no importable interface `{interface}` (this server serves {served})"))
            } else if !compatible(version, ours) {
                Some(format!("this server serves {served}; the component was built against @{version}"))
            } else {
                None
            }
        }
        // Outgoing requests only (see `host::wasi_http`): a tool is called, it does not serve.
        "wasi:http" => match (interface, version.starts_with("0.2.")) {
            ("types" | "outgoing-handler", true) => None,
            ("types" | "outgoing-handler", false) => Some(format!("the host links wasi:http 0.2.x, not @{version}")),
            _ => Some(format!(
                "wasi:http/{interface} is not linked: the host links outgoing requests (wasi:http/types and \
                 outgoing-handler, through each tool's `http_allow`)"
            )),
        },
        _ if package.starts_with("wasi:") => {
            let linked = WASI_LINKED.contains(&&package["wasi:".len()..]);
            match (linked, version.starts_with("0.2.")) {
                (true, true) => None,
                (true, false) => Some(format!("the host links WASI 0.2 ({package}@0.2.x), not @{version}")),
                (false, _) => {
                    Some(format!("{package} is not linked (the host links wasi:{})", WASI_LINKED.join(", wasi:")))
                }
            }
        }
        _ => Some("not part of the ide-agents:tool world or of WASI 0.2".into()),
    }
}

/// Whether semver `imported` is linked to `ours`: wasmtime's linker matches semver-compatible
/// versions in either direction (same major, and for 0.x the same minor; any patch).
fn compatible(imported: &str, ours: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    };
    match (parse(imported), parse(ours)) {
        (Some((a, b, _)), Some((x, y, _))) => a == x && (a > 0 || b == y),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_read_by_name() {
        assert_eq!(host_lacks("ide-agents:tool/log@0.1.0"), None);
        assert_eq!(host_lacks("wasi:io/streams@0.2.6"), None);
        assert_eq!(host_lacks("wasi:cli/environment@0.2.0"), None);
        assert_eq!(host_lacks("wasi:http/types@0.2.10"), None);
        assert_eq!(host_lacks("wasi:http/outgoing-handler@0.2.3"), None);
        assert!(host_lacks("wasi:http/incoming-handler@0.2.3").unwrap().contains("outgoing requests"));
        assert!(host_lacks("wasi:io/streams@0.3.0").unwrap().contains("WASI 0.2"));
        assert!(host_lacks("wasi:keyvalue/store@0.2.0").unwrap().contains("not linked"));
        assert!(host_lacks("ide-agents:tool/log@0.2.0").unwrap().contains("built against @0.2.0"));
        assert_eq!(host_lacks("ide-agents:tool/log@0.1.7"), None, "a newer patch links too");
        assert!(host_lacks("ide-agents:tool/tools@0.1.0").unwrap().contains("no importable interface"));
        assert!(host_lacks("acme:thing/x@1.0.0").is_some());
    }
}
