//! What one tool may do and see ([`ToolPolicy`]): its HTTP allow-list, read-only roots, limits,
//! configuration values and secrets. Built by the configuration (`config/`), read by the host
//! interfaces and the call path.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::http::AllowList;
use super::workspace::Root;

/// A secret value: never printed.
#[derive(Clone, PartialEq)]
pub struct Secret(String);

impl Secret {
    /// A secret with this value.
    pub fn new(value: String) -> Self {
        Self(value)
    }
}

impl Secret {
    /// The value, for the tool that may read it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What one tool may do and see.
#[derive(Debug, Clone, Default)]
pub struct ToolPolicy {
    /// Origins it may reach over HTTP.
    pub http_allow: AllowList,
    /// Its wall-clock limit, if not the default.
    pub call_timeout: Option<Duration>,
    /// Its memory limit in bytes, if not the default.
    pub memory_limit: Option<usize>,
    /// Its concurrency limit, if not the default.
    pub max_concurrent_calls: Option<usize>,
    /// Its output limit in bytes, if not the default.
    pub max_output_bytes: Option<usize>,
    /// Whether its calls may reuse an instance of an earlier call.
    pub reuse_instance: bool,
    /// `config.get` values.
    pub config: HashMap<String, String>,
    /// `config.secret` values.
    pub secrets: HashMap<String, Secret>,
    /// Read-only directory grants, by root name.
    pub roots: BTreeMap<String, Root>,
}
