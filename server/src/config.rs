//! Configuration: defaults (the seed report's values), an optional TOML file, environment
//! variables and command-line flags, in rising order of precedence, resolved once at startup into
//! [`Settings`]. Invalid configuration fails at startup naming the file, the key and the reason.
//!
//! The file is `--config FILE`, else `$IDE_AGENTS_MCP_CONFIG`, else
//! `$XDG_CONFIG_HOME/ide-agents-mcp/config.toml` (or `~/.config/...`) if it exists. See
//! `docs/configuration.md` for every key.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

use crate::host::http::{AllowList, HttpSettings};
pub use crate::host::workspace::Root;
use crate::mcp::ServerSettings;
use crate::runtime::RuntimeSettings;
use crate::telemetry::TelemetrySettings;

/// `ide-agents-mcp`: an MCP tool server whose tools are WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "ide-agents-mcp", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options for `serve` (also accepted without the subcommand).
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdio (the default).
    Serve(Box<ServeArgs>),
    /// Summarise a telemetry span file: per tool, count, error rate, latency percentiles, phases.
    Stats(StatsArgs),
}

/// Options of `stats`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// The span file [default: the configured telemetry path, `logs/mcp_tool_spans.jsonl`].
    pub file: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Configuration file (for the default span file path).
    #[arg(long, value_name = "FILE", env = "IDE_AGENTS_MCP_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Options of `serve`. Every flag has an environment variable; flags and variables override the
/// configuration file.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML).
    #[arg(long, value_name = "FILE", env = "IDE_AGENTS_MCP_CONFIG")]
    pub config: Option<PathBuf>,

    /// Directory of extra tool components (`*.wasm`); may be repeated.
    #[arg(long = "tools-dir", value_name = "DIR", env = "IDE_AGENTS_MCP_TOOLS_DIR", value_delimiter = ':')]
    pub tools_dirs: Vec<PathBuf>,

    /// Cache directory for tool descriptors and compiled components
    /// [default: $XDG_CACHE_HOME/ide-agents-mcp or ~/.cache/ide-agents-mcp].
    #[arg(long, value_name = "DIR", env = "IDE_AGENTS_MCP_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Do not use a disk cache: every start compiles every component.
    #[arg(long, env = "IDE_AGENTS_MCP_NO_CACHE")]
    pub no_cache: bool,

    /// Enable the ULTRA (ML) tool group.
    #[arg(long, env = "IDE_AGENTS_MCP_ULTRA")]
    pub ultra: bool,

    /// Grant the built-in resource, prompt and rank tools read-only access to this directory (the
    /// `workspace` root) [default: `[roots] workspace`, else nothing].
    #[arg(long, value_name = "DIR", env = "IDE_AGENTS_MCP_WORKSPACE")]
    pub workspace: Option<PathBuf>,

    /// Base URL of the agents backend used by `ide_agents_command` [default: `[backend] base_url`].
    #[arg(long, value_name = "URL", env = "IDE_AGENTS_MCP_BACKEND_URL")]
    pub backend_url: Option<String>,

    /// Wall-clock limit per tool call, in milliseconds [default: 30000].
    #[arg(long, value_name = "MS", env = "IDE_AGENTS_MCP_CALL_TIMEOUT_MS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub call_timeout_ms: Option<u64>,

    /// Linear-memory limit per tool call, in MiB [default: 256].
    #[arg(long, value_name = "MIB", env = "IDE_AGENTS_MCP_MEMORY_LIMIT_MIB",
          value_parser = clap::value_parser!(u64).range(1..=MAX_MEMORY_MIB))]
    pub memory_limit_mib: Option<u64>,

    /// Tool calls that may run at once; more wait in order [default: 64].
    #[arg(long, value_name = "N", env = "IDE_AGENTS_MCP_MAX_CONCURRENT_CALLS",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub max_concurrent_calls: Option<usize>,

    /// Longest accepted message line in bytes [default: 16 MiB].
    #[arg(long, value_name = "BYTES", env = "IDE_AGENTS_MCP_MAX_LINE_BYTES",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=(1 << 30)))]
    pub max_line_bytes: Option<usize>,

    /// Check the built-in tools' structured output against their output schemas on every call
    /// [default: true in debug builds, false in release builds]. Components from tools
    /// directories are always checked.
    #[arg(long, value_name = "BOOL", env = "IDE_AGENTS_MCP_VALIDATE_BUILTIN_OUTPUT")]
    pub validate_builtin_output: Option<bool>,

    /// Async worker threads that run tool calls [default: one per CPU core].
    #[arg(long, value_name = "N", env = "IDE_AGENTS_MCP_WORKER_THREADS",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
    pub worker_threads: Option<usize>,

    /// Tools per `tools/list` page [default: 100].
    #[arg(long, value_name = "N", env = "IDE_AGENTS_MCP_PAGE_SIZE",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub page_size: Option<usize>,

    /// Telemetry span file (JSONL) [default: logs/mcp_tool_spans.jsonl]; `off` disables telemetry.
    #[arg(long, value_name = "FILE", env = "IDE_AGENTS_MCP_TELEMETRY")]
    pub telemetry: Option<PathBuf>,

    /// Log filter for stderr, e.g. `info`, `debug`, `ide_agents_mcp=trace`.
    #[arg(long, value_name = "FILTER", env = "IDE_AGENTS_MCP_LOG", default_value = "info")]
    pub log: String,
}

