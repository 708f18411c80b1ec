//! The typed tool contract: the [`Tool`] trait, what a call returns ([`Reply`]) or fails with
//! ([`Error`]), [`NoArgs`] for tools without arguments, and the builder for the behaviour hints
//! ([`Annotations`]). How a `Tool` becomes a component export is in [`export`](crate::export).

use std::fmt::Display;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Annotations;
use crate::types::Content;

/// One tool: its description as constants, its arguments and structured output as types, and
/// `call`. Export it with [`export_tools!`](crate::export_tools).
pub trait Tool {
    /// Unique tool name, `[A-Za-z0-9_.-]{1,128}`; keep it short (clients cap server + tool names
    /// near 60 characters).
    const NAME: &'static str;
    /// Human-readable display name.
    const TITLE: Option<&'static str> = None;
    /// What the tool does, written for the model that decides whether to call it.
    const DESCRIPTION: &'static str;
    /// Behaviour hints; by default none is stated.
    const ANNOTATIONS: Annotations = Annotations::new();

    /// The arguments: a struct deriving `Deserialize` and `JsonSchema` (its schema must be an
    /// object schema), or [`NoArgs`]. Its derived schema is the tool's input schema, which the
    /// host checks every call against.
    type Args: DeserializeOwned + JsonSchema;
    /// The structured output: a struct deriving `Serialize` and `JsonSchema` (or an enum whose
    /// variants serialise as objects, such as an internally tagged one). Its derived schema, of
    /// what serialisation produces, is the tool's output schema.
    type Output: Serialize + JsonSchema;

    /// The input and output schemas as JSON text, when they are kept with the tool instead of
    /// derived in `describe`. Derived (`None`, the default) is right for almost every tool; a
    /// tool whose component must compile fast on its first call keeps them (the schema
    /// generation is then left out of the component) and checks them in a native test with
    /// [`crate::schemas_are_current`], which keeps them equal to what the types derive.
    const SCHEMAS: Option<Schemas> = None;

    /// Runs the tool on arguments that already match the input schema.
    fn call(args: Self::Args) -> Result<Reply<Self::Output>, Error>;
}

/// A tool's input and output schemas as JSON text (see [`Tool::SCHEMAS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schemas {
    /// The input schema.
    pub input: &'static str,
    /// The output schema.
    pub output: &'static str,
}

/// The arguments of a tool that takes none: only `{}` matches its schema,
/// `{"type": "object", "properties": {}, "additionalProperties": false}`.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// A successful call: the structured output and, usually, a text rendering of it for the model.
/// Without text the host shows the structured output's JSON as the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    /// The structured output (MCP `structuredContent`).
    pub output: T,
    /// The text content block, if any.
    pub text: Option<String>,
    /// Further content blocks after the text (an image, a resource link), in order.
    pub extra: Vec<Content>,
}

impl<T> Reply<T> {
    /// A reply with only structured output.
    pub fn new(output: T) -> Self {
        Self { output, text: None, extra: Vec::new() }
    }

    /// Adds a content block after the text, e.g. an SVG chart:
    /// `Content::Image(Media { data: svg.into_bytes(), mime_type: "image/svg+xml".into() })`.
    #[must_use]
    pub fn content(mut self, block: Content) -> Self {
        self.extra.push(block);
        self
    }

    /// Sets the text shown to the model (a summary; programs read the structured output).
    #[must_use]
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }
}

/// Why a call produced no output. Each case reaches the client as a result with
/// `isError: true` (never as a protocol error), so the model can correct itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The arguments are wrong in a way the input schema cannot state; the message starts with
    /// the field's JSON pointer (see [`Error::invalid`]). The host shows
    /// "invalid arguments for \`tool\`: ...", and a `prompts/get` or `resources/read` served by
    /// the tool answers -32602.
    InvalidArguments(String),
    /// The tool ran and failed unexpectedly (a bug, a malformed answer from a service); the host
    /// shows "\`tool\` failed: ...".
    Failed(String),
    /// A failure the model should read exactly as written, such as a service's refusal or a
    /// missing setting: the result's text is this message.
    Message(String),
    /// The tool asked the client for input ([`crate::input::Ask::send`]): not a failure; the
    /// host asks and calls the tool again with the answers.
    InputRequired,
}

impl Error {
    /// Invalid arguments at `pointer` (a JSON pointer such as `/labels` or `/candidates/3/path`),
    /// as `"{pointer}: {message}"`, the form the host's schema validator uses.
    pub fn invalid(pointer: &str, message: impl Display) -> Self {
        Self::InvalidArguments(format!("{pointer}: {message}"))
    }

    /// An unexpected failure: [`Error::Failed`].
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }

    /// A failure shown as written: [`Error::Message`].
    pub fn message(message: impl Into<String>) -> Self {
        Self::Message(message.into())
    }
}

/// Builder for the behaviour hints, e.g. a tool that only reads local state:
/// `Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false)`.
/// Each method states one hint; hints not stated stay `None` ("not stated").
impl Annotations {
    /// No hint stated.
    pub const fn new() -> Self {
        Self { read_only: None, destructive: None, idempotent: None, open_world: None }
    }

    /// Whether the tool leaves its environment unchanged.
    pub const fn read_only(mut self, yes: bool) -> Self {
        self.read_only = Some(yes);
        self
    }

    /// Whether the tool may perform destructive updates (meaningful when not read-only).
    pub const fn destructive(mut self, yes: bool) -> Self {
        self.destructive = Some(yes);
        self
    }

    /// Whether calling again with the same arguments has no further effect.
    pub const fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = Some(yes);
        self
    }

    /// Whether the tool talks to an open world of external entities (the web, a service).
    pub const fn open_world(mut self, yes: bool) -> Self {
        self.open_world = Some(yes);
        self
    }
}

impl Default for Annotations {
    fn default() -> Self {
        Self::new()
    }
}
