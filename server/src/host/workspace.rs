//! `workspace`: read-only access to the directories granted to a tool, each under a root name.
//!
//! A [`Root`] is opened once at startup as a `cap_std::fs::Dir`; every access resolves its path
//! beneath that directory handle with cap-std, which refuses absolute paths, `..` that would leave
//! the root, and symlinks that point outside it (checked at each step, not by comparing strings).
//! We reject absolute paths and `..` ourselves first, so the error names the rule.
//!
//! Only regular files and directories are served: a file is opened with `O_NONBLOCK` and its type
//! checked with `fstat` before anything is read, so a FIFO, socket or device inside a root can
//! neither block a thread nor stream without end. Reads and listings run on the blocking pool,
//! at most [`FILE_IO_THREADS`] at once (a hung network file system then holds those threads, not
//! the pool that compiles components and validates schemas); a call waiting for one is bounded by
//! its own time limit, and a read is capped at [`MAX_READ_BYTES`].
//!
//! Listings are kept between calls and kept exact by inotify ([`Listings`]): an unchanged
//! directory is answered from memory, on the calling thread, with no `statx` per entry.
//!
//! A call owns no workspace state: the roots are opened at startup and granted by the tool's
//! policy, and the interface is implemented on [`WorkspaceView`], a borrow of those grants.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use wasmtime::component::{HasData, Linker};

use super::listings::{Listings, modified_ms};
use crate::bindings::ide_agents::tool::workspace::{self, Entry, EntryKind, FsError, Host};

/// Largest file a tool may read in one call, bytes: large enough for source files and logs,
/// small next to a call's memory limit.
pub const MAX_READ_BYTES: u64 = 16 << 20;

/// File reads and listings running at once across the server.
pub const FILE_IO_THREADS: usize = 8;

/// The permits of the file I/O pool.
static FILE_IO: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(FILE_IO_THREADS);

/// A directory granted read-only.
#[derive(Clone)]
pub struct Root {
    path: PathBuf,
    dir: Arc<Dir>,
    /// Listings kept between calls (shared by every tool granted this root).
    listings: Arc<Listings>,
}

impl std::fmt::Debug for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Root({})", self.path.display())
    }
}

impl Root {
    /// Opens `path`, which must be a directory.
    pub fn open(path: &Path) -> Result<Self, String> {
        let dir = Dir::open_ambient_dir(path, ambient_authority())
            .map_err(|e| format!("cannot open directory {}: {e}", path.display()))?;
        Ok(Self { path: path.to_path_buf(), dir: Arc::new(dir), listings: Arc::default() })
    }