/// Largest per-call memory limit, MiB.
const MAX_MEMORY_MIB: u64 = 4096;

/// A configuration error, naming where it is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {file}: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown key or a value of the wrong type.
    #[error("invalid configuration file {file}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message (it names the key and line).
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("invalid configuration{}: `{key}`: {reason}", file.as_ref().map(|f| format!(" in {}", f.display())).unwrap_or_default())]
    Invalid {
        /// The file, if the value came from one.
        file: Option<PathBuf>,
        /// The key, dotted (`tools.github.http_allow[0]`).
        key: String,
        /// Why.
        reason: String,
    },
}

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
}

/// `[roots]`: each directory is granted, read-only and under the root name given here, to the
/// built-in tools that read files ([`ROOT_TOOLS`]).
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

/// Built-in tools that get the `[roots]` grants.
pub const ROOT_TOOLS: &[&str] = &["ide_agents_resource", "ide_agents_prompt", "ide_agents_ultra_rank"];
/// The built-in backend command tool.
pub const COMMAND_TOOL: &str = "ide_agents_command";
/// The built-in GitHub tools.
pub const GITHUB_TOOLS: &[&str] = &[
    "ide_agents_github_get_issue",
    "ide_agents_github_list_pulls",
    "ide_agents_github_get_pull",
    "ide_agents_github_get_pull_diff",
    "ide_agents_github_search_code",
    "ide_agents_github_comment_issue",
];
/// The GitHub API the GitHub tools use unless `[github] base_url` says otherwise.
pub const DEFAULT_GITHUB_URL: &str = "https://api.github.com";
/// The environment variable the GitHub token is read from when `[github] token` is not set.
pub const GITHUB_TOKEN_ENV: &str = "GITHUB_TOKEN";

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
    /// Values the tool reads with `config.get`.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Secrets the tool reads with `config.secret`.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretSource>,
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
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Value(_) => f.write_str("<redacted>"),
            Self::Env { env } => write!(f, "{{ env = {env:?} }}"),
        }
    }
}

/// A secret value: never printed.
#[derive(Clone, PartialEq)]
pub struct Secret(String);

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

/// Cache sizes and lifetimes.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// `schema:{tool}` entries.
    pub schema_ttl: Duration,
    /// `resource:{name}` entries.
    pub resource_ttl: Duration,
    /// `prompt:{name}` entries.
    pub prompt_ttl: Duration,
    /// Default and maximum TTL of guest entries.
    pub guest_ttl: Duration,
    /// Total bytes of guest entries.
    pub guest_max_bytes: u64,
    /// Largest guest entry.
    pub guest_max_entry_bytes: u64,
}

