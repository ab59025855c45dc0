//! `consola serve`'s settings, each declared once: one field is its flag, its `CONSOLA_*`
//! variable, its key in the file's `[serve]`, its check and its help.
//!
//! A setting given on the command line or in the environment wins over the file's, field by
//! field and in both directions: `--insecure-http=false` turns off the file's
//! `insecure_http = true` ([`ServeSettings::over_file`]).

use clap::FromArgMatches;
use serde::{Deserialize, Deserializer};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Every setting of `serve`; each is optional, and unset means the default its help names.
///
/// The order of the fields is the order of `consola serve --help`.
#[derive(clap::Args, Deserialize, Debug, Default, Clone, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServeSettings {
    /// Address to listen on [default: 127.0.0.1:8787].
    #[arg(long, env = "CONSOLA_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST/DB` (several replicas over one
    /// database); default: consola.db in the data directory.
    #[arg(long, env = "CONSOLA_DATABASE_URL")]
    pub database: Option<String>,

    // Limits under attack; each defaults to the service's own default.
    /// Days the audit log (Log de Transacciones) keeps its entries [default: 400].
    #[arg(long, env = "CONSOLA_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<Bounded<1, { u32::MAX as u64 }>>,
    /// Password checks (argon2, about 19 MiB each) at once [default: number of cores].
    #[arg(long, env = "CONSOLA_PASSWORD_HASHING_CONCURRENCY")]
    pub password_hashing_concurrency: Option<Bounded<1, 256>>,
    /// Revoked tokens and ended grants kept in memory; beyond, a revocation cuts the
    /// consumer's earlier tokens [default: 100000].
    #[arg(long, env = "CONSOLA_MAX_REVOCATIONS")]
    pub max_revocations: Option<Bounded<1, { u64::MAX }>>,

    // How serve meets the network: TLS, its public URL, proxies in front, metrics, logs.
    /// Certificate chain for HTTPS (PEM, leaf first), with --tls-key; SIGHUP reads both again.
    #[arg(long, env = "CONSOLA_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// Private key of the certificate (PEM).
    #[arg(long, env = "CONSOLA_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP beyond loopback, when a proxy in front ends TLS
    /// (`--insecure-http=false` turns off the file's `insecure_http = true`).
    #[arg(long, env = "CONSOLA_INSECURE_HTTP", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub insecure_http: Option<bool>,
    /// The base URL clients use: issuer, metadata URLs, JWT iss/aud, consent form [default:
    /// the scheme and the listen address].
    #[arg(long, env = "CONSOLA_PUBLIC_URL", value_parser = super::server_url)]
    #[serde(deserialize_with = "server_url")]
    pub public_url: Option<String>,
    /// A reverse proxy's network (CIDR or address) whose Forwarded/X-Forwarded-For are
    /// believed; repeatable (comma-separated in the variable).
    #[arg(long = "trusted-proxy", value_name = "TRUSTED_PROXY", env = "CONSOLA_TRUSTED_PROXY", value_delimiter = ',', value_parser = crate::server::proxy::parse_cidr)]
    #[serde(deserialize_with = "proxies")]
    pub trusted_proxies: Option<Vec<ipnet::IpNet>>,
    /// DPoP proofs must carry the server's nonce (DPoP-Nonce, RFC 9449 §8) [default: the
    /// nonce is offered, and taken when sent].
    #[arg(long, env = "CONSOLA_DPOP_REQUIRE_NONCE", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub dpop_require_nonce: Option<bool>,
    /// Clients that register themselves (RFC 7591): `off`, `approval` (they wait as
    /// Pendiente for the Súper Administrador) or `open` (straight into
    /// --client-registration-group). Applied at start; the console can change it meanwhile
    /// [default: as the Súper Administrador left it, off at first].
    #[arg(long, env = "CONSOLA_CLIENT_REGISTRATION", value_name = "POLICY")]
    pub client_registration: Option<crate::domain::RegistrationPolicy>,
    /// The permission group, by name, that self-registered clients go into (proposed,
    /// under approval); needed with approval and open.
    #[arg(long, env = "CONSOLA_CLIENT_REGISTRATION_GROUP", value_name = "GROUP")]
    pub client_registration_group: Option<String>,
    /// A host whose metadata documents may be fetched although it resolves to a loopback or
    /// private address (the fetch refuses the server's own network otherwise); repeatable
    /// (comma-separated in the variable).
    #[arg(
        long = "client-metadata-allow",
        value_name = "HOST",
        env = "CONSOLA_CLIENT_METADATA_ALLOW",
        value_delimiter = ','
    )]
    pub client_metadata_allow: Option<Vec<String>>,
    /// Root certificates (PEM) trusted for metadata documents, beside the system's (an
    /// internal CA).
    #[arg(long, value_name = "PATH", env = "CONSOLA_CLIENT_METADATA_CA")]
    pub client_metadata_ca: Option<PathBuf>,
    /// Serve Prometheus metrics at /metrics on this address, apart from the API (e.g.
    /// 127.0.0.1:9187) [default: no metrics].
    #[arg(long, env = "CONSOLA_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Log lines on stderr: `text`, or `json` (one object per line, with one line per
    /// request) [default: text].
    #[arg(long, value_enum, env = "CONSOLA_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,

    // The console over SSH (DESIGN §7).
    /// Serve the console over SSH on this address (e.g. 0.0.0.0:2222): `ssh -p 2222 HOST`
    /// opens it, signed in as the user whose key (Cuenta → Claves SSH) the client offers
    /// [default: no SSH].
    #[arg(long, env = "CONSOLA_SSH_LISTEN")]
    pub ssh_listen: Option<SocketAddr>,
    /// Refuse SSH connections without a registered key, instead of showing Iniciar sesión
    /// (`--ssh-require-key=false` turns off the file's `ssh_require_key = true`).
    #[arg(long, env = "CONSOLA_SSH_REQUIRE_KEY", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub ssh_require_key: Option<bool>,
    /// Minutes without a key pressed after which an SSH session is signed out [default: 30].
    #[arg(long, env = "CONSOLA_SSH_IDLE_MINUTES")]
    pub ssh_idle_minutes: Option<Bounded<1, { u64::MAX }>>,
    /// Seconds an SSH connection may take to sign in (with a key, or through Iniciar
    /// sesión), the key exchange included; then it is closed [default: 30].
    #[arg(long, env = "CONSOLA_SSH_LOGIN_GRACE_SECONDS")]
    pub ssh_login_grace_seconds: Option<Bounded<1, 3_600>>,
    /// Signed-in SSH sessions at once, in all; connections still signing in have limits of
    /// their own and never fill these [default: 100].
    #[arg(long, env = "CONSOLA_SSH_MAX_SESSIONS")]
    pub ssh_max_sessions: Option<Bounded<1, 100_000>>,
    /// Signed-in SSH sessions at once from one address [default: 10].
    #[arg(long, env = "CONSOLA_SSH_MAX_SESSIONS_PER_ADDRESS")]
    pub ssh_max_sessions_per_address: Option<Bounded<1, 100_000>>,

    // The system secret the keys in the database are sealed under (DESIGN §6), and the one
    // before it while it is being rotated. The flags and the file name files; the
    // variables CONSOLA_SYSTEM_SECRET and CONSOLA_PREVIOUS_SYSTEM_SECRET hold the secrets
    // themselves, for platforms that hand secrets over in the environment.
    /// File holding the system secret (at least 32 bytes; one trailing newline is not part of
    /// it), the same on every replica; required with PostgreSQL. The keys live in the database
    /// sealed under it. CONSOLA_SYSTEM_SECRET gives the secret itself instead of a file.
    #[arg(long, value_name = "PATH", env = "CONSOLA_SYSTEM_SECRET_FILE")]
    pub system_secret_file: Option<PathBuf>,
    /// File holding the system secret before a rotation: what it sealed is opened and sealed
    /// again under the current one. CONSOLA_PREVIOUS_SYSTEM_SECRET gives the secret itself.
    #[arg(long, value_name = "PATH", env = "CONSOLA_PREVIOUS_SYSTEM_SECRET_FILE")]
    pub previous_system_secret_file: Option<PathBuf>,
}

