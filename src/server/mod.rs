//! The HTTP API (axum): routes, extractors, problem+json errors and the OpenAPI document.
//! Who may do what is decided by `service`, never here.

pub mod data_dir;
pub mod extract;
pub mod instance;
pub mod openapi;
pub mod problem;
pub mod routes;

use crate::service::{Clock, Service, ServiceConfig, SystemClock, TokenKeys, Vault};
use crate::store::{SqliteStore, Store};
use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use problem::ApiError;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Largest request body: 64 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
}

pub fn router(state: AppState) -> Router {
    use routes::{account, consumers, groups, oauth, session, users};
    let api = Router::new()
        .route("/setup", get(session::setup_status).post(session::setup))
        .route("/session", post(session::login).delete(session::logout))
        .route("/me", get(session::me))
        .route("/me/password", put(session::change_password))
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
        .route("/permission-groups", get(groups::list).post(groups::create))
        .route(
            "/permission-groups/{id}",
            get(groups::get)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route("/consumers", get(consumers::list).post(consumers::create))
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
        .route("/modules/{module}/access", get(oauth::module_access))
        .route("/openapi.json", get(openapi::document));
    Router::new()
        .route("/healthz", get(session::healthz))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/introspect", post(oauth::introspect))
        .route("/oauth/revoke", post(oauth::revoke))
        .route(
            "/oauth/authorize",
            get(oauth::authorize_page).post(oauth::authorize_submit),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::metadata),
        )
        .route("/.well-known/jwks.json", get(oauth::jwks))
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Método no permitido en esta ruta",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Where the server keeps its data and where it listens.
#[derive(Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// A `sqlite:` URL; default: `consola.db` in the data directory.
    pub database_url: Option<String>,
    /// When the port is taken, listen on an ephemeral one instead (the embedded server).
    pub fallback_to_ephemeral_port: bool,
    pub service: ServiceConfig,
    /// The time source; tests pass a `ManualClock`.
    pub clock: Option<Arc<dyn Clock>>,
}

impl ServerConfig {
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> ServerConfig {
        ServerConfig {
            data_dir,
            listen,
            database_url: None,
            fallback_to_ephemeral_port: false,
            service: ServiceConfig::default(),
            clock: None,
        }
    }
}

/// How often the token counts aggregated in memory are written to the database.
const TOKEN_STATS_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);

/// A server running on a background task.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub service: Arc<Service>,
    store: Arc<SqliteStore>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    flusher: Option<JoinHandle<()>>,
    /// The data directory's lock (DESIGN §4), released last, once the database is closed.
    claim: Option<instance::Claim>,
}

impl RunningServer {
    /// The base URL, e.g. `http://127.0.0.1:8787`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, finishes requests in flight and closes the database.
    pub async fn shutdown(mut self) {
        self.stop().await;
    }

    /// The database (tests use it to prove a path reads none).
    pub fn store(&self) -> &Arc<SqliteStore> {
        &self.store
    }

    async fn stop(&mut self) {
        if let Some(claim) = &self.claim {
            claim.withdraw();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(flusher) = self.flusher.take() {
            flusher.abort();
            let _ = flusher.await;
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
    data_dir::ensure_private_dir(&config.data_dir)?;
    // Before the database is opened: a second server over it refuses and names the first.
    let claim = instance::Claim::take(&config.data_dir).await?;
    let key = data_dir::load_or_create_key(&config.data_dir.join("vault.key"))?;
    let store = Arc::new(match &config.database_url {
        Some(url) => SqliteStore::open_url(url)
            .await
            .with_context(|| "no se pudo abrir la base de datos".to_string())?,
        None => {
            let path = config.data_dir.join("consola.db");
            SqliteStore::open(&path)
                .await
                .with_context(|| format!("no se pudo abrir {}", path.display()))?
        }
    });
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
    let mut service_config = config.service.clone();
    if service_config.issuer.is_none() {
        service_config.issuer = Some(format!("http://{addr}"));
    }
    let token_key = data_dir::load_or_create_key(&config.data_dir.join("token.key"))?;
    let token_keys =
        TokenKeys::load_or_create(token_key, &config.data_dir.join("jwt-signing-keys.json"))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let service = Arc::new(
        Service::with_clock(
            store.clone() as Arc<dyn Store>,
            Vault::from_key(&key),
            service_config,
            config
                .clock
                .clone()
                .unwrap_or_else(|| Arc::new(SystemClock)),
        )
        .with_token_keys(token_keys),
    );
    service
        .load_token_state()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("no se pudo cargar el estado de los tokens")?;
    // Last of what can fail, before any task starts: the URL others attach to.
    claim
        .publish(&format!("http://{addr}"))
        .context("no se pudo registrar el servidor en el directorio de datos")?;
    let flusher = tokio::spawn({
        let service = service.clone();
        async move {
            let mut tick = tokio::time::interval(TOKEN_STATS_FLUSH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(err) = service.flush_token_stats().await {
                    tracing::warn!(error = %err, "token counts not saved; retrying later");
                }
            }
        }
    });
    let app = router(AppState {
        service: service.clone(),
    });
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        })
        .await
    });
    tracing::info!(%addr, "server listening");
    Ok(RunningServer {
        addr,
        service,
        store,
        shutdown: Some(tx),
        task: Some(task),
        flusher: Some(flusher),
        claim: Some(claim),
    })
}
