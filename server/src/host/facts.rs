//! `host-facts`: read-only facts about the server, answered by [`ServerHooks::facts`](super::ServerHooks).

use super::HostState;
use crate::bindings::ide_agents::tool::host_facts::{Facts, Host};

impl Host for HostState {
    async fn get(&mut self) -> Facts {
        self.env.hooks.facts()
    }
}
