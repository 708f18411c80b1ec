//! The queue of lines for the client, bounded in lines and in bytes. Answers wait for room in the
//! line count (the transport stops reading when calls pile up); notifications never wait: one that
//! finds the queue over [`MAX_QUEUED_NOTIFICATION_BYTES`] (a slow client, a flooding tool) is
//! dropped and counted, so memory stays bounded however fast tools notify.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::mpsc;

/// Lines queued for the writer before answers wait.
pub const OUTBOX_LINES: usize = 4096;

/// Bytes queued (answers included) above which notifications are dropped.
pub const MAX_QUEUED_NOTIFICATION_BYTES: usize = 8 << 20;

/// Counters shared by the two ends.
#[derive(Debug, Default)]
struct Shared {
    bytes: AtomicUsize,
    dropped: AtomicU64,
}

/// The sending end (cloned for every request).
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::Sender<Vec<u8>>,
    shared: Arc<Shared>,
    max_notification_bytes: usize,
}

/// The writer's end.
pub struct OutboxReceiver {
    rx: mpsc::Receiver<Vec<u8>>,
    shared: Arc<Shared>,
}

/// A queue of `lines` lines where notifications stop at `max_notification_bytes` queued.
pub fn outbox(lines: usize, max_notification_bytes: usize) -> (Outbox, OutboxReceiver) {
    let (tx, rx) = mpsc::channel(lines.max(1));
    let shared = Arc::new(Shared::default());
    (Outbox { tx, shared: shared.clone(), max_notification_bytes }, OutboxReceiver { rx, shared })
}

impl Outbox {
    /// Queues an answer, waiting for room; `Err` once the writer has stopped.
    pub async fn send(&self, line: Vec<u8>) -> Result<(), ()> {
        let len = line.len();
        self.shared.bytes.fetch_add(len, Ordering::Relaxed);
        self.tx.send(line).await.map_err(|_| {
            self.shared.bytes.fetch_sub(len, Ordering::Relaxed);
        })
    }

    /// Queues a notification unless the queue is full or holds too many bytes; whether it was
    /// queued.
    pub fn notify(&self, line: Vec<u8>) -> bool {
        let len = line.len();
        let queued = self.shared.bytes.fetch_add(len, Ordering::Relaxed);
        if queued + len > self.max_notification_bytes || self.tx.try_send(line).is_err() {
            self.shared.bytes.fetch_sub(len, Ordering::Relaxed);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Waits until the receiving end is gone (the client closed the stream).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// Whether the receiving end is gone (the stream closed).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Bytes queued now.
    pub fn queued_bytes(&self) -> usize {
        self.shared.bytes.load(Ordering::Relaxed)
    }

    /// Notifications dropped so far.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl OutboxReceiver {
    /// Receives up to `limit` lines into `lines`, waiting for the first; 0 when closed.
    pub async fn recv_many(&mut self, lines: &mut Vec<Vec<u8>>, limit: usize) -> usize {
        let before = lines.len();
        let n = self.rx.recv_many(lines, limit).await;
        self.taken(&lines[before..]);
        n
    }

    /// Waits for a line; `None` when every sender is gone.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let line = self.rx.recv().await?;
        self.taken(std::slice::from_ref(&line));
        Some(line)
    }

    /// Polls for a line (for a body that streams the queue).
    pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Vec<u8>>> {
        let polled = self.rx.poll_recv(cx);
        if let std::task::Poll::Ready(Some(line)) = &polled {
            self.taken(std::slice::from_ref(line));
        }
        polled
    }

    /// A line if one is queued.
    pub fn try_recv(&mut self) -> Option<Vec<u8>> {
        let line = self.rx.try_recv().ok()?;
        self.taken(std::slice::from_ref(&line));
        Some(line)
    }

    /// Waits for a line; `None` when closed.
    pub fn blocking_recv(&mut self) -> Option<Vec<u8>> {
        let line = self.rx.blocking_recv()?;
        self.taken(std::slice::from_ref(&line));
        Some(line)
    }

    fn taken(&self, lines: &[Vec<u8>]) {
        let bytes: usize = lines.iter().map(Vec::len).sum();
        self.shared.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_stop_at_the_byte_bound_and_answers_do_not() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (out, mut rx) = outbox(100, 1000);
        let sent = (0..50).filter(|_| out.notify(vec![b'x'; 100])).count();
        assert_eq!(sent, 10, "1000 bytes of 100-byte notifications");
        assert_eq!(out.dropped(), 40);
        rt.block_on(out.send(vec![b'a'; 5000])).unwrap();
        assert_eq!(out.queued_bytes(), 6000);
        let mut lines = Vec::new();
        assert_eq!(rt.block_on(rx.recv_many(&mut lines, 100)), 11);
        assert_eq!(out.queued_bytes(), 0);
        assert!(out.notify(vec![b'x'; 100]), "room again once the writer took the lines");
    }
}
