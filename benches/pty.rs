//! Targets 4 and 5: the release console in a pseudo-terminal at 120×40, read through vt100.
//!
//! `pty ssh --consola BIN --data DIR`: logs in as `bench`, opens Consumidores OAuth, presses
//! ↓ once and prints the bytes written (`down_bytes`) and the bytes vt100 needs to repaint
//! just the cells that changed (`diff_bytes`); then prints the bytes written in 5 s of
//! nothing happening (`idle_bytes`).
//!
//! `pty startup --consola BIN --data DIR --baseline BIN --runs N`: the time from spawning the
//! process to its first complete frame (the status bar, the last row ratatui paints), for
//! the console and for the minimal ratatui program `first_frame`, alternately; prints both
//! medians in milliseconds.

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "contraseña de banco";
const ROWS: u16 = 40;
const COLS: u16 = 120;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

struct Screen {
    parser: vt100::Parser,
    bytes: usize,
    last_output: Instant,
}

struct Pty {
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<Screen>>,
    child: Box<dyn Child + Send + Sync>,
}

impl Pty {
    fn spawn(program: &str, args: &[&str]) -> anyhow::Result<Pty> {
        let pty = native_pty_system().openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })?;
        let mut command = CommandBuilder::new(program);
        command.args(args);
        command.env("TERM", "xterm-256color");
        for var in [
            "DISPLAY",
            "WAYLAND_DISPLAY",
            "CONSOLA_SERVER",
            "CONSOLA_LANG",
            "RUST_LOG",
        ] {
            command.env_remove(var);
        }
        let child = pty.slave.spawn_command(command)?;
        let mut reader = pty.master.try_clone_reader()?;
        let writer = pty.master.take_writer()?;
        let screen = Arc::new(Mutex::new(Screen {
            parser: vt100::Parser::new(ROWS, COLS, 0),
            bytes: 0,
            last_output: Instant::now(),
        }));
        let shared = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = shared.lock().expect("screen");
                s.parser.process(&buf[..n]);
                s.bytes += n;
                s.last_output = Instant::now();
            }
        });
        // The master must outlive the child.
        std::mem::forget(pty.master);
        Ok(Pty {
            writer,
            screen,
            child,
        })
    }

    fn text(&self) -> String {
        self.screen
            .lock()
            .expect("screen")
            .parser
            .screen()
            .contents()
    }

    fn bytes(&self) -> usize {
        self.screen.lock().expect("screen").bytes
    }

    /// Polls the screen (every millisecond) until it shows `needle`; returns when it did.
    fn wait_for(&self, needle: &str) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.text().contains(needle) {
                return Ok(Instant::now());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits until nothing has been written for `quiet`.
    fn wait_quiet(&self, quiet: Duration) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let last = self.screen.lock().expect("screen").last_output;
            if last.elapsed() >= quiet {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until more than `bytes` have been written in all.
    fn wait_output_after(&self, bytes: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.bytes() <= bytes {
            anyhow::ensure!(Instant::now() < deadline, "no output after the key");
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    fn send(&mut self, bytes: &str) -> anyhow::Result<()> {
        self.writer.write_all(bytes.as_bytes())?;
        self.writer.flush()?;
        Ok(())
    }

    fn type_text(&mut self, text: &str) -> anyhow::Result<()> {
        for c in text.chars() {
            self.send(&c.to_string())?;
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ssh(consola: &str, data: &str) -> anyhow::Result<()> {
    let mut pty = Pty::spawn(consola, &["--data-dir", data, "--port", "0"])?;
    pty.wait_for("Iniciar sesión")?;
    pty.wait_quiet(Duration::from_millis(300));
    pty.type_text("bench\t")?;
    pty.type_text(PASSWORD)?;
    pty.send("\r")?;
    pty.wait_for("Bench ▾")?;
    pty.send("m")?;
    pty.wait_for("Cerrar sesión")?;
    pty.send("\r")?;
    pty.wait_for("Portal de Invitados")?;
    for _ in 0..9 {
        pty.send("j")?;
    }
    pty.send("\r")?;
    pty.wait_for("CONEXIÓN API")?;
    pty.send("\x1b[C")?;
    pty.wait_for("Consumidores OAuth (")?;
    pty.wait_quiet(Duration::from_millis(1000));
    let (before, start) = {
        let s = pty.screen.lock().expect("screen");
        (s.parser.screen().clone(), s.bytes)
    };
    pty.send("\x1b[B")?;
    pty.wait_output_after(start)?;
    pty.wait_quiet(Duration::from_millis(500));
    let (after, end) = {
        let s = pty.screen.lock().expect("screen");
        (s.parser.screen().clone(), s.bytes)
    };
    let diff = after.contents_diff(&before).len();
    println!("down_bytes: {}", end - start);
    println!("diff_bytes: {diff}");
    let idle_from = pty.bytes();
    std::thread::sleep(Duration::from_secs(5));
    println!("idle_bytes: {}", pty.bytes() - idle_from);
    Ok(())
}

/// Spawns `program` and returns the milliseconds until `marker` shows.
fn first_frame(program: &str, args: &[&str], marker: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let pty = Pty::spawn(program, args)?;
    let shown = pty.wait_for(marker)?;
    Ok((shown - started).as_secs_f64() * 1e3)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn startup(consola: &str, data: &str, baseline: &str, runs: usize) -> anyhow::Result<()> {
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    // One untimed run each warms the page cache.
    first_frame(baseline, &["--draw"], "primer cuadro listo")?;
    first_frame(consola, &["--data-dir", data, "--port", "0"], "Sin sesión")?;
    for _ in 0..runs {
        base.push(first_frame(baseline, &["--draw"], "primer cuadro listo")?);
        ours.push(first_frame(
            consola,
            &["--data-dir", data, "--port", "0"],
            "Sin sesión",
        )?);
    }
    println!("console_ms: {:.2}", median(ours.clone()));
    println!("baseline_ms: {:.2}", median(base.clone()));
    println!("console_runs_ms: {ours:.1?}");
    println!("baseline_runs_ms: {base:.1?}");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(consola), Some(data)) = (arg(&args, "--consola"), arg(&args, "--data")) else {
        println!("pty: run through benches/run.py (needs ssh|startup --consola BIN --data DIR)");
        return Ok(());
    };
    match args.get(1).map(String::as_str) {
        Some("ssh") => ssh(&consola, &data),
        Some("startup") => {
            let baseline = arg(&args, "--baseline").unwrap_or_default();
            let runs = arg(&args, "--runs")
                .and_then(|s| s.parse().ok())
                .unwrap_or(9);
            startup(&consola, &data, &baseline, runs)
        }
        other => anyhow::bail!("unknown mode {other:?}"),
    }
}
