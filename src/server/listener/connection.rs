//! One connection, served by hyper in the protocol it was given (HTTP/2 only when TLS chose
//! it by ALPN), and watched by a task of its own that closes it when it is idle, late with a
//! request head, or at shutdown.

use super::activity::{Activity, Close, Tracked, Watched};
use super::request::handle;
use super::slots::AddressSlot;
use super::{ConnectionLimits, Peer};
use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};

/// The largest request head, in bytes: an HTTP/1.1 head as read, an HTTP/2 header list as
/// decoded. Past it HTTP/1.1 answers 431 (hyper checks between reads, so a head may pass it
/// by one read, to twice the bound at most) and HTTP/2 refuses the header block.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// HTTP/2 streams whose handling the client cancelled before hyper took them up: past this
/// many at once the connection is closed (hyper's guard against rapid reset; the cancelled
/// requests it did take up are bounded in `activity`).
const PENDING_RESETS_ALLOWED: usize = 20;

/// The protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocol {
    Http1,
    Http2,
}

pub(super) async fn serve_connection<S>(
    stream: S,
    protocol: Protocol,
    peer: Peer,
    app: Router,
    limits: Arc<ConnectionLimits>,
    stop: watch::Receiver<bool>,
    _held: (OwnedSemaphorePermit, AddressSlot),
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // The shutdown signal and the timeouts are watched by a task of their own: as
    // branches of the select in `drive` they were polled again at every wake-up of the
    // connection, several per request, for nothing (see BENCHMARKS.md).
    let (close_tx, close) = mpsc::channel::<Close>(2);
    let activity = Arc::new(Activity::new(close_tx.clone()));
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        let body_timeout = limits.body_timeout;
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let busy = activity.busy();
            handle(app.clone(), request, peer.clone(), body_timeout, busy)
        })
    };
    let watcher = tokio::spawn(watch_connection(activity, limits.clone(), stop, close_tx));
    match protocol {
        // No hyper timer: its head timeout armed a timer per request (an allocation, the
        // timer wheel twice, a clock read), for a deadline the watcher checks at its ticks.
        Protocol::Http1 => {
            let connection = http1::Builder::new()
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(io, service);
            drive(pin!(connection), |c| c.graceful_shutdown(), close).await;
        }
        Protocol::Http2 => {
            let connection = http2::Builder::new(TokioExecutor::new())
                .max_concurrent_streams(limits.max_streams_per_connection)
                .max_header_list_size(MAX_HEAD_BYTES as u32)
                .max_pending_accept_reset_streams(PENDING_RESETS_ALLOWED)
                .serve_connection(io, service);
            drive(pin!(connection), |c| c.graceful_shutdown(), close).await;
        }
    }
    watcher.abort();
}

/// Runs `connection` until it ends or the watcher closes it: gracefully (`graceful`) when
/// asked to, at once when its head is late, even after a graceful close, since that waits
/// for a request whose head may never come.
async fn drive<C>(
    mut connection: Pin<&mut C>,
    graceful: fn(Pin<&mut C>),
    mut close: mpsc::Receiver<Close>,
) where
    C: Future<Output = hyper::Result<()>>,
{
    let mut closing = false;
    let mut watched = true;
    loop {
        tokio::select! {
            biased;
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
                return;
            }
            close = close.recv(), if watched => match close {
                Some(Close::Now) => {
                    tracing::debug!("connection closed at once");
                    return;
                }
                Some(Close::Gracefully) | None => {
                    watched = close.is_some();
                    if !closing {
                        closing = true;
                        graceful(connection.as_mut());
                    }
                }
            },
        }
    }
}

/// Asks the connection to close (`close`) gracefully at shutdown or once it has been idle
/// for `keep_alive_idle`, and, at once, when a request head has not arrived within
/// `header_read_timeout` of the wait for it: before a graceful close or after it, since a
/// graceful close waits for a request whose head may never come.
async fn watch_connection(
    activity: Arc<Activity>,
    limits: Arc<ConnectionLimits>,
    mut stop: watch::Receiver<bool>,
    close: mpsc::Sender<Close>,
) {
    let shortest = limits.keep_alive_idle.min(limits.header_read_timeout);
    let check_every = (shortest / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut tick = tokio::time::interval(check_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut watched = Watched::new(&activity);
    let mut asked_gracefully = false;
    loop {
        let graceful = tokio::select! {
            changed = stop.changed(), if !asked_gracefully => {
                // A dropped sender is a stop too; either way it is not watched again.
                let _ = changed;
                true
            }
            _ = tick.tick() => {
                let (quiet, waiting) = watched.look(&activity);
                if waiting >= limits.header_read_timeout {
                    let _ = close.send(Close::Now).await;
                    return;
                }
                quiet >= limits.keep_alive_idle
            }
        };
        if graceful && !asked_gracefully {
            asked_gracefully = true;
            if close.send(Close::Gracefully).await.is_err() {
                return;
            }
        }
    }
}
