//! The HTTP API (axum): routes, extractors, problem+json errors and the OpenAPI document.
//! Who may do what is decided by `service`, never here.

pub mod data_dir;
pub mod extract;
pub mod front;
pub mod instance;
pub mod keys;
pub mod listener;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod problem;
pub mod proxy;
pub mod routes;
pub mod tls;

use crate::domain::system_secret::SystemSecret;
use crate::service::{Clock, Service, ServiceConfig, ServiceError, SystemClock};
use crate::store::{SqliteStore, Store};
use anyhow::Context;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{delete, get, post, put};
use problem::ApiError;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;

/// Largest request body: 64 KiB (see `extract::RawBody`).
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
}

pub fn router(state: AppState) -> Router {
    defended(all_routes(state))
}

fn all_routes(state: AppState) -> Router {
    use routes::{account, consumers, groups, oauth, registration, session, ssh_keys, users};
    let api = Router::new()
        .route("/setup", get(session::setup_status).post(session::setup))
        .route("/session", post(session::login).delete(session::logout))
        .route("/me", get(session::me))
        .route("/me/password", put(session::change_password))
        .route("/me/ssh-keys", get(ssh_keys::mine).post(ssh_keys::add))
        .route("/me/ssh-keys/{id}", delete(ssh_keys::remove))
        .route("/modules", get(session::modules))
        .route("/account", get(account::get).patch(account::rename))
        .route("/api-key", get(account::api_key))
        .route("/api-key/secret", get(account::api_key_secret))
        .route("/api-key/regenerate", post(account::regenerate_api_key))
        .route("/audit", get(account::audit))
        .route("/signing-keys", get(account::signing_keys))
        .route("/signing-keys/rotate", post(account::rotate_signing_key))
        .route("/dashboard", get(account::dashboard))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::get).patch(users::update).delete(users::delete),
        )
        .route("/users/{id}/ssh-keys", get(ssh_keys::of_user))
        .route(
            "/users/{id}/ssh-keys/{key_id}",
            delete(ssh_keys::remove_of_user),
        )
        .route("/permission-groups", get(groups::list).post(groups::create))
        .route(
            "/permission-groups/{id}",
            get(groups::get)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route("/consumers", get(consumers::list).post(consumers::create))
        .route("/consumers/pending", get(registration::pending))
        .route("/consumers/{id}/approve", post(registration::approve))
        .route("/consumers/{id}/reject", post(registration::reject))
        .route(
            "/client-registration",
            get(registration::settings).put(registration::set_settings),
        )
        .route(
            "/initial-access-tokens",
            get(registration::initial_tokens).post(registration::create_initial_token),
        )
        .route(
            "/initial-access-tokens/{id}",
            delete(registration::delete_initial_token),
        )
        .route(
            "/consumers/{id}",
            get(consumers::get)
                .patch(consumers::update)
                .delete(consumers::delete),
        )
        .route(
            "/consumers/{id}/rotate-secret",
            post(consumers::rotate_secret),
        )
        .merge(routes::resources::routes())
        .route("/modules/{module}/access", get(oauth::module_access))
        .route("/openapi.json", get(openapi::document))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            oauth::with_resource_metadata,
        ));
    Router::new()
        .route("/healthz", get(session::healthz))
        .route("/readyz", get(session::readyz))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/introspect", post(oauth::introspect))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/oauth/register", post(oauth::register))
        .route(
            "/oauth/register/{client_id}",
            get(oauth::registration_read)
                .put(oauth::registration_update)
                .delete(oauth::registration_delete),
        )
        .route(
            "/oauth/authorize",
            get(oauth::authorize_page).post(oauth::authorize_submit),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::metadata),
        )
        .route("/.well-known/jwks.json", get(oauth::jwks))
        .route(
            "/.well-known/oauth-protected-resource",
            get(oauth::protected_resource),
        )
        .route(
            "/.well-known/oauth-protected-resource/api/v1",
            get(oauth::protected_resource),
        )
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Método no permitido en esta ruta",
            )
        })
        .with_state(state)
}

/// What guards every route: the headers on every response, and a panic turned into a 500
/// problem+json (the connection survives it). The body limit is `RawBody`'s, the one way
/// every handler reads a body, so axum's `DefaultBodyLimit` (an extension and a layer more
/// on every request, for axum's own extractors) is not needed.
/// One stack, layered once: each `Router::layer` boxes every route again, and a request
/// paid for cloning and boxing each of those levels (see BENCHMARKS.md). Outermost first;
/// the request metrics and log lines (`observe`) only when something records them (a
/// metrics recorder is installed before the router is built).
fn defended(routes: Router) -> Router {
    let observe = observe::Observe::current();
    routes.layer(
        tower::ServiceBuilder::new()
            .option_layer(observe.any().then(|| observe::ObserveLayer::new(observe)))
            .map_response(with_defences)
            .layer(CatchPanicLayer::custom(problem::panic_response)),
    )
}

