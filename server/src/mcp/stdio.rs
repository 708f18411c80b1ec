//! MCP over stdio. When stdin and stdout are pipes or sockets (as IDEs launch us) they are polled on
//! the async runtime, so a request is read, run and answered on one worker thread; otherwise a
//! reader thread and a writer thread do blocking I/O (see [`StreamMode`]).
//!
//! This module only frames bytes: what a message means is decided by the dispatcher
//! (`dispatch.rs`), which tells the transport what to do with each line.
//!
//! - The reader reads one message per line (at most `max_line_bytes`), writes the answers the
//!   dispatcher gives at once, and spawns the work it hands back (tool calls, and resource and
//!   prompt reads that miss the cache) as tasks. At most [`MAX_IN_FLIGHT`] are in flight; past
//!   that the reader stops reading, which pushes back on the client.
//! - The writer writes lines in the order they are queued; everything queued at once goes out in
//!   one write, so a burst of responses costs one system call. Nothing else writes to stdout.
//! - `notifications/cancelled` drops the call's future: the guest stops at its next epoch yield
//!   and nothing is sent for that request.
//! - On stdin EOF the server stops reading, answers the requests in flight, flushes and returns.
//!   On SIGTERM or SIGINT it gives calls in flight [`SIGNAL_GRACE`] to finish, cancels the rest
//!   (each gets a -32603 "shutting down" error), flushes and returns.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::io::unix::AsyncFd;
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, oneshot};

use super::dispatch::{Action, Era, Work};
use super::inflight::{InFlight, Shutdown, id_key};
use super::jsonrpc::{self, ErrorCode, RpcError};
use super::modern::kind;
use super::outbox::{self, MAX_QUEUED_NOTIFICATION_BYTES, OUTBOX_LINES, OutboxReceiver};
use super::server::{Listener, McpServer};
use super::session::Peer;

/// Calls in flight at once before the reader stops reading stdin.
pub const MAX_IN_FLIGHT: usize = 1024;
/// How long calls in flight may run on after SIGTERM or SIGINT before they are cancelled.
pub const SIGNAL_GRACE: Duration = Duration::from_millis(500);
/// Buffer size for stdin and stdout.
const IO_BUFFER_BYTES: usize = 64 << 10;

/// Serves MCP on stdin/stdout until EOF or a termination signal.
pub async fn serve(server: Arc<McpServer>) -> anyhow::Result<()> {
    let (out, queue) = outbox::outbox(OUTBOX_LINES, MAX_QUEUED_NOTIFICATION_BYTES);
    let peer = Peer::new(out.clone());
    let session = peer.session.clone();
    let mut listener = Listener::new(out.clone(), kind::ALL);
    listener.session = Some(peer.session.clone());
    let _listening = server.attach_listener(listener);
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let stdout_mode = StreamMode::of(std::io::stdout().as_fd(), "stdout");
    let writer = match &stdout_mode {
        StreamMode::Polled(fd) => {
            let fd = fd.polled()?;
            Writer::Task(tokio::spawn(write_polled(queue, fd, slots.clone())))
        }
        StreamMode::Blocking => {
            Writer::Thread(std::thread::Builder::new().name("stdout-writer".into()).spawn(move || write_loop(queue))?)
        }
    };
    let in_flight = Arc::new(InFlight::default());
    let (eof_tx, eof_rx) = oneshot::channel::<()>();
    let shared = server.clone();
    let dispatcher = Dispatcher { server, peer, in_flight: in_flight.clone(), slots: slots.clone() };
    let max = dispatcher.server.settings().max_line_bytes;
    let stdin_mode = StreamMode::of(std::io::stdin().as_fd(), "stdin");
    match &stdin_mode {
        StreamMode::Polled(nb) => {
            let (fd, drains) = (nb.polled()?, nb.short_read_drains);
            tokio::spawn(async move {
                read_polled(&dispatcher, &fd, max, drains).await;
                let _ = eof_tx.send(());
            });
        }
        StreamMode::Blocking => {
            let rt = Handle::current();
            std::thread::Builder::new().name("stdin-reader".into()).spawn(move || {
                read_blocking(&dispatcher, &rt, max);
                let _ = eof_tx.send(());
            })?;
        }
    }

    let signalled = tokio::select! {
        _ = eof_rx => false,
        signal = termination_signal() => { tracing::info!("received {signal}; shutting down"); true }
    };
    // Long-lived streams (`subscriptions/listen`) end now; calls get their grace period; calls
    // waiting for the client's answers (multi round-trip calls) stop waiting.
    shared.begin_shutdown();
    session.close_outstanding();
    let all = MAX_IN_FLIGHT as u32;
    if signalled && tokio::time::timeout(SIGNAL_GRACE, slots.acquire_many(all)).await.is_err() {
        tracing::info!("cancelling calls still in flight");
        in_flight.cancel_all_for_shutdown();
    }
    let _drained = slots.acquire_many(all).await;
    // An empty line tells the writer to flush and stop.
    let _ = out.send(Vec::new()).await;
    match writer {
        Writer::Task(task) => {
            let _ = task.await;
        }
        Writer::Thread(thread) => {
            tokio::task::spawn_blocking(move || thread.join()).await.ok();
        }
    }
    drop((stdin_mode, stdout_mode));
    Ok(())
}

