//! Prometheus metrics (`--metrics-listen ADDR`): text format at `/metrics`, on a listener of
//! its own so that it is never public by accident with the API.
//!
//! Recording goes through the `metrics` facade, one recorder per process: the service counts
//! tokens where it issues them without knowing about Prometheus, and without a recorder
//! (no `--metrics-listen`) every record is a no-op.

use super::listener;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const HTTP_REQUESTS: &str = "consola_http_requests_total";
pub const HTTP_DURATION: &str = "consola_http_request_duration_seconds";

/// Request durations, in seconds: the token endpoint answers in well under a millisecond,
/// a password check takes tens of them.
const DURATION_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The exporter keeps every histogram sample until something drains it: a scrape, or this
/// upkeep. Without it a server that nobody scrapes grows by 16 bytes per request.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether a recorder is installed in this process (then requests are measured).
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// The process's recorder, installed on first use.
fn recorder() -> anyhow::Result<PrometheusHandle> {
    let mut slot = RECORDER.lock();
    if let Some(handle) = slot.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &DURATION_BUCKETS)?
        .install_recorder()?;
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template and status"
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request"
    );
    crate::service::counters::describe();
    crate::service::counters::start_recording();
    metrics_process::Collector::default().describe();
    INSTALLED.store(true, Ordering::Relaxed);
    *slot = Some(handle.clone());
    Ok(handle)
}

/// The handles of one route template: its duration histogram, and its counter per status.
struct RouteHandles {
    route: String,
    duration: metrics::Histogram,
    /// Few: the statuses the API answers on one route.
    by_status: RwLock<Vec<(u16, metrics::Counter)>>,
}

impl RouteHandles {
    fn new(route: &str) -> RouteHandles {
        RouteHandles {
            route: route.to_owned(),
            duration: metrics::histogram!(HTTP_DURATION, "route" => route.to_owned()),
            by_status: RwLock::new(Vec::new()),
        }
    }

    fn record(&self, status: u16, seconds: f64) {
        self.duration.record(seconds);
        {
            let by_status = self.by_status.read();
            if let Some((_, counter)) = by_status.iter().find(|(s, _)| *s == status) {
                counter.increment(1);
                return;
            }
        }
        let mut by_status = self.by_status.write();
        if let Some((_, counter)) = by_status.iter().find(|(s, _)| *s == status) {
            counter.increment(1);
            return;
        }
        let counter = metrics::counter!(
            HTTP_REQUESTS,
            "route" => self.route.clone(),
            "status" => status.to_string()
        );
        counter.increment(1);
        by_status.push((status, counter));
    }
}

/// Every route's handles, registered once per route template: a request records without
/// building label strings or looking its key up in the recorder's registry. Bounded:
/// routes are the router's templates (and "unmatched").
static HANDLES: LazyLock<RwLock<HashMap<String, Arc<RouteHandles>>>> =
    LazyLock::new(Default::default);

fn handles_of(route: &str) -> Arc<RouteHandles> {
    if let Some(found) = HANDLES.read().get(route) {
        return found.clone();
    }
    HANDLES
        .write()
        .entry(route.to_owned())
        .or_insert_with(|| Arc::new(RouteHandles::new(route)))
        .clone()
}

/// The metrics of the requests that one route's endpoint answers (see `observe`). The
/// endpoint's route template does not change, so its handles are looked up on its first
/// request and kept; another template (a fallback's "unmatched") goes to the shared map.
#[derive(Default)]
pub struct RouteMetrics {
    handles: OnceLock<Arc<RouteHandles>>,
}

impl RouteMetrics {
    /// One answered request.
    pub fn record(&self, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let handles = self.handles.get_or_init(|| handles_of(route));
        if handles.route == route {
            handles.record(status, seconds);
        } else {
            handles_of(route).record(status, seconds);
        }
    }
}

/// The metrics listener, running on a background task.
pub struct MetricsServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    /// Drains the histograms' samples into their buckets between scrapes.
    upkeep: JoinHandle<()>,
}

impl MetricsServer {
    /// Installs the recorder (once per process) and listens on `addr`.
    pub async fn start(addr: SocketAddr) -> anyhow::Result<MetricsServer> {
        use anyhow::Context;
        let handle = recorder()?;
        let upkeep_handle = handle.clone();
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("no se pudo escuchar las métricas en {addr}"))?;
        let addr = listener.local_addr()?;
        let app = Router::new().route(
            "/metrics",
            get(move || {
                let handle = handle.clone();
                async move {
                    metrics_process::Collector::default().collect();
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                        )],
                        handle.render(),
                    )
                        .into_response()
                }
            }),
        );
        let limits = listener::ConnectionLimits {
            max_connections: 16,
            max_per_address: 8,
            ..listener::ConnectionLimits::default()
        };
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(listener::serve(listener, app, limits, async {
            let _ = rx.await;
        }));
        let upkeep = tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                upkeep_handle.run_upkeep();
            }
        });
        tracing::info!(%addr, "metrics listening");
        Ok(MetricsServer {
            addr,
            shutdown: Some(tx),
            task: Some(task),
            upkeep,
        })
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.upkeep.abort();
    }
}
