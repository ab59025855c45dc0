//! The command line: one clap definition for the console, `serve`, `setup` and the
//! scriptable commands, as `--help`, the completion scripts and the manual page show it.

use crate::config::{self, ServeSettings};
use crate::terminal::Lang;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The whole command line: the console's flags, and each command's.
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
    pub config: Option<PathBuf>,
    /// URL of a remote `consola serve` (default: start the embedded server).
    #[arg(long, env = "CONSOLA_SERVER", global = true, value_parser = config::server_url)]
    pub server: Option<String>,
    /// Data directory (database, key file, log).
    #[arg(long, env = "CONSOLA_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Language of the console [default: es].
    #[arg(long, value_enum, env = "CONSOLA_LANG")]
    pub lang: Option<Lang>,
    /// Port of the embedded server on 127.0.0.1, an ephemeral one when taken [default: 8787].
    #[arg(long, env = "CONSOLA_PORT")]
    pub port: Option<u16>,
    /// Clicks and the wheel in the console (the terminal's own selection then needs Shift);
    /// `--mouse=false` turns off the file's `mouse = true`.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub mouse: Option<bool>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to run, when not the console.
#[derive(Subcommand)]
pub enum Command {
    /// Run the server alone, for a team of admins who connect with `consola --server URL`.
    Serve {
        #[command(flatten)]
        settings: Box<ServeSettings>,
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
