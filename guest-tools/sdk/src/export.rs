//! What the exported component does with its [`Tool`]s: [`descriptor`] builds the WIT
//! `tool-descriptor` (schemas from [`schema`](mod@crate::schema)), [`call`] decodes the arguments,
//! runs the tool and encodes its [`Reply`] or [`Error`], and [`export_tools!`](crate::export_tools)
//! implements the WIT `tools` interface by dispatching on the tool name.

use crate::bindings::exports::ide_agents::tool::tools::{CallResult, ToolDescriptor, ToolError};
use crate::bindings::ide_agents::tool::types::Content;
use crate::{Error, Reply, Tool, schema};

/// The MCP resources and prompts a component serves through its tools (the WIT `offerings`
/// export): `export_tools!(A, B; offerings = MyOfferings)`. The host offers them in
/// `resources/list` and `prompts/list` and reads or renders them by calling the tool each names.
pub trait Offerings {
    /// What the component offers. Must be deterministic: the host caches it with the tools.
    fn catalog() -> crate::offerings::Catalog;
}

/// Offers nothing: what `export_tools!(A, B)` exports.
pub struct NoOfferings;

impl Offerings for NoOfferings {
    fn catalog() -> crate::offerings::Catalog {
        crate::offerings::Catalog { resources: Vec::new(), prompts: Vec::new() }
    }
}

/// Bytes reserved up front for the serialised structured output: most outputs fit (the health
/// report is about 1 KB with the core tools), and a buffer that grows is copied through the
/// guest's allocator at every doubling.
const OUTPUT_CAPACITY: usize = 2048;

/// The descriptor `describe` returns for `T`.
pub fn descriptor<T: Tool>() -> ToolDescriptor {
    ToolDescriptor {
        name: T::NAME.into(),
        title: T::TITLE.map(Into::into),
        description: T::DESCRIPTION.into(),
        input_schema: T::SCHEMAS.map_or_else(|| schema::input::<T::Args>().to_string(), |s| s.input.to_owned()),
        output_schema: Some(
            T::SCHEMAS.map_or_else(|| schema::output::<T::Output>().to_string(), |s| s.output.to_owned()),
        ),
        annotations: T::ANNOTATIONS,
    }
}

/// For a native test of a tool that keeps its schemas ([`Tool::SCHEMAS`], read with
/// `include_str!` from `<NAME>.input.json` and `<NAME>.output.json` in `dir`): panics unless the
/// files hold what `T`'s types derive and `T::SCHEMAS` is them. With `UPDATE_GOLDEN` set in the
/// environment it rewrites the files instead (then rebuild).
pub fn schemas_are_current<T: Tool>(dir: &std::path::Path) {
    let derived = [("input", schema::input::<T::Args>()), ("output", schema::output::<T::Output>())];
    let kept = T::SCHEMAS.expect("the tool keeps no schemas (Tool::SCHEMAS is None)");
    for ((role, derived), kept) in derived.into_iter().zip([kept.input, kept.output]) {
        let file = dir.join(format!("{}.{role}.json", T::NAME));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&file, serde_json::to_string_pretty(&derived).unwrap() + "\n").unwrap();
            continue;
        }
        let on_disk: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let compiled_in: serde_json::Value = serde_json::from_str(kept).unwrap();
        assert!(
            on_disk == derived && compiled_in == derived,
            "the {role} schema of {} in {} is not what its types derive: run the test with UPDATE_GOLDEN=1",
            T::NAME,
            file.display()
        );
    }
}

/// What `call` answers for `T` with `arguments` (a JSON object as text): the arguments are
/// deserialised (a mismatch is `invalid-arguments` naming the field), the tool runs, and its
/// output is serialised as the result's structured content.
pub fn call<T: Tool>(arguments: &str) -> Result<CallResult, ToolError> {
    let args = decode::<T::Args>(arguments).map_err(ToolError::InvalidArguments)?;
    match T::call(args) {
        Ok(reply) => encode(reply),
        Err(Error::InvalidArguments(message)) => Err(ToolError::InvalidArguments(message)),
        Err(Error::Failed(message)) => Err(ToolError::Failed(message)),
        Err(Error::Message(message)) => {
            Ok(CallResult { content: vec![Content::Text(message)], structured: None, is_error: true })
        }
        // The host sets this answer aside and asks the client (WIT `input.request`).
        Err(Error::InputRequired) => Ok(CallResult { content: Vec::new(), structured: None, is_error: false }),
    }
}

