//! The accept loop: every connection is bounded in number (globally and per address) and
//! in time (request head, request body, idle keep-alive), so that slow or idle clients
//! cannot hold the server for everyone else. It serves any byte stream, so a TLS acceptor
//! can wrap the TCP stream here before `serve_connection`.

use super::extract::ThroughTrustedProxy;
use super::problem::ApiError;
use super::proxy::TrustedProxies;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// How many connections the server holds, and for how long.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// From the moment the server waits for a request until its whole head has arrived.
    pub header_read_timeout: Duration,
    /// From a request's head until its whole body has arrived; then 408.
    pub body_timeout: Duration,
    /// A connection with no request in flight that sends nothing for this long is closed.
    /// (hyper's head timer also runs while a kept-alive connection waits for its next
    /// request, so that wait ends at the shorter of the two.)
    pub keep_alive_idle: Duration,
    /// Open connections at once, all addresses together (further lowered to fit the
    /// open-files limit).
    pub max_connections: usize,
    /// Open connections at once from one address (IPv6: from one /64).
    pub max_per_address: usize,
    /// At shutdown, how long requests in flight may take to finish before their
    /// connections are closed.
    pub shutdown_grace: Duration,
}

/// What the listener adds to plain TCP: TLS, and which peers are trusted proxies.
#[derive(Clone, Default)]
pub struct Transport {
    pub tls: Option<TlsAcceptor>,
    pub trusted_proxies: Arc<TrustedProxies>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            keep_alive_idle: Duration::from_secs(5),
            max_connections: 1024,
            max_per_address: 256,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// File descriptors kept out of the connection cap: the database, its WAL, key files, logs.
const RESERVED_FILES: u64 = 128;

/// Raises the soft open-files limit to the hard one; returns the limit now in force.
/// The default soft limit (often 1,024) is far below what a server needs.
pub fn raise_open_files_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(err) => {
            tracing::warn!(error = %err, "the open-files limit could not be raised");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The connection cap that fits in `open_files`, leaving room for the server's own files.
pub fn fitting_cap(wanted: usize, open_files: Option<u64>) -> usize {
    let room = open_files
        .map(|limit| limit.saturating_sub(RESERVED_FILES).max(1))
        .and_then(|room| usize::try_from(room).ok())
        .unwrap_or(usize::MAX);
    wanted.min(room).max(1)
}

/// Serves `app` on `listener` until `shutdown` completes, then lets each connection finish
/// its request in flight (bounded by the head and body timeouts).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_with(listener, app, limits, Transport::default(), shutdown).await
}

/// `serve`, over TLS when `transport` has an acceptor, believing the proxies it names.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    transport: Transport,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = Arc::new(limits);
    let global = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_address = Arc::new(AddressSlots::new(limits.max_per_address.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        accept_failed(err).await;
                        continue;
                    }
                };
                let Ok(permit) = global.clone().try_acquire_owned() else {
                    refuse(stream, "global");
                    continue;
                };
                let Some(slot) = per_address.take(peer.ip()) else {
                    refuse(stream, "per_address");
                    continue;
                };
                let _ = stream.set_nodelay(true);
                // Decided once per connection: every request on it comes from that peer.
                let proxy = (!transport.trusted_proxies.is_empty()
                    && transport.trusted_proxies.contains(peer.ip()))
                .then(|| ThroughTrustedProxy(transport.trusted_proxies.clone()));
                let peer = Peer { addr: peer, proxy };
                let held = (permit, slot);
                match transport.tls.clone() {
                    None => {
                        connections.spawn(serve_connection(
                            stream,
                            peer,
                            app.clone(),
                            limits.clone(),
                            stop_rx.clone(),
                            held,
                        ));
                    }
                    Some(acceptor) => {
                        connections.spawn(serve_tls_connection(
                            acceptor,
                            stream,
                            peer,
                            app.clone(),
                            limits.clone(),
                            stop_rx.clone(),
                            held,
                        ));
                    }
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, drain)
        .await
        .is_err()
    {
        tracing::warn!("connections still open at shutdown were closed");
        connections.abort_all();
    }
    Ok(())
}

