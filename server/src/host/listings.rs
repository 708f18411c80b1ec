//! `listings`: a root's directory listings, kept in memory and kept exact by inotify.
//!
//! A tool that checks an unchanged workspace on every call (search compares its index with a walk
//! of names, sizes and modification times) would otherwise pay a `statx` per file and a hand-off
//! to the file I/O pool per directory, every call. Here a directory, once listed, is watched and
//! its listing kept. The watch is placed on the directory handle that was listed (through
//! `/proc/self/fd`), so the inode watched is the one read. Every lookup first drains the pending
//! events; the kernel queues an event before the system call that made the change returns, so a
//! change that finished before a lookup is always seen by it.
//!
//! What an event drops, for a directory `D`:
//! - an entry of `D` written or its attributes changed: `D`'s listing;
//! - an entry of `D` created, removed or renamed: `D`'s listing, the parent's (whose entry for `D`
//!   carries `D`'s modification time) and everything kept under `D/<name>` (a directory or a
//!   symlink to one may have been replaced);
//! - `D`'s own attributes: the parent's listing; `D` moved, removed or unmounted: everything kept
//!   under `D`, and the parent's listing; the event queue overflowing: everything.
//!
//! Subdirectories' modification times in a kept listing are trusted only while the subdirectory
//! is watched too (its entries changing is then an event); otherwise they are read again on each
//! lookup. A directory is kept only while its parent is watched, so that moving or removing any
//! ancestor is seen. A listing read while an event arrived for its directory is not kept.
//!
//! Kept only where the kernel reports every change: directories on local file systems (network
//! and FUSE file systems change without telling inotify), within [`watch_budget`] and
//! [`MAX_KEPT_ENTRIES`] per root, and where inotify is available; everything else is listed afresh
//! every time. Two changes the kernel sends no event for are not seen until the directory changes
//! otherwise: writes through a hard link in another directory and through a shared writable
//! memory mapping.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use cap_std::fs::Dir;
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};

use crate::bindings::ide_agents::tool::workspace::{Entry, EntryKind};

/// Most directories watched per root; fewer where the user's inotify budget is small (see
/// [`watch_budget`]).
pub const MAX_WATCHED_DIRS: usize = 8_192;

/// Most entries kept per root (about 80 bytes each with a short name).
pub const MAX_KEPT_ENTRIES: usize = 200_000;

/// `statfs` magic numbers of the local file systems whose every change reaches inotify: ext2-4,
/// XFS, Btrfs, tmpfs, overlayfs, ZFS, F2FS, ramfs, bcachefs.
const LOCAL_FILE_SYSTEMS: &[u32] =
    &[0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0x794C_7630, 0x2FC1_2FC1, 0xF2F5_2010, 0x8584_58F6, 0xCA45_1A4E];

/// A modification time in milliseconds since the Unix epoch (0 if unknown).
pub fn modified_ms(meta: &cap_std::fs::Metadata) -> u64 {
    let since_epoch = meta.modified().ok().and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok());
    since_epoch.map_or(0, |d| d.as_millis() as u64)
}

/// Directories one root may watch: [`MAX_WATCHED_DIRS`], or a quarter of the user's
/// `fs.inotify.max_user_watches` if that is less, so that editors' file watchers, which share
/// that budget, keep most of it.
fn watch_budget() -> usize {
    let user = std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches").ok();
    let user: usize = user.and_then(|s| s.trim().parse().ok()).unwrap_or(8_192);
    MAX_WATCHED_DIRS.min(user / 4)
}

/// The events watched: everything that changes a listing or moves the directory.
fn watched_events() -> WatchFlags {
    WatchFlags::CREATE
        | WatchFlags::DELETE
        | WatchFlags::MODIFY
        | WatchFlags::ATTRIB
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::DELETE_SELF
        | WatchFlags::MOVE_SELF
        | WatchFlags::ONLYDIR
}

/// The kept listings of one root. Cheap until a directory is first listed (the inotify instance
/// is made then).
#[derive(Default)]
pub struct Listings {
    watcher: Mutex<Lazy>,
    hits: AtomicU64,
}

#[derive(Default)]
enum Lazy {
    #[default]
    Untried,
    /// inotify could not be set up: nothing is kept.
    Unavailable,
    Ready(Watcher),
}

/// A watch placed for a listing being read; [`Listings::keep`] keeps the listing only if nothing
/// changed in the directory since.
pub struct Ticket {
    wd: i32,
    dir: PathBuf,
    since: u64,
}

