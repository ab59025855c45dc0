//! The binary's own commands: `setup` for scripted first runs and `serve` driven over HTTP.

mod binary;

use binary::{consola, served_url};
use consola::client::Client;
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn help_answers() {
    let out = consola().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "serve",
        "setup",
        "--server",
        "--data-dir",
        "--lang",
        "--config",
    ] {
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
    let url = served_url(&mut server);
    let client = Client::new(&url).unwrap();
    let login = client.login("jefa", "una clave muy larga").await.unwrap();
    let me = client.with_token(login.token).me().await.unwrap();
    assert_eq!(me.display_name, "Jefa de Planta");
    let _ = server.kill();
    let _ = server.wait();
}

/// Runs `serve` until it prints its URL, stops it and returns the URL.
fn serve_once(mut command: Command) -> String {
    let mut server = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = served_url(&mut server);
    let _ = server.kill();
    let _ = server.wait();
    url
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_takes_its_address_and_data_directory_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let file = dir.path().join("consola.toml");
    std::fs::write(
        &file,
        format!("# Planta Norte\ndata_dir = \"datos\"\n\n[serve]\nlisten = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let mut command = consola();
    command.arg("--config").arg(&file).arg("serve");
    let url = serve_once(command);
    assert_eq!(url, format!("http://127.0.0.1:{port}"));
    assert!(
        dir.path().join("datos").join("consola.db").is_file(),
        "data_dir is taken from the file's own directory"
    );

    // A flag wins over the file; so does the environment.
    let other = dir.path().join("otros");
    let mut command = consola();
    command
        .arg("--config")
        .arg(&file)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CONSOLA_DATA_DIR", &other);
    let url = serve_once(command);
    assert_ne!(url, format!("http://127.0.0.1:{port}"));
    assert!(other.join("consola.db").is_file());
}

#[test]
fn a_bad_config_file_stops_everything_with_the_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cases: [(&str, &[&str]); 4] = [
        (
            "port = 8787\nprot = 8788\n",
            &["line 2", "unknown field `prot`"],
        ),
        ("lang = \"fr\"\n", &["line 1", "`es` or `en`"]),
        ("[serve]\nlisten = \"localhost\"\n", &["line 2"]),
        (
            "server = \"consola.example\"\n",
            &["server", "no es una URL"],
        ),
    ];
    for (text, needles) in cases {
        let file = dir.path().join("config.toml");
        std::fs::write(&file, text).unwrap();
        for args in [&[][..], &["serve"][..]] {
            let out = consola()
                .arg("--config")
                .arg(&file)
                .arg("--data-dir")
                .arg(&data)
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{text:?} {args:?}");
            assert!(
                stderr.contains(&format!("archivo de configuración {}", file.display())),
                "{stderr}"
            );
            for needle in needles {
                assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
            }
            assert!(!stderr.contains("backtrace"), "{stderr}");
            assert!(!data.exists(), "nothing is created before the file is good");
        }
    }
    // A file named on the command line must exist.
    let out = consola()
        .args(["--config", "no-existe.toml", "serve"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-existe.toml"));
}
