//! `serve`'s settings, each declared once for its flag, its variable and its `[serve]` key:
//! one given on the command line or in the environment wins over the file's, both ways (a
//! `false` given turns off the file's `true`), and the file's values are checked as the
//! flags' are.

mod binary;

use binary::consola;
use clap::CommandFactory;
use consola::config::{self, ServeSettings};
use consola::launch::CommandLine;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn file(text: &str) -> ServeSettings {
    config::parse(text, Path::new("/etc/consola/config.toml"))
        .unwrap()
        .serve
}

/// The command line's definition without its variables: these tests give flags only.
fn command_line() -> clap::Command {
    CommandLine::command().mut_subcommand("serve", |serve| serve.mut_args(|arg| arg.env(None)))
}

/// The settings in force for `consola serve ARGS` over the file's `[serve]` `text`.
fn in_force(args: &[&str], text: &str) -> ServeSettings {
    let matches = command_line()
        .try_get_matches_from(["consola", "serve"].iter().chain(args))
        .unwrap();
    ServeSettings::over_file(&file(text), matches.subcommand_matches("serve").unwrap()).unwrap()
}

#[test]
fn a_false_flag_turns_off_what_the_file_turns_on() {
    let text = "[serve]\ninsecure_http = true\nssh_require_key = true\n";
    let settings = in_force(
        &["--insecure-http=false", "--ssh-require-key", "false"],
        text,
    );
    assert_eq!(settings.insecure_http, Some(false));
    assert_eq!(settings.ssh_require_key, Some(false));
    // Without the flags the file's values hold.
    let settings = in_force(&[], text);
    assert_eq!(settings.insecure_http, Some(true));
    assert_eq!(settings.ssh_require_key, Some(true));
}

#[test]
fn a_bare_flag_turns_on_what_the_file_turns_off() {
    let text =
        "[serve]\ninsecure_http = false\nssh_require_key = false\ndpop_require_nonce = false\n";
    let settings = in_force(
        &[
            "--insecure-http",
            "--ssh-require-key",
            "--dpop-require-nonce",
        ],
        text,
    );
    assert_eq!(settings.insecure_http, Some(true));
    assert_eq!(settings.ssh_require_key, Some(true));
    assert_eq!(settings.dpop_require_nonce, Some(true));
    assert_eq!(in_force(&[], text).dpop_require_nonce, Some(false));
    let settings = in_force(&["--insecure-http=true", "--listen", "127.0.0.1:1"], "");
    assert_eq!(settings.insecure_http, Some(true));
    assert_eq!(settings.ssh_require_key, None, "unset stays unset");
}

#[test]
fn every_setting_given_wins_and_every_other_comes_from_the_file() {
    let text = "[serve]\nlisten = \"0.0.0.0:8443\"\ndatabase = \"sqlite:/srv/a.db\"\n\
                trusted_proxies = [\"10.0.0.0/8\"]\naudit_retention_days = 30\n\
                ssh_max_sessions = 7\nlog_format = \"json\"\n";
    let settings = in_force(
        &[
            "--listen",
            "127.0.0.1:9000",
            "--trusted-proxy",
            "192.168.0.1",
            "--audit-retention-days",
            "5",
        ],
        text,
    );
    assert_eq!(settings.listen, Some("127.0.0.1:9000".parse().unwrap()));
    assert_eq!(
        settings.trusted_proxies,
        Some(vec!["192.168.0.1/32".parse().unwrap()])
    );
    assert_eq!(settings.audit_retention_days.map(|d| d.get()), Some(5));
    assert_eq!(settings.database.as_deref(), Some("sqlite:/srv/a.db"));
    assert_eq!(settings.ssh_max_sessions.map(|n| n.get()), Some(7));
    assert_eq!(settings.log_format, Some(config::LogFormat::Json));
    assert_eq!(in_force(&[], text), file(text), "nothing given: the file");
}

#[test]
fn the_file_and_the_flags_check_a_value_the_same_way() {
    for (key, bad, reason) in [
        ("ssh_max_sessions", "0", "al menos 1"),
        ("ssh_max_sessions", "100001", "entre 1 y 100000"),
        ("audit_retention_days", "0", "al menos 1"),
        ("password_hashing_concurrency", "257", "entre 1 y 256"),
        ("max_revocations", "0", "al menos 1"),
    ] {
        let flag = format!("--{}", key.replace('_', "-"));
        let flag_error = command_line()
            .try_get_matches_from(["consola", "serve", &flag, bad])
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(flag_error.contains(reason), "{flag}: {flag_error}");
        let text = format!("[serve]\n{key} = {bad}\n");
        let file_error = config::parse(&text, Path::new("/etc/consola/config.toml"))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(file_error.contains("line 2"), "{file_error}");
        assert!(file_error.contains(reason), "{key}: {file_error}");
    }
}

/// The console's `--mouse` for `consola ARGS`.
fn mouse(args: &[&str]) -> Option<bool> {
    use clap::FromArgMatches;
    let matches = command_line()
        .try_get_matches_from(["consola"].iter().chain(args))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    CommandLine::from_arg_matches(&matches).unwrap().mouse
}

#[test]
fn the_console_mouse_flag_takes_an_explicit_off_and_keeps_subcommands_apart() {
    assert_eq!(mouse(&[]), None);
    assert_eq!(mouse(&["--mouse"]), Some(true));
    assert_eq!(mouse(&["--mouse=false"]), Some(false));
    // A bare --mouse does not swallow the subcommand after it.
    assert_eq!(mouse(&["--mouse", "consumers", "list"]), Some(true));
}

/// Runs `serve`, which must refuse to start; returns its stderr. One that serves instead is
/// stopped and the test fails.
fn refused(mut command: Command) -> String {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `serve` beyond loopback over plain HTTP, with this file and this much more.
fn beyond_loopback(dir: &Path, text: &str) -> Command {
    let file = dir.join("config.toml");
    std::fs::write(&file, text).unwrap();
    let mut command = consola();
    command
        .arg("--config")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["serve", "--listen", "0.0.0.0:0"]);
    command
}

#[test]
fn the_variable_turns_off_what_the_file_turns_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = beyond_loopback(dir.path(), "[serve]\ninsecure_http = true\n");
    command.env("CONSOLA_INSECURE_HTTP", "false");
    let stderr = refused(command);
    assert!(stderr.contains("sin cifrar"), "{stderr}");
}

#[test]
fn the_flag_turns_off_what_the_variable_turns_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = beyond_loopback(dir.path(), "");
    command
        .arg("--insecure-http=false")
        .env("CONSOLA_INSECURE_HTTP", "true");
    let stderr = refused(command);
    assert!(stderr.contains("sin cifrar"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "nothing is created");
}

#[test]
fn a_bad_serve_value_in_the_file_stops_serve_with_the_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (text, needles) in [
        ("[serve]\ninsecure_http = \"sí\"\n", &["line 2", "bool"][..]),
        (
            "[serve]\nssh_max_sessions = 0\n",
            &["line 2", "al menos 1"][..],
        ),
        (
            "[serve]\ntrusted_proxies = [\"red\"]\n",
            &["line 2", "red"][..],
        ),
        (
            "[serve]\npublic_url = \"ftp://x\"\n",
            &["line 2", "http"][..],
        ),
        (
            "\n[serve]\ninsecure_htp = true\n",
            &["line 3", "insecure_htp"][..],
        ),
    ] {
        let stderr = refused(beyond_loopback(dir.path(), text));
        assert!(stderr.contains("archivo de configuración"), "{stderr}");
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "{text:?}: {needle:?} not in {stderr}"
            );
        }
    }
}
