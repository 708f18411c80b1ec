//! The `ide-agents-mcp` binary: parses the command line, sends logs to stderr, serves.

use clap::Parser;
use ide_agents_mcp::config::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => cli.serve,
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&args.log).unwrap_or_else(|e| {
            eprintln!("ide-agents-mcp: invalid --log filter {:?} ({e}); using `info`", args.log);
            tracing_subscriber::EnvFilter::new("info")
        }))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ide-agents-mcp: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(ide_agents_mcp::serve(args));
    // Calls still running (only possible after a signal) are abandoned, not awaited.
    runtime.shutdown_background();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
