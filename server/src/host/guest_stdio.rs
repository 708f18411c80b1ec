//! Guest stdout and stderr: written to the server's stderr, line by line, each line tagged with
//! the tool and stream (`[echo stdout] ...`). The server's stdout carries only JSON-RPC, so a guest
//! can never write to it. Control characters inside a line are escaped (a guest cannot move the
//! cursor, colour the terminal or start a forged line). Each stream of a call may write at most [`GUEST_OUTPUT_LIMIT`] bytes;
//! the rest is dropped with one notice, so a chatty guest cannot flood the log.

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Bytes of output kept per stream per call; the rest is dropped.
pub const GUEST_OUTPUT_LIMIT: usize = 64 * 1024;

/// A [`StdoutStream`] for one stream (`stdout` or `stderr`) of one call.
pub struct TaggedStderr {
    tool: Arc<str>,
    stream: &'static str,
}

impl TaggedStderr {
    /// Output of `tool`'s `stream` ("stdout" or "stderr").
    pub fn new(tool: Arc<str>, stream: &'static str) -> Self {
        Self { tool, stream }
    }

    fn writer(&self) -> LineWriter {
        LineWriter { tool: self.tool.clone(), stream: self.stream, line: Vec::new(), written: 0 }
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
