//! Sessions of the command line: one file per server in the XDG state directory, mode
//! 0600, the token sealed (never in clear) and the file tamper-evident; an expired session
//! says how to sign in again; `logout` ends it on the server and forgets it.

mod binary;
mod cli_support;
mod common;

use cli_support::{Cli, signed_in};
use common::{PASSWORD, TestServer};
use consola::cli::session::SessionStore;
use consola::domain::*;
use std::path::{Path, PathBuf};

fn session_files(cli: &Cli) -> Vec<PathBuf> {
    match std::fs::read_dir(cli.state_dir().join("sessions")) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_file_is_private_sealed_and_per_server() {
    let (t, cli) = signed_in().await;
    let files = session_files(&cli);
    assert_eq!(files.len(), 1);
    #[cfg(unix)]
    {
        assert_eq!(mode(&files[0]), 0o600);
        assert_eq!(mode(&cli.state_dir().join("session.key")), 0o600);
        assert_eq!(mode(&cli.state_dir().join("sessions")), 0o700);
        assert_eq!(mode(&cli.state_dir()), 0o700);
    }
    // The store reads back the very token the server accepts.
    let store = SessionStore::new(cli.state_dir());
    let session = store.load(&t.server.url()).unwrap().expect("kept");
    assert_eq!(session.username, "superadmin");
    let me = t
        .anonymous
        .with_token(session.token.clone())
        .me()
        .await
        .unwrap();
    assert_eq!(me.username, "superadmin");

    // Another server, another file; signing in again replaces, never duplicates.
    let other = TestServer::start().await;
    let _ = other.setup().await;
    let to_other = cli.retarget(cli_support::Target::Server(other.server.url()));
    to_other.login("superadmin", PASSWORD).ok();
    assert_eq!(session_files(&cli).len(), 2);
    to_other.run(&["logout"]).ok();
    cli.login("superadmin", PASSWORD).ok();
    assert_eq!(session_files(&cli).len(), 1);

    // A file edited by hand (here: another username under the same seal) is refused.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    std::fs::write(&files[0], text.replace("\"superadmin\"", "\"otro\"")).unwrap();
    let run = cli.run(&["consumers", "list"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("dañado o fue modificado"),
        "{}",
        run.stderr
    );
    // Cut short, too.
    std::fs::write(&files[0], &text[..text.len() / 2]).unwrap();
    let run = cli.run(&["consumers", "list"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("dañado o fue modificado"),
        "{}",
        run.stderr
    );
    // `logout` is how one starts over.
    cli.run(&["logout"]).ok();
    assert!(session_files(&cli).is_empty());
    cli.login("superadmin", PASSWORD).ok();
    cli.run(&["consumers", "list"]).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_says_how_to_sign_in_again() {
    // The server's clock moves past the session's 12 hours: the server refuses it.
    let (t, cli) = signed_in().await;
    cli.run(&["groups", "list", "-q"]).ok();
    t.clock.advance(chrono::Duration::hours(13));
    let run = cli.run(&["groups", "list"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("expiró"), "{}", run.stderr);
    let hint = format!(
        "consola login --server {} --username superadmin --password-stdin",
        t.server.url()
    );
    assert!(run.stderr.contains(&hint), "{}", run.stderr);
    assert!(
        session_files(&cli).is_empty(),
        "the dead session is forgotten"
    );
    let run = cli.run(&["groups", "list"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no hay sesión"), "{}", run.stderr);
    cli.login("superadmin", PASSWORD).ok();
    cli.run(&["groups", "list"]).ok();

    // A session whose expiry has passed on this machine's clock is refused before any
    // request (the server's clock, 13 hours behind, handed out one that ended an hour ago).
    let behind = TestServer::start().await;
    behind.clock.advance(-chrono::Duration::hours(13));
    let _ = behind.setup().await;
    let late = Cli::server(&behind.server.url());
    late.login("superadmin", PASSWORD).ok();
    let run = late.run(&["consumers", "list"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("expiró"), "{}", run.stderr);
    assert!(
        run.stderr.contains("consola login --server"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session_on_the_server_and_forgets_it() {
    let (t, cli) = signed_in().await;
    let token = SessionStore::new(cli.state_dir())
        .load(&t.server.url())
        .unwrap()
        .unwrap()
        .token;
    let run = cli.run(&["logout"]).ok();
    assert!(run.stdout.contains("Sesión cerrada"));
    assert!(session_files(&cli).is_empty());
    let refused = t.anonymous.with_token(token).me().await.unwrap_err();
    assert_eq!(refused.status(), Some(401), "the server ended it too");
    let again = cli.run(&["logout"]).ok();
    assert!(again.stdout.contains("No había sesión"));
}

/// The secrets-at-rest scan over the state directory: after a login, a consumer created
/// and its secret rotated, neither the session token, the password nor any secret printed
/// lies in clear in any file there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_clear_in_the_state_directory() {
    let (t, cli) = signed_in().await;
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
    let rotated: RotatedSecret = cli
        .run(&["consumers", "rotate-secret", "ERP", "-o", "json"])
        .ok()
        .json();
    let revealed: serde_json::Value = cli.run(&["api-key", "reveal", "-o", "json"]).ok().json();
    let token = SessionStore::new(cli.state_dir())
        .load(&t.server.url())
        .unwrap()
        .unwrap()
        .token;
    let secrets = [
        token.expose().to_string(),
        PASSWORD.to_string(),
        created
            .client_secret
            .as_ref()
            .expect("a secret")
            .expose()
            .to_string(),
        rotated.client_secret.expose().to_string(),
        revealed["secret"].as_str().unwrap().to_string(),
    ];
    let files = files_under(&cli.state_dir());
    assert!(files.len() >= 2, "the key and the session: {files:?}");
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        for secret in &secrets {
            assert!(
                !contains(&bytes, secret),
                "{} holds a secret in clear",
                path.display()
            );
        }
        assert!(
            !contains(&bytes, "consola_st_"),
            "{} holds a session token",
            path.display()
        );
    }
}
