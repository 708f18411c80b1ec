//! In-memory TTL caches (mini-moka) with hit and miss counters:
//!
//! - [`TtlCache`]: the host's own caches of rendered JSON text, `schema:{digest}:{tool}` (`Tool` objects, TTL 300 s),
//!   `resource:{name}` and `prompt:{name}` (TTL 60 s);
//! - [`GuestCache`]: the cache tools use through the `cache` host interface, namespaced per tool,
//!   bounded in bytes (least recently used entries are evicted first), with a TTL per entry.

use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mini_moka::sync::{Cache, ConcurrentCacheExt};
use rustc_hash::FxBuildHasher;

/// Cache sizes and lifetimes.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// `schema:{digest}:{tool}` entries.
    pub schema_ttl: Duration,
    /// `resource:{name}` entries.
    pub resource_ttl: Duration,
    /// `prompt:{name}` entries.
    pub prompt_ttl: Duration,
    /// Default and maximum TTL of guest entries.
    pub guest_ttl: Duration,
    /// Total bytes of guest entries.
    pub guest_max_bytes: u64,
    /// Largest guest entry.
    pub guest_max_entry_bytes: u64,
    /// Guest bytes one component may hold.
    pub guest_max_bytes_per_component: u64,
}

/// Default schema cache TTL (seed report).
pub const DEFAULT_SCHEMA_TTL: Duration = Duration::from_secs(300);
/// Default resource and prompt cache TTL (seed report).
pub const DEFAULT_RESOURCE_TTL: Duration = Duration::from_secs(60);
/// Default guest cache TTL: long enough to save repeated API calls in a session.
pub const DEFAULT_GUEST_TTL: Duration = Duration::from_secs(600);
/// Default guest cache size: small next to the server's footprint, large for API responses.
pub const DEFAULT_GUEST_MAX_BYTES: u64 = 64 << 20;
/// Default largest guest entry.
pub const DEFAULT_GUEST_MAX_ENTRY_BYTES: u64 = 1 << 20;
/// Default quota of one component: a quarter of the total, so three others always have room.
pub const DEFAULT_GUEST_MAX_BYTES_PER_COMPONENT: u64 = DEFAULT_GUEST_MAX_BYTES / 4;

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            schema_ttl: DEFAULT_SCHEMA_TTL,
            resource_ttl: DEFAULT_RESOURCE_TTL,
            prompt_ttl: DEFAULT_RESOURCE_TTL,
            guest_ttl: DEFAULT_GUEST_TTL,
            guest_max_bytes: DEFAULT_GUEST_MAX_BYTES,
            guest_max_entry_bytes: DEFAULT_GUEST_MAX_ENTRY_BYTES,
            guest_max_bytes_per_component: DEFAULT_GUEST_MAX_BYTES_PER_COMPONENT,
        }
    }
}

/// Entries each host cache may hold.
const HOST_CACHE_CAPACITY: u64 = 10_000;

/// The host's own caches.
pub struct HostCaches {
    /// `schema:{component digest}:{tool}` -> the rendered MCP `Tool` object, as JSON text (a `tools/list` page is
    /// these joined: no JSON tree is built or copied per request).
    pub schema: TtlCache<String, Arc<str>>,
    /// `resource:{name}` -> the `resources/read` result, as JSON text.
    pub resource: TtlCache<String, Arc<str>>,
    /// `prompt:{name}` -> the `prompts/get` result, as JSON text.
    pub prompt: TtlCache<String, Arc<str>>,
}

impl HostCaches {
    /// Empty caches with the configured TTLs.
    pub fn new(settings: &CacheSettings) -> Self {
        Self {
            schema: TtlCache::new("schema", settings.schema_ttl, HOST_CACHE_CAPACITY),
            resource: TtlCache::new("resource", settings.resource_ttl, HOST_CACHE_CAPACITY),
            prompt: TtlCache::new("prompt", settings.prompt_ttl, HOST_CACHE_CAPACITY),
        }
    }
}

/// Hit and miss counters.
#[derive(Debug, Default)]
pub struct HitCounters {
    /// Lookups answered from the cache.
    pub hits: AtomicU64,
    /// Lookups that were not.
    pub misses: AtomicU64,
}

impl HitCounters {
    fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }
    fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }
}

/// A named cache with a fixed TTL.
pub struct TtlCache<K: Hash + Eq + Send + Sync + 'static, V: Clone + Send + Sync + 'static> {
    /// The cache's name in statistics.
    pub name: &'static str,
    /// Keys are our own (tool and resource names), not attacker-chosen at volume, so the fast
    /// non-DoS-resistant Fx hash is fine; it makes a hit ~25% cheaper than SipHash.
    cache: Cache<K, V, FxBuildHasher>,
    /// How long an entry lives (also the `ttlMs` hint of 2026-07-28 results served from it).
    pub ttl: Duration,
    /// Counters.
    pub counters: HitCounters,
}

