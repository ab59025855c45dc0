//! `consola serve`: the server alone, with its SSH console, until SIGTERM or SIGINT; SIGHUP
//! reads the TLS files again.

use super::logging::log_to_stderr;
use super::system_secret::SystemSecrets;
use super::{DEFAULT_PORT, loopback};
use crate::config::ServeSettings;
use crate::server::{self, ServerConfig};
use crate::ssh::SshOptions;
use anyhow::bail;
use std::path::PathBuf;

/// Runs `serve` with `given` (what its flags and variables set; `matches` holds the same,
/// as parsed) over the file's `file`.
pub(super) async fn serve(
    data_dir: PathBuf,
    given: &ServeSettings,
    matches: &clap::ArgMatches,
    file: &ServeSettings,
) -> anyhow::Result<()> {
    let secrets = SystemSecrets::read(given, file, |name| std::env::var_os(name))?;
    let settings = ServeSettings::over_file(file, matches)?;
    log_to_stderr(settings.log_format.unwrap_or_default());
    let ssh = ssh_options(&settings);
    let registration = settings.client_registration;
    let registration_group = settings.client_registration_group.clone();
    let mut config = server_config(data_dir.clone(), settings)?;
    config.system_secret = secrets.current;
    config.previous_system_secret = secrets.previous;
    config.front_door = ssh.is_some();
    let signals = ServeSignals::install();
    let running = server::start(config).await?;
    // Before the address is announced: what is announced serves this policy.
    if let Some(policy) = registration {
        let applied = running
            .service
            .apply_registration_setting(policy, registration_group.as_deref())
            .await;
        if let Err(err) = applied {
            running.shutdown().await;
            bail!("--client-registration: {}", registration_error(err));
        }
    }
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

/// What is wrong with the registration settings, in one line.
fn registration_error(err: crate::service::ServiceError) -> String {
    match err {
        crate::service::ServiceError::Validation(errors) => {
            errors.0.into_values().collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

/// The server's configuration the settings make: each unset one keeps its default.
fn server_config(data_dir: PathBuf, settings: ServeSettings) -> anyhow::Result<ServerConfig> {
    let listen = settings.listen.unwrap_or_else(|| loopback(DEFAULT_PORT));
    let mut config = ServerConfig::new(data_dir, listen);
    config.database_url = settings.database;
    let service = &mut config.service;
    if let Some(days) = settings.audit_retention_days {
        service.audit_retention_days = u32::try_from(days.get()).unwrap_or(u32::MAX);
    }
    if let Some(n) = settings.password_hashing_concurrency {
        service.password_hashing_concurrency = n.get() as usize;
        service.password_hashing_queue = 2 * n.get() as usize;
    }
    if let Some(n) = settings.max_revocations {
        service.max_revocations_in_memory = usize::try_from(n.get()).unwrap_or(usize::MAX);
    }
    config.tls = match (settings.tls_cert, settings.tls_key) {
        (Some(cert), Some(key)) => Some(server::tls::TlsFiles { cert, key }),
        (None, None) => None,
        (Some(_), None) => bail!("--tls-cert necesita --tls-key (la clave del certificado)"),
        (None, Some(_)) => bail!("--tls-key necesita --tls-cert (el certificado)"),
    };
    config.insecure_http = settings.insecure_http.unwrap_or(false);
    config.service.issuer = settings.public_url;
    config.trusted_proxies = settings.trusted_proxies.unwrap_or_default();
    config.metrics_listen = settings.metrics_listen;
    config.service.dpop_nonce_required = settings.dpop_require_nonce.unwrap_or(false);
    let documents = &mut config.service.client_documents;
    documents.allow_hosts = settings.client_metadata_allow.unwrap_or_default();
    if let Some(path) = &settings.client_metadata_ca {
        documents.extra_roots_pem =
            Some(std::fs::read(path).map_err(|err| {
                anyhow::anyhow!("--client-metadata-ca {}: {err}", path.display())
            })?);
    }
    Ok(config)
}

/// The SSH console's options, when the settings ask for one.
fn ssh_options(settings: &ServeSettings) -> Option<SshOptions> {
    let mut options = SshOptions::new(settings.ssh_listen?);
    options.require_key = settings.ssh_require_key.unwrap_or(false);
    if let Some(minutes) = settings.ssh_idle_minutes {
        options.idle_timeout = std::time::Duration::from_secs(minutes.get().saturating_mul(60));
    }
    if let Some(seconds) = settings.ssh_login_grace_seconds {
        options.login_grace = std::time::Duration::from_secs(seconds.get());
    }
    if let Some(n) = settings.ssh_max_sessions {
        options.max_sessions = n.get() as usize;
    }
    if let Some(n) = settings.ssh_max_sessions_per_address {
        options.max_sessions_per_address = n.get() as usize;
    }
    Some(options)
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
