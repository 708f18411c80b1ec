//! Builds the shipped tool components in `../guest-tools` (WASI-free: `wasm32-unknown-unknown`,
//! made components by `ide_agents_guest_build`) and embeds them.
//!
//! The built-ins (see [`BUILTINS`]) are embedded with `include_bytes!` through
//! `$OUT_DIR/builtins.rs`, each with its group, its SHA-256 (computed here, so startup does not
//! hash them) and its tool descriptors from `builtins/<name>.json` (so a first start lists them
//! without compiling anything; the `builtin_descriptors_are_current` test keeps the files in step
//! with the components and rewrites them with `UPDATE_GOLDEN=1`). Test-only components live in
//! `tests/guests` and are built by the `ide-agents-test-guests` crate, for tests only.

use std::path::PathBuf;

use ide_agents_guest_build::{build_wasi_free, rerun_if_changed_dir};
use sha2::{Digest, Sha256};
/// Components embedded in the server binary: (crate name, group). `ultra` components are only
/// registered in ULTRA mode; without it their bytes are never touched.
const BUILTINS: &[(&str, &str)] = &[
    ("health", "Core"),
    ("catalog", "Core"),
    ("command", "Core"),
    ("resource", "Core"),
    ("prompt", "Core"),
    ("github", "Core"),
    ("ultra", "Ultra"),
    ("ultra_text", "Ultra"),
    ("ultra_learn", "Ultra"),
    ("ultra_ops", "Ultra"),
    ("ultra_search", "Ultra"),
];

/// Built-ins built for size (`release-small`, opt-level "s") rather than speed: core tools whose
/// work is host calls and formatting. They compile on their first call, and a smaller component
/// compiles faster: at opt-level 3 these four took 40-70 ms more each (command 156 -> 230 ms,
/// github 189 -> 255 ms here). `health` is not among them: at opt-level 3 it compiles in 76 ms
/// against 70 ms and a call in a fresh instance is ~1.3 µs cheaper (`micro`), and it is the tool
/// that probes and benchmarks call most. `resource` (BM25 search) and the ULTRA tools compute, so
/// they are built at `release` too.
const SIZE_OPTIMISED: &[&str] = &["catalog", "command", "prompt", "github"];

/// Packs the server binary's relative relocations (`DT_RELR`, glibc 2.36+). A position-independent
/// Rust binary of this size carries ~1.2 MB of `.rela.dyn` entries that the dynamic loader reads at
/// every start, and those pages stay resident; packed, they take a few KB. GNU ld before 2.38 warns
/// and ignores the option. See `docs/design/0005-calls-on-every-core.md`.
fn link_args() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-linux-gnu") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    link_args();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    println!("cargo:rerun-if-env-changed=IDE_AGENTS_MCP_NO_GUESTS");
    if std::env::var_os("IDE_AGENTS_MCP_NO_GUESTS").is_some() {
        // For builds whose toolchain cannot target wasm32-wasip2 (the nightly used for fuzzing):
        // a server with no built-in tools, enough for the protocol-layer fuzz targets.
        println!("cargo:warning=IDE_AGENTS_MCP_NO_GUESTS is set: building without built-in tools");
        std::fs::write(
            out_dir.join("builtins.rs"),
            "/// No built-in components in this build.\npub static BUILTIN_COMPONENTS: &[Builtin] = &[];\n",
        )
        .expect("write builtins.rs");
        return;
    }
    rerun_if_changed_dir(&manifest_dir.join("../wit"), &[]);
    let descriptors = manifest_dir.join("builtins");
    rerun_if_changed_dir(&descriptors, &[]);
    let built = build_wasi_free(&manifest_dir.join("../guest-tools"), &out_dir.join("guest-target"), SIZE_OPTIMISED);
    let mut builtins = String::from("/// Components compiled into the binary.\n");
    builtins.push_str("pub static BUILTIN_COMPONENTS: &[Builtin] = &[\n");
    for (name, group) in BUILTINS {
        let path = built.component(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let sha256: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        let described = descriptors.join(format!("{name}.json"));
        let descriptors = if described.is_file() {
            format!("Some(include_str!({:?}))", described.display().to_string())
        } else {
            println!("cargo:warning=no {} yet: `{name}` is described at first start", described.display());
            "None".to_owned()
        };
        builtins.push_str(&format!(
            "    Builtin {{ name: {name:?}, group: Group::{group}, sha256: {sha256:?}, bytes: include_bytes!({:?}), descriptors: {descriptors} }},\n",
            path.display().to_string()
        ));
    }
    builtins.push_str("];\n");
    std::fs::write(out_dir.join("builtins.rs"), builtins).expect("write builtins.rs");
}
