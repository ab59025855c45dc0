//! The command line on a terminal (a pseudo-terminal): colours only there and never with
//! `NO_COLOR`, the password asked without a flag, and `delete` asking before it deletes.

mod binary;
mod cli_support;
mod common;

use cli_support::{Cli, Target, signed_in};
use common::PASSWORD;
use consola::domain::*;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A command running on a pseudo-terminal, its output collected as it comes.
struct OnTerminal {
    output: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl OnTerminal {
    fn start(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> OnTerminal {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 30,
                cols: 200,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_consola"));
        command.env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"));
        command.env("XDG_STATE_HOME", cli.state.path());
        command.env_remove("NO_COLOR");
        for var in ["CONSOLA_CONFIG", "CONSOLA_SERVER", "CONSOLA_DATA_DIR"] {
            command.env_remove(var);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        match &cli.target {
            Target::Server(url) => command.args(["--server", url]),
            Target::DataDir(dir) => {
                command.arg("--data-dir");
                command.arg(dir);
            }
        }
        command.args(args);
        let child = pty.slave.spawn_command(command).expect("spawn consola");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let output = Arc::new(Mutex::new(Vec::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        OnTerminal {
            output,
            writer,
            child,
            _master: pty.master,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Waits (with a deadline) until the output shows `needle`.
    fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "{needle:?} never shown: {:?}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (with a deadline) until the screen, as a terminal would draw the output,
    /// shows `needle`.
    fn wait_for_screen(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut screen = vt100::Parser::new(30, 200, 0);
            screen.process(&self.output.lock().unwrap());
            let contents = screen.screen().contents();
            if contents.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} never on screen:\n{contents}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn type_line(&mut self, line: &str) {
        self.writer
            .write_all(format!("{line}\r").as_bytes())
            .unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits (with a deadline) for the command to end; its exit code and all it printed.
    fn finish(mut self) -> (u32, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "still running: {:?}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // What was printed last may still be on its way through the pty.
        let settle = Instant::now() + Duration::from_millis(500);
        let mut seen = self.text().len();
        while Instant::now() < settle {
            std::thread::sleep(Duration::from_millis(50));
            let now = self.text().len();
            if now == seen {
                break;
            }
            seen = now;
        }
        (status.exit_code(), self.text())
    }
}

fn on_terminal(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> (u32, String) {
    tokio::task::block_in_place(|| OnTerminal::start(cli, args, env).finish())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colours_only_on_a_terminal_and_never_with_no_color() {
    let (_t, cli) = signed_in().await;
    cli.run(&["groups", "create", "--name", "Reportes", "-q"])
        .ok();
    for name in ["ERP", "WMS"] {
        cli.run(&[
            "consumers",
            "create",
            "--name",
            name,
            "--group",
            "Reportes",
            "-q",
        ])
        .ok();
    }
    cli.run(&["consumers", "disable", "WMS", "-q"]).ok();

    let (code, shown) = on_terminal(&cli, &["consumers", "list"], &[]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("\x1b[32mActivo\x1b[0m"), "{shown:?}");
    assert!(shown.contains("\x1b[2mInactivo\x1b[0m"), "{shown:?}");

    let (code, plain) = on_terminal(&cli, &["consumers", "list"], &[("NO_COLOR", "1")]);
    assert_eq!(code, 0);
    assert!(
        plain.contains("Activo") && !plain.contains('\u{1b}'),
        "{plain:?}"
    );

    let piped = cli.run(&["consumers", "list"]).ok();
    assert!(piped.stdout.contains("Inactivo") && !piped.stdout.contains('\u{1b}'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_is_asked_and_delete_asks_before_deleting() {
    let (t, cli) = signed_in().await;
    let fresh = Cli::server(&t.server.url());
    let typed = tokio::task::block_in_place(|| {
        let mut login = OnTerminal::start(&fresh, &["login", "--username", "superadmin"], &[]);
        login.wait_for("Contraseña:");
        login.type_line(PASSWORD);
        login.finish()
    });
    assert_eq!(typed.0, 0, "{}", typed.1);
    assert!(typed.1.contains("Sesión iniciada"), "{}", typed.1);
    assert!(!typed.1.contains(PASSWORD), "the password is not echoed");
    fresh.run(&["consumers", "list"]).ok();

    cli.run(&["groups", "create", "--name", "Reportes", "-q"])
        .ok();
    cli.run(&[
        "consumers",
        "create",
        "--name",
        "ERP",
        "--group",
        "Reportes",
        "-q",
    ])
    .ok();
    let answer = |reply: &str| {
        tokio::task::block_in_place(|| {
            let mut delete = OnTerminal::start(&cli, &["consumers", "delete", "ERP"], &[]);
            delete.wait_for("¿Eliminar el consumidor «ERP»? [s/N]");
            delete.type_line(reply);
            delete.finish()
        })
    };
    let (code, shown) = answer("n");
    assert_eq!(code, 1, "{shown}");
    assert!(shown.contains("cancelado"), "{shown}");
    let left: Vec<Consumer> = cli.run(&["consumers", "list", "-o", "json"]).ok().json();
    assert_eq!(left.len(), 1, "a no deletes nothing");
    let (code, shown) = answer("s");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("eliminado"), "{shown}");
    let left: Vec<Consumer> = cli.run(&["consumers", "list", "-o", "json"]).ok().json();
    assert!(left.is_empty());
}

/// One data directory, one server: a console opened on a data directory that `consola
/// serve` already serves attaches to it (its status bar shows that server's URL) instead
/// of starting a second server over the same database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_on_a_served_data_directory_attaches_to_its_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = binary::consola()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = binary::served_url(&mut server);
    let console = Cli::data_dir(&data);
    tokio::task::block_in_place(|| {
        let mut open = OnTerminal::start(&console, &[], &[("TERM", "xterm-256color")]);
        open.wait_for_screen(&format!("API {url}"));
        let _ = open.child.kill();
        let _ = open.child.wait();
    });
    let holder = consola::server::instance::holder(&data, Duration::ZERO).unwrap();
    assert_eq!(
        holder.map(|h| h.url),
        Some(url),
        "the first server still holds it"
    );
    let _ = server.kill();
    let _ = server.wait();
}
