//! MCP over stdio: one reader thread, one writer thread, calls on the async runtime.
//!
//! - The reader reads one message per line (at most `max_line_bytes`), answers everything but
//!   `tools/call` (and `resources/read`/`prompts/get` that miss the cache) at once, and spawns each
//!   call as a task. At most [`MAX_IN_FLIGHT`] calls are
//!   in flight; past that the reader stops reading, which pushes back on the client.
//! - The writer writes lines in the order they are queued and flushes whenever the queue is empty,
//!   so a burst of responses costs one flush. Nothing else writes to stdout.
//! - `notifications/cancelled` drops the call's future: the guest stops at its next epoch yield
//!   and nothing is sent for that request.
//! - On stdin EOF the server stops reading, answers the requests in flight, flushes and returns.
//!   On SIGTERM or SIGINT it gives calls in flight [`SIGNAL_GRACE`] to finish, cancels the rest
//!   (each gets a -32603 "shutting down" error), flushes and returns.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use serde_json::value::RawValue;
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::jsonrpc::{self, Incoming, RpcError};
use super::server::{McpServer, Native, Outbox};

/// Default longest accepted message line. Larger lines are answered with -32600 and skipped;
/// the server keeps serving.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;
/// Calls in flight at once before the reader stops reading stdin.
pub const MAX_IN_FLIGHT: usize = 1024;
/// Lines queued for the writer before senders wait.
const OUTBOX_CAPACITY: usize = 4096;
/// How long calls in flight may run on after SIGTERM or SIGINT before they are cancelled.
pub const SIGNAL_GRACE: Duration = Duration::from_millis(500);
/// Buffer size for stdin and stdout.
const IO_BUFFER_BYTES: usize = 64 << 10;

/// Sent to a call in flight when the server shuts down: it is answered with an error so no request
/// is left hanging. (A client's cancellation drops the sender instead, and nothing is sent.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shutdown;

/// Calls in flight, by canonical request id. Dropping an entry's sender cancels the call as the
/// client asked; sending [`Shutdown`] cancels it with an error response.
#[derive(Default)]
struct InFlight {
    calls: Mutex<HashMap<String, oneshot::Sender<Shutdown>>>,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Shutdown>>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Registers a call; `None` if a call with the same id is already in flight.
    fn start(&self, key: String) -> Option<oneshot::Receiver<Shutdown>> {
        match self.lock().entry(key) {
            Entry::Occupied(_) => None,
            Entry::Vacant(slot) => {
                let (tx, rx) = oneshot::channel();
                slot.insert(tx);
                Some(rx)
            }
        }
    }
    fn finish(&self, key: &str) {
        self.lock().remove(key);
    }
    fn cancel(&self, key: &str) -> bool {
        self.lock().remove(key).is_some()
    }
    fn cancel_all_for_shutdown(&self) {
        for (_, stop) in self.lock().drain() {
            let _ = stop.send(Shutdown);
        }
    }
}

/// A request id in one canonical text form (so `"a"` and `"\u0061"` are the same id).
fn id_key(id: &str) -> String {
    serde_json::from_str::<Value>(id).map_or_else(|_| id.to_owned(), |v| v.to_string())
}

/// Serves MCP on stdin/stdout until EOF or a termination signal.
pub async fn serve(server: Arc<McpServer>) -> anyhow::Result<()> {
    let (out, queue) = mpsc::channel::<Vec<u8>>(OUTBOX_CAPACITY);
    let writer = std::thread::Builder::new().name("stdout-writer".into()).spawn(move || write_loop(queue))?;
    let in_flight = Arc::new(InFlight::default());
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let (eof_tx, eof_rx) = oneshot::channel::<()>();
    let reader =
        Reader { server, out: out.clone(), rt: Handle::current(), in_flight: in_flight.clone(), slots: slots.clone() };
    std::thread::Builder::new().name("stdin-reader".into()).spawn(move || {
        reader.run();
        let _ = eof_tx.send(());
    })?;

    let signalled = tokio::select! {
        _ = eof_rx => false,
        signal = termination_signal() => { tracing::info!("received {signal}; shutting down"); true }
    };
    let all = MAX_IN_FLIGHT as u32;
    if signalled && tokio::time::timeout(SIGNAL_GRACE, slots.acquire_many(all)).await.is_err() {
        tracing::info!("cancelling calls still in flight");
        in_flight.cancel_all_for_shutdown();
    }
    let _drained = slots.acquire_many(all).await;
    // An empty line tells the writer to flush and stop.
    let _ = out.send(Vec::new()).await;
    tokio::task::spawn_blocking(move || writer.join()).await.ok();
    Ok(())
}

