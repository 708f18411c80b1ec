//! The process's resident memory for health facts, read from `/proc` at most once a second.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::telemetry::unix_ms;

/// The process's RSS, re-read at most every [`RSS_REFRESH`]: reading `/proc` costs more than a
/// whole health call, and health is what load tests hammer.
#[derive(Default)]
pub struct CachedRss {
    bytes: AtomicU64,
    read_at_ms: AtomicU64,
}

/// How stale the RSS in health facts may be.
const RSS_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

impl CachedRss {
    /// The RSS in bytes, at most [`RSS_REFRESH`] old.
    pub fn get(&self) -> u64 {
        let now = unix_ms();
        let last = self.read_at_ms.load(Ordering::Relaxed);
        if last == 0 || now.saturating_sub(last) >= RSS_REFRESH.as_millis() as u64 {
            self.read_at_ms.store(now, Ordering::Relaxed);
            self.bytes.store(rss_bytes(), Ordering::Relaxed);
        }
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The process's resident memory in bytes (Linux; 0 elsewhere).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}
