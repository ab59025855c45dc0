//! The authorization code flow in a real browser: headless Chromium, driven over WebDriver
//! (chromedriver), signs in on the consent page and approves; the code must arrive at the
//! redirect URI on another origin (another loopback port). Browsers apply the page's CSP
//! `form-action` to the redirect that answers the form, which a unit test cannot show.

mod common;
mod oauth_support;

use consola::domain::oauth::pkce_s256;
use consola::domain::*;
use oauth_support::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const INSTALL: &str = "this test needs Chromium and its WebDriver: install them with \
    `apt-get install -y chromium chromium-driver` (Debian), or run .ci/run, which does";

/// The first of `names` found on PATH.
fn on_path(names: &[&str]) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// chromedriver, killed when the test ends however it ends; a browser session still open
/// then is ended first, so that no Chromium outlives the test.
struct Driver {
    child: Child,
    url: String,
    port: u16,
    session: Option<String>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            end_session_blocking(self.port, &session);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `DELETE /session/{id}` without an async runtime (from `Drop`), bounded in time.
fn end_session_blocking(port: u16, session: &str) {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let _ = stream.read_to_end(&mut Vec::new());
    }
}

async fn start_driver() -> Driver {
    let binary = on_path(&["chromedriver"]).unwrap_or_else(|| panic!("{INSTALL}"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("chromedriver does not start ({err}); {INSTALL}"));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        port,
        session: None,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = raw()
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .ok()
            .and_then(|r| r.status().is_success().then_some(()));
        if ready.is_some() {
            return driver;
        }
        assert!(Instant::now() < deadline, "chromedriver never got ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A WebDriver command; its `value`.
async fn command(driver: &Driver, method: reqwest::Method, path: &str, body: Value) -> Value {
    let request = raw().request(method.clone(), format!("{}{path}", driver.url));
    let request = if method == reqwest::Method::GET {
        request
    } else {
        request.json(&body)
    };
    let response = request.send().await.expect("WebDriver answers");
    let status = response.status();
    let answer: Value = response.json().await.expect("WebDriver JSON");
    assert!(status.is_success(), "WebDriver {path}: {status} {answer}");
    answer["value"].clone()
}

/// The WebDriver id of the element `css` selects.
async fn element(driver: &Driver, session: &str, css: &str) -> String {
    let found = command(
        driver,
        reqwest::Method::POST,
        &format!("/session/{session}/element"),
        json!({"using": "css selector", "value": css}),
    )
    .await;
    found["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .unwrap_or_else(|| panic!("no element {css}: {found}"))
        .to_string()
}

/// The "client application": answers on its own port and reports each query it gets.
async fn callback_app() -> (u16, mpsc::UnboundedReceiver<HashMap<String, String>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/callback",
        axum::routing::get(
            move |axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(query);
                    "listo"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("callback port");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_completes_the_code_flow_to_a_redirect_uri_on_another_origin() {
    let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"])
        .unwrap_or_else(|| panic!("{INSTALL}"));
    let mut driver = start_driver().await;
    let (port, mut callbacks) = callback_app().await;
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");

    let h = start().await;
    let group = h.group("Portal", &[("assets", &[Action::View])]).await;
    let app = h
        .admin
        .create_consumer(&NewConsumer {
            name: "Portal web".into(),
            description: String::new(),
            grant_type: GrantType::AuthorizationCode,
            permission_group_id: group.id,
            hub_enabled: false,
            redirect_uris: vec![redirect_uri.clone()],
            token_format: TokenFormat::Opaque,
            access_token_alg: Default::default(),
            auth_method: Default::default(),
            jwks: None,
            jwks_uri: None,
            require_dpop: false,
        })
        .await
        .expect("consumer created");
    let verifier = format!("v{}", consola::domain::secret::generate_client_id()).repeat(2);
    let mut authorize = url::Url::parse(&format!("{}/oauth/authorize", h.url())).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.consumer.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("state", "estado-1")
        .append_pair("code_challenge", &pkce_s256(&verifier))
        .append_pair("code_challenge_method", "S256");

    let profile = tempfile::tempdir().expect("browser profile");
    let session = command(
        &driver,
        reqwest::Method::POST,
        "/session",
        json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage",
                         format!("--user-data-dir={}", profile.path().display())],
            },
        }}}),
    )
    .await;
    let session = session["sessionId"]
        .as_str()
        .expect("a WebDriver session")
        .to_string();
    driver.session = Some(session.clone());
    let post = reqwest::Method::POST;
    command(
        &driver,
        post.clone(),
        &format!("/session/{session}/url"),
        json!({"url": authorize.as_str()}),
    )
    .await;
    for (css, text) in [
        ("input[name=username]", "ana"),
        ("input[name=password]", PASSWORD),
    ] {
        let id = element(&driver, &session, css).await;
        command(
            &driver,
            post.clone(),
            &format!("/session/{session}/element/{id}/value"),
            json!({"text": text}),
        )
        .await;
    }
    let approve = element(&driver, &session, "button[value=approve]").await;
    command(
        &driver,
        post.clone(),
        &format!("/session/{session}/element/{approve}/click"),
        json!({}),
    )
    .await;

    let arrived = tokio::time::timeout(Duration::from_secs(20), callbacks.recv()).await;
    let landed_on = command(
        &driver,
        reqwest::Method::GET,
        &format!("/session/{session}/url"),
        json!({}),
    )
    .await;
    command(
        &driver,
        reqwest::Method::DELETE,
        &format!("/session/{session}"),
        json!({}),
    )
    .await;
    driver.session = None;
    let query = match arrived {
        Ok(Some(query)) => query,
        _ => panic!("the code never reached {redirect_uri}; the browser stayed on {landed_on}"),
    };
    assert_eq!(query.get("state").map(String::as_str), Some("estado-1"));
    let code = query.get("code").expect("a code in the redirect").clone();

    // It is a real code: the client exchanges it.
    let response = raw()
        .post(format!("{}/oauth/token", h.url()))
        .header(
            "authorization",
            consola::client::Client::basic_header(
                &app.consumer.client_id,
                app.client_secret.as_ref().expect("a secret"),
            ),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .expect("token answer");
    assert_eq!(response.status(), 200);
}
