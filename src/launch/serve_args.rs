//! `serve`'s flags and variables, and how they meet the file's `[serve]`.

use crate::config;
use crate::server::{self, ServerConfig};
use anyhow::{Context as _, bail};
use std::net::SocketAddr;
use std::path::PathBuf;

/// `serve`'s limits under attack; each defaults to the service's own default.
#[derive(clap::Args, Debug, Default)]
pub struct ServeLimits {
    /// Days the audit log (Log de Transacciones) keeps its entries [default: 400].
    #[arg(long, env = "CONSOLA_AUDIT_RETENTION_DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    audit_retention_days: Option<u32>,
    /// Password checks (argon2, about 19 MiB each) at once [default: number of cores].
    #[arg(long, env = "CONSOLA_PASSWORD_HASHING_CONCURRENCY", value_parser = clap::value_parser!(u64).range(1..=256))]
    password_hashing_concurrency: Option<u64>,
    /// Revoked tokens and ended grants kept in memory; beyond, a revocation cuts the
    /// consumer's earlier tokens [default: 100000].
    #[arg(long, env = "CONSOLA_MAX_REVOCATIONS", value_parser = clap::value_parser!(u64).range(1..))]
    max_revocations: Option<u64>,
}

/// How `serve` meets the network: TLS, its public URL, proxies in front, metrics, logs.
#[derive(clap::Args, Debug, Default)]
pub struct ServeNetwork {
    /// Certificate chain for HTTPS (PEM, leaf first), with --tls-key; SIGHUP reads both again.
    #[arg(long, env = "CONSOLA_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// Private key of the certificate (PEM).
    #[arg(long, env = "CONSOLA_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP beyond loopback, when a proxy in front ends TLS.
    #[arg(long, env = "CONSOLA_INSECURE_HTTP")]
    insecure_http: bool,
    /// The base URL clients use: issuer, metadata URLs, JWT iss/aud, consent form [default:
    /// the scheme and the listen address].
    #[arg(long, env = "CONSOLA_PUBLIC_URL", value_parser = config::server_url)]
    public_url: Option<String>,
    /// A reverse proxy's network (CIDR or address) whose Forwarded/X-Forwarded-For are
    /// believed; repeatable (comma-separated in the variable).
    #[arg(long, env = "CONSOLA_TRUSTED_PROXY", value_delimiter = ',', value_parser = server::proxy::parse_cidr)]
    trusted_proxy: Vec<ipnet::IpNet>,
    /// Serve Prometheus metrics at /metrics on this address, apart from the API (e.g.
    /// 127.0.0.1:9187) [default: no metrics].
    #[arg(long, env = "CONSOLA_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Log lines on stderr: `text`, or `json` (one object per line, with one line per
    /// request) [default: text].
    #[arg(long, value_enum, env = "CONSOLA_LOG_FORMAT")]
    pub(super) log_format: Option<config::LogFormat>,
}

impl ServeNetwork {
    /// Fills what the flags and the environment left unset from the file's `[serve]`.
    pub(super) fn or_file(mut self, file: &config::ServeConfig) -> anyhow::Result<ServeNetwork> {
        self.tls_cert = self.tls_cert.or_else(|| file.tls_cert.clone());
        self.tls_key = self.tls_key.or_else(|| file.tls_key.clone());
        self.insecure_http = self.insecure_http || file.insecure_http.unwrap_or(false);
        self.public_url = self.public_url.or_else(|| file.public_url.clone());
        self.metrics_listen = self.metrics_listen.or(file.metrics_listen);
        self.log_format = self.log_format.or(file.log_format);
        if self.trusted_proxy.is_empty() {
            for proxy in file.trusted_proxies.iter().flatten() {
                self.trusted_proxy
                    .push(server::proxy::parse_cidr(proxy).map_err(anyhow::Error::msg)?);
            }
        }
        Ok(self)
    }

    pub(super) fn apply(self, config: &mut ServerConfig) -> anyhow::Result<()> {
        config.tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some(server::tls::TlsFiles { cert, key }),
            (None, None) => None,
            (Some(_), None) => bail!("--tls-cert necesita --tls-key (la clave del certificado)"),
            (None, Some(_)) => bail!("--tls-key necesita --tls-cert (el certificado)"),
        };
        config.insecure_http = self.insecure_http;
        config.service.issuer = self.public_url;
        config.trusted_proxies = self.trusted_proxy;
        config.metrics_listen = self.metrics_listen;
        Ok(())
    }
}

/// The console over SSH (DESIGN §7).
#[derive(clap::Args, Debug, Default)]
pub struct ServeSsh {
    /// Serve the console over SSH on this address (e.g. 0.0.0.0:2222): `ssh -p 2222 HOST`
    /// opens it, signed in as the user whose key (Cuenta → Claves SSH) the client offers
    /// [default: no SSH].
    #[arg(long, env = "CONSOLA_SSH_LISTEN")]
    ssh_listen: Option<SocketAddr>,
    /// Refuse SSH connections without a registered key, instead of showing Iniciar sesión.
    #[arg(long, env = "CONSOLA_SSH_REQUIRE_KEY")]
    ssh_require_key: bool,
    /// Minutes without a key pressed after which an SSH session is signed out [default: 30].
    #[arg(long, env = "CONSOLA_SSH_IDLE_MINUTES", value_parser = clap::value_parser!(u64).range(1..))]
    ssh_idle_minutes: Option<u64>,
    /// SSH connections at once, in all [default: 100].
    #[arg(long, env = "CONSOLA_SSH_MAX_SESSIONS", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    ssh_max_sessions: Option<u64>,
    /// SSH connections at once from one address [default: 10].
    #[arg(long, env = "CONSOLA_SSH_MAX_SESSIONS_PER_ADDRESS", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    ssh_max_sessions_per_address: Option<u64>,
}

