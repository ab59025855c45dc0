//! The real `consola` binary for tests that run it as a process: isolated from the
//! machine user's configuration, and `serve`'s printed URL.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The binary with no configuration file of the machine's user and none of its
/// `CONSOLA_*` settings from the environment.
pub fn consola() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consola"));
    command.env("XDG_CONFIG_HOME", env!("CARGO_TARGET_TMPDIR"));
    for var in [
        "CONSOLA_CONFIG",
        "CONSOLA_SERVER",
        "CONSOLA_DATA_DIR",
        "CONSOLA_LISTEN",
        "CONSOLA_DATABASE_URL",
        "CONSOLA_TLS_CERT",
        "CONSOLA_TLS_KEY",
        "CONSOLA_INSECURE_HTTP",
        "CONSOLA_PUBLIC_URL",
        "CONSOLA_TRUSTED_PROXY",
        "CONSOLA_METRICS_LISTEN",
        "CONSOLA_LOG_FORMAT",
        "CONSOLA_SSH_LISTEN",
        "CONSOLA_SSH_REQUIRE_KEY",
        "CONSOLA_DPOP_REQUIRE_NONCE",
        "CONSOLA_SSH_IDLE_MINUTES",
        "CONSOLA_SSH_MAX_SESSIONS",
        "CONSOLA_SSH_MAX_SESSIONS_PER_ADDRESS",
        "CONSOLA_SYSTEM_SECRET",
        "CONSOLA_SYSTEM_SECRET_FILE",
        "CONSOLA_PREVIOUS_SYSTEM_SECRET",
        "CONSOLA_PREVIOUS_SYSTEM_SECRET_FILE",
    ] {
        command.env_remove(var);
    }
    command
}

/// The URL a spawned `consola serve` (stdout piped) prints when it listens. Its stdout is
/// drained afterwards so the child never blocks on a full pipe; a server that prints no
/// URL within a minute is killed and the test fails.
pub fn served_url(child: &mut Child) -> String {
    let mut lines = BufReader::new(child.stdout.take().expect("stdout piped")).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(url) = line.strip_prefix("consola escuchando en ") {
            std::thread::spawn(move || for _ in lines {});
            return url.to_string();
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("serve printed no URL");
}