/// Default schema cache TTL (seed report).
pub const DEFAULT_SCHEMA_TTL: Duration = Duration::from_secs(300);
/// Default resource and prompt cache TTL (seed report).
pub const DEFAULT_RESOURCE_TTL: Duration = Duration::from_secs(60);
/// Default guest cache TTL: long enough to save repeated API calls in a session.
pub const DEFAULT_GUEST_TTL: Duration = Duration::from_secs(600);
/// Default guest cache size: small next to the server's footprint, large for API responses.
pub const DEFAULT_GUEST_MAX_BYTES: u64 = 64 << 20;
/// Default largest guest entry.
pub const DEFAULT_GUEST_MAX_ENTRY_BYTES: u64 = 1 << 20;

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            schema_ttl: DEFAULT_SCHEMA_TTL,
            resource_ttl: DEFAULT_RESOURCE_TTL,
            prompt_ttl: DEFAULT_RESOURCE_TTL,
            guest_ttl: DEFAULT_GUEST_TTL,
            guest_max_bytes: DEFAULT_GUEST_MAX_BYTES,
            guest_max_entry_bytes: DEFAULT_GUEST_MAX_ENTRY_BYTES,
        }
    }
}

/// Everything the server needs to know, resolved.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The file the settings came from, if any.
    pub file: Option<PathBuf>,
    /// ULTRA tool group enabled.
    pub ultra: bool,
    /// Async worker threads that run calls.
    pub worker_threads: usize,
    /// Extra tool directories.
    pub tools_dirs: Vec<PathBuf>,
    /// Runtime limits and cache directory.
    pub runtime: RuntimeSettings,
    /// MCP session settings.
    pub server: ServerSettings,
    /// Outbound HTTP.
    pub http: HttpSettings,
    /// Caches.
    pub caches: CacheSettings,
    /// Telemetry.
    pub telemetry: TelemetrySettings,
    /// Per-tool permissions, by tool name.
    pub tools: HashMap<String, ToolPolicy>,
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

impl ServeArgs {
    /// Resolves defaults, the configuration file and these arguments into [`Settings`].
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let path = config_path(self.config.as_deref());
        let file = match &path {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        resolve(self, file, path)
    }
}

fn invalid(file: &Option<PathBuf>, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { file: file.clone(), key: key.into(), reason: reason.into() }
}

fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    file: &Option<PathBuf>,
    key: &str,
    value: T,
    min: T,
    max: T,
) -> Result<T, ConfigError> {
    if value < min || value > max {
        return Err(invalid(file, key, format!("{value} is outside {min}..={max}")));
    }
    Ok(value)
}