impl ServeSsh {
    /// Fills what the flags and the environment left unset from the file's `[serve]`.
    pub(super) fn or_file(self, file: &config::ServeConfig) -> ServeSsh {
        ServeSsh {
            ssh_listen: self.ssh_listen.or(file.ssh_listen),
            ssh_require_key: self.ssh_require_key || file.ssh_require_key.unwrap_or(false),
            ssh_idle_minutes: self.ssh_idle_minutes.or(file.ssh_idle_minutes),
            ssh_max_sessions: self
                .ssh_max_sessions
                .or(file.ssh_max_sessions.map(|n| n as u64)),
            ssh_max_sessions_per_address: self
                .ssh_max_sessions_per_address
                .or(file.ssh_max_sessions_per_address.map(|n| n as u64)),
        }
    }

    pub(super) fn options(self) -> Option<crate::ssh::SshOptions> {
        let mut options = crate::ssh::SshOptions::new(self.ssh_listen?);
        options.require_key = self.ssh_require_key;
        if let Some(minutes) = self.ssh_idle_minutes {
            options.idle_timeout = std::time::Duration::from_secs(minutes.max(1) * 60);
        }
        if let Some(n) = self.ssh_max_sessions {
            options.max_sessions = n as usize;
        }
        if let Some(n) = self.ssh_max_sessions_per_address {
            options.max_sessions_per_address = n as usize;
        }
        Some(options)
    }
}

impl ServeLimits {
    /// Fills what the flags and the environment left unset from the file's `[serve]`.
    pub(super) fn or_file(self, file: &config::ServeConfig) -> ServeLimits {
        ServeLimits {
            audit_retention_days: self.audit_retention_days.or(file.audit_retention_days),
            password_hashing_concurrency: self
                .password_hashing_concurrency
                .or(file.password_hashing_concurrency),
            max_revocations: self.max_revocations.or(file.max_revocations),
        }
    }

    pub(super) fn apply(&self, service: &mut crate::service::ServiceConfig) {
        if let Some(days) = self.audit_retention_days {
            service.audit_retention_days = days;
        }
        if let Some(n) = self.password_hashing_concurrency {
            service.password_hashing_concurrency = n as usize;
            service.password_hashing_queue = 2 * n as usize;
        }
        if let Some(n) = self.max_revocations {
            service.max_revocations_in_memory = usize::try_from(n).unwrap_or(usize::MAX);
        }
    }
}

/// The system secret the keys in the database are sealed under (DESIGN §6), and the one
/// before it while it is being rotated. The variables hold the secrets themselves, for
/// platforms that hand secrets over in the environment; the flags name files.
#[derive(clap::Args, Debug, Default)]
pub struct ServeSystemSecret {
    /// File holding the system secret (at least 32 bytes; one trailing newline is not part of
    /// it), the same on every replica; required with PostgreSQL. The keys live in the database
    /// sealed under it. CONSOLA_SYSTEM_SECRET gives the secret itself instead of a file.
    #[arg(long, value_name = "PATH", env = "CONSOLA_SYSTEM_SECRET_FILE")]
    system_secret_file: Option<PathBuf>,
    /// File holding the system secret before a rotation: what it sealed is opened and sealed
    /// again under the current one. CONSOLA_PREVIOUS_SYSTEM_SECRET gives the secret itself.
    #[arg(long, value_name = "PATH", env = "CONSOLA_PREVIOUS_SYSTEM_SECRET_FILE")]
    previous_system_secret_file: Option<PathBuf>,
}

/// The secrets read, as the server takes them.
pub struct SystemSecrets {
    pub(super) current: Option<crate::domain::system_secret::SystemSecret>,
    pub(super) previous: Option<crate::domain::system_secret::SystemSecret>,
}

impl ServeSystemSecret {
    /// Reads each secret: from the file its flag (or `*_FILE` variable) names, else from its
    /// variable (`env`), else from the file the configuration file names. Flags and the
    /// environment win over the configuration file, as everywhere.
    pub(super) fn read(
        self,
        file: &config::ServeConfig,
        env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> anyhow::Result<SystemSecrets> {
        let one = |given: Option<PathBuf>, var: &str, in_file: &Option<PathBuf>| {
            if let Some(path) = given {
                return server::data_dir::read_system_secret(&path).map(Some);
            }
            if let Some(value) = env(var) {
                return secret_from_env(value)
                    .map(Some)
                    .with_context(|| format!("el secreto del sistema de {var}"));
            }
            match in_file {
                Some(path) => server::data_dir::read_system_secret(path).map(Some),
                None => Ok(None),
            }
        };
        Ok(SystemSecrets {
            current: one(
                self.system_secret_file,
                "CONSOLA_SYSTEM_SECRET",
                &file.system_secret_file,
            )?,
            previous: one(
                self.previous_system_secret_file,
                "CONSOLA_PREVIOUS_SYSTEM_SECRET",
                &file.previous_system_secret_file,
            )?,
        })
    }
}

fn secret_from_env(
    value: std::ffi::OsString,
) -> anyhow::Result<crate::domain::system_secret::SystemSecret> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStringExt;
        value.into_vec()
    };
    #[cfg(not(unix))]
    let bytes = value
        .into_string()
        .map_err(|_| anyhow::anyhow!("no es UTF-8"))?
        .into_bytes();
    Ok(crate::domain::system_secret::SystemSecret::new(bytes)?)
}