impl ServeSettings {
    /// The settings in force: each one that `given` (the `serve` subcommand's matches: its
    /// flags and variables) holds, else the file's. Setting by setting, whatever its value:
    /// a `false` given wins over the file's `true`.
    pub fn over_file(
        file: &ServeSettings,
        given: &clap::ArgMatches,
    ) -> Result<ServeSettings, clap::Error> {
        let mut settings = file.clone();
        settings.update_from_arg_matches(given)?;
        Ok(settings)
    }
}

/// How `serve` writes its log lines on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// A whole number from `MIN` to `MAX`: the range is part of the setting's type, so the flag,
/// the variable and the file key check it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    pub fn new(n: u64) -> Result<Self, String> {
        if n < MIN {
            Err(format!("debe ser al menos {MIN}"))
        } else if n > MAX {
            Err(format!("debe estar entre {MIN} y {MAX}"))
        } else {
            Ok(Bounded(n))
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl<const MIN: u64, const MAX: u64> std::str::FromStr for Bounded<MIN, MAX> {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let n = text
            .parse::<u64>()
            .map_err(|e| format!("«{text}» no es un número entero ({e})"))?;
        Bounded::new(n)
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Bounded::new(u64::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// The file's `public_url`, checked as `--public-url` is.
fn server_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    super::server_url(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// The file's `trusted_proxies`, each checked as `--trusted-proxy` is.
fn proxies<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<ipnet::IpNet>>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| crate::server::proxy::parse_cidr(text).map_err(serde::de::Error::custom))
        .collect::<Result<_, _>>()
        .map(Some)
}
