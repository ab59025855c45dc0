//! `consola serve` as a process: SIGTERM drains requests in flight and saves the token
//! counts, JSON logs, the refusal of plain HTTP beyond loopback, `--dpop-require-nonce`,
//! and `--help`.

mod binary;
mod key_support;

use binary::{consola, served_url};
use consola::client::Client;
use consola::domain::*;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "contraseña segura";

fn serve(data: &Path, extra: &[&str], stderr: Stdio) -> Child {
    consola()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Waits for the child to exit, at most `within`; kills it and fails the test otherwise.
fn exit_status(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sets the account up; returns the Súper Administrador's client.
async fn set_up(url: &str) -> Client {
    let anonymous = Client::new(url).unwrap();
    anonymous
        .setup(
            &SetupRequest {
                account_name: "Cuenta".into(),
                username: "superadmin".into(),
                display_name: "Súper".into(),
                password: PASSWORD.into(),
            },
            None,
        )
        .await
        .unwrap();
    log_in(url).await
}

async fn log_in(url: &str) -> Client {
    let anonymous = Client::new(url).unwrap();
    let login = anonymous.login("superadmin", PASSWORD).await.unwrap();
    anonymous.with_token(login.token)
}

async fn consumer(admin: &Client) -> CreatedConsumer {
    let group = admin
        .create_permission_group(&NewPermissionGroup {
            name: "Reportes".into(),
            description: String::new(),
            read_only: false,
            permissions: vec![ModulePermission {
                module: "reports".into(),
                actions: vec![Action::View],
            }],
        })
        .await
        .unwrap();
    admin
        .create_consumer(&NewConsumer {
            name: "ERP".into(),
            description: String::new(),
            grant_type: GrantType::ClientCredentials,
            permission_group_id: group.id,
            hub_enabled: false,
            redirect_uris: vec![],
            token_format: TokenFormat::Opaque,
            access_token_alg: Default::default(),
            auth_method: Default::default(),
            jwks: None,
            jwks_uri: None,
            require_dpop: false,
        })
        .await
        .unwrap()
}

/// Reads from `stream` until `done` holds for what arrived, or the stream ends.
async fn read_until(stream: &mut tokio::net::TcpStream, done: impl Fn(&str) -> bool) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if done(&String::from_utf8_lossy(&seen)) {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the server answered in time");
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_and_saves_its_count() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = serve(&data, &[], Stdio::null());
    let url = served_url(&mut child);
    let admin = set_up(&url).await;
    let created = consumer(&admin).await;
    let addr = url.strip_prefix("http://").unwrap().to_string();

    // The head asks for `100 Continue`: the server sends it when the handler starts to read
    // the body, so once it arrives the request is in flight for sure.
    let body = "grant_type=client_credentials";
    let head = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Expect: 100-continue\r\n\r\n",
        Client::basic_header(
            &created.consumer.client_id,
            created.client_secret.as_ref().expect("a secret")
        ),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let interim = read_until(&mut stream, |s| s.contains("\r\n\r\n")).await;
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");

    signal(&child, libc::SIGTERM);
    // It stops accepting connections...
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "serve still accepts after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...and the request in flight still gets its token.
    stream.write_all(body.as_bytes()).await.unwrap();
    let answer = read_until(&mut stream, |s| s.contains("\"token_type\"")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("access_token"), "{answer}");
    drop(stream);
    let status = exit_status(&mut child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{status:?}");

    // The token's count was saved on the way out.
    let mut child = serve(&data, &[], Stdio::null());
    let url = served_url(&mut child);
    let dashboard = log_in(&url)
        .await
        .dashboard(&DashboardQuery::default())
        .await
        .unwrap();
    assert_eq!(dashboard.tokens_issued, 1);
    signal(&child, libc::SIGINT);
    let status = exit_status(&mut child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "SIGINT: {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_hold_one_object_per_line_and_one_line_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = serve(&data, &["--log-format", "json"], Stdio::from(log));
    let url = served_url(&mut child);
    let admin = set_up(&url).await;
    let created = consumer(&admin).await;
    let missing = uuid::Uuid::now_v7();
    let _ = admin.user(missing).await;
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{url}/oauth/token"))
        .basic_auth(
            &created.consumer.client_id,
            Some(created.client_secret.as_ref().expect("a secret").expose()),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    signal(&child, libc::SIGTERM);
    assert!(exit_status(&mut child, Duration::from_secs(15)).success());

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let requests: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "consola::request")
        .map(|l| &l["fields"])
        .collect();
    let token = requests
        .iter()
        .find(|f| f["route"] == "/oauth/token")
        .unwrap_or_else(|| panic!("no line for the token request: {text}"));
    assert_eq!(token["method"], "POST");
    assert_eq!(token["status"], 200);
    assert_eq!(token["client"], "127.0.0.1");
    assert!(token["latency_ms"].as_f64().is_some(), "{token}");
    // The route template, never the raw path.
    assert!(
        requests
            .iter()
            .any(|f| f["route"] == "/api/v1/users/{id}" && f["status"] == 404),
        "{text}"
    );
    assert!(
        !text.contains(&missing.to_string()),
        "a raw path was logged"
    );
    assert!(!text.contains(created.client_secret.as_ref().expect("a secret").expose()));
}

#[test]
fn plain_http_beyond_loopback_is_refused_and_both_ways_out_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = consola()
        .args(["serve", "--listen", "0.0.0.0:0"])
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needle in ["0.0.0.0:0", "--tls-cert", "--tls-key", "--insecure-http"] {
        assert!(stderr.contains(needle), "{needle} not in: {stderr}");
    }
    assert!(!data.exists(), "nothing is created before the refusal");
}

#[test]
fn serve_help_names_the_environment_variable_of_every_option() {
    let output = consola().args(["serve", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    // Each option's block runs from its `--name` line to the next one.
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        let starts_option = trimmed.starts_with("--")
            || (trimmed.starts_with('-') && trimmed.get(2..4) == Some(", "));
        if starts_option {
            let name = trimmed
                .split(|c: char| c.is_whitespace() || c == '=' || c == '<')
                .find(|w| w.starts_with("--"))
                .unwrap_or(trimmed)
                .to_string();
            blocks.push((name, String::new()));
        }
        if let Some((_, block)) = blocks.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    let names: Vec<&str> = blocks.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "--listen",
        "--tls-cert",
        "--tls-key",
        "--insecure-http",
        "--public-url",
        "--trusted-proxy",
        "--metrics-listen",
        "--log-format",
        "--system-secret-file",
        "--previous-system-secret-file",
    ] {
        assert!(names.contains(&expected), "{expected} not in {names:?}");
    }
    for (name, block) in &blocks {
        if name == "--help" {
            continue;
        }
        assert!(
            block.contains("[env: CONSOLA_"),
            "{name} has no env var:\n{block}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_dpop_require_nonce_a_proof_without_the_nonce_is_sent_back_for_it() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, wanted) in [(None, 200), (Some("--dpop-require-nonce"), 400)] {
        let data = dir.path().join(format!("data-{wanted}"));
        let mut child = serve(&data, flag.as_slice(), Stdio::inherit());
        let url = served_url(&mut child);
        let erp = consumer(&set_up(&url).await).await;
        let key = key_support::TestKey::new("ES256", "k");
        let response = reqwest::Client::new()
            .post(format!("{url}/oauth/token"))
            .basic_auth(
                &erp.consumer.client_id,
                Some(erp.client_secret.as_ref().expect("a secret").expose()),
            )
            .header(
                "DPoP",
                key.dpop_proof("POST", &format!("{url}/oauth/token"), None, None),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), wanted, "{flag:?}");
        assert!(
            response.headers().contains_key("dpop-nonce"),
            "a nonce is offered either way"
        );
        if wanted == 400 {
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"], "use_dpop_nonce");
        }
        signal(&child, libc::SIGTERM);
        exit_status(&mut child, Duration::from_secs(10));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_registration_is_applied_at_start_and_a_missing_group_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = consola()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--client-registration",
            "approval",
        ])
        .arg("--data-dir")
        .arg(&data)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--client-registration-group"), "{stderr}");

    let mut child = serve(&data, &[], Stdio::inherit());
    let url = served_url(&mut child);
    let admin = set_up(&url).await;
    admin
        .create_permission_group(&NewPermissionGroup {
            name: "Agentes".into(),
            description: String::new(),
            read_only: false,
            permissions: vec![],
        })
        .await
        .unwrap();
    signal(&child, libc::SIGTERM);
    exit_status(&mut child, Duration::from_secs(10));

    let flags = [
        "--client-registration",
        "open",
        "--client-registration-group",
        "agentes",
    ];
    let mut child = serve(&data, &flags, Stdio::inherit());
    let url = served_url(&mut child);
    let metadata = Client::new(&url).unwrap().metadata().await.unwrap();
    assert_eq!(
        metadata.registration_endpoint,
        Some(format!("{url}/oauth/register"))
    );
    let settings = log_in(&url).await.registration_settings().await.unwrap();
    assert_eq!(settings.policy, RegistrationPolicy::Open);
    assert_eq!(settings.group_name.as_deref(), Some("Agentes"));
    assert_eq!(settings.updated_by, "configuración del servidor");
    signal(&child, libc::SIGTERM);
    exit_status(&mut child, Duration::from_secs(10));
}
