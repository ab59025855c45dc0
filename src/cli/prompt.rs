//! What the command line asks a person: passwords (never from a flag) and confirmations.

use super::{CliResult, Failure};
use std::io::{BufRead, IsTerminal, Read, Write};

/// The password from standard input (`from_stdin`, the whole input without its final line
/// break) or asked on the terminal without echo. Without a terminal and without
/// `--password-stdin` it is a usage error: a script must say where the password comes from.
pub fn password(from_stdin: bool, label: &str, local: bool) -> CliResult<String> {
    if !local {
        return Err(Failure::Usage(
            "por SSH no se leen contraseñas: use la consola (ssh -t) o consola en su máquina"
                .into(),
        ));
    }
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::failed(format!("no se pudo leer la entrada estándar: {e}")))?;
        return Ok(text.trim_end_matches(['\n', '\r']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "sin terminal no se puede preguntar la contraseña; use --password-stdin".into(),
        ));
    }
    rpassword::prompt_password(label)
        .map_err(|e| Failure::failed(format!("no se pudo leer la contraseña: {e}")))
}

/// True when the person confirms `question` on the terminal, or `yes` was given. Without
/// a terminal and without `--yes` it is a usage error: nothing is deleted by surprise.
pub fn confirm(question: &str, yes: bool, streams: &super::output::Streams) -> CliResult<bool> {
    if yes {
        return Ok(true);
    }
    if !(streams.local && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Failure::Usage(format!(
            "{question}: sin terminal hay que confirmarlo con --yes"
        )));
    }
    let mut stderr = std::io::stderr();
    write!(stderr, "{question} [s/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_lowercase().as_str(),
        "s" | "si" | "sí" | "y" | "yes"
    ))
}