/// The headers on every response: no content sniffing, and no referrer leaves the server
/// (the authorization page's URL carries the request's parameters). One function rather
/// than a layer a header: each layer is a service and a future more on every request.
fn with_defences<B>(mut response: axum::http::Response<B>) -> axum::http::Response<B> {
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Where the server keeps its data and where it listens.
#[derive(Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// A `sqlite:` or `postgres://` URL; default: `consola.db` in the data directory.
    pub database_url: Option<String>,
    /// A cap on the database's size, in SQLite pages of 4 KiB; past it, writes fail as on a
    /// full disk. Tests use it to fill the database without a small filesystem.
    pub database_max_pages: Option<u32>,
    /// When the port is taken, listen on an ephemeral one instead (the embedded server).
    pub fallback_to_ephemeral_port: bool,
    pub service: ServiceConfig,
    /// The time source; tests pass a `ManualClock`.
    pub clock: Option<Arc<dyn Clock>>,
    /// Connection caps and timeouts.
    pub limits: listener::ConnectionLimits,
    /// HTTPS with this chain and key; plain HTTP without.
    pub tls: Option<tls::TlsFiles>,
    /// Plain HTTP on an address beyond loopback (TLS ends at a proxy in front).
    pub insecure_http: bool,
    /// Peers believed about the client's address (`Forwarded`, `X-Forwarded-For`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where Prometheus scrapes `/metrics`; no metrics without it.
    pub metrics_listen: Option<SocketAddr>,
    /// Open the front door of in-process front ends (the SSH console; see `front`).
    pub front_door: bool,
    /// The secret the keys kept in the database are sealed under; required with PostgreSQL,
    /// the same on every replica.
    pub system_secret: Option<SystemSecret>,
    /// The secret before a rotation: what it sealed still opens, and is sealed again under
    /// `system_secret`.
    pub previous_system_secret: Option<SystemSecret>,
}

impl ServerConfig {
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> ServerConfig {
        ServerConfig {
            data_dir,
            listen,
            database_url: None,
            database_max_pages: None,
            fallback_to_ephemeral_port: false,
            service: ServiceConfig::default(),
            clock: None,
            limits: listener::ConnectionLimits::default(),
            tls: None,
            insecure_http: false,
            trusted_proxies: Vec::new(),
            metrics_listen: None,
            front_door: false,
            system_secret: None,
            previous_system_secret: None,
        }
    }
}

/// How often the token counts aggregated in memory are written to the database.
const TOKEN_STATS_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);
/// Audit entries past their retention are pruned every this many flushes (an hour).
const AUDIT_PRUNE_EVERY_TICKS: u64 = 720;

/// A server running on a background task.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// `https` when serving TLS.
    scheme: &'static str,
    /// The chain and key in force, for a reload.
    certificates: Option<Arc<tls::Certificates>>,
    /// The Prometheus listener, with `--metrics-listen`.
    metrics: Option<metrics::MetricsServer>,
    pub service: Arc<Service>,
    store: Arc<dyn Store>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    flusher: Option<JoinHandle<()>>,
    /// Brings other replicas' changes into the service's memory (PostgreSQL).
    follower: Option<JoinHandle<()>>,
    /// The data directory's lock (DESIGN §4), released last, once the database is closed.
    claim: Option<instance::Claim>,
    /// The API for in-process front ends, when asked for.
    front: Option<Box<front::FrontDoor>>,
}

impl RunningServer {
    /// The base URL, e.g. `http://127.0.0.1:8787`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Reads the TLS files again (SIGHUP): new handshakes get the new chain, connections
    /// already open keep theirs. Without TLS there is nothing to do.
    pub fn reload_tls(&self) -> Result<(), tls::TlsError> {
        match &self.certificates {
            Some(certificates) => certificates.reload(),
            None => Ok(()),
        }
    }

