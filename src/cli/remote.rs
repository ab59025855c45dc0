//! Commands given to `ssh host CMD` (DESIGN §7): the words are split like a POSIX shell
//! would, without running one, and parsed by the same clap definitions as on the command
//! line. They run as the key's user against the server's own API; what would act on the
//! server itself or read its files is refused.

use super::output::Streams;
use super::{Command, Failure};
use crate::client::Client;
use clap::{CommandFactory, Parser};

/// The command line over SSH: the nouns and their verbs, no more.
#[derive(Debug, Parser)]
#[command(
    name = "consola",
    version,
    about = "Consola de Consumidores OAuth, por SSH: `ssh HOST <noun> <verb>`"
)]
pub struct RemoteCommandLine {
    #[command(subcommand)]
    pub command: Command,
}

/// What parsing the line gave: a command, or what to print and the exit status.
#[derive(Debug)]
pub enum Parsed {
    Run(Command),
    /// `--help`, `--version` (status 0) or a usage error (status 2), already rendered.
    Done {
        text: String,
        status: u8,
        to_stderr: bool,
    },
}

/// Subcommands of the program that act on the server itself.
const SERVER_COMMANDS: [&str; 2] = ["serve", "setup"];
/// Options that would name this machine's files or another server.
const LOCAL_OPTIONS: [&str; 3] = ["--data-dir", "--config", "--server"];

pub fn parse(line: &str) -> Parsed {
    let refuse = |text: String| Parsed::Done {
        text: format!("consola: {text}\n"),
        status: 2,
        to_stderr: true,
    };
    let Some(words) = shlex::split(line) else {
        return refuse("no se pudo leer el comando (¿comillas sin cerrar?)".into());
    };
    if let Some(first) = words.iter().find(|w| !w.starts_with('-'))
        && SERVER_COMMANDS.contains(&first.as_str())
    {
        return refuse(format!(
            "«{first}» actúa sobre el servidor mismo: no está disponible por SSH"
        ));
    }
    if let Some(option) = words.iter().find(|w| {
        LOCAL_OPTIONS
            .iter()
            .any(|o| w.as_str() == *o || w.starts_with(&format!("{o}=")))
    }) {
        let option = option.split('=').next().unwrap_or(option);
        return refuse(format!(
            "{option} no está disponible por SSH: los comandos corren en el servidor, como el \
             usuario de la clave"
        ));
    }
    let argv = std::iter::once("consola".to_string()).chain(words);
    match RemoteCommandLine::try_parse_from(argv) {
        Ok(parsed) => Parsed::Run(parsed.command),
        Err(err) => Parsed::Done {
            text: err.render().to_string(),
            status: u8::try_from(err.exit_code()).unwrap_or(2),
            to_stderr: err.use_stderr(),
        },
    }
}

/// Runs a parsed command with `client` (signed in as the key's user), writing to
/// `streams`.
pub async fn run(command: Command, client: Client, streams: Streams) -> Result<(), Failure> {
    match command {
        Command::Login(_) | Command::Logout => Err(Failure::Usage(
            "por SSH la sesión es la de la clave: login y logout no hacen falta".into(),
        )),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            shell.generate(&mut RemoteCommandLine::command(), &mut out);
            streams.write_out(&String::from_utf8_lossy(&out))
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(RemoteCommandLine::command()).render(&mut out)?;
            streams.write_out(&String::from_utf8_lossy(&out))
        }
        Command::Consumers { output, verb } => {
            super::consumers::run(client, output.printer_to(streams), verb).await
        }
        Command::Resources { output, verb } => {
            super::resources::run(client, output.printer_to(streams), verb).await
        }
        Command::Groups { output, verb } => {
            super::groups::run(client, output.printer_to(streams), verb).await
        }
        Command::Users { output, verb } => {
            super::users::run(client, output.printer_to(streams), verb).await
        }
        Command::Audit { output, verb } => {
            super::audit::run(client, output.printer_to(streams), verb).await
        }
        Command::SigningKeys { output, verb } => {
            super::keys::signing(client, output.printer_to(streams), verb).await
        }
        Command::ApiKey { output, verb } => {
            super::keys::api_key(client, output.printer_to(streams), verb).await
        }
        Command::SshKeys { output, verb } => {
            super::ssh_keys::run(client, output.printer_to(streams), verb).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(line: &str) -> String {
        match parse(line) {
            Parsed::Done { text, status, .. } => {
                assert_eq!(status, 2, "{line}: {text}");
                text
            }
            Parsed::Run(command) => panic!("{line}: ran {command:?}"),
        }
    }

    #[test]
    fn words_are_split_without_a_shell_and_parsed_like_the_command_line() {
        let Parsed::Run(Command::Consumers { output, .. }) = parse("consumers list -o json") else {
            panic!()
        };
        assert_eq!(output.format, super::super::Format::Json);
        // Quotes group words; a semicolon is just a character in a word.
        assert!(matches!(
            parse("consumers get 'Portal clientes; rm -rf /'"),
            Parsed::Run(Command::Consumers { .. })
        ));
    }

    #[test]
    fn what_acts_on_the_server_or_reads_its_files_is_refused() {
        assert!(refused("serve --listen 0.0.0.0:80").contains("servidor mismo"));
        assert!(refused("setup --account x").contains("servidor mismo"));
        assert!(refused("consumers list --data-dir /etc").contains("--data-dir"));
        assert!(refused("--config=/etc/passwd consumers list").contains("--config"));
        assert!(refused("consumers list --server http://x").contains("--server"));
        assert!(refused("consumers 'list").contains("comillas"));
        assert!(refused("nada").contains("nada"));
    }

    #[test]
    fn help_is_an_answer_with_status_zero() {
        let Parsed::Done {
            text,
            status,
            to_stderr,
        } = parse("--help")
        else {
            panic!()
        };
        assert_eq!((status, to_stderr), (0, false));
        assert!(text.contains("consumers"), "{text}");
        // Only the nouns: no `serve` or `setup` to offer.
        let commands: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("  "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert!(commands.contains(&"consumers"), "{commands:?}");
        assert!(
            !commands.contains(&"serve") && !commands.contains(&"setup"),
            "{commands:?}"
        );
    }
}
