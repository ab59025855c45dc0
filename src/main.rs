//! `consola`: the console (default), the server alone (`serve`), scripted setup (`setup`)
//! and the scriptable commands (`consola <noun> <verb>`, in `consola::cli`).
//! Parses arguments, sets up logging and wires the layers; holds no logic of its own.

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser, Subcommand};
use consola::client::Client;
use consola::config;
use consola::domain::SetupRequest;
use consola::server::{self, ServerConfig};
use consola::tui::Lang;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// mimalloc: allocation and freeing were about a tenth of the token endpoint's time under
/// glibc's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "consola",
    version,
    about = "Consola de Consumidores OAuth: Configuración → Conexiones API, desde el teclado",
    long_about = "Consola de terminal para el Súper Administrador de una cuenta CMMS.\n\n\
        Sin subcomando abre la consola. Sin --server arranca un servidor embebido en \
        127.0.0.1 sobre la base de datos del directorio de datos; la barra de estado \
        muestra su URL para probar las credenciales con curl."
)]
struct Cli {
    /// Configuration file (TOML) [default: config.toml in the user's configuration
    /// directory, when it exists]. Flags and environment variables win over it.
    #[arg(long, env = "CONSOLA_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// URL of a remote `consola serve` (default: start the embedded server).
    #[arg(long, env = "CONSOLA_SERVER", global = true, value_parser = config::server_url)]
    server: Option<String>,
    /// Data directory (database, key file, log).
    #[arg(long, env = "CONSOLA_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Language of the console [default: es].
    #[arg(long, value_enum, env = "CONSOLA_LANG")]
    lang: Option<Lang>,
    /// Port of the embedded server on 127.0.0.1, an ephemeral one when taken [default: 8787].
    #[arg(long, env = "CONSOLA_PORT")]
    port: Option<u16>,
    /// Clicks and the wheel in the console (the terminal's own selection then needs Shift).
    #[arg(long)]
    mouse: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server alone, for a team of admins who connect with `consola --server URL`.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8787].
        #[arg(long, env = "CONSOLA_LISTEN")]
        listen: Option<SocketAddr>,
        /// Database URL: `sqlite:PATH` or `postgres://USER@HOST/DB` (several replicas over one
        /// database); default: consola.db in the data directory.
        #[arg(long, env = "CONSOLA_DATABASE_URL")]
        database: Option<String>,
        #[command(flatten)]
        limits: ServeLimits,
        #[command(flatten)]
        network: ServeNetwork,
        #[command(flatten)]
        ssh: ServeSsh,
        #[command(flatten)]
        secret: Box<ServeSystemSecret>,
    },
    /// Create the account and its Súper Administrador without the console (scripted first run).
    Setup {
        /// Account name shown in the header, e.g. "FRACTTAL - Activación".
        #[arg(long)]
        account: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// Read the password from standard input (required: never pass it as an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// One-time token printed by `consola serve`, when --server is not on this machine.
        #[arg(long, env = "CONSOLA_SETUP_TOKEN")]
        setup_token: Option<String>,
    },
    #[command(flatten)]
    Script(consola::cli::Command),
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "consola")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("no se encontró el directorio de datos del usuario; use --data-dir")
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The file first, before the runtime: a bad one stops here, before anything is created.
    let result = config::load(cli.config.as_deref())
        .map_err(anyhow::Error::from)
        .and_then(|(file, _)| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("no se pudo iniciar el runtime")?;
            runtime.block_on(run(cli, file))
        });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // A scripted command says why on stderr and exits 2 for a usage error, else 1.
            if let Some(failure) = err.downcast_ref::<consola::cli::Failure>() {
                eprint!("{}", failure.report());
                return std::process::ExitCode::from(failure.exit_code());
            }
            // The reason and its causes, without a backtrace: this is for the admin.
            eprintln!("consola: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, file: config::FileConfig) -> anyhow::Result<()> {
    let data_dir = match cli.data_dir.clone().or(file.data_dir) {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let server_url = cli.server.or(file.server);
    match cli.command {
        Some(Command::Serve {
            listen,
            database,
            limits,
            network,
            ssh,
            secret,
        }) => {
            let listen = listen
                .or(file.serve.listen)
                .unwrap_or_else(|| loopback(DEFAULT_PORT));
            let network = network.or_file(&file.serve)?;
            let limits = limits.or_file(&file.serve);
            let ssh = ssh.or_file(&file.serve).options();
            let secret = secret.read(&file.serve, |name| std::env::var_os(name))?;
            serve(
                data_dir,
                listen,
                database.or(file.serve.database.clone()),
                limits,
                network,
                ssh,
                secret,
            )
            .await
        }
        Some(Command::Setup {
            account,
            username,
            display_name,
            password_stdin: _,
            setup_token,
        }) => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("no se pudo leer la contraseña de la entrada estándar")?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let request = SetupRequest {
                account_name: account,
                username,
                display_name,
                password: password.into(),
            };
            setup(server_url, data_dir, request, setup_token).await
        }
        Some(Command::Script(command)) => {
            let context = consola::cli::Context {
                server: server_url,
                data_dir,
                state_dir: None,
            };
            consola::cli::run(command, context, Cli::command)
                .await
                .map_err(anyhow::Error::from)
        }
        None => {
            let lang = cli.lang.or(file.lang).unwrap_or_default();
            let port = cli.port.or(file.port).unwrap_or(DEFAULT_PORT);
            let mouse = cli.mouse || file.mouse.unwrap_or(false);
            console(server_url, data_dir, lang, port, mouse).await
        }
    }
}