impl<K: Hash + Eq + Send + Sync + 'static, V: Clone + Send + Sync + 'static> TtlCache<K, V> {
    /// An empty cache of at most `capacity` entries living `ttl` each.
    pub fn new(name: &'static str, ttl: Duration, capacity: u64) -> Self {
        Self {
            name,
            cache: Cache::builder().time_to_live(ttl).max_capacity(capacity).build_with_hasher(FxBuildHasher),
            ttl,
            counters: HitCounters::default(),
        }
    }

    /// The value under `key`, computing and storing it with `make` on a miss. A hit allocates
    /// nothing (the key is only copied on a miss).
    pub fn get_or_insert_with(&self, key: &K, make: impl FnOnce() -> V) -> V
    where
        K: Clone,
    {
        if let Some(v) = self.cache.get(key) {
            self.counters.hit();
            return v;
        }
        self.counters.miss();
        let v = make();
        self.cache.insert(key.clone(), v.clone());
        v
    }

    /// The value under `key`, if present and fresh (counted as a hit or a miss).
    pub fn get(&self, key: &K) -> Option<V> {
        let found = self.cache.get(key);
        if found.is_some() {
            self.counters.hit();
        } else {
            self.counters.miss();
        }
        found
    }

    /// Stores `value` under `key`.
    pub fn insert(&self, key: K, value: V) {
        self.cache.insert(key, value);
    }

    /// Drops every entry (a component was replaced: what it served may have changed).
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// Entries held (approximate, as mini-moka reports it).
    pub fn entries(&self) -> u64 {
        self.cache.entry_count()
    }
}

#[derive(Clone)]
struct GuestEntry {
    value: Arc<[u8]>,
    expires: Instant,
}

/// One component's part of the guest cache, keyed by (tool, key).
type Quota = Cache<(Arc<str>, String), GuestEntry>;

/// The tools' cache: keys are (tool, key), so tools never see each other's entries; each
/// component has a quota of its own (a cache of its own, evicting least recently used entries of
/// that component only), so no tool can evict another component's entries. Components together
/// hold at most the total: when it is reached, a `set` is refused instead of evicting anyone.
pub struct GuestCache {
    quotas: std::sync::RwLock<std::collections::HashMap<Arc<str>, Arc<Quota>>>,
    max_bytes: u64,
    quota_bytes: u64,
    max_ttl: Duration,
    max_entry: u64,
    /// Counters.
    pub counters: HitCounters,
}

impl GuestCache {
    /// A cache holding at most `max_bytes` (keys and values), at most `quota_bytes` per
    /// component, entries of at most `max_entry` bytes, living at most `max_ttl`.
    pub fn new(max_bytes: u64, quota_bytes: u64, max_entry: u64, max_ttl: Duration) -> Self {
        Self {
            quotas: std::sync::RwLock::default(),
            max_bytes,
            quota_bytes: quota_bytes.min(max_bytes),
            max_ttl,
            max_entry,
            counters: HitCounters::default(),
        }
    }

    fn quota(&self, component: &Arc<str>) -> Option<Arc<Quota>> {
        self.quotas.read().unwrap_or_else(|p| p.into_inner()).get(component).cloned()
    }

    fn quota_or_new(&self, component: &Arc<str>) -> Arc<Quota> {
        if let Some(quota) = self.quota(component) {
            return quota;
        }
        let mut quotas = self.quotas.write().unwrap_or_else(|p| p.into_inner());
        quotas
            .entry(component.clone())
            .or_insert_with(|| {
                Arc::new(
                    Cache::builder()
                        .max_capacity(self.quota_bytes)
                        .weigher(|k: &(Arc<str>, String), v: &GuestEntry| {
                            u32::try_from(k.0.len() + k.1.len() + v.value.len() + 64).unwrap_or(u32::MAX)
                        })
                        .time_to_live(self.max_ttl)
                        .build(),
                )
            })
            .clone()
    }

    /// Bytes held by all components (as mini-moka counts them: approximate until its pending
    /// maintenance runs).
    fn total_bytes(&self) -> u64 {
        self.quotas.read().unwrap_or_else(|p| p.into_inner()).values().map(|q| q.weighted_size()).sum()
    }

    /// `tool`'s value under `key`, if present and not expired.
    pub fn get(&self, component: &Arc<str>, tool: &Arc<str>, key: &str) -> Option<Arc<[u8]>> {
        let k = (tool.clone(), key.to_owned());
        let quota = self.quota(component);
        match quota.as_ref().and_then(|q| q.get(&k)) {
            Some(e) if e.expires > Instant::now() => {
                self.counters.hit();
                Some(e.value)
            }
            Some(_) => {
                if let Some(q) = &quota {
                    q.invalidate(&k);
                }
                self.counters.miss();
                None
            }
            None => {
                self.counters.miss();
                None
            }
        }
    }