/// Deserialises arguments; the error names the field by its JSON pointer, like the host's
/// validator (`/candidates/0/text: invalid type: ...`).
fn decode<A: serde::de::DeserializeOwned>(arguments: &str) -> Result<A, String> {
    let mut deserializer = serde_json::Deserializer::from_str(arguments);
    let args = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let pointer: String = e.path().iter().map(|segment| format!("/{}", segment_text(segment))).collect();
        let message = without_position(e.inner());
        if pointer.is_empty() { message } else { format!("{pointer}: {message}") }
    })?;
    deserializer.end().map_err(|e| without_position(&e))?;
    Ok(args)
}

/// The error's message without serde_json's " at line 1 column 17": noise in a one-line object.
fn without_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&position).map_or_else(|| full.clone(), str::to_owned)
}

fn segment_text(segment: &serde_path_to_error::Segment) -> String {
    use serde_path_to_error::Segment;
    match segment {
        Segment::Seq { index } => index.to_string(),
        Segment::Map { key } => key.replace('~', "~0").replace('/', "~1"),
        Segment::Enum { variant } => variant.clone(),
        Segment::Unknown => "?".into(),
    }
}

fn encode<T: serde::Serialize>(reply: Reply<T>) -> Result<CallResult, ToolError> {
    let mut structured = Vec::with_capacity(OUTPUT_CAPACITY);
    serde_json::to_writer(&mut structured, &reply.output)
        .map_err(|e| ToolError::Failed(format!("cannot serialise the output: {e}")))?;
    let structured = String::from_utf8(structured).map_err(|e| ToolError::Failed(e.to_string()))?;
    Ok(CallResult {
        content: reply.text.into_iter().map(Content::Text).chain(reply.extra).collect(),
        structured: Some(structured),
        is_error: false,
    })
}

/// One exported tool, for [`export_tools!`](crate::export_tools).
#[doc(hidden)]
pub struct Entry {
    /// [`Tool::NAME`].
    pub name: &'static str,
    /// [`descriptor`] of the tool.
    pub describe: fn() -> ToolDescriptor,
    /// [`call`] of the tool.
    pub call: fn(&str) -> Result<CallResult, ToolError>,
}

#[doc(hidden)]
pub const fn entry<T: Tool>() -> Entry {
    Entry { name: T::NAME, describe: descriptor::<T>, call: call::<T> }
}

/// The WIT `describe`: every tool's descriptor, in order.
#[doc(hidden)]
pub fn describe(tools: &[Entry]) -> Vec<ToolDescriptor> {
    crate::wasi_free::report_panics();
    tools.iter().map(|t| (t.describe)()).collect()
}

/// The WIT `call`: runs the tool called `name`.
#[doc(hidden)]
pub fn dispatch(tools: &[Entry], name: String, arguments: &str) -> Result<CallResult, ToolError> {
    crate::wasi_free::report_panics();
    match tools.iter().find(|t| t.name == name) {
        Some(tool) => (tool.call)(arguments),
        None => Err(ToolError::UnknownTool(name)),
    }
}

