//! `config`: a tool reads its own `[tools.<name>]` values and secrets, nothing else. Secret values
//! are handed to the guest and never logged.
//!
//! Owns no state: it is implemented on [`ConfigView`], a borrow of the calling tool's policy.

use wasmtime::component::{HasData, Linker};

use super::ToolPolicy;
use crate::bindings::ide_agents::tool::config::{self, Host};

/// What `config` sees of a call: the calling tool's policy, which holds its values and secrets.
pub struct ConfigView<'a> {
    pub(super) policy: &'a ToolPolicy,
}

struct HasConfig;

impl HasData for HasConfig {
    type Data<'a> = ConfigView<'a>;
}

/// Links `config` into `linker`, reaching each store's policy through `view`.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> ConfigView<'_>,
) -> wasmtime::Result<()> {
    config::add_to_linker::<T, HasConfig>(linker, view)
}

impl Host for ConfigView<'_> {
    async fn get(&mut self, key: String) -> Option<String> {
        self.policy.config.get(&key).cloned()
    }

    async fn secret(&mut self, key: String) -> Option<String> {
        self.policy.secrets.get(&key).map(|s| s.expose().to_owned())
    }
}