async fn termination_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

fn write_loop(mut queue: mpsc::Receiver<Vec<u8>>) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(IO_BUFFER_BYTES, stdout.lock());
    while let Some(line) = queue.blocking_recv() {
        let mut stop = line.is_empty();
        let mut result = out.write_all(&line);
        while !stop && result.is_ok() {
            match queue.try_recv() {
                Ok(line) if line.is_empty() => stop = true,
                Ok(line) => result = out.write_all(&line),
                Err(_) => break,
            }
        }
        if let Err(e) = result.and_then(|()| out.flush()) {
            tracing::error!("cannot write to stdout, the client is gone: {e}");
            return;
        }
        if stop {
            return;
        }
    }
}

/// What [`read_line`] found.
#[derive(Debug, PartialEq)]
enum LineRead {
    Line,
    TooLong,
    Eof,
}

/// Reads one `\n`-terminated line into `buf` (without the newline or a trailing `\r`). A line
/// longer than `max` is consumed and discarded.
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> std::io::Result<LineRead> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (too_long, buf.is_empty()) {
                (true, _) => LineRead::TooLong,
                (false, true) => LineRead::Eof,
                (false, false) => LineRead::Line,
            });
        }
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if !too_long && buf.len() + chunk.len() > max {
            too_long = true;
            buf.clear();
        }
        if !too_long {
            buf.extend_from_slice(chunk);
        }
        let used = done.unwrap_or(chunk.len());
        input.consume(used);
        if done.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(if too_long { LineRead::TooLong } else { LineRead::Line });
        }
    }
}

struct Reader {
    server: Arc<McpServer>,
    out: Outbox,
    rt: Handle,
    in_flight: Arc<InFlight>,
    slots: Arc<Semaphore>,
}

impl Reader {
    fn run(&self) {
        let stdin = std::io::stdin();
        let mut input = BufReader::with_capacity(IO_BUFFER_BYTES, stdin.lock());
        let mut line = Vec::with_capacity(4096);
        let max = self.server.settings().max_line_bytes;
        loop {
            match read_line(&mut input, &mut line, max) {
                Ok(LineRead::Eof) => return,
                Ok(LineRead::TooLong) => self.send(jsonrpc::failure(
                    None,
                    &RpcError::new(jsonrpc::INVALID_REQUEST, format!("message exceeds the {max}-byte line limit")),
                )),
                Ok(LineRead::Line) if line.iter().all(u8::is_ascii_whitespace) => {}
                Ok(LineRead::Line) => self.dispatch(&line),
                Err(e) => {
                    tracing::error!("cannot read stdin: {e}");
                    return;
                }
            }
        }
    }

    fn send(&self, line: Vec<u8>) {
        // Fails only once the writer has stopped, when there is no one left to tell.
        let _ = self.out.blocking_send(line);
    }

