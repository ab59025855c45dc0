//! Running `consola <noun> <verb>` as a process in tests: its own state directory (where
//! sessions are kept), a target (`--server URL` or `--data-dir`), standard input given
//! or empty (never a terminal), and what it printed. A test crate that uses it declares
//! `mod binary;` and `mod common;` too.
#![allow(dead_code)]

use super::common::{PASSWORD, TestServer};
use serde::de::DeserializeOwned;
use std::fmt::Debug;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

/// What a command printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the command's stderr unless it succeeded.
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "failed: {}{}", self.stdout, self.stderr);
        self
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not the API's JSON ({e}): {}", self.stdout))
    }

    pub fn yaml<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_yaml_ng::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not YAML ({e}): {}", self.stdout))
    }

    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// Where commands go: a server URL, or a data directory (the embedded server).
#[derive(Debug, Clone)]
pub enum Target {
    Server(String),
    DataDir(PathBuf),
}

/// The command line of one user: a state directory of its own and a target.
pub struct Cli {
    pub state: std::sync::Arc<TempDir>,
    pub target: Target,
}

impl Cli {
    pub fn new(target: Target) -> Cli {
        Cli {
            state: std::sync::Arc::new(tempfile::tempdir().expect("state dir")),
            target,
        }
    }

    /// The same user (the same state directory, so the same kept sessions) on another target.
    pub fn retarget(&self, target: Target) -> Cli {
        Cli {
            state: self.state.clone(),
            target,
        }
    }

    pub fn server(url: &str) -> Cli {
        Cli::new(Target::Server(url.to_string()))
    }

    pub fn data_dir(dir: &Path) -> Cli {
        Cli::new(Target::DataDir(dir.to_path_buf()))
    }

    /// `$XDG_STATE_HOME/consola`.
    pub fn state_dir(&self) -> PathBuf {
        self.state.path().join("consola")
    }

    pub fn command(&self) -> Command {
        let mut command = super::binary::consola();
        command.env("XDG_STATE_HOME", self.state.path());
        command.env_remove("NO_COLOR");
        match &self.target {
            Target::Server(url) => command.args(["--server", url]),
            Target::DataDir(dir) => command.arg("--data-dir").arg(dir),
        };
        command
    }

    /// Runs `args` with `stdin` as standard input (empty when `None`). Inside a
    /// (multi-thread) test runtime the wait moves off the workers, so a server in the same
    /// test keeps answering.
    pub fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Run {
        match tokio::runtime::Handle::try_current() {
            Ok(_) => tokio::task::block_in_place(|| self.spawn(args, stdin)),
            Err(_) => self.spawn(args, stdin),
        }
    }

    fn spawn(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = self.command();
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("consola runs");
        let mut input = child.stdin.take().expect("stdin piped");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("stdin written");
        }
        drop(input);
        let out = child.wait_with_output().expect("consola ends");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None)
    }

    /// `consola login` with the password on standard input.
    pub fn login(&self, username: &str, password: &str) -> Run {
        self.run_with(
            &["login", "--username", username, "--password-stdin"],
            Some(&format!("{password}\n")),
        )
    }
}

/// A server with its Súper Administrador, and a command line signed in as them.
pub async fn signed_in() -> (TestServer, Cli) {
    let t = TestServer::start().await;
    let _ = t.setup().await;
    let cli = Cli::server(&t.server.url());
    let login = cli.login("superadmin", PASSWORD).ok();
    assert!(login.stdout.contains("superadmin"), "{}", login.stdout);
    (t, cli)
}

/// The same read in the three formats: the table starts with these headers, and the JSON
/// and the YAML are the same document of the API's type.
pub fn three<T: DeserializeOwned + PartialEq + Debug>(
    cli: &Cli,
    args: &[&str],
    headers: &[&str],
) -> T {
    let table = cli.run(args).ok();
    let first = table
        .lines()
        .first()
        .copied()
        .unwrap_or_default()
        .to_string();
    for header in headers {
        assert!(first.contains(header), "{header:?} not in {first:?}");
    }
    let with = |format: &'static str| [args, &["-o", format]].concat();
    let json: T = cli.run(&with("json")).ok().json();
    let yaml: T = cli.run(&with("yaml")).ok().yaml();
    assert_eq!(json, yaml, "JSON and YAML agree");
    json
}
