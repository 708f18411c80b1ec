//! `config`: a tool reads its own `[tools.<name>]` values and secrets, nothing else. Secret values
//! are handed to the guest and never logged.

use super::HostState;
use crate::bindings::ide_agents::tool::config::Host;

impl Host for HostState {
    async fn get(&mut self, key: String) -> Option<String> {
        self.env.policy.config.get(&key).cloned()
    }

    async fn secret(&mut self, key: String) -> Option<String> {
        self.env.policy.secrets.get(&key).map(|s| s.expose().to_owned())
    }
}
