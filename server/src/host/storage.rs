//! `storage`: each tool's persistent key-value namespace on disk, under
//! `<cache-dir>/storage/<tool>/`, one file per key, bounded by the tool's quota
//! ([`ToolPolicy::storage_quota`](super::ToolPolicy), granted like a root: nothing by default).
//!
//! An entry file is a header ([`MAGIC`], the value's length, its CRC-32) followed by the value.
//! A `put` writes a temporary file in the same directory, syncs it and renames it over the old
//! entry, so a crash leaves the old value or the new one. A `get` checks the header and the
//! checksum; an entry that fails (truncated, flipped bits, another format) is removed and reads as
//! absent, so a tool rebuilds its state instead of trusting damaged bytes. The checksum guards
//! against damage, not tampering (the cache directory is the server's own), so it is CRC-32
//! (crc32fast, several GB/s) rather than a cryptographic digest: SHA-256 of the search tool's
//! 3.9 MB index took several ms of every warm query. Usage is counted from the
//! directory itself at each `put` (not remembered), so two servers sharing a cache directory
//! still keep each namespace under its quota, up to the writes they race on. Operations of one
//! namespace are serialised within a server; all file work runs on the bounded file I/O pool
//! ([`super::workspace::blocking`]), inside the call's own time limit.
//!
//! Shared by every call: the [`Storage`] (in [`HostServices`](super::HostServices)). A call owns
//! no storage state; the interface is implemented on [`StorageView`], a borrow of the storage and
//! of the calling tool's name and quota.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::component::{HasData, Linker};

use crate::bindings::ide_agents::tool::storage::{self, Host, QuotaUse, StorageError};

/// First bytes of every entry file: the format and its version (`IAMSTOR1` entries, with a
/// SHA-256, read as another format: dropped, and rebuilt by their tool).
pub const MAGIC: &[u8; 8] = b"IAMSTOR2";
/// Header bytes before the value: magic, value length (u64 little-endian), CRC-32 of the value
/// (u32 little-endian).
const HEADER_BYTES: usize = 8 + 8 + 4;
/// Longest key, bytes (keys are file names).
pub const MAX_KEY_BYTES: usize = 128;
/// Prefix of temporary files (keys cannot start with `.`).
const TEMP_PREFIX: &str = ".tmp-";

/// Distinguishes the temporary files of concurrent writers of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The storage directory and the per-namespace locks.
#[derive(Default)]
pub struct Storage {
    /// `<cache-dir>/storage`, or `None` when the server has no cache directory.
    root: Option<PathBuf>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Storage {
    /// Storage under `root` (created on first write), or none.
    pub fn new(root: Option<PathBuf>) -> Self {
        Self { root, locks: Mutex::default() }
    }

    /// The directory of `tool`'s namespace, if it can have one.
    fn namespace(&self, tool: &str) -> Result<PathBuf, StorageError> {
        let root = self.root.as_ref().ok_or_else(|| {
            StorageError::Unavailable("the server runs without a cache directory (--no-cache)".into())
        })?;
        // Tool names are `[A-Za-z0-9_.-]{1,128}`; `.` and `..` are not directory names.
        if tool.starts_with('.') || tool.contains('/') {
            return Err(StorageError::Unavailable(format!("tool name {tool:?} cannot name a storage directory")));
        }
        Ok(root.join(tool))
    }

    fn lock(&self, tool: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(tool.to_owned()).or_default().clone()
    }
}

/// Refuses keys that are not plain file names.
fn check_key(key: &str) -> Result<(), StorageError> {
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY_BYTES
        && !key.starts_with('.')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StorageError::InvalidKey(format!(
            "{key:?}: keys are 1-{MAX_KEY_BYTES} bytes of A-Z a-z 0-9 . _ - and do not start with `.`"
        )))
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StorageError {
    StorageError::Io(format!("{what} {}: {e}", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()))
}

/// The value of the entry file at `path` (at most `max` value bytes), `None` if absent; a damaged
/// entry is removed and reads as absent.
fn read_entry(path: &Path, max: u64) -> Result<Option<Vec<u8>>, StorageError> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("cannot open", path, e)),
    };
    // The header first, then the value straight into the buffer it is returned in (a 4 MB index
    // is not copied once more).
    let mut header = [0; HEADER_BYTES];
    let whole_header = match file.read_exact(&mut header) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
        Err(e) => return Err(io("cannot read", path, e)),
    };
    let len = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
    let mut value = Vec::new();
    if whole_header && header[..8] == MAGIC[..] && len <= max {
        value.reserve_exact(usize::try_from(len).unwrap_or(0));
        file.take(len + 1).read_to_end(&mut value).map_err(|e| io("cannot read", path, e))?;
    }
    if whole_header && intact(&header, &value) {
        return Ok(Some(value));
    }
    tracing::warn!(entry = %path.display(), "damaged storage entry dropped");
    std::fs::remove_file(path).map_err(|e| io("cannot remove damaged entry", path, e))?;
    Ok(None)
}

