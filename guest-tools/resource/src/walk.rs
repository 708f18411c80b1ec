//! Walking a granted root through the `workspace` interface: files under a directory, skipping
//! build output, dependencies and hidden directories, up to a limit.

use ide_agents_tool::workspace::{self, EntryKind, FsError};

/// Directories never descended into.
const SKIP_DIRS: &[&str] =
    &["target", "node_modules", "__pycache__", "venv", "dist", "build", "out", "coverage", "vendor"];

/// A file found by [`files`].
pub struct Found {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, ms since the epoch.
    pub modified_ms: u64,
}

/// Files under `dir` of `root` whose name `keep` accepts, sorted by path; at most `max` (the bool
/// says whether more were left out).
pub fn files(root: &str, dir: &str, max: usize, keep: impl Fn(&str) -> bool) -> Result<(Vec<Found>, bool), FsError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.trim_end_matches('/').to_owned()];
    let mut truncated = false;
    while let Some(current) = pending.pop() {
        for entry in workspace::list_dir(root, &current)? {
            let path = if current.is_empty() { entry.name.clone() } else { format!("{current}/{}", entry.name) };
            match entry.kind {
                EntryKind::Directory if !entry.name.starts_with('.') && !SKIP_DIRS.contains(&entry.name.as_str()) => {
                    pending.push(path);
                }
                EntryKind::File if keep(&entry.name) => {
                    if found.len() == max {
                        truncated = true;
                        continue;
                    }
                    found.push(Found { path, size: entry.size, modified_ms: entry.modified_ms });
                }
                _ => {}
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((found, truncated))
}

/// The text of `path` (lossy UTF-8), at most `max` bytes.
pub fn read_text(root: &str, path: &str, max: u64) -> Result<String, FsError> {
    workspace::read_file(root, path, Some(max)).map(|b| String::from_utf8_lossy(&b).into_owned())
}
