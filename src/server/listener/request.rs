//! One request on a connection: handed to the router with who sent it, its body bounded in
//! time, and counted as finished or cancelled.

use super::Peer;
use super::activity::{BodyFate, Busy};
use crate::server::extract::OverTls;
use crate::server::problem::ApiError;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;
use tower::Service;

pub(super) async fn handle(
    mut app: Router,
    request: Request<Incoming>,
    peer: Peer,
    body_timeout: Duration,
    mut busy: Busy,
) -> Result<Response, Infallible> {
    let version = request.version();
    // HTTP/1.1 has one body in flight, whose fate its connection keeps; HTTP/2 has several,
    // each with its own.
    let fate = match version {
        Version::HTTP_2 => Arc::new(BodyFate::default()),
        _ => busy.connection_fate(),
    };
    let mut request = request.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            timeout: body_timeout,
            sleep: None,
            fate: fate.clone(),
        })
    });
    request.extensions_mut().insert(ConnectInfo(peer.addr));
    if let Some(proxy) = peer.proxy {
        request.extensions_mut().insert(proxy);
    }
    if peer.tls {
        request.extensions_mut().insert(OverTls);
    }
    let response = app.call(request).await?;
    // A body the client broke off (an HTTP/2 stream it reset) is a request it cancelled,
    // whatever the handler made of the error.
    if !fate.broken.load(Ordering::Relaxed) {
        busy.finish();
    }
    if fate.expired.load(Ordering::Relaxed) {
        return Ok(body_timed_out(version));
    }
    Ok(response)
}

/// 408 when the body did not arrive in time. On HTTP/1.1 the connection is not reused; an
/// HTTP/2 connection has no such header, and its other streams go on.
fn body_timed_out(version: Version) -> Response {
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "El cuerpo de la solicitud no llegó a tiempo",
    )
    .into_response();
    if version < Version::HTTP_2 {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// A request body that must end within `timeout` of the first time it makes the server
/// wait: a body that came with its head (most do) never reads the clock.
struct DeadlineBody {
    inner: Incoming,
    timeout: Duration,
    /// Armed only once the body makes the server wait.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Where a miss or a break is noted.
    fate: Arc<BodyFate>,
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
            if let Some(Err(_)) = &frame {
                this.fate.broken.store(true, Ordering::Relaxed);
            }
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.fate.expired.store(true, Ordering::Relaxed);
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
