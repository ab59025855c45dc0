//! Secrets at rest: after a run that issues client secrets, session tokens and the legacy
//! secret (and access tokens, when a consumer asks for them), a scan of the raw bytes of the
//! database files (with the WAL), the server's log at its most verbose level and the audit
//! table finds none of them in clear. Key files are mode 0600.

mod binary;

use binary::{consola, served_url};
use consola::client::Client;
use consola::domain::*;
use std::path::Path;
use std::process::Stdio;

const PASSWORD: &str = "contraseña segura";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_clear_in_database_log_or_audit() {
    scan("text").await;
}

/// The JSON log (`--log-format json`, one line per request) holds none either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_clear_in_the_json_log() {
    let log = scan("json").await;
    for line in log.lines() {
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(line);
        assert!(parsed.is_ok(), "a JSON log line does not parse: {line}");
    }
    assert!(
        log.contains("\"consola::request\""),
        "the request lines are there"
    );
}

/// Runs the server with its log in `log_format`, and scans; returns the log.
async fn scan(log_format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = consola()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            log_format,
        ])
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let url = served_url(&mut child);
    let anonymous = Client::new(&url).unwrap();
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
    let mut secrets: Vec<String> = vec![PASSWORD.to_string()];
    let login = anonymous.login("superadmin", PASSWORD).await.unwrap();
    secrets.push(login.token.expose().to_string());
    let admin = anonymous.with_token(login.token);
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
    let http = reqwest::Client::new();
    for (i, format) in [TokenFormat::Opaque, TokenFormat::Jwt]
        .into_iter()
        .enumerate()
    {
        let created = admin
            .create_consumer(&NewConsumer {
                name: format!("ERP {i}"),
                description: String::new(),
                grant_type: GrantType::ClientCredentials,
                permission_group_id: group.id,
                hub_enabled: false,
                redirect_uris: vec![],
                token_format: format,
                access_token_alg: Default::default(),
                auth_method: Default::default(),
                jwks: None,
                jwks_uri: None,
                require_dpop: false,
            })
            .await
            .unwrap();
        secrets.push(
            created
                .client_secret
                .as_ref()
                .expect("a secret")
                .expose()
                .to_string(),
        );
        let rotated = admin
            .rotate_secret(
                created.consumer.id,
                &RotateSecret {
                    grace_seconds: 600,
                    revoke_tokens: false,
                },
            )
            .await
            .unwrap();
        secrets.push(rotated.client_secret.expose().to_string());
        // Access tokens, through the token endpoint.
        let response = http
            .post(format!("{url}/oauth/token"))
            .basic_auth(
                &created.consumer.client_id,
                Some(rotated.client_secret.expose()),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        secrets.push(body["access_token"].as_str().unwrap().to_string());
    }
    secrets.push(
        admin
            .api_key_secret()
            .await
            .unwrap()
            .secret
            .expose()
            .to_string(),
    );
    secrets.push(
        admin
            .regenerate_api_key()
            .await
            .unwrap()
            .secret
            .expose()
            .to_string(),
    );
    // A failed login with a password that must not be logged either.
    let _ = anonymous
        .login("superadmin", "clave equivocada secreta")
        .await;
    secrets.push("clave equivocada secreta".to_string());
    let audit = serde_json::to_string(
        &admin
            .audit(&AuditQuery {
                limit: Some(500),
                ..Default::default()
            })
            .await
            .unwrap(),
    )
    .unwrap();

    child.kill().unwrap();
    child.wait().unwrap();

    let mut scanned = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        scanned.push(path.clone());
    }
    scanned.push(log_path.clone());
    let log_text = std::fs::read_to_string(&log_path).unwrap();
    assert!(log_text.len() > 1000, "the log at trace level is not empty");
    for path in &scanned {
        let bytes = std::fs::read(path).unwrap();
        for s in &secrets {
            assert!(
                !contains(&bytes, s),
                "{} holds a secret in clear",
                file_name(path)
            );
        }
    }
    for s in &secrets {
        assert!(!audit.contains(s.as_str()), "the audit log holds a secret");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for path in scanned.iter().filter(|p| p.starts_with(&data)) {
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file_name(path));
        }
    }
    log_text
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().to_string()
}
