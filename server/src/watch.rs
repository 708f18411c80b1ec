//! `serve --watch`: the live loop for tool authors. The tools directories are polled every
//! [`POLL`]; a component file that was added or changed, once it has stayed the same for one more
//! poll (so a half-written build output is not taken), is compiled and described in the
//! background like a component found at startup, and swapped into the registry; a removed file's
//! tools go. Each swap sends `notifications/tools/list_changed` (and the resource and prompt list
//! changes). Calls in flight finish on the version they started with. A new version that cannot
//! be served (does not compile, link or describe) is reported on stderr and the previous version
//! keeps serving. Part of the composition root.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::mcp::McpServer;
use crate::runtime::discover::Pending;
use crate::runtime::registry::{self, ComponentSource, component_hash};

/// How often the tools directories are read.
pub const POLL: Duration = Duration::from_millis(250);

/// What tells a file's versions apart without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

/// Watches `dirs` for as long as the server runs, from the end of startup discovery on (a
/// component still being described at startup is not swapped meanwhile). The baseline is what is
/// served, not a first listing: every file is settled and hashed once when watching starts, and
/// one whose content differs from its served version (changed while startup discovery read it,
/// or before the first listing) is swapped like any later change. A file that could not be
/// served at startup is tried once more then.
pub fn spawn(server: Arc<McpServer>, dirs: Vec<PathBuf>) {
    tokio::spawn(async move {
        while server.discovery_pending() {
            tokio::time::sleep(POLL).await;
        }
        let mut seen: HashMap<PathBuf, Stamp> = HashMap::new();
        let mut settling: HashMap<PathBuf, Stamp> = HashMap::new();
        let mut ticks = tokio::time::interval(POLL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let (mut now, unreadable) = scan(dirs.clone()).await;
            // A directory that cannot be read for a moment keeps what it had.
            for (path, stamp) in &seen {
                if path.parent().is_some_and(|d| unreadable.iter().any(|u| u == d)) {
                    now.entry(path.clone()).or_insert(*stamp);
                }
            }
            // A file still settling (the first pass settles every file) may be served too.
            let known: std::collections::HashSet<&PathBuf> = seen.keys().chain(settling.keys()).collect();
            for path in known.into_iter().filter(|p| !now.contains_key(*p)) {
                if server.registry().file_component(path).is_some() {
                    tracing::info!(component = %path.display(), "component removed; its tools are gone");
                    server.replace_file(path, None);
                }
            }
            seen.retain(|p, _| now.contains_key(p));
            settling.retain(|p, _| now.contains_key(p));
            for (path, stamp) in now {
                if seen.get(&path) == Some(&stamp) {
                    continue;
                }
                if settling.get(&path) == Some(&stamp) {
                    settling.remove(&path);
                    seen.insert(path.clone(), stamp);
                    load(&server, path).await;
                } else {
                    settling.insert(path, stamp);
                }
            }
        }
    });
}

/// Every component file in `dirs` (the rule of startup discovery) with its stamp, and the
/// directories that could not be read. Runs on the blocking pool.
async fn scan(dirs: Vec<PathBuf>) -> (HashMap<PathBuf, Stamp>, Vec<PathBuf>) {
    let listing = tokio::task::spawn_blocking(move || {
        let (mut found, mut unreadable) = (HashMap::new(), Vec::new());
        for dir in &dirs {
            let Ok(sources) = registry::sources(std::slice::from_ref(dir), false) else {
                unreadable.push(dir.clone());
                continue;
            };
            for source in sources {
                if let ComponentSource::File(path) = source
                    && let Ok(meta) = std::fs::metadata(&path)
                {
                    found.insert(path, Stamp { len: meta.len(), modified: meta.modified().ok() });
                }
            }
        }
        (found, unreadable)
    });
    listing.await.unwrap_or_default()
}

/// Describes the component now at `path` and swaps it in, unless it is the version already
/// served; keeps the previous version if the new one cannot be served.
async fn load(server: &Arc<McpServer>, path: PathBuf) {
    let reading = path.clone();
    let hashed = tokio::task::spawn_blocking(move || std::fs::read(&reading).map(|bytes| component_hash(&bytes)));
    let sha256 = match hashed.await {
        Ok(Ok(sha256)) => sha256,
        Ok(Err(e)) => return tracing::warn!(component = %path.display(), "cannot read changed component: {e}"),
        Err(e) => return tracing::warn!(component = %path.display(), "cannot hash changed component: {e}"),
    };
    let current = server.registry().file_component(&path).map(|c| c.sha256.clone());
    if current.as_deref() == Some(sha256.as_str()) {
        return;
    }
    let pending = Pending { order: 0, source: ComponentSource::File(path.clone()), sha256 };
    match server.runtime().describe_pending(pending).await {
        Some(described) => {
            server.replace_file(&path, Some(described));
            let registry = server.registry();
            let served = registry
                .tools()
                .iter()
                .filter(|t| matches!(&t.component.source, ComponentSource::File(p) if *p == path))
                .count();
            tracing::info!(component = %path.display(), tools = served, "component (re)loaded");
        }
        None if current.is_some() => {
            tracing::warn!(component = %path.display(), "the new version cannot be served; the previous one keeps serving");
        }
        None => {}
    }
}
