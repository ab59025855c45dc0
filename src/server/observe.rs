//! What every request leaves behind: its metrics (with `--metrics-listen`) and one log line
//! at `info` (target `consola::request`). Both name the route template (`/api/v1/users/{id}`),
//! never the raw path, and neither ever holds a body, a header value or a query string: that
//! is where tokens and secrets travel.

use super::extract::client_address;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

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

pub async fn requests(State(observe): State<Observe>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = request.method().clone();
    let client = observe
        .log
        .then(|| client_address(request.extensions(), request.headers()).0);
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    // Unmatched paths share one label: a scan of random paths must not grow the metrics.
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let status = response.status().as_u16();
    if observe.metrics {
        super::metrics::http_request(route, status, elapsed);
    }
    if let Some(client) = client {
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
    response
}
