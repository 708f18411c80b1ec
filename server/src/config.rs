//! Command-line and environment configuration, with the documented defaults. Every flag has an
//! `IDE_AGENTS_MCP_*` environment variable; flags win over the environment.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::mcp::ServerSettings;
use crate::runtime::{RuntimeSettings, limits};

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
    Serve(ServeArgs),
}

/// Options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
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

    /// Wall-clock limit per tool call, in milliseconds.
    #[arg(long, value_name = "MS", env = "IDE_AGENTS_MCP_CALL_TIMEOUT_MS",
          default_value_t = limits::DEFAULT_CALL_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub call_timeout_ms: u64,

    /// Linear-memory limit per tool call, in MiB.
    #[arg(long, value_name = "MIB", env = "IDE_AGENTS_MCP_MEMORY_LIMIT_MIB",
          default_value_t = (limits::DEFAULT_MEMORY_LIMIT >> 20) as u64,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub memory_limit_mib: u64,

    /// Tool calls that may run at once; more wait in order.
    #[arg(long, value_name = "N", env = "IDE_AGENTS_MCP_MAX_CONCURRENT_CALLS",
          default_value_t = limits::DEFAULT_MAX_CONCURRENT_CALLS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub max_concurrent_calls: usize,

    /// Tools per `tools/list` page.
    #[arg(long, value_name = "N", env = "IDE_AGENTS_MCP_PAGE_SIZE",
          default_value_t = crate::mcp::server::DEFAULT_PAGE_SIZE,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub page_size: usize,

    /// Log filter for stderr, e.g. `info`, `debug`, `ide_agents_mcp=trace`.
    #[arg(long, value_name = "FILTER", env = "IDE_AGENTS_MCP_LOG", default_value = "info")]
    pub log: String,
}

impl ServeArgs {
    /// Settings for the runtime.
    pub fn runtime_settings(&self) -> RuntimeSettings {
        RuntimeSettings {
            max_concurrent_calls: self.max_concurrent_calls,
            call_timeout: Duration::from_millis(self.call_timeout_ms),
            memory_limit: (self.memory_limit_mib as usize) << 20,
            cache_dir: if self.no_cache {
                None
            } else {
                self.cache_dir.clone().or_else(crate::runtime::cache::default_dir)
            },
        }
    }

    /// Settings for the MCP session.
    pub fn server_settings(&self) -> ServerSettings {
        ServerSettings { page_size: self.page_size }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values() {
        let cli = Cli::try_parse_from(["ide-agents-mcp"]).unwrap();
        let s = cli.serve.runtime_settings();
        assert_eq!(s.call_timeout, limits::DEFAULT_CALL_TIMEOUT);
        assert_eq!(s.memory_limit, limits::DEFAULT_MEMORY_LIMIT);
        assert!(Cli::try_parse_from(["ide-agents-mcp", "serve", "--call-timeout-ms", "0"]).is_err());
        assert!(Cli::try_parse_from(["ide-agents-mcp", "serve", "--page-size", "x"]).is_err());
        let cli = Cli::try_parse_from(["ide-agents-mcp", "serve", "--tools-dir", "/a", "--tools-dir", "/b"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else { panic!() };
        assert_eq!(args.tools_dirs.len(), 2);
    }
}