/// Applies `args` over `file` over the defaults.
pub fn resolve(args: &ServeArgs, file: FileConfig, path: Option<PathBuf>) -> Result<Settings, ConfigError> {
    let p = &path;
    let secs = |s: u64| Duration::from_secs(s);
    let mut runtime = RuntimeSettings::default();
    if let Some(ms) = args.call_timeout_ms.or(file.limits.call_timeout_ms) {
        runtime.call_timeout = Duration::from_millis(in_range(p, "limits.call_timeout_ms", ms, 1, 24 * 3600 * 1000)?);
    }
    if let Some(mib) = args.memory_limit_mib.or(file.limits.memory_limit_mib) {
        runtime.memory_limit = (in_range(p, "limits.memory_limit_mib", mib, 1, MAX_MEMORY_MIB)? as usize) << 20;
    }
    if let Some(n) = args.max_concurrent_calls.or(file.limits.max_concurrent_calls) {
        runtime.max_concurrent_calls = in_range(p, "limits.max_concurrent_calls", n, 1, 1024)?;
    }
    if let Some(n) = file.limits.max_output_bytes {
        runtime.max_output_bytes = in_range(p, "limits.max_output_bytes", n, 1, 1 << 30)?;
    }
    runtime.cache_dir = if args.no_cache {
        None
    } else {
        args.cache_dir.clone().or(file.cache_dir).or_else(crate::runtime::cache::default_dir)
    };

    let mut server = ServerSettings::default();
    if let Some(n) = args.page_size.or(file.server.page_size) {
        server.page_size = in_range(p, "server.page_size", n, 1, 10_000)?;
    }
    if let Some(n) = args.max_line_bytes.or(file.server.max_line_bytes) {
        server.max_line_bytes = in_range(p, "server.max_line_bytes", n, 1024, 1 << 30)?;
    }
    if let Some(v) = args.validate_builtin_output.or(file.server.validate_builtin_output) {
        server.validate_builtin_output = v;
    }
    server.max_calls_per_tool = runtime.max_concurrent_calls.div_ceil(2).max(1);
    if let Some(n) = file.limits.max_concurrent_calls_per_tool {
        server.max_calls_per_tool = in_range(p, "limits.max_concurrent_calls_per_tool", n, 1, 1024)?;
    }

    let h = file.http;
    let mut http = HttpSettings::default();
    if let Some(n) = h.max_idle_per_host {
        http.max_idle_per_host = in_range(p, "http.max_idle_per_host", n, 0, 1000)?;
    }
    if let Some(s) = h.idle_timeout_s {
        http.idle_timeout = secs(in_range(p, "http.idle_timeout_s", s, 1, 3600)?);
    }
    if let Some(n) = h.max_in_flight {
        http.max_in_flight = in_range(p, "http.max_in_flight", n, 1, 10_000)?;
    }
    if let Some(n) = h.max_response_bytes {
        http.max_response_bytes = in_range(p, "http.max_response_bytes", n, 1, 1 << 30)?;
    }
    if let Some(ms) = h.timeout_ms {
        http.timeout = Duration::from_millis(in_range(p, "http.timeout_ms", ms, 1, 3600 * 1000)?);
    }
    http.extra_root_certs = h.extra_root_certs.unwrap_or_default();

    let c = file.cache;
    let mut caches = CacheSettings::default();
    if let Some(s) = c.schema_ttl_s {
        caches.schema_ttl = secs(in_range(p, "cache.schema_ttl_s", s, 1, 86_400)?);
    }
    if let Some(s) = c.resource_ttl_s {
        caches.resource_ttl = secs(in_range(p, "cache.resource_ttl_s", s, 1, 86_400)?);
    }
    if let Some(s) = c.prompt_ttl_s {
        caches.prompt_ttl = secs(in_range(p, "cache.prompt_ttl_s", s, 1, 86_400)?);
    }
    if let Some(s) = c.guest_ttl_s {
        caches.guest_ttl = secs(in_range(p, "cache.guest_ttl_s", s, 1, 7 * 86_400)?);
    }
    if let Some(n) = c.guest_max_bytes {
        caches.guest_max_bytes = in_range(p, "cache.guest_max_bytes", n, 0, 1 << 34)?;
    }
    if let Some(n) = c.guest_max_entry_bytes {
        caches.guest_max_entry_bytes = in_range(p, "cache.guest_max_entry_bytes", n, 1, 1 << 30)?;
    }

    let t = file.telemetry;
    let mut telemetry = TelemetrySettings::default();
    if let Some(enabled) = t.enabled {
        telemetry.enabled = enabled;
    }
    match args.telemetry.clone().or(t.path) {
        Some(path) if path.as_os_str() == "off" => telemetry.enabled = false,
        Some(path) => telemetry.path = path,
        None => {}
    }
    if let Some(n) = t.batch_size {
        telemetry.batch_size = in_range(p, "telemetry.batch_size", n, 1, 100_000)?;
    }
    if let Some(ms) = t.flush_interval_ms {
        telemetry.flush_interval = Duration::from_millis(in_range(p, "telemetry.flush_interval_ms", ms, 1, 3_600_000)?);
    }
    if let Some(n) = t.queue_capacity {
        telemetry.queue_capacity = in_range(p, "telemetry.queue_capacity", n, 1, 10_000_000)?;
    }

    let mut tools = builtin_policies(args, &file.roots, file.backend, file.github, p)?;
    for (name, section) in file.tools {
        let key = |k: &str| format!("tools.{name}.{k}");
        let policy = tools.entry(name.clone()).or_default();
        for (i, entry) in section.http_allow.iter().enumerate() {
            policy.http_allow.add(entry).map_err(|reason| invalid(p, format!("{}[{i}]", key("http_allow")), reason))?;
        }
        if let Some(ms) = section.call_timeout_ms {
            policy.call_timeout =
                Some(Duration::from_millis(in_range(p, &key("call_timeout_ms"), ms, 1, 24 * 3600 * 1000)?));
        }
        if let Some(mib) = section.memory_limit_mib {
            policy.memory_limit = Some((in_range(p, &key("memory_limit_mib"), mib, 1, MAX_MEMORY_MIB)? as usize) << 20);
        }
        if let Some(n) = section.max_concurrent_calls {
            policy.max_concurrent_calls = Some(in_range(p, &key("max_concurrent_calls"), n, 1, 1024)?);
        }
        if let Some(n) = section.max_output_bytes {
            policy.max_output_bytes = Some(in_range(p, &key("max_output_bytes"), n, 1, 1 << 30)?);
        }
        if let Some(reuse) = section.reuse_instance {
            policy.reuse_instance = reuse;
        }
        policy.config.extend(section.config);
        for (secret, source) in section.secrets {
            let value = secret_value(p, &format!("{}.{secret}", key("secrets")), source)?;
            policy.secrets.insert(secret, value);
        }
        for (root, path) in section.read_roots {
            let opened =
                Root::open(&path).map_err(|reason| invalid(p, format!("{}.{root}", key("read_roots")), reason))?;
            policy.roots.insert(root, opened);
        }
    }

    let worker_threads = match args.worker_threads.or(file.server.worker_threads) {
        Some(n) => in_range(p, "server.worker_threads", n, 1, 256)?,
        None => default_worker_threads(),
    };

    Ok(Settings {
        file: path.clone(),
        ultra: args.ultra || file.ultra.unwrap_or(false),
        worker_threads,
        tools_dirs: if args.tools_dirs.is_empty() {
            file.tools_dirs.unwrap_or_default()
        } else {
            args.tools_dirs.clone()
        },
        runtime,
        server,
        http,
        caches,
        telemetry,
        tools,
    })
}

