//! Guest stdout and stderr: written to the server's stderr, line by line, each line tagged with
//! the tool and stream (`[echo stdout] ...`). The server's stdout carries only JSON-RPC, so a guest
//! can never write to it. Control characters inside a line are escaped (a guest cannot move the
//! cursor, colour the terminal or start a forged line). Each stream of a call may write at most
//! [`GUEST_OUTPUT_LIMIT`] bytes, however many handles the guest opens on it; the rest is dropped
//! with one notice, so a chatty guest cannot flood the log.
//!
//! The last lines of a call's stderr are also kept ([`GuestStream`], bounded), so that when the
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

/// Bytes of output kept per stream per call (across every handle the guest opens on it); the rest
/// is dropped.
pub const GUEST_OUTPUT_LIMIT: usize = 64 * 1024;

/// Lines of a call's stderr kept for its trap message.
pub const TAIL_LINES: usize = 12;
/// Characters kept of each such line.
pub const TAIL_LINE_CHARS: usize = 400;
/// Bytes kept of those lines in all.
pub const TAIL_BYTES: usize = 2048;

/// One stream of one call, shared by every handle the guest gets on it (`get-stderr` may be
/// called any number of times): the bytes written so far, against [`GUEST_OUTPUT_LIMIT`], and
/// for stderr the last lines, for the trap message: at most [`TAIL_LINES`] lines of at most
/// [`TAIL_LINE_CHARS`] characters, [`TAIL_BYTES`] in all, plus the line being written.
#[derive(Clone, Default)]
pub struct GuestStream(Arc<Mutex<StreamState>>);

#[derive(Default)]
struct StreamState {
    written: usize,
    lines: VecDeque<String>,
    bytes: usize,
    /// The unfinished last line, escaped.
    pending: String,
}

fn cut(line: &str) -> String {
    match line.char_indices().nth(TAIL_LINE_CHARS) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_owned(),
    }
}

impl GuestStream {
    /// Takes up to `len` bytes of the stream's budget: how many may be written, and whether this
    /// take ran the budget out (the one that should say so).
    fn take(&self, len: usize) -> (usize, bool) {
        let Ok(mut state) = self.0.lock() else { return (0, false) };
        if state.written > GUEST_OUTPUT_LIMIT {
            return (0, false);
        }
        let room = GUEST_OUTPUT_LIMIT - state.written;
        if len <= room {
            state.written += len;
            return (len, false);
        }
        // One past the limit: spent, and said.
        state.written = GUEST_OUTPUT_LIMIT + 1;
        (room, true)
    }

    fn push(&self, line: &str) {
        let line = cut(line);
        let Ok(mut state) = self.0.lock() else { return };
        state.pending.clear();
        state.bytes += line.len();
        state.lines.push_back(line);
        while state.lines.len() > TAIL_LINES || state.bytes > TAIL_BYTES {
            let Some(old) = state.lines.pop_front() else { break };
            state.bytes -= old.len();
        }
    }

    fn set_pending(&self, line: &str) {
        if let Ok(mut state) = self.0.lock() {
            state.pending = cut(line);
        }
    }

    /// The kept lines, oldest first, one per line, the unfinished one last; `None` if the call
    /// wrote nothing to the stream.
    pub fn text(&self) -> Option<String> {
        let state = self.0.lock().ok()?;
        let mut lines: Vec<&str> = state.lines.iter().map(String::as_str).collect();
        if !state.pending.is_empty() {
            lines.push(&state.pending);
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// Starts the stream's next call (a kept instance): a fresh budget, no lines.
    pub fn reset(&self) {
        if let Ok(mut state) = self.0.lock() {
            *state = StreamState::default();
        }
    }
}

/// A [`StdoutStream`] for one stream (`stdout` or `stderr`) of one call.
pub struct TaggedStderr {
    tool: Arc<str>,
    stream: &'static str,
    state: GuestStream,
    /// Keep the last lines (stderr).
    keep_lines: bool,
}

impl TaggedStderr {
    /// Output of `tool`'s `stream` ("stdout" or "stderr"), counted in `state`; with `keep_lines`
    /// its last lines are kept there too.
    pub fn new(tool: Arc<str>, stream: &'static str, state: GuestStream, keep_lines: bool) -> Self {
        Self { tool, stream, state, keep_lines }
    }

    fn writer(&self) -> LineWriter {
        LineWriter {
            tool: self.tool.clone(),
            stream: self.stream,
            line: Vec::new(),
            state: self.state.clone(),
            keep_lines: self.keep_lines,
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
    state: GuestStream,
    keep_lines: bool,
}

impl LineWriter {
    fn accept(&mut self, bytes: &[u8]) {
        let (granted, ran_out) = self.state.take(bytes.len());
        let mut bytes = &bytes[..granted];
        while let Some(nl) = bytes.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&bytes[..nl]);
            self.emit();
            bytes = &bytes[nl + 1..];
        }
        self.line.extend_from_slice(bytes);
        if ran_out {
            self.emit();
            self.line.extend_from_slice(format!("(output beyond {GUEST_OUTPUT_LIMIT} bytes dropped)").as_bytes());
            self.emit();
        } else if self.keep_lines && !self.line.is_empty() {
            let text = String::from_utf8_lossy(&self.line);
            self.state.set_pending(&super::budget::escape_controls(text.trim_end_matches('\r')));
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
        if self.keep_lines {
            self.state.push(&text);
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

    fn writer(state: &GuestStream) -> LineWriter {
        TaggedStderr::new("t".into(), "stderr", state.clone(), true).writer()
    }

    #[test]
    fn the_tail_keeps_the_last_lines_escaped_and_bounded_with_the_unfinished_one() {
        let state = GuestStream::default();
        assert_eq!(state.text(), None);
        let mut w = writer(&state);
        for i in 0..40 {
            w.accept(format!("line {i}\n").as_bytes());
        }
        w.accept(b"panicked: \x1b[31mboom");
        // The unfinished last line is there before the handle is dropped (a trap drops it later).
        let text = state.text().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), TAIL_LINES + 1);
        assert_eq!(lines[0], "line 28");
        assert!(lines[TAIL_LINES].starts_with("panicked: ") && !text.contains('\x1b'), "{text}");
        drop(w);
        assert_eq!(state.text().unwrap().lines().count(), TAIL_LINES);
        state.reset();
        assert_eq!(state.text(), None);
    }

    #[test]
    fn long_lines_are_cut_and_the_total_stays_bounded() {
        let state = GuestStream::default();
        let mut w = writer(&state);
        for _ in 0..20 {
            w.accept(&[b'x'; 3000]);
            w.accept(b"\n");
        }
        drop(w);
        let text = state.text().unwrap();
        assert!(text.len() <= TAIL_BYTES + TAIL_LINES, "{}", text.len());
        assert!(text.lines().all(|l| l.chars().count() <= TAIL_LINE_CHARS + 3));
    }

    #[test]
    fn the_budget_is_per_stream_not_per_handle() {
        let state = GuestStream::default();
        let mut total = 0;
        // A guest that asks for a new handle for every write still gets one budget.
        for _ in 0..100 {
            let mut w = writer(&state);
            w.accept(&[b'y'; 4096]);
            total += 4096;
        }
        assert!(total > GUEST_OUTPUT_LIMIT);
        assert_eq!(state.take(1), (0, false), "the budget is spent, and was said to be once");
        // The notice line is the tail's last line; nothing after it.
        assert!(state.text().unwrap().ends_with(&format!("(output beyond {GUEST_OUTPUT_LIMIT} bytes dropped)")));
        state.reset();
        assert_eq!(state.take(10), (10, false));
    }
}
