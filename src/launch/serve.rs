//! `consola serve`: the server alone, with its SSH console, until SIGTERM or SIGINT; SIGHUP
//! reads the TLS files again.

use super::logging::log_to_stderr;
use super::serve_args::{ServeLimits, ServeNetwork, SystemSecrets};
use crate::server::{self, ServerConfig};
use std::net::SocketAddr;
use std::path::PathBuf;

pub(super) async fn serve(
    data_dir: PathBuf,
    listen: SocketAddr,
    database: Option<String>,
    limits: ServeLimits,
    network: ServeNetwork,
    ssh: Option<crate::ssh::SshOptions>,
    secret: SystemSecrets,
) -> anyhow::Result<()> {
    log_to_stderr(network.log_format.unwrap_or_default());
    let mut config = ServerConfig::new(data_dir.clone(), listen);
    config.system_secret = secret.current;
    config.previous_system_secret = secret.previous;
    config.database_url = database;
    config.front_door = ssh.is_some();
    limits.apply(&mut config.service);
    network.apply(&mut config)?;
    let signals = ServeSignals::install();
    let running = server::start(config).await?;
    println!("consola escuchando en {}", running.url());
    let ssh = match (ssh, running.front_door()) {
        (Some(options), Some(front)) => {
            let started =
                crate::ssh::SshServer::start(options, &data_dir, running.service.clone(), front)
                    .await;
            match started {
                Ok(ssh) => {
                    println!(
                        "consola por SSH en {} (ssh -p {} HOST); huella de la clave de host: {}",
                        ssh.addr,
                        ssh.addr.port(),
                        ssh.fingerprint
                    );
                    Some(ssh)
                }
                Err(err) => {
                    running.shutdown().await;
                    return Err(err);
                }
            }
        }
        _ => None,
    };
    if let Some(token) = running.service.issue_setup_token().await? {
        println!(
            "Configuración inicial pendiente. Desde otra máquina use este token de un solo uso\n\
             (cabecera X-Setup-Token, o `consola setup --setup-token`):\n{token}"
        );
    }
    signals.wait(&running).await;
    println!("consola: deteniendo…");
    if let Some(ssh) = ssh {
        ssh.shutdown().await;
    }
    running.shutdown().await;
    Ok(())
}

/// `serve`'s signals, taken over before it says where it listens: a SIGHUP that arrives
/// once the address is printed (a certificate renewed at once) must reload, not kill.
struct ServeSignals {
    #[cfg(unix)]
    streams: [Option<tokio::signal::unix::Signal>; 3],
}

impl ServeSignals {
    fn install() -> ServeSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            ServeSignals {
                streams: [
                    signal(SignalKind::terminate()).ok(),
                    signal(SignalKind::interrupt()).ok(),
                    signal(SignalKind::hangup()).ok(),
                ],
            }
        }
        #[cfg(not(unix))]
        ServeSignals {}
    }

    /// Returns at SIGTERM or SIGINT; SIGHUP reads the TLS files again and serving goes on.
    async fn wait(mut self, running: &server::RunningServer) {
        #[cfg(unix)]
        {
            async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            let [term, int, hup] = &mut self.streams;
            loop {
                tokio::select! {
                    () = recv(term) => return,
                    () = recv(int) => return,
                    () = recv(hup) => match running.reload_tls() {
                        Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded"),
                        // The chain in force stays; the admin fixes the files and signals again.
                        Err(err) => tracing::error!(error = %err, "SIGHUP: TLS certificate not reloaded"),
                    },
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = running;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
