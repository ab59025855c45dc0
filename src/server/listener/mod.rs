//! The accept loop: every connection is bounded in number (globally and per address) and
//! in time (request head, request body, idle keep-alive), so that slow or idle clients
//! cannot hold the server for everyone else. It serves any byte stream, so a TLS acceptor
//! can wrap the TCP stream here before `serve_connection`; over TLS a client may choose
//! HTTP/2 by ALPN, with the same bounds.
//!
//! - `slots`: the caps on open connections;
//! - `connection`: one connection, driven by hyper and closed by its watcher;
//! - `activity`: what a connection has done lately, counted for the watcher;
//! - `request`: one request, its body bounded in time.

mod activity;
mod connection;
mod request;
mod slots;

pub use connection::MAX_HEAD_BYTES;

use super::extract::ThroughTrustedProxy;
use super::proxy::TrustedProxies;
use axum::Router;
use connection::{Protocol, serve_connection};
use slots::{AddressSlot, AddressSlots, refuse};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

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
    /// HTTP/2 streams open at once on one connection.
    pub max_streams_per_connection: u32,
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
            max_streams_per_connection: 100,
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
                let peer = Peer {
                    addr: peer,
                    proxy,
                    tls: transport.tls.is_some(),
                };
                let held = (permit, slot);
                match transport.tls.clone() {
                    None => {
                        connections.spawn(serve_connection(
                            stream,
                            Protocol::Http1,
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

/// Who is at the other end of a connection.
#[derive(Clone)]
pub(super) struct Peer {
    pub(super) addr: SocketAddr,
    /// Set when the peer is a trusted proxy.
    pub(super) proxy: Option<ThroughTrustedProxy>,
    /// Set on TLS connections: their requests came over HTTPS.
    pub(super) tls: bool,
}

/// The TLS handshake, bounded like a request head, then the connection in the protocol the
/// handshake chose: HTTP/2 if the client offered it by ALPN, else HTTP/1.1.
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
        Ok(Ok(tls)) => {
            let protocol = match tls.get_ref().1.alpn_protocol() {
                Some(b"h2") => Protocol::Http2,
                _ => Protocol::Http1,
            };
            serve_connection(tls, protocol, peer, app, limits, stop, held).await
        }
        Ok(Err(err)) => tracing::debug!(error = %err, "TLS handshake failed"),
        Err(_) => tracing::debug!("TLS handshake timed out"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
