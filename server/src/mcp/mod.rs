//! The MCP protocol layer, written by us for speed (see `docs/design/0001-own-protocol-layer.md`):
//!
//! - `jsonrpc.rs`: framing, classification of incoming lines, error codes, response lines
//! - `protocol.rs`: version negotiation, `initialize`, `CallToolResult` shaping
//! - `server.rs`: the session and method dispatch
//! - `resources.rs`, `prompts.rs`: the resources and prompts offered, served by built-in tools
//! - `stdio.rs`: the stdio transport (reader, writer, in-flight calls, cancellation, shutdown)

pub mod jsonrpc;
pub mod prompts;
pub mod protocol;
pub mod resources;
pub mod server;
pub mod stdio;

pub use server::{McpServer, ServerParts, ServerSettings};