    /// The directory on the host.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The contents of `path`, at most `max` bytes.
    pub fn read(&self, path: &str, max: u64) -> Result<Vec<u8>, FsError> {
        use cap_std::fs::OpenOptionsExt;
        let rel = relative(path)?;
        let mut options = cap_std::fs::OpenOptions::new();
        // Non-blocking, so that opening a FIFO does not wait for a writer.
        options.read(true).custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
        let file = self.dir.open_with(&rel, &options).map_err(|e| io_error(path, e))?;
        let meta = file.metadata().map_err(|e| io_error(path, e))?;
        if meta.is_dir() {
            return Err(FsError::Io(format!("{path:?} is a directory")));
        }
        if !meta.is_file() {
            return Err(FsError::InvalidPath(format!(
                "{path:?} is not a regular file (FIFOs, sockets and devices are not served)"
            )));
        }
        if meta.len() > max {
            return Err(FsError::TooLarge(meta.len()));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        // `take` guards against a file that grows between the size check and the read.
        file.take(max + 1).read_to_end(&mut bytes).map_err(|e| io_error(path, e))?;
        if bytes.len() as u64 > max {
            return Err(FsError::TooLarge(bytes.len() as u64));
        }
        Ok(bytes)
    }

    /// The entries of the directory `path`, sorted by name: the kept listing if there is one
    /// ([`Self::kept_listing`]), else read ([`Self::list_afresh`]).
    pub fn list(&self, path: &str) -> Result<Vec<Entry>, FsError> {
        self.kept_listing(path).map_or_else(|| self.list_afresh(path), Ok)
    }

    /// The entries of the directory `path` as read from disk (then kept where they can be).
    pub fn list_afresh(&self, path: &str) -> Result<Vec<Entry>, FsError> {
        let rel = relative(path)?;
        let dir = self.dir.open_dir(if rel.as_os_str().is_empty() { Path::new(".") } else { &rel });
        let dir = dir.map_err(|e| io_error(path, e))?;
        let ticket = self.listings.watch(&self.dir, &rel, &dir);
        let entries = read_entries(&dir).map_err(|e| io_error(path, e))?;
        if let Some(ticket) = ticket {
            self.listings.keep(ticket, &entries);
        }
        Ok(entries)
    }

    /// The listing of `path` if it is kept and unchanged (see [`Listings`]): answered without a
    /// file I/O thread.
    pub fn kept_listing(&self, path: &str) -> Option<Vec<Entry>> {
        self.listings.get(&self.dir, &relative(path).ok()?)
    }

    /// How many listings were answered from memory.
    pub fn kept_listing_hits(&self) -> u64 {
        self.listings.hits()
    }
}

/// The entries of `dir`, sorted by name.
fn read_entries(dir: &Dir) -> std::io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for entry in dir.entries()? {
        let entry = entry?;
        let Ok(file_type) = entry.file_type() else { continue };
        let meta = entry.metadata().ok();
        let kind = if file_type.is_symlink() {
            EntryKind::Symlink
        } else if file_type.is_dir() {
            EntryKind::Directory
        } else if file_type.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        };
        let modified_ms = meta.as_ref().map_or(0, modified_ms);
        let size = if kind == EntryKind::File { meta.map_or(0, |m| m.len()) } else { 0 };
        out.push(Entry { name: entry.file_name().to_string_lossy().into_owned(), kind, size, modified_ms });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `path` as a relative path with no `..`: the rules a guest path must follow.
fn relative(path: &str) -> Result<PathBuf, FsError> {
    let p = Path::new(path);
    let mut rel = PathBuf::new();
    for component in p.components() {
        match component {
            Component::Normal(c) => rel.push(c),
            Component::CurDir => {}
            Component::ParentDir => return Err(FsError::InvalidPath(format!("{path:?}: `..` is not allowed"))),
            Component::RootDir | Component::Prefix(_) => {
                return Err(FsError::InvalidPath(format!("{path:?}: absolute paths are not allowed")));
            }
        }
    }
    Ok(rel)
}

fn io_error(path: &str, e: std::io::Error) -> FsError {
    match e.kind() {
        std::io::ErrorKind::NotFound => FsError::NotFound(path.to_owned()),
        // cap-std reports a path that resolves outside the root (through a symlink) this way.
        std::io::ErrorKind::PermissionDenied if e.to_string().contains("outside") => {
            FsError::InvalidPath(format!("{path:?} leads outside the root"))
        }
        _ => FsError::Io(format!("{path:?}: {e}")),
    }
}

/// What `workspace` sees of a call: the roots granted to the calling tool, by name.
pub struct WorkspaceView<'a> {
    pub(super) roots: &'a BTreeMap<String, Root>,
}

struct HasWorkspace;

impl HasData for HasWorkspace {
    type Data<'a> = WorkspaceView<'a>;
}

/// Links `workspace` into `linker`, reaching each store's grants through `view`.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> WorkspaceView<'_>,
) -> wasmtime::Result<()> {
    workspace::add_to_linker::<T, HasWorkspace>(linker, view)
}

impl WorkspaceView<'_> {
    fn root(&self, name: &str) -> Result<Root, FsError> {
        self.roots.get(name).cloned().ok_or_else(|| {
            let granted: Vec<&str> = self.roots.keys().map(String::as_str).collect();
            FsError::NotGranted(if granted.is_empty() {
                format!("root {name:?} is not granted: this tool has no roots (see --workspace and [roots])")
            } else {
                format!("root {name:?} is not granted; granted: {}", granted.join(", "))
            })
        })
    }
}

