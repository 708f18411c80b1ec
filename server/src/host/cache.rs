//! `cache`: the tool's own namespace in the server's [`GuestCache`](crate::caches::GuestCache),
//! within its component's quota.
//!
//! Owns no state: it is implemented on [`CacheView`], a borrow of the shared cache and the
//! call's tool and component.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasData, Linker};

use crate::bindings::ide_agents::tool::cache::{self, Host};
use crate::caches::GuestCache;

/// What `cache` sees of a call: the shared cache, and whose namespace and quota it uses.
pub struct CacheView<'a> {
    pub(super) cache: &'a GuestCache,
    /// The component, owner of the quota.
    pub(super) component: &'a Arc<str>,
    /// The tool, owner of the namespace.
    pub(super) tool: &'a Arc<str>,
}

struct HasCache;

impl HasData for HasCache {
    type Data<'a> = CacheView<'a>;
}

/// Links `cache` into `linker`, reaching each store's cache namespace through `view`.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> CacheView<'_>,
) -> wasmtime::Result<()> {
    cache::add_to_linker::<T, HasCache>(linker, view)
}

impl Host for CacheView<'_> {
    async fn get(&mut self, key: String) -> Option<Vec<u8>> {
        self.cache.get(self.component, self.tool, &key).map(|v| v.to_vec())
    }

    async fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: Option<u32>) -> bool {
        let ttl = ttl_ms.map(|ms| Duration::from_millis(ms.into()));
        self.cache.set(self.component, self.tool, key, value, ttl)
    }

    async fn delete(&mut self, key: String) {
        self.cache.delete(self.component, self.tool, &key);
    }
}
