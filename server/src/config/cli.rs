//! The command line: `serve` (the default), `stats`, `check` and `wit`, every `serve` flag with its environment
//! variable. Parsing only; `resolve.rs` turns the flags into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::MAX_MEMORY_MIB;

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
    /// Serve MCP over stdio (the default), or over Streamable HTTP with `--http`.
    Serve(Box<ServeArgs>),
    /// Summarise a telemetry span file: per tool, count, error rate, latency percentiles, phases.
    Stats(StatsArgs),
    /// Check a tool component before serving it: compile it (into the AOT cache), name each import
    /// the host does not link and why, run its `describe` under the discovery budget, show its
    /// tools and schemas, and time a fresh instance. Exits 1 if the server would not serve it.
    Check(Box<CheckArgs>),
    /// Write the WIT package this binary serves (`ide-agents:tool`, versioned) into a directory,
    /// to build a tool component against without a checkout of this repository.
    Wit(WitArgs),
    /// Put the WIT doc comments of a component's package into the component (toolchains drop
    /// them), so the tools of a plain typed component are described by its functions' comments.
    #[command(name = "embed-docs")]
    EmbedDocs(EmbedDocsArgs),
    /// Internal: the server runs itself with this to compile an untrusted component within a
    /// budget (component on stdin, artifact on stdout).
    #[command(name = "compile-component", hide = true)]
    CompileComponent(CompileArgs),
}

/// Options of `compile-component`.
#[derive(Debug, Clone, Args)]
pub struct CompileArgs {
    /// Address space limit of the compiler process, bytes.
    #[arg(long)]
    pub memory_bytes: u64,
}

/// Options of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The component (`.wasm`).
    pub file: PathBuf,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
    /// The `serve` options whose budgets, limits and cache directory apply.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Options of `wit`.
#[derive(Debug, Clone, Args)]
pub struct WitArgs {
    /// Directory to write the `.wit` files into (created if missing; files of the same names are
    /// replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Options of `embed-docs`.
#[derive(Debug, Clone, Args)]
pub struct EmbedDocsArgs {
    /// The component (`.wasm`).
    pub file: PathBuf,
    /// The WIT directory it was built from (its package and `deps/`).
    #[arg(long, value_name = "DIR")]
    pub wit: PathBuf,
    /// Where to write the result [default: replace FILE].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Options of `stats`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// The span file [default: the configured telemetry path, else
    /// `$XDG_STATE_HOME/ide-agents-mcp/mcp_tool_spans.jsonl` (`~/.local/state/...`)].
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

    /// Watch the tools directories: components added, changed or removed while serving are
    /// described in the background and swapped in (`notifications/tools/list_changed`); a broken
    /// new version leaves the previous one serving.
    #[arg(long, env = "IDE_AGENTS_MCP_WATCH")]
    pub watch: bool,

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

    /// Telemetry span file (JSONL) [default: $XDG_STATE_HOME/ide-agents-mcp/mcp_tool_spans.jsonl,
    /// else ~/.local/state/ide-agents-mcp/...]; `off` disables telemetry.
    #[arg(long, value_name = "FILE", env = "IDE_AGENTS_MCP_TELEMETRY")]
    pub telemetry: Option<PathBuf>,

    /// Serve MCP over Streamable HTTP on this address (e.g. `127.0.0.1:8080`; endpoint `/mcp`)
    /// instead of stdio. Non-loopback addresses are refused unless
    /// `--http-allow-unauthenticated`.
    #[arg(long, value_name = "ADDR", env = "IDE_AGENTS_MCP_HTTP")]
    pub http: Option<std::net::SocketAddr>,

    /// Serve `--http` on a non-loopback address although no client authentication is configured.
    #[arg(long, env = "IDE_AGENTS_MCP_HTTP_ALLOW_UNAUTHENTICATED")]
    pub http_allow_unauthenticated: bool,

    /// A `Host` name the HTTP endpoint accepts besides loopback names; may be repeated.
    #[arg(
        long = "http-allowed-host",
        value_name = "HOST",
        env = "IDE_AGENTS_MCP_HTTP_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub http_allowed_hosts: Vec<String>,

    /// A browser `Origin` the HTTP endpoint accepts (`https://host[:port]`); may be repeated.
    #[arg(
        long = "http-allowed-origin",
        value_name = "ORIGIN",
        env = "IDE_AGENTS_MCP_HTTP_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub http_allowed_origins: Vec<String>,

    /// HTTP connections served at once; more get 503 [default: 1024].
    #[arg(long, value_name = "N", env = "IDE_AGENTS_MCP_HTTP_MAX_CONNECTIONS",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub http_max_connections: Option<usize>,

    /// Time HTTP calls in flight get to finish after SIGTERM, in milliseconds [default: 10000].
    #[arg(long, value_name = "MS", env = "IDE_AGENTS_MCP_HTTP_GRACE_MS")]
    pub http_grace_ms: Option<u64>,

    /// TLS certificate chain (PEM) for `--http`; needs `--tls-key`.
    #[arg(long, value_name = "FILE", env = "IDE_AGENTS_MCP_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// TLS private key (PEM) for `--http`; needs `--tls-cert`.
    #[arg(long, value_name = "FILE", env = "IDE_AGENTS_MCP_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// Log filter for stderr, e.g. `info`, `debug`, `ide_agents_mcp=trace`.
    #[arg(long, value_name = "FILTER", env = "IDE_AGENTS_MCP_LOG", default_value = "info")]
    pub log: String,
}
