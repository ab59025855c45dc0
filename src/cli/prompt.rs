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
    prompt_without_echo(label)
        .map_err(|e| Failure::failed(format!("no se pudo leer la contraseña: {e}")))
}

/// Asks on the terminal with its echo off from before the prompt shows: rpassword writes
/// the prompt first and turns the echo off after, so a password typed (or pasted) the moment
/// the prompt appeared could be shown on the screen.
fn prompt_without_echo(label: &str) -> std::io::Result<String> {
    use std::os::fd::AsRawFd;
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let fd = tty.as_raw_fd();
    // SAFETY: tcgetattr fills the termios it is given, for an open descriptor.
    let mut original: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut original) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut quiet = original;
    quiet.c_lflag &= !(libc::ECHO | libc::ECHOE | libc::ECHOK);
    // SAFETY: the settings were read from this terminal, with the echo flags cleared.
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let read = tty
        .write_all(label.as_bytes())
        .and_then(|()| tty.flush())
        .and_then(|()| rpassword::read_password());
    // SAFETY: puts back what tcgetattr read, whatever the read gave.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &original) };
    read
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
