//! What every request leaves behind: its metrics (with `--metrics-listen`) and one log line
//! at `info` (target `consola::request`). Both name the route template (`/api/v1/users/{id}`),
//! never the raw path, and neither ever holds a body, a header value or a query string: that
//! is where tokens and secrets travel.
//!
//! A tower layer rather than `axum::middleware::from_fn`: that one boxes a future and clones
//! the route's boxed service on every request, which cost the token endpoint more than the
//! recording itself (see BENCHMARKS.md).

use super::extract::client_address;
use super::metrics::RouteMetrics;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};

/// The log line's target: `RUST_LOG=consola::request=off` silences the request lines alone.
pub const REQUEST_TARGET: &str = "consola::request";

/// What to record; the layer is left out altogether when neither is wanted.
#[derive(Debug, Clone, Copy)]
pub struct Observe {
    pub metrics: bool,
    pub log: bool,
}

impl Observe {
    /// From the process's state: a metrics recorder installed, request lines enabled.
    pub fn current() -> Observe {
        Observe {
            metrics: super::metrics::installed(),
            log: tracing::enabled!(target: REQUEST_TARGET, tracing::Level::INFO),
        }
    }

    pub fn any(self) -> bool {
        self.metrics || self.log
    }
}

/// Records every request of the routes it wraps (`Router::layer`, outside the panic
/// catcher, so that a panic is recorded as the 500 it becomes).
#[derive(Debug, Clone, Copy)]
pub struct ObserveLayer(Observe);

impl ObserveLayer {
    pub fn new(observe: Observe) -> ObserveLayer {
        ObserveLayer(observe)
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observed<S>;

    fn layer(&self, inner: S) -> Observed<S> {
        Observed {
            inner,
            observe: self.0,
            // `Router::layer` wraps each route's endpoint on its own: this route's metric
            // handles are found once and shared by every clone of it.
            metrics: Arc::new(RouteMetrics::default()),
        }
    }
}

/// One route's endpoint, observed.
#[derive(Clone)]
pub struct Observed<S> {
    inner: S,
    observe: Observe,
    metrics: Arc<RouteMetrics>,
}

/// What a request's record needs once its response is ready.
struct Pending {
    started: Instant,
    route: Option<MatchedPath>,
    metrics: Option<Arc<RouteMetrics>>,
    /// For the log line only.
    line: Option<(Method, IpAddr)>,
}

impl<S, B> Service<Request> for Observed<S>
where
    S: Service<Request, Response = http::Response<B>>,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = ObservedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let pending = Pending {
            started: Instant::now(),
            route: request.extensions().get::<MatchedPath>().cloned(),
            metrics: self.observe.metrics.then(|| self.metrics.clone()),
            line: self.observe.log.then(|| {
                let client = client_address(request.extensions(), request.headers()).0;
                (request.method().clone(), client)
            }),
        };
        ObservedFuture {
            inner: self.inner.call(request),
            pending: Some(pending),
        }
    }
}

pin_project_lite::pin_project! {
    /// The route's future; records when it is ready.
    pub struct ObservedFuture<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
    }
}

impl<F, B, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Poll::Ready(result) = this.inner.poll(cx) else {
            return Poll::Pending;
        };
        // The routes never fail (their error is `Infallible`): only answers are recorded.
        if let (Ok(response), Some(pending)) = (&result, this.pending.take()) {
            record(pending, response.status().as_u16());
        }
        Poll::Ready(result)
    }
}

fn record(pending: Pending, status: u16) {
    let elapsed = pending.started.elapsed();
    // Unmatched paths share one label: a scan of random paths must not grow the metrics.
    let route = pending
        .route
        .as_ref()
        .map_or("unmatched", MatchedPath::as_str);
    if let Some(metrics) = pending.metrics {
        metrics.record(route, status, elapsed);
    }
    if let Some((method, client)) = pending.line {
        tracing::info!(
            target: REQUEST_TARGET,
            method = %method,
            route,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            client = %client,
            "request"
        );
    }
}
