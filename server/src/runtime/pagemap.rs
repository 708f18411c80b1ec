//! Whether the pooling allocator may reset slots with `PAGEMAP_SCAN` on this kernel: a probe of
//! the ioctl's answer, made once before the engine is built (`engine.rs`).
//!
//! After a call, wasmtime 48 resets a slot's linear memory by asking `PAGEMAP_SCAN` for the pages
//! that are present and `PAGE_IS_WRITTEN` (and neither the zero page nor file-backed), and resets
//! only those. Outside a userfaultfd write-protected mapping, the kernels this was written for
//! report every present page as written, which is what wasmtime relies on. A 2026 kernel change
//! (mm/pagemap, "add PAGE_IS_ACCESSED for RWP tracking") narrows `PAGE_IS_WRITTEN` to such
//! mappings: there the scan reports nothing, and a slot would keep the previous call's memory for
//! the next instance, of the same tool or, under pressure, another. So the engine uses the scan
//! only when this probe sees it report a page just written, and not one only read; otherwise
//! wasmtime resets slots with memset and `madvise` (slower, always correct).
//!
//! `IDE_AGENTS_MCP_PAGEMAP_SCAN=off` skips the scan whatever the probe says (tests use it to run
//! the fallback on a kernel where the scan works).

/// Set to `off` to reset slots without `PAGEMAP_SCAN`.
pub const PAGEMAP_SCAN_ENV: &str = "IDE_AGENTS_MCP_PAGEMAP_SCAN";

/// What the probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// The scan reports exactly the pages written: use it.
    Reliable,
    /// The ioctl runs but does not report a written page (or reports more): do not use it.
    Unreliable,
    /// No `PAGEMAP_SCAN` (not Linux, a kernel before 6.7, no `/proc`), or turned off.
    Unavailable,
}

/// Probes the scan, unless [`PAGEMAP_SCAN_ENV`] turns it off.
pub fn probe() -> Scan {
    if std::env::var(PAGEMAP_SCAN_ENV).is_ok_and(|v| v == "off") {
        return Scan::Unavailable;
    }
    probe_kernel()
}

#[cfg(not(target_os = "linux"))]
fn probe_kernel() -> Scan {
    Scan::Unavailable
}

/// Maps three private anonymous pages, writes the second, reads the third (which maps the zero
/// page) and leaves the first alone, then runs the query wasmtime's reset runs: only the second
/// may come back.
#[cfg(target_os = "linux")]
fn probe_kernel() -> Scan {
    let Some(mapping) = Mapping::new(3, true) else {
        return Scan::Unavailable;
    };
    mapping.write(1);
    mapping.read(2);
    let (start, end) = mapping.range();
    match ioctl::written_regions(start, end) {
        None => Scan::Unavailable,
        Some(regions) if regions == [mapping.page_range(1)] => Scan::Reliable,
        Some(_) => Scan::Unreliable,
    }
}

/// A private anonymous mapping of whole pages, unmapped when dropped.
#[cfg(target_os = "linux")]
struct Mapping {
    base: *mut u8,
    len: usize,
}

#[cfg(target_os = "linux")]
#[expect(unsafe_code, reason = "a private anonymous mapping of our own")]
impl Mapping {
    /// `pages` pages, readable, and writable if `writable`; `None` if the mapping fails.
    fn new(pages: usize, writable: bool) -> Option<Self> {
        use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous};
        let len = pages * rustix::param::page_size();
        let prot = if writable { ProtFlags::READ | ProtFlags::WRITE } else { ProtFlags::READ };
        // SAFETY: a new mapping at an address the kernel chooses, which nothing else refers to.
        let base = unsafe { mmap_anonymous(std::ptr::null_mut(), len, prot, MapFlags::PRIVATE) }.ok()?;
        Some(Self { base: base.cast(), len })
    }

    /// The address range of page `index`.
    fn page_range(&self, index: usize) -> (u64, u64) {
        let page = rustix::param::page_size() as u64;
        let start = self.base as u64 + index as u64 * page;
        (start, start + page)
    }

    /// The whole mapping's address range.
    fn range(&self) -> (u64, u64) {
        (self.base as u64, self.base as u64 + self.len as u64)
    }

    /// Writes a byte to page `index` (the mapping must be writable).
    fn write(&self, index: usize) {
        assert!(index * rustix::param::page_size() < self.len);
        // SAFETY: inside the mapping, which `new` made writable for the probe.
        unsafe { self.base.add(index * rustix::param::page_size()).write_volatile(1) }
    }

    /// Reads a byte of page `index`.
    fn read(&self, index: usize) {
        assert!(index * rustix::param::page_size() < self.len);
        // SAFETY: inside the mapping, which is readable.
        let _ = unsafe { self.base.add(index * rustix::param::page_size()).read_volatile() };
    }
}