pub(super) async fn termination_signal() -> &'static str {
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

/// How a standard stream is driven.
///
/// Pipes and sockets (what IDEs and clients give us) are switched to non-blocking mode and polled
/// on the async runtime, so reading a request, running the call and writing the answer happen on
/// one worker thread, with no hand-off between threads (see `docs/design/0004`). Anything else (a
/// terminal, a file, `/dev/null`), or a pipe shared with stderr, is read or written by a thread of
/// its own with blocking I/O. The original file status flags are restored on drop.
enum StreamMode {
    Polled(NonBlocking),
    Blocking,
}

impl StreamMode {
    fn of(fd: BorrowedFd<'_>, name: &str) -> Self {
        use rustix::fs::{FileType, fstat};
        let Ok(stat) = fstat(fd) else { return Self::Blocking };
        let kind = FileType::from_raw_mode(stat.st_mode);
        if !matches!(kind, FileType::Fifo | FileType::Socket) {
            return Self::Blocking;
        }
        // O_NONBLOCK belongs to the open file description: never change one that stderr shares.
        let shared_with_stderr =
            fstat(std::io::stderr().as_fd()).is_ok_and(|e| (e.st_dev, e.st_ino) == (stat.st_dev, stat.st_ino));
        if shared_with_stderr {
            return Self::Blocking;
        }
        // A short read empties a pipe or a stream socket; a datagram or seqpacket socket may hold
        // more messages after it.
        let short_read_drains = kind == FileType::Fifo
            || rustix::net::sockopt::socket_type(fd).is_ok_and(|t| t == rustix::net::SocketType::STREAM);
        match NonBlocking::set(fd, short_read_drains) {
            Ok(nb) => Self::Polled(nb),
            Err(e) => {
                tracing::debug!("cannot make {name} non-blocking, using a thread: {e}");
                Self::Blocking
            }
        }
    }
}

/// A stream switched to non-blocking mode; restores its flags when dropped.
struct NonBlocking {
    fd: OwnedFd,
    original: rustix::fs::OFlags,
    /// A read shorter than the buffer means nothing more is waiting (a pipe, a stream socket).
    short_read_drains: bool,
}

impl NonBlocking {
    fn set(fd: BorrowedFd<'_>, short_read_drains: bool) -> std::io::Result<Self> {
        use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
        let fd = fd.try_clone_to_owned()?;
        let original = fcntl_getfl(&fd)?;
        fcntl_setfl(&fd, original | OFlags::NONBLOCK)?;
        Ok(Self { fd, original, short_read_drains })
    }

    /// A handle on the same open file description, registered with the runtime's reactor.
    #[expect(unsafe_code, reason = "tokio's AsyncFd registration requires it")]
    fn polled(&self) -> std::io::Result<AsyncFd<std::fs::File>> {
        let file = std::fs::File::from(self.fd.try_clone()?);
        // SAFETY: the `File` owns its descriptor (a fresh duplicate), which therefore stays open
        // and refers to the same file description until the `AsyncFd` that owns the `File` drops.
        unsafe { AsyncFd::register(file) }.map_err(std::io::Error::from)
    }
}

impl Drop for NonBlocking {
    fn drop(&mut self) {
        let _ = rustix::fs::fcntl_setfl(&self.fd, self.original);
    }
}