/// Exports tools as the component's `tools` interface: `describe` lists them in the order given,
/// `call` runs the one named (an unknown name is `unknown-tool`). Invoke it once, at the crate
/// root. On targets other than wasm32 nothing is exported (a native cdylib cannot carry the WIT
/// export names), so the crate still builds and tests natively.
///
/// ```ignore
/// ide_agents_tool::export_tools!(GetIssue, ListPulls, CommentIssue);
/// // A component that also offers MCP resources or prompts, read or rendered by its tools:
/// ide_agents_tool::export_tools!(Resource; offerings = ResourceCatalog);
/// ```
///
/// The component also exports the WIT `offerings` interface: [`NoOfferings`] unless one is named.
#[macro_export]
macro_rules! export_tools {
    ($($tool:ty),+ $(,)?) => {
        $crate::export_tools!($($tool),+ ; offerings = $crate::export::NoOfferings);
    };
    ($($tool:ty),+ ; offerings = $offerings:ty) => {
        /// The exported tools (public so that native builds, which export nothing, keep them).
        #[doc(hidden)]
        pub const __IDE_AGENTS_TOOLS: &[$crate::export::Entry] = &[$($crate::export::entry::<$tool>()),+];

        /// What the component offers (public for the same reason; native tests can call it).
        #[doc(hidden)]
        pub fn __ide_agents_offerings() -> $crate::offerings::Catalog {
            <$offerings as $crate::Offerings>::catalog()
        }

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Component;

            impl $crate::bindings::exports::ide_agents::tool::tools::Guest for Component {
                fn describe() -> ::std::vec::Vec<$crate::bindings::exports::ide_agents::tool::tools::ToolDescriptor> {
                    $crate::export::describe(__IDE_AGENTS_TOOLS)
                }

                fn call(
                    name: ::std::string::String,
                    arguments: ::std::string::String,
                ) -> ::std::result::Result<
                    $crate::bindings::exports::ide_agents::tool::tools::CallResult,
                    $crate::bindings::exports::ide_agents::tool::tools::ToolError,
                > {
                    $crate::export::dispatch(__IDE_AGENTS_TOOLS, name, &arguments)
                }
            }

            impl $crate::bindings::exports::ide_agents::tool::offerings::Guest for Component {
                fn describe() -> $crate::offerings::Catalog {
                    $crate::wasi_free::report_panics();
                    __ide_agents_offerings()
                }
            }

            $crate::bindings::export!(Component with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};
    use serde_json::{Value, json};

    use super::*;
    use crate::{Annotations, NoArgs};

    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Args {
        /// How many.
        #[schemars(range(min = 1, max = 10))]
        count: u32,
        /// Which way (default up).
        #[serde(default)]
        direction: Direction,
        #[expect(dead_code, reason = "only deserialised")]
        items: Option<Vec<Item>>,
    }

    #[derive(Deserialize, JsonSchema, Default, Clone, Copy, Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Direction {
        #[default]
        Up,
        Down,
    }

    #[derive(Deserialize, JsonSchema)]
    struct Item {
        #[expect(dead_code, reason = "only deserialised")]
        text: String,
    }

    #[derive(Serialize, JsonSchema)]
    struct Output {
        total: u64,
        direction: Direction,
        #[serde(rename = "maybe")]
        note: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<f64>,
    }

    struct Counter;

    impl Tool for Counter {
        const NAME: &'static str = "counter";
        const TITLE: Option<&'static str> = Some("Counter");
        const DESCRIPTION: &'static str = "Counts.";
        const ANNOTATIONS: Annotations = Annotations::new().read_only(true).open_world(false);
        type Args = Args;
        type Output = Output;

        fn call(args: Args) -> Result<Reply<Output>, Error> {
            if args.count == 7 {
                return Err(Error::message("seven is refused"));
            }
            if args.count == 8 {
                return Err(Error::invalid("/count", "eight is not a count"));
            }
            let output = Output { total: args.count.into(), direction: args.direction, note: None, skipped: None };
            Ok(Reply::new(output).text(format!("counted {}", args.count)))
        }
    }

    struct Nothing;

    impl Tool for Nothing {
        const NAME: &'static str = "nothing";
        const DESCRIPTION: &'static str = "Does nothing.";
        type Args = NoArgs;
        type Output = Output;

        fn call(_: NoArgs) -> Result<Reply<Output>, Error> {
            Err(Error::failed("nothing to do"))
        }
    }

    const TOOLS: &[Entry] = &[entry::<Counter>(), entry::<Nothing>()];

    fn schema(text: Option<&str>) -> Value {
        serde_json::from_str(text.unwrap()).unwrap()
    }

    #[test]
    fn descriptors_carry_clean_derived_schemas() {
        let [counter, nothing] = describe(TOOLS).try_into().ok().unwrap();
        assert_eq!((counter.name.as_str(), counter.title.as_deref()), ("counter", Some("Counter")));
        assert_eq!((counter.annotations.read_only, counter.annotations.destructive), (Some(true), None));
        assert_eq!(
            schema(Some(&counter.input_schema)),
            json!({
                "type": "object",
                "properties": {
                    "count": {"type": "integer", "minimum": 1, "maximum": 10, "description": "How many."},
                    "direction": {"type": "string", "enum": ["up", "down"], "default": "up",
                                  "description": "Which way (default up)."},
                    "items": {"type": "array", "items": {
                        "type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}
                },
                "required": ["count"],
                "additionalProperties": false
            })
        );
        assert_eq!(
            schema(counter.output_schema.as_deref()),
            json!({
                "type": "object",
                "properties": {
                    "total": {"type": "integer", "minimum": 0},
                    "direction": {"type": "string", "enum": ["up", "down"]},
                    "maybe": {"type": ["string", "null"]},
                    "skipped": {"type": ["number", "null"]}
                },
                "required": ["total", "direction", "maybe"]
            })
        );
        assert_eq!(
            schema(Some(&nothing.input_schema)),
            json!({"type": "object", "properties": {}, "additionalProperties": false})
        );
        assert_eq!((nothing.title, nothing.annotations.read_only), (None, None));
    }

    #[test]
    fn tagged_enum_outputs_are_object_schemas() {
        #[derive(Serialize, JsonSchema)]
        #[serde(tag = "shape", rename_all = "snake_case")]
        #[expect(dead_code, reason = "only its schema is used")]
        enum Shape {
            Circle { radius: f64 },
            Square { side: f64 },
        }
        let schema = crate::schema::output::<Shape>();
        assert_eq!((&schema["type"], &schema["properties"]), (&json!("object"), &json!({})));
        assert_eq!(schema["oneOf"][0]["properties"]["shape"], json!({"type": "string", "const": "circle"}));
        assert_eq!(schema["oneOf"][1]["required"], json!(["shape", "side"]));
    }

    #[test]
    fn calls_decode_run_and_encode() {
        let ok = dispatch(TOOLS, "counter".into(), r#"{"count": 3}"#).unwrap();
        assert_eq!(ok.content, [Content::Text("counted 3".into())]);
        assert_eq!(schema(ok.structured.as_deref()), json!({"total": 3, "direction": "up", "maybe": null}));
        assert!(!ok.is_error);

        let refused = dispatch(TOOLS, "counter".into(), r#"{"count": 7}"#).unwrap();
        assert_eq!(
            (refused.content, refused.structured, refused.is_error),
            (vec![Content::Text("seven is refused".into())], None, true)
        );
        let invalid = dispatch(TOOLS, "counter".into(), r#"{"count": 8}"#);
        assert!(matches!(invalid, Err(ToolError::InvalidArguments(m)) if m == "/count: eight is not a count"));
        assert!(matches!(dispatch(TOOLS, "nothing".into(), "{}"), Err(ToolError::Failed(m)) if m == "nothing to do"));
        assert!(matches!(dispatch(TOOLS, "nope".into(), "{}"), Err(ToolError::UnknownTool(n)) if n == "nope"));
    }

    #[test]
    fn bad_arguments_name_the_field() {
        let error = |arguments: &str| match dispatch(TOOLS, "counter".into(), arguments) {
            Err(ToolError::InvalidArguments(m)) => m,
            other => panic!("{arguments}: {other:?}"),
        };
        assert_eq!(error(r#"{"count": "x"}"#), "/count: invalid type: string \"x\", expected u32");
        assert_eq!(
            error(r#"{"count": 1, "items": [{"text": 5}]}"#),
            "/items/0/text: invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            error(r#"{"count": 1, "direction": "left"}"#),
            "/direction: unknown variant `left`, expected `up` or `down`"
        );
        assert_eq!(error("{}"), "missing field `count`");
        assert!(
            error(r#"{"count": 1, "extra": 2}"#).starts_with("/extra: unknown field `extra`"),
            "{}",
            error(r#"{"count": 1, "extra": 2}"#)
        );
        assert_eq!(error(r#"{"count": 1} x"#), "trailing characters");
        assert!(matches!(dispatch(TOOLS, "nothing".into(), r#"{"a": 1}"#), Err(ToolError::InvalidArguments(_))));
    }
}
