//! Builds the test-only components in `../guests` (see `GUESTS`) for `wasm32-wasip2`, and those in
//! `../guests-wasi-free` (see `WASI_FREE_GUESTS`) as the shipped tools are built (no WASI), once per
//! build of this crate, into its own target directory, and writes their paths as constants.
//! Rebuilt only when a source the components were built from (their dep-info), a manifest of
//! `../guests` or a file of `../../wit` changes. This
//! crate is a dev-dependency: the server binary never contains or serves these components.

use std::path::PathBuf;

use ide_agents_guest_build::{build_wasi_free, build_workspace, rerun_if_changed_dir};

/// The test components, by crate name.
const GUESTS: &[&str] = &[
    "echo",
    "hostile",
    "otherworld",
    "nettest",
    "wasifetch",
    "describe_loop",
    "describe_huge",
    "badschema",
    "impostor",
    "conformance",
    "plain",
];

/// The test components built for `wasm32-unknown-unknown` with the guest SDK, by crate name.
const WASI_FREE_GUESTS: &[&str] = &["panicky"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    rerun_if_changed_dir(&manifest_dir.join("../../wit"), &[]);
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let built = build_workspace(&manifest_dir.join("../guests"), &out_dir.join("guest-target"));
    let mut consts = format!(
        "/// The directory holding every test component.\npub const DIR: &str = {:?};\n",
        built.display().to_string()
    );
    for name in GUESTS {
        let path = built.join(format!("{name}.wasm"));
        assert!(path.is_file(), "the guest build did not produce {}", path.display());
        consts.push_str(&format!(
            "/// The `{name}` test component.\npub const {}: &str = {:?};\n",
            name.to_uppercase(),
            path.display().to_string()
        ));
    }
    let wasi_free = build_wasi_free(&manifest_dir.join("../guests-wasi-free"), &out_dir.join("wasi-free-target"), &[]);
    for name in WASI_FREE_GUESTS {
        consts.push_str(&format!(
            "/// The `{name}` test component (no WASI).\npub const {}: &str = {:?};\n",
            name.to_uppercase(),
            wasi_free.component(name).display().to_string()
        ));
    }
    std::fs::write(out_dir.join("guests.rs"), consts).expect("write guests.rs");
}