enum Writer {
    Task(tokio::task::JoinHandle<()>),
    Thread(std::thread::JoinHandle<()>),
}

/// Writes queued lines to a polled stdout: everything queued at once goes out in one `write`.
/// `slots` are the call slots of [`serve`]: fewer available than [`MAX_IN_FLIGHT`] means calls
/// are running.
async fn write_polled(mut queue: OutboxReceiver, out: AsyncFd<std::fs::File>, slots: Arc<Semaphore>) {
    let mut lines = Vec::with_capacity(64);
    let mut batch = Vec::with_capacity(IO_BUFFER_BYTES);
    loop {
        if queue.recv_many(&mut lines, 256).await == 0 {
            return;
        }
        // While other calls are running, let every other ready task (calls about to answer) run
        // first, so their answers share this write: one system call, and one wake-up of the
        // client, per burst. With nothing else running there is nothing to wait for, and a
        // yield would only wake the other worker to look for work (tokio notifies a parked worker
        // on every yield): 10-15 µs of CPU per call at one in flight.
        if others_running(&slots) {
            tokio::task::yield_now().await;
        }
        while lines.len() < 1024
            && let Some(line) = queue.try_recv()
        {
            lines.push(line);
        }
        let mut stop = false;
        for line in lines.drain(..) {
            if line.is_empty() {
                stop = true;
                break;
            }
            batch.extend_from_slice(&line);
        }
        if let Err(e) = write_all_polled(&out, &batch).await {
            tracing::error!("cannot write to stdout, the client is gone: {e}");
            return;
        }
        batch.clear();
        if stop {
            return;
        }
    }
}

/// Whether any call holds one of the `slots` (a call's task releases its slot before the writer
/// runs, so the call whose answer is being written does not count).
fn others_running(slots: &Semaphore) -> bool {
    slots.available_permits() < MAX_IN_FLIGHT
}

async fn write_all_polled(out: &AsyncFd<std::fs::File>, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let mut ready = out.writable().await?;
        match ready.try_io(|fd| fd.get_ref().write(bytes)) {
            Ok(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(Ok(n)) => bytes = &bytes[n..],
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => {}
        }
    }
    Ok(())
}

