//! The configuration file's schema (TOML, every key optional, unknown keys are errors), where the
//! file is looked for, and reading it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ConfigError;

/// The configuration file. Every key is optional; unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Enable the ULTRA (ML) tool group.
    pub ultra: Option<bool>,
    /// Extra tool directories.
    pub tools_dirs: Option<Vec<PathBuf>>,
    /// Cache directory.
    pub cache_dir: Option<PathBuf>,
    /// `[limits]`
    #[serde(default)]
    pub limits: LimitsSection,
    /// `[server]`
    #[serde(default)]
    pub server: ServerSection,
    /// `[http]`
    #[serde(default)]
    pub http: HttpSection,
    /// `[cache]`
    #[serde(default)]
    pub cache: CacheSection,
    /// `[telemetry]`
    #[serde(default)]
    pub telemetry: TelemetrySection,
    /// `[roots]`: directories granted read-only to the built-in tools.
    #[serde(default)]
    pub roots: RootsSection,
    /// `[backend]`: the agents backend of `ide_agents_command`.
    #[serde(default)]
    pub backend: ServiceSection,
    /// `[github]`: the GitHub API of the `ide_agents_github_*` tools.
    #[serde(default)]
    pub github: ServiceSection,
    /// `[tools.<name>]`: per-tool permissions.
    #[serde(default)]
    pub tools: BTreeMap<String, ToolSection>,
    /// `[auth]`: who may call over HTTP.
    #[serde(default)]
    pub auth: AuthSection,
}

/// `[auth]`: client authentication of the HTTP transport.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// Static bearer tokens.
    #[serde(default)]
    pub tokens: Vec<TokenEntry>,
    /// OAuth: the authorization server whose tokens are accepted (`iss`).
    pub issuer: Option<String>,
    /// OAuth: this server's resource identifier, its MCP endpoint URL (`aud`).
    pub resource: Option<String>,
    /// OAuth: the signing keys, a JWKS URL.
    pub jwks_url: Option<String>,
    /// OAuth: the signing keys, a JWKS file.
    pub jwks_file: Option<PathBuf>,
    /// OAuth: scopes every token must hold.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Calls one principal may have in flight.
    pub max_calls_in_flight_per_principal: Option<usize>,
    /// Calls one principal may start per second.
    pub max_calls_per_second_per_principal: Option<u32>,
}

/// One static bearer token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// The principal it authenticates.
    pub principal: String,
    /// The token: inline, `{ env = "VAR" }` or `{ file = "/run/secrets/token" }`.
    pub token: SecretSource,
}

/// `[roots]`: each directory is granted, read-only and under the root name given here, to the
/// built-in tools that read files ([`super::DEFAULT_POLICY`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootsSection {
    /// The workspace (`repo.graph`, `/diff_review` and `/write_tests` from files, ranking files).
    pub workspace: Option<PathBuf>,
    /// A folder of markdown notes (`kb.snippet`).
    pub kb: Option<PathBuf>,
    /// A folder of build logs (`build.logs`).
    pub logs: Option<PathBuf>,
}

/// `[backend]` and `[github]`: where a built-in service client talks to, and its token.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    /// Base URL; its origin is added to the tools' `http_allow`.
    pub base_url: Option<String>,
    /// Bearer token (a secret).
    pub token: Option<SecretSource>,
}

/// `[limits]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Wall-clock limit per call, ms.
    pub call_timeout_ms: Option<u64>,
    /// Memory limit per call, MiB.
    pub memory_limit_mib: Option<u64>,
    /// Calls at once.
    pub max_concurrent_calls: Option<usize>,
    /// Calls of one tool at once.
    pub max_concurrent_calls_per_tool: Option<usize>,
    /// Largest result per call, bytes.
    pub max_output_bytes: Option<usize>,
    /// Calls of one component (all its tools) at once.
    pub max_concurrent_calls_per_component: Option<usize>,
    /// Call slots only built-in components may use.
    pub builtin_reserve: Option<usize>,
    /// Wall-clock budget of a component's `describe`, ms.
    pub describe_timeout_ms: Option<u64>,
    /// Memory budget of a component's `describe`, MiB.
    pub describe_memory_mib: Option<u64>,
    /// Wall-clock budget of compiling one extension component, ms.
    pub compile_timeout_ms: Option<u64>,
    /// Address space of the compiler process, MiB.
    pub compile_memory_mib: Option<u64>,
    /// Largest extension component accepted, MiB.
    pub max_component_mib: Option<u64>,
    /// Core module instances one component may hold.
    pub max_core_instances_per_component: Option<u32>,
}