/// Out of descriptors or memory: wait a little instead of spinning on the error.
async fn accept_failed(err: io::Error) {
    use io::ErrorKind::*;
    match err.kind() {
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted => {}
        _ => {
            tracing::warn!(error = %err, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A connection over the cap gets a short 503 if its buffer takes it, and is closed; the
/// write never waits.
fn refuse(stream: TcpStream, cap: &'static str) {
    tracing::debug!(cap, "connection over the cap refused");
    let _ = stream.try_write(&BUSY);
}

/// The refusal sent to a connection over the cap, built once.
static BUSY: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let body = "{\"type\":\"urn:consola:busy\",\"title\":\"Service Unavailable\",\"status\":503,\
                \"detail\":\"Demasiadas conexiones abiertas; reintente en un momento\"}";
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n\
         Retry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// Open connections per address, capped.
struct AddressSlots {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl AddressSlots {
    fn new(max: usize) -> Self {
        AddressSlots {
            max,
            open: Mutex::new(HashMap::new()),
        }
    }

    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        let key = address_key(ip);
        let mut open = self.open.lock();
        let count = open.entry(key).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            slots: self.clone(),
            key,
        })
    }
}

/// One caller's key: its IPv4 address, or the /64 of its IPv6 address (one host has them all).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

/// Gives the address's slot back when the connection ends.
struct AddressSlot {
    slots: Arc<AddressSlots>,
    key: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock();
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// What a connection has done lately: a count of what it did (bytes read, responses), and
/// whether a request is in flight. A count rather than a time: reading the clock on every
/// read and response was a measurable part of the token endpoint's profile, and the idle
/// check only needs to see that nothing happened between two of its ticks.
struct Activity {
    progress: AtomicU64,
    /// Responses and writes: while it moves, the connection is not waiting for a head.
    answered: AtomicU64,
    in_flight: AtomicUsize,
    /// The body of the request in flight missed its deadline (HTTP/1.1: one at a time).
    body_expired: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            progress: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            body_expired: AtomicBool::new(false),
        }
    }

    fn touch(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }

    fn answer(&self) {
        self.answered.fetch_add(1, Ordering::Relaxed);
    }

    fn busy(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.body_expired.store(false, Ordering::Relaxed);
        Busy(self.clone())
    }
}

/// The connection watcher's view of an `Activity`: since when nothing happened, and since
/// when nothing was answered while no request was in flight (the wait for a request head),
/// each to the precision of its ticks: from the first tick that saw the latest change.
struct Watched {
    seen: u64,
    quiet_since: Instant,
    answered: u64,
    waiting_since: Instant,
}

impl Watched {
    fn new(activity: &Activity) -> Self {
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
    fn look(&mut self, activity: &Activity) -> (Duration, Duration) {
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

struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.answer();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream that notes when bytes arrive and leave.
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
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

/// Who is at the other end of a connection.
#[derive(Clone)]
struct Peer {
    addr: SocketAddr,
    /// Set when the peer is a trusted proxy.
    proxy: Option<ThroughTrustedProxy>,
}

/// The TLS handshake, bounded like a request head, then the connection as on plain HTTP.
async fn serve_tls_connection(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: Peer,
    app: Router,
    limits: Arc<ConnectionLimits>,
    stop: watch::Receiver<bool>,
    held: (OwnedSemaphorePermit, AddressSlot),
) {
    match tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => serve_connection(tls, peer, app, limits, stop, held).await,
        Ok(Err(err)) => tracing::debug!(error = %err, "TLS handshake failed"),
        Err(_) => tracing::debug!("TLS handshake timed out"),
    }
}

/// One connection, HTTP/1.1 only: HTTP/2 streams would escape the head timeout (TLS with
/// ALPN can add HTTP/2 later, with limits of its own).
async fn serve_connection<S>(
    stream: S,
    peer: Peer,
    app: Router,
    limits: Arc<ConnectionLimits>,
    stop: watch::Receiver<bool>,
    _held: (OwnedSemaphorePermit, AddressSlot),
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        let body_timeout = limits.body_timeout;
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let busy = activity.busy();
            let app = app.clone();
            handle(app, request, peer.clone(), body_timeout, busy)
        })
    };
    // No hyper timer: its head timeout armed a timer per request (an allocation, the
    // timer wheel twice, a clock read), for a deadline the watcher below checks at its
    // ticks.
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    let mut connection = pin!(connection);
    // The shutdown signal and the timeouts are watched by a task of their own: as
    // branches of the select below they were polled again at every wake-up of the
    // connection, several per request, for nothing (see BENCHMARKS.md).
    let (close_tx, mut close) = mpsc::channel::<Close>(2);
    let watcher = tokio::spawn(watch_connection(activity, limits, stop, close_tx));
    let mut closing = false;
    let mut watched = true;
    loop {
        tokio::select! {
            biased;
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
                break;
            }
            // A graceful close waits for the request under way; one whose head is late
            // is no request, so the head's deadline still ends the connection after it.
            close = close.recv(), if watched => match close {
                Some(Close::Now) => {
                    tracing::debug!("request head not received in time");
                    break;
                }
                Some(Close::Gracefully) | None => {
                    watched = close.is_some();
                    if !closing {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            },
        }
    }
    watcher.abort();
}

/// How the watcher asks a connection to close.
enum Close {
    /// After the request in flight, if any (shutdown, idle).
    Gracefully,
    /// At once: no request is in flight and its head is late (a slow-loris client).
    Now,
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

async fn handle(
    mut app: Router,
    request: Request<Incoming>,
    peer: Peer,
    body_timeout: Duration,
    busy: Busy,
) -> Result<Response, Infallible> {
    let mut request = request.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            timeout: body_timeout,
            sleep: None,
            activity: busy.0.clone(),
        })
    });
    request.extensions_mut().insert(ConnectInfo(peer.addr));
    if let Some(proxy) = peer.proxy {
        request.extensions_mut().insert(proxy);
    }
    let response = app.call(request).await?;
    if busy.0.body_expired.load(Ordering::Relaxed) {
        return Ok(body_timed_out());
    }
    Ok(response)
}

