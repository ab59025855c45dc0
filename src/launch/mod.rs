//! What the binary does, command by command: the command line (`CommandLine`), the
//! configuration file read before anything starts, and the dispatch to `serve`, `setup`,
//! the console and the scriptable commands (`crate::cli`). `main.rs` only parses and calls.

mod console;
mod logging;
mod serve;
mod serve_args;
mod setup;

use crate::config;
use crate::domain::SetupRequest;
use crate::tui::Lang;
use anyhow::Context as _;
use clap::{CommandFactory, Parser, Subcommand};
use serve_args::{ServeLimits, ServeNetwork, ServeSsh, ServeSystemSecret};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

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
pub struct CommandLine {
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
pub enum Command {
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
    Script(crate::cli::Command),
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "consola")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("no se encontró el directorio de datos del usuario; use --data-dir")
}

/// Runs the command line `cli` asks for and says how it ended, as the process's exit status.
pub fn main(cli: CommandLine) -> std::process::ExitCode {
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
            if let Some(failure) = err.downcast_ref::<crate::cli::Failure>() {
                eprint!("{}", failure.report());
                return std::process::ExitCode::from(failure.exit_code());
            }
            // The reason and its causes, without a backtrace: this is for the admin.
            eprintln!("consola: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: CommandLine, file: config::FileConfig) -> anyhow::Result<()> {
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
            serve::serve(
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
            setup::setup(server_url, data_dir, request, setup_token).await
        }
        Some(Command::Script(command)) => {
            let context = crate::cli::Context {
                server: server_url,
                data_dir,
                state_dir: None,
            };
            crate::cli::run(command, context, CommandLine::command)
                .await
                .map_err(anyhow::Error::from)
        }
        None => {
            let lang = cli.lang.or(file.lang).unwrap_or_default();
            let port = cli.port.or(file.port).unwrap_or(DEFAULT_PORT);
            let mouse = cli.mouse || file.mouse.unwrap_or(false);
            console::console(server_url, data_dir, lang, port, mouse).await
        }
    }
}

/// The embedded server's port, and `serve`'s, when neither a flag nor the file names one.
const DEFAULT_PORT: u16 = 8787;

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
