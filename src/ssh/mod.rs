//! The console over SSH (DESIGN §7): `consola serve --ssh-listen ADDR` serves the console to
//! `ssh -p PORT host`, with nothing installed on the admin's machine.
//!
//! - `admission`: who may begin a handshake, and the caps and grace time of connections
//!   until they sign in;
//! - `handler`: who connects (a registered key, or *Iniciar sesión*), one session channel
//!   per connection;
//! - `session`: that channel's console (its own `App` over the channel) or command;
//! - `terminal`: the backend that writes to the channel with backpressure, and the input
//!   parser that reads it;
//! - `host_key`: the server's Ed25519 key.
//!
//! Every session talks to this process's API through the server's front door, over the
//! same typed client as every console.

mod admission;
mod handler;
pub mod host_key;
mod session;
pub mod terminal;

use crate::client::Client;
use crate::domain::secret::SecretText;
use crate::server::front::FrontDoor;
use crate::service::Service;
pub use admission::Startups;
use admission::{Admission, Place};
use anyhow::Context;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

/// How the SSH front end behaves.
#[derive(Debug, Clone)]
pub struct SshOptions {
    pub listen: SocketAddr,
    /// Refuse connections without a registered key (no *Iniciar sesión* over SSH).
    pub require_key: bool,
    /// A session without input this long is signed out.
    pub idle_timeout: Duration,
    /// A connection on which nobody has signed in this long after its accept (with a key,
    /// or through *Iniciar sesión*) is closed.
    pub login_grace: Duration,
    /// Signed-in sessions at once, in all; connections not yet signed in never fill them.
    pub max_sessions: usize,
    /// Signed-in sessions at once from one address.
    pub max_sessions_per_address: usize,
    /// Connections not yet signed in, in all (OpenSSH's `MaxStartups`).
    pub startups: Startups,
    /// Connections not yet signed in, per address (`PerSourceMaxStartups`).
    pub startups_per_address: Startups,
    /// How often every session is checked again, for what other replicas changed (a user
    /// disabled, a key removed). What this replica changes is checked at once.
    pub recheck_every: Duration,
}

impl SshOptions {
    pub fn new(listen: SocketAddr) -> SshOptions {
        SshOptions {
            listen,
            require_key: false,
            idle_timeout: Duration::from_secs(30 * 60),
            login_grace: Duration::from_secs(30),
            max_sessions: 100,
            max_sessions_per_address: 10,
            startups: Startups::DEFAULT,
            startups_per_address: Startups::PER_ADDRESS_DEFAULT,
            recheck_every: Duration::from_millis(400),
        }
    }
}

/// What every connection of this server shares.
struct Shared {
    service: Arc<Service>,
    /// The front door's client, signed out; sessions derive theirs from it (one pool).
    api: Client,
    /// The server's public URL, shown in the console's status bar (for curl).
    shown_url: String,
    secret: SecretText,
    options: SshOptions,
    admission: Admission,
    live: Registry,
}

/// The running SSH front end.
pub struct SshServer {
    pub addr: SocketAddr,
    /// The host key's fingerprint, for admins to compare on first connection.
    pub fingerprint: String,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Option<tokio::task::JoinHandle<()>>,
}

impl SshServer {
    /// Listens on `options.listen` with the host key of `data_dir`, serving consoles that
    /// talk to the API behind `front`.
    pub async fn start(
        options: SshOptions,
        data_dir: &Path,
        service: Arc<Service>,
        front: &FrontDoor,
    ) -> anyhow::Result<SshServer> {
        let host_key = match service.sealed_keys() {
            Some(sealed) => host_key::load_or_create_sealed(sealed, data_dir).await?,
            None => host_key::load_or_create(data_dir)?,
        };
        let fingerprint = host_key::fingerprint(&host_key);
        let listener = TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("no se pudo escuchar SSH en {}", options.listen))?;
        let addr = listener.local_addr()?;
        let config = Arc::new(russh::server::Config {
            server_id: russh::SshId::Standard(
                format!("SSH-2.0-consola_{}", env!("CARGO_PKG_VERSION")).into(),
            ),
            keys: vec![host_key],
            // A rejected key costs the client this long; it hides nothing here (keys are
            // not secret), so it stays short for people with several keys in their agent.
            auth_rejection_time: Duration::from_millis(200),
            auth_rejection_time_initial: Some(Duration::ZERO),
            // The console's own idle timeout signs out first; this collects dead links.
            inactivity_timeout: Some(options.idle_timeout + Duration::from_secs(60)),
            keepalive_interval: Some(Duration::from_secs(30)),
            keepalive_max: 3,
            nodelay: true,
            ..Default::default()
        });
        let shared = Arc::new(Shared {
            api: Client::new(&front.url)?,
            shown_url: service.issuer().to_string(),
            secret: front.secret.clone(),
            admission: Admission::new(
                options.startups,
                options.startups_per_address,
                options.max_sessions,
                options.max_sessions_per_address,
            ),
            live: Registry::default(),
            options,
            service,
        });
        let (stop, stopped) = watch::channel(false);
        let tasks = tokio::spawn(run(listener, config, shared.clone(), stopped));
        tracing::info!(%addr, %fingerprint, "SSH listening");
        Ok(SshServer {
            addr,
            fingerprint,
            shared,
            stop,
            tasks: Some(tasks),
        })
    }

    /// Connections open now, signed in or not.
    pub fn connections(&self) -> usize {
        self.shared.admission.pending() + self.shared.admission.sessions()
    }

    /// Connections on which nobody has signed in yet.
    pub fn pending_connections(&self) -> usize {
        self.shared.admission.pending()
    }

    /// Stops accepting, tells every session the server stops, and waits for them (5 s at
    /// most).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(tasks) = self.tasks.take() {
            let _ = tasks.await;
        }
    }
}

