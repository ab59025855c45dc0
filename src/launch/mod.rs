//! What the binary does, command by command: the command line (`CommandLine`), the
//! configuration file read before anything starts, and the dispatch to `serve`, `setup`,
//! the console and the scriptable commands (`crate::cli`). `main.rs` only parses and calls.

mod command_line;
mod console;
mod logging;
mod serve;
mod setup;
mod system_secret;

pub use command_line::{Command, CommandLine};

use crate::config;
use crate::domain::SetupRequest;
use anyhow::Context as _;
use clap::{CommandFactory, FromArgMatches};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "consola")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("no se encontró el directorio de datos del usuario; use --data-dir")
}

/// Runs what the command line asks for (`matches`, parsed by [`CommandLine`]'s definition)
/// and says how it ended, as the process's exit status.
pub fn main(matches: clap::ArgMatches) -> std::process::ExitCode {
    let cli = match CommandLine::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.format(&mut CommandLine::command()).exit(),
    };
    // The file first, before the runtime: a bad one stops here, before anything is created.
    let result = config::load(cli.config.as_deref())
        .map_err(anyhow::Error::from)
        .and_then(|(file, _)| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("no se pudo iniciar el runtime")?;
            runtime.block_on(run(cli, &matches, file))
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

async fn run(
    cli: CommandLine,
    matches: &clap::ArgMatches,
    file: config::FileConfig,
) -> anyhow::Result<()> {
    let data_dir = match cli.data_dir.clone().or(file.data_dir) {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let server_url = cli.server.or(file.server);
    match cli.command {
        Some(Command::Serve { settings }) => {
            // The same flags and variables as parsed, to tell which were given.
            let given = matches
                .subcommand_matches("serve")
                .context("la línea de órdenes de serve")?;
            serve::serve(data_dir, &settings, given, &file.serve).await
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
            let mouse = cli.mouse.or(file.mouse).unwrap_or(false);
            console::console(server_url, data_dir, lang, port, mouse).await
        }
    }
}

/// The embedded server's port, and `serve`'s, when neither a flag nor the file names one.
const DEFAULT_PORT: u16 = 8787;

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