/// Whether `value` is what `header` describes: this format, its length, its checksum.
fn intact(header: &[u8; HEADER_BYTES], value: &[u8]) -> bool {
    header[..8] == MAGIC[..]
        && header[8..16] == (value.len() as u64).to_le_bytes()
        && header[16..20] == crc32fast::hash(value).to_le_bytes()
}

/// An entry file's bytes for `value`.
fn encode(value: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_BYTES + value.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(value.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(value).to_le_bytes());
    bytes.extend_from_slice(value);
    bytes
}

/// Value bytes and entries held in the namespace directory `dir` (temporary files not counted),
/// leaving out `except`.
fn usage(dir: &Path, except: Option<&str>) -> Result<(u64, u32), StorageError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(io("cannot list", dir, e)),
    };
    let (mut bytes, mut count) = (0u64, 0u32);
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || Some(name.as_ref()) == except {
            continue;
        }
        if let Ok(meta) = entry.metadata()
            && meta.is_file()
        {
            bytes += meta.len().saturating_sub(HEADER_BYTES as u64);
            count += 1;
        }
    }
    Ok((bytes, count))
}

/// Writes `value` under `key` in `dir` atomically, within `quota` value bytes for the namespace.
fn put_entry(dir: &Path, key: &str, value: &[u8], quota: u64) -> Result<(), StorageError> {
    let (others, _) = usage(dir, Some(key))?;
    if others + value.len() as u64 > quota {
        return Err(StorageError::QuotaExceeded(quota));
    }
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    let temp =
        dir.join(format!("{TEMP_PREFIX}{key}-{}-{}", std::process::id(), TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)));
    let written = (|| {
        let mut file = std::fs::File::create_new(&temp)?;
        file.write_all(&encode(value))?;
        file.sync_all()?;
        std::fs::rename(&temp, dir.join(key))
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io("cannot write", &dir.join(key), e));
    }
    // The rename is durable once the directory is synced; a failure here loses nothing written.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// One tool's namespace, as a call sees it.
struct Namespace {
    dir: PathBuf,
    quota: u64,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Namespace {
    /// Runs `f` on the directory and quota, serialised with the namespace's other operations in
    /// this server, on the file I/O pool.
    async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce(&Path, u64) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let _held = self.lock.lock().await;
        let (dir, quota) = (self.dir, self.quota);
        super::workspace::blocking(move || f(&dir, quota), StorageError::Io).await
    }
}

/// What `storage` sees of a call: the tools' storage, and the calling tool and its quota.
pub struct StorageView<'a> {
    pub(super) storage: &'a Storage,
    /// The calling tool, owner of the namespace.
    pub(super) tool: &'a str,
    /// Its quota in bytes (0: no storage).
    pub(super) quota: u64,
}

struct HasStorage;

impl HasData for HasStorage {
    type Data<'a> = StorageView<'a>;
}

/// Links `storage` into `linker`, reaching each store's storage through `view`.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> StorageView<'_>,
) -> wasmtime::Result<()> {
    storage::add_to_linker::<T, HasStorage>(linker, view)
}

impl StorageView<'_> {
    /// The calling tool's namespace, or why it has none.
    fn storage_namespace(&self) -> Result<Namespace, StorageError> {
        let quota = self.quota;
        if quota == 0 {
            return Err(StorageError::Unavailable(format!(
                "no storage is granted to `{}` (see [tools.<name>] storage_quota_mib)",
                self.tool
            )));
        }
        let storage = self.storage;
        Ok(Namespace { dir: storage.namespace(self.tool)?, quota, lock: storage.lock(self.tool) })
    }
}

