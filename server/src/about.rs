//! Who the server is: the names and versions it reports in `serverInfo`, health and logs.

/// The server's name in `serverInfo`.
pub const SERVER_NAME: &str = "ide-agents-mcp";
/// The server's version.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The wasmtime version the server embeds (pinned in the workspace `Cargo.toml`).
pub const WASMTIME_VERSION: &str = "48.0.11";
