//! For build scripts (the server's, which embeds the shipped tools, and `tests/artifacts`', which
//! builds the test tools): builds a cargo workspace of tool components into a target directory of
//! the caller's, with none of the host build's settings leaking in, and tells cargo to rerun the
//! build script when a file the components were built from changes: the sources each `.wasm`
//! file's dep-info (`<name>.d`) lists, as wasmtime's `crates/test-programs/artifacts` does, plus the
//! workspace's manifests (which dep-info does not list). A README or a test file beside a component
//! changes nothing.
//!
//! Two kinds of build: [`build_workspace`] for `wasm32-wasip2`, where rustc's linker makes the
//! component (the test tools, which exercise WASI); and [`build_wasi_free`] for the shipped tools,
//! built for `wasm32-unknown-unknown` and made components here with wit-component. A component
//! with no WASI imports is 3 core instances instead of 16, which makes a fresh instance cheaper
//! (`docs/design/0013-wasi-free-builtins.md`).

#![expect(clippy::print_stdout, reason = "a build script talks to cargo on stdout")]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target test tool components are built for.
pub const GUEST_TARGET: &str = "wasm32-wasip2";

/// The target the shipped tools are built for: plain core modules, made components by
/// [`Built::component`].
pub const WASI_FREE_TARGET: &str = "wasm32-unknown-unknown";

/// Settings of the host build that must not reach a guest build, besides every `CARGO_PROFILE_*`
/// variable ([`isolate_from_host`] removes both).
const HOST_ONLY_VARS: &[&str] = &[
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTC_WORKSPACE_WRAPPER",
];

/// Removes from `cmd`'s environment the host build's settings that must not reach a cargo run on a
/// guest crate (also used by tests that run cargo on a tool crate): its rustflags, target, target
/// directory and rustc wrapper, and every `CARGO_PROFILE_*` override, which would otherwise
/// replace the guest workspace's own profile (CI, for one, turns the host's cross-crate LTO off;
/// the guests keep theirs).
pub fn isolate_from_host(cmd: &mut Command) {
    for var in host_only(std::env::vars_os().map(|(name, _)| name)) {
        cmd.env_remove(var);
    }
}

/// [`HOST_ONLY_VARS`], and the `CARGO_PROFILE_*` variables among `present` (names of variables).
fn host_only(present: impl Iterator<Item = OsString>) -> impl Iterator<Item = OsString> {
    let profiles = present.filter(|name| name.to_str().is_some_and(|n| n.starts_with("CARGO_PROFILE_")));
    HOST_ONLY_VARS.iter().map(OsString::from).chain(profiles)
}

/// The cargo profile, defined in a guest workspace's manifest, for components that should
/// compile fast more than run fast: optimised for size (a smaller component is compiled by
/// Cranelift in less time on its first call).
pub const SIZE_PROFILE: &str = "release-small";

/// Where the core modules of a [`build_wasi_free`] build are, and where their components go.
#[derive(Debug)]
pub struct Built {
    release: PathBuf,
    small: PathBuf,
    small_members: Vec<String>,
    components: PathBuf,
}

