//! Native compilation of components, within a budget, by a child process
//! (`ide-agents-mcp compile-component`, this same binary) that gets the bytes on stdin, writes
//! the artifact to stdout, runs under an address space limit (`RLIMIT_AS`) and is killed when its
//! time is up. A component from a tools directory is untrusted: a small one can make Cranelift
//! run for seconds and allocate hundreds of MB; in the child, a failure costs that component
//! only, and the server's own memory and threads are not involved. Built-in components go the
//! same way for memory's sake: compiling even a 300 KB component takes Cranelift tens of MB,
//! which a server process would keep as resident set long after (an empty cache's first call
//! peaked at 39 MB in process). Unit tests and benchmarks, which have no server binary, compile
//! in process, still within the time budget.
//!
//! Components larger than [`CompileBudget::max_component_bytes`] are refused before anything is
//! compiled.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::engine;

/// Default time one untrusted component may take to compile: a Python or JavaScript component
/// (15-30 MB of WebAssembly) takes 15-27 s on the reference machine; a Rust tool well under 1 s.
pub const DEFAULT_COMPILE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default address space of the compiler process: the largest interpreted-language components
/// need about 600 MB of it.
pub const DEFAULT_COMPILE_MEMORY: usize = 2 << 30;

/// Default largest component accepted, bytes (the largest interpreted-language components are
/// about 30 MB).
pub const DEFAULT_MAX_COMPONENT_BYTES: usize = 64 << 20;

/// Largest compiled artifact read back from the compiler process.
const MAX_ARTIFACT_BYTES: usize = 1 << 30;

/// The subcommand the server runs itself with to compile a component.
pub const SUBCOMMAND: &str = "compile-component";

/// What compiling one untrusted component may cost.
#[derive(Debug, Clone, Copy)]
pub struct CompileBudget {
    /// Wall-clock time.
    pub timeout: Duration,
    /// Address space of the compiler process, bytes.
    pub memory: usize,
    /// Largest component compiled, bytes.
    pub max_component_bytes: usize,
}

impl CompileBudget {
    /// The budget of a built-in component: it is part of the binary and known to compile, so the
    /// limits only catch a broken machine (the child process keeps the compiler's memory out of
    /// the server's resident set, not out of the server's trust).
    pub const BUILTIN: Self =
        Self { timeout: Duration::from_secs(600), memory: 8 << 30, max_component_bytes: 256 << 20 };
}

impl Default for CompileBudget {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_COMPILE_TIMEOUT,
            memory: DEFAULT_COMPILE_MEMORY,
            max_component_bytes: DEFAULT_MAX_COMPONENT_BYTES,
        }
    }
}

/// How untrusted components are compiled.
#[derive(Debug, Clone)]
pub struct Compiler {
    /// The server binary to run as the compiler; `None` compiles in process (unit tests and
    /// benchmarks, which have no server binary), still within the time budget.
    pub exe: Option<PathBuf>,
    /// The budget.
    pub budget: CompileBudget,
}

impl Compiler {
    /// Compiles `bytes` into an artifact for `engine`: within the configured budget, or, for a
    /// `trusted` (built-in) component, within [`CompileBudget::BUILTIN`].
    pub async fn compile(&self, engine: &wasmtime::Engine, bytes: Vec<u8>, trusted: bool) -> anyhow::Result<Vec<u8>> {
        let budget = if trusted { CompileBudget::BUILTIN } else { self.budget };
        anyhow::ensure!(
            bytes.len() <= budget.max_component_bytes,
            "the component is {} bytes, more than the limit of {} bytes",
            bytes.len(),
            budget.max_component_bytes
        );
        let Some(exe) = &self.exe else {
            let engine = engine.clone();
            let compiling = tokio::task::spawn_blocking(move || engine.precompile_component(&bytes));
            return match tokio::time::timeout(budget.timeout, compiling).await {
                Ok(joined) => joined.context("compiler task failed")?.map_err(anyhow::Error::from),
                Err(_) => {
                    anyhow::bail!("compiling took longer than its budget of {} ms", budget.timeout.as_millis())
                }
            };
        };
        let mut child = tokio::process::Command::new(exe)
            .arg(SUBCOMMAND)
            .arg(format!("--memory-bytes={}", budget.memory))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_clear()
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start the compiler process {}", exe.display()))?;
        let (mut stdin, mut stdout, mut stderr) = (
            child.stdin.take().expect("piped"),
            child.stdout.take().expect("piped"),
            child.stderr.take().expect("piped"),
        );
        let run = async {
            let feed = async move {
                // The child may exit early (a bad component): a closed pipe is not our error.
                let _ = stdin.write_all(&bytes).await;
                drop(stdin);
            };
            let mut artifact = Vec::new();
            let mut message = Vec::new();
            let read = async { (&mut stdout).take(MAX_ARTIFACT_BYTES as u64 + 1).read_to_end(&mut artifact).await };
            let read_err = async { (&mut stderr).take(64 << 10).read_to_end(&mut message).await };
            let ((), read, _) = tokio::join!(feed, read, read_err);
            read.context("cannot read the compiled artifact")?;
            let status = child.wait().await.context("compiler process")?;
            Ok::<_, anyhow::Error>((status, artifact, message))
        };
        let (status, artifact, message) = match tokio::time::timeout(budget.timeout, run).await {
            Ok(done) => done?,
            Err(_) => anyhow::bail!(
                "compiling took longer than its budget of {} ms; the compiler was stopped",
                budget.timeout.as_millis()
            ),
        };
        let message = String::from_utf8_lossy(&message);
        let last = message.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        if !status.success() {
            use std::os::unix::process::ExitStatusExt;
            if status.signal().is_some() || last.contains("memory allocation") {
                anyhow::bail!(
                    "compiling needed more than its memory budget of {} MiB and was stopped ({status})",
                    budget.memory >> 20
                );
            }
            anyhow::bail!(
                "{}",
                if last.is_empty() { format!("the compiler failed ({status})") } else { last.to_owned() }
            );
        }
        anyhow::ensure!(
            artifact.len() <= MAX_ARTIFACT_BYTES,
            "the compiled artifact is larger than {MAX_ARTIFACT_BYTES} bytes"
        );
        Ok(artifact)
    }
}

/// `ide-agents-mcp compile-component`: limits its own address space to `memory_bytes`, reads a
/// component from stdin, compiles it for an engine configured like the server's and writes the
/// artifact to stdout. Errors go to stderr, one line.
pub fn child_main(memory_bytes: u64) -> std::process::ExitCode {
    use std::io::{Read, Write};
    let limit = rustix::process::Rlimit { current: Some(memory_bytes), maximum: Some(memory_bytes) };
    if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::As, limit) {
        eprintln!("cannot limit the compiler's memory: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut bytes) {
        eprintln!("cannot read the component: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let compiled =
        engine::compiler_only().and_then(|engine| engine.precompile_component(&bytes).map_err(anyhow::Error::from));
    match compiled {
        Ok(artifact) => match std::io::stdout().lock().write_all(&artifact) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cannot write the artifact: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Err(e) => {
            // One line: the parent reports the last line.
            eprintln!("not a valid WebAssembly component: {}", format!("{e:#}").replace('\n', " "));
            std::process::ExitCode::FAILURE
        }
    }
}
