//! The real OpenSSH client against `consola serve --ssh-listen`: keys made at test time,
//! `ssh` in a pseudo-terminal read through a terminal emulator, and `ssh` without one for
//! commands. Nothing of the machine user's SSH setup is used (no config, agent or
//! known_hosts of theirs).
#![allow(dead_code)]

use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::ssh_key::{HashAlg, LineEnding, PrivateKey};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A key pair on disk, as `ssh -i` wants it.
pub struct KeyFile {
    pub path: PathBuf,
    /// The OpenSSH public line, to register through the API.
    pub public: String,
    pub fingerprint: String,
}

impl KeyFile {
    pub fn new(dir: &Path, name: &str) -> KeyFile {
        let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&rand::random()));
        key.set_comment(format!("{name}@test"));
        let path = dir.join(name);
        std::fs::write(&path, key.to_openssh(LineEnding::LF).unwrap().as_bytes()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        KeyFile {
            path,
            public: key.public_key().to_openssh().unwrap(),
            fingerprint: key.public_key().fingerprint(HashAlg::Sha256).to_string(),
        }
    }
}

/// The address the SSH client connects from.
pub const CLIENT_ADDRESS: &str = "127.0.0.2";

const INSTALL: &str = "this test needs the OpenSSH client: install it with \
    `apt-get install -y openssh-client` (Debian), or run .ci/run, which does";

/// Fails the test with what to install when `ssh` is not on PATH.
fn require_ssh() {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("ssh").is_file()));
    assert!(found, "{INSTALL}");
}

/// The options that keep `ssh` to the test's own files.
pub fn ssh_command(addr: SocketAddr, key: &KeyFile, known_hosts: &Path) -> Vec<String> {
    require_ssh();
    vec![
        "-F".into(),
        "/dev/null".into(),
        "-p".into(),
        addr.port().to_string(),
        "-i".into(),
        key.path.display().to_string(),
        "-o".into(),
        "IdentitiesOnly=yes".into(),
        "-o".into(),
        "IdentityAgent=none".into(),
        "-o".into(),
        "StrictHostKeyChecking=accept-new".into(),
        "-o".into(),
        format!("UserKnownHostsFile={}", known_hosts.display()),
        "-o".into(),
        "PreferredAuthentications=publickey,keyboard-interactive".into(),
        "-o".into(),
        "LogLevel=ERROR".into(),
        // From another loopback address than the server's own front door, so that what
        // the server records as the client's address is seen to be the SSH client's.
        "-o".into(),
        format!("BindAddress={CLIENT_ADDRESS}"),
        "-l".into(),
        "admin".into(),
        addr.ip().to_string(),
    ]
}

/// `ssh` in a pseudo-terminal of `cols`×`rows`, its screen read through vt100.
pub struct SshTerminal {
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    bytes: Arc<Mutex<Vec<u8>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
}

impl SshTerminal {
    pub fn open(args: &[String], cols: u16, rows: u16) -> SshTerminal {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut command = CommandBuilder::new("ssh");
        command.args(args);
        command.env("TERM", "xterm-256color");
        command.env("LANG", "C.UTF-8");
        let child = pty.slave.spawn_command(command).expect("spawn ssh");
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (s, b) = (screen.clone(), bytes.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().expect("screen").process(&buf[..n]);
                b.lock().expect("bytes").extend_from_slice(&buf[..n]);
            }
        });
        SshTerminal {
            writer,
            screen,
            bytes,
            child,
            master: pty.master,
        }
    }

    pub fn text(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    pub fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{text}\nbytes: {}",
                String::from_utf8_lossy(&self.bytes())
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn wait_gone(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?} to go"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.bytes.lock().expect("bytes").clone()
    }

    pub fn written(&self) -> usize {
        self.bytes.lock().expect("bytes").len()
    }

    /// What arrived from byte `from` on, once it contains `needle`.
    pub fn wait_written(&self, from: usize, needle: &[u8]) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let tail = self.bytes.lock().expect("bytes")[from..].to_vec();
            if tail.windows(needle.len()).any(|w| w == needle) {
                return tail;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {:?} in the output",
                String::from_utf8_lossy(needle)
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("write");
        self.writer.flush().expect("flush");
    }

    /// Types like a person: one key at a time.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.send(&c.to_string());
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The terminal changes size, as when the admin resizes the window.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.screen
            .lock()
            .expect("screen")
            .screen_mut()
            .set_size(rows, cols);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize");
    }

    /// Waits for `ssh` to exit, at most `within`; its status.
    pub fn wait_exit(&mut self, within: Duration) -> Option<portable_pty::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SshTerminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// `ssh … COMMAND` without a terminal: its stdout, stderr and status.
pub fn ssh_run(args: &[String], command: &[&str]) -> (String, String, i32) {
    let output = std::process::Command::new("ssh")
        .arg("-T")
        .arg("-n")
        .args(args)
        .args(command)
        .output()
        .expect("run ssh");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}
