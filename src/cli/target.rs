//! Which server a command talks to: `--server URL`, or the embedded server over the data
//! directory (the one already running there, attached to, or one started for the command).

use super::session::{Session, SessionStore};
use super::{CliResult, Failure};
use crate::client::{Client, ClientError};
use crate::target::{Reached, Target};
use std::future::Future;
use std::path::PathBuf;

/// What every command needs to find its server and session.
#[derive(Debug, Clone)]
pub struct Context {
    /// `--server`, `CONSOLA_SERVER` or the configuration file's `server`.
    pub server: Option<String>,
    /// The data directory of the embedded server.
    pub data_dir: PathBuf,
    /// Where sessions are kept; `None`: the XDG state directory.
    pub state_dir: Option<PathBuf>,
}

impl Context {
    /// The server a command talks to; an embedded one started for it takes any free port.
    pub fn target(&self) -> Target {
        Target::choose(self.server.clone(), self.data_dir.clone(), 0)
    }

    pub fn sessions(&self) -> CliResult<SessionStore> {
        match &self.state_dir {
            Some(dir) => Ok(SessionStore::new(dir.clone())),
            None => SessionStore::default_location().ok_or_else(|| {
                Failure::failed(
                    "no se encontró el directorio de estado del usuario; defina XDG_STATE_HOME",
                )
            }),
        }
    }

    /// The name sessions are kept under: the server's URL, or the data directory (whose
    /// embedded server may listen on another port each time).
    pub fn session_key(&self) -> String {
        match &self.server {
            Some(url) => url.clone(),
            None => {
                let dir =
                    std::fs::canonicalize(&self.data_dir).unwrap_or_else(|_| self.data_dir.clone());
                format!("data-dir:{}", dir.display())
            }
        }
    }

    /// How to sign in again, for messages.
    pub fn login_hint(&self, username: Option<&str>) -> String {
        let server = match &self.server {
            Some(url) => format!(" --server {url}"),
            None => String::new(),
        };
        let user = username.unwrap_or("USUARIO");
        format!("consola login{server} --username {user} --password-stdin")
    }
}

/// A server to talk to, stopped (when this process started it) by `finish`.
pub struct Connection {
    pub client: Client,
    server: Reached,
}

impl Connection {
    pub async fn open(context: &Context) -> CliResult<Connection> {
        let server = context.target().reach().await?;
        Ok(Connection {
            client: Client::new(&server.url())?,
            server,
        })
    }

    /// True when another process runs the server this command talks to.
    pub fn attached(&self) -> bool {
        self.server.attached()
    }

    /// Stops the embedded server this command started; an attached one keeps running.
    pub async fn finish(self) {
        self.server.finish().await;
    }
}

/// How often a command is run again when the server it attached to stopped meanwhile.
const ATTACH_RETRIES: usize = 3;

/// Runs `command` against the target's server: the remote one, or the embedded one started
/// for it (stopped after) or attached to. An attached server whose own command ended may
/// stop between our requests: the connection is refused, nothing was done there, and the
/// command runs again on the next server.
pub async fn on_server<T, F, Fut>(context: &Context, command: F) -> CliResult<T>
where
    F: Fn(Client) -> Fut,
    Fut: Future<Output = CliResult<T>>,
{
    let mut connection = Connection::open(context).await?;
    let mut result = command(connection.client.clone()).await;
    let mut retries = 0;
    while connection.attached()
        && retries < ATTACH_RETRIES
        && matches!(&result, Err(Failure::Api(ClientError::Network(_))))
    {
        retries += 1;
        connection.finish().await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        connection = Connection::open(context).await?;
        result = command(connection.client.clone()).await;
    }
    connection.finish().await;
    result
}

/// Runs `command` with the client signed in with the kept session. A session that has
/// expired, or that the server no longer accepts, says how to sign in again.
pub async fn signed_in<F, Fut>(context: &Context, command: F) -> CliResult
where
    F: Fn(Client) -> Fut,
    Fut: Future<Output = CliResult>,
{
    let store = context.sessions()?;
    let key = context.session_key();
    let Some(session) = store.load(&key)? else {
        return Err(Failure::Failed {
            message: format!("no hay sesión para {}", shown_target(context)),
            details: vec![format!("Inicie sesión: {}", context.login_hint(None))],
        });
    };
    if session.expired() {
        let _ = store.remove(&key);
        return Err(expired(context, &session));
    }
    let result = on_server(context, |client| {
        command(client.with_token(session.token.clone()))
    })
    .await;
    match result {
        Err(Failure::Api(err)) if err.status() == Some(401) => {
            let _ = store.remove(&key);
            Err(expired(context, &session))
        }
        other => other,
    }
}

fn expired(context: &Context, session: &Session) -> Failure {
    Failure::Failed {
        message: format!(
            "la sesión de {} en {} expiró o fue cerrada",
            session.username,
            shown_target(context)
        ),
        details: vec![format!(
            "Inicie sesión de nuevo: {}",
            context.login_hint(Some(&session.username))
        )],
    }
}

pub fn shown_target(context: &Context) -> String {
    match &context.server {
        Some(url) => url.clone(),
        None => format!("el directorio de datos {}", context.data_dir.display()),
    }
}