impl Built {
    /// The component of the member `name`: its core module made a component (with the WIT world
    /// wit-bindgen embedded in it) and written beside the build. Panics, failing the build, with
    /// the reason when the module is missing or cannot be made a component.
    pub fn component(&self, name: &str) -> PathBuf {
        let dir = if self.small_members.iter().any(|m| m == name) { &self.small } else { &self.release };
        let module_path = dir.join(format!("{name}.wasm"));
        let module = std::fs::read(&module_path)
            .unwrap_or_else(|e| panic!("the guest build did not produce {}: {e}", module_path.display()));
        let component = componentize(&module)
            .unwrap_or_else(|e| panic!("cannot make {} a component: {e:#}", module_path.display()));
        std::fs::create_dir_all(&self.components)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", self.components.display()));
        let path = self.components.join(format!("{name}.wasm"));
        std::fs::write(&path, component).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

/// A core module built with wit-bindgen (which embeds the world in a `component-type` custom
/// section) as a component, validated; what `wasm-tools component new` does.
pub fn componentize(module: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default().validate(true).module(module)?.encode()
}

/// Builds every member of the workspace in `workspace` (release, `wasm32-wasip2`) into
/// `target_dir` and returns the directory holding the `.wasm` components, installing the target
/// first if it is missing ([`ensure_target`]). Panics (failing the build) with the reason when the
/// target cannot be installed, cargo cannot run or the build fails.
pub fn build_workspace(workspace: &Path, target_dir: &Path) -> PathBuf {
    rerun_if_changed_manifests(workspace);
    ensure_target(GUEST_TARGET);
    cargo_build(workspace, target_dir, GUEST_TARGET, &["--release", "--workspace"]);
    let release = target_dir.join(GUEST_TARGET).join("release");
    rerun_if_changed_dep_info(&release);
    release
}

/// Builds every member of the workspace in `workspace` for [`WASI_FREE_TARGET`] into `target_dir`
/// (release; the members named in `small` with [`SIZE_PROFILE`] instead, in a second cargo run),
/// panicking like [`build_workspace`]; [`Built::component`] makes each a component.
pub fn build_wasi_free(workspace: &Path, target_dir: &Path, small: &[&str]) -> Built {
    rerun_if_changed_manifests(workspace);
    ensure_target(WASI_FREE_TARGET);
    let mut release = vec!["--release", "--workspace"];
    for member in small {
        release.extend(["--exclude", member]);
    }
    cargo_build(workspace, target_dir, WASI_FREE_TARGET, &release);
    if !small.is_empty() {
        let mut sized = vec!["--profile", SIZE_PROFILE];
        for member in small {
            sized.extend(["-p", member]);
        }
        cargo_build(workspace, target_dir, WASI_FREE_TARGET, &sized);
    }
    let built = Built {
        release: target_dir.join(WASI_FREE_TARGET).join("release"),
        small: target_dir.join(WASI_FREE_TARGET).join(SIZE_PROFILE),
        small_members: small.iter().map(|m| (*m).to_owned()).collect(),
        components: target_dir.join("components"),
    };
    rerun_if_changed_dep_info(&built.release);
    if !small.is_empty() {
        rerun_if_changed_dep_info(&built.small);
    }
    built
}

/// Makes sure the toolchain building this has the standard library for `target`, installing it
/// with `rustup target add` when it is missing: rustup installs the targets `rust-toolchain.toml`
/// lists only when it installs the toolchain itself, not into a toolchain that is already there
/// (rustup 1.29, measured), so on a machine with `stable` but without the target the README's run
/// command would otherwise stop here. Panics naming the command to run when it cannot install it.
fn ensure_target(target: &str) {
    if target_installed(target) {
        return;
    }
    println!("cargo:warning=the Rust target {target} is not installed: running `rustup target add {target}`");
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", target]);
    // The toolchain cargo runs under (rustup sets this for the tools it starts).
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        rustup.args(["--toolchain", &toolchain]);
    }
    // Cargo reads a build script's stdout as instructions: rustup's output goes to stderr.
    rustup.stdout(std::io::stderr());
    let outcome = match rustup.status() {
        Ok(status) if status.success() => None,
        Ok(status) => Some(format!("`rustup target add {target}` failed ({status})")),
        Err(e) => Some(format!("rustup could not be run ({e})")),
    };
    assert!(
        outcome.is_none() && target_installed(target),
        "the Rust target {target} is required to build the tool components and is not installed; {}. Run \
         `rustup target add {target}` and build again.",
        outcome.as_deref().unwrap_or("rustup reported success but the target is still missing")
    );
}

/// Whether the sysroot of the rustc building this has the standard library for `target`.
fn target_installed(target: &str) -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(&rustc).args(["--print", "sysroot"]).output().ok().filter(|o| o.status.success()).is_some_and(|o| {
        PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("lib/rustlib").join(target).exists()
    })
}