impl Host for StorageView<'_> {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, StorageError> {
        check_key(&key)?;
        self.storage_namespace()?.run(move |dir, quota| read_entry(&dir.join(&key), quota)).await
    }

    async fn put(&mut self, key: String, value: Vec<u8>) -> Result<(), StorageError> {
        check_key(&key)?;
        self.storage_namespace()?.run(move |dir, quota| put_entry(dir, &key, &value, quota)).await
    }

    async fn delete(&mut self, key: String) -> Result<(), StorageError> {
        check_key(&key)?;
        self.storage_namespace()?
            .run(move |dir, _| match std::fs::remove_file(dir.join(&key)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("cannot remove", &dir.join(&key), e)),
                _ => Ok(()),
            })
            .await
    }

    async fn usage(&mut self) -> QuotaUse {
        let quota_bytes = self.quota;
        let counted = match self.storage_namespace() {
            Ok(namespace) => namespace.run(|dir, _| usage(dir, None)).await.unwrap_or((0, 0)),
            Err(_) => (0, 0),
        };
        QuotaUse { used_bytes: counted.0, quota_bytes, entries: counted.1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_reads_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        put_entry(dir.path(), "index.v1", b"hello", 100).unwrap();
        assert_eq!(read_entry(&dir.path().join("index.v1"), 100).unwrap().as_deref(), Some(&b"hello"[..]));
        put_entry(dir.path(), "index.v1", b"bye", 100).unwrap();
        assert_eq!(read_entry(&dir.path().join("index.v1"), 100).unwrap().as_deref(), Some(&b"bye"[..]));
        assert_eq!(read_entry(&dir.path().join("missing"), 100).unwrap(), None);

        // One flipped bit in the value, a truncation, and plain garbage: each dropped.
        let path = dir.path().join("index.v1");
        for damage in [0usize, 1, 2] {
            put_entry(dir.path(), "index.v1", b"payload", 100).unwrap();
            let mut bytes = std::fs::read(&path).unwrap();
            match damage {
                0 => *bytes.last_mut().unwrap() ^= 1,
                1 => bytes.truncate(bytes.len() - 2),
                _ => bytes = b"not an entry".to_vec(),
            }
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(read_entry(&path, 100).unwrap(), None, "damage {damage}");
            assert!(!path.exists(), "a damaged entry is removed");
        }
        // An entry of the earlier format (SHA-256 header) is another format: dropped.
        let mut old = b"IAMSTOR1".to_vec();
        old.extend_from_slice(&7u64.to_le_bytes());
        old.extend_from_slice(&[0; 32]);
        old.extend_from_slice(b"payload");
        std::fs::write(&path, old).unwrap();
        assert_eq!(read_entry(&path, 100).unwrap(), None);
    }

    #[test]
    fn the_quota_counts_every_entry_but_the_one_replaced() {
        let dir = tempfile::tempdir().unwrap();
        put_entry(dir.path(), "a", &[0; 60], 100).unwrap();
        assert!(matches!(put_entry(dir.path(), "b", &[0; 41], 100), Err(StorageError::QuotaExceeded(100))));
        put_entry(dir.path(), "b", &[0; 40], 100).unwrap();
        put_entry(dir.path(), "a", &[0; 10], 100).unwrap();
        assert_eq!(usage(dir.path(), None).unwrap(), (50, 2));
        assert!(
            std::fs::read_dir(dir.path()).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().starts_with('.'))
        );
    }

    #[test]
    fn keys_are_plain_file_names() {
        for good in ["index", "index.v1", "a-b_c.9"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "../x", "a/b", "é", &"k".repeat(129)] {
            assert!(matches!(check_key(bad), Err(StorageError::InvalidKey(_))), "{bad}");
        }
        let storage = Storage::new(Some(PathBuf::from("/tmp/x")));
        assert!(storage.namespace("..").is_err() && storage.namespace("ide_agents_ultra_search").is_ok());
        assert!(matches!(Storage::new(None).namespace("t"), Err(StorageError::Unavailable(_))));
    }
}
