//! The WIT package this binary serves (`ide-agents:tool`), embedded at build time from the
//! repository's `wit/`, so that a tool author can write it out with `ide-agents-mcp wit --out DIR`
//! and build against exactly what this server links, without a checkout of the repository.

use std::path::Path;

/// The package's files: name and text, as in `wit/`.
pub const FILES: &[(&str, &str)] = &[
    ("cache.wit", include_str!("../../wit/cache.wit")),
    ("config.wit", include_str!("../../wit/config.wit")),
    ("host-facts.wit", include_str!("../../wit/host-facts.wit")),
    ("http.wit", include_str!("../../wit/http.wit")),
    ("input.wit", include_str!("../../wit/input.wit")),
    ("log.wit", include_str!("../../wit/log.wit")),
    ("offerings.wit", include_str!("../../wit/offerings.wit")),
    ("progress.wit", include_str!("../../wit/progress.wit")),
    ("storage.wit", include_str!("../../wit/storage.wit")),
    ("tools.wit", include_str!("../../wit/tools.wit")),
    ("types.wit", include_str!("../../wit/types.wit")),
    ("workspace.wit", include_str!("../../wit/workspace.wit")),
    ("world.wit", include_str!("../../wit/world.wit")),
];

/// The package's name and version, from its `package` line (`ide-agents:tool@0.1.0`).
pub fn package_id() -> &'static str {
    FILES
        .iter()
        .find_map(|(_, text)| {
            text.lines().find_map(|l| l.trim().strip_prefix("package ")).map(|id| id.trim_end_matches(';').trim())
        })
        .unwrap_or("ide-agents:tool")
}

/// Writes the package's files into `dir` (created if missing; files of the same names are
/// replaced, nothing else in it is touched). Returns how many files were written.
pub fn write_to(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in FILES {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    }
    Ok(FILES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_wit_directory_is_embedded_as_it_is() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".wit"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = FILES.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(embedded, on_disk, "wit_package::FILES must list every file in wit/");
        for (name, text) in FILES {
            assert_eq!(std::fs::read_to_string(dir.join(name)).unwrap(), *text, "{name}");
        }
    }

    #[test]
    fn the_package_id_names_the_version() {
        assert!(package_id().starts_with("ide-agents:tool@"), "{}", package_id());
        let out = tempfile::tempdir().unwrap();
        assert_eq!(write_to(&out.path().join("wit")).unwrap(), FILES.len());
        let world = FILES.iter().find(|(name, _)| *name == "world.wit").unwrap().1;
        assert_eq!(std::fs::read_to_string(out.path().join("wit/world.wit")).unwrap(), world);
    }
}