    fn dispatch(&self, line: &[u8]) {
        match jsonrpc::parse(line) {
            Incoming::Request { id, method, params } if method == "tools/call" => self.start_call(id, params),
            Incoming::Request { id, method, params } if McpServer::is_native(&method) => {
                match self.server.prepare_native(&method, params) {
                    Ok(Native::Ready(result)) => self.send(jsonrpc::success(id, &result)),
                    Ok(Native::Run(job)) => self.spawn_request(id, move |server, out, id| async move {
                        match server.run_native(job, out).await {
                            Ok(result) => jsonrpc::success(&id, &result),
                            Err(error) => jsonrpc::failure(Some(&id), &error),
                        }
                    }),
                    Err(error) => self.send(jsonrpc::failure(Some(id), &error)),
                }
            }
            Incoming::Request { id, method, params } => {
                let reply = match self.server.handle(&method, params) {
                    Ok(result) => jsonrpc::success(id, &result),
                    Err(error) => jsonrpc::failure(Some(id), &error),
                };
                self.send(reply);
            }
            Incoming::Notification { method, params } if method == "notifications/cancelled" => {
                let request = params
                    .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
                    .and_then(|p| p.get("requestId").map(Value::to_string));
                if let Some(key) = request
                    && self.in_flight.cancel(&key)
                {
                    tracing::debug!(request = %key, "cancelled by the client");
                }
            }
            Incoming::Notification { method, .. } => self.server.notify(&method),
            Incoming::Response => {
                tracing::debug!("ignoring a response: this server sends no requests");
            }
            Incoming::Invalid { id, error } => self.send(jsonrpc::failure(id.as_deref(), &error)),
        }
    }

    fn start_call(&self, id: &RawValue, params: Option<&RawValue>) {
        let call = match self.server.prepare_call(params) {
            Ok(call) => call,
            Err(error) => return self.send(jsonrpc::failure(Some(id), &error)),
        };
        self.spawn_request(id, move |server, out, id| async move {
            let result = server.run_call(call, out).await;
            jsonrpc::success(&id, &result)
        });
    }

    /// Runs `work` (which answers request `id` with one line) as a task that the client can
    /// cancel and that shutdown answers with an error.
    fn spawn_request<F, W>(&self, id: &RawValue, work: W)
    where
        W: FnOnce(Arc<McpServer>, Outbox, Box<RawValue>) -> F,
        F: Future<Output = Vec<u8>> + Send + 'static,
    {
        let key = id_key(id.get());
        let Some(cancelled) = self.in_flight.start(key.clone()) else {
            let error =
                RpcError::new(jsonrpc::INVALID_REQUEST, "invalid request: a request with this id is already in flight");
            return self.send(jsonrpc::failure(Some(id), &error));
        };
        let Ok(slot) = self.rt.block_on(self.slots.clone().acquire_owned()) else {
            return;
        };
        let (out, in_flight, id) = (self.out.clone(), self.in_flight.clone(), id.to_owned());
        let work = work(self.server.clone(), out.clone(), id.clone());
        self.rt.spawn(async move {
            let _slot = slot;
            tokio::select! {
                biased;
                stop = cancelled => {
                    if stop == Ok(Shutdown) {
                        let error = RpcError::new(jsonrpc::INTERNAL_ERROR, "cancelled: the server is shutting down");
                        let _ = out.send(jsonrpc::failure(Some(&id), &error)).await;
                    }
                }
                reply = work => {
                    in_flight.finish(&key);
                    let _ = out.send(reply).await;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<(LineRead, Vec<u8>)> {
        let mut reader = BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            let r = read_line(&mut reader, &mut buf, max).unwrap();
            if r == LineRead::Eof {
                return out;
            }
            out.push((r, buf.clone()));
        }
    }

    #[test]
    fn reads_lines_across_buffer_boundaries() {
        let got = lines(b"abcdefgh\r\n\nxy", 100);
        assert_eq!(
            got,
            vec![(LineRead::Line, b"abcdefgh".to_vec()), (LineRead::Line, vec![]), (LineRead::Line, b"xy".to_vec())]
        );
    }

    #[test]
    fn skips_lines_over_the_limit_and_continues() {
        let got = lines(b"0123456789\nok\n0123456789", 5);
        assert_eq!(
            got,
            vec![(LineRead::TooLong, vec![]), (LineRead::Line, b"ok".to_vec()), (LineRead::TooLong, vec![])]
        );
    }

    #[test]
    fn canonical_ids() {
        assert_eq!(id_key(r#""\u0061""#), id_key(r#""a""#));
        assert_ne!(id_key("1"), id_key(r#""1""#));
    }
}