/// The embedded server's port, and `serve`'s, when neither a flag nor the file names one.
const DEFAULT_PORT: u16 = 8787;

/// `serve`'s log on stderr. One line per request (target `consola::request`) is for log
/// collectors: on by default in JSON, off by default in text; `RUST_LOG` decides over both.
fn log_to_stderr(format: config::LogFormat) {
    let default = match format {
        config::LogFormat::Text => "info,consola::request=off",
        config::LogFormat::Json => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        config::LogFormat::Text => builder.init(),
        config::LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}

async fn serve(
    data_dir: PathBuf,
    listen: SocketAddr,
    database: Option<String>,
    limits: ServeLimits,
    network: ServeNetwork,
    ssh: Option<consola::ssh::SshOptions>,
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
                consola::ssh::SshServer::start(options, &data_dir, running.service.clone(), front)
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

async fn setup(
    server_url: Option<String>,
    data_dir: PathBuf,
    request: SetupRequest,
    setup_token: Option<String>,
) -> anyhow::Result<()> {
    let embedded = match &server_url {
        Some(_) => None,
        None => {
            Some(server::instance::start_or_attach(ServerConfig::new(data_dir, loopback(0))).await?)
        }
    };
    let url = server_url.unwrap_or_else(|| embedded.as_ref().map(|s| s.url()).unwrap_or_default());
    let client = Client::new(&url)?;
    let result = client.setup(&request, setup_token.as_deref()).await;
    if let Some(server) = embedded {
        server.shutdown().await;
    }
    match result {
        Ok(user) => {
            println!(
                "Cuenta «{}» creada; Súper Administrador: {}",
                request.account_name, user.username
            );
            Ok(())
        }
        Err(err) => {
            let mut message = err.to_string();
            for (field, problem) in err.field_errors().0 {
                message.push_str(&format!("\n  {field}: {problem}"));
            }
            bail!(message)
        }
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Logs go to a file in the data directory while the console owns the screen.
fn log_to_file(data_dir: &Path) -> anyhow::Result<()> {
    server::data_dir::ensure_private_dir(data_dir)?;
    let path = data_dir.join("consola.log");
    let file = consola::private_file::options()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("no se pudo abrir {}", path.display()))?;
    // No line per request of the console's own calls unless RUST_LOG asks for them.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,consola::request=off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
    Ok(())
}

async fn console(
    server_url: Option<String>,
    data_dir: PathBuf,
    lang: Lang,
    port: u16,
    mouse: bool,
) -> anyhow::Result<()> {
    log_to_file(&data_dir)?;
    // The embedded server starts beside the console's first frame, not before it.
    let (url_tx, url_rx) = tokio::sync::oneshot::channel();
    // Tells an attached console's takeover to stop waiting: the console quits.
    let (quit_tx, quit_rx) = tokio::sync::oneshot::channel::<()>();
    let embedded = match server_url {
        Some(url) => {
            let _ = url_tx.send(url);
            None
        }
        None => {
            let mut config = ServerConfig::new(data_dir.clone(), loopback(port));
            config.fallback_to_ephemeral_port = true;
            Some(tokio::spawn(async move {
                // One data directory, one server: a second console attaches to the first's.
                let server = server::instance::start_or_attach(config.clone()).await?;
                let _ = url_tx.send(server.url());
                let server::instance::Served::Attached(holder) = server else {
                    return anyhow::Ok(server);
                };
                // When the console that serves quits, this one takes over, on the same
                // address: its URL (and whatever the admin typed) stays good.
                config.listen = holder.address().unwrap_or(config.listen);
                config.fallback_to_ephemeral_port = false;
                let stop = async {
                    let _ = quit_rx.await;
                };
                let every = server::instance::TAKE_OVER_EVERY;
                Ok(
                    match server::instance::take_over(config, every, stop).await {
                        Some(started) => server::instance::Served::Started(started),
                        None => server::instance::Served::Attached(holder),
                    },
                )
            }))
        }
    };
    let connect = async {
        url_rx
            .await
            .map_err(|_| anyhow::anyhow!("el servidor embebido no arrancó"))
    };
    let result = consola::tui::run(
        connect,
        consola::tui::Options {
            lang,
            look: consola::tui::look::Look::from_env(|name| std::env::var(name).ok()),
            mouse,
        },
    )
    .await;
    let _ = quit_tx.send(());
    if let Some(task) = embedded {
        match task.await.context("servidor embebido")? {
            Ok(server) => server.shutdown().await,
            // The console could not connect because the server did not start: say why.
            Err(error) => return Err(error),
        }
    }
    result
}

/// `serve`'s limits under attack; each defaults to the service's own default.
#[derive(clap::Args, Debug, Default)]
struct ServeLimits {
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
struct ServeNetwork {
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
    log_format: Option<config::LogFormat>,
}

impl ServeNetwork {
    /// Fills what the flags and the environment left unset from the file's `[serve]`.
    fn or_file(mut self, file: &config::ServeConfig) -> anyhow::Result<ServeNetwork> {
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

    fn apply(self, config: &mut ServerConfig) -> anyhow::Result<()> {
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
struct ServeSsh {
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
    fn or_file(self, file: &config::ServeConfig) -> ServeSsh {
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

    fn options(self) -> Option<consola::ssh::SshOptions> {
        let mut options = consola::ssh::SshOptions::new(self.ssh_listen?);
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
    fn or_file(self, file: &config::ServeConfig) -> ServeLimits {
        ServeLimits {
            audit_retention_days: self.audit_retention_days.or(file.audit_retention_days),
            password_hashing_concurrency: self
                .password_hashing_concurrency
                .or(file.password_hashing_concurrency),
            max_revocations: self.max_revocations.or(file.max_revocations),
        }
    }

    fn apply(&self, service: &mut consola::service::ServiceConfig) {
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
struct ServeSystemSecret {
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
struct SystemSecrets {
    current: Option<consola::domain::system_secret::SystemSecret>,
    previous: Option<consola::domain::system_secret::SystemSecret>,
}

impl ServeSystemSecret {
    /// Reads each secret: from the file its flag (or `*_FILE` variable) names, else from its
    /// variable (`env`), else from the file the configuration file names. Flags and the
    /// environment win over the configuration file, as everywhere.
    fn read(
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
) -> anyhow::Result<consola::domain::system_secret::SystemSecret> {
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
    Ok(consola::domain::system_secret::SystemSecret::new(bytes)?)
}
