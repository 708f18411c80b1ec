//! The `ide-agents-mcp` binary: parses the command line, sends logs to stderr, serves.

use std::io::Write;

use clap::Parser;
use ide_agents_mcp::config::{CheckArgs, Cli, Command, EmbedDocsArgs, ServeArgs, StatsArgs, WitArgs};
use ide_agents_mcp::telemetry;

/// `ide-agents-mcp stats`: prints a summary of a span file to stdout (not serving: stdout is free).
fn stats(args: &StatsArgs) -> std::process::ExitCode {
    let path = args.file.clone().unwrap_or_else(|| {
        let file = ide_agents_mcp::config::config_path(args.config.as_deref())
            .and_then(|p| ide_agents_mcp::config::read_file(&p).ok());
        file.and_then(|f| f.telemetry.path).unwrap_or_else(telemetry::default_span_file)
    });
    let report = match telemetry::stats::read(&path) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("ide-agents-mcp stats: cannot read {}: {e}", path.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    let text = if args.json {
        serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
    } else {
        telemetry::stats::table(&report)
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    std::process::ExitCode::SUCCESS
}

/// `ide-agents-mcp wit --out DIR`: writes the WIT package this binary serves.
fn wit(args: &WitArgs) -> std::process::ExitCode {
    use ide_agents_mcp::wit_package;
    match wit_package::write_to(&args.out) {
        Ok(n) => {
            eprintln!("ide-agents-mcp wit: wrote {n} files of {} to {}", wit_package::package_id(), args.out.display());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ide-agents-mcp wit: cannot write the package: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `ide-agents-mcp embed-docs FILE.wasm --wit DIR [--out FILE]`.
fn embed_docs(args: &EmbedDocsArgs) -> std::process::ExitCode {
    let out = args.out.as_ref().unwrap_or(&args.file);
    let written = std::fs::read(&args.file)
        .map_err(anyhow::Error::from)
        .and_then(|bytes| ide_agents_mcp::embed_docs::embed(&bytes, &args.wit))
        .and_then(|(bytes, packages)| {
            let temporary = out.with_extension("wasm.tmp");
            std::fs::write(&temporary, bytes)?;
            std::fs::rename(&temporary, out)?;
            Ok(packages)
        });
    match written {
        Ok(packages) => {
            eprintln!("ide-agents-mcp embed-docs: {} package(s) of docs written into {}", packages, out.display());
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ide-agents-mcp embed-docs: {}: {e:#}", args.file.display());
            std::process::ExitCode::FAILURE
        }
    }
}

/// `ide-agents-mcp check FILE.wasm`: exit 0 if the server would serve the component, 1 if not,
/// 2 for bad options.
fn check(args: CheckArgs) -> std::process::ExitCode {
    init_logs(&args.serve);
    let settings = match args.serve.settings() {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ide-agents-mcp: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(ide_agents_mcp::check::check(&settings, &args.file, args.json)) {
        Ok((report, servable)) => {
            let _ = std::io::stdout().write_all(report.as_bytes());
            if servable { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("ide-agents-mcp check: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, filtered by `--log`.
fn init_logs(args: &ServeArgs) {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&args.log).unwrap_or_else(|e| {
            eprintln!("ide-agents-mcp: invalid --log filter {:?} ({e}); using `info`", args.log);
            tracing_subscriber::EnvFilter::new("info")
        }))
        .init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => *args,
        Some(Command::Stats(args)) => return stats(&args),
        Some(Command::Check(args)) => return check(*args),
        Some(Command::Wit(args)) => return wit(&args),
        Some(Command::EmbedDocs(args)) => return embed_docs(&args),
        Some(Command::CompileComponent(args)) => {
            return ide_agents_mcp::runtime::compile::child_main(args.memory_bytes);
        }
        None => cli.serve,
    };
    init_logs(&args);
    let settings = match args.settings() {
        Ok(settings) => settings,
        Err(e) => {
            tracing::error!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.worker_threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ide-agents-mcp: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(ide_agents_mcp::serve(settings));
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