/// `[server]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Tools per `tools/list` page.
    pub page_size: Option<usize>,
    /// Longest accepted message line, bytes.
    pub max_line_bytes: Option<usize>,
    /// Async worker threads.
    pub worker_threads: Option<usize>,
    /// Check built-in tools' structured output against their output schemas.
    pub validate_builtin_output: Option<bool>,
    /// How long `tools/list` waits for components described in the background, ms.
    pub discovery_wait_ms: Option<u64>,
    /// The key that seals multi round-trip calls' `requestState` (at least 32 bytes): inline,
    /// `{ env = "VAR" }` or `{ file = "/run/secrets/state-key" }`. Every instance behind one
    /// load balancer needs the same one.
    pub request_state_key: Option<SecretSource>,
}

/// `[http]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// Idle connections kept per host.
    pub max_idle_per_host: Option<usize>,
    /// Seconds an idle connection is kept.
    pub idle_timeout_s: Option<u64>,
    /// Requests in flight across the server.
    pub max_in_flight: Option<usize>,
    /// Largest response body, bytes.
    pub max_response_bytes: Option<u64>,
    /// Default and maximum time per request, ms.
    pub timeout_ms: Option<u64>,
    /// Extra PEM root certificates to trust.
    pub extra_root_certs: Option<Vec<PathBuf>>,
}

/// `[cache]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    /// Schema cache TTL, s.
    pub schema_ttl_s: Option<u64>,
    /// Resource cache TTL, s.
    pub resource_ttl_s: Option<u64>,
    /// Prompt cache TTL, s.
    pub prompt_ttl_s: Option<u64>,
    /// Default and maximum TTL of guest cache entries, s.
    pub guest_ttl_s: Option<u64>,
    /// Bytes the guest cache may hold in total.
    pub guest_max_bytes: Option<u64>,
    /// Largest single guest cache entry, bytes.
    pub guest_max_entry_bytes: Option<u64>,
    /// Bytes of guest entries one component may hold.
    pub guest_max_bytes_per_component: Option<u64>,
}

/// `[telemetry]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySection {
    /// Write spans at all.
    pub enabled: Option<bool>,
    /// JSONL file.
    pub path: Option<PathBuf>,
    /// Spans per write.
    pub batch_size: Option<usize>,
    /// Longest time a span waits to be written, ms.
    pub flush_interval_ms: Option<u64>,
    /// Spans queued before new ones are dropped.
    pub queue_capacity: Option<usize>,
}

/// `[tools.<name>]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSection {
    /// Origins the tool may reach: `https://host`, `http://host:port`, `https://*.domain`.
    #[serde(default)]
    pub http_allow: Vec<String>,
    /// Wall-clock limit for this tool, ms.
    pub call_timeout_ms: Option<u64>,
    /// Memory limit for this tool, MiB.
    pub memory_limit_mib: Option<u64>,
    /// Calls of this tool at once.
    pub max_concurrent_calls: Option<usize>,
    /// Largest result of this tool, bytes.
    pub max_output_bytes: Option<usize>,
    /// Run calls in an instance kept from an earlier call of the same component instead of a
    /// fresh one. Faster, but state (globals, heap) carries over: only for tools known to keep
    /// none.
    pub reuse_instance: Option<bool>,
    /// Directories the tool may read through the `workspace` interface, by root name.
    #[serde(default)]
    pub read_roots: BTreeMap<String, PathBuf>,
    /// MiB the tool may keep in its persistent storage (the `storage` interface); 0 or absent:
    /// none (built-in tools that need storage have it granted by default).
    pub storage_quota_mib: Option<u64>,
    /// Values the tool reads with `config.get`.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Secrets the tool reads with `config.secret`.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretSource>,
    /// URI schemes the tool's resource links may use besides `ide-agents` and its allowed
    /// http(s) origins (e.g. `["vscode"]`).
    #[serde(default)]
    pub link_schemes: Vec<String>,
    /// OAuth scopes a caller's token must hold to call this tool (`[auth]` with an issuer).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Grants only to the extension from this file (a path, or a file name in a tools
    /// directory).
    pub component: Option<String>,
    /// Grants only to the extension whose bytes have this hex SHA-256.
    pub sha256: Option<String>,
}

/// A secret's value, inline or from an environment variable.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum SecretSource {
    /// `key = "value"`
    Value(String),
    /// `key = { env = "VARIABLE" }`
    Env {
        /// The variable.
        env: String,
    },
    /// `key = { file = "/run/secrets/name" }` (surrounding whitespace trimmed)
    File {
        /// The file.
        file: PathBuf,
    },
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Value(_) => f.write_str("<redacted>"),
            Self::Env { env } => write!(f, "{{ env = {env:?} }}"),
            Self::File { file } => write!(f, "{{ file = {file:?} }}"),
        }
    }
}

/// The configuration file to read, if any.
pub fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("ide-agents-mcp/config.toml")).filter(|p| p.is_file())
}

/// Reads and parses a configuration file.
pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { file: path.into(), source })?;
    toml::from_str(&text)
        .map_err(|e| ConfigError::Parse { file: path.into(), message: e.to_string().trim().to_owned() })
}
