//! The scriptable commands, `consola <noun> <verb>` (DESIGN §8): argument definitions and
//! dispatch. Every command goes through the typed `Client`, against `--server URL` or the
//! embedded server over the data directory (started for the command, or the running one
//! attached to; `crate::target` chooses). Sessions are started and ended by `login`, kept
//! per server by `session`; output is shaped by `output`.

mod audit;
mod consumers;
mod groups;
mod keys;
mod login;
mod output;
mod prompt;
pub mod remote;
mod resolve;
mod resources;
pub mod session;
mod ssh_keys;
mod target;
mod users;

pub use output::{Format, OutputArgs, Streams};
pub use target::Context;

use crate::client::ClientError;
use clap::{Subcommand, ValueEnum};

/// The nouns of the command line, each with its verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Consumidores OAuth: the clients whose Clave and Secreto get tokens.
    Consumers {
        #[command(flatten)]
        output: OutputArgs,
        #[command(subcommand)]
        verb: consumers::Verb,
    },
    /// Recursos protegidos (RFC 8707): the APIs tokens are issued for, each token's audience.
    Resources {
        #[command(flatten)]
        output: OutputArgs,
        #[command(subcommand)]
        verb: resources::Verb,
    },
    /// Grupos de permisos: what a consumer's tokens may do, module by module.
    Groups {
        #[command(flatten)]
        output: OutputArgs,
        #[command(subcommand)]
        verb: groups::Verb,
    },
    /// Cuentas de Usuarios: who may use the console and this command line.
    Users {
        #[command(flatten)]
        output: OutputArgs,
        #[command(subcommand)]
        verb: users::Verb,
    },
    /// Log de Transacciones.
    Audit {
        #[command(flatten)]
        output: OutputArgs,
        #[command(subcommand)]
        verb: audit::Verb,
    },
    /// The keys that sign JWT access tokens.
    SigningKeys {
        #[command(flatten)]
        output: OutputArgs,
        #[command(subcommand)]
        verb: keys::SigningVerb,
    },
    /// Claves SSH: with one of them, `ssh -p PORT host` opens the console as its user.
    SshKeys {
        #[command(flatten)]
        output: OutputArgs,
        #[command(subcommand)]
        verb: ssh_keys::Verb,
    },
    /// The legacy API key ("Método de autenticación deprecado").
    ApiKey {
        #[command(flatten)]
        output: OutputArgs,
        #[command(subcommand)]
        verb: keys::ApiKeyVerb,
    },
    /// Start a session and keep it for the next commands.
    ///
    /// With --server the session is kept for that server; without it, for the embedded
    /// server over the data directory (started for the command, or the console's or
    /// `consola serve`'s that already runs on it). Sessions live in the XDG state
    /// directory (e.g. ~/.local/state/consola/sessions), one file per server, mode 0600,
    /// with the token sealed. The password comes from standard input (--password-stdin)
    /// or a prompt, never from a flag.
    Login(login::LoginArgs),
    /// End the session kept for this server (or for the data directory without --server).
    Logout,
    /// Print a shell completion script (bash, zsh or fish) to standard output.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the manual page (roff) to standard output.
    Man,
}

/// The shells a completion script is generated for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    /// Writes the completion script of `definition` for this shell.
    pub fn generate(self, definition: &mut clap::Command, out: &mut dyn std::io::Write) {
        let shell = match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        };
        clap_complete::generate(shell, definition, "consola", out);
    }
}

/// Why a command failed, and so its exit status: 2 for a usage error, 1 for the rest.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The command line asks for something it cannot have (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The server refused or could not be reached (exit 1): its detail and field errors.
    #[error("{0}")]
    Api(ClientError),
    /// Anything else that stopped the command (exit 1), with lines that explain it.
    #[error("{message}")]
    Failed {
        message: String,
        details: Vec<String>,
    },
}

impl Failure {
    pub fn failed(message: impl Into<String>) -> Failure {
        Failure::Failed {
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            _ => 1,
        }
    }

    /// What goes to stderr: the reason, then one indented line per field or detail.
    pub fn report(&self) -> String {
        let clean = |text: &str| crate::terminal::clean(text).into_owned();
        let mut out = format!("consola: {}\n", clean(&self.to_string()));
        match self {
            Failure::Api(err) => {
                for (field, message) in err.field_errors().0 {
                    out.push_str(&format!("  {}: {}\n", clean(&field), clean(&message)));
                }
            }
            Failure::Failed { details, .. } => {
                for line in details {
                    out.push_str(&format!("  {}\n", clean(line)));
                }
            }
            Failure::Usage(_) => {}
        }
        out
    }
}

impl From<ClientError> for Failure {
    fn from(err: ClientError) -> Failure {
        Failure::Api(err)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Failure {
        Failure::failed(format!("{err:#}"))
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Failure {
        Failure::failed(format!("no se pudo escribir la salida: {err}"))
    }
}

pub type CliResult<T = ()> = Result<T, Failure>;

/// Runs one command. `command_line` is the whole program's clap definition, for the
/// completion scripts and the manual page.
pub async fn run(
    command: Command,
    context: Context,
    command_line: impl FnOnce() -> clap::Command,
) -> CliResult {
    match command {
        Command::Completions { shell } => {
            shell.generate(&mut command_line(), &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            clap_mangen::Man::new(command_line()).render(&mut std::io::stdout())?;
            Ok(())
        }
        Command::Login(args) => login::login(&context, args).await,
        Command::Logout => login::logout(&context).await,
        Command::Consumers { output, verb } => {
            target::signed_in(&context, |client| {
                consumers::run(client, output.printer(), verb.clone())
            })
            .await
        }
        Command::Resources { output, verb } => {
            target::signed_in(&context, |client| {
                resources::run(client, output.printer(), verb.clone())
            })
            .await
        }
        Command::Groups { output, verb } => {
            target::signed_in(&context, |client| {
                groups::run(client, output.printer(), verb.clone())
            })
            .await
        }
        Command::Users { output, verb } => {
            target::signed_in(&context, |client| {
                users::run(client, output.printer(), verb.clone())
            })
            .await
        }
        Command::Audit { output, verb } => {
            target::signed_in(&context, |client| {
                audit::run(client, output.printer(), verb.clone())
            })
            .await
        }
        Command::SigningKeys { output, verb } => {
            target::signed_in(&context, |client| {
                keys::signing(client, output.printer(), verb.clone())
            })
            .await
        }
        Command::ApiKey { output, verb } => {
            target::signed_in(&context, |client| {
                keys::api_key(client, output.printer(), verb.clone())
            })
            .await
        }
        Command::SshKeys { output, verb } => {
            target::signed_in(&context, |client| {
                ssh_keys::run(client, output.printer(), verb.clone())
            })
            .await
        }
    }
}
