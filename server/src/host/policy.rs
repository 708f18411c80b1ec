//! What one tool may do and see ([`ToolPolicy`]): its HTTP allow-list, read-only roots, limits,
//! configuration values and secrets; and which component it is for ([`Binding`]). Built by the
//! configuration (`config/`), looked up by tool name *and* component identity ([`PolicyBook`])
//! when a tool is registered, read by the host interfaces and the call path.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
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
    /// Bytes the tool may keep in its persistent storage (0: no storage).
    pub storage_quota: u64,
    /// URI schemes its resource links may use besides `ide-agents` and the http(s) origins of its
    /// allow-list.
    pub link_schemes: Vec<String>,
    /// OAuth scopes a caller's token must hold to call the tool over authenticated HTTP.
    pub scopes: Vec<String>,
    /// Which component the policy is for.
    pub binding: Binding,
}

/// Which component a policy is for.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Binding {
    /// Whichever component registers the tool's name (extension names cannot be built-in names).
    #[default]
    Any,
    /// Only a built-in component (the grants of `[roots]`, `[backend]`, `[github]`).
    Builtin,
    /// Only an extension whose file and/or digest match.
    Component {
        /// The file: its path, or its file name.
        file: Option<String>,
        /// Its hex SHA-256.
        sha256: Option<String>,
    },
}

/// Who a component is.
#[derive(Debug, Clone, Copy)]
pub enum Identity<'a> {
    /// Compiled into the server.
    Builtin,
    /// A file in a tools directory, with the digest of its bytes.
    File {
        /// The file.
        path: &'a Path,
        /// Hex SHA-256 of its bytes.
        sha256: &'a str,
    },
}

impl Binding {
    /// Whether a component with `identity` may have the policy.
    pub fn admits(&self, identity: &Identity<'_>) -> bool {
        match (self, identity) {
            (Self::Any, _) => true,
            (Self::Builtin, Identity::Builtin) => true,
            (Self::Builtin, Identity::File { .. }) | (Self::Component { .. }, Identity::Builtin) => false,
            (Self::Component { file, sha256: digest }, Identity::File { path, sha256 }) => {
                let file_matches = file.as_deref().is_none_or(|f| {
                    Path::new(f) == *path || path.file_name().is_some_and(|n| n == std::ffi::OsStr::new(f))
                });
                file_matches && digest.as_deref().is_none_or(|d| d.eq_ignore_ascii_case(sha256))
            }
        }
    }
}

/// The configured policies by tool name, each for the component its [`Binding`] admits.
#[derive(Debug, Default)]
pub struct PolicyBook {
    by_name: HashMap<String, Arc<ToolPolicy>>,
    nothing: Arc<ToolPolicy>,
}

impl PolicyBook {
    /// The book of `policies`.
    pub fn new(policies: HashMap<String, ToolPolicy>) -> Self {
        Self { by_name: policies.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(), nothing: Arc::default() }
    }

    /// The policy of tool `name` of the component `identity`: the configured one if its binding
    /// admits that component, else nothing granted (reported when something was configured).
    pub fn for_tool(&self, name: &str, identity: &Identity<'_>) -> Arc<ToolPolicy> {
        match self.by_name.get(name) {
            Some(policy) if policy.binding.admits(identity) => policy.clone(),
            Some(policy) => {
                tracing::warn!(tool = %name, component = ?identity, binding = ?policy.binding, "the configured policy is for another component; this one gets nothing granted");
                self.nothing.clone()
            }
            None => self.nothing.clone(),
        }
    }

    /// The names that have a configured policy.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}