    /// Stores `value` for `tool` of `component` under `key` for `ttl` (capped at the maximum).
    /// False if the entry is too large, or if the cache as a whole is full (a component at its
    /// quota evicts its own oldest entries instead).
    pub fn set(
        &self,
        component: &Arc<str>,
        tool: &Arc<str>,
        key: String,
        value: Vec<u8>,
        ttl: Option<Duration>,
    ) -> bool {
        let size = (key.len() + value.len()) as u64;
        if size > self.max_entry {
            return false;
        }
        let quota = self.quota_or_new(component);
        quota.sync();
        let own = quota.weighted_size();
        let others = self.total_bytes().saturating_sub(own);
        if others + (own + size).min(self.quota_bytes) > self.max_bytes {
            // Room only by evicting another component: refused.
            return false;
        }
        let ttl = ttl.map_or(self.max_ttl, |t| t.min(self.max_ttl));
        quota.insert((tool.clone(), key), GuestEntry { value: value.into(), expires: Instant::now() + ttl });
        quota.sync();
        true
    }

    /// Removes `tool`'s `key`.
    pub fn delete(&self, component: &Arc<str>, tool: &Arc<str>, key: &str) {
        if let Some(quota) = self.quota(component) {
            quota.invalidate(&(tool.clone(), key.to_owned()));
        }
    }

    /// Entries held.
    pub fn entries(&self) -> u64 {
        self.quotas.read().unwrap_or_else(|p| p.into_inner()).values().map(|q| q.entry_count()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_cache_counts_hits_and_misses_and_expires() {
        let c: TtlCache<String, u32> = TtlCache::new("t", Duration::from_millis(50), 100);
        let a = "a".to_owned();
        assert_eq!(c.get_or_insert_with(&a, || 1), 1);
        assert_eq!(c.get_or_insert_with(&a, || 2), 1, "hit keeps the first value");
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(c.get_or_insert_with(&a, || 3), 3, "expired");
        assert_eq!((c.counters.hits.load(Ordering::Relaxed), c.counters.misses.load(Ordering::Relaxed)), (1, 2));
    }

    #[test]
    fn guest_cache_is_namespaced_bounded_and_expires() {
        let c = GuestCache::new(1 << 20, 1 << 20, 100, Duration::from_secs(60));
        let comp: Arc<str> = "component".into();
        let (a, b): (Arc<str>, Arc<str>) = ("tool_a".into(), "tool_b".into());
        assert!(c.set(&comp, &a, "k".into(), b"va".to_vec(), None));
        assert!(c.set(&comp, &b, "k".into(), b"vb".to_vec(), None));
        assert_eq!(&*c.get(&comp, &a, "k").unwrap(), b"va");
        assert_eq!(&*c.get(&comp, &b, "k").unwrap(), b"vb");
        assert!(!c.set(&comp, &a, "big".into(), vec![0; 200], None), "over the entry limit");
        assert!(c.set(&comp, &a, "short".into(), b"x".to_vec(), Some(Duration::from_millis(20))));
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.get(&comp, &a, "short").is_none(), "per-entry TTL");
        c.delete(&comp, &a, "k");
        assert!(c.get(&comp, &a, "k").is_none());
        assert_eq!(&*c.get(&comp, &b, "k").unwrap(), b"vb", "delete is per tool");
    }

    #[test]
    fn a_component_cannot_evict_another() {
        // 64 KiB in all, 16 KiB per component, entries of ~1 KiB.
        let c = GuestCache::new(64 << 10, 16 << 10, 2 << 10, Duration::from_secs(60));
        let (victim, flood): (Arc<str>, Arc<str>) = ("victim.wasm".into(), "flood.wasm".into());
        let tool: Arc<str> = "t".into();
        assert!(c.set(&victim, &tool, "mine".into(), vec![1; 1000], None));
        for i in 0..1000 {
            c.set(&flood, &tool, format!("k{i}"), vec![0; 1000], None);
        }
        assert_eq!(&*c.get(&victim, &tool, "mine").unwrap(), &[1; 1000][..], "the flood evicted only its own entries");
        let flood_quota = c.quota(&flood).unwrap();
        assert!(flood_quota.weighted_size() <= 16 << 10, "{}", flood_quota.weighted_size());
        // Many flooding components together stop at the total, refusing rather than evicting.
        for n in 0..10 {
            let other: Arc<str> = format!("flood{n}.wasm").into();
            for i in 0..100 {
                c.set(&other, &tool, format!("k{i}"), vec![0; 1000], None);
            }
        }
        assert!(c.total_bytes() <= 64 << 10, "{}", c.total_bytes());
        assert!(c.get(&victim, &tool, "mine").is_some());
    }
}
