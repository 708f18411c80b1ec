//! Guest stdout and stderr: written to the server's stderr, line by line, each line tagged with
//! the tool and stream (`[echo stdout] ...`). The server's stdout carries only JSON-RPC, so a guest
//! can never write to it. Control characters inside a line are escaped (a guest cannot move the
//! cursor, colour the terminal or start a forged line). Each stream of a call may write at most [`GUEST_OUTPUT_LIMIT`] bytes;
//! the rest is dropped with one notice, so a chatty guest cannot flood the log.
//!
//! The last lines of a call's stderr are also kept ([`StderrTail`], bounded), so that when the
//! guest traps the error the model sees carries what the guest said as it failed: a Rust panic
//! message, a Python traceback, a thrown JavaScript error. Escaped like the log lines.

use std::collections::VecDeque;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Bytes of output kept per stream per call; the rest is dropped.
pub const GUEST_OUTPUT_LIMIT: usize = 64 * 1024;

/// Lines of a call's stderr kept for its trap message.
pub const TAIL_LINES: usize = 12;
/// Characters kept of each such line.
pub const TAIL_LINE_CHARS: usize = 400;
/// Bytes kept of those lines in all.
pub const TAIL_BYTES: usize = 2048;

/// The last lines one call wrote to stderr: at most [`TAIL_LINES`] lines of at most
/// [`TAIL_LINE_CHARS`] characters, [`TAIL_BYTES`] in all (older lines go first).
#[derive(Clone, Default)]
pub struct StderrTail(Arc<Mutex<TailLines>>);

#[derive(Default)]
struct TailLines {
    lines: VecDeque<String>,
    bytes: usize,
}

impl StderrTail {
    fn push(&self, line: &str) {
        let line = match line.char_indices().nth(TAIL_LINE_CHARS) {
            Some((cut, _)) => format!("{}...", &line[..cut]),
            None => line.to_owned(),
        };
        let Ok(mut tail) = self.0.lock() else { return };
        tail.bytes += line.len();
        tail.lines.push_back(line);
        while tail.lines.len() > TAIL_LINES || tail.bytes > TAIL_BYTES {
            let Some(old) = tail.lines.pop_front() else { break };
            tail.bytes -= old.len();
        }
    }

    /// The kept lines, oldest first, one per line; `None` if the call wrote nothing to stderr.
    pub fn text(&self) -> Option<String> {
        let tail = self.0.lock().ok()?;
        (!tail.lines.is_empty()).then(|| tail.lines.iter().map(String::as_str).collect::<Vec<_>>().join("\n"))
    }

    /// Forgets the kept lines (a kept instance starting its next call).
    pub fn clear(&self) {
        if let Ok(mut tail) = self.0.lock() {
            *tail = TailLines::default();
        }
    }
}

/// A [`StdoutStream`] for one stream (`stdout` or `stderr`) of one call.
pub struct TaggedStderr {
    tool: Arc<str>,
    stream: &'static str,
    tail: Option<StderrTail>,
}

impl TaggedStderr {
    /// Output of `tool`'s `stream` ("stdout" or "stderr").
    pub fn new(tool: Arc<str>, stream: &'static str) -> Self {
        Self { tool, stream, tail: None }
    }

    /// Also keeps the stream's last lines in `tail`.
    pub fn with_tail(mut self, tail: StderrTail) -> Self {
        self.tail = Some(tail);
        self
    }

    fn writer(&self) -> LineWriter {
        LineWriter {
            tool: self.tool.clone(),
            stream: self.stream,
            line: Vec::new(),
            written: 0,
            tail: self.tail.clone(),
        }
    }
}

impl IsTerminal for TaggedStderr {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for TaggedStderr {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.writer())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.writer())
    }
}

/// Buffers a partial line; writes whole lines to stderr with the tag in front.
struct LineWriter {
    tool: Arc<str>,
    stream: &'static str,
    line: Vec<u8>,
    written: usize,
    tail: Option<StderrTail>,
}

impl LineWriter {
    fn accept(&mut self, mut bytes: &[u8]) {
        if self.written >= GUEST_OUTPUT_LIMIT {
            return;
        }
        let room = GUEST_OUTPUT_LIMIT - self.written;
        let truncated = bytes.len() > room;
        if truncated {
            bytes = &bytes[..room];
        }
        self.written += bytes.len();
        while let Some(nl) = bytes.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&bytes[..nl]);
            self.emit();
            bytes = &bytes[nl + 1..];
        }
        self.line.extend_from_slice(bytes);
        if truncated {
            self.emit();
            self.line.extend_from_slice(format!("(output beyond {GUEST_OUTPUT_LIMIT} bytes dropped)").as_bytes());
            self.emit();
        }
    }

    fn emit(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.line);
        let text = super::budget::escape_controls(text.trim_end_matches('\r'));
        // One write per line so lines from concurrent calls do not interleave mid-line.
        let _ = writeln!(std::io::stderr().lock(), "[{} {}] {}", self.tool, self.stream, text);
        if let Some(tail) = &self.tail {
            tail.push(&text);
        }
        self.line.clear();
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.emit();
    }
}

impl OutputStream for LineWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.accept(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(GUEST_OUTPUT_LIMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LineWriter {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for LineWriter {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.accept(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(tail: &StderrTail) -> LineWriter {
        TaggedStderr::new("t".into(), "stderr").with_tail(tail.clone()).writer()
    }

    #[test]
    fn the_tail_keeps_the_last_lines_escaped_and_bounded() {
        let tail = StderrTail::default();
        assert_eq!(tail.text(), None);
        let mut w = writer(&tail);
        for i in 0..40 {
            w.accept(format!("line {i}\n").as_bytes());
        }
        w.accept(b"panicked: \x1b[31mboom");
        drop(w); // the partial last line is emitted on drop
        let text = tail.text().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines[0], "line 29");
        assert!(lines[TAIL_LINES - 1].starts_with("panicked: ") && !text.contains('\x1b'), "{text}");
        tail.clear();
        assert_eq!(tail.text(), None);
    }

    #[test]
    fn long_lines_are_cut_and_the_total_stays_bounded() {
        let tail = StderrTail::default();
        let mut w = writer(&tail);
        for _ in 0..20 {
            w.accept(&[b'x'; 5000]);
            w.accept(b"\n");
        }
        drop(w);
        let text = tail.text().unwrap();
        assert!(text.len() <= TAIL_BYTES + TAIL_LINES, "{}", text.len());
        assert!(text.lines().all(|l| l.chars().count() <= TAIL_LINE_CHARS + 3));
    }
}