impl Host for WorkspaceView<'_> {
    async fn roots(&mut self) -> Vec<String> {
        self.roots.keys().cloned().collect()
    }

    async fn read_file(&mut self, root: String, path: String, max_bytes: Option<u64>) -> Result<Vec<u8>, FsError> {
        let root = self.root(&root)?;
        let max = max_bytes.map_or(MAX_READ_BYTES, |m| m.min(MAX_READ_BYTES));
        blocking(move || root.read(&path, max), FsError::Io).await
    }

    async fn list_dir(&mut self, root: String, path: String) -> Result<Vec<Entry>, FsError> {
        let root = self.root(&root)?;
        if let Some(entries) = root.kept_listing(&path) {
            return Ok(entries);
        }
        blocking(move || root.list_afresh(&path), FsError::Io).await
    }
}

/// Runs file-system work off the async workers, holding one of the [`FILE_IO_THREADS`] permits
/// until it is done (even if the call that asked has ended); `failed` builds the error of a task
/// that could not run.
pub(super) async fn blocking<T: Send + 'static, E: Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
    failed: fn(String) -> E,
) -> Result<T, E> {
    let permit = FILE_IO.acquire().await.map_err(|_| failed("file I/O is shut down".into()))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
    .unwrap_or_else(|e| Err(failed(format!("file task failed: {e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn paths_cannot_leave_the_root() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/a.rs"), "mod b;").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("escape")).unwrap();
        std::os::unix::fs::symlink("src/a.rs", dir.path().join("inside")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        assert_eq!(root.read("src/a.rs", 100).unwrap(), b"mod b;");
        assert_eq!(root.read("./src/../src/a.rs", 100).map_err(|e| matches!(e, FsError::InvalidPath(_))), Err(true));
        assert_eq!(root.read("inside", 100).unwrap(), b"mod b;", "a symlink inside the root is followed");
        for bad in ["../secret.txt", "/etc/passwd", "escape", "src/../../x"] {
            assert!(matches!(root.read(bad, 100), Err(FsError::InvalidPath(_))), "{bad} must be refused");
        }
        assert!(matches!(root.read("missing", 100), Err(FsError::NotFound(_))));
        assert!(matches!(root.read("src/a.rs", 3), Err(FsError::TooLarge(6))));
        let names: Vec<String> = root.list("").unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["escape", "inside", "src"]);
        assert!(matches!(root.list(".."), Err(FsError::InvalidPath(_))));
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        rustix::fs::mknodat(rustix::fs::CWD, &fifo, rustix::fs::FileType::Fifo, 0o600.into(), 0).unwrap();
        let root = Root::open(dir.path()).unwrap();
        // Without a writer, a blocking open would wait here forever.
        match root.read("pipe", 100) {
            Err(FsError::InvalidPath(m)) => assert!(m.contains("not a regular file"), "{m}"),
            other => panic!("a FIFO must be refused, got {other:?}"),
        }
        assert!(matches!(root.read("/dev/zero", 100), Err(FsError::InvalidPath(_))));
    }

    /// A deterministic xorshift generator for the randomised test below.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// What a listing of `rel` says when read afresh: entries or "fails".
    fn fresh(top: &Path, rel: &str) -> Option<Vec<(String, u8, u64, u64)>> {
        let dir = Dir::open_ambient_dir(top, ambient_authority()).ok()?;
        let dir = if rel.is_empty() { dir } else { dir.open_dir(rel).ok()? };
        Some(read_entries(&dir).ok()?.into_iter().map(|e| (e.name, e.kind as u8, e.size, e.modified_ms)).collect())
    }

    fn through(root: &Root, rel: &str) -> Option<Vec<(String, u8, u64, u64)>> {
        Some(root.list(rel).ok()?.into_iter().map(|e| (e.name, e.kind as u8, e.size, e.modified_ms)).collect())
    }

    #[test]
    fn kept_listings_follow_every_change() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path();
        let root = Root::open(top).unwrap();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut dirs: Vec<String> = vec![String::new()];
        let mut files: Vec<String> = Vec::new();
        let mut seen: std::collections::BTreeSet<String> = [String::new()].into();
        let join = |d: &str, n: &str| if d.is_empty() { n.to_owned() } else { format!("{d}/{n}") };
        for step in 0..400 {
            let name = format!("n{step}");
            let dir = dirs[rng.below(dirs.len())].clone();
            let op = rng.below(11);
            let result = match op {
                0 | 1 => {
                    let path = join(&dir, &format!("{name}.txt"));
                    files.push(path.clone());
                    std::fs::write(top.join(&path), "x".repeat(rng.below(50)))
                }
                2 if !files.is_empty() => {
                    let f = &files[rng.below(files.len())];
                    std::fs::write(top.join(f), "y".repeat(rng.below(50)))
                }
                3 if !files.is_empty() => {
                    let f = &files[rng.below(files.len())];
                    let file = std::fs::OpenOptions::new().append(true).open(top.join(f));
                    file.and_then(|mut file| std::io::Write::write_all(&mut file, b"more"))
                }
                4 => {
                    let target = if files.is_empty() || rng.below(2) == 0 {
                        dir.clone()
                    } else {
                        files[rng.below(files.len())].clone()
                    };
                    let time =
                        UNIX_EPOCH + std::time::Duration::from_millis(1_600_000_000_000 + rng.below(1 << 30) as u64);
                    std::fs::File::open(top.join(&target)).and_then(|f| f.set_modified(time))
                }
                5 if dirs.len() < 12 => {
                    let path = join(&dir, &name);
                    dirs.push(path.clone());
                    std::fs::create_dir(top.join(&path))
                }
                6 if !files.is_empty() => std::fs::remove_file(top.join(files.swap_remove(rng.below(files.len())))),
                7 if !files.is_empty() => {
                    let i = rng.below(files.len());
                    let to = join(&dir, &format!("{name}.moved"));
                    let from = std::mem::replace(&mut files[i], to.clone());
                    std::fs::rename(top.join(from), top.join(to))
                }
                8 if dirs.len() > 1 => {
                    // A directory renamed (not into itself), with everything under it.
                    let from = dirs[1 + rng.below(dirs.len() - 1)].clone();
                    let to = join(&dir, &name);
                    if to.starts_with(&format!("{from}/")) {
                        Ok(())
                    } else {
                        let moved = |p: &mut String| {
                            if p == &from || p.starts_with(&format!("{from}/")) {
                                *p = format!("{to}{}", &p[from.len()..]);
                            }
                        };
                        dirs.iter_mut().for_each(moved);
                        files.iter_mut().for_each(moved);
                        std::fs::rename(top.join(&from), top.join(&to))
                    }
                }
                9 if dirs.len() > 1 && rng.below(3) == 0 => {
                    let gone = dirs.swap_remove(1 + rng.below(dirs.len() - 1));
                    let under = |p: &String| p != &gone && !p.starts_with(&format!("{gone}/"));
                    dirs.retain(under);
                    files.retain(under);
                    std::fs::remove_dir_all(top.join(&gone))
                }
                10 if dirs.len() > 1 => {
                    // A symlink to a directory, made or pointed elsewhere.
                    let link = join("", "link");
                    let target = dirs[1 + rng.below(dirs.len() - 1)].clone();
                    let _ = std::fs::remove_file(top.join(&link));
                    std::os::unix::fs::symlink(top.join(&target), top.join(&link))
                }
                _ => Ok(()),
            };
            result.unwrap_or_else(|e| panic!("step {step}, op {op}: {e}"));
            seen.extend(dirs.iter().cloned());
            seen.insert("link".into());
            for d in &seen {
                assert_eq!(through(&root, d), fresh(top, d), "step {step} (op {op}): listing of {d:?}");
            }
        }
        assert!(root.kept_listing_hits() > 1000, "listings were kept ({} hits)", root.kept_listing_hits());
    }

    #[test]
    fn a_subdirectory_that_is_not_watched_shows_its_new_time() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        let old = UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        std::fs::File::open(tmp.path().join("sub")).unwrap().set_modified(old).unwrap();
        let root = Root::open(tmp.path()).unwrap();
        assert_eq!(root.list("").unwrap()[0].modified_ms, 1_600_000_000_000);
        assert_eq!(root.list("").unwrap()[0].modified_ms, 1_600_000_000_000);
        assert_eq!(root.kept_listing_hits(), 1);
        // Only the root is watched: a file made inside `sub` sends it no event.
        std::fs::write(tmp.path().join("sub/new.txt"), "new").unwrap();
        assert_eq!(through(&root, ""), fresh(tmp.path(), ""));
        assert_ne!(root.list("").unwrap()[0].modified_ms, 1_600_000_000_000);
    }
}