    /// Stops accepting, finishes requests in flight and closes the database.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    /// Where `/metrics` is served, with `--metrics-listen`.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.addr)
    }

    /// The API for in-process front ends (the SSH console), with `front_door`.
    pub fn front_door(&self) -> Option<&front::FrontDoor> {
        self.front.as_deref()
    }

    /// The database (tests use it to prove a path reads none).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    async fn stop(&mut self) {
        if let Some(claim) = &self.claim {
            claim.withdraw();
        }
        if let Some(front) = self.front.as_mut() {
            front.close().await;
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        for task in [self.flusher.take(), self.follower.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
            let _ = task.await;
        }
        if let Some(metrics) = self.metrics.take() {
            metrics.shutdown().await;
        }
        if let Err(err) = self.service.flush_token_stats().await {
            tracing::warn!(error = %err, "token counts could not be saved at shutdown");
        }
        self.store.close().await;
        self.claim.take();
    }

    /// Waits until the server stops by itself (it only does on an I/O error).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        if let Some(task) = self.task.take() {
            task.await.context("server task")??;
        }
        Ok(())
    }
}

/// Opens the data directory and database, and starts serving.
pub async fn start(config: ServerConfig) -> anyhow::Result<RunningServer> {
    // What can be refused from the options alone is refused before anything is created.
    refuse_plain_http_beyond_loopback(&config)?;
    refuse_postgres_without_system_secret(&config)?;
    let certificates = match &config.tls {
        Some(files) => Some(tls::Certificates::load(files.clone())?),
        None => None,
    };
    let scheme = if certificates.is_some() {
        "https"
    } else {
        "http"
    };
    data_dir::ensure_private_dir(&config.data_dir)?;
    // Before the database is opened: a second server over it refuses and names the first.
    let claim = instance::Claim::take(&config.data_dir).await?;
    let store: Arc<dyn Store> = match &config.database_url {
        Some(url) => crate::store::open_url(url, config.database_max_pages)
            .await
            .with_context(|| "no se pudo abrir la base de datos".to_string())?,
        None => {
            let path = config.data_dir.join("consola.db");
            Arc::new(
                SqliteStore::open(&path, config.database_max_pages)
                    .await
                    .with_context(|| format!("no se pudo abrir {}", path.display()))?,
            )
        }
    };
    let listener = match TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(err) if config.fallback_to_ephemeral_port => {
            tracing::info!(error = %err, listen = %config.listen, "port taken; using an ephemeral one");
            TcpListener::bind(SocketAddr::new(config.listen.ip(), 0)).await?
        }
        Err(err) => {
            return Err(err).with_context(|| format!("no se pudo escuchar en {}", config.listen));
        }
    };
    let addr = listener.local_addr()?;
    // Before the router: the request layer is only added when something records.
    let metrics = match config.metrics_listen {
        Some(addr) => Some(metrics::MetricsServer::start(addr).await?),
        None => None,
    };
    let mut service_config = config.service.clone();
    if service_config.issuer.is_none() {
        let issuer = format!("{scheme}://{addr}");
        if config
            .database_url
            .as_deref()
            .is_some_and(crate::store::is_postgres_url)
        {
            // Served anyway: one server on PostgreSQL is a deployment too.
            tracing::warn!(
                issuer = %issuer,
                "sin --public-url, el emisor de los tokens es la dirección de escucha de esta \
                 réplica: las réplicas sobre la misma base de datos necesitan la misma \
                 --public-url, o cada una rechaza los tokens de las otras"
            );
        }
        service_config.issuer = Some(issuer);
    }
    let keys = match &config.system_secret {
        Some(secret) => {
            keys::of_database(
                store.clone(),
                &config.data_dir,
                secret,
                config.previous_system_secret.as_ref(),
            )
            .await?
        }
        None => keys::of_files(&config.data_dir)?,
    };
    let fetcher = crate::service::fetch::Fetcher::new(service_config.client_documents.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("--client-metadata-allow / --client-metadata-ca")?;
    let mut service = Service::with_clock(
        store.clone(),
        keys.vault,
        service_config,
        config
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock)),
    )
    .with_token_keys(keys.token_keys)
    .with_fetcher(fetcher);
    if let Some(sealed) = keys.sealed {
        service = service.with_sealed_keys(sealed);
    }
    let service = Arc::new(service);
    service
        .load_token_state()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("no se pudo cargar el estado de los tokens")?;
    service
        .load_resources()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("no se pudo cargar la lista de recursos protegidos")?;
    // After the first load: the feed starts with a full reload of its own, once it listens.
    let follower = store
        .follow_changes()
        .await
        .map(|feed| tokio::spawn(service.clone().follow_changes(feed)));
    // Last of what can fail, before any task starts: the URL others attach to.
    claim
        .publish(&format!("{scheme}://{addr}"))
        .context("no se pudo registrar el servidor en el directorio de datos")?;
    let flusher = tokio::spawn({
        let service = service.clone();
        async move {
            let mut tick = tokio::time::interval(TOKEN_STATS_FLUSH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut ticks: u64 = 0;
            loop {
                tick.tick().await;
                match service.flush_token_stats().await {
                    // The store logs a storage fault once, when it starts; the counts wait.
                    Ok(()) | Err(ServiceError::Unavailable(_)) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "token counts not saved; retrying later")
                    }
                }
                // Audit retention: at start, then hourly; in small batches (see prune_audit).
                // A batch is one transaction: a prune that fails half-way keeps what it
                // deleted, and the rest goes next time.
                if ticks.is_multiple_of(AUDIT_PRUNE_EVERY_TICKS) {
                    match service.prune_audit().await {
                        Ok(_) | Err(ServiceError::Unavailable(_)) => {}
                        Err(err) => tracing::warn!(
                            error = %err,
                            "old audit entries not pruned; retrying later"
                        ),
                    }
                }
                ticks += 1;
            }
        }
    });
    let app = router(AppState {
        service: service.clone(),
    });
    let front = if config.front_door {
        Some(Box::new(front::FrontDoor::open(app.clone()).await?))
    } else {
        None
    };
    let mut limits = config.limits.clone();
    limits.max_connections =
        listener::fitting_cap(limits.max_connections, listener::raise_open_files_limit());
    let (tx, rx) = oneshot::channel::<()>();
    let transport = listener::Transport {
        tls: match &certificates {
            Some(certificates) => Some(certificates.acceptor()?),
            None => None,
        },
        trusted_proxies: Arc::new(proxy::TrustedProxies::new(config.trusted_proxies.clone())),
    };
    let task = tokio::spawn(listener::serve_with(
        listener,
        app,
        limits,
        transport,
        async {
            let _ = rx.await;
        },
    ));
    tracing::info!(%addr, "server listening");
    Ok(RunningServer {
        addr,
        scheme,
        certificates,
        metrics,
        service,
        store,
        shutdown: Some(tx),
        task: Some(task),
        flusher: Some(flusher),
        follower,
        claim: Some(claim),
        front,
    })
}