#[cfg(target_os = "linux")]
#[expect(unsafe_code, reason = "unmapping our own mapping")]
impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping `new` made; nothing refers to it after this.
        let _ = unsafe { rustix::mm::munmap(self.base.cast(), self.len) };
    }
}

#[cfg(target_os = "linux")]
mod ioctl {
    //! The `PAGEMAP_SCAN` ioctl (`linux/fs.h`), for the probe's one query.

    use std::ffi::c_void;

    use linux_raw_sys::general::{
        PAGE_IS_FILE, PAGE_IS_PFNZERO, PAGE_IS_PRESENT, PAGE_IS_SWAPPED, PAGE_IS_WRITTEN, page_region as Region,
        pm_scan_arg as ScanArg,
    };
    use rustix::ioctl::{Ioctl, IoctlOutput, Opcode, opcode};

    struct PageMapScan(ScanArg);

    // SAFETY: the opcode is `PAGEMAP_SCAN` (`_IOWR('f', 16, struct pm_scan_arg)`), the argument
    // is that struct, the kernel writes into it (and into the region buffer it points to, which
    // outlives the call in `written_regions`), and the ioctl returns the number of regions.
    #[expect(unsafe_code, reason = "implementing rustix's Ioctl for PAGEMAP_SCAN")]
    unsafe impl Ioctl for PageMapScan {
        type Output = usize;
        const IS_MUTATING: bool = true;

        fn opcode(&self) -> Opcode {
            opcode::read_write::<ScanArg>(b'f', 16)
        }

        fn as_ptr(&mut self) -> *mut c_void {
            (&raw mut self.0).cast()
        }

        unsafe fn output_from_ptr(out: IoctlOutput, _: *mut c_void) -> rustix::io::Result<usize> {
            usize::try_from(out).map_err(|_| rustix::io::Errno::INVAL)
        }
    }

    /// The page ranges in `start..end` that wasmtime's reset would treat as dirty: present or
    /// swapped, `PAGE_IS_WRITTEN`, neither the zero page nor file-backed. `None` if the ioctl
    /// (or `/proc/self/pagemap`) is unavailable.
    #[expect(unsafe_code, reason = "the PAGEMAP_SCAN ioctl")]
    pub fn written_regions(start: u64, end: u64) -> Option<Vec<(u64, u64)>> {
        let pagemap = std::fs::File::open("/proc/self/pagemap").ok()?;
        let mut regions = [Region { start: 0, end: 0, categories: 0 }; 4];
        let arg = ScanArg {
            size: size_of::<ScanArg>() as u64,
            flags: 0,
            start,
            end,
            walk_end: 0,
            vec: regions.as_mut_ptr() as u64,
            vec_len: regions.len() as u64,
            max_pages: (end - start) / rustix::param::page_size() as u64,
            category_inverted: u64::from(PAGE_IS_PFNZERO | PAGE_IS_FILE),
            category_mask: u64::from(PAGE_IS_WRITTEN | PAGE_IS_PFNZERO | PAGE_IS_FILE),
            category_anyof_mask: u64::from(PAGE_IS_PRESENT | PAGE_IS_SWAPPED),
            return_mask: 0,
        };
        // SAFETY: `arg` describes `regions`, which lives until the end of this function; the
        // range may be anything (the kernel only reads page tables).
        let found = unsafe { rustix::ioctl::ioctl(&pagemap, PageMapScan(arg)) }.ok()?;
        Some(regions.iter().take(found.min(regions.len())).map(|r| (r.start, r.end)).collect())
    }
}

#[cfg(test)]
mod tests {
    /// Holds on every kernel with the ioctl, before and after the `PAGE_IS_WRITTEN` narrowing: a
    /// page never touched, or only read, is not reported (what the probe's "reports more" case
    /// rules out). Whether a written page is reported depends on the kernel, so the engine asks
    /// the probe; the fresh-instance integration tests check both resets keep no state.
    #[cfg(target_os = "linux")]
    #[test]
    fn pages_not_written_are_not_reported() {
        let mapping = super::Mapping::new(2, false).unwrap();
        mapping.read(1);
        let (start, end) = mapping.range();
        if let Some(regions) = super::ioctl::written_regions(start, end) {
            assert!(regions.is_empty(), "{regions:?}");
        }
    }
}
