//! The command line with no --server: the embedded server over the data directory, started
//! for the command or attached to the one running there (one data directory, one server,
//! DESIGN §4); and the completion scripts and manual page generated from the definitions.

mod binary;
mod cli_support;
mod common;

use binary::{consola, served_url};
use cli_support::Cli;
use consola::client::Client;
use consola::domain::*;
use consola::server::instance;
use std::process::{Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "una clave muy larga";

fn setup(cli: &Cli) {
    cli.run_with(
        &[
            "setup",
            "--account",
            "Planta Norte",
            "--username",
            "jefa",
            "--display-name",
            "Jefa",
            "--password-stdin",
        ],
        Some(PASSWORD),
    )
    .ok();
}

fn serve(data: &std::path::Path) -> (std::process::Child, String) {
    let mut child = consola()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = served_url(&mut child);
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nothing_started_each_command_runs_the_embedded_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cli = Cli::data_dir(&data);
    let early = cli.login("jefa", PASSWORD);
    assert_eq!(early.code, 1, "{early:?}");
    assert!(
        early.stderr.contains("consola setup"),
        "says how: {}",
        early.stderr
    );
    setup(&cli);
    let login = cli.login("jefa", PASSWORD).ok();
    assert!(
        login.stdout.contains("directorio de datos"),
        "{}",
        login.stdout
    );
    cli.run(&[
        "groups",
        "create",
        "--name",
        "Reportes",
        "--allow",
        "reports:view",
        "-q",
    ])
    .ok();
    let created: CreatedConsumer = cli
        .run(&[
            "consumers",
            "create",
            "--name",
            "ERP",
            "--group",
            "Reportes",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let listed: Vec<Consumer> = cli.run(&["consumers", "list", "-o", "json"]).ok().json();
    assert_eq!(listed, vec![created.consumer.clone()]);
    // Commands that race on an idle data directory end with one server at a time: each
    // starts it or attaches to (and outlives) another's.
    let runs: Vec<cli_support::Run> = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| cli.run(&["consumers", "list", "-o", "json"])))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    });
    for run in runs {
        let run = run.ok();
        assert_eq!(run.json::<Vec<Consumer>>(), listed);
    }
    assert_eq!(
        instance::holder(&data, Duration::ZERO).unwrap(),
        None,
        "each command stopped the server it started"
    );

    // The same data directory, served: the secret printed by the command line gets a token.
    let (mut server, url) = serve(&data);
    let token = Client::new(&url)
        .unwrap()
        .token_client_credentials(
            &created.consumer.client_id,
            created.client_secret.as_ref().expect("a secret"),
            None,
        )
        .await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(token.expect("a token").scope, "reports:view");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_attaches_and_a_second_serve_refuses_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut server, url) = serve(&data);
    let pid = server.id();

    // A second server on the same data directory refuses and says who holds it.
    let out = consola()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("está en uso"), "{stderr}");
    assert!(stderr.contains(&pid.to_string()), "names the pid: {stderr}");
    assert!(stderr.contains(&url), "names the URL: {stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());

    // The command line attaches to it: what it does is what the running server serves.
    let cli = Cli::data_dir(&data);
    setup(&cli);
    cli.login("jefa", PASSWORD).ok();
    cli.run(&["groups", "create", "--name", "Reportes", "-q"])
        .ok();
    let created: CreatedConsumer = cli
        .run(&[
            "consumers",
            "create",
            "--name",
            "ERP",
            "--group",
            "Reportes",
            "-o",
            "json",
        ])
        .ok()
        .json();
    let remote = Client::new(&url).unwrap();
    let session = remote.login("jefa", PASSWORD).await.unwrap();
    let seen = remote
        .with_token(session.token)
        .consumer(created.consumer.id)
        .await
        .unwrap();
    assert_eq!(seen, created.consumer);
    assert_eq!(
        instance::holder(&data, Duration::ZERO)
            .unwrap()
            .map(|h| (h.pid, h.url)),
        Some((pid, url.clone())),
        "still served by the first process"
    );

    // The holder dies without cleaning up: its lock goes with it, and the next command
    // starts the embedded server again.
    server.kill().unwrap();
    server.wait().unwrap();
    let listed: Vec<Consumer> = cli.run(&["consumers", "list", "-o", "json"]).ok().json();
    assert_eq!(listed.len(), 1);
    let (mut again, _) = serve(&data);
    let _ = again.kill();
    let _ = again.wait();
}

#[test]
fn completions_and_the_manual_page_come_from_the_definitions() {
    let bash = consola().args(["completions", "bash"]).output().unwrap();
    assert!(bash.status.success());
    let script = String::from_utf8(bash.stdout).unwrap();
    for word in ["consumers", "rotate-secret", "signing-keys", "--output"] {
        assert!(script.contains(word), "bash completes {word}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consola.bash");
    std::fs::write(&path, &script).unwrap();
    let parsed = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        parsed.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&parsed.stderr)
    );

    for shell in ["zsh", "fish"] {
        let out = consola().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("rotate-secret"),
            "{shell}"
        );
    }
    let bad = consola()
        .args(["completions", "powershell"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));

    let man = consola().arg("man").output().unwrap();
    assert!(man.status.success());
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH consola"),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(page.contains("consumers"));
}
