//! Per-call limits and their defaults: wall-clock time, linear memory, concurrency. Each default
//! is a named constant with the reason for its value; all are configurable (see `config/`). The
//! limiter that enforces memory inside a store is `host::limiter`.

use std::time::Duration;

/// Default wall-clock budget of one call. Long enough for a tool that does real work (HTTP, a
/// ranking over a workspace), short enough that a looping guest frees its slot quickly.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Default wall-clock budget of a component's `describe` at discovery: it returns constants, so
/// a well-behaved one takes microseconds; a slow one must not hold up the tools of others.
pub const DEFAULT_DESCRIBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Default linear-memory limit of a component's `describe`.
pub const DEFAULT_DESCRIBE_MEMORY: usize = 64 << 20;

/// Default linear-memory limit of one call. Small tools use 1-2 MiB; 256 MiB leaves room for
/// ML tools while keeping a runaway guest far below the machine's memory.
pub const DEFAULT_MEMORY_LIMIT: usize = 256 << 20;

/// Default number of guest calls running at once across the server. Further calls wait (in order)
/// for a slot; the pooling allocator is sized from this, so it never runs out of slots.
pub const DEFAULT_MAX_CONCURRENT_CALLS: usize = 64;

/// Default largest number of core module instances one component may hold. A Rust component
/// holds about 4 (its module, the WASI adapter, shims); interpreted languages bundle more: a
/// componentize-py component built with `--stub-wasi` holds 38 (a ComponentizeJS or C one, 4).
pub const DEFAULT_MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 64;

/// Default number of calls of one tool running at once: half the server's slots, so one busy
/// tool cannot starve the others.
pub const DEFAULT_MAX_CONCURRENT_CALLS_PER_TOOL: usize = DEFAULT_MAX_CONCURRENT_CALLS / 2;

/// Default largest result of one call. A result is copied out of the guest and then serialised
/// into one JSON line for the client; 16 MiB keeps that well below the memory limit and within
/// what MCP clients accept.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 16 << 20;

/// How often the epoch ticker advances while calls are running. A running guest yields to the
/// async runtime at each tick, so this bounds how late a timeout or a cancellation takes effect.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Bytes of linear memory (and table) a pooled slot resets in place after a call instead of
/// returning them to the OS with `madvise`. Returning pages costs a TLB-shootdown IPI to every
/// core running the server, and the next call page-faults them back in; that was the largest
/// cost of a fresh-instance call on this machine. With `PAGEMAP_SCAN` (Linux 6.7+, `pagemap.rs`)
/// only the pages written are reset; outside userfaultfd write protection the kernel counts every
/// page still present as written, so that is every page of the instance's memory that any call
/// in the slot wrote, within this window: a generous window costs a small tool little, since its
/// calls touch the same few pages. See `docs/design/0002-fresh-instance-cost.md`.
pub const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Bytes of a pooled async (fiber) stack reset in place after a call instead of `madvise`d.
pub const STACK_KEEP_RESIDENT_BYTES: usize = 128 << 10;