impl Listings {
    /// How many lookups were answered from kept listings.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// The kept listing of `dir` (relative to `root`), if there is one and nothing changed it.
    pub fn get(&self, root: &Dir, dir: &Path) -> Option<Vec<Entry>> {
        let (mut entries, unwatched) = {
            let mut lazy = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
            let Lazy::Ready(watcher) = &mut *lazy else { return None };
            watcher.drain();
            let entries = watcher.kept.get(dir)?.clone();
            let unwatched: Vec<usize> = (0..entries.len())
                .filter(|&i| {
                    entries[i].kind == EntryKind::Directory
                        && !watcher.watches.contains_key(&dir.join(&entries[i].name))
                })
                .collect();
            (entries, unwatched)
        };
        // A subdirectory that is not watched changes its time without an event here.
        for i in unwatched {
            let meta = root.symlink_metadata(dir.join(&entries[i].name)).ok()?;
            entries[i].modified_ms = modified_ms(&meta);
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(entries)
    }

    /// Watches `opened`, the directory `dir` just opened under `root`, before it is read; `None`
    /// where its listing cannot be kept.
    pub fn watch(&self, root: &Dir, dir: &Path, opened: &Dir) -> Option<Ticket> {
        let fs = rustix::fs::fstatfs(opened).ok()?;
        if !LOCAL_FILE_SYSTEMS.contains(&(fs.f_type as u32)) {
            return None;
        }
        let ticket = {
            let mut lazy = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
            let watcher = lazy.ready()?;
            watcher.drain();
            watcher.add(dir, opened)?
        };
        if dir.as_os_str().is_empty() {
            return Some(ticket);
        }
        // The path still leads to the directory watched; a rename before the watch was placed
        // would otherwise go unseen (after it, the parent's watch reports it).
        let listed = rustix::fs::fstat(opened).ok();
        let at_path = rustix::fs::statat(root, dir, rustix::fs::AtFlags::empty()).ok();
        let same = matches!((listed, at_path), (Some(a), Some(b)) if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino));
        if !same {
            let mut lazy = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
            if let Lazy::Ready(watcher) = &mut *lazy {
                watcher.drop_tree(dir);
            }
            return None;
        }
        Some(ticket)
    }

    /// Keeps `entries`, the listing read under `ticket`, unless the directory changed meanwhile.
    pub fn keep(&self, ticket: Ticket, entries: &[Entry]) {
        let mut lazy = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
        let Lazy::Ready(watcher) = &mut *lazy else { return };
        watcher.drain();
        let unchanged =
            watcher.watches.get(&ticket.dir).is_some_and(|w| w.wd == ticket.wd && w.changed <= ticket.since)
                && watcher.reset <= ticket.since;
        if unchanged && watcher.entries + entries.len() <= MAX_KEPT_ENTRIES {
            watcher.entries += entries.len();
            if let Some(old) = watcher.kept.insert(ticket.dir, entries.to_vec()) {
                watcher.entries -= old.len();
            }
        }
    }
}

impl Lazy {
    fn ready(&mut self) -> Option<&mut Watcher> {
        if let Lazy::Untried = self {
            *self = match inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK) {
                Ok(fd) => Lazy::Ready(Watcher::new(fd)),
                Err(e) => {
                    tracing::warn!("inotify unavailable ({e}): workspace listings are read afresh on every call");
                    Lazy::Unavailable
                }
            };
        }
        match self {
            Lazy::Ready(watcher) => Some(watcher),
            _ => None,
        }
    }
}

/// A watched directory.
struct Watch {
    wd: i32,
    /// The event count when the watch was placed or its listing was last dropped.
    changed: u64,
}

/// The inotify instance and what it watches, by path (ordered, so that a subtree is a range) and
/// by watch descriptor.
struct Watcher {
    fd: OwnedFd,
    /// Most directories watched ([`watch_budget`]).
    budget: usize,
    watches: BTreeMap<PathBuf, Watch>,
    dirs: HashMap<i32, PathBuf>,
    kept: BTreeMap<PathBuf, Vec<Entry>>,
    /// Entries in `kept`.
    entries: usize,
    /// Events applied so far.
    events: u64,
    /// The event count when everything was last dropped.
    reset: u64,
}

impl Watcher {
    fn new(fd: OwnedFd) -> Self {
        Self {
            fd,
            budget: watch_budget(),
            watches: BTreeMap::new(),
            dirs: HashMap::new(),
            kept: BTreeMap::new(),
            entries: 0,
            events: 0,
            reset: 0,
        }
    }

