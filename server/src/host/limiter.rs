//! The per-store resource limiter: caps a call's linear memory and tables, and remembers
//! whether the cap was hit so a trap that follows is reported as the memory limit, and the
//! largest memory it allowed.

/// Largest table a guest may grow to (elements); Rust and C guests need a few hundred.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

/// A [`wasmtime::ResourceLimiter`] that caps linear memory per call and records whether the cap
/// was hit, so a trap that follows can be reported as "memory limit exceeded".
pub struct MemoryLimiter {
    limit: usize,
    hit: bool,
    peak: usize,
}

impl MemoryLimiter {
    /// A limiter allowing `limit` bytes of linear memory in total per memory.
    pub fn new(limit: usize) -> Self {
        Self { limit, hit: false, peak: 0 }
    }

    /// Whether a growth was refused because of the limit.
    pub fn hit(&self) -> bool {
        self.hit
    }

    /// The configured limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The largest linear memory allowed so far, bytes (a memory's creation at its initial size
    /// included): unchanged by a call that never grew its memory.
    pub fn peak(&self) -> usize {
        self.peak
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.hit = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
