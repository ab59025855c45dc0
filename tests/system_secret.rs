//! The system secret (`--system-secret-file`, `CONSOLA_SYSTEM_SECRET`): what serve refuses
//! at start, and the keys sealed under it in the database.

mod binary;
mod common;

use binary::{consola, served_url};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A secret of exactly the minimum length, and one byte short of it.
const SECRET_32: &str = "tortuga-verde-tortuga-verde-1234";
const SECRET_31: &str = "tortuga-verde-tortuga-verde-123";

/// Runs `command` (a serve that must refuse to start) to its end, at most 30 s; returns
/// whether it succeeded and its stderr.
fn refused(mut command: Command) -> String {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve did not stop within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap();
    assert!(!status.success(), "serve started: {text}");
    text
}

fn serve(data: &Path) -> Command {
    let mut command = consola();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .env_remove("RUST_LOG");
    command
}

/// Nothing listens there: a serve that tried the database would fail otherwise, later.
const UNREACHABLE_POSTGRES: &str = "postgres://consola@127.0.0.1:1/consola";

#[test]
fn postgres_without_a_system_secret_is_refused_before_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut command = serve(&data);
    command.args(["--database", UNREACHABLE_POSTGRES]);
    let err = refused(command);
    for needle in [
        "--system-secret-file",
        "CONSOLA_SYSTEM_SECRET",
        "PostgreSQL",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert!(!err.contains("127.0.0.1:1"), "it tried the database: {err}");
    assert!(!data.exists(), "nothing is created before the refusal");

    // The same from the environment's database URL.
    let mut command = serve(&data);
    command.env("CONSOLA_DATABASE_URL", UNREACHABLE_POSTGRES);
    let err = refused(command);
    assert!(err.contains("--system-secret-file"), "{err}");
}

/// The library's own entry point refuses too: in-process servers (tests, replicas) cannot
/// start on PostgreSQL without a secret either.
#[tokio::test]
async fn an_in_process_server_on_postgres_needs_a_system_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config =
        consola::server::ServerConfig::new(data.clone(), "127.0.0.1:0".parse().unwrap());
    config.database_url = Some(UNREACHABLE_POSTGRES.into());
    let err = match consola::server::start(config).await {
        Ok(_) => panic!("started without a system secret"),
        Err(err) => format!("{err:#}"),
    };
    assert!(
        err.contains("--system-secret-file") && err.contains("CONSOLA_SYSTEM_SECRET"),
        "{err}"
    );
    assert!(!data.exists());
}

#[test]
fn a_short_missing_or_unreadable_secret_file_stops_serve_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let short = dir.path().join("corto");
    std::fs::write(&short, format!("{SECRET_31}\n")).unwrap();
    let mut command = serve(&data);
    command.arg("--system-secret-file").arg(&short);
    let err = refused(command);
    assert!(err.contains(&short.display().to_string()), "{err}");
    assert!(err.contains("31 bytes") && err.contains("32"), "{err}");
    assert!(
        !err.contains("tortuga"),
        "the secret's bytes are never shown: {err}"
    );

    let missing = dir.path().join("no-existe");
    let mut command = serve(&data);
    command.arg("--system-secret-file").arg(&missing);
    let err = refused(command);
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("No such file"), "the reason: {err}");

    // A directory cannot be read as a file, even by root.
    let mut command = serve(&data);
    command
        .arg("--previous-system-secret-file")
        .arg(dir.path())
        .env("CONSOLA_SYSTEM_SECRET", SECRET_32);
    let err = refused(command);
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    assert!(!err.contains("tortuga"), "{err}");
}

#[test]
fn a_short_secret_in_the_environment_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut command = serve(&data);
    command.env("CONSOLA_SYSTEM_SECRET", SECRET_31);
    let err = refused(command);
    assert!(
        err.contains("CONSOLA_SYSTEM_SECRET") && err.contains("31 bytes"),
        "{err}"
    );
    assert!(!err.contains("tortuga"), "{err}");

    let mut command = serve(&data);
    command
        .env("CONSOLA_SYSTEM_SECRET", SECRET_32)
        .env("CONSOLA_PREVIOUS_SYSTEM_SECRET", "corto");
    let err = refused(command);
    assert!(err.contains("CONSOLA_PREVIOUS_SYSTEM_SECRET"), "{err}");
    assert!(!err.contains("corto"), "{err}");
}

#[test]
fn a_previous_secret_without_a_current_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut command = serve(&data);
    command.env("CONSOLA_PREVIOUS_SYSTEM_SECRET", SECRET_32);
    let err = refused(command);
    assert!(err.contains("--system-secret-file"), "{err}");
    assert!(!err.contains("tortuga"), "{err}");
}

/// The `[serve]` key of the configuration file, relative to the file, reaches serve.
#[test]
fn the_config_files_secret_file_is_read_relative_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(dir.path().join("secreto"), SECRET_31).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[serve]\nsystem_secret_file = \"secreto\"\n").unwrap();
    let mut command = serve(&data);
    command.arg("--config").arg(&config);
    let err = refused(command);
    let path = dir.path().join("secreto");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("31 bytes"), "{err}");

    // The environment wins over the file, as everywhere.
    let mut command = serve(&data);
    command
        .arg("--config")
        .arg(&config)
        .env("CONSOLA_SYSTEM_SECRET", SECRET_32);
    starts(command);
}

/// Spawns a serve that must start; stops it once it prints its URL.
fn starts(mut command: Command) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = served_url(&mut child);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_secret_of_32_bytes_and_its_newline_starts_serve() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("secreto");
    std::fs::write(&file, format!("{SECRET_32}\n")).unwrap();
    let mut command = serve(&data);
    command.arg("--system-secret-file").arg(&file);
    starts(command);
    // The same file named by the variable.
    let mut command = serve(&data);
    command.env("CONSOLA_SYSTEM_SECRET_FILE", &file);
    starts(command);
}