/// 408 when the body did not arrive in time; the connection is not reused.
fn body_timed_out() -> Response {
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "El cuerpo de la solicitud no llegó a tiempo",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that must end within `timeout` of the first time it makes the server
/// wait: a body that came with its head (most do) never reads the clock.
struct DeadlineBody {
    inner: Incoming,
    timeout: Duration,
    /// Armed only once the body makes the server wait.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Where the miss is noted, for the 408.
    activity: Arc<Activity>,
}

#[derive(Debug, thiserror::Error)]
#[error("el cuerpo de la solicitud no llegó a tiempo")]
struct BodyDeadline;

impl hyper::body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.activity.body_expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyDeadline))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_callers_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        assert_eq!(address_key(mapped), "127.0.0.2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_cap_fits_the_open_files_limit() {
        assert_eq!(
            fitting_cap(1024, Some(1024)),
            1024 - RESERVED_FILES as usize
        );
        assert_eq!(fitting_cap(1024, Some(1_048_576)), 1024);
        assert_eq!(fitting_cap(1024, Some(10)), 1);
        assert_eq!(fitting_cap(1024, None), 1024);
    }

    #[test]
    fn an_address_gets_its_slots_back() {
        let slots = Arc::new(AddressSlots::new(2));
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        let first = slots.take(ip).unwrap();
        let _second = slots.take(ip).unwrap();
        assert!(slots.take(ip).is_none());
        assert!(slots.take("127.0.0.1".parse().unwrap()).is_some());
        drop(first);
        assert!(slots.take(ip).is_some());
    }
}