/// RFC 6749 requires TLS for the token endpoint: beyond loopback, plain HTTP only when the
/// admin says a proxy in front ends TLS.
fn refuse_plain_http_beyond_loopback(config: &ServerConfig) -> anyhow::Result<()> {
    if config.tls.is_none() && !config.insecure_http && !config.listen.ip().is_loopback() {
        anyhow::bail!(
            "no se sirve HTTP sin cifrar en {} (fuera de loopback): use --tls-cert y --tls-key \
             para HTTPS, o --insecure-http si un proxy delante termina TLS",
            config.listen
        );
    }
    Ok(())
}

/// Replicas over PostgreSQL share their keys through the database, sealed under the system
/// secret: without it there is nothing to seal them with. Refused before the database is
/// touched.
fn refuse_postgres_without_system_secret(config: &ServerConfig) -> anyhow::Result<()> {
    let postgres = config
        .database_url
        .as_deref()
        .is_some_and(crate::store::is_postgres_url);
    if postgres && config.system_secret.is_none() {
        anyhow::bail!(
            "con PostgreSQL (--database postgres://…) serve necesita el secreto del sistema, \
             el mismo en cada réplica: --system-secret-file RUTA o la variable \
             CONSOLA_SYSTEM_SECRET (al menos {} bytes)",
            crate::domain::system_secret::MIN_SYSTEM_SECRET_LEN
        );
    }
    if config.previous_system_secret.is_some() && config.system_secret.is_none() {
        anyhow::bail!(
            "--previous-system-secret-file (o CONSOLA_PREVIOUS_SYSTEM_SECRET) necesita el \
             secreto actual: --system-secret-file RUTA o CONSOLA_SYSTEM_SECRET"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::Service;

    #[tokio::test]
    async fn a_panicking_handler_gets_a_500_problem() {
        let mut app = defended(Router::new().route(
            "/boom",
            get(|| async {
                let missing: Option<&str> = std::hint::black_box(None);
                missing.expect("a handler bug")
            }),
        ));
        let request = Request::get("/boom").body(Body::empty()).unwrap();
        let response = app.call(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["type"], "urn:consola:internal");
        assert!(!problem.to_string().contains("a handler bug"));
    }
}
