//! `cache`: the tool's own namespace in the server's [`GuestCache`](crate::caches::GuestCache),
//! within its component's quota.

use std::time::Duration;

use super::HostState;
use crate::bindings::ide_agents::tool::cache::Host;

impl Host for HostState {
    async fn get(&mut self, key: String) -> Option<Vec<u8>> {
        self.env.services.guest_cache.get(&self.env.component, &self.env.tool, &key).map(|v| v.to_vec())
    }

    async fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: Option<u32>) -> bool {
        let ttl = ttl_ms.map(|ms| Duration::from_millis(ms.into()));
        self.env.services.guest_cache.set(&self.env.component, &self.env.tool, key, value, ttl)
    }

    async fn delete(&mut self, key: String) {
        self.env.services.guest_cache.delete(&self.env.component, &self.env.tool, &key);
    }
}
