//! Golden `tools/list` output (ULTRA on, so every built-in tool is in it): any change to a tool's name, description or schemas shows up as a
//! diff here. Regenerate with `UPDATE_GOLDEN=1 cargo test -p ide-agents-mcp --test integration golden`.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::Launch;

#[test]
fn tools_list_matches_the_golden_file() {
    let mut server = Launch::with_tools(&["echo"]).args(["--ultra"]).spawn();
    server.initialize();
    let listed = server.result("tools/list", json!({}));
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/integration/golden/tools_list.json");
    let pretty = serde_json::to_string_pretty(&listed).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &pretty).unwrap();
        return;
    }
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(&golden).unwrap_or_else(|e| {
            panic!("{} is missing ({e}); run with UPDATE_GOLDEN=1 to create it", golden.display())
        }))
        .unwrap();
    assert_eq!(listed, expected, "tools/list changed; if intended, regenerate with UPDATE_GOLDEN=1:\n{pretty}");
}
