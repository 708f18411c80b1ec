//! The on-disk cache: tool descriptors and AOT-compiled components, under one directory.
//!
//! ```text
//! <cache-dir>/descriptors/<component-sha256>.json        what `describe` returned, validated
//! <cache-dir>/descriptors/<component-sha256>.failed.json why it could not be used, and under
//!                                                        which engine and budgets
//! <cache-dir>/aot/<component-sha256>-<engine-key>.cwasm  compiled code + SHA-256 footer
//! ```
//!
//! Files are written to a temporary name and renamed, so readers never see half a file. A file
//! that fails to parse or whose footer does not match is treated as missing (and rewritten): the
//! cache can only cost time, never correctness.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::registry::Descriptors;

/// Version of the descriptor file format; bump when [`Descriptors`] changes shape or what is
/// checked before they are stored (2: offerings; 3: registration caps, schemas fail closed).
const DESCRIPTOR_FORMAT: u32 = 3;
const FOOTER_LEN: usize = 32;
/// Read size when checking an artifact: few system calls, and a buffer that stays in cache.
const HASH_BUFFER_BYTES: usize = 64 << 10;

/// Handle to the cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct DescriptorFile {
    format: u32,
    #[serde(flatten)]
    descriptors: Descriptors,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct FailureFile {
    format: u32,
    key: String,
    reason: String,
}

impl Cache {
    /// Uses (and creates) `root`.
    pub fn open(root: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(root.join("descriptors"))?;
        std::fs::create_dir_all(root.join("aot"))?;
        Ok(Self { root })
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn descriptor_path(&self, component_sha: &str) -> PathBuf {
        self.root.join("descriptors").join(format!("{component_sha}.json"))
    }

    /// Path of the AOT artifact for a component under an engine key.
    pub fn artifact_path(&self, component_sha: &str, engine_key: &str) -> PathBuf {
        self.root.join("aot").join(format!("{component_sha}-{engine_key}.cwasm"))
    }

    /// The cached descriptors of a component, if present and readable.
    pub fn read_descriptors(&self, component_sha: &str) -> Option<Descriptors> {
        let path = self.descriptor_path(component_sha);
        let bytes = std::fs::read(&path).ok()?;
        match serde_json::from_slice::<DescriptorFile>(&bytes) {
            Ok(file) if file.format == DESCRIPTOR_FORMAT => Some(file.descriptors),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(path = %path.display(), "ignoring corrupt descriptor cache entry: {e}");
                None
            }
        }
    }

    /// Stores the descriptors of a component.
    pub fn write_descriptors(&self, component_sha: &str, descriptors: &Descriptors) -> std::io::Result<()> {
        let file = DescriptorFile { format: DESCRIPTOR_FORMAT, descriptors: descriptors.clone() };
        let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        write_atomically(&self.descriptor_path(component_sha), &bytes)
    }

    /// Where the failure of a component is remembered.
    pub fn failure_path(&self, component_sha: &str) -> PathBuf {
        self.root.join("descriptors").join(format!("{component_sha}.failed.json"))
    }

    /// Why the component failed before, if it failed under the same `key` (engine and budgets).
    pub fn read_failure(&self, component_sha: &str, key: &str) -> Option<String> {
        let bytes = std::fs::read(self.failure_path(component_sha)).ok()?;
        let file: FailureFile = serde_json::from_slice(&bytes).ok()?;
        (file.format == DESCRIPTOR_FORMAT && file.key == key).then_some(file.reason)
    }

    /// Remembers that the component failed, and why.
    pub fn write_failure(&self, component_sha: &str, key: &str, reason: &str) -> std::io::Result<()> {
        let file = FailureFile { format: DESCRIPTOR_FORMAT, key: key.to_owned(), reason: reason.to_owned() };
        let bytes = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
        write_atomically(&self.failure_path(component_sha), &bytes)
    }

    /// Whether the compiled artifact at `path` is present and intact (its SHA-256 footer matches
    /// its body). The file is streamed through the hash, never held in memory: the caller then
    /// maps it with `Component::deserialize_file`, so its code pages come straight from the page
    /// cache instead of being read, copied and copied again.
    pub fn artifact_intact(path: &Path) -> bool {
        match footer_matches(path) {
            Ok(true) => true,
            Ok(false) => {
                tracing::warn!(path = %path.display(), "ignoring corrupt AOT artifact (truncated, or checksum mismatch)");
                false
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot read AOT artifact: {e}");
                false
            }
        }
    }

    /// Stores a compiled artifact with its SHA-256 footer.
    pub fn write_artifact(path: &Path, compiled: &[u8]) -> std::io::Result<()> {
        let mut bytes = Vec::with_capacity(compiled.len() + FOOTER_LEN);
        bytes.extend_from_slice(compiled);
        bytes.extend_from_slice(&Sha256::digest(compiled));
        write_atomically(path, &bytes)
    }
}

/// Hashes the body of the file at `path` and compares it with its footer.
fn footer_matches(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let Some(body_len) = file.metadata()?.len().checked_sub(FOOTER_LEN as u64) else {
        return Ok(false);
    };
    let mut body = std::io::BufReader::with_capacity(HASH_BUFFER_BYTES, file.take(body_len));
    let mut hasher = Sha256::new();
    std::io::copy(&mut body, &mut hasher)?;
    let mut footer = [0; FOOTER_LEN];
    body.into_inner().into_inner().read_exact(&mut footer)?;
    Ok(hasher.finalize().as_slice() == footer)
}

/// Writes `bytes` to a temporary sibling of `path`, then renames it into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The default cache directory: `$XDG_CACHE_HOME/ide-agents-mcp`, else `~/.cache/ide-agents-mcp`.
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("ide-agents-mcp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_round_trip_and_corruption_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.cwasm");
        assert!(!Cache::artifact_intact(&path), "a missing file is not intact");
        let body = vec![0x5a; 3 * HASH_BUFFER_BYTES + 7];
        Cache::write_artifact(&path, &body).unwrap();
        assert!(Cache::artifact_intact(&path));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..body.len()], body, "the body is stored as is, the footer after it");

        for at in [0, HASH_BUFFER_BYTES, body.len() - 1, body.len()] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1;
            std::fs::write(&path, &flipped).unwrap();
            assert!(!Cache::artifact_intact(&path), "flipped bit at {at} must be detected");
        }

        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(!Cache::artifact_intact(&path), "truncated file must be detected");
        std::fs::write(&path, b"short").unwrap();
        assert!(!Cache::artifact_intact(&path), "a file shorter than the footer must be detected");
    }

    #[test]
    fn corrupt_descriptor_file_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path().to_path_buf()).unwrap();
        assert!(cache.read_descriptors("abc").is_none());
        std::fs::write(dir.path().join("descriptors/abc.json"), b"{not json").unwrap();
        assert!(cache.read_descriptors("abc").is_none());
    }

    #[test]
    fn failures_are_remembered_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path().to_path_buf()).unwrap();
        assert!(cache.read_failure("abc", "k1").is_none());
        cache.write_failure("abc", "k1", "describe looped").unwrap();
        assert_eq!(cache.read_failure("abc", "k1").as_deref(), Some("describe looped"));
        assert!(cache.read_failure("abc", "k2").is_none(), "another budget tries again");
        assert!(cache.read_descriptors("abc").is_none());
    }
}
