//! A real server on 127.0.0.1:0 over a temporary data directory, and signed-in clients.
//! With `CONSOLA_TEST_POSTGRES` set, each data directory's server uses a fresh PostgreSQL
//! database instead of SQLite (see `database`).
#![allow(dead_code)]

pub mod database;
pub mod hop;
pub mod tools;

use chrono::Utc;
use consola::client::Client;
use consola::domain::*;
use consola::server::{RunningServer, ServerConfig};
use consola::service::ManualClock;
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;

pub const PASSWORD: &str = "contraseña segura";

pub struct TestServer {
    pub dir: TempDir,
    pub server: RunningServer,
    pub anonymous: Client,
    pub clock: Arc<ManualClock>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir).await
    }

    pub async fn start_in(dir: TempDir) -> TestServer {
        let database = database::url_for(&dir.path().join("data"));
        Self::start_over(dir, database).await
    }

    /// On SQLite whatever `CONSOLA_TEST_POSTGRES` says, for tests about SQLite's own files.
    pub async fn start_on_sqlite() -> TestServer {
        Self::start_over(tempfile::tempdir().expect("temp dir"), None).await
    }

    async fn start_over(dir: TempDir, database: Option<String>) -> TestServer {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let server =
            start_server_over(dir.path().join("data"), database, Some(clock.clone())).await;
        let anonymous = Client::new(&server.url()).expect("client");
        TestServer {
            dir,
            server,
            anonymous,
            clock,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Sets up the account; returns the Súper Administrador's client.
    pub async fn setup(&self) -> Client {
        self.anonymous
            .setup(
                &SetupRequest {
                    account_name: "FRACTTAL - Activación".into(),
                    username: "superadmin".into(),
                    display_name: "Sara Súper".into(),
                    password: PASSWORD.into(),
                },
                None,
            )
            .await
            .expect("setup");
        self.login("superadmin").await
    }

    pub async fn login(&self, username: &str) -> Client {
        let answer = self
            .anonymous
            .login(username, PASSWORD)
            .await
            .expect("login");
        self.anonymous.with_token(answer.token)
    }

    /// Creates a user with that role (through the super admin) and signs it in.
    pub async fn user(&self, super_admin: &Client, username: &str, role: Role) -> Client {
        super_admin
            .create_user(&NewUser {
                username: username.into(),
                display_name: format!("Usuario {username}"),
                password: PASSWORD.into(),
                role,
            })
            .await
            .expect("create user");
        self.login(username).await
    }
}

/// A server over `data_dir` and its database (see `database`).
pub async fn start_server(data_dir: PathBuf, clock: Option<Arc<ManualClock>>) -> RunningServer {
    let database = database::url_for(&data_dir);
    start_server_over(data_dir, database, clock).await
}

/// A server over `data_dir` and the database `database` (a `sqlite:` or `postgres://` URL)
/// that other servers share: a replica.
pub async fn start_replica(
    data_dir: PathBuf,
    database: &str,
    clock: Option<Arc<ManualClock>>,
) -> RunningServer {
    start_server_over(data_dir, Some(database.to_string()), clock).await
}

async fn start_server_over(
    data_dir: PathBuf,
    database: Option<String>,
    clock: Option<Arc<ManualClock>>,
) -> RunningServer {
    let mut config = ServerConfig::new(data_dir, "127.0.0.1:0".parse().expect("addr"));
    config.system_secret = database::system_secret_for(database.as_deref());
    config.database_url = database;
    config.clock = clock.map(|c| c as Arc<dyn consola::service::Clock>);
    consola::server::start(config).await.expect("server starts")
}

pub async fn group(client: &Client, name: &str, module: &str) -> PermissionGroup {
    client
        .create_permission_group(&NewPermissionGroup {
            name: name.into(),
            description: format!("Grupo {name}"),
            read_only: false,
            permissions: vec![ModulePermission {
                module: module.into(),
                actions: vec![Action::View, Action::Report],
            }],
        })
        .await
        .expect("create group")
}

pub fn new_consumer(name: &str, group: uuid::Uuid) -> NewConsumer {
    NewConsumer {
        name: name.into(),
        description: "Integración de prueba".into(),
        grant_type: GrantType::ClientCredentials,
        permission_group_id: group,
        hub_enabled: false,
        redirect_uris: vec![],
        token_format: TokenFormat::Opaque,
        access_token_alg: Default::default(),
        auth_method: Default::default(),
        jwks: None,
        jwks_uri: None,
        require_dpop: false,
    }
}

/// The status `/readyz` answers, 0 when nothing answers.
pub async fn readyz(base: &str) -> u16 {
    reqwest::get(format!("{base}/readyz"))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// The problem of a failed call, with its status.
pub fn status_of<T: std::fmt::Debug>(result: Result<T, consola::client::ClientError>) -> u16 {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(err) => err
            .status()
            .unwrap_or_else(|| panic!("not an API error: {err}")),
    }
}

/// Whether the token endpoint authenticates this key and secret (Basic, as integrations
/// send them): the path production runs. Any answer but 401 `invalid_client` means the
/// credentials passed; the grant itself may still be refused.
pub async fn token_endpoint_accepts(server: &RunningServer, client_id: &str, secret: &str) -> bool {
    let response = reqwest::Client::new()
        .post(format!("{}/oauth/token", server.url()))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token endpoint answers");
    match response.status().as_u16() {
        401 => false,
        200 | 400 => true,
        other => panic!("unexpected token endpoint status {other}"),
    }
}