/// Accepts connections until told to stop, then ends them; also watches the sessions
/// signed in with a key.
async fn run(
    listener: TcpListener,
    config: Arc<russh::server::Config>,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let watcher = tokio::spawn(watch_sessions(shared.clone(), stopped.clone()));
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (socket, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of descriptors and the like: wait rather than spin.
                        tracing::warn!(error = %err, "SSH accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let address = peer.ip().to_canonical();
                let place = match shared.admission.admit(address, rand::random_range(0..10_000)) {
                    Ok(place) => place,
                    Err(refusal) => {
                        tracing::debug!(%peer, reason = %refusal, "SSH connection refused");
                        continue;
                    }
                };
                let handler = handler::Handler::new(shared.clone(), peer, place.clone());
                let config = config.clone();
                let stopped = stopped.clone();
                let shared = shared.clone();
                connections.spawn(async move {
                    let _ = socket.set_nodelay(true);
                    serve_connection(socket, peer, config, handler, place.clone(), &shared, stopped)
                        .await;
                    if !place.signed_in() {
                        shared.admission.failed_handshake(address);
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    connections.shutdown().await;
    watcher.abort();
    let _ = watcher.await;
}

/// One connection, from the key exchange to its end: closed when nobody has signed in on
/// it within the login grace time (the key exchange included, so a client that sends
/// nothing after the banner is closed too), or when the server stops.
async fn serve_connection(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    config: Arc<russh::server::Config>,
    handler: handler::Handler,
    place: Place,
    shared: &Shared,
    mut stopped: watch::Receiver<bool>,
) {
    let grace = tokio::time::sleep(shared.options.login_grace);
    tokio::pin!(grace);
    let started = tokio::select! {
        started = russh::server::run_stream(config, socket, handler) => started,
        () = &mut grace => {
            tracing::debug!(%peer, "SSH connection closed: no key exchange within the login grace time");
            return;
        }
    };
    let session = match started {
        Ok(session) => session,
        Err(err) => {
            tracing::debug!(%peer, error = %err, "SSH handshake failed");
            return;
        }
    };
    let handle = session.handle();
    tokio::pin!(session);
    let mut waiting = true;
    loop {
        tokio::select! {
            _ = &mut session => return,
            () = &mut grace, if waiting => {
                waiting = false;
                if !place.signed_in() {
                    tracing::debug!(%peer, "SSH connection closed: not signed in within the login grace time");
                    let _ = handle
                        .disconnect(
                            russh::Disconnect::ByApplication,
                            "consola: tiempo de inicio de sesión agotado".into(),
                            "es".into(),
                        )
                        .await;
                    return;
                }
            }
            _ = stopped.changed() => {
                let _ = handle
                    .disconnect(
                        russh::Disconnect::ByApplication,
                        "consola: el servidor se detiene".into(),
                        "es".into(),
                    )
                    .await;
                let _ = tokio::time::timeout(Duration::from_secs(5), session).await;
                return;
            }
        }
    }
}

async fn watch_sessions(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(shared.options.recheck_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut access_ended = shared.service.access_ended();
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tick.tick() => {}
            _ = access_ended.changed() => {}
        }
        for (id, user, key) in shared.live.snapshot() {
            match shared.service.ssh_session_allowed(user, key).await {
                Ok(true) => {}
                Ok(false) => shared.live.end(id),
                // The database cannot say now: the session goes on until it can.
                Err(err) => tracing::debug!(error = %err, "SSH session check failed"),
            }
        }
    }
}

/// The consoles open now and who is signed in on each, so that the watcher can end them.
#[derive(Default)]
struct Registry {
    next: AtomicU64,
    live: Mutex<HashMap<u64, Live>>,
}

struct Live {
    /// Who the console has signed in, if anybody (it may sign out and in again).
    signed_in: watch::Receiver<Option<Uuid>>,
    /// The key the connection signed in with, and its user's id.
    key: Option<(Uuid, Uuid)>,
    end: watch::Sender<bool>,
}

/// A session's place in the registry; leaving it unregisters.
struct Registration {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.live.lock().remove(&self.id);
    }
}

impl Registry {
    fn lock(&self) -> parking_lot::MutexGuard<'_, HashMap<u64, Live>> {
        self.live.lock()
    }

    /// Each signed-in console: its id, its user, and its key while that user is the
    /// key's (after signing in as another user with a password, the key is not theirs).
    fn snapshot(&self) -> Vec<(u64, Uuid, Option<Uuid>)> {
        self.lock()
            .iter()
            .filter_map(|(id, live)| {
                let user = (*live.signed_in.borrow())?;
                let key = live
                    .key
                    .and_then(|(key, holder)| (holder == user).then_some(key));
                Some((*id, user, key))
            })
            .collect()
    }

    fn end(&self, id: u64) {
        if let Some(live) = self.lock().get(&id) {
            let _ = live.end.send(true);
        }
    }
}

fn register(
    shared: &Arc<Shared>,
    signed_in: watch::Receiver<Option<Uuid>>,
    key: Option<(Uuid, Uuid)>,
) -> (Registration, watch::Receiver<bool>) {
    let id = shared.live.next.fetch_add(1, Ordering::Relaxed);
    let (end, ended) = watch::channel(false);
    shared.live.lock().insert(
        id,
        Live {
            signed_in,
            key,
            end,
        },
    );
    (
        Registration {
            shared: shared.clone(),
            id,
        },
        ended,
    )
}
