//! `--trusted-proxy`: the client's address (throttles, audit log) comes from `Forwarded` or
//! `X-Forwarded-For` only when the TCP peer is a trusted proxy, and a request through a proxy
//! never counts as "from this machine" for the first-run setup.

mod common;

use common::PASSWORD;
use consola::client::Client;
use consola::domain::*;
use consola::server::{RunningServer, ServerConfig};
use consola::service::ServiceConfig;

/// A server that trusts the proxy at 127.0.0.1; untrusted callers come from 127.0.0.2.
async fn start(service: ServiceConfig) -> (tempfile::TempDir, RunningServer) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut config = ServerConfig::new(data.clone(), "127.0.0.1:0".parse().unwrap());
    config.service = service;
    config.database_url = common::database::url_for(&data);
    config.system_secret = common::database::system_secret_for(config.database_url.as_deref());
    config.trusted_proxies = vec![consola::server::proxy::parse_cidr("127.0.0.1/32").unwrap()];
    let server = consola::server::start(config).await.unwrap();
    (dir, server)
}

/// An HTTP client whose connections leave from `ip`.
fn from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(ip.parse().unwrap()))
        .build()
        .unwrap()
}

/// A token request without client credentials (a failed client authentication).
async fn failed_token(http: &reqwest::Client, url: &str, header: Option<(&str, &str)>) -> u16 {
    let mut request = http
        .post(format!("{url}/oauth/token"))
        .form(&[("grant_type", "client_credentials")]);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

fn setup_request() -> SetupRequest {
    SetupRequest {
        account_name: "Cuenta".into(),
        username: "superadmin".into(),
        display_name: "Súper".into(),
        password: PASSWORD.into(),
    }
}

#[tokio::test]
async fn the_throttle_and_the_audit_log_see_the_client_behind_a_trusted_proxy() {
    let (_dir, server) = start(ServiceConfig {
        client_failures_per_ip: 3,
        ..ServiceConfig::default()
    })
    .await;
    let url = server.url();
    let proxy = from("127.0.0.1");
    let stranger = from("127.0.0.2");

    // Through the proxy: the client it names is throttled, and only that one.
    for _ in 0..3 {
        let header = Some(("x-forwarded-for", "203.0.113.1, 127.0.0.1"));
        assert_eq!(failed_token(&proxy, &url, header).await, 401);
    }
    let header = Some(("x-forwarded-for", "203.0.113.1"));
    assert_eq!(failed_token(&proxy, &url, header).await, 429);
    let header = Some(("forwarded", "for=\"[2001:db8::2]:4711\";proto=https"));
    assert_eq!(failed_token(&proxy, &url, header).await, 401);
    let header = Some(("x-forwarded-for", "203.0.113.2"));
    assert_eq!(failed_token(&proxy, &url, header).await, 401);

    // Anyone else's headers are ignored: a new address per request does not escape.
    for i in 0..3 {
        let spoofed = format!("198.51.100.{i}");
        let header = Some(("x-forwarded-for", spoofed.as_str()));
        assert_eq!(failed_token(&stranger, &url, header).await, 401);
    }
    let header = Some(("x-forwarded-for", "198.51.100.9"));
    assert_eq!(failed_token(&stranger, &url, header).await, 429);

    // The audit log names the same addresses.
    let anonymous = Client::new(&url).unwrap();
    let token = server.service.issue_setup_token().await.unwrap().unwrap();
    anonymous
        .setup(&setup_request(), Some(&token))
        .await
        .unwrap();
    let admin = anonymous.with_token(anonymous.login("superadmin", PASSWORD).await.unwrap().token);
    let audit = admin
        .audit(&AuditQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await
        .unwrap();
    let ips: std::collections::BTreeSet<&str> = audit.items.iter().map(|e| e.ip.as_str()).collect();
    for expected in ["203.0.113.1", "203.0.113.2", "2001:db8::2", "127.0.0.2"] {
        assert!(ips.contains(expected), "{expected} not in {ips:?}");
    }
    assert!(
        !ips.iter().any(|ip| ip.starts_with("198.51.100.")),
        "a spoofed address reached the audit log: {ips:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn setup_through_a_trusted_proxy_needs_the_setup_token() {
    let (_dir, server) = start(ServiceConfig::default()).await;
    let url = server.url();
    let token = server.service.issue_setup_token().await.unwrap().unwrap();
    let proxy = from("127.0.0.1");
    // A proxy on this machine forwards the world: loopback peers and loopback headers alike
    // are refused without the token.
    for header in [None, Some("127.0.0.1"), Some("::1")] {
        let mut request = proxy
            .post(format!("{url}/api/v1/setup"))
            .json(&setup_request());
        if let Some(value) = header {
            request = request.header("x-forwarded-for", value);
        }
        assert_eq!(request.send().await.unwrap().status(), 403, "{header:?}");
    }
    assert!(server.service.setup_status().await.unwrap().needed);
    let anonymous = Client::new(&url).unwrap();
    anonymous
        .setup(&setup_request(), Some(&token))
        .await
        .unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn setup_from_loopback_without_a_proxy_needs_no_token() {
    // The same server, reached directly from an untrusted loopback address.
    let (_dir, server) = start(ServiceConfig::default()).await;
    let response = from("127.0.0.2")
        .post(format!("{}/api/v1/setup", server.url()))
        .header("x-forwarded-for", "203.0.113.5")
        .json(&setup_request())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    server.shutdown().await;
}
