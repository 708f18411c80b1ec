//! `build.logs`: for the newest logs in root `logs` (or one named file), the last lines and a
//! summary of error and warning lines.

use schemars::JsonSchema;
use serde::Serialize;

use crate::walk;

const ROOT: &str = "logs";
/// Logs summarised when no file is named: the newest ones.
const NEWEST: usize = 3;
/// Largest log read (its tail is what matters; bigger logs are refused with a clear error).
const MAX_FILE_BYTES: u64 = 16 << 20;
/// Error lines listed per log.
const MAX_ERROR_LINES: usize = 20;
/// Longest line kept, characters.
const MAX_LINE_CHARS: usize = 500;

/// The `build.logs` answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Logs {
    /// The root read: `logs`.
    root: &'static str,
    /// Always false: every chosen log is summarised.
    truncated: bool,
    /// The newest logs first, or the one named.
    files: Vec<LogSummary>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct LogSummary {
    path: String,
    bytes: u64,
    /// Last modification, milliseconds since the Unix epoch.
    modified_ms: u64,
    lines: usize,
    /// How many error lines it has.
    errors: usize,
    /// How many warning lines it has.
    warnings: usize,
    /// The first 20 error lines.
    error_lines: Vec<ErrorLine>,
    /// Its last lines.
    tail: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct ErrorLine {
    line: usize,
    text: String,
}

fn is_error(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains("error:")
        || l.contains("error[")
        || line.contains("ERROR")
        || line.contains("FAILED")
        || line.contains("FAIL ")
        || l.contains("panicked at")
        || line.contains("Traceback (most recent call last)")
        || l.starts_with("fatal:")
        || l.contains("exception:")
}

fn is_warning(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains("warning:") || line.contains("WARN")
}

fn clip(line: &str) -> String {
    line.chars().take(MAX_LINE_CHARS).collect()
}

/// The summary of `file`, or of the newest logs.
pub fn summarise(lines: usize, file: Option<&str>) -> crate::Rendered<Logs> {
    let (mut files, _) = walk::files(ROOT, "", 10_000, |_| true)?;
    let chosen: Vec<_> = match file {
        Some(name) => {
            let f = files.iter().position(|f| f.path == name.trim_start_matches("./"));
            match f {
                Some(i) => vec![files.swap_remove(i)],
                None => return Err(ide_agents_tool::workspace::FsError::NotFound(name.to_owned())),
            }
        }
        None => {
            files.sort_by(|a, b| b.modified_ms.cmp(&a.modified_ms).then(a.path.cmp(&b.path)));
            files.into_iter().take(NEWEST).collect()
        }
    };
    let mut text = String::new();
    let mut out = Vec::new();
    for f in &chosen {
        let content = walk::read_text(ROOT, &f.path, MAX_FILE_BYTES)?;
        let all: Vec<&str> = content.lines().collect();
        let errors: Vec<(usize, &str)> =
            all.iter().enumerate().filter(|(_, l)| is_error(l)).map(|(i, l)| (i + 1, *l)).collect();
        let warnings = all.iter().filter(|l| !is_error(l) && is_warning(l)).count();
        let tail: Vec<String> = all[all.len().saturating_sub(lines)..].iter().map(|l| clip(l)).collect();
        let error_lines: Vec<ErrorLine> =
            errors.iter().take(MAX_ERROR_LINES).map(|&(line, l)| ErrorLine { line, text: clip(l) }).collect();
        text.push_str(&format!(
            "== {} ({} lines, {} errors, {} warnings)\n",
            f.path,
            all.len(),
            errors.len(),
            warnings
        ));
        for (n, l) in errors.iter().take(MAX_ERROR_LINES) {
            text.push_str(&format!("  error at line {n}: {}\n", clip(l)));
        }
        text.push_str(&format!("-- last {} lines --\n{}\n", tail.len(), tail.join("\n")));
        out.push(LogSummary {
            path: f.path.clone(),
            bytes: f.size,
            modified_ms: f.modified_ms,
            lines: all.len(),
            errors: errors.len(),
            warnings,
            error_lines,
            tail,
        });
    }
    if chosen.is_empty() {
        text.push_str("no logs found");
    }
    Ok((Logs { root: ROOT, truncated: false, files: out }, text))
}
