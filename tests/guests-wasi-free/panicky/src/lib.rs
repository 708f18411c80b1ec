//! `panicky`: panics on every call. Built WASI-free (no stderr), it shows that the guest SDK's
//! panic hook sends the message through the WIT `log` interface before the trap.

use ide_agents_tool::{Annotations, Error, NoArgs, Reply, Tool};
use schemars::JsonSchema;
use serde::Serialize;

struct Panicky;

/// Never produced.
#[derive(Serialize, JsonSchema)]
struct Nothing {}

impl Tool for Panicky {
    const NAME: &'static str = "panicky";
    const TITLE: Option<&'static str> = None;
    const DESCRIPTION: &'static str = "Panics.";
    const ANNOTATIONS: Annotations = Annotations::new();
    type Args = NoArgs;
    type Output = Nothing;

    fn call(_: NoArgs) -> Result<Reply<Nothing>, Error> {
        panic!("panicky was asked to panic");
    }
}

ide_agents_tool::export_tools!(Panicky);
