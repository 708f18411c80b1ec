//! `ide-agents-mcp check FILE.wasm`: tells a tool author whether the server will serve a
//! component, and why not, before an IDE ever starts it. Builds the runtime exactly as `serve`
//! does (same configuration, budgets and cache directory), runs [`Runtime::inspect`] and prints
//! the findings: a readable report, or JSON with `--json`. Part of the composition root.
//!
//! [`Runtime::inspect`]: crate::runtime::Runtime::inspect

use std::fmt::Write;
use std::path::Path;

use crate::config::Settings;
use crate::runtime::inspect::Inspection;

/// Checks the component at `file`: the report (for stdout: the binary prints it, the library
/// never writes to stdout) and whether the server would serve it.
pub async fn check(settings: &Settings, file: &Path, json: bool) -> anyhow::Result<(String, bool)> {
    let runtime = crate::serve::build_runtime(settings)?;
    let inspection = runtime.inspect(file).await?;
    let text = if json { serde_json::to_string_pretty(&inspection)? + "\n" } else { report(file, &inspection) };
    Ok((text, inspection.ok()))
}

/// The human-readable report.
fn report(file: &Path, i: &Inspection) -> String {
    let mut out = format!("{}: component, {} bytes, sha256 {}\n", file.display(), i.bytes, &i.sha256[..16]);
    let _ = match &i.load {
        Ok(l) => writeln!(
            out,
            "  load: {} in {:.1} ms{}",
            if l.kind == "aot" { "from the AOT cache" } else { "compiled within the compile budget" },
            l.ms,
            l.artifact.as_ref().map(|a| format!(", artifact {}", a.display())).unwrap_or_default()
        ),
        Err(e) => writeln!(out, "  load: FAILED: {e}"),
    };
    if !i.imports.is_empty() {
        let _ = writeln!(out, "  imports:");
        for import in &i.imports {
            let _ = match &import.missing {
                None => writeln!(out, "    ok       {}", import.name),
                Some(why) => writeln!(out, "    MISSING  {}: {why}", import.name),
            };
        }
    }
    let _ = match &i.link {
        Ok(()) => writeln!(out, "  link: ok"),
        Err(e) => writeln!(out, "  link: FAILED: {e}"),
    };
    match &i.describe {
        Ok(d) => {
            let _ = match &i.plain {
                None => writeln!(out, "  describe: {} tool(s)", d.tools.len()),
                Some(_) => {
                    writeln!(out, "  plain typed component: {} exported function(s) served as tools", d.tools.len())
                }
            };
            for tool in &d.tools {
                let summary = tool.description.lines().next().unwrap_or("");
                let _ = writeln!(out, "    {}: {summary}", tool.name);
                let _ = writeln!(out, "      input:  {}", tool.input_schema);
                if let Some(schema) = &tool.output_schema {
                    let _ = writeln!(out, "      output: {schema}");
                }
            }
        }
        Err(e) => {
            let _ = writeln!(out, "  describe: FAILED: {e}");
        }
    }
    for reason in i.plain.iter().flatten() {
        let _ = writeln!(out, "  not served: {reason}");
    }
    let _ = match (i.instantiate_us, i.instance_and_describe_us) {
        (Some(a), Some(b)) => {
            writeln!(out, "  cost: fresh instance {a:.1} µs; fresh instance + describe {b:.1} µs (medians)")
        }
        (Some(a), None) => writeln!(out, "  cost: fresh instance {a:.1} µs (median)"),
        _ => Ok(()),
    };
    let _ = writeln!(out, "{}", if i.ok() { "ok: the server will serve it" } else { "not servable: see above" });
    out
}
