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
#[expect(unsafe_code, reason = "an anonymous mapping of our own, and the PAGEMAP_SCAN ioctl on it")]
fn probe_kernel() -> Scan {
    use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous, munmap};

    let page = rustix::param::page_size();
    let len = 3 * page;
    // SAFETY: a new private anonymous mapping that nothing else refers to; unmapped below.
    let Ok(base) =
        (unsafe { mmap_anonymous(std::ptr::null_mut(), len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::PRIVATE) })
    else {
        return Scan::Unavailable;
    };
    let base = base.cast::<u8>();
    // SAFETY: both addresses are inside the mapping, which is readable and writable.
    unsafe {
        base.add(page).write_volatile(1);
        let _ = base.add(2 * page).read_volatile();
    }
    let start = base as u64;
    let found = ioctl::written_regions(start, start + len as u64);
    // SAFETY: the mapping made above, no longer used.
    unsafe {
        let _ = munmap(base.cast(), len);
    }
    match found {
        None => Scan::Unavailable,
        Some(regions) if regions == [(start + page as u64, start + 2 * page as u64)] => Scan::Reliable,
        Some(_) => Scan::Unreliable,
    }
}

#[cfg(target_os = "linux")]
mod ioctl {
    //! The `PAGEMAP_SCAN` ioctl (`linux/fs.h`), for the probe's one query.

    use std::ffi::c_void;

    use rustix::ioctl::{Ioctl, IoctlOutput, Opcode, opcode};

    const WRITTEN: u64 = 1 << 1;
    const FILE: u64 = 1 << 2;
    const PRESENT: u64 = 1 << 3;
    const SWAPPED: u64 = 1 << 4;
    const PFNZERO: u64 = 1 << 5;

    /// `struct pm_scan_arg`.
    #[repr(C)]
    struct ScanArg {
        size: u64,
        flags: u64,
        start: u64,
        end: u64,
        walk_end: u64,
        vec: u64,
        vec_len: u64,
        max_pages: u64,
        category_inverted: u64,
        category_mask: u64,
        category_anyof_mask: u64,
        return_mask: u64,
    }

    /// `struct page_region`.
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Region {
        start: u64,
        end: u64,
        categories: u64,
    }

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
        let mut regions = [Region::default(); 4];
        let arg = ScanArg {
            size: size_of::<ScanArg>() as u64,
            flags: 0,
            start,
            end,
            walk_end: 0,
            vec: regions.as_mut_ptr() as u64,
            vec_len: regions.len() as u64,
            max_pages: (end - start) / rustix::param::page_size() as u64,
            category_inverted: PFNZERO | FILE,
            category_mask: WRITTEN | PFNZERO | FILE,
            category_anyof_mask: PRESENT | SWAPPED,
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
    #[expect(unsafe_code, reason = "a mapping of the test's own")]
    fn pages_not_written_are_not_reported() {
        use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous, munmap};
        let page = rustix::param::page_size();
        // SAFETY: a new private anonymous mapping, read once and unmapped here.
        unsafe {
            let base = mmap_anonymous(std::ptr::null_mut(), 2 * page, ProtFlags::READ, MapFlags::PRIVATE).unwrap();
            let _ = base.cast::<u8>().add(page).read_volatile();
            let start = base as u64;
            if let Some(regions) = super::ioctl::written_regions(start, start + 2 * page as u64) {
                assert!(regions.is_empty(), "{regions:?}");
            }
            munmap(base, 2 * page).unwrap();
        }
    }
}
