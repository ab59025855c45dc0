//! HTTPS (`--tls-cert`, `--tls-key`): a chain made at test time serves tokens whose issuer
//! is the public URL; a reload (SIGHUP) serves a new certificate to new connections; bad
//! files stop the server at start with the path and the reason.

mod binary;
mod common;
mod oauth_support;
mod tls_support;

use base64::Engine;
use consola::domain::TokenFormat;
use consola::server::RunningServer;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tls_support::{
    Chain, PUBLIC_URL, SERVER_NAME, chain, client, presented, start_tls, tls_config,
};

fn url(server: &RunningServer, path: &str) -> String {
    format!("https://{SERVER_NAME}:{}{path}", server.addr.port())
}

#[tokio::test]
async fn a_token_over_https_with_a_chain_names_the_public_url() {
    // The account and a consumer, made over plain HTTP on loopback; then the same data
    // directory served over HTTPS.
    let h = oauth_support::start().await;
    let consumer = h.reports_consumer(TokenFormat::Jwt).await;
    let oauth_support::Harness { dir, server, .. } = h;
    server.shutdown().await;
    let pki = chain("primero");
    let server = start_tls(dir.path(), &dir.path().join("tls"), &pki).await;
    assert!(server.url().starts_with("https://"), "{}", server.url());
    let http = client(&[&pki], server.addr);

    let metadata: serde_json::Value = http
        .get(url(&server, "/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], PUBLIC_URL);
    assert_eq!(
        metadata["token_endpoint"],
        format!("{PUBLIC_URL}/oauth/token")
    );

    let response = http
        .post(url(&server, "/oauth/token"))
        .basic_auth(
            &consumer.consumer.client_id,
            Some(consumer.client_secret.as_ref().expect("a secret").expose()),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(presented(&response), pki.leaf_der);
    let body: serde_json::Value = response.json().await.unwrap();
    let jwt = body["access_token"].as_str().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], PUBLIC_URL);
    assert_eq!(claims["aud"], format!("{PUBLIC_URL}/api/v1"));

    // A client that does not trust the root gets no answer; plain HTTP gets none either.
    let stranger = client(&[&chain("otro")], server.addr);
    assert!(stranger.get(url(&server, "/healthz")).send().await.is_err());
    let plain = reqwest::get(format!("http://{}/healthz", server.addr)).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    server.shutdown().await;
}

#[tokio::test]
async fn a_reload_serves_the_new_certificate_and_keeps_the_old_on_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    let (first, second) = (chain("primero"), chain("segundo"));
    let server = start_tls(&dir.path().join("data"), &tls_dir, &first).await;
    let before = client(&[&first, &second], server.addr);
    let answer = before.get(url(&server, "/healthz")).send().await.unwrap();
    assert_eq!(presented(&answer), first.leaf_der);

    second.write(&tls_dir);
    server.reload_tls().unwrap();
    let after = client(&[&first, &second], server.addr);
    let answer = after.get(url(&server, "/healthz")).send().await.unwrap();
    assert_eq!(presented(&answer), second.leaf_der, "new handshakes");
    let kept = before.get(url(&server, "/healthz")).send().await.unwrap();
    assert_eq!(kept.status(), 200);
    assert_eq!(
        presented(&kept),
        first.leaf_der,
        "the open connection stays"
    );

    // A renewal caught half-written: the reload fails, naming the file; HTTPS goes on.
    std::fs::write(tls_dir.join("fullchain.pem"), "-----BEGIN CERT").unwrap();
    let err = server.reload_tls().unwrap_err().to_string();
    assert!(err.contains("fullchain.pem"), "{err}");
    let fresh = client(&[&first, &second], server.addr);
    let answer = fresh.get(url(&server, "/healthz")).send().await.unwrap();
    assert_eq!(presented(&answer), second.leaf_der);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_tls_files_stop_the_start_with_the_path_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (chain("primero"), chain("segundo"));
    let (cert, key) = first.write(&dir.path().join("a"));
    let (_, other_key) = second.write(&dir.path().join("b"));
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hola").unwrap();
    let missing = dir.path().join("missing.pem");
    let cases = [
        (&missing, &key, "missing.pem", "no se pudo leer"),
        (&not_pem, &key, "not.pem", "ningún certificado"),
        (&cert, &not_pem, "not.pem", "ninguna clave privada"),
        (
            &cert,
            &other_key,
            "privkey.pem",
            "no corresponde al certificado",
        ),
    ];
    let data = dir.path().join("data");
    for (cert, key, path, reason) in cases {
        let err = match consola::server::start(tls_config(&data, cert, key)).await {
            Ok(_) => panic!("started with {path}"),
            Err(err) => format!("{err:#}"),
        };
        assert!(err.contains(path) && err.contains(reason), "{err}");
        assert!(
            !err.contains("PRIVATE KEY-----"),
            "no key material in: {err}"
        );
        assert!(!data.exists(), "nothing is created before the refusal");
    }
}

#[test]
fn sighup_makes_serve_present_the_new_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    let (first, second) = (chain("primero"), chain("segundo"));
    let (cert, key) = first.write(&tls_dir);
    let mut child = binary::consola()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("CONSOLA_TLS_CERT", &cert)
        .env("CONSOLA_TLS_KEY", &key)
        .env("CONSOLA_PUBLIC_URL", PUBLIC_URL)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let served = binary::served_url(&mut child);
    let addr: std::net::SocketAddr = served.strip_prefix("https://").unwrap().parse().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let leaf = |chains: &[&Chain]| {
        let http = client(chains, addr);
        runtime.block_on(async {
            let answer = http
                .get(format!("https://{SERVER_NAME}:{}/healthz", addr.port()))
                .send()
                .await
                .unwrap();
            presented(&answer)
        })
    };
    assert_eq!(leaf(&[&first, &second]), first.leaf_der);
    second.write(&tls_dir);
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while leaf(&[&first, &second]) != second.leaf_der {
        assert!(
            Instant::now() < deadline,
            "the new certificate was not served"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP does not stop serve"
    );
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert!(child.wait().unwrap().success());
}
