//! `ide-agents-tool`: the guest SDK for ide-agents-mcp tool components (WIT package
//! `ide-agents:tool@0.1.0`, world `tool`, target `wasm32-wasip2`, or `wasm32-unknown-unknown`
//! for a tool with no WASI imports: see [`wasi_free`](mod@wasi_free)).
//!
//! A tool is a type implementing [`Tool`]: its name, title, description and [`Annotations`] as
//! constants, its arguments and structured output as Rust types, and a `call` function from one to
//! the other. The input and output JSON Schemas are derived from those types with
//! [schemars](https://docs.rs/schemars/1), so the types are the single source of truth: doc
//! comments become descriptions, `#[serde(deny_unknown_fields)]` becomes
//! `"additionalProperties": false`, `#[schemars(range(min = 1))]` a minimum, serde defaults are
//! listed as `default`. The host validates arguments against the input schema before every call,
//! so `call` need not re-check what the schema states. [`export_tools!`] turns one or more tools
//! into the component's `tools` export:
//!
//! ```
//! use ide_agents_tool::{Annotations, Error, Reply, Tool};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! /// Arguments of `greet`.
//! #[derive(Deserialize, JsonSchema)]
//! #[serde(deny_unknown_fields)]
//! pub struct Args {
//!     /// Who to greet.
//!     #[schemars(length(min = 1, max = 100))]
//!     name: String,
//! }
//!
//! /// What `greet` returns.
//! #[derive(Serialize, JsonSchema)]
//! pub struct Greeting {
//!     /// The greeting.
//!     text: String,
//! }
//!
//! pub struct Greet;
//!
//! impl Tool for Greet {
//!     const NAME: &'static str = "greet";
//!     const TITLE: Option<&'static str> = Some("Greet");
//!     const DESCRIPTION: &'static str = "Greets `name`.";
//!     const ANNOTATIONS: Annotations =
//!         Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);
//!     type Args = Args;
//!     type Output = Greeting;
//!
//!     fn call(args: Args) -> Result<Reply<Greeting>, Error> {
//!         let text = format!("Hello, {}!", args.name);
//!         Ok(Reply::new(Greeting { text: text.clone() }).text(text))
//!     }
//! }
//!
//! ide_agents_tool::export_tools!(Greet);
//! # fn main() {}
//! ```
//!
//! Where to look next:
//!
//! - [`tool`](mod@tool): the contract ([`Tool`], [`Reply`], [`Error`], [`NoArgs`], the
//!   [`Annotations`] builder);
//! - [`export`](mod@export): what the exported component does with it (descriptors, argument
//!   decoding, dispatch by name) and [`export_tools!`]; [`descriptor`] and [`call`] run that path
//!   in a native unit test;
//! - [`schema`](mod@schema): how schemas are generated and cleaned;
//! - [`http`]: requests through the host's pooled client, with bearer tokens, JSON bodies and
//!   percent-encoding; [`input`](mod@input): asking the client for input mid-call ([`input::Ask`]);
//!   [`log`](mod@log): [`info!`] and friends; the plain host interfaces
//!   [`config`], [`cache`], [`workspace`], [`host_facts`] and [`progress`]; and the WIT [`types`];
//! - [`bindings`]: everything wit-bindgen generated, for what the rest does not wrap.
//!
//! # Depending on the SDK
//!
//! The bindings are generated from this repository's `wit/` directory, which the SDK reads at
//! `../../wit` relative to its own directory (`guest-tools/sdk`). A tool crate anywhere else
//! therefore depends on it by path or by git, both of which keep the repository's layout:
//!
//! ```toml
//! [dependencies]
//! ide-agents-tool = { path = "/path/to/ide-agents-mcp/guest-tools/sdk" }
//! # or: ide-agents-tool = { git = "https://.../ide-agents-mcp" }
//! ```
//!
//! It is not published to a registry: a packaged crate could not reach `../../wit`.
//! `scripts/new-tool.sh NAME` scaffolds such a crate, with its own workspace and a unit test.
//!
//! # Testing natively
//!
//! The SDK and tool crates also build for the host target, where wit-bindgen's imports exist but
//! panic if called: keep the logic of `call` in functions that take plain values, test those and
//! [`descriptor`] with `cargo test`, and leave the host calls to the integration tests.

pub mod bindings;
pub mod export;
pub mod http;
pub mod input;
pub mod log;
pub mod schema;
pub mod tool;
pub mod wasi_free;

pub use bindings::exports::ide_agents::tool::offerings;
pub use bindings::ide_agents::tool::types::ToolAnnotations as Annotations;
pub use bindings::ide_agents::tool::{cache, config, host_facts, progress, storage, types, workspace};
pub use export::{Offerings, call, descriptor, schemas_are_current};
pub use tool::{Error, NoArgs, Reply, Schemas, Tool};
