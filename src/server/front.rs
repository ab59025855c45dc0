//! The front door of the server's own front ends (the SSH console, DESIGN §7): the same
//! API on a listener of its own, plain HTTP on an ephemeral loopback port, so that each SSH
//! session talks to this process over the same typed client as every console.
//!
//! A request that carries the door's secret (made at start, kept in memory only) is
//! believed about the person's address in `Forwarded`: throttles, the audit log and the
//! first-run check then see the SSH client, not loopback. Any other request on this port is
//! an ordinary loopback caller.

use super::extract::ThroughTrustedProxy;
use super::{listener, proxy};
use crate::domain::front_door::FRONT_SECRET_HEADER;
use crate::domain::secret::SecretText;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The open door: where it is, the secret that vouches for an address, and its task.
pub struct FrontDoor {
    pub url: String,
    pub secret: SecretText,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl FrontDoor {
    /// Serves `app` on 127.0.0.1, an ephemeral port.
    pub async fn open(app: Router) -> std::io::Result<FrontDoor> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let secret = SecretText::new(hex::encode(rand::random::<[u8; 32]>()));
        let app = app.layer(axum::middleware::from_fn_with_state(
            Arc::new(secret.clone()),
            vouch,
        ));
        let loopback = ["127.0.0.0/8", "::1/128"]
            .iter()
            .filter_map(|net| proxy::parse_cidr(net).ok())
            .collect();
        let transport = listener::Transport {
            tls: None,
            trusted_proxies: Arc::new(proxy::TrustedProxies::new(loopback)),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(listener::serve_with(
            listener,
            app,
            listener::ConnectionLimits::default(),
            transport,
            async {
                let _ = stopped.await;
            },
        ));
        Ok(FrontDoor {
            url,
            secret,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Stops serving, after the requests in flight.
    pub async fn close(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Believes `Forwarded` only on a request that carries the secret; the secret itself goes
/// no further than this layer.
async fn vouch(
    State(secret): State<Arc<SecretText>>,
    mut request: Request,
    next: Next,
) -> Response {
    let vouched = request
        .headers()
        .get(FRONT_SECRET_HEADER)
        .is_some_and(|given| bool::from(given.as_bytes().ct_eq(secret.expose().as_bytes())));
    request.headers_mut().remove(FRONT_SECRET_HEADER);
    if !vouched {
        request.extensions_mut().remove::<ThroughTrustedProxy>();
    }
    next.run(request).await
}
