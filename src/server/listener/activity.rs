//! What a connection has done lately, counted where it happens (the stream, each request)
//! and read by the connection's watcher at its ticks.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Requests a client may cancel on one connection (HTTP/2: by resetting their streams)
/// before it is closed, if it also cancelled more than it let finish. A client that resets
/// every stream it opens (the "rapid reset" attack, CVE-2023-44487) makes the server start
/// work it never answers, past any cap on streams open at once.
pub(super) const CANCELLED_ALLOWED: u64 = 100;

/// How the watcher asks a connection to close.
pub(super) enum Close {
    /// After the request in flight, if any (shutdown, idle).
    Gracefully,
    /// At once: no request is in flight and its head is late (a slow-loris client), or the
    /// client cancels far more requests than it lets finish.
    Now,
}

/// What a connection has done lately: a count of what it did (bytes read, responses), and
/// how many requests are in flight. A count rather than a time: reading the clock on every
/// read and response was a measurable part of the token endpoint's profile, and the idle
/// check only needs to see that nothing happened between two of its ticks.
pub(super) struct Activity {
    progress: AtomicU64,
    /// Responses and writes: while it moves, the connection is not waiting for a head.
    answered: AtomicU64,
    in_flight: AtomicUsize,
    /// Requests whose handling ended with an answer, and those dropped before one.
    finished: AtomicU64,
    cancelled: AtomicU64,
    /// Where a connection that cancels too much is told to close.
    close: mpsc::Sender<Close>,
    /// The fate of the body in flight, on HTTP/1.1 (one at a time).
    fate: Arc<BodyFate>,
}

/// What became of a request's body: late (408), or broken off by the client.
#[derive(Default)]
pub(super) struct BodyFate {
    pub(super) expired: AtomicBool,
    pub(super) broken: AtomicBool,
}

impl Activity {
    pub(super) fn new(close: mpsc::Sender<Close>) -> Self {
        Activity {
            progress: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            finished: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            close,
            fate: Arc::default(),
        }
    }

    fn touch(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }

    fn answer(&self) {
        self.answered.fetch_add(1, Ordering::Relaxed);
    }

    /// A request has begun; it is in flight until the `Busy` is dropped.
    pub(super) fn busy(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy {
            activity: self.clone(),
            finished: false,
        }
    }

    /// Counts a request dropped before its answer; true once the connection has cancelled
    /// more than it may.
    fn cancelled_too_many(&self) -> bool {
        let cancelled = self.cancelled.fetch_add(1, Ordering::Relaxed) + 1;
        cancelled > CANCELLED_ALLOWED && cancelled > self.finished.load(Ordering::Relaxed)
    }
}

/// A request in flight. Dropped without `finish` (the client reset its stream, or went
/// away), it counts as cancelled.
pub(super) struct Busy {
    activity: Arc<Activity>,
    finished: bool,
}

impl Busy {
    /// The connection's one body fate, cleared for this request (HTTP/1.1 only: its
    /// requests come one at a time).
    pub(super) fn connection_fate(&self) -> Arc<BodyFate> {
        let fate = &self.activity.fate;
        fate.expired.store(false, Ordering::Relaxed);
        fate.broken.store(false, Ordering::Relaxed);
        fate.clone()
    }

    pub(super) fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let activity = &self.activity;
        activity.touch();
        activity.answer();
        activity.in_flight.fetch_sub(1, Ordering::Relaxed);
        if self.finished {
            activity.finished.fetch_add(1, Ordering::Relaxed);
        } else if activity.cancelled_too_many() {
            // Full only when a close is already on its way.
            let _ = activity.close.try_send(Close::Now);
        }
    }
}

/// The connection watcher's view of an `Activity`: since when nothing happened, and since
/// when nothing was answered while no request was in flight (the wait for a request head),
/// each to the precision of its ticks: from the first tick that saw the latest change.
pub(super) struct Watched {
    seen: u64,
    quiet_since: Instant,
    answered: u64,
    waiting_since: Instant,
}

impl Watched {
    pub(super) fn new(activity: &Activity) -> Self {
        let now = Instant::now();
        Watched {
            seen: activity.progress.load(Ordering::Relaxed),
            quiet_since: now,
            answered: activity.answered.load(Ordering::Relaxed),
            waiting_since: now,
        }
    }

    /// How long the connection has had nothing to do (zero while a request is in flight),
    /// and how long it has waited for a request head.
    pub(super) fn look(&mut self, activity: &Activity) -> (Duration, Duration) {
        let now = Instant::now();
        let busy = activity.in_flight.load(Ordering::Relaxed) > 0;
        let progress = activity.progress.load(Ordering::Relaxed);
        if progress != self.seen || busy {
            self.seen = progress;
            self.quiet_since = now;
        }
        let answered = activity.answered.load(Ordering::Relaxed);
        if answered != self.answered || busy {
            self.answered = answered;
            self.waiting_since = now;
        }
        (
            now.saturating_duration_since(self.quiet_since),
            now.saturating_duration_since(self.waiting_since),
        )
    }
}

/// A stream that notes when bytes arrive and leave.
pub(super) struct Tracked<S> {
    pub(super) inner: S,
    pub(super) activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.answer();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.answer();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_that_cancels_more_than_it_finishes_is_told_to_close() {
        let (tx, mut rx) = mpsc::channel(2);
        let activity = Arc::new(Activity::new(tx));
        for _ in 0..CANCELLED_ALLOWED + 5 {
            activity.busy().finish();
        }
        // More cancelled than allowed, but fewer than finished: an ordinary client.
        for _ in 0..CANCELLED_ALLOWED + 5 {
            drop(activity.busy());
        }
        assert!(rx.try_recv().is_err());
        drop(activity.busy());
        assert!(matches!(rx.try_recv(), Ok(Close::Now)));
    }

    #[test]
    fn a_few_cancelled_requests_are_no_attack() {
        let (tx, mut rx) = mpsc::channel(2);
        let activity = Arc::new(Activity::new(tx));
        for _ in 0..CANCELLED_ALLOWED {
            drop(activity.busy());
        }
        assert!(rx.try_recv().is_err());
        drop(activity.busy());
        assert!(matches!(rx.try_recv(), Ok(Close::Now)));
    }
}
