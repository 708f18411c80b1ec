//! The components compiled into the binary (built from `guest-tools/` by `build.rs`), each with
//! its group, its SHA-256 and, when the build had them, its tool descriptors: so a first start
//! lists the built-in tools without compiling anything.

/// Which group a tool belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Built in and always registered.
    Core,
    /// Built in, registered only in ULTRA mode (the ML tools).
    Ultra,
    /// From a tools directory.
    Extension,
}

impl Group {
    /// The group's name in catalogs: `core`, `ultra` or `extension`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Ultra => "ultra",
            Self::Extension => "extension",
        }
    }
}

/// One built-in component.
#[derive(Debug)]
pub struct Builtin {
    /// Crate name of the component.
    pub name: &'static str,
    /// Which tool group it belongs to.
    pub group: Group,
    /// Hex SHA-256 of `bytes`, computed at build time.
    pub sha256: &'static str,
    /// The component.
    pub bytes: &'static [u8],
    /// Its tool descriptors as JSON (what `describe` returns), recorded at build time; `None`
    /// when the build had none for it (then discovery describes it the usual way).
    pub descriptors: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));
