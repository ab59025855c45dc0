//! Targets 4 and 5: the release console in a pseudo-terminal at 120×40, read through vt100.
//!
//! `pty ssh --consola BIN --data DIR`: logs in as `bench`, opens Consumidores OAuth, presses
//! ↓ once and prints the bytes written (`down_bytes`) and the bytes vt100 needs to repaint
//! just the cells that changed (`diff_bytes`); then prints the bytes written in 5 s of
//! nothing happening (`idle_bytes`).
//!
//! `pty front --consola BIN --data DIR --runs N`: the console over `serve --ssh-listen` and
//! the real OpenSSH client, against the same steps locally in the same run: the bytes for
//! one ↓ in the consumer table (`local_down_bytes`, `ssh_down_bytes`), the time from
//! spawning to the first complete frame (`local_first_frame_ms`, `ssh_first_frame_ms`,
//! medians), and the server's resident memory with 50 idle sessions (`rss_idle_kib`,
//! `rss_50_kib`, `per_session_kib`).
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
        // Nothing remembered from the machine user's own consoles (the last username).
        let state =
            std::env::temp_dir().join(format!("consola-bench-state-{}", std::process::id()));
        command.env("XDG_STATE_HOME", &state);
        command.env("XDG_CONFIG_HOME", &state);
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

/// Opens Consumidores OAuth on a console already signed in as `bench`, presses ↓ once, and
/// returns the bytes written for it and the bytes of a vt100 diff of the changed cells.
fn one_down(pty: &mut Pty) -> anyhow::Result<(usize, usize)> {
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
    Ok((end - start, after.contents_diff(&before).len()))
}

/// The local console, signed in as `bench`.
fn local_console(consola: &str, data: &str) -> anyhow::Result<Pty> {
    let mut pty = Pty::spawn(consola, &["--data-dir", data, "--port", "0"])?;
    pty.wait_for("Iniciar sesión")?;
    pty.wait_quiet(Duration::from_millis(300));
    pty.type_text("bench\t")?;
    pty.type_text(PASSWORD)?;
    pty.send("\r")?;
    Ok(pty)
}

fn ssh(consola: &str, data: &str) -> anyhow::Result<()> {
    let mut pty = local_console(consola, data)?;
    let (down, diff) = one_down(&mut pty)?;
    println!("down_bytes: {down}");
    println!("diff_bytes: {diff}");
    let idle_from = pty.bytes();
    std::thread::sleep(Duration::from_secs(5));
    println!("idle_bytes: {}", pty.bytes() - idle_from);
    Ok(())
}

/// `consola serve` with the SSH front end over `data`, and `bench`'s registered key.
struct Front {
    child: std::process::Child,
    ssh: String,
    port: String,
    key: std::path::PathBuf,
    known_hosts: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Front {
    fn start(consola: &str, data: &str) -> anyhow::Result<Front> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(consola)
            .args(["--data-dir", data, "serve", "--listen", "127.0.0.1:0"])
            .args([
                "--ssh-listen",
                "127.0.0.1:0",
                "--ssh-max-sessions-per-address",
                "100",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (mut url, mut ssh) = (None, None);
        while url.is_none() || ssh.is_none() {
            let Some(line) = lines.next() else {
                anyhow::bail!("serve stopped before printing its addresses")
            };
            let line = line?;
            if let Some(rest) = line.strip_prefix("consola escuchando en ") {
                url = Some(rest.to_string());
            }
            if let Some(rest) = line.strip_prefix("consola por SSH en ") {
                ssh = rest.split_whitespace().next().map(str::to_string);
            }
        }
        std::thread::spawn(move || for _ in lines {});
        let (url, ssh) = (url.expect("url"), ssh.expect("ssh"));
        let dir = tempfile::tempdir()?;
        let key = dir.path().join("bench_key");
        let mut private = russh::keys::ssh_key::PrivateKey::from(
            russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&rand::random()),
        );
        private.set_comment("bench");
        std::fs::write(
            &key,
            private
                .to_openssh(russh::keys::ssh_key::LineEnding::LF)?
                .as_bytes(),
        )?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
        }
        let public = private.public_key().to_openssh()?;
        tokio::runtime::Runtime::new()?.block_on(async {
            let client = consola::client::Client::new(&url)?;
            let login = client.login("bench", PASSWORD).await?;
            let client = client.with_token(login.token);
            // A key from an earlier run stays registered: this run's is added beside it.
            client
                .add_my_ssh_key(&consola::domain::ssh_key::NewSshKey {
                    name: format!("bench {}", std::process::id()),
                    public_key: public,
                })
                .await?;
            anyhow::Ok(())
        })?;
        let (host, port) = ssh.rsplit_once(':').expect("host:port");
        Ok(Front {
            child,
            ssh: host.to_string(),
            port: port.to_string(),
            known_hosts: dir.path().join("known_hosts"),
            key,
            _dir: dir,
        })
    }

    fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = ["-F", "/dev/null", "-o", "IdentitiesOnly=yes"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend([
            "-o".into(),
            "IdentityAgent=none".into(),
            "-o".into(),
            "StrictHostKeyChecking=accept-new".into(),
            "-o".into(),
            format!("UserKnownHostsFile={}", self.known_hosts.display()),
            "-o".into(),
            "LogLevel=ERROR".into(),
            "-i".into(),
            self.key.display().to_string(),
            "-p".into(),
            self.port.clone(),
            self.ssh.clone(),
        ]);
        args
    }

    /// Resident memory of the server, in KiB.
    fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no VmRSS"))
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `ssh -tt` session whose output is watched for `marker`; it stays until dropped.
struct Idle {
    child: std::process::Child,
    seen: Arc<Mutex<bool>>,
}

impl Idle {
    fn open(args: &[String], marker: &'static str) -> anyhow::Result<Idle> {
        let mut child = std::process::Command::new("ssh")
            .arg("-tt")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let mut stdout = child.stdout.take().expect("stdout");
        let seen = Arc::new(Mutex::new(false));
        let flag = seen.clone();
        std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&all).contains(marker) {
                    *flag.lock().expect("flag") = true;
                    all.clear();
                }
            }
        });
        Ok(Idle { child, seen })
    }

    fn ready(&self) -> bool {
        *self.seen.lock().expect("flag")
    }
}

impl Drop for Idle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const IDLE_SESSIONS: usize = 50;

fn front(consola: &str, data: &str, runs: usize) -> anyhow::Result<()> {
    // Locally first (the local console runs its own server over the data directory).
    let (local_down, _) = one_down(&mut local_console(consola, data)?)?;
    let mut local_ms = Vec::new();
    for _ in 0..runs {
        local_ms.push(first_frame(
            consola,
            &["--data-dir", data, "--port", "0"],
            "Sin sesión",
        )?);
    }
    let front = Front::start(consola, data)?;
    let args = front.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // One connection first accepts the host key and warms the server.
    first_frame("ssh", &args, "API http")?;
    let (ssh_down, _) = one_down(&mut Pty::spawn("ssh", &args)?)?;
    let mut ssh_ms = Vec::new();
    for _ in 0..runs {
        ssh_ms.push(first_frame("ssh", &args, "API http")?);
    }
    std::thread::sleep(Duration::from_millis(500));
    let idle = front.rss_kib()?;
    let owned = front.args();
    let sessions: Vec<Idle> = (0..IDLE_SESSIONS)
        .map(|_| Idle::open(&owned, "Dashboard"))
        .collect::<anyhow::Result<_>>()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while !sessions.iter().all(Idle::ready) {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the idle sessions did not all open"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    let with = front.rss_kib()?;
    println!("local_down_bytes: {local_down}");
    println!("ssh_down_bytes: {ssh_down}");
    println!("local_first_frame_ms: {:.2}", median(local_ms));
    println!("ssh_first_frame_ms: {:.2}", median(ssh_ms));
    println!("rss_idle_kib: {idle}");
    println!("rss_50_kib: {with}");
    println!(
        "per_session_kib: {}",
        with.saturating_sub(idle) / IDLE_SESSIONS as u64
    );
    drop(sessions);
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
        println!(
            "pty: run through benches/run.py (needs ssh|front|startup --consola BIN --data DIR)"
        );
        return Ok(());
    };
    match args.get(1).map(String::as_str) {
        Some("ssh") => ssh(&consola, &data),
        Some("front") => {
            let runs = arg(&args, "--runs")
                .and_then(|s| s.parse().ok())
                .unwrap_or(9);
            front(&consola, &data, runs)
        }
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