/// Writes queued lines to stdout from a thread of its own (blocking I/O), flushing whenever the
/// queue runs empty.
fn write_loop(mut queue: OutboxReceiver) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(IO_BUFFER_BYTES, stdout.lock());
    while let Some(line) = queue.blocking_recv() {
        let mut stop = line.is_empty();
        let mut result = out.write_all(&line);
        while !stop && result.is_ok() {
            match queue.try_recv() {
                Some(line) if line.is_empty() => stop = true,
                Some(line) => result = out.write_all(&line),
                None => break,
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

/// Reads lines from a polled stdin and dispatches them until EOF. `drains`: a short read empties
/// the input (see [`NonBlocking`]).
async fn read_polled(dispatcher: &Dispatcher, input: &AsyncFd<std::fs::File>, max: usize, drains: bool) {
    let mut lines = LineBuffer::new(max);
    loop {
        let read = loop {
            let mut ready = match input.readable().await {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            let spare = lines.spare();
            let room = spare.len();
            match ready.try_io(|fd| fd.get_ref().read(spare)) {
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Ok(Ok(n)) => {
                    // A short read emptied the pipe: wait for the next readiness event instead
                    // of asking again for the `EAGAIN` that would say so (one system call per
                    // request at one in flight). Bytes that arrived after the read raise a new
                    // event, and tokio keeps a readiness set since the read.
                    if drains && n > 0 && n < room {
                        ready.clear_ready();
                    }
                    break Ok(n);
                }
                Ok(Err(e)) => break Err(e),
                Err(_would_block) => {}
            }
        };
        match read {
            Ok(0) => break,
            Ok(n) => {
                lines.filled(n);
                while let Some(piece) = lines.next_line() {
                    dispatcher.dispatch_piece(&lines, piece).await;
                }
            }
            Err(e) => {
                tracing::error!("cannot read stdin: {e}");
                break;
            }
        }
    }
    if let Some(piece) = lines.finish() {
        dispatcher.dispatch_piece(&lines, piece).await;
    }
}

/// Reads lines from stdin on a thread of its own (blocking I/O) and dispatches them until EOF.
fn read_blocking(dispatcher: &Dispatcher, rt: &Handle, max: usize) {
    let mut stdin = std::io::stdin().lock();
    let mut lines = LineBuffer::new(max);
    loop {
        match stdin.read(lines.spare()) {
            Ok(0) => break,
            Ok(n) => {
                lines.filled(n);
                while let Some(piece) = lines.next_line() {
                    rt.block_on(dispatcher.dispatch_piece(&lines, piece));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::error!("cannot read stdin: {e}");
                break;
            }
        }
    }
    if let Some(piece) = lines.finish() {
        rt.block_on(dispatcher.dispatch_piece(&lines, piece));
    }
}

/// One piece of input found by [`LineBuffer`].
#[derive(Debug, PartialEq)]
enum Piece {
    /// A line (without its newline or a trailing `\r`): this range of the buffer.
    Line(std::ops::Range<usize>),
    /// A line longer than the limit; it was discarded.
    TooLong,
}

/// Splits the input stream into lines of at most `max` bytes. Longer lines are discarded as they
/// arrive (memory stays bounded by `max` plus one read) and reported once their end is reached.
struct LineBuffer {
    /// Input bytes; beyond `len` only spare room handed out by [`Self::spare`].
    data: Vec<u8>,
    len: usize,
    /// Start of the first unconsumed byte.
    start: usize,
    /// Bytes before this (from `start`) are known to hold no newline.
    scanned: usize,
    max: usize,
    /// In the middle of a line that is too long.
    discarding: bool,
}

impl LineBuffer {
    fn new(max: usize) -> Self {
        Self { data: Vec::with_capacity(IO_BUFFER_BYTES), len: 0, start: 0, scanned: 0, max, discarding: false }
    }

    /// Space to read into (after moving unconsumed bytes to the front). Calling it again without
    /// [`Self::filled`] (a read that would block) hands out the same space. The spare room is
    /// zeroed once, when the buffer grows, not before every read.
    fn spare(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.data.copy_within(self.start..self.len, 0);
            self.scanned -= self.start;
            self.len -= self.start;
            self.start = 0;
        }
        if self.data.len() < self.len + IO_BUFFER_BYTES {
            self.data.resize(self.len + IO_BUFFER_BYTES, 0);
        }
        &mut self.data[self.len..]
    }

    /// Records that `n` bytes were read into [`Self::spare`].
    fn filled(&mut self, n: usize) {
        self.len += n;
    }

    /// The next complete line, if any.
    fn next_line(&mut self) -> Option<Piece> {
        let Some(offset) = self.data[self.scanned..self.len].iter().position(|&b| b == b'\n') else {
            self.scanned = self.len;
            if !self.discarding && self.len - self.start > self.max {
                self.discarding = true;
            }
            if self.discarding {
                // Drop what arrived of the long line; keep nothing of it.
                self.start = self.len;
                self.scanned = self.start;
            }
            return None;
        };
        let end = self.scanned + offset;
        let line_start = self.start;
        self.start = end + 1;
        self.scanned = self.start;
        if std::mem::take(&mut self.discarding) || end - line_start > self.max {
            return Some(Piece::TooLong);
        }
        let trimmed = if end > line_start && self.data[end - 1] == b'\r' { end - 1 } else { end };
        Some(Piece::Line(line_start..trimmed))
    }

    /// At EOF: the last line if it had no newline.
    fn finish(&mut self) -> Option<Piece> {
        if std::mem::take(&mut self.discarding) {
            return Some(Piece::TooLong);
        }
        (self.start < self.len).then(|| {
            let range = self.start..self.len;
            self.start = self.len;
            if range.len() > self.max { Piece::TooLong } else { Piece::Line(range) }
        })
    }

    fn line(&self, range: &std::ops::Range<usize>) -> &[u8] {
        &self.data[range.clone()]
    }
}

/// Turns incoming lines into answers and running calls.
struct Dispatcher {
    server: Arc<McpServer>,
    /// The client: one initialize-era session (2026-07-28 requests bring their own).
    peer: Peer,
    in_flight: Arc<InFlight>,
    slots: Arc<Semaphore>,
}

impl Dispatcher {
    async fn dispatch_piece(&self, lines: &LineBuffer, piece: Piece) {
        match piece {
            Piece::TooLong => {
                let max = self.server.settings().max_line_bytes;
                let error =
                    RpcError::new(ErrorCode::InvalidRequest, format!("message exceeds the {max}-byte line limit"));
                self.send(jsonrpc::failure(None, &error)).await;
            }
            Piece::Line(range) => {
                let line = lines.line(&range);
                if !line.iter().all(u8::is_ascii_whitespace) {
                    self.dispatch(line).await;
                }
            }
        }
    }

    async fn send(&self, line: Vec<u8>) {
        // Fails only once the writer has stopped, when there is no one left to tell.
        let _ = self.peer.out.send(line).await;
    }

    async fn dispatch(&self, line: &[u8]) {
        match self.server.dispatch(jsonrpc::parse(line), &self.peer, Era::Detect) {
            Action::Answer(line) => self.send(line).await,
            Action::Run { id, work } => self.spawn_request(id, work).await,
            Action::Cancel(key) => {
                if self.in_flight.cancel(&key) {
                    tracing::debug!(request = %key, "cancelled by the client");
                }
            }
            Action::Nothing => {}
        }
    }

    /// Runs `work` (which answers request `id` with one line) as a task that the client can
    /// cancel and that shutdown answers with an error. Waits for a slot when [`MAX_IN_FLIGHT`]
    /// requests are running (back-pressure: the reader stops reading).
    async fn spawn_request(&self, id: Box<RawValue>, work: Work) {
        let key = id_key(id.get());
        let Some(cancelled) = self.in_flight.start(key.clone()) else {
            let error = RpcError::new(
                ErrorCode::InvalidRequest,
                "invalid request: a request with this id is already in flight",
            );
            return self.send(jsonrpc::failure(Some(&id), &error)).await;
        };
        let Ok(slot) = self.slots.clone().acquire_owned().await else {
            return;
        };
        let (out, in_flight) = (self.peer.out.clone(), self.in_flight.clone());
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                biased;
                stop = cancelled => {
                    if stop == Ok(Shutdown) {
                        let error = RpcError::internal("cancelled: the server is shutting down");
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

    /// Feeds `input` in chunks of `chunk` bytes and collects the pieces.
    fn lines(input: &[u8], max: usize, chunk: usize) -> Vec<(bool, Vec<u8>)> {
        let mut buf = LineBuffer::new(max);
        let mut out = Vec::new();
        let mut collect = |buf: &LineBuffer, piece: Piece| match piece {
            Piece::Line(r) => out.push((true, buf.line(&r).to_vec())),
            Piece::TooLong => out.push((false, Vec::new())),
        };
        for part in input.chunks(chunk) {
            buf.spare().fill(b'!'); // a read that would block hands out the same space again
            buf.spare()[..part.len()].copy_from_slice(part);
            buf.filled(part.len());
            while let Some(piece) = buf.next_line() {
                collect(&buf, piece);
            }
        }
        if let Some(piece) = buf.finish() {
            collect(&buf, piece);
        }
        out
    }

    #[test]
    fn reads_lines_across_read_boundaries() {
        for chunk in [1, 3, 4, 100] {
            let got = lines(b"abcdefgh\r\n\nxy", 100, chunk);
            assert_eq!(
                got,
                vec![(true, b"abcdefgh".to_vec()), (true, vec![]), (true, b"xy".to_vec())],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn skips_lines_over_the_limit_and_continues() {
        for chunk in [1, 4, 7, 100] {
            let got = lines(b"0123456789\nok\n01234\n0123456789", 5, chunk);
            assert_eq!(
                got,
                vec![(false, vec![]), (true, b"ok".to_vec()), (true, b"01234".to_vec()), (false, vec![])],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn a_long_line_does_not_grow_the_buffer() {
        let mut buf = LineBuffer::new(10);
        for _ in 0..1000 {
            let spare = buf.spare();
            spare.fill(b'x');
            let n = spare.len();
            buf.filled(n);
            assert!(buf.next_line().is_none());
        }
        assert!(buf.data.capacity() <= 4 * IO_BUFFER_BYTES, "{}", buf.data.capacity());
    }

    #[test]
    fn canonical_ids() {
        assert_eq!(id_key(r#""\u0061""#), id_key(r#""a""#));
        assert_ne!(id_key("1"), id_key(r#""1""#));
    }
}
