//! `--metrics-listen`: Prometheus text on a listener of its own, scraped and parsed; the
//! counters move as tokens are issued and refused, routes are templates, and no secret or
//! raw path shows up.

mod common;
mod oauth_support;

use consola::domain::TokenFormat;
use consola::server::ServerConfig;
use consola::service::ServiceConfig;
use oauth_support::{Harness, PASSWORD, creds};
use std::collections::BTreeMap;

/// One sample: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The Prometheus text format, strictly enough to fail on anything malformed.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("bad labels: {line}"));
                let labels = inner
                    .split("\",")
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) = pair
                            .split_once("=\"")
                            .unwrap_or_else(|| panic!("bad label: {line}"));
                        (key.to_string(), value.trim_end_matches('"').to_string())
                    })
                    .collect();
                (name.to_string(), labels)
            }
        };
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
            "bad name: {line}"
        );
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(addr: std::net::SocketAddr) -> (String, Vec<Sample>) {
    let response = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    let samples = parse(&text);
    (text, samples)
}

#[tokio::test]
async fn scraped_metrics_follow_the_tokens_issued_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap());
    config.service = ServiceConfig::default();
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    config.database_url = common::database::url_for(dir.path());
    config.system_secret = common::database::system_secret_for(config.database_url.as_deref());
    let server = consola::server::start(config).await.unwrap();
    let metrics = server.metrics_addr().expect("a metrics listener");
    assert_ne!(metrics, server.addr, "a listener of its own");
    // The API does not serve them.
    let on_api = reqwest::get(format!("{}/metrics", server.url()))
        .await
        .unwrap();
    assert_eq!(on_api.status(), 404);

    let anon = consola::client::Client::new(&server.url()).unwrap();
    anon.setup(
        &consola::domain::SetupRequest {
            account_name: "Cuenta".into(),
            username: "ana".into(),
            display_name: "Ana".into(),
            password: PASSWORD.into(),
        },
        None,
    )
    .await
    .unwrap();
    let admin = anon.with_token(anon.login("ana", PASSWORD).await.unwrap().token);
    let h = Harness {
        dir,
        server,
        admin,
        anon,
    };
    let opaque = h.reports_consumer(TokenFormat::Opaque).await;
    let jwt = h.reports_consumer(TokenFormat::Jwt).await;

    let (_, before) = scrape(metrics).await;
    let issued = |samples: &[Sample], format: &str| {
        value(
            samples,
            "consola_tokens_issued_total",
            &[("grant_type", "client_credentials"), ("format", format)],
        )
    };
    let mut secrets = vec![
        opaque
            .client_secret
            .as_ref()
            .expect("a secret")
            .expose()
            .to_string(),
        jwt.client_secret
            .as_ref()
            .expect("a secret")
            .expose()
            .to_string(),
    ];
    for _ in 0..3 {
        secrets.push(h.token(&opaque).await.access_token.expose().to_string());
    }
    secrets.push(h.token(&jwt).await.access_token.expose().to_string());
    let (id, _) = creds(&opaque);
    let wrong = consola::domain::secret::SecretText::new(consola::domain::secret::generate(
        consola::domain::secret::SecretKind::ClientSecret,
    ));
    assert!(
        h.anon
            .token_client_credentials(id, &wrong, None)
            .await
            .is_err()
    );
    let missing = uuid::Uuid::now_v7();
    assert!(h.admin.user(missing).await.is_err());

    let (text, after) = scrape(metrics).await;
    assert_eq!(issued(&after, "opaque") - issued(&before, "opaque"), 3.0);
    assert_eq!(issued(&after, "jwt") - issued(&before, "jwt"), 1.0);
    let failures = |s: &[Sample]| value(s, "consola_client_auth_failures_total", &[]);
    assert_eq!(failures(&after) - failures(&before), 1.0);
    let requests = |s: &[Sample], route: &str, status: &str| {
        value(
            s,
            "consola_http_requests_total",
            &[("route", route), ("status", status)],
        )
    };
    assert_eq!(
        requests(&after, "/oauth/token", "200") - requests(&before, "/oauth/token", "200"),
        4.0
    );
    assert_eq!(requests(&after, "/oauth/token", "401"), 1.0);
    assert_eq!(requests(&after, "/api/v1/users/{id}", "404"), 1.0);
    let buckets = value(
        &after,
        "consola_http_request_duration_seconds_count",
        &[("route", "/oauth/token")],
    );
    assert_eq!(buckets, 5.0, "the histogram counts every token request");
    assert!(
        after
            .iter()
            .any(|s| s.name == "consola_http_request_duration_seconds_bucket"),
        "a histogram, with buckets"
    );
    for process in ["process_cpu_seconds_total", "process_resident_memory_bytes"] {
        assert!(after.iter().any(|s| s.name == process), "{process} missing");
    }
    assert!(
        !text.contains(&missing.to_string()),
        "a raw path in the metrics"
    );
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret in the metrics");
    }
    h.server.shutdown().await;
}
