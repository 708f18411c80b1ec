//! `host-facts`: read-only facts about the server and its catalog of tools, resources and prompts, answered by [`ServerHooks::facts`](super::ServerHooks).

use super::HostState;
use crate::bindings::ide_agents::tool::host_facts::{Facts, Host, ServerCatalog};

impl Host for HostState {
    async fn get(&mut self) -> Facts {
        self.env.hooks.facts()
    }

    async fn catalog(&mut self) -> ServerCatalog {
        self.env.hooks.catalog()
    }
}