/// A secret's value: inline, or read from the environment variable it names.
fn secret_value(file: &Option<PathBuf>, key: &str, source: SecretSource) -> Result<Secret, ConfigError> {
    match source {
        SecretSource::Value(v) => Ok(Secret(v)),
        SecretSource::Env { env } => std::env::var(&env)
            .map(Secret)
            .map_err(|_| invalid(file, key, format!("environment variable {env} is not set"))),
    }
}

/// The policies of the built-in tools, from `[roots]`, `[backend]` and `[github]` (and their
/// flags): read-only roots for [`ROOT_TOOLS`], the backend's origin, URL and token for
/// [`COMMAND_TOOL`], GitHub's for [`GITHUB_TOOLS`]. `[tools.<name>]` sections apply on top.
fn builtin_policies(
    args: &ServeArgs,
    roots: &RootsSection,
    backend: ServiceSection,
    github: ServiceSection,
    p: &Option<PathBuf>,
) -> Result<HashMap<String, ToolPolicy>, ConfigError> {
    let mut tools: HashMap<String, ToolPolicy> = HashMap::new();
    let workspace = args.workspace.as_ref().or(roots.workspace.as_ref());
    for (name, path) in [("workspace", workspace), ("kb", roots.kb.as_ref()), ("logs", roots.logs.as_ref())] {
        let Some(path) = path else { continue };
        let root = Root::open(path).map_err(|reason| invalid(p, format!("roots.{name}"), reason))?;
        for tool in ROOT_TOOLS {
            tools.entry((*tool).to_owned()).or_default().roots.insert(name.to_owned(), root.clone());
        }
    }
    let mut service = |tools_of: &[&str], url: Option<String>, token: Option<Secret>, key: &str, url_key: &str| {
        let Some(url) = url else { return Ok(()) };
        let origin = url::Url::parse(&url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .map(|u| u.origin().ascii_serialization())
            .ok_or_else(|| invalid(p, format!("{key}.base_url"), format!("{url:?} is not an http(s) URL")))?;
        for tool in tools_of {
            let policy = tools.entry((*tool).to_owned()).or_default();
            policy.http_allow.add(&origin).map_err(|reason| invalid(p, format!("{key}.base_url"), reason))?;
            policy.config.insert(url_key.to_owned(), url.trim_end_matches('/').to_owned());
            if let Some(token) = &token {
                policy.secrets.insert("token".to_owned(), token.clone());
            }
        }
        Ok::<_, ConfigError>(())
    };
    let token = |section: ServiceSection, key: &str| {
        section.token.map(|s| secret_value(p, &format!("{key}.token"), s)).transpose()
    };
    let backend_url = args.backend_url.clone().or(backend.base_url.clone());
    service(&[COMMAND_TOOL], backend_url, token(backend, "backend")?, "backend", "backend_base_url")?;
    let github_url = github.base_url.clone().unwrap_or_else(|| DEFAULT_GITHUB_URL.to_owned());
    let github_token = match token(github, "github")? {
        Some(t) => Some(t),
        None => std::env::var(GITHUB_TOKEN_ENV).ok().filter(|t| !t.is_empty()).map(Secret),
    };
    service(GITHUB_TOOLS, Some(github_url), github_token, "github", "base_url")?;
    Ok(tools)
}

/// One worker thread per core. With stdin and stdout polled on the runtime (pipes and sockets,
/// how IDEs start us) the server has no reader or writer threads of its own, and on the 2-core
/// reference machine two workers beat one at every load: health at 16 in flight 25k -> 36k
/// calls/s, p99 1.03 -> 0.73 ms; see `docs/design/0005-calls-on-every-core.md`.
pub fn default_worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

impl Settings {
    /// The largest memory limit any tool may have: the engine's hard cap.
    pub fn max_memory_limit(&self) -> usize {
        self.tools.values().filter_map(|t| t.memory_limit).fold(self.runtime.memory_limit, usize::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::limits;

    fn parse(toml_text: &str) -> Result<Settings, ConfigError> {
        let file: FileConfig = toml::from_str(toml_text)
            .map_err(|e| ConfigError::Parse { file: "test.toml".into(), message: e.to_string() })?;
        resolve(&ServeArgs::default(), file, Some("test.toml".into()))
    }

    #[test]
    fn defaults_are_the_seed_values() {
        let s = parse("").unwrap();
        assert_eq!(s.caches.schema_ttl, Duration::from_secs(300));
        assert_eq!(s.caches.resource_ttl, Duration::from_secs(60));
        assert_eq!(s.http.max_idle_per_host, 20);
        assert_eq!(s.http.idle_timeout, Duration::from_secs(30));
        assert_eq!(s.http.max_in_flight, 50);
        assert_eq!(s.telemetry.batch_size, 100);
        assert_eq!(s.telemetry.flush_interval, Duration::from_secs(10));
        assert_eq!(s.telemetry.path, PathBuf::from("logs/mcp_tool_spans.jsonl"));
        assert!(!s.ultra);
        assert_eq!(s.runtime.call_timeout, limits::DEFAULT_CALL_TIMEOUT);
        // The test suite runs debug builds: built-in output is schema-checked in every test.
        assert_eq!(s.server.validate_builtin_output, cfg!(debug_assertions));
    }

    #[test]
    fn built_in_output_checking_can_be_set_either_way() {
        assert!(parse("[server]\nvalidate_builtin_output = true").unwrap().server.validate_builtin_output);
        let file: FileConfig = toml::from_str("[server]\nvalidate_builtin_output = true").unwrap();
        let args = ServeArgs { validate_builtin_output: Some(false), ..ServeArgs::default() };
        assert!(!resolve(&args, file, None).unwrap().server.validate_builtin_output);
        let cli = Cli::try_parse_from(["ide-agents-mcp", "serve", "--validate-builtin-output", "false"]).unwrap();
        let Some(Command::Serve(serve)) = cli.command else { panic!("not serve") };
        assert_eq!(serve.validate_builtin_output, Some(false));
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse("[http]\nmax_idle_per_hots = 3").unwrap_err().to_string();
        assert!(e.contains("max_idle_per_hots") && e.contains("test.toml"), "{e}");
        let e = parse("[telemetry]\nbatch_size = 0").unwrap_err().to_string();
        assert!(e.contains("`telemetry.batch_size`") && e.contains("outside"), "{e}");
        let e = parse("[tools.gh]\nhttp_allow = [\"ftp://x\"]").unwrap_err().to_string();
        assert!(e.contains("`tools.gh.http_allow[0]`"), "{e}");
        let e = parse("[tools.gh.secrets]\ntoken = { env = \"IDE_AGENTS_SURELY_UNSET_VAR\" }").unwrap_err().to_string();
        assert!(e.contains("`tools.gh.secrets.token`") && e.contains("IDE_AGENTS_SURELY_UNSET_VAR"), "{e}");
        let e = parse("ultra = \"yes\"").unwrap_err().to_string();
        assert!(e.contains("ultra"), "{e}");
    }

    #[test]
    fn flags_override_the_file_and_secrets_stay_hidden() {
        let file: FileConfig = toml::from_str(
            "[limits]\ncall_timeout_ms = 100\nmemory_limit_mib = 8\n[tools.gh]\nmemory_limit_mib = 512\n\
             [tools.gh.secrets]\ntoken = \"hunter2\"",
        )
        .unwrap();
        let args = ServeArgs { call_timeout_ms: Some(200), ..ServeArgs::default() };
        let s = resolve(&args, file, None).unwrap();
        assert_eq!(s.runtime.call_timeout, Duration::from_millis(200));
        assert_eq!(s.runtime.memory_limit, 8 << 20);
        assert_eq!(s.max_memory_limit(), 512 << 20);
        let gh = &s.tools["gh"];
        assert_eq!(gh.secrets["token"].expose(), "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn built_in_tools_get_their_grants_and_sections_override() {
        let dir = tempfile::tempdir().unwrap();
        let s = parse("").unwrap();
        let github = &s.tools["ide_agents_github_get_issue"];
        let api: url::Url = "https://api.github.com/repos/a/b".parse().unwrap();
        assert!(github.http_allow.check(&api).is_some(), "api.github.com is allowed by default");
        assert_eq!(github.config["base_url"], "https://api.github.com");
        assert!(!s.tools.contains_key(COMMAND_TOOL), "no backend, no grant");
        assert!(s.tools.values().all(|p| p.roots.is_empty()), "no roots by default");

        let s = parse(&format!(
            "[roots]\nworkspace = {:?}\n[backend]\nbase_url = \"http://127.0.0.1:8765/\"\ntoken = \"t0k\"\n\
             [tools.ide_agents_command]\ncall_timeout_ms = 5\nconfig = {{ extra = \"1\" }}",
            dir.path()
        ))
        .unwrap();
        let command = &s.tools[COMMAND_TOOL];
        let local: url::Url = "http://127.0.0.1:8765/v1/runs".parse().unwrap();
        assert!(command.http_allow.check(&local).is_some());
        assert_eq!(command.config["backend_base_url"], "http://127.0.0.1:8765");
        assert_eq!((command.config["extra"].as_str(), command.secrets["token"].expose()), ("1", "t0k"));
        assert_eq!(command.call_timeout, Some(Duration::from_millis(5)));
        for tool in ROOT_TOOLS {
            assert_eq!(s.tools[*tool].roots["workspace"].path(), dir.path());
        }
        let e = parse("[roots]\nkb = \"/nonexistent/notes\"").unwrap_err().to_string();
        assert!(e.contains("`roots.kb`") && e.contains("/nonexistent/notes"), "{e}");
        let e = parse("[backend]\nbase_url = \"ftp://x\"").unwrap_err().to_string();
        assert!(e.contains("`backend.base_url`"), "{e}");
        let e = parse("[tools.x.read_roots]\ndocs = \"/nonexistent\"").unwrap_err().to_string();
        assert!(e.contains("`tools.x.read_roots.docs`"), "{e}");
    }

    #[test]
    fn cli_parses() {
        assert!(Cli::try_parse_from(["ide-agents-mcp", "serve", "--call-timeout-ms", "0"]).is_err());
        let cli = Cli::try_parse_from(["ide-agents-mcp", "serve", "--tools-dir", "/a", "--tools-dir", "/b"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else { panic!() };
        assert_eq!(args.tools_dirs.len(), 2);
        let cli = Cli::try_parse_from(["ide-agents-mcp", "stats", "f.jsonl", "--json"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Stats(StatsArgs { json: true, .. }))));
    }
}
