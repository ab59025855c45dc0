//! The legacy API key signed by a real Hawk client (PyPI's `mohawk`, pinned) for an
//! `https://` URL without a port: the client signs port 443, and the server takes the port
//! from the scheme it was reached by (issue 25): its own TLS, or what a trusted proxy
//! recorded (`X-Forwarded-Proto`, `Forwarded` proto). What anyone else writes there is
//! ignored.
//!
//! `mohawk` is installed for the test under `target/test-tools` (pip, from PyPI) when it is
//! not there yet (`common::tools`).

mod common;
mod oauth_support;
mod tls_support;

use std::path::PathBuf;
use tls_support::{SERVER_NAME, chain, client, tls_config};
use tokio::process::Command;
use tokio::sync::OnceCell;

const MOHAWK: &str = "mohawk==1.1.0";
const RESOURCE: &str = "/api/v1/modules/reports/access";

/// Where `mohawk` is importable from, installed once per run of the tests.
async fn mohawk_path() -> &'static PathBuf {
    static PATH: OnceCell<PathBuf> = OnceCell::const_new();
    PATH.get_or_init(|| common::tools::python_packages("mohawk-1.1.0", "mohawk", &[MOHAWK]))
        .await
}

/// The `Authorization` header `mohawk` writes for a GET of `url` with the key `id`/`secret`
/// (the secret passed in the environment, not on a command line other users can read).
async fn mohawk_header(id: &str, secret: &str, url: &str) -> String {
    let script = "import sys\n\
                  from mohawk import Sender\n\
                  import os\n\
                  id, url = sys.argv[1:3]\n\
                  key = os.environ['HAWK_KEY']\n\
                  sender = Sender({'id': id, 'key': key, 'algorithm': 'sha256'}, url, 'GET',\n\
                                  content='', content_type='')\n\
                  print(sender.request_header)\n";
    let out = Command::new("python3")
        .env("PYTHONPATH", mohawk_path().await)
        .env("HAWK_KEY", secret)
        .args(["-c", script, id, url])
        .output()
        .await
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("text")
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mohawk_signs_an_https_url_without_a_port_and_is_let_in() {
    let h = oauth_support::start().await;
    let key = h.admin.api_key_secret().await.expect("the legacy key");
    let secret = key.secret.expose().to_string();
    let oauth_support::Harness { dir, server, .. } = h;
    server.shutdown().await;
    let pki = chain("hawk");
    let (cert, pem_key) = pki.write(&dir.path().join("tls"));
    let server = consola::server::start(tls_config(dir.path(), &cert, &pem_key))
        .await
        .expect("HTTPS server");
    let https = client(&[&pki], server.addr);
    let at = format!("https://{SERVER_NAME}:{}{RESOURCE}", server.addr.port());

    // Signed for `signed_url` by mohawk, sent to the server with `host` (none: the one
    // reqwest writes from the URL, with its port); the status.
    let call = async |signed_url: &str, host: Option<&str>| {
        let header = mohawk_header(&key.key, &secret, signed_url).await;
        let mut request = https.get(&at).header("authorization", header);
        if let Some(host) = host {
            request = request.header("host", host);
        }
        request.send().await.unwrap().status().as_u16()
    };
    // As a client that called https://auth.consola.test/… sends it: no port in Host.
    let public = format!("https://{SERVER_NAME}{RESOURCE}");
    assert_eq!(call(&public, Some(SERVER_NAME)).await, 200);
    // A port named in the URL is signed and sent as named.
    assert_eq!(call(&at, None).await, 200);
    // Signed for plain HTTP's port, the same request over TLS is refused.
    let plain = format!("http://{SERVER_NAME}{RESOURCE}");
    assert_eq!(call(&plain, Some(SERVER_NAME)).await, 401);
}

/// An HTTP client whose connections leave from `ip`.
fn from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(ip.parse().unwrap()))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_recorded_scheme_names_the_port() {
    let h = oauth_support::start().await;
    let key = h.admin.api_key_secret().await.expect("the legacy key");
    let secret = key.secret.expose().to_string();
    let oauth_support::Harness { dir, server, .. } = h;
    server.shutdown().await;
    let data = dir.path().to_path_buf();
    let mut config =
        consola::server::ServerConfig::new(data.clone(), "127.0.0.1:0".parse().unwrap());
    config.database_url = common::database::url_for(&data);
    config.system_secret = common::database::system_secret_for(config.database_url.as_deref());
    // The proxy at 127.0.0.1 ends TLS and says so; callers from 127.0.0.2 are not proxies.
    config.trusted_proxies = vec![consola::server::proxy::parse_cidr("127.0.0.1/32").unwrap()];
    let server = consola::server::start(config).await.expect("server");
    let at = format!("http://{}{RESOURCE}", server.addr);
    let public = format!("https://{SERVER_NAME}{RESOURCE}");

    let cases: [(&str, &str, &str, u16); 4] = [
        ("127.0.0.1", "x-forwarded-proto", "https", 200),
        ("127.0.0.1", "forwarded", "for=203.0.113.7;proto=https", 200),
        // The proxy says the client came over plain HTTP: port 80, not the 443 signed.
        ("127.0.0.1", "x-forwarded-proto", "http", 401),
        // Anyone else's word is not taken: the request came over plain HTTP.
        ("127.0.0.2", "x-forwarded-proto", "https", 401),
    ];
    for (peer, name, value, status) in cases {
        let header = mohawk_header(&key.key, &secret, &public).await;
        let response = from(peer)
            .get(&at)
            .header("host", SERVER_NAME)
            .header("x-forwarded-for", "203.0.113.7")
            .header(name, value)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "from {peer}, {name}: {value}");
    }
}
