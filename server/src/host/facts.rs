//! `host-facts`: read-only facts about the server and its catalog of tools, resources and prompts, answered by [`ServerHooks::facts`](super::ServerHooks).
//!
//! Owns no state: it is implemented on [`FactsView`], a borrow of the call's server hooks.

use wasmtime::component::{HasData, Linker};

use super::ServerHooks;
use crate::bindings::ide_agents::tool::host_facts::{self, Facts, Host, ServerCatalog};

/// What `host-facts` sees of a call: the server around it.
pub struct FactsView<'a> {
    pub(super) hooks: &'a dyn ServerHooks,
}

struct HasFacts;

impl HasData for HasFacts {
    type Data<'a> = FactsView<'a>;
}

/// Links `host-facts` into `linker`, reaching each store's server hooks through `view`.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> FactsView<'_>,
) -> wasmtime::Result<()> {
    host_facts::add_to_linker::<T, HasFacts>(linker, view)
}

impl Host for FactsView<'_> {
    async fn get(&mut self) -> Facts {
        self.hooks.facts()
    }

    async fn catalog(&mut self) -> ServerCatalog {
        self.hooks.catalog()
    }
}
