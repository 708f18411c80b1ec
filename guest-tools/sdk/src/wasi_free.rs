//! What a tool built for `wasm32-unknown-unknown` (no WASI imports at all: the shipped tools, see
//! `server/guest-build`) needs from the SDK that the standard library gives a `wasm32-wasip2` tool:
//! an allocator that starts in the initial memory, and panic messages that reach the server.
//!
//! - **Allocator.** dlmalloc, the standard library's allocator on this target, takes every region
//!   it manages from `memory.grow`, so a fresh instance's first allocation grows its memory even
//!   though the pages after the stack and static data are free. On the host a grow, and the reset
//!   of the grown pages when the instance is dropped, each cost an `mprotect` (and a TLB flush);
//!   `docs/design/0013-wasi-free-builtins.md` has the measurements. `TailFirst` gives dlmalloc
//!   that free tail (`__heap_base` to the end of the initial memory) as its first region, so a call
//!   that fits there grows nothing; later regions come from `memory.grow` as before, and since the
//!   tail ends where a grow starts, dlmalloc merges them. (wasi-libc's `malloc` on `wasm32-wasip2`
//!   already starts in the tail.)
//! - **Panics.** Without WASI there is no stderr, so a panic would trap with no message.
//!   [`report_panics`] logs the message at `error` level through the WIT `log` interface (the
//!   server's stderr log and the client) before the trap.
//!
//! On every other target, `wasm32-wasip2` and native test builds included, this module is empty
//! and [`report_panics`] does nothing.

/// Sends panic messages to the WIT `log` interface. Called on every entry into the component; the
/// hook is set once per instance.
pub fn report_panics() {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            std::panic::set_hook(std::boxed::Box::new(|info| {
                crate::log::log(crate::log::Level::Error, &format!("tool panicked: {info}"));
            }));
        });
    }
}

#[cfg(all(target_arch = "wasm32", target_os = "unknown", not(target_feature = "atomics")))]
mod allocator {
    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32;
    use core::cell::{Cell, UnsafeCell};
    use core::ptr;

    use dlmalloc::Dlmalloc;

    /// A WebAssembly page.
    const PAGE: usize = 65_536;

    unsafe extern "C" {
        /// Set by the linker: the first byte after the stack and static data.
        static __heap_base: u8;
    }

    /// dlmalloc's source of memory: the initial memory's free tail first, then `memory.grow`.
    pub struct TailFirst {
        tail_taken: Cell<bool>,
    }

    // SAFETY: regions are returned once and never released (`free` and `free_part` refuse), a
    // region handed out is memory nothing else uses (the tail past `__heap_base`, or pages this
    // call grew), and both are zero-filled.
    unsafe impl dlmalloc::Allocator for TailFirst {
        fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
            let end = wasm32::memory_size(0) * PAGE;
            let start = if self.tail_taken.get() {
                end
            } else {
                // Only the address of the linker-defined symbol is taken (no read: not `unsafe`).
                (&raw const __heap_base as usize).next_multiple_of(16).min(end)
            };
            let pages = size.saturating_sub(end - start).div_ceil(PAGE);
            if pages > 0 && wasm32::memory_grow(0, pages) != end / PAGE {
                return (ptr::null_mut(), 0, 0);
            }
            self.tail_taken.set(true);
            (start as *mut u8, end - start + pages * PAGE, 0)
        }

        fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
            ptr::null_mut()
        }

        fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
            false
        }

        fn free(&self, _: *mut u8, _: usize) -> bool {
            false
        }

        fn can_release_part(&self, _: u32) -> bool {
            false
        }

        fn allocates_zeros(&self) -> bool {
            true
        }

        fn page_size(&self) -> usize {
            PAGE
        }
    }

    /// The global allocator: one dlmalloc, used by one thread (this target has none other).
    struct Global(UnsafeCell<Dlmalloc<TailFirst>>);

    // SAFETY: without the `atomics` feature a wasm32 instance runs one thread, so the allocator is
    // never entered twice at once (and it is not reentrant: it calls nothing that allocates).
    unsafe impl Sync for Global {}

    #[global_allocator]
    static ALLOCATOR: Global =
        Global(UnsafeCell::new(Dlmalloc::new_with_allocator(TailFirst { tail_taken: Cell::new(false) })));

    impl Global {
        #[expect(clippy::mut_from_ref, reason = "exclusive by the single thread (see `Sync`)")]
        fn get(&self) -> &mut Dlmalloc<TailFirst> {
            // SAFETY: see `impl Sync`: no other reference is live while an allocator call runs.
            unsafe { &mut *self.0.get() }
        }
    }

    // SAFETY: dlmalloc honours size and alignment; the calls below forward `GlobalAlloc`'s
    // contract to it unchanged.
    unsafe impl GlobalAlloc for Global {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded contract.
            unsafe { self.get().malloc(layout.size(), layout.align()) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded contract.
            unsafe { self.get().calloc(layout.size(), layout.align()) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded contract.
            unsafe { self.get().free(ptr, layout.size(), layout.align()) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: forwarded contract.
            unsafe { self.get().realloc(ptr, layout.size(), layout.align(), new_size) }
        }
    }
}