/// Runs `cargo build --target <target> --target-dir target_dir` with `args` in `workspace`.
fn cargo_build(workspace: &Path, target_dir: &Path, target: &str, args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace).arg("build").args(args).args(["--target", target, "--target-dir"]).arg(target_dir);
    isolate_from_host(&mut cmd);
    let status = cmd.status().unwrap_or_else(|e| panic!("cannot run `{cargo}` to build {}: {e}", workspace.display()));
    assert!(
        status.success(),
        "building the tool components in {} failed (see the output above; if the {target} target is \
         missing, run `rustup target add {target}`)",
        workspace.display()
    );
}

/// Prints `cargo:rerun-if-changed` for every `Cargo.toml`, `Cargo.lock`, `rust-toolchain.toml`
/// and cargo configuration (`.cargo/config.toml`: the guests' rustflags) under `dir` (build output
/// excluded).
fn rerun_if_changed_manifests(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "target" {
                rerun_if_changed_manifests(&path);
            }
        } else if matches!(entry.file_name().to_str(), Some("Cargo.toml" | "Cargo.lock" | "rust-toolchain.toml"))
            || (dir.file_name().is_some_and(|d| d == ".cargo") && entry.file_name() == "config.toml")
        {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// Prints `cargo:rerun-if-changed` for every file the dep-info files (`*.d`) in `built` list.
fn rerun_if_changed_dep_info(built: &Path) {
    let Ok(entries) = std::fs::read_dir(built) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "d") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        for source in dep_info_sources(&text) {
            println!("cargo:rerun-if-changed={source}");
        }
    }
}

/// The prerequisites of a make-style dep-info file (`target: a b\ c`), unescaped.
pub fn dep_info_sources(text: &str) -> Vec<String> {
    let mut sources = Vec::new();
    for line in text.lines() {
        let Some((_, prerequisites)) = line.split_once(": ") else { continue };
        let mut current = String::new();
        let mut chars = prerequisites.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => current.extend(chars.next()),
                ' ' => sources.extend((!current.is_empty()).then(|| std::mem::take(&mut current))),
                c => current.push(c),
            }
        }
        sources.extend((!current.is_empty()).then_some(current));
    }
    sources
}

/// Prints `cargo:rerun-if-changed` for `dir` itself and every file below it, except the entries
/// named in `skip`.
pub fn rerun_if_changed_dir(dir: &Path, skip: &[&str]) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if skip.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        if path.is_dir() {
            rerun_if_changed_dir(&path, skip);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dep_info_lists_sources_with_escaped_spaces() {
        let text = "/t/health.wasm: /src/lib.rs /my\\ dir/x.rs /wit/a.wit\n\n/t/other.wasm: /y.rs\n";
        assert_eq!(super::dep_info_sources(text), ["/src/lib.rs", "/my dir/x.rs", "/wit/a.wit", "/y.rs"]);
    }

    #[test]
    fn host_only_settings_are_the_fixed_list_and_every_profile_override() {
        let present =
            ["PATH", "CARGO_PROFILE_RELEASE_LTO", "CARGO_HOME", "CARGO_PROFILE_DEV_OPT_LEVEL", "RUSTUP_TOOLCHAIN"];
        let removed: Vec<_> = super::host_only(present.into_iter().map(Into::into)).collect();
        for name in [
            "RUSTFLAGS",
            "RUSTC_WORKSPACE_WRAPPER",
            "CARGO_TARGET_DIR",
            "CARGO_PROFILE_RELEASE_LTO",
            "CARGO_PROFILE_DEV_OPT_LEVEL",
        ] {
            assert!(removed.iter().any(|r| r == name), "{name} must not reach a guest build");
        }
        for name in ["PATH", "CARGO_HOME", "RUSTUP_TOOLCHAIN"] {
            assert!(!removed.iter().any(|r| r == name), "{name} must reach a guest build");
        }
    }
}