    /// Watches `dir` (opened as `opened`); its parent must be watched already.
    fn add(&mut self, dir: &Path, opened: &Dir) -> Option<Ticket> {
        if let Some(parent) = dir.parent() {
            self.watches.get(parent)?;
        }
        if self.watches.len() >= self.budget && !self.watches.contains_key(dir) {
            return None;
        }
        let handle = format!("/proc/self/fd/{}", opened.as_fd().as_raw_fd());
        let wd = inotify::add_watch(&self.fd, handle, watched_events()).ok()?;
        match self.dirs.get(&wd) {
            // The same directory under another path (through a symlink): kept under the first.
            Some(known) if known != dir => return None,
            Some(_) => {}
            None => {
                self.dirs.insert(wd, dir.to_path_buf());
                self.watches.insert(dir.to_path_buf(), Watch { wd, changed: self.events });
                // The parent's entry for `dir` was read while `dir` was not watched.
                if let Some(parent) = dir.parent() {
                    self.drop_listing(parent);
                }
            }
        }
        Some(Ticket { wd, dir: dir.to_path_buf(), since: self.events })
    }

    /// Applies the pending events.
    fn drain(&mut self) {
        let mut pending: Vec<(i32, ReadFlags, Option<OsString>)> = Vec::new();
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut reader = inotify::Reader::new(&self.fd, &mut buf);
        let mut failed = false;
        loop {
            match reader.next() {
                Ok(event) => pending.push((
                    event.wd(),
                    event.events(),
                    event.file_name().map(|n| OsStr::from_bytes(n.to_bytes()).to_owned()),
                )),
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        for (wd, mask, name) in pending {
            self.apply(wd, mask, name.as_deref());
        }
        if failed {
            self.drop_all();
        }
    }

    fn apply(&mut self, wd: i32, mask: ReadFlags, name: Option<&OsStr>) {
        self.events += 1;
        if mask.contains(ReadFlags::QUEUE_OVERFLOW) {
            return self.drop_all();
        }
        let Some(dir) = self.dirs.get(&wd).cloned() else { return };
        let parent = dir.parent().map(Path::to_path_buf);
        if mask.intersects(ReadFlags::IGNORED | ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF | ReadFlags::UNMOUNT) {
            self.drop_tree(&dir);
            if let Some(parent) = parent {
                self.drop_listing(&parent);
            }
            return;
        }
        let renamed = ReadFlags::CREATE | ReadFlags::DELETE | ReadFlags::MOVED_FROM | ReadFlags::MOVED_TO;
        match name {
            Some(name) => {
                if mask.intersects(renamed) {
                    self.drop_tree(&dir.join(name));
                    if let Some(parent) = &parent {
                        self.drop_listing(parent);
                    }
                }
                self.drop_listing(&dir);
            }
            // The directory's own attributes (its time, in the parent's listing).
            None => {
                if let Some(parent) = parent {
                    self.drop_listing(&parent);
                }
            }
        }
    }

    fn drop_listing(&mut self, dir: &Path) {
        if let Some(old) = self.kept.remove(dir) {
            self.entries -= old.len();
        }
        if let Some(watch) = self.watches.get_mut(dir) {
            watch.changed = self.events;
        }
    }

    /// Drops `dir` and everything under it: listings and watches.
    fn drop_tree(&mut self, dir: &Path) {
        let under = |p: &&PathBuf| p.starts_with(dir);
        let listings: Vec<PathBuf> =
            self.kept.range(dir.to_path_buf()..).map(|(p, _)| p).take_while(under).cloned().collect();
        for p in listings {
            self.drop_listing(&p);
        }
        let watches: Vec<PathBuf> =
            self.watches.range(dir.to_path_buf()..).map(|(p, _)| p).take_while(under).cloned().collect();
        for p in watches {
            if let Some(watch) = self.watches.remove(&p) {
                self.dirs.remove(&watch.wd);
                // Fails harmlessly if the kernel removed it already (the directory is gone).
                let _ = inotify::remove_watch(&self.fd, watch.wd);
            }
        }
    }

    fn drop_all(&mut self) {
        for watch in self.watches.values() {
            let _ = inotify::remove_watch(&self.fd, watch.wd);
        }
        self.watches.clear();
        self.dirs.clear();
        self.kept.clear();
        self.entries = 0;
        self.reset = self.events;
    }
}
