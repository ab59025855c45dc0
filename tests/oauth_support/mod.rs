//! Shared setup of the OAuth tests: a real server on 127.0.0.1:0 over a temporary data
//! directory, its Súper Administrador signed in, and helpers to make groups and consumers.
#![allow(dead_code)]

use consola::client::{Client, ClientError};
use consola::domain::secret::SecretText;
use consola::domain::*;
use consola::server::{self, RunningServer, ServerConfig};
use consola::service::{Clock, ManualClock, ServiceConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "contraseña-larga-1";

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub server: RunningServer,
    /// Signed in as the Súper Administrador.
    pub admin: Client,
    /// Signed out.
    pub anon: Client,
}

pub async fn start() -> Harness {
    start_with(ServiceConfig::default()).await
}

pub async fn start_with(service: ServiceConfig) -> Harness {
    start_over(service, None).await
}

/// A server whose service reads the time from `clock`, which the test moves by hand: a
/// lifetime or a grace window is then checked at its edge, not by sleeping through it.
pub async fn start_with_clock(service: ServiceConfig, clock: Arc<ManualClock>) -> Harness {
    start_over(service, Some(clock)).await
}

async fn start_over(service: ServiceConfig, clock: Option<Arc<ManualClock>>) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server_clocked(&dir, service, clock).await;
    let anon = Client::new(&server.url()).expect("client");
    anon.setup(
        &SetupRequest {
            account_name: "FRACTTAL - Activación".into(),
            username: "ana".into(),
            display_name: "Ana".into(),
            password: PASSWORD.into(),
        },
        None,
    )
    .await
    .expect("setup");
    let login = anon.login("ana", PASSWORD).await.expect("login");
    let admin = anon.with_token(login.token);
    Harness {
        dir,
        server,
        admin,
        anon,
    }
}

pub async fn start_server(dir: &tempfile::TempDir, service: ServiceConfig) -> RunningServer {
    start_server_clocked(dir, service, None).await
}

async fn start_server_clocked(
    dir: &tempfile::TempDir,
    service: ServiceConfig,
    clock: Option<Arc<ManualClock>>,
) -> RunningServer {
    let listen = "127.0.0.1:0".parse().expect("addr");
    start_server_with(dir, service, listen, clock).await
}

pub async fn start_server_on(
    dir: &tempfile::TempDir,
    service: ServiceConfig,
    listen: std::net::SocketAddr,
) -> RunningServer {
    start_server_with(dir, service, listen, None).await
}

async fn start_server_with(
    dir: &tempfile::TempDir,
    service: ServiceConfig,
    listen: std::net::SocketAddr,
    clock: Option<Arc<ManualClock>>,
) -> RunningServer {
    let mut config = ServerConfig::new(dir.path().to_path_buf(), listen);
    config.clock = clock.map(|c| c as Arc<dyn Clock>);
    config.database_url = crate::common::database::url_for(dir.path());
    config.system_secret =
        crate::common::database::system_secret_for(config.database_url.as_deref());
    config.service = service;
    server::start(config).await.expect("server starts")
}

impl Harness {
    /// Stops the server and starts it again on the same data directory and address (the
    /// issuer, and so the tokens' `iss`, stays the same).
    pub async fn restart(self, service: ServiceConfig) -> Harness {
        let Harness { dir, server, .. } = self;
        let addr = server.addr;
        server.shutdown().await;
        let server = start_server_on(&dir, service, addr).await;
        let anon = Client::new(&server.url()).expect("client");
        let login = anon.login("ana", PASSWORD).await.expect("login");
        let admin = anon.with_token(login.token);
        Harness {
            dir,
            server,
            admin,
            anon,
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub async fn group(&self, name: &str, permissions: &[(&str, &[Action])]) -> PermissionGroup {
        self.admin
            .create_permission_group(&NewPermissionGroup {
                name: name.into(),
                description: String::new(),
                read_only: false,
                permissions: permissions
                    .iter()
                    .map(|(module, actions)| ModulePermission {
                        module: module.to_string(),
                        actions: actions.to_vec(),
                    })
                    .collect(),
            })
            .await
            .expect("group created")
    }

    pub async fn consumer(
        &self,
        name: &str,
        group: &PermissionGroup,
        grant_type: GrantType,
        token_format: TokenFormat,
    ) -> CreatedConsumer {
        let redirect_uris = match grant_type {
            GrantType::AuthorizationCode => vec!["http://127.0.0.1:9/callback".to_string()],
            GrantType::ClientCredentials => vec![],
        };
        self.consumer_with(NewConsumer {
            name: name.into(),
            description: String::new(),
            grant_type,
            permission_group_id: group.id,
            hub_enabled: false,
            redirect_uris,
            token_format,
            access_token_alg: AccessTokenAlg::default(),
            auth_method: Default::default(),
            jwks: None,
            jwks_uri: None,
            require_dpop: false,
        })
        .await
    }

    pub async fn consumer_with(&self, new: NewConsumer) -> CreatedConsumer {
        self.admin
            .create_consumer(&new)
            .await
            .expect("consumer created")
    }

    /// A group with reports:view+report and assets:view, and a client-credentials consumer.
    pub async fn reports_consumer(&self, format: TokenFormat) -> CreatedConsumer {
        let group = self
            .group(
                &format!("Grupo {}", consola::domain::secret::generate_client_id()),
                &[
                    ("reports", &[Action::View, Action::Report]),
                    ("assets", &[Action::View]),
                ],
            )
            .await;
        self.consumer(
            &format!("ERP {}", consola::domain::secret::generate_client_id()),
            &group,
            GrantType::ClientCredentials,
            format,
        )
        .await
    }
}

impl Harness {
    /// A client_credentials token for `c`, with all its group's scopes.
    pub async fn token(&self, c: &CreatedConsumer) -> consola::domain::oauth::TokenResponse {
        let (id, secret) = creds(c);
        self.anon
            .token_client_credentials(id, secret, None)
            .await
            .expect("token")
    }
}

pub fn creds(c: &CreatedConsumer) -> (&str, &SecretText) {
    (
        c.consumer.client_id.as_str(),
        c.client_secret.as_ref().expect("a secret"),
    )
}

/// The OAuth error code of a failed call.
pub fn code(err: &ClientError) -> Option<&str> {
    err.problem().and_then(|p| p.code())
}

/// Retries `check` until it holds or the deadline passes; never a fixed sleep.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A fresh PKCE code verifier (RFC 7636 §4.1: 43 to 128 unreserved characters).
pub fn verifier() -> String {
    format!("v{}", consola::domain::secret::generate_client_id()).repeat(2)
}

/// A raw HTTP client that does not follow redirects.
pub fn raw() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest")
}
