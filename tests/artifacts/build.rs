//! Builds the test-only components in `../guests` (`echo`, `hostile`, `otherworld`, `nettest`)
//! for `wasm32-wasip2`, once per build of this crate, into its own target directory, and writes
//! their paths as constants. Rebuilt only when a file in `../guests` or `../../wit` changes. This
//! crate is a dev-dependency: the server binary never contains or serves these components.

use std::path::{Path, PathBuf};
use std::process::Command;

const GUEST_TARGET: &str = "wasm32-wasip2";
/// The test components, by crate name.
const GUESTS: &[&str] = &["echo", "hostile", "otherworld", "nettest"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let guests = manifest_dir.join("../guests");
    rerun_if_changed_dir(&guests, &["target"]);
    rerun_if_changed_dir(&manifest_dir.join("../../wit"), &[]);
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let target_dir = out_dir.join("guest-target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&guests)
        .args(["build", "--release", "--workspace", "--target", GUEST_TARGET, "--target-dir"])
        .arg(&target_dir);
    // Settings meant for the host build must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().unwrap_or_else(|e| panic!("cannot run `{cargo}` to build test guests: {e}"));
    assert!(
        status.success(),
        "building the test guests in {} failed (see the output above; is the {GUEST_TARGET} target installed? \
         `rustup target add {GUEST_TARGET}`)",
        guests.display()
    );
    let built = target_dir.join(GUEST_TARGET).join("release");
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
    std::fs::write(out_dir.join("guests.rs"), consts).expect("write guests.rs");
}

fn rerun_if_changed_dir(dir: &Path, skip: &[&str]) {
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
