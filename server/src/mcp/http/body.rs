//! Response bodies: a whole JSON message, or a server-sent-event stream fed from an outbox (one
//! `data:` event per message, compact one-line JSON; an empty line from the producer ends it).
//! Dropping an SSE body (the client closed the stream) drops the receiver, which the producer
//! sees as `Outbox::closed`: that is how a closed stream cancels its call.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Bytes, Frame, SizeHint};

use crate::mcp::outbox::OutboxReceiver;

/// A response body.
pub enum Body {
    /// All of it at once (`None` once sent).
    Full(Option<Bytes>),
    /// Server-sent events, one per queued message, until an empty line or the outbox closes.
    Events(Box<OutboxReceiver>),
}

impl Body {
    /// No body.
    pub fn empty() -> Self {
        Self::Full(None)
    }

    /// A body of `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Some(bytes.into()))
    }
}

/// One message line (with or without its newline) as an SSE event.
pub fn event(line: &[u8]) -> Bytes {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut event = Vec::with_capacity(line.len() + 8);
    event.extend_from_slice(b"data: ");
    event.extend_from_slice(line);
    event.extend_from_slice(b"\n\n");
    event.into()
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Events(rx) => match rx.poll_recv(cx) {
                Poll::Ready(Some(line)) if !line.is_empty() => Poll::Ready(Some(Ok(Frame::data(event(&line))))),
                Poll::Ready(_) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Self::Events(_) => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_data_line() {
        assert_eq!(&event(b"{\"a\":1}\n")[..], b"data: {\"a\":1}\n\n");
        assert_eq!(&event(b"{}")[..], b"data: {}\n\n");
    }
}
