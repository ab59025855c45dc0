//! The binary's own commands: `setup` for scripted first runs and `serve` driven over HTTP.

use consola::client::Client;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn consola() -> Command {
    Command::new(env!("CARGO_BIN_EXE_consola"))
}

#[test]
fn help_answers() {
    let out = consola().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "setup", "--server", "--data-dir", "--lang"] {
        assert!(text.contains(word), "--help mentions {word}");
    }
    let out = consola().args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--listen"));
}

#[tokio::test]
async fn setup_then_serve_on_the_same_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = consola()
        .args(["setup", "--account", "Planta Norte", "--username", "jefa"])
        .args(["--display-name", "Jefa de Planta", "--password-stdin"])
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"una clave muy larga\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("jefa"));

    // A second setup is refused with the reason.
    let mut again = consola()
        .args(["setup", "--account", "Otra", "--username", "otro"])
        .args(["--display-name", "Otro", "--password-stdin"])
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    again
        .stdin
        .take()
        .unwrap()
        .write_all(b"una clave muy larga")
        .unwrap();
    let out = again.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ya está configurada"));

    let mut server = consola()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        assert!(Instant::now() < deadline, "serve did not print its URL");
        let line = lines.next().expect("serve printed its URL").unwrap();
        if let Some(url) = line.strip_prefix("consola escuchando en ") {
            break url.to_string();
        }
    };
    let client = Client::new(&url).unwrap();
    let login = client.login("jefa", "una clave muy larga").await.unwrap();
    let me = client.with_token(login.token).me().await.unwrap();
    assert_eq!(me.display_name, "Jefa de Planta");
    let _ = server.kill();
    let _ = server.wait();
}
